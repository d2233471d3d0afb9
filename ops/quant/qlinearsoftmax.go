package quant

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// QLinearSoftmax (com.microsoft, opset 1, ONNX Runtime's contrib operator): inputs X, X_scale,
// x_zero_point (optional), y_scale, y_zero_point (optional), X and Y uint8 or int8 of one type, quantized
// per tensor; attributes axis (default -1) and opset (required), the opset of the Softmax whose semantics
// it follows: below 13 X is seen as 2-D, [prod(dims before axis), prod(dims from axis)], and each row is
// normalised whole; from 13 on, the softmax runs along axis alone.
//
// X's zero point cancels in the softmax's shift by the maximum, so along each softmax run, in float32:
//
//	e_j = exp(-(max - X_j) * X_scale), from a 256-entry table over max - X_j (built at Prepare when X_scale
//	      is constant), each entry float64 exp rounded once
//	Y_j = saturate(round_half_to_even(e_j * (1 / Σ e) / y_scale) + y_zero_point)
//
// with Σ e summed in float32 in the order of the elements.
func init() {
	ops.Register(ops.MicrosoftDomain, "QLinearSoftmax", ops.Since(1, buildQLinearSoftmax))
}

type qlinearSoftmaxOp struct {
	axis, opset int64
}

func buildQLinearSoftmax(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	if !r.Has("opset") {
		return nil, &ops.AttrError{Name: "opset", Msg: "is required (the opset of the Softmax semantics to follow)"}
	}
	o := &qlinearSoftmaxOp{axis: r.Int("axis", -1), opset: r.Int("opset", 0)}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if o.opset < 13 {
		return nil, &ops.AttrError{Name: "opset", Msg: "is " + itoa(o.opset) + ", want a Softmax opset >= 1"}
	}
	return o, nil
}

var (
	softmaxX = qParam{name: "X", scale: 1, zp: 2}
	softmaxY = qParam{name: "y", scale: 3, zp: 4}
)

// softmaxRuns is the layout of the softmax runs: outer × n × inner, the runs along n.
type softmaxRuns struct{ outer, n, inner int }

func (o *qlinearSoftmaxOp) check(in []ops.ValueInfo) (softmaxRuns, error) {
	const op = "QLinearSoftmax"
	if err := checkInputs(op, in, 4, 5, 0, 1, 3); err != nil {
		return softmaxRuns{}, err
	}
	t, err := checkQ8(op, in, 0, "X")
	if err != nil {
		return softmaxRuns{}, err
	}
	for _, p := range []qParam{softmaxX, softmaxY} {
		if err := checkQParam(op, in, p, t); err != nil {
			return softmaxRuns{}, err
		}
	}
	x := in[0].Shape
	if len(x) == 0 {
		return softmaxRuns{outer: 1, n: 1, inner: 1}, nil
	}
	ax, err := ops.NormalizeAxis(int(o.axis), len(x))
	if err != nil {
		return softmaxRuns{}, ops.Invalidf("%s attribute axis: %v (X has shape %v)", op, err, x)
	}
	if o.opset < 13 {
		return softmaxRuns{outer: x[:ax].Size(), n: x[ax:].Size(), inner: 1}, nil
	}
	return softmaxRuns{outer: x[:ax].Size(), n: x[ax], inner: x[ax+1:].Size()}, nil
}

func (o *qlinearSoftmaxOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if _, err := o.check(in); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape.Clone()}}, nil
}

func (o *qlinearSoftmaxOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	runs, err := o.check(in)
	if err != nil {
		return nil, err
	}
	var table *expTable
	if s := in[softmaxX.scale].Const; s != nil {
		table = new(expTable)
		table.build(s.Float32s()[0])
	}
	if in[0].DType == ops.Int8 {
		return &qlinearSoftmaxKernel[int8]{runs: runs, table: table}, nil
	}
	return &qlinearSoftmaxKernel[uint8]{runs: runs, table: table}, nil
}

// expTable holds exp(-d * X_scale) for every distance d = max - X_j in [0, 255].
type expTable [256]float32

func (t *expTable) build(scale float32) {
	for d := range t {
		t[d] = float32(math.Exp(float64(-float32(d) * scale)))
	}
}

type qlinearSoftmaxKernel[T q8] struct {
	runs  softmaxRuns
	table *expTable // nil when X_scale is computed at run time
}

func (k *qlinearSoftmaxKernel[T]) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	var local expTable
	table := k.table
	if table == nil {
		local.build(in[softmaxX.scale].Float32s()[0])
		table = &local
	}
	ys, yzp := readQParam(in, softmaxY)
	x, y := ops.Data[T](in[0]), ops.Data[T](out[0])
	lo, hi := bounds8[T]()
	r := k.runs
	for o := 0; o < r.outer; o++ {
		for i := 0; i < r.inner; i++ {
			base := o*r.n*r.inner + i
			xmax := x[base]
			for j := 1; j < r.n; j++ {
				xmax = max(xmax, x[base+j*r.inner])
			}
			var sum float32
			for j := 0; j < r.n; j++ {
				sum += table[int(xmax)-int(x[base+j*r.inner])]
			}
			inv := 1 / sum
			for j := 0; j < r.n; j++ {
				e := table[int(xmax)-int(x[base+j*r.inner])]
				y[base+j*r.inner] = quantize8[T](e*inv/ys, yzp, lo, hi)
			}
		}
	}
	return nil
}
