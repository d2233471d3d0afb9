package signal

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
	ops.Register("", "HannWindow", ops.Since(17, buildWindow([3]float64{0.5, 0.5, 0})))
	ops.Register("", "HammingWindow", ops.Since(17, buildWindow([3]float64{25.0 / 46, 21.0 / 46, 0})))
	ops.Register("", "BlackmanWindow", ops.Since(17, buildWindow([3]float64{0.42, 0.5, 0.08})))
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
	fillFromFloat64(out[0], value)
	return nil
}

// fillFromFloat64 sets element i of t, of any numeric type, to value(i) converted (integers truncate).
func fillFromFloat64(t *ops.Tensor, value func(i int) float64) {
	switch d := t.Data().(type) {
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
}

func fillWith[T ops.Number](d []T, value func(i int) float64) {
	for i := range d {
		d[i] = T(value(i))
	}
}

// MelWeightMatrix is the [dft_length/2 + 1, num_mel_bins] matrix of triangular filters that maps a
// one-sided spectrum to the mel scale, mel(f) = 2595·log10(1 + f/700), each triangle peaking at 1, built
// exactly as the operator's definition does: num_mel_bins + 2 edges equally spaced in mel between
// lower_edge_hertz and upper_edge_hertz (the step is the span over num_mel_bins + 2), each turned into a
// spectrum bin floor((dft_length + 1)·f / sample_rate). Edges that land outside the spectrum write nothing.
// https://onnx.ai/onnx/operators/onnx__MelWeightMatrix.html — opset 17.
func init() {
	ops.Register("", "MelWeightMatrix", ops.Since(17, buildMelWeightMatrix))
}

type melOp struct{ dtype ops.DType }

func buildMelWeightMatrix(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &melOp{dtype: ops.DType(r.Int("output_datatype", int64(ops.Float32)))}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if !windowTypes.Has(op.dtype) {
		return nil, &ops.AttrError{Name: "output_datatype", Msg: fmt.Sprintf("is %d (%s), want a numeric type", int(op.dtype), op.dtype)}
	}
	return op, nil
}

// ShapeInputs: every input is needed (the first two fix the shape, the others the values, which planning
// computes at once).
func (op *melOp) ShapeInputs() []int { return []int{0, 1, 2, 3, 4} }

// melArgs are the node's five scalars.
type melArgs struct {
	bins, dftLength, sampleRate int64
	lower, upper                float64
}

func (op *melOp) args(in []ops.ValueInfo) (melArgs, error) {
	if err := ops.CheckInputCount(in, 5, 5); err != nil {
		return melArgs{}, err
	}
	names := [5]string{"num_mel_bins", "dft_length", "sample_rate", "lower_edge_hertz", "upper_edge_hertz"}
	for i, v := range in {
		integer := i < 3
		if (integer && v.DType != ops.Int32 && v.DType != ops.Int64) || (!integer && !v.DType.IsFloat()) || v.Shape.Size() != 1 || len(v.Shape) > 1 {
			return melArgs{}, ops.Invalidf("%s is %s%v, want one %s", names[i], v.DType, v.Shape, map[bool]string{true: "integer", false: "float"}[integer])
		}
	}
	for i, v := range in {
		if v.Const == nil {
			return melArgs{}, ops.Dynamicf("the matrix depends on the value of %s", names[i])
		}
	}
	a := melArgs{bins: in[0].Const.AsInt64s()[0], dftLength: in[1].Const.AsInt64s()[0], sampleRate: in[2].Const.AsInt64s()[0],
		lower: in[3].Const.AsFloat64s()[0], upper: in[4].Const.AsFloat64s()[0]}
	if a.bins < 1 || a.dftLength < 1 || a.sampleRate < 1 || a.bins > math.MaxInt32 || a.dftLength > math.MaxInt32 {
		return a, ops.Invalidf("num_mel_bins %d, dft_length %d and sample_rate %d must be positive", a.bins, a.dftLength, a.sampleRate)
	}
	return a, nil
}

func (op *melOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	a, err := op.args(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: op.dtype, Shape: ops.Shape{int(a.dftLength/2 + 1), int(a.bins)}}}, nil
}

func (op *melOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	if err := ops.CheckInputCount(in, 5, 5); err != nil {
		return nil, err
	}
	return op, nil
}

// Run recomputes the matrix from the inputs' values (planning saw them, see ShapeInputs).
func (op *melOp) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	infos := make([]ops.ValueInfo, len(in))
	for i, t := range in {
		infos[i] = ops.ValueInfo{DType: t.DType(), Shape: t.Shape(), Const: t}
	}
	a, err := op.args(infos)
	if err != nil {
		return err
	}
	spectrum, bins := int(a.dftLength/2+1), int(a.bins)
	mel := func(f float64) float64 { return 2595 * math.Log10(1+f/700) }
	low := mel(a.lower)
	step := (mel(a.upper) - low) / float64(bins+2)
	edges := make([]int, bins+2)
	for i := range edges {
		f := 700 * (math.Pow(10, (float64(i)*step+low)/2595) - 1)
		edges[i] = int(math.Floor(float64(a.dftLength+1) * f / float64(a.sampleRate)))
	}
	w := make([]float64, spectrum*bins)
	set := func(j, i int, v float64) {
		if j >= 0 && j < spectrum {
			w[j*bins+i] = v
		}
	}
	for i := 0; i < bins; i++ {
		left, center, right := edges[i], edges[i+1], edges[i+2]
		if up := center - left; up == 0 {
			set(center, i, 1)
		} else {
			for j := max(left, -1); j <= min(center, spectrum); j++ {
				set(j, i, float64(j-left)/float64(up))
			}
		}
		if down := right - center; down > 0 {
			for j := max(center, -1); j < min(right, spectrum+1); j++ {
				set(j, i, float64(right-j)/float64(down))
			}
		}
	}
	fillFromFloat64(out[0], func(i int) float64 { return w[i] })
	return nil
}
