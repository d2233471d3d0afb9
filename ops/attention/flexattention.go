package attention

// FlexAttention (domain ai.onnx.preview, version 1): scaled dot-product attention over rank-4 inputs with
// two optional modifier subgraphs, https://github.com/onnx/onnx/blob/main/docs/Operators.md#ai.onnx.preview.FlexAttention.
// For Q [B, Hq, L, E], K [B, Hkv, S, E] and V [B, Hkv, S, Ev], with query head h reading kv head
// h / (Hq / Hkv) (grouped-query attention):
//
//	Scores[b, h, i, j] = scale · Q[b, h, i]·K[b, h/g, j]   (scale defaults to 1/sqrt(E))
//	Scores = score_mod(Scores)                           (the whole [B, Hq, L, S] tensor, when given)
//	Probs = Softmax(Scores, axis=-1)                     (a row of -inf only gives NaN, as Softmax does)
//	Probs = prob_mod(Probs)                              (likewise)
//	Y[b, h, i] = Σ_j Probs[b, h, i, j] · V[b, h/g, j]
//
// Scores and Probs have the softmax_precision dtype (float32 by default, float64 for float64 inputs), the
// type the modifiers see; products and sums are computed in float64 and rounded once to that type, and Y
// once to Q's type. With 16-bit inputs the scores round as the operator's function body does, which
// computes Q·K^T in the input type: Q and K are each multiplied by sqrt(scale) rounded to that type, the
// products rounded to it, and each dot product rounded to it before it widens to the softmax precision
// (one rounding of scale·Q·K in float64 instead differs from ONNX's reference by up to its whole tolerance). The modifiers are subgraphs, which only the runtime can run: this package computes
// everything else and calls them through Modifier, which the runtime implements over its nested plans
// (runtime/flexattention.go registers the operator).

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

// Modifier is a score_mod or prob_mod: it maps the whole [B, Hq, L, S] tensor x to a tensor that must have
// x's dtype and shape (the kernel checks). The result may be x itself; it is read before Modify is called
// again.
type Modifier interface {
	Modify(ctx *ops.ExecContext, x *ops.Tensor) (*ops.Tensor, error)
}

// FlexOp is FlexAttention's attributes: scale and softmax_precision.
type FlexOp struct {
	scale       float64
	hasScale    bool
	softmaxType ops.DType // Undefined: float32, or float64 for float64 inputs
}

// NewFlex reads and checks the node's scale and softmax_precision. The graph attributes are the runtime's.
func NewFlex(n ops.NodeInfo) (*FlexOp, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &FlexOp{hasScale: r.Has("scale"), scale: float64(r.Float("scale", 0))}
	precision := r.Int("softmax_precision", 0)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if n.NumInputs != 3 || n.NumOutputs != 1 {
		return nil, ops.Invalidf("FlexAttention takes Q, K and V and gives Y: got %d inputs and %d outputs", n.NumInputs, n.NumOutputs)
	}
	if op.hasScale && (math.IsNaN(op.scale) || math.IsInf(op.scale, 0)) {
		return nil, &ops.AttrError{Name: "scale", Msg: fmt.Sprintf("is %g, want a finite number", op.scale)}
	}
	if precision != 0 {
		dt := ops.DType(precision)
		if precision < 0 || precision > 255 || !kernelutil.IsFloat(dt) {
			return nil, &ops.AttrError{Name: "softmax_precision", Msg: fmt.Sprintf("is %d, want a float type (1 float32, 10 float16, 11 float64, 16 bfloat16)", precision)}
		}
		op.softmaxType = dt
	}
	return op, nil
}

// FlexShape is a node's geometry and types.
type FlexShape struct {
	Batch, QHeads, KVHeads, QSeq, KVSeq, HeadSize, VHeadSize int
	DType                                                    ops.DType // Q, K, V and Y
	ScoreType                                                ops.DType // Scores and Probs: softmax_precision
}

// Scores is what the modifiers take and must give: [B, Hq, L, S] of the softmax precision.
func (s FlexShape) Scores() ops.ValueInfo {
	return ops.ValueInfo{DType: s.ScoreType, Shape: ops.Shape{s.Batch, s.QHeads, s.QSeq, s.KVSeq}}
}

// Output is Y: [B, Hq, L, Ev] of Q's type.
func (s FlexShape) Output() ops.ValueInfo {
	return ops.ValueInfo{DType: s.DType, Shape: ops.Shape{s.Batch, s.QHeads, s.QSeq, s.VHeadSize}}
}

