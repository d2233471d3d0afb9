package tensor

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// HannWindow, HammingWindow and BlackmanWindow generate the window functions of signal processing, all
// cosine sums
//
//	w[n] = a0 - a1·cos(2πn/N) + a2·cos(4πn/N)    for n < size
//
// with N = size (periodic, the default) or size - 1 (symmetric), and (a0, a1, a2) = (1/2, 1/2, 0) for
// Hann, (25/46, 21/46, 0) for Hamming and (0.42, 0.5, 0.08) for Blackman, as the operators' ONNX
// function bodies define them. A symmetric window of one value is [1]. The values are computed in
// float64 and converted to output_datatype (integer types truncate).
// https://onnx.ai/onnx/operators/onnx__HannWindow.html (and HammingWindow, BlackmanWindow) — opset 17.
func init() {
	register("HannWindow", since{17, buildWindow([3]float64{0.5, 0.5, 0})})
	register("HammingWindow", since{17, buildWindow([3]float64{25.0 / 46, 21.0 / 46, 0})})
	register("BlackmanWindow", since{17, buildWindow([3]float64{0.42, 0.5, 0.08})})
}

type windowOp struct {
	coef     [3]float64
	periodic bool
	dtype    ops.DType
}

// windowTypes are the output types the operators allow.
var windowTypes = ops.DTypes(ops.Uint8, ops.Uint16, ops.Uint32, ops.Uint64, ops.Int8, ops.Int16, ops.Int32,
	ops.Int64, ops.Float16, ops.Float32, ops.Float64, ops.BFloat16)

func buildWindow(coef [3]float64) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		op := &windowOp{coef: coef, periodic: r.Int("periodic", 1) != 0, dtype: ops.DType(r.Int("output_datatype", int64(ops.Float32)))}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if !windowTypes.Has(op.dtype) {
			return nil, &ops.AttrError{Name: "output_datatype", Msg: fmt.Sprintf("is %d (%s), want a numeric type", int(op.dtype), op.dtype)}
		}
		return op, nil
	}
}

// ShapeInputs: the size fixes the output's length.
func (op *windowOp) ShapeInputs() []int { return []int{0} }

// checkWindowSize checks the size input's type and shape (its value may not be known).
func checkWindowSize(in []ops.ValueInfo) error {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return err
	}
	if size := in[0]; (size.DType != ops.Int32 && size.DType != ops.Int64) || size.Shape.Size() != 1 || len(size.Shape) > 1 {
		return ops.Invalidf("size is %s%v, want one int32 or int64", size.DType, size.Shape)
	}
	return nil
}

func (op *windowOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := checkWindowSize(in); err != nil {
		return nil, err
	}
	size := in[0]
	if size.Const == nil {
		return nil, ops.Dynamicf("the window's length is the value of its size input")
	}
	n := size.Const.AsInt64s()[0]
	if n < 0 {
		return nil, ops.Invalidf("size is %d, want at least 0", n)
	}
	if n > math.MaxInt32 {
		return nil, ops.Invalidf("size is %d, too long a window", n)
	}
	return []ops.ValueInfo{{DType: op.dtype, Shape: ops.Shape{int(n)}}}, nil
}

func (op *windowOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	if err := checkWindowSize(in); err != nil {
		return nil, err
	}
	return op, nil
}

// Run fills the output, whose length was planned from the size's value.
func (op *windowOp) Run(_ *ops.ExecContext, _, out []*ops.Tensor) error {
	size := out[0].Len()
	den := float64(size)
	if !op.periodic {
		den = float64(size - 1)
	}
	a := op.coef
	value := func(i int) float64 {
		if den == 0 {
			return 1
		}
		x := 2 * math.Pi * float64(i) / den
		return a[0] - a[1]*math.Cos(x) + a[2]*math.Cos(2*x)
	}
	switch d := out[0].Data().(type) {
	case []float32:
		fillWith(d, value)
	case []float64:
		fillWith(d, value)
	case []int8:
		fillWith(d, value)
	case []int16:
		fillWith(d, value)
	case []int32:
		fillWith(d, value)
	case []int64:
		fillWith(d, value)
	case []uint8:
		fillWith(d, value)
	case []uint16:
		fillWith(d, value)
	case []uint32:
		fillWith(d, value)
	case []uint64:
		fillWith(d, value)
	case []ops.Float16Bits:
		for i := range d {
			d[i] = ops.Float16FromFloat32(float32(value(i)))
		}
	case []ops.BFloat16Bits:
		for i := range d {
			d[i] = ops.BFloat16FromFloat32(float32(value(i)))
		}
	}
	return nil
}

func fillWith[T ops.Number](d []T, value func(i int) float64) {
	for i := range d {
		d[i] = T(value(i))
	}
}
