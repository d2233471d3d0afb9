package attention

// LinearAttention: the recurrent (linear-attention) update of a key-value state per token,
// https://onnx.ai/onnx/operators/onnx__LinearAttention.html, opset 27.
//
// For every batch entry b and kv head h, with S the d_k x d_v state (past_state, or zeros) and, per token t,
// k, v the head's key and value, g its decay (a d_k vector, or one value for the head) and β its rate:
//
//	linear:       S = S + k vᵀ
//	gated:        S = diag(exp g) S + k vᵀ
//	delta:        S = S + β k (v - Sᵀk)ᵀ
//	gated_delta:  S = diag(exp g) S;  S = S + β k (v - Sᵀk)ᵀ
//	o = scale · Sᵀq                    for each query head sharing kv head h (q_num_heads / kv_num_heads of them)
//
// present_state is S after the last token. scale defaults to 1/sqrt(d_k). Inputs are [B, T, heads·size];
// the state is [B, H_kv, d_k, d_v]. Everything is computed in float64, one token after another (the spec's
// chunk_size is a hint for chunk-parallel GPU kernels, which give the same values), and rounded once to
// each output's type.

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "LinearAttention", ops.Since(27, buildLinearAttention))
}

// The inputs of LinearAttention.
const (
	laQuery = iota
	laKey
	laValue
	laPastState
	laDecay
	laBeta
)

// linearRule is the update_rule.
type linearRule uint8

const (
	ruleLinear linearRule = iota
	ruleGated
	ruleDelta
	ruleGatedDelta
)

func (r linearRule) gated() bool { return r == ruleGated || r == ruleGatedDelta }
func (r linearRule) delta() bool { return r == ruleDelta || r == ruleGatedDelta }

type linearAttentionOp struct {
	rule            linearRule
	ruleName        string
	qHeads, kvHeads int
	scale           float64 // 0: 1/sqrt(d_k)
}

func buildLinearAttention(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &linearAttentionOp{
		ruleName: r.String("update_rule", "gated_delta"),
		scale:    float64(r.Float("scale", 0)),
	}
	qHeads, kvHeads := r.Int("q_num_heads", 0), r.Int("kv_num_heads", 0)
	r.Int("chunk_size", 64) // a tuning hint for chunked kernels; read so that a mistyped one is reported
	if err := r.Err(); err != nil {
		return nil, err
	}
	switch op.ruleName {
	case "linear":
		op.rule = ruleLinear
	case "gated":
		op.rule = ruleGated
	case "delta":
		op.rule = ruleDelta
	case "gated_delta":
		op.rule = ruleGatedDelta
	default:
		return nil, &ops.AttrError{Name: "update_rule", Msg: fmt.Sprintf("is %q, want linear, gated, delta or gated_delta", op.ruleName)}
	}
	if !r.Has("q_num_heads") || !r.Has("kv_num_heads") {
		return nil, &ops.AttrError{Name: "q_num_heads", Msg: "and kv_num_heads are required"}
	}
	// 2^20 heads is far beyond any model, and keeps the products of sizes within int.
	if qHeads < 1 || kvHeads < 1 || qHeads > 1<<20 || qHeads%kvHeads != 0 {
		return nil, &ops.AttrError{Name: "q_num_heads", Msg: fmt.Sprintf("is %d with kv_num_heads %d, want positive head counts up to 2^20, q a multiple of kv", qHeads, kvHeads)}
	}
	op.qHeads, op.kvHeads = int(qHeads), int(kvHeads)
	if math.IsNaN(op.scale) || math.IsInf(op.scale, 0) {
		return nil, &ops.AttrError{Name: "scale", Msg: fmt.Sprintf("is %g, want a finite number", op.scale)}
	}
	return op, nil
}

// linearShape is what a LinearAttention node's input shapes give.
type linearShape struct {
	batch, seq     int
	dk, dv         int
	decayPerKey    bool // decay is [B, T, H_kv·d_k] rather than [B, T, H_kv]
	betaShared     bool // beta is [B, T, 1] rather than [B, T, H_kv]
	hasPast        bool
	hasDecay, beta bool
}