// Geometry checks Q, K and V (in[0:3]) and returns the node's shape.
func (op *FlexOp) Geometry(in []ops.ValueInfo) (FlexShape, error) {
	var s FlexShape
	if len(in) < 3 {
		return s, ops.Invalidf("FlexAttention takes Q, K and V, got %d inputs", len(in))
	}
	q, k, v := in[0], in[1], in[2]
	for i, t := range []ops.ValueInfo{q, k, v} {
		name := []string{"Q", "K", "V"}[i]
		if !t.Present() {
			return s, ops.Invalidf("input %s is absent", name)
		}
		if err := kernelutil.CheckFloat(name, t.DType); err != nil {
			return s, err
		}
	}
	if k.DType != q.DType || v.DType != q.DType {
		return s, ops.Invalidf("Q, K and V have dtypes %s, %s and %s, want one type", q.DType, k.DType, v.DType)
	}
	if len(q.Shape) != 4 || len(k.Shape) != 4 || len(v.Shape) != 4 {
		return s, ops.Invalidf("Q, K and V have shapes %v, %v and %v, want all rank 4", q.Shape, k.Shape, v.Shape)
	}
	s = FlexShape{Batch: q.Shape[0], QHeads: q.Shape[1], QSeq: q.Shape[2], HeadSize: q.Shape[3],
		KVHeads: k.Shape[1], KVSeq: k.Shape[2], VHeadSize: v.Shape[3], DType: q.DType, ScoreType: op.softmaxType}
	if k.Shape[0] != s.Batch || k.Shape[3] != s.HeadSize || !v.Shape[:3].Equal(k.Shape[:3]) {
		return s, ops.Invalidf("K %v and V %v do not fit Q %v (batch, kv heads, kv sequence and head size must agree)", k.Shape, v.Shape, q.Shape)
	}
	if s.KVHeads == 0 || s.QHeads%s.KVHeads != 0 {
		return s, ops.Invalidf("Q's %d heads are not a multiple of K's and V's %d", s.QHeads, s.KVHeads)
	}
	if s.ScoreType == ops.Undefined {
		s.ScoreType = ops.Float32
		if q.DType == ops.Float64 {
			s.ScoreType = ops.Float64
		}
	}
	return s, nil
}

