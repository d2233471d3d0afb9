package attention

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// modifierFunc is a Modifier written in Go, standing in for the runtime's subgraphs.
type modifierFunc func(x *ops.Tensor) (*ops.Tensor, error)

func (f modifierFunc) Modify(_ *ops.ExecContext, x *ops.Tensor) (*ops.Tensor, error) { return f(x) }

// inPlace applies f to every element of a float32 or float64 tensor at (b, h, i, j) and returns it.
func inPlace(f func(v float64, i, j int) float64) modifierFunc {
	return func(x *ops.Tensor) (*ops.Tensor, error) {
		s := x.Shape()
		n := x.Len()
		for at := 0; at < n; at++ {
			i, j := at/s[3]%s[2], at%s[3]
			switch d := x.Data().(type) {
			case []float32:
				d[at] = float32(f(float64(d[at]), i, j))
			case []float64:
				d[at] = f(d[at], i, j)
			}
		}
		return x, nil
	}
}

// runFlex runs FlexAttention on q, k, v with the attributes and modifiers given.
func runFlex(t *testing.T, attrs ops.AttrMap, scoreMod, probMod Modifier, q, k, v *ops.Tensor) (*ops.Tensor, error) {
	t.Helper()
	op, err := NewFlex(ops.NodeInfo{OpType: "FlexAttention", Domain: ops.PreviewDomain, Opset: 1, Attrs: attrs, NumInputs: 3, NumOutputs: 1})
	if err != nil {
		return nil, err
	}
	in := []ops.ValueInfo{{DType: q.DType(), Shape: q.Shape()}, {DType: k.DType(), Shape: k.Shape()}, {DType: v.DType(), Shape: v.Shape()}}
	s, err := op.Geometry(in)
	if err != nil {
		return nil, err
	}
	y := ops.New(s.Output().DType, s.Output().Shape)
	if err := op.NewKernel(s, scoreMod, probMod).Run(ops.SerialContext(), []*ops.Tensor{q, k, v}, []*ops.Tensor{y}); err != nil {
		return nil, err
	}
	return y, nil
}