func (op *linearAttentionOp) shapes(in []ops.ValueInfo) (linearShape, error) {
	var s linearShape
	if err := ops.CheckInputCount(in, 3, 6); err != nil {
		return s, err
	}
	names := [...]string{"query", "key", "value", "past_state", "decay", "beta"}
	dt := in[laQuery].DType
	for i := range in {
		v := ops.Input(in, i)
		if !v.Present() {
			continue
		}
		if err := kernelutil.CheckFloat(names[i], v.DType); err != nil {
			return s, err
		}
		if v.DType == ops.Float64 {
			return s, ops.Invalidf("LinearAttention %s is double; the spec allows float16, bfloat16 and float", names[i])
		}
		if i != laPastState && v.DType != dt {
			return s, ops.Invalidf("LinearAttention %s is %s, query is %s", names[i], v.DType, dt)
		}
		want := 3
		if i == laPastState {
			want = 4
		}
		if len(v.Shape) != want {
			return s, ops.Invalidf("LinearAttention %s has shape %v, want rank %d", names[i], v.Shape, want)
		}
	}
	q, k, v := in[laQuery].Shape, in[laKey].Shape, in[laValue].Shape
	s.batch, s.seq = q[0], q[1]
	if !k.Equal(ops.Shape{s.batch, s.seq, k[2]}) || !v.Equal(ops.Shape{s.batch, s.seq, v[2]}) {
		return s, ops.Invalidf("LinearAttention query %v, key %v and value %v disagree on batch and sequence", q, k, v)
	}
	if q[2]%op.qHeads != 0 || k[2]%op.kvHeads != 0 || v[2]%op.kvHeads != 0 {
		return s, ops.Invalidf("LinearAttention query width %d, key width %d and value width %d do not split into %d and %d heads",
			q[2], k[2], v[2], op.qHeads, op.kvHeads)
	}
	s.dk, s.dv = q[2]/op.qHeads, v[2]/op.kvHeads
	if k[2]/op.kvHeads != s.dk {
		return s, ops.Invalidf("LinearAttention key head size %d differs from the query's %d", k[2]/op.kvHeads, s.dk)
	}
	if p := ops.Input(in, laPastState); p.Present() {
		if want := (ops.Shape{s.batch, op.kvHeads, s.dk, s.dv}); !p.Shape.Equal(want) {
			return s, ops.Invalidf("LinearAttention past_state has shape %v, want %v", p.Shape, want)
		}
		s.hasPast = true
	}
	if d := ops.Input(in, laDecay); d.Present() {
		switch d.Shape[2] {
		case op.kvHeads * s.dk:
			s.decayPerKey = true
		case op.kvHeads:
		default:
			return s, ops.Invalidf("LinearAttention decay has shape %v, want %v or %v", d.Shape,
				ops.Shape{s.batch, s.seq, op.kvHeads * s.dk}, ops.Shape{s.batch, s.seq, op.kvHeads})
		}
		if d.Shape[0] != s.batch || d.Shape[1] != s.seq {
			return s, ops.Invalidf("LinearAttention decay has shape %v, want batch %d and sequence %d", d.Shape, s.batch, s.seq)
		}
		s.hasDecay = true
	}
	if b := ops.Input(in, laBeta); b.Present() {
		if b.Shape[0] != s.batch || b.Shape[1] != s.seq || (b.Shape[2] != op.kvHeads && b.Shape[2] != 1) {
			return s, ops.Invalidf("LinearAttention beta has shape %v, want %v or %v", b.Shape,
				ops.Shape{s.batch, s.seq, op.kvHeads}, ops.Shape{s.batch, s.seq, 1})
		}
		s.betaShared = b.Shape[2] == 1 && op.kvHeads != 1
		s.beta = true
	}
	if op.rule.gated() && !s.hasDecay {
		return s, ops.Invalidf("LinearAttention update_rule %s needs the decay input", op.ruleName)
	}
	if op.rule.delta() && !s.beta {
		return s, ops.Invalidf("LinearAttention update_rule %s needs the beta input", op.ruleName)
	}
	return s, nil
}

func (op *linearAttentionOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shapes(in)
	if err != nil {
		return nil, err
	}
	dt := in[laQuery].DType
	stateType := dt
	if p := ops.Input(in, laPastState); p.Present() {
		stateType = p.DType
	}
	return []ops.ValueInfo{
		{DType: dt, Shape: ops.Shape{s.batch, s.seq, op.qHeads * s.dv}},
		{DType: stateType, Shape: ops.Shape{s.batch, op.kvHeads, s.dk, s.dv}},
	}, nil
}

func (op *linearAttentionOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shapes(in)
	if err != nil {
		return nil, err
	}
	k := &linearAttentionKernel{op: op, s: s}
	for i := range in {
		if v := ops.Input(in, i); v.Present() {
			k.lens[i] = v.Shape.Size()
		}
	}
	return k, nil
}

type linearAttentionKernel struct {
	op   *linearAttentionOp
	s    linearShape
	lens [6]int // elements of each input, 0 when absent
}

// float64s is the scratch the kernel widens into: its inputs, the state, the output and one d_v row.
func (k *linearAttentionKernel) float64s() int {
	n := k.s.dv + k.s.batch*k.op.kvHeads*k.s.dk*k.s.dv + k.s.batch*k.s.seq*k.op.qHeads*k.s.dv
	for i, l := range k.lens {
		if i != laPastState {
			n += l
		}
	}
	return n
}

