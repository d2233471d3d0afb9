package attention

import (
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// linearReference is the spec's recurrence written out plainly, one token and one query head at a time,
// with the state as a matrix per kv head: the check for the kernel, which shares the state between the
// query heads of a group and updates it in place.
func linearReference(rule string, qHeads, kvHeads int, scale float64, q, k, v, past, decay, beta *ops.Tensor) (out, present []float64) {
	B, T := q.Shape()[0], q.Shape()[1]
	dk := q.Shape()[2] / qHeads
	dv := v.Shape()[2] / kvHeads
	at := func(t *ops.Tensor, i ...int) float64 { // t[i0, i1, i2] of a 3-D tensor
		s := t.Shape()
		return t.AsFloat64s()[(i[0]*s[1]+i[1])*s[2]+i[2]]
	}
	if scale == 0 {
		scale = 1 / math.Sqrt(float64(dk))
	}
	S := make([][][][]float64, B) // S[b][h][i][j]
	for b := range S {
		S[b] = make([][][]float64, kvHeads)
		for h := range S[b] {
			S[b][h] = make([][]float64, dk)
			for i := range S[b][h] {
				S[b][h][i] = make([]float64, dv)
				for j := range S[b][h][i] {
					if past != nil {
						S[b][h][i][j] = past.AsFloat64s()[((b*kvHeads+h)*dk+i)*dv+j]
					}
				}
			}
		}
	}
	out = make([]float64, B*T*qHeads*dv)
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			for h := 0; h < kvHeads; h++ {
				st := S[b][h]
				if rule == "gated" || rule == "gated_delta" {
					for i := 0; i < dk; i++ {
						g := 0.0
						if decay.Shape()[2] == kvHeads {
							g = at(decay, b, t, h)
						} else {
							g = at(decay, b, t, h*dk+i)
						}
						for j := 0; j < dv; j++ {
							st[i][j] *= math.Exp(g)
						}
					}
				}
				rate := 1.0
				if rule == "delta" || rule == "gated_delta" {
					if beta.Shape()[2] == 1 {
						rate = at(beta, b, t, 0)
					} else {
						rate = at(beta, b, t, h)
					}
				}
				// delta = v - Sᵀk for the delta rules, v otherwise; then S += rate · k ⊗ delta.
				delta := make([]float64, dv)
				for j := 0; j < dv; j++ {
					delta[j] = at(v, b, t, h*dv+j)
					if rule == "delta" || rule == "gated_delta" {
						for i := 0; i < dk; i++ {
							delta[j] -= st[i][j] * at(k, b, t, h*dk+i)
						}
					}
				}
				for i := 0; i < dk; i++ {
					for j := 0; j < dv; j++ {
						st[i][j] += rate * at(k, b, t, h*dk+i) * delta[j]
					}
				}
			}
			for qh := 0; qh < qHeads; qh++ {
				st := S[b][qh/(qHeads/kvHeads)]
				for j := 0; j < dv; j++ {
					sum := 0.0
					for i := 0; i < dk; i++ {
						sum += at(q, b, t, qh*dk+i) * st[i][j]
					}
					out[((b*T+t)*qHeads+qh)*dv+j] = scale * sum
				}
			}
		}
	}
	for b := range S {
		for h := range S[b] {
			for i := range S[b][h] {
				present = append(present, S[b][h][i]...)
			}
		}
	}
	return out, present
}

// small makes a [B, T, width] tensor of values in (-scale, scale).
func small(seed int64, scale float32, shape ...int) *ops.Tensor {
	t := opstest.RandF32(seed, shape...)
	for i := range t.Float32s() {
		t.Float32s()[i] *= scale
	}
	return t
}