// Where FlexAttention and Attention coincide (no mask, or the mask written as a score_mod; softcap
// likewise; GQA; a value head size of its own; an explicit scale), they agree.
func TestFlexAttentionMatchesAttention(t *testing.T) {
	causal := inPlace(func(v float64, i, j int) float64 {
		if j > i {
			return math.Inf(-1)
		}
		return v
	})
	softcap := inPlace(func(v float64, _, _ int) float64 { return 3 * math.Tanh(v/3) })
	cases := []struct {
		name      string
		q, k, v   *ops.Tensor
		attrs     ops.AttrMap // both operators take scale
		attnAttrs ops.AttrMap // Attention's own way of saying what score_mod does
		scoreMod  Modifier
	}{
		{name: "plain", q: opstest.RandF32(1, 2, 2, 3, 4), k: opstest.RandF32(2, 2, 2, 5, 4), v: opstest.RandF32(3, 2, 2, 5, 4)},
		{name: "GQA and value size 6", q: opstest.RandF32(4, 1, 4, 3, 4), k: opstest.RandF32(5, 1, 2, 5, 4), v: opstest.RandF32(6, 1, 2, 5, 6)},
		{name: "scale", q: opstest.RandF32(7, 1, 2, 3, 4), k: opstest.RandF32(8, 1, 2, 3, 4), v: opstest.RandF32(9, 1, 2, 3, 4), attrs: ops.AttrMap{"scale": ops.FloatAttr(2.5)}},
		{name: "causal", q: opstest.RandF32(10, 1, 2, 4, 4), k: opstest.RandF32(11, 1, 2, 4, 4), v: opstest.RandF32(12, 1, 2, 4, 4),
			attnAttrs: ops.AttrMap{"is_causal": ops.IntAttr(1)}, scoreMod: causal},
		{name: "softcap", q: opstest.RandF32(13, 1, 2, 3, 4), k: opstest.RandF32(14, 1, 2, 3, 4), v: opstest.RandF32(15, 1, 2, 3, 4),
			attrs: ops.AttrMap{"scale": ops.FloatAttr(4)}, attnAttrs: ops.AttrMap{"softcap": ops.FloatAttr(3)}, scoreMod: softcap},
		{name: "float64", q: opstest.ToF64(opstest.RandF32(16, 2, 3, 2, 4)), k: opstest.ToF64(opstest.RandF32(17, 2, 1, 3, 4)), v: opstest.ToF64(opstest.RandF32(18, 2, 1, 3, 2))},
	}
	for _, c := range cases {
		attn := ops.AttrMap{}
		for name, a := range c.attrs {
			attn[name] = a
		}
		for name, a := range c.attnAttrs {
			attn[name] = a
		}
		want := opstest.MustRun(t, opstest.Node{OpType: "Attention", Opset: 23, Attrs: attn, Inputs: []*ops.Tensor{c.q, c.k, c.v}})[0]
		got, err := runFlex(t, c.attrs, c.scoreMod, nil, c.q, c.k, c.v)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := opstest.Close(got, want, 1e-5, 1e-6); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// score_mod sees scale·Q·K^T and prob_mod the softmax; each sees the whole [B, Hq, L, S] tensor once, in
// the softmax precision (float32 for float16 inputs, float64 when asked).
func TestFlexAttentionModifiersSeeWholeTensors(t *testing.T) {
	q, k, v := opstest.RandF32(1, 1, 2, 3, 4), opstest.RandF32(2, 1, 2, 5, 4), opstest.RandF32(3, 1, 2, 5, 4)
	var seen []string
	record := func(name string) modifierFunc {
		return func(x *ops.Tensor) (*ops.Tensor, error) {
			seen = append(seen, name+" "+x.DType().String()+x.Shape().String())
			return x, nil
		}
	}
	if _, err := runFlex(t, nil, record("score_mod"), record("prob_mod"), opstest.ToHalf(q), opstest.ToHalf(k), opstest.ToHalf(v)); err != nil {
		t.Fatal(err)
	}
	if _, err := runFlex(t, ops.AttrMap{"softmax_precision": ops.IntAttr(int64(ops.Float64))}, record("score_mod"), nil, q, k, v); err != nil {
		t.Fatal(err)
	}
	want := []string{"score_mod float32[1,2,3,5]", "prob_mod float32[1,2,3,5]", "score_mod float64[1,2,3,5]"}
	if strings.Join(seen, "; ") != strings.Join(want, "; ") {
		t.Errorf("modifiers saw %q, want %q", seen, want)
	}
	// prob_mod halving the probabilities halves Y.
	half := inPlace(func(p float64, _, _ int) float64 { return p / 2 })
	plain, err := runFlex(t, nil, nil, nil, q, k, v)
	if err != nil {
		t.Fatal(err)
	}
	halved, err := runFlex(t, nil, nil, half, q, k, v)
	if err != nil {
		t.Fatal(err)
	}
	want2 := make([]float64, plain.Len())
	for i, x := range plain.Float32s() {
		want2[i] = float64(x) / 2
	}
	if err := opstest.CloseTo(halved.Float32s(), want2, 1e-6, 1e-7); err != nil {
		t.Errorf("prob_mod p/2: %v", err)
	}
}

// A modifier that changes the shape or dtype, or fails, is an error saying which; nothing panics.
func TestFlexAttentionRejectsBadModifiers(t *testing.T) {
	q, k, v := opstest.RandF32(1, 1, 1, 2, 4), opstest.RandF32(2, 1, 1, 3, 4), opstest.RandF32(3, 1, 1, 3, 4)
	cases := []struct {
		name              string
		scoreMod, probMod Modifier
		want              string
	}{
		{"shape", modifierFunc(func(*ops.Tensor) (*ops.Tensor, error) { return ops.New(ops.Float32, ops.Shape{1, 1, 2, 1}), nil }), nil,
			"score_mod returned float32[1,1,2,1] for an input float32[1,1,2,3]"},
		{"dtype", nil, modifierFunc(func(*ops.Tensor) (*ops.Tensor, error) { return ops.New(ops.Float64, ops.Shape{1, 1, 2, 3}), nil }),
			"prob_mod returned float64[1,1,2,3] for an input float32[1,1,2,3]"},
		{"nothing", modifierFunc(func(*ops.Tensor) (*ops.Tensor, error) { return nil, nil }), nil, "score_mod returned nothing"},
		{"failure", modifierFunc(func(*ops.Tensor) (*ops.Tensor, error) { return nil, ops.Invalidf("boom") }), nil, "score_mod: invalid: boom"},
	}
	for _, c := range cases {
		_, err := runFlex(t, nil, c.scoreMod, c.probMod, q, k, v)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
			continue
		}
		if !errors.Is(err, ops.ErrInvalid) {
			t.Errorf("%s: error %v does not match ops.ErrInvalid", c.name, err)
		}
	}
}

// Bad attributes and inputs are errors naming what is wrong.
func TestFlexAttentionChecks(t *testing.T) {
	f32 := func(dims ...int) *ops.Tensor { return ops.New(ops.Float32, ops.Shape(dims)) }
	cases := []struct {
		name    string
		attrs   ops.AttrMap
		q, k, v *ops.Tensor
		want    string
	}{
		{"softmax_precision int64", ops.AttrMap{"softmax_precision": ops.IntAttr(int64(ops.Int64))}, f32(1, 1, 1, 2), f32(1, 1, 1, 2), f32(1, 1, 1, 2), "softmax_precision"},
		{"scale NaN", ops.AttrMap{"scale": ops.FloatAttr(float32(math.NaN()))}, f32(1, 1, 1, 2), f32(1, 1, 1, 2), f32(1, 1, 1, 2), "scale"},
		{"rank 3", nil, f32(1, 1, 2), f32(1, 1, 2), f32(1, 1, 2), "want all rank 4"},
		{"heads", nil, f32(1, 3, 1, 2), f32(1, 2, 1, 2), f32(1, 2, 1, 2), "Q's 3 heads are not a multiple of K's and V's 2"},
		{"head size", nil, f32(1, 1, 1, 2), f32(1, 1, 1, 3), f32(1, 1, 1, 3), "do not fit Q"},
		{"dtypes", nil, f32(1, 1, 1, 2), opstest.ToF64(f32(1, 1, 1, 2)), f32(1, 1, 1, 2), "want one type"},
		{"integers", nil, ops.New(ops.Int32, ops.Shape{1, 1, 1, 2}), ops.New(ops.Int32, ops.Shape{1, 1, 1, 2}), ops.New(ops.Int32, ops.Shape{1, 1, 1, 2}), "input Q has dtype int32"},
	}
	for _, c := range cases {
		_, err := runFlex(t, c.attrs, nil, nil, c.q, c.k, c.v)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// After its first Run, which makes its buffers, a Run allocates nothing.
func TestFlexAttentionRunAllocatesNothing(t *testing.T) {
	q, k, v := opstest.RandF32(1, 1, 2, 3, 4), opstest.RandF32(2, 1, 2, 5, 4), opstest.RandF32(3, 1, 2, 5, 4)
	op, err := NewFlex(ops.NodeInfo{OpType: "FlexAttention", Opset: 1, NumInputs: 3, NumOutputs: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := op.Geometry([]ops.ValueInfo{{DType: ops.Float32, Shape: q.Shape()}, {DType: ops.Float32, Shape: k.Shape()}, {DType: ops.Float32, Shape: v.Shape()}})
	if err != nil {
		t.Fatal(err)
	}
	identity := modifierFunc(func(x *ops.Tensor) (*ops.Tensor, error) { return x, nil })
	kernel := op.NewKernel(s, identity, identity)
	ctx := ops.SerialContext()
	in, out := []*ops.Tensor{q, k, v}, []*ops.Tensor{ops.New(ops.Float32, s.Output().Shape)}
	if allocs := testing.AllocsPerRun(10, func() {
		if err := kernel.Run(ctx, in, out); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("Run allocates %.1f times, want 0", allocs)
	}
}

// With float16 inputs the scores round as FlexAttention's function body computes them (Q and K each times
// sqrt(scale) in float16, dot products rounded to float16), which ONNX's reference outputs follow; one
// rounding of scale·Q·K in float64 gives another result here.
func TestFlexAttentionHalfRoundsLikeTheFunctionBody(t *testing.T) {
	qv, kv, vv := []float64{0.3, 0.7, -0.55}, [][]float64{{0.9, -0.35, 0.61}, {0.13, 0.77, -0.4}}, []float64{1.7, -0.9}
	const scale = 0.37
	r16 := func(x float64) float64 { return roundTo(ops.Float16, x) }
	root := r16(float64(float32(math.Sqrt(float64(float32(scale))))))
	var function, direct [2]float64
	for j, k := range kv {
		dot, exact := 0.0, 0.0
		for d := range qv {
			dot += r16(r16(qv[d])*root) * r16(r16(k[d])*root)
			exact += r16(qv[d]) * r16(k[d])
		}
		function[j], direct[j] = float64(float32(r16(dot))), float64(float32(exact*float64(float32(scale))))
	}
	y := func(s [2]float64) float64 {
		p0 := float64(float32(1 / (1 + math.Exp(s[1]-s[0]))))
		p1 := float64(float32(1 / (1 + math.Exp(s[0]-s[1]))))
		return r16(p0*r16(vv[0]) + p1*r16(vv[1]))
	}
	want, other := y(function), y(direct)
	if want == other {
		t.Fatalf("the data do not tell the two roundings apart (both give %g)", want)
	}
	half := func(shape ops.Shape, v ...float64) *ops.Tensor { return opstest.FromFloat64s(ops.Float16, shape, v) }
	got, err := runFlex(t, ops.AttrMap{"scale": ops.FloatAttr(scale)}, nil, nil, half(ops.Shape{1, 1, 1, 3}, qv...),
		half(ops.Shape{1, 1, 2, 3}, append(append([]float64{}, kv[0]...), kv[1]...)...), half(ops.Shape{1, 1, 2, 1}, vv...))
	if err != nil {
		t.Fatal(err)
	}
	if g := float64(got.Data().([]ops.Float16Bits)[0].Float32()); g != want {
		t.Errorf("Y = %g, want %g (one float64 rounding would give %g)", g, want, other)
	}
}
