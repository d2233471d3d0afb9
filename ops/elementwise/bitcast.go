package elementwise

import (
	"unsafe"

	"github.com/onnxrun/onnxrun/ops"
)

// BitCast reinterprets each element's bits as another type of the same bit width, without converting the
// value: https://onnx.ai/onnx/operators/onnx__BitCast.html. Opset 26.
//
// Tensors hold their elements in host (little-endian on every platform Go targets that onnxrun builds for)
// order, so a byte copy is the spec's little-endian reinterpretation. The 4-bit and 2-bit types occupy one
// byte per element in memory; for them the low 4 or 2 bits are the pattern, re-extended for the signed ones.
// A bool is one byte: 0 or 1 going out, and any non-zero byte is true coming in.
func init() {
	ops.Register("", "BitCast",
		// opset 26: every type but string.
		ops.Since(26, buildBitCast),
	)
}

var bitCastTypes = ops.DTypes(ops.Uint8, ops.Uint16, ops.Uint32, ops.Uint64, ops.Int8, ops.Int16, ops.Int32,
	ops.Int64, ops.BFloat16, ops.Float16, ops.Float32, ops.Float64, ops.Bool, ops.Complex64, ops.Complex128,
	ops.Float8E4M3FN, ops.Float8E4M3FNUZ, ops.Float8E5M2, ops.Float8E5M2FNUZ, ops.Uint4, ops.Int4,
	ops.Float4E2M1, ops.Float8E8M0, ops.Uint2, ops.Int2)

// bitWidth is the number of bits of a dtype's value (not of its in-memory form).
func bitWidth(dt ops.DType) int {
	switch dt {
	case ops.Uint4, ops.Int4, ops.Float4E2M1:
		return 4
	case ops.Uint2, ops.Int2:
		return 2
	}
	return 8 * dt.Size()
}

type bitCastOp struct {
	opset int
	to    ops.DType
}

func buildBitCast(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	if !r.Has("to") {
		return nil, &ops.AttrError{Name: "to", Msg: "is required"}
	}
	to := r.Int("to", 0)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if to < 0 || to > 255 || !bitCastTypes.Has(ops.DType(to)) {
		return nil, &ops.AttrError{Name: "to", Msg: "is " + ops.DType(uint8(to)).String() + ", want one of " + bitCastTypes.String()}
	}
	if err := checkArity(n, 1, 1); err != nil {
		return nil, err
	}
	return &bitCastOp{opset: n.Opset, to: ops.DType(to)}, nil
}

func (o *bitCastOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if err := bitCastTypes.Check("BitCast", o.opset, "input", in[0].DType); err != nil {
		return nil, err
	}
	if bw, tw := bitWidth(in[0].DType), bitWidth(o.to); bw != tw {
		return nil, ops.Invalidf("BitCast from %s (%d bits) to %s (%d bits): the widths must match", in[0].DType, bw, o.to, tw)
	}
	return []ops.ValueInfo{{DType: o.to, Shape: in[0].Shape.Clone()}}, nil
}

func (o *bitCastOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := o.InferShapes(in); err != nil {
		return nil, err
	}
	switch {
	case o.to == ops.Bool:
		return ops.KernelFunc(bitCastToBool), nil
	case bitWidth(o.to) < 8:
		return narrowBitCastKernel(o.to), nil
	}
	return ops.KernelFunc(bitCastBytes), nil
}

// bitCastBytes copies the input's bytes into the output's.
func bitCastBytes(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	copy(bytesOf(out[0].Data()), bytesOf(in[0].Data()))
	return nil
}

func bitCastToBool(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	src, dst := bytesOf(in[0].Data()), out[0].Bools()
	for i, b := range src {
		dst[i] = b != 0
	}
	return nil
}

// narrowBitCastKernel returns a kernel reading the low bits of each input byte (a 4-bit or 2-bit element)
// and writing them as dtype to.
func narrowBitCastKernel(to ops.DType) ops.Kernel {
	switch to {
	case ops.Uint4:
		return narrowBitCast[ops.Uint4Value](func(b uint8) ops.Uint4Value { return ops.Uint4FromInt64(int64(b)) })
	case ops.Int4:
		return narrowBitCast[ops.Int4Value](func(b uint8) ops.Int4Value { return ops.Int4FromInt64(int64(b)) })
	case ops.Float4E2M1:
		return narrowBitCast[ops.Float4E2M1Bits](func(b uint8) ops.Float4E2M1Bits { return ops.Float4E2M1Bits(b & 0xf) })
	case ops.Uint2:
		return narrowBitCast[ops.Uint2Value](func(b uint8) ops.Uint2Value { return ops.Uint2FromInt64(int64(b)) })
	default: // Int2
		return narrowBitCast[ops.Int2Value](func(b uint8) ops.Int2Value { return ops.Int2FromInt64(int64(b)) })
	}
}

type narrowBitCast[T ops.NarrowElem] func(uint8) T

func (f narrowBitCast[T]) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	dst := ops.Data[T](out[0])
	for i, b := range bytesOf(in[0].Data()) {
		dst[i] = f(b)
	}
	return nil
}

// bytesOf views any non-string tensor data as its bytes in memory.
func bytesOf(data any) []byte {
	switch d := data.(type) {
	case []float32:
		return byteView(d)
	case []float64:
		return byteView(d)
	case []int8:
		return byteView(d)
	case []int16:
		return byteView(d)
	case []int32:
		return byteView(d)
	case []int64:
		return byteView(d)
	case []uint8:
		return d
	case []uint16:
		return byteView(d)
	case []uint32:
		return byteView(d)
	case []uint64:
		return byteView(d)
	case []bool:
		return byteView(d)
	case []ops.Float16Bits:
		return byteView(d)
	case []ops.BFloat16Bits:
		return byteView(d)
	case []complex64:
		return byteView(d)
	case []complex128:
		return byteView(d)
	case []ops.Float8E4M3FNBits:
		return byteView(d)
	case []ops.Float8E4M3FNUZBits:
		return byteView(d)
	case []ops.Float8E5M2Bits:
		return byteView(d)
	case []ops.Float8E5M2FNUZBits:
		return byteView(d)
	case []ops.Float8E8M0Bits:
		return byteView(d)
	case []ops.Float4E2M1Bits:
		return byteView(d)
	case []ops.Uint4Value:
		return byteView(d)
	case []ops.Int4Value:
		return byteView(d)
	case []ops.Uint2Value:
		return byteView(d)
	case []ops.Int2Value:
		return byteView(d)
	}
	return nil
}

// byteView reinterprets a slice of pointer-free values as bytes.
func byteView[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}
