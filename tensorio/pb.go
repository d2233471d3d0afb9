package tensorio

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/internal/atomicfile"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorconv"
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
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		tp, err := onnx.NewTensorProto("", tensorconv.ToArray(t))
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

// tensorFromArray converts what ReadPB decoded, naming the file in the error.
func tensorFromArray(a *onnx.Array, file string) (*ops.Tensor, error) {
	t, err := tensorconv.FromArray(a)
	if err != nil {
		return nil, &FormatError{File: file, Format: "pb", What: err.Error()}
	}
	return t, nil
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

// ReadValuePB reads a .pb file holding a value of type typ: a TensorProto for a tensor, a SequenceProto,
// OptionalProto or MapProto otherwise (the wire format does not say which message a file holds, so the
// declared type does). It is the one reader of such files: the CLI and the conformance suite both use it.
func ReadValuePB(path string, typ ops.ValueType) (*ops.Tensor, error) {
	if typ.Kind == ops.KindTensor {
		return ReadPB(path)
	}
	v, err := onnx.ReadValueFile(path, tensorconv.KindOf(typ))
	if err != nil {
		return nil, err
	}
	x, err := tensorconv.FromValue(v, typ)
	if err != nil {
		return nil, &FormatError{File: path, Format: "pb", What: fmt.Sprintf("read as %s: %v", typ, err)}
	}
	return x, nil
}