// InferShapes gives Y.
func (op *FlexOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.Geometry(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{s.Output()}, nil
}

// NewKernel makes a kernel for shape s calling the modifiers (nil: none). The kernel owns its buffers (the
// inputs widened to float64 and the scores tensor the modifiers see), made at its first Run: give each
// session its own.
func (op *FlexOp) NewKernel(s FlexShape, scoreMod, probMod Modifier) *FlexKernel {
	scale := 1 / math.Sqrt(float64(s.HeadSize))
	if op.hasScale {
		scale = op.scale
	}
	return &FlexKernel{s: s, scale: scale, scoreMod: scoreMod, probMod: probMod}
}

// FlexKernel runs FlexAttention for one geometry.
type FlexKernel struct {
	s                 FlexShape
	scale             float64
	scoreMod, probMod Modifier
	q, k, v, row      []float64
	scores            *ops.Tensor
}

// FLOPs counts the multiply-adds of the two products.
func (k *FlexKernel) FLOPs() int64 {
	s := &k.s
	return int64(s.Batch) * int64(s.QHeads) * int64(s.QSeq) * int64(s.KVSeq) * int64(s.HeadSize+s.VHeadSize)
}

// Run computes Y into out[0] from Q, K, V (in[0:3]; further inputs are the runtime's and ignored).
func (k *FlexKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	s := &k.s
	if k.scores == nil {
		k.q = make([]float64, in[0].Len())
		k.k = make([]float64, in[1].Len())
		k.v = make([]float64, in[2].Len())
		k.row = make([]float64, s.KVSeq)
		k.scores = ops.New(s.ScoreType, s.Scores().Shape)
	}
	kernelutil.Widen64(k.q, in[0])
	kernelutil.Widen64(k.k, in[1])
	kernelutil.Widen64(k.v, in[2])
	scale := k.scale
	half := kernelutil.IsHalf(s.DType)
	if half {
		root := roundTo(s.DType, float64(float32(math.Sqrt(float64(float32(scale))))))
		for i, x := range k.q {
			k.q[i] = roundTo(s.DType, x*root)
		}
		for i, x := range k.k {
			k.k[i] = roundTo(s.DType, x*root)
		}
		scale = 1
	}
	group := s.QHeads / s.KVHeads
	rows := s.Batch * s.QHeads * s.QSeq
	done := kernelutil.DoneOf(ctx)
	for r := 0; r < rows; r++ {
		if r%s.QSeq == 0 && kernelutil.Cancelled(done) {
			return nil // unfinished; the runtime reports the context's error
		}
		bh := r / s.QSeq
		kvHead := (bh/s.QHeads)*s.KVHeads + (bh%s.QHeads)/group
		qi := k.q[r*s.HeadSize:][:s.HeadSize]
		keys := k.k[kvHead*s.KVSeq*s.HeadSize:]
		for j := range k.row {
			kj := keys[j*s.HeadSize:][:s.HeadSize]
			dot := 0.0
			for d, x := range qi {
				dot += x * kj[d]
			}
			if half {
				k.row[j] = roundTo(s.DType, dot)
			} else {
				k.row[j] = dot * scale
			}
		}
		k.store(r, k.row)
	}
	scores, err := k.modify(ctx, k.scoreMod, "score_mod", k.scores)
	if err != nil {
		return err
	}
	// Softmax into k.scores, row by row; each row is read in full first, so scores may be k.scores itself.
	for r := 0; r < rows; r++ {
		k.load(scores, r, k.row)
		m := math.Inf(-1)
		for _, x := range k.row {
			m = math.Max(m, x)
		}
		sum := 0.0
		for j, x := range k.row {
			k.row[j] = math.Exp(x - m)
			sum += k.row[j]
		}
		for j := range k.row {
			k.row[j] /= sum
		}
		k.store(r, k.row)
	}
	probs, err := k.modify(ctx, k.probMod, "prob_mod", k.scores)
	if err != nil {
		return err
	}
	y := out[0]
	for r := 0; r < rows; r++ {
		bh := r / s.QSeq
		kvHead := (bh/s.QHeads)*s.KVHeads + (bh%s.QHeads)/group
		vals := k.v[kvHead*s.KVSeq*s.VHeadSize:]
		k.load(probs, r, k.row)
		for d := 0; d < s.VHeadSize; d++ {
			sum := 0.0
			for j, p := range k.row {
				sum += p * vals[j*s.VHeadSize+d]
			}
			kernelutil.SetValue(y, r*s.VHeadSize+d, sum)
		}
	}
	return nil
}

// modify applies a modifier (nil: none) and checks what it returns.
func (k *FlexKernel) modify(ctx *ops.ExecContext, m Modifier, name string, x *ops.Tensor) (*ops.Tensor, error) {
	if m == nil {
		return x, nil
	}
	got, err := m.Modify(ctx, x)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if got == nil || got.Kind() != ops.KindTensor || got.DType() != x.DType() || !got.Shape().Equal(x.Shape()) {
		what := "nothing"
		if got != nil {
			what = got.Type().String()
			if got.Kind() == ops.KindTensor {
				what = fmt.Sprintf("%s%v", got.DType(), got.Shape())
			}
		}
		return nil, ops.Invalidf("%s returned %s for an input %s%v: it must keep the dtype and shape", name, what, x.DType(), x.Shape())
	}
	return got, nil
}

// load reads row r of a [B, Hq, L, S] tensor as float64.
func (k *FlexKernel) load(t *ops.Tensor, r int, row []float64) {
	n := len(row)
	switch d := t.Data().(type) {
	case []float32:
		for j, x := range d[r*n : (r+1)*n] {
			row[j] = float64(x)
		}
	case []float64:
		copy(row, d[r*n:(r+1)*n])
	default:
		for j := range row {
			row[j] = kernelutil.ValueAt(t, r*n+j)
		}
	}
}

// store writes row r of k.scores, rounding to its dtype.
func (k *FlexKernel) store(r int, row []float64) {
	n := len(row)
	switch d := k.scores.Data().(type) {
	case []float32:
		for j, x := range row {
			d[r*n+j] = float32(x)
		}
	case []float64:
		copy(d[r*n:(r+1)*n], row)
	default:
		for j, x := range row {
			kernelutil.SetValue(k.scores, r*n+j, x)
		}
	}
}

// roundTo rounds v to a 16-bit float type and back.
func roundTo(dt ops.DType, v float64) float64 {
	if dt == ops.BFloat16 {
		return float64(ops.BFloat16FromFloat32(float32(v)).Float32())
	}
	return float64(ops.Float16FromFloat32(float32(v)).Float32())
}