func TestLinearAttentionMatchesTheReference(t *testing.T) {
	const B, T, dk, dv = 2, 5, 3, 4
	cases := []struct {
		name            string
		rule            string
		qHeads, kvHeads int
		scale           float32
		past            bool
		perHeadDecay    bool
		sharedBeta      bool
	}{
		{name: "linear", rule: "linear", qHeads: 2, kvHeads: 2},
		{name: "linear with past and scale", rule: "linear", qHeads: 2, kvHeads: 2, past: true, scale: 0.3},
		{name: "gated per key", rule: "gated", qHeads: 2, kvHeads: 2},
		{name: "gated per head", rule: "gated", qHeads: 2, kvHeads: 2, perHeadDecay: true},
		{name: "delta", rule: "delta", qHeads: 2, kvHeads: 2, past: true},
		{name: "gated delta", rule: "gated_delta", qHeads: 2, kvHeads: 2, past: true},
		{name: "gated delta GQA, shared beta", rule: "gated_delta", qHeads: 4, kvHeads: 2, sharedBeta: true},
		{name: "gated delta MQA, per-head decay", rule: "gated_delta", qHeads: 3, kvHeads: 1, perHeadDecay: true, past: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := small(1, 1, B, T, c.qHeads*dk)
			k := small(2, 0.5, B, T, c.kvHeads*dk)
			v := small(3, 1, B, T, c.kvHeads*dv)
			var past, decay, beta *ops.Tensor
			if c.past {
				past = small(4, 1, B, c.kvHeads, dk, dv)
			}
			if c.rule == "gated" || c.rule == "gated_delta" {
				width := c.kvHeads * dk
				if c.perHeadDecay {
					width = c.kvHeads
				}
				decay = small(5, 0.5, B, T, width)
			}
			if c.rule == "delta" || c.rule == "gated_delta" {
				width := c.kvHeads
				if c.sharedBeta {
					width = 1
				}
				beta = small(6, 1, B, T, width)
				for i, x := range beta.Float32s() {
					beta.Float32s()[i] = float32(1 / (1 + math.Exp(-float64(x)))) // a sigmoid output, as models give
				}
			}
			attrs := ops.AttrMap{"update_rule": ops.StringAttr(c.rule), "q_num_heads": ops.IntAttr(int64(c.qHeads)),
				"kv_num_heads": ops.IntAttr(int64(c.kvHeads))}
			if c.scale != 0 {
				attrs["scale"] = ops.FloatAttr(c.scale)
			}
			got := opstest.MustRun(t, opstest.Node{OpType: "LinearAttention", Opset: 27, Attrs: attrs,
				Inputs: []*ops.Tensor{q, k, v, past, decay, beta}, NumOutputs: 2})
			wantOut, wantState := linearReference(c.rule, c.qHeads, c.kvHeads, float64(c.scale), q, k, v, past, decay, beta)
			if err := opstest.CloseTo(got[0].Float32s(), wantOut, 1e-5, 1e-6); err != nil {
				t.Errorf("output: %v", err)
			}
			if err := opstest.CloseTo(got[1].Float32s(), wantState, 1e-5, 1e-6); err != nil {
				t.Errorf("present_state: %v", err)
			}
			if !got[0].Shape().Equal(ops.Shape{B, T, c.qHeads * dv}) || !got[1].Shape().Equal(ops.Shape{B, c.kvHeads, dk, dv}) {
				t.Errorf("shapes %v and %v", got[0].Shape(), got[1].Shape())
			}
		})
	}
}

// TestLinearAttentionByHand checks one token of each rule on numbers worked out by hand: d_k = d_v = 1,
// state 2, k = 1, v = 3, q = 4, g = ln 0.5, β = 0.5, scale 1.
func TestLinearAttentionByHand(t *testing.T) {
	one := func(v float32) *ops.Tensor { return opstest.F32(ops.Shape{1, 1, 1}, v) }
	past := opstest.F32(ops.Shape{1, 1, 1, 1}, 2)
	decay, beta := one(float32(math.Log(0.5))), one(0.5)
	for _, c := range []struct {
		rule  string
		state float32 // S after the token; the output is 4·S
	}{
		{"linear", 2 + 3},              // S + k v
		{"gated", 0.5*2 + 3},           // e^g S + k v
		{"delta", 2 + 0.5*(3-2)},       // S + β k (v - S k)
		{"gated_delta", 1 + 0.5*(3-1)}, // S' = e^g S = 1; S' + β k (v - S' k)
	} {
		got := opstest.MustRun(t, opstest.Node{OpType: "LinearAttention", Opset: 27, NumOutputs: 2,
			Attrs:  ops.AttrMap{"update_rule": ops.StringAttr(c.rule), "q_num_heads": ops.IntAttr(1), "kv_num_heads": ops.IntAttr(1), "scale": ops.FloatAttr(1)},
			Inputs: []*ops.Tensor{one(4), one(1), one(3), past, decay, beta}})
		if s, o := got[1].Float32s()[0], got[0].Float32s()[0]; math.Abs(float64(s-c.state)) > 1e-6 || math.Abs(float64(o-4*c.state)) > 1e-5 {
			t.Errorf("%s: state %v, output %v; want %v and %v", c.rule, s, o, c.state, 4*c.state)
		}
	}
}

