package ml

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// LinearClassifier scores each row x of X as W·x + b, W holding one row of coefficients per class, applies
// post_transform and picks the label of the highest score. A model with one row of coefficients and two
// class labels is binary: its scores are written as [-s, s] before the transform.
// https://onnx.ai/onnx/operators/onnx_aionnxml_LinearClassifier.html — opset 1.
//
// LinearRegressor writes W·x + b, one column per target, through post_transform.
// https://onnx.ai/onnx/operators/onnx_aionnxml_LinearRegressor.html — opset 1.
func init() {
	ops.Register(Domain, "LinearClassifier", ops.Since(1, buildLinearClassifier))
	ops.Register(Domain, "LinearRegressor", ops.Since(1, buildLinearRegressor))
}

// linearModel is rows of coefficients and their intercepts (none, or one per row).
type linearModel struct {
	coef       []float32
	intercepts []float32
	rows       int // 0 until the feature count is known (InferShapes)
}

// shape checks the coefficients against c features and sets rows; want is the row count the attributes
// fix (0 when the coefficients decide it).
func (m *linearModel) shape(c, want int) error {
	if c == 0 || len(m.coef)%c != 0 {
		return ops.Invalidf("%d coefficients do not make rows of the input's %d features", len(m.coef), c)
	}
	m.rows = len(m.coef) / c
	if want > 0 && m.rows != want {
		return ops.Invalidf("%d coefficients for %d features make %d rows, want %d", len(m.coef), c, m.rows, want)
	}
	if len(m.intercepts) != 0 && len(m.intercepts) != m.rows {
		return &ops.AttrError{Name: "intercepts", Msg: fmt.Sprintf("has %d elements, want 0 or %d (one per row of coefficients)", len(m.intercepts), m.rows)}
	}
	return nil
}

// score writes W·x + b into dst (len rows).
func (m *linearModel) score(dst, x []float64) {
	c := len(x)
	for r := range dst {
		s := 0.0
		if len(m.intercepts) > 0 {
			s = float64(m.intercepts[r])
		}
		for j, w := range m.coef[r*c : (r+1)*c] {
			s += float64(w) * x[j]
		}
		dst[r] = s
	}
}

type linearClassifierOp struct {
	model     linearModel
	labels    classLabels
	transform postTransform
}

func buildLinearClassifier(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &linearClassifierOp{model: linearModel{coef: r.Floats("coefficients", nil), intercepts: r.Floats("intercepts", nil)}}
	transform := r.String("post_transform", "NONE")
	r.Int("multi_class", 0) // ONNX Runtime and the reference ignore it: the scores already say everything
	labels, err := readClassLabels(r, "classlabels_ints")
	if err != nil {
		return nil, err
	}
	op.labels = labels
	if op.transform, err = parsePostTransform(transform); err != nil {
		return nil, err
	}
	if len(op.model.coef) == 0 {
		return nil, &ops.AttrError{Name: "coefficients", Msg: "is missing or empty"}
	}
	if n.NumOutputs < 1 || n.NumOutputs > 2 {
		return nil, ops.Invalidf("%d outputs, want Y and optionally Z", n.NumOutputs)
	}
	return op, nil
}

// scoreColumns is the width of Z: the binary case writes two scores from one row of coefficients.
func (op *linearClassifierOp) scoreColumns() int {
	if op.model.rows == 1 && op.labels.len() == 2 {
		return 2
	}
	return op.model.rows
}

// withFeatures is a copy of op sized for c features (the op itself is shared by every plan, so it stays
// unsized).
func (op *linearClassifierOp) withFeatures(c int) (linearClassifierOp, error) {
	k := *op
	if err := k.model.shape(c, 0); err != nil {
		return k, err
	}
	if cols := k.scoreColumns(); cols != k.labels.len() {
		return k, ops.Invalidf("%d rows of coefficients give %d scores for %d class labels", k.model.rows, cols, k.labels.len())
	}
	return k, nil
}

