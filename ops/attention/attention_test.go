package attention

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// One query against two keys, head size 1: scores scale·q·k, softmax, then the weighted values.
func TestAttentionByHand(t *testing.T) {
	q := opstest.F32(ops.Shape{1, 1, 1, 1}, 2)
	k := opstest.F32(ops.Shape{1, 1, 2, 1}, 1, -1)
	v := opstest.F32(ops.Shape{1, 1, 2, 1}, 10, 20)
	w0 := 1 / (1 + math.Exp(-4)) // softmax of [2, -2]: scale 1/sqrt(1)
	cases := []struct {
		name  string
		attrs ops.AttrMap
		in    []*ops.Tensor
		want  float64
	}{
		{"plain", nil, []*ops.Tensor{q, k, v}, 10*w0 + 20*(1-w0)},
		{"scale 0", ops.AttrMap{"scale": ops.FloatAttr(0)}, []*ops.Tensor{q, k, v}, 15},
		{"bool mask drops key 0", nil, []*ops.Tensor{q, k, v, ops.FromSlice(ops.Shape{2}, []bool{false, true})}, 20},
		{"mask shorter than the keys", nil, []*ops.Tensor{q, k, v, opstest.F32(ops.Shape{1}, 0)}, 10},
		{"every key masked gives 0", nil, []*ops.Tensor{q, k, v, ops.FromSlice(ops.Shape{2}, []bool{false, false})}, 0},
		// Causal with one query and no cache: the query sees key 0 only.
		{"causal", ops.AttrMap{"is_causal": ops.IntAttr(1)}, []*ops.Tensor{q, k, v}, 10},
		// softcap 1: scores tanh(2), tanh(-2).
		{"softcap", ops.AttrMap{"softcap": ops.FloatAttr(1)}, []*ops.Tensor{q, k, v}, 10/(1+math.Exp(-2*math.Tanh(2))) + 20/(1+math.Exp(2*math.Tanh(2)))},
	}
	for _, c := range cases {
		got, err := opstest.Run(opstest.Node{OpType: "Attention", Opset: 24, Attrs: c.attrs, Inputs: c.in})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := opstest.CloseTo(got[0].Float32s(), []float64{c.want}, 1e-6, 1e-6); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// Grouped-query attention reads kv head h/2 for query heads h = 0..3, and a 3-D layout gives the same as
// the 4-D one.
func TestAttentionGroupsAnd3D(t *testing.T) {
	q := opstest.RandF32(1, 1, 4, 3, 2) // [batch, q heads, seq, size]
	k := opstest.RandF32(2, 1, 2, 5, 2) // 2 kv heads
	v := opstest.RandF32(3, 1, 2, 5, 3) // value size 3
	got := opstest.MustRun(t, opstest.Node{OpType: "Attention", Opset: 23, Inputs: []*ops.Tensor{q, k, v}})[0]
	for h := 0; h < 4; h++ {
		one := opstest.MustRun(t, opstest.Node{OpType: "Attention", Opset: 23, Inputs: []*ops.Tensor{
			slice4(q, h), slice4(k, h/2), slice4(v, h/2)}})[0]
		if err := opstest.CloseTo(got.Float32s()[h*3*3:(h+1)*3*3], opstest.Float64s(one.Float32s()), 1e-6, 1e-7); err != nil {
			t.Errorf("query head %d: %v", h, err)
		}
	}
	// 3-D: [batch, seq, heads·size].
	q3, k3, v3 := heads3D(q), heads3D(k), heads3D(v)
	got3 := opstest.MustRun(t, opstest.Node{OpType: "Attention", Opset: 23, Attrs: ops.AttrMap{"q_num_heads": ops.IntAttr(4), "kv_num_heads": ops.IntAttr(2)}, Inputs: []*ops.Tensor{q3, k3, v3}})[0]
	if err := opstest.Close(got3, heads3D(got), 1e-6, 1e-7); err != nil {
		t.Errorf("3-D: %v", err)
	}
}

// slice4 takes head h of a [1, heads, seq, size] tensor as [1, 1, seq, size].
func slice4(x *ops.Tensor, h int) *ops.Tensor {
	s := x.Shape()
	n := s[2] * s[3]
	return opstest.F32(ops.Shape{1, 1, s[2], s[3]}, x.Float32s()[h*n:(h+1)*n]...)
}

// heads3D turns [1, heads, seq, size] into [1, seq, heads·size].
func heads3D(x *ops.Tensor) *ops.Tensor {
	s := x.Shape()
	out := make([]float32, x.Len())
	for h := 0; h < s[1]; h++ {
		for i := 0; i < s[2]; i++ {
			copy(out[(i*s[1]+h)*s[3]:][:s[3]], x.Float32s()[(h*s[2]+i)*s[3]:][:s[3]])
		}
	}
	return opstest.F32(ops.Shape{1, s[2], s[1] * s[3]}, out...)
}

func TestAttentionErrors(t *testing.T) {
	q, k, v := opstest.RandF32(1, 1, 2, 3, 4), opstest.RandF32(2, 1, 2, 5, 4), opstest.RandF32(3, 1, 2, 5, 4)
	cases := []struct {
		name  string
		attrs ops.AttrMap
		in    []*ops.Tensor
		want  string
	}{
		{"3-D without heads", nil, []*ops.Tensor{opstest.RandF32(1, 1, 3, 8), opstest.RandF32(2, 1, 5, 8), opstest.RandF32(3, 1, 5, 8)}, "need the q_num_heads and kv_num_heads"},
		{"mask shape", nil, []*ops.Tensor{q, k, v, opstest.RandF32(5, 2, 5)}, "does not broadcast to [1, 2, 3, 5]"},
		{"past without value", nil, []*ops.Tensor{q, k, v, nil, opstest.RandF32(4, 1, 2, 2, 4)}, "past_key and past_value go together"},
		{"heads", nil, []*ops.Tensor{opstest.RandF32(1, 1, 3, 3, 4), k, v}, "q_num_heads 3 is not a multiple of kv_num_heads 2"},
		{"mode", ops.AttrMap{"qk_matmul_output_mode": ops.IntAttr(7)}, []*ops.Tensor{q, k, v}, "qk_matmul_output_mode"},
	}
	for _, c := range cases {
		_, err := opstest.Run(opstest.Node{OpType: "Attention", Opset: 24, Attrs: c.attrs, Inputs: c.in})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

// A quarter turn (cos 0, sin 1) maps each pair (x1, x2) to (-x2, x1): halves by default, neighbours when
// interleaved; values past rotary_embedding_dim pass through.
func TestRotaryEmbedding(t *testing.T) {
	x := opstest.F32(ops.Shape{1, 1, 1, 6}, 1, 2, 3, 4, 5, 6)
	cos := opstest.F32(ops.Shape{1, 1, 2}, 0, 0)
	sin := opstest.F32(ops.Shape{1, 1, 2}, 1, 1)
	got := opstest.MustRun(t, opstest.Node{OpType: "RotaryEmbedding", Opset: 23, Attrs: ops.AttrMap{"rotary_embedding_dim": ops.IntAttr(4)}, Inputs: []*ops.Tensor{x, cos, sin}})[0]
	if err := opstest.CloseTo(got.Float32s(), []float64{-3, -4, 1, 2, 5, 6}, 0, 0); err != nil {
		t.Errorf("halves: %v", err)
	}
	got = opstest.MustRun(t, opstest.Node{OpType: "RotaryEmbedding", Opset: 23, Attrs: ops.AttrMap{"rotary_embedding_dim": ops.IntAttr(4), "interleaved": ops.IntAttr(1)}, Inputs: []*ops.Tensor{x, cos, sin}})[0]
	if err := opstest.CloseTo(got.Float32s(), []float64{-2, 1, -4, 3, 5, 6}, 0, 0); err != nil {
		t.Errorf("interleaved: %v", err)
	}
	// position_ids pick rows of [max_position, dim/2] caches; one past the end is an error.
	cache := opstest.F32(ops.Shape{2, 2}, 1, 1, 0, 0)
	sinc := opstest.F32(ops.Shape{2, 2}, 0, 0, 1, 1)
	got = opstest.MustRun(t, opstest.Node{OpType: "RotaryEmbedding", Opset: 23, Attrs: ops.AttrMap{"rotary_embedding_dim": ops.IntAttr(4)},
		Inputs: []*ops.Tensor{x, cache, sinc, ops.FromSlice(ops.Shape{1, 1}, []int64{1})}})[0]
	if err := opstest.CloseTo(got.Float32s(), []float64{-3, -4, 1, 2, 5, 6}, 0, 0); err != nil {
		t.Errorf("position 1: %v", err)
	}
	_, err := opstest.Run(opstest.Node{OpType: "RotaryEmbedding", Opset: 23, Attrs: ops.AttrMap{"rotary_embedding_dim": ops.IntAttr(4)},
		Inputs: []*ops.Tensor{x, cache, sinc, ops.FromSlice(ops.Shape{1, 1}, []int64{2})}})
	if err == nil || !strings.Contains(err.Error(), "position_ids[0, 0] is 2") {
		t.Errorf("position past the caches: got %v", err)
	}
}