func TestLinearAttentionHalfAndErrors(t *testing.T) {
	q, k, v := small(1, 1, 1, 2, 4), small(2, 1, 1, 2, 4), small(3, 1, 1, 2, 4)
	heads := ops.AttrMap{"update_rule": ops.StringAttr("linear"), "q_num_heads": ops.IntAttr(2), "kv_num_heads": ops.IntAttr(2)}
	want, wantState := linearReference("linear", 2, 2, 0, opstest.ToHalf(q), opstest.ToHalf(k), opstest.ToHalf(v), nil, nil, nil)
	got := opstest.MustRun(t, opstest.Node{OpType: "LinearAttention", Opset: 27, Attrs: heads, NumOutputs: 2,
		Inputs: []*ops.Tensor{opstest.ToHalf(q), opstest.ToHalf(k), opstest.ToHalf(v)}})
	if got[0].DType() != ops.Float16 || got[1].DType() != ops.Float16 {
		t.Fatalf("dtypes %s, %s, want float16", got[0].DType(), got[1].DType())
	}
	if err := opstest.CloseTo(opstest.ToF32(got[0]).Float32s(), want, 2e-3, 1e-3); err != nil {
		t.Errorf("float16 output: %v", err)
	}
	if err := opstest.CloseTo(opstest.ToF32(got[1]).Float32s(), wantState, 2e-3, 1e-3); err != nil {
		t.Errorf("float16 state: %v", err)
	}
	with := func(name string, a ops.Attr) ops.AttrMap {
		m := ops.AttrMap{}
		for key, val := range heads {
			m[key] = val
		}
		m[name] = a
		return m
	}
	qkv := []*ops.Tensor{q, k, v}
	opstest.RunCases(t, []opstest.Case{
		{Name: "unknown rule", Op: "LinearAttention", Opset: 27, Attrs: with("update_rule", ops.StringAttr("mamba")), Inputs: qkv,
			ErrSub: `"update_rule" is "mamba"`, ErrIs: ops.ErrInvalid},
		{Name: "heads missing", Op: "LinearAttention", Opset: 27, Attrs: ops.AttrMap{"q_num_heads": ops.IntAttr(2)}, Inputs: qkv,
			ErrSub: "are required"},
		{Name: "q not a multiple of kv", Op: "LinearAttention", Opset: 27, Attrs: with("kv_num_heads", ops.IntAttr(3)), Inputs: qkv,
			ErrSub: "q a multiple of kv"},
		{Name: "huge heads", Op: "LinearAttention", Opset: 27, Attrs: with("q_num_heads", ops.IntAttr(1<<50)), Inputs: qkv,
			ErrSub: "up to 2^20"},
		{Name: "zero heads", Op: "LinearAttention", Opset: 27, Attrs: with("kv_num_heads", ops.IntAttr(0)), Inputs: qkv,
			ErrSub: "want positive head counts"},
		{Name: "NaN scale", Op: "LinearAttention", Opset: 27, Attrs: with("scale", ops.FloatAttr(float32(math.NaN()))), Inputs: qkv,
			ErrSub: `"scale" is NaN`},
		{Name: "gated without decay", Op: "LinearAttention", Opset: 27, Attrs: with("update_rule", ops.StringAttr("gated")), Inputs: qkv,
			ErrSub: "needs the decay input"},
		{Name: "default rule without beta", Op: "LinearAttention", Opset: 27, Attrs: with("update_rule", ops.StringAttr("gated_delta")),
			Inputs: []*ops.Tensor{q, k, v, nil, small(4, 1, 1, 2, 2)}, ErrSub: "needs the beta input"},
		{Name: "width not split by heads", Op: "LinearAttention", Opset: 27, Attrs: heads,
			Inputs: []*ops.Tensor{small(1, 1, 1, 2, 5), k, v}, ErrSub: "do not split into 2 and 2 heads"},
		{Name: "key head size", Op: "LinearAttention", Opset: 27, Attrs: heads,
			Inputs: []*ops.Tensor{q, small(2, 1, 1, 2, 6), v}, ErrSub: "key head size 3 differs from the query's 2"},
		{Name: "sequence disagrees", Op: "LinearAttention", Opset: 27, Attrs: heads,
			Inputs: []*ops.Tensor{q, small(2, 1, 1, 3, 4), v}, ErrSub: "disagree on batch and sequence"},
		{Name: "rank 4 query", Op: "LinearAttention", Opset: 27, Attrs: heads,
			Inputs: []*ops.Tensor{small(1, 1, 1, 2, 2, 2), k, v}, ErrSub: "want rank 3"},
		{Name: "past shape", Op: "LinearAttention", Opset: 27, Attrs: heads,
			Inputs: []*ops.Tensor{q, k, v, small(4, 1, 1, 2, 2, 3)}, ErrSub: "past_state has shape [1,2,2,3], want [1,2,2,2]"},
		{Name: "decay width", Op: "LinearAttention", Opset: 27, Attrs: with("update_rule", ops.StringAttr("gated")),
			Inputs: []*ops.Tensor{q, k, v, nil, small(4, 1, 1, 2, 3)}, ErrSub: "decay has shape [1,2,3], want [1,2,4] or [1,2,2]"},
		{Name: "beta width", Op: "LinearAttention", Opset: 27, Attrs: with("update_rule", ops.StringAttr("delta")),
			Inputs: []*ops.Tensor{q, k, v, nil, nil, small(4, 1, 1, 2, 3)}, ErrSub: "beta has shape [1,2,3], want [1,2,2] or [1,2,1]"},
		{Name: "mixed dtypes", Op: "LinearAttention", Opset: 27, Attrs: heads,
			Inputs: []*ops.Tensor{q, opstest.ToHalf(k), v}, ErrSub: "key is float16, query is float32"},
		{Name: "double", Op: "LinearAttention", Opset: 27, Attrs: heads,
			Inputs: []*ops.Tensor{opstest.ToF64(q), opstest.ToF64(k), opstest.ToF64(v)}, ErrSub: "query is double"},
		{Name: "integer", Op: "LinearAttention", Opset: 27, Attrs: heads,
			Inputs: []*ops.Tensor{opstest.I64(ops.Shape{1, 1, 2}, 1, 2), k, v}, ErrSub: "int64"},
	})
}