func (op *linearClassifierOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	n, c, err := featureMatrix(in[0], numericInputs)
	if err != nil {
		return nil, err
	}
	sized, err := op.withFeatures(c)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: op.labels.dtype(), Shape: ops.Shape{n}}, {DType: ops.Float32, Shape: ops.Shape{n, sized.scoreColumns()}}}, nil
}

func (op *linearClassifierOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	c := in[0].Shape[len(in[0].Shape)-1]
	sized, err := op.withFeatures(c)
	if err != nil {
		return nil, err
	}
	return &linearClassifierKernel{op: sized, features: c}, nil
}

type linearClassifierKernel struct {
	op       linearClassifierOp
	features int
}

func (k *linearClassifierKernel) ScratchSize() int {
	return ops.Float64ScratchLen(k.features + 2*k.op.scoreColumns())
}

func (k *linearClassifierKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	cols := k.op.scoreColumns()
	buf := ops.Float64View(ctx.Scratch, k.features+cols)
	x, scores := buf[:k.features], buf[k.features:]
	f := readFeatures(in[0])
	n := out[0].Len()
	var z []float32
	if len(out) > 1 && out[1] != nil {
		z = out[1].Float32s()
	}
	for i := 0; i < n; i++ {
		f.row(x, i)
		if cols == 2 && k.op.model.rows == 1 {
			k.op.model.score(scores[1:], x)
			scores[0] = -scores[1]
		} else {
			k.op.model.score(scores, x)
		}
		k.op.transform.apply(scores)
		k.op.labels.write(out[0], i, argmax(scores))
		if z != nil {
			for j, s := range scores {
				z[i*cols+j] = float32(s)
			}
		}
	}
	return nil
}

// argmax is the index of the first largest value.
func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

type linearRegressorOp struct {
	model     linearModel
	targets   int
	transform postTransform
}

func buildLinearRegressor(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &linearRegressorOp{model: linearModel{coef: r.Floats("coefficients", nil), intercepts: r.Floats("intercepts", nil)}}
	targets := r.Int("targets", 1)
	transform := r.String("post_transform", "NONE")
	if err := r.Err(); err != nil {
		return nil, err
	}
	var err error
	if op.transform, err = parsePostTransform(transform); err != nil {
		return nil, err
	}
	if targets < 1 || targets > int64(len(op.model.coef)) {
		return nil, &ops.AttrError{Name: "targets", Msg: fmt.Sprintf("is %d, want 1 to the %d coefficients", targets, len(op.model.coef))}
	}
	op.targets = int(targets)
	return op, nil
}

func (op *linearRegressorOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	n, c, err := featureMatrix(in[0], numericInputs)
	if err != nil {
		return nil, err
	}
	sized := *op
	if err := sized.model.shape(c, op.targets); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: ops.Float32, Shape: ops.Shape{n, op.targets}}}, nil
}

func (op *linearRegressorOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	c := in[0].Shape[len(in[0].Shape)-1]
	sized := *op
	if err := sized.model.shape(c, op.targets); err != nil {
		return nil, err
	}
	return &linearRegressorKernel{op: sized, features: c}, nil
}

type linearRegressorKernel struct {
	op       linearRegressorOp
	features int
}

func (k *linearRegressorKernel) ScratchSize() int {
	return ops.Float64ScratchLen(k.features + k.op.targets)
}

func (k *linearRegressorKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	buf := ops.Float64View(ctx.Scratch, k.features+k.op.targets)
	x, scores := buf[:k.features], buf[k.features:]
	f := readFeatures(in[0])
	y := out[0].Float32s()
	for i := 0; i < len(y)/k.op.targets; i++ {
		f.row(x, i)
		k.op.model.score(scores, x)
		k.op.transform.apply(scores)
		for j, s := range scores {
			y[i*k.op.targets+j] = float32(s)
		}
	}
	return nil
}
