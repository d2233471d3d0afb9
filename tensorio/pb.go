package tensorio

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// ReadPB reads a file holding one serialized ONNX TensorProto (the input_K.pb / output_K.pb files of the
// ONNX backend tests) through the onnx package, which checks dims against the data before allocating.
// Float16 and bfloat16 elements keep their bit patterns.
func ReadPB(path string) (*ops.Tensor, error) {
	_, a, err := onnx.ReadTensorFile(path)
	if err != nil {
		return nil, err
	}
	return tensorFromArray(a, path)
}

// WritePB writes t as a serialized TensorProto with an empty name: numeric and bool elements in raw_data
// (little-endian), strings in string_data, encoded deterministically.
func WritePB(path string, t *ops.Tensor) error {
	return writeFile(path, func(w io.Writer) error {
		tp, err := onnx.NewTensorProto("", arrayFromTensor(t))
		if err != nil {
			return err
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(tp)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
}

// FromArray converts a decoded ONNX tensor (onnx.ReadTensor, onnx.ReadTensorFile) to an ops.Tensor, sharing
// its data. This pair is the one place where the onnx and ops representations meet outside the runtime,
// which uses it too.
func FromArray(a *onnx.Array) (*ops.Tensor, error) { return tensorFromArray(a, "") }

// ToArray converts an ops.Tensor to the onnx package's form, for .pb files, initializers and exports;
// Float16 and BFloat16 data become their bit patterns, and the narrow types (float8, float4, 4-bit and 2-bit
// integers) a []uint8 of bit patterns, one element per byte. FromArray maps those back to the ops types.
func ToArray(t *ops.Tensor) *onnx.Array { return arrayFromTensor(t) }

func tensorFromArray(a *onnx.Array, file string) (*ops.Tensor, error) {
	shape := make(ops.Shape, len(a.Dims))
	for i, d := range a.Dims {
		shape[i] = int(d) // the onnx package checked the dims against the data already
	}
	t, err := ops.FromData(ops.DType(a.DataType), shape, a.Data)
	if err != nil {
		return nil, &FormatError{File: file, Format: "pb", What: err.Error()}
	}
	return t, nil
}

func arrayFromTensor(t *ops.Tensor) *onnx.Array {
	a := &onnx.Array{DataType: onnxpb.TensorProto_DataType(t.DType()), Dims: make([]int64, t.Rank()), Data: t.Data()}
	for i, d := range t.Shape() {
		a.Dims[i] = int64(d)
	}
	switch d := t.Data().(type) {
	case []ops.Float16Bits:
		a.Data = bitPatterns(d)
	case []ops.BFloat16Bits:
		a.Data = bitPatterns(d)
	default:
		if b, ok := ops.NarrowBytes(d); ok { // float8, float4, 4-bit and 2-bit: one pattern per byte
			a.Data = b
		}
	}
	return a
}

func bitPatterns[T ~uint16](s []T) []uint16 {
	out := make([]uint16, len(s))
	for i, v := range s {
		out[i] = uint16(v)
	}
	return out
}

// ReadFile reads a tensor file, choosing the format by extension: .npy or .pb (any letter case), or an
// .npz archive holding one array. FILE.npz:NAME reads the array NAME of an archive that holds several.
func ReadFile(path string) (*ops.Tensor, error) {
	if archive, name, ok := splitNPZPath(path); ok {
		return ReadNPZArray(archive, name)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		return ReadNPYFile(path)
	case ".pb":
		return ReadPB(path)
	case ".npz":
		return ReadNPZArray(path, "")
	}
	return nil, extensionError(path)
}

// WriteFile writes a tensor file, choosing the format by extension: .npy or .pb (any letter case).
func WriteFile(path string, t *ops.Tensor) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		return WriteNPYFile(path, t)
	case ".pb":
		return WritePB(path, t)
	}
	return extensionError(path)
}

func extensionError(path string) error {
	ext := filepath.Ext(path)
	if ext == "" {
		return &UnsupportedError{File: path, What: "no file extension: tensor files must end in .npy or .pb"}
	}
	return &UnsupportedError{File: path, What: fmt.Sprintf("file extension %q: tensor files must end in .npy or .pb", ext)}
}