func (k *linearAttentionKernel) ScratchSize() int { return ops.Float64ScratchLen(k.float64s()) }

// FLOPs counts the multiply-adds of the state updates and the outputs.
func (k *linearAttentionKernel) FLOPs() int64 {
	perToken := int64(k.op.kvHeads)*int64(k.s.dk*k.s.dv)*2 + int64(k.op.qHeads)*int64(k.s.dk*k.s.dv)
	return int64(k.s.batch) * int64(k.s.seq) * perToken
}

func (k *linearAttentionKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	s, op := &k.s, k.op
	free := ops.Float64View(ctx.Scratch, k.float64s())
	take := func(n int) []float64 { b := free[:n:n]; free = free[n:]; return b }
	widen := func(i int) []float64 {
		if k.lens[i] == 0 {
			return nil
		}
		b := take(k.lens[i])
		kernelutil.Widen64(b, in[i])
		return b
	}
	q, key, val, decay, beta := widen(laQuery), widen(laKey), widen(laValue), widen(laDecay), widen(laBeta)
	state := take(s.batch * op.kvHeads * s.dk * s.dv)
	y := take(s.batch * s.seq * op.qHeads * s.dv)
	u := take(s.dv)
	if s.hasPast {
		kernelutil.Widen64(state, in[laPastState])
	} else {
		clear(state)
	}
	scale := op.scale
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(s.dk))
	}
	group := op.qHeads / op.kvHeads
	qWidth, kWidth, vWidth, yWidth := op.qHeads*s.dk, op.kvHeads*s.dk, op.kvHeads*s.dv, op.qHeads*s.dv
	done := kernelutil.DoneOf(ctx)
	for b := 0; b < s.batch; b++ {
		if kernelutil.Cancelled(done) {
			return nil // the outputs are unfinished; the runtime reports the context's error
		}
		for t := 0; t < s.seq; t++ {
			bt := b*s.seq + t
			for h := 0; h < op.kvHeads; h++ {
				st := state[(b*op.kvHeads+h)*s.dk*s.dv:][:s.dk*s.dv]
				kt := key[bt*kWidth+h*s.dk:][:s.dk]
				vt := val[bt*vWidth+h*s.dv:][:s.dv]
				if op.rule.gated() {
					k.decayState(st, decay, bt, h)
				}
				rate := 1.0
				if op.rule.delta() {
					rate = beta[bt*k.betaWidth()+k.betaIndex(h)]
					// u = v - Sᵀk: what the state already predicts for this key is not added again.
					for j := range u {
						u[j] = vt[j]
					}
					for i, ki := range kt {
						row := st[i*s.dv:][:s.dv]
						for j, x := range row {
							u[j] -= x * ki
						}
					}
				} else {
					copy(u, vt)
				}
				for i, ki := range kt {
					row := st[i*s.dv:][:s.dv]
					f := rate * ki
					for j, x := range u {
						row[j] += f * x
					}
				}
				for g := 0; g < group; g++ {
					qh := h*group + g
					qt := q[bt*qWidth+qh*s.dk:][:s.dk]
					yt := y[bt*yWidth+qh*s.dv:][:s.dv]
					clear(yt)
					for i, qi := range qt {
						row := st[i*s.dv:][:s.dv]
						for j, x := range row {
							yt[j] += qi * x
						}
					}
					for j := range yt {
						yt[j] *= scale
					}
				}
			}
		}
	}
	kernelutil.Narrow64(out[0], y)
	if len(out) > 1 && out[1] != nil {
		kernelutil.Narrow64(out[1], state)
	}
	return nil
}

// decayState multiplies row i of a head's state by exp(g_i) (per-key decay) or the whole state by exp(g).
func (k *linearAttentionKernel) decayState(st, decay []float64, bt, h int) {
	s, op := &k.s, k.op
	if !s.decayPerKey {
		f := math.Exp(decay[bt*op.kvHeads+h])
		for i := range st {
			st[i] *= f
		}
		return
	}
	g := decay[bt*op.kvHeads*s.dk+h*s.dk:][:s.dk]
	for i, gi := range g {
		f := math.Exp(gi)
		row := st[i*s.dv:][:s.dv]
		for j := range row {
			row[j] *= f
		}
	}
}

func (k *linearAttentionKernel) betaWidth() int {
	if k.s.betaShared {
		return 1
	}
	return k.op.kvHeads
}

func (k *linearAttentionKernel) betaIndex(h int) int {
	if k.s.betaShared {
		return 0
	}
	return h
}
