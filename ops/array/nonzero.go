package array

import "github.com/onnxrun/onnxrun/ops"

// NonZero lists the coordinates of the non-zero elements, in row-major order, as an int64 tensor of shape
// [rank, count] (a scalar is treated as a 1-element vector, as numpy does).
// https://onnx.ai/onnx/operators/onnx__NonZero.html — opsets 9, 13.
//
// The count depends on the data, so planning needs the input as a constant; otherwise the runtime plans at
// each run with the actual values.
func init() {
	ops.Register("", "NonZero",
		ops.Since(9, buildNonZero),
		ops.Since(13, buildNonZero), // opset 13: bfloat16
	)
}

type nonZeroOp struct{}

func buildNonZero(ops.NodeInfo) (ops.Op, error) { return nonZeroOp{}, nil }

// ShapeInputs reports that the data itself must be known to plan.
func (nonZeroOp) ShapeInputs() []int { return []int{0} }

func (nonZeroOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	f, ok := nonZeroFuncFor(in[0].DType)
	if !ok {
		return nil, unsupportedDType(in[0].DType)
	}
	if in[0].Const == nil {
		return nil, ops.Dynamicf("the number of non-zero elements depends on the data")
	}
	shape := in[0].Shape
	if len(shape) == 0 {
		shape = ops.Shape{1}
	}
	count := f(nil, in[0].Const.Data(), shape)
	return []ops.ValueInfo{{DType: ops.Int64, Shape: ops.Shape{len(shape), count}}}, nil
}

type nonZeroKernel struct {
	shape ops.Shape
	run   func(dst []int64, data any, shape ops.Shape) int
}

func (nonZeroOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	f, ok := nonZeroFuncFor(in[0].DType)
	if !ok {
		return nil, unsupportedDType(in[0].DType)
	}
	shape := in[0].Shape.Clone()
	if len(shape) == 0 {
		shape = ops.Shape{1}
	}
	return &nonZeroKernel{shape: shape, run: f}, nil
}

func (k *nonZeroKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	k.run(out[0].Int64s(), in[0].Data(), k.shape)
	return nil
}

func nonZeroFuncFor(dt ops.DType) (func(dst []int64, data any, shape ops.Shape) int, bool) {
	switch dt {
	case ops.Float32:
		return nonZero[float32], true
	case ops.Float64:
		return nonZero[float64], true
	case ops.Int8:
		return nonZero[int8], true
	case ops.Int16:
		return nonZero[int16], true
	case ops.Int32:
		return nonZero[int32], true
	case ops.Int64:
		return nonZero[int64], true
	case ops.Uint8:
		return nonZero[uint8], true
	case ops.Uint16:
		return nonZero[uint16], true
	case ops.Uint32:
		return nonZero[uint32], true
	case ops.Uint64:
		return nonZero[uint64], true
	case ops.Bool:
		return nonZero[bool], true
	case ops.String:
		return nonZero[string], true
	case ops.Complex64:
		return nonZero[complex64], true
	case ops.Complex128:
		return nonZero[complex128], true
	case ops.Float16:
		return nonZeroHalf[ops.Float16Bits], true
	case ops.BFloat16:
		return nonZeroHalf[ops.BFloat16Bits], true
	}
	return nil, false
}

// nonZero counts the elements that differ from T's zero (so -0.0 is zero and NaN is not) and, when dst is
// not nil, writes their coordinates into dst laid out as [rank, count].
func nonZero[T comparable](dst []int64, data any, shape ops.Shape) int {
	var zero T
	d := data.([]T)
	return nonZeroWhere(dst, len(d), shape, func(i int) bool { return d[i] != zero })
}

// nonZeroHalf is nonZero for 16-bit floats held as bits: both signed zeros are zero.
func nonZeroHalf[H ~uint16](dst []int64, data any, shape ops.Shape) int {
	d := data.([]H)
	return nonZeroWhere(dst, len(d), shape, func(i int) bool { return d[i]&0x7fff != 0 })
}

func nonZeroWhere(dst []int64, n int, shape ops.Shape, isSet func(i int) bool) int {
	count := 0
	for i := 0; i < n; i++ {
		if isSet(i) {
			count++
		}
	}
	if dst == nil {
		return count
	}
	j := 0
	for i := 0; i < n; i++ {
		if !isSet(i) {
			continue
		}
		rem := i
		for d := len(shape) - 1; d >= 0; d-- {
			dst[d*count+j] = int64(rem % shape[d])
			rem /= shape[d]
		}
		j++
	}
	return count
}
