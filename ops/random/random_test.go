package random

import (
	"math"
	"slices"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func TestRegistrationsFollowSpec(t *testing.T) {
	opstest.CheckRegistrationsFollowSpec(t, []string{"Bernoulli", "RandomUniformLike"})
}

func seeded(seed float32, more ops.AttrMap) ops.AttrMap {
	m := ops.AttrMap{"seed": ops.FloatAttr(seed)}
	for k, v := range more {
		m[k] = v
	}
	return m
}

func filled(n int, p float32) *ops.Tensor {
	v := make([]float32, n)
	for i := range v {
		v[i] = p
	}
	return ops.FromSlice(ops.Shape{n}, v)
}

func TestBernoulliMeanAndSeed(t *testing.T) {
	const n = 100000
	node := opstest.NewNode("Bernoulli", 22, seeded(7, nil), filled(n, 0.3))
	first := opstest.MustRun(t, node)[0].Float32s()
	ones := 0.0
	for i, v := range first {
		if v != 0 && v != 1 {
			t.Fatalf("y[%d] = %v, want 0 or 1", i, v)
		}
		ones += float64(v)
	}
	// The seed is fixed, so this cannot flake: it checks the draws are Bernoulli(0.3), within 4 sigma.
	if sigma := math.Sqrt(n * 0.3 * 0.7); math.Abs(ones-n*0.3) > 4*sigma {
		t.Errorf("%v ones in %d draws of p=0.3, want %v within %.0f", ones, n, n*0.3, 4*sigma)
	}
	again := opstest.MustRun(t, node)[0].Float32s()
	if !slices.Equal(first, again) {
		t.Error("two runs of a node seeded 7 differ")
	}
	other := opstest.MustRun(t, opstest.NewNode("Bernoulli", 22, seeded(8, nil), filled(n, 0.3)))[0].Float32s()
	if slices.Equal(first, other) {
		t.Error("seeds 7 and 8 give the same draws")
	}
	unseeded := opstest.NewNode("Bernoulli", 22, nil, filled(n, 0.3))
	if slices.Equal(opstest.MustRun(t, unseeded)[0].Float32s(), opstest.MustRun(t, unseeded)[0].Float32s()) {
		t.Error("two runs of an unseeded node give the same draws")
	}
	nanSeed := opstest.NewNode("Bernoulli", 22, seeded(float32(math.NaN()), nil), filled(n, 0.3))
	if slices.Equal(opstest.MustRun(t, nanSeed)[0].Float32s(), opstest.MustRun(t, nanSeed)[0].Float32s()) {
		t.Error("a NaN seed is no seed, but two runs give the same draws")
	}
}

func TestBernoulli(t *testing.T) {
	p := opstest.F64(ops.Shape{2, 3}, 0, 1, 1, 0, -0.5, 2)
	opstest.RunCases(t, []opstest.Case{
		{Name: "certain outcomes", Op: "Bernoulli", Opset: 22, Attrs: seeded(1, nil), Inputs: []*ops.Tensor{p},
			Want: []*ops.Tensor{opstest.F64(ops.Shape{2, 3}, 0, 1, 1, 0, 0, 1)}},
		{Name: "NaN is never drawn", Op: "Bernoulli", Opset: 22, Attrs: seeded(1, nil), Inputs: []*ops.Tensor{opstest.F32(ops.Shape{1}, float32(math.NaN()))},
			Want: []*ops.Tensor{opstest.F32(ops.Shape{1}, 0)}},
		{Name: "bool output", Op: "Bernoulli", Opset: 15, Attrs: seeded(1, ops.AttrMap{"dtype": ops.IntAttr(int64(ops.Bool))}), Inputs: []*ops.Tensor{p},
			Want: []*ops.Tensor{ops.FromSlice(ops.Shape{2, 3}, []bool{false, true, true, false, false, true})}},
		{Name: "int64 output", Op: "Bernoulli", Opset: 15, Attrs: seeded(1, ops.AttrMap{"dtype": ops.IntAttr(int64(ops.Int64))}), Inputs: []*ops.Tensor{p},
			Want: []*ops.Tensor{opstest.I64(ops.Shape{2, 3}, 0, 1, 1, 0, 0, 1)}},
		{Name: "float16 output from float32", Op: "Bernoulli", Opset: 22, Attrs: seeded(1, ops.AttrMap{"dtype": ops.IntAttr(int64(ops.Float16))}),
			Inputs: []*ops.Tensor{opstest.F32(ops.Shape{2}, 0, 1)}, Want: []*ops.Tensor{opstest.ToHalf(opstest.F32(ops.Shape{2}, 0, 1))}},
		{Name: "bfloat16 probabilities from opset 22", Op: "Bernoulli", Opset: 22, Attrs: seeded(1, nil),
			Inputs: []*ops.Tensor{opstest.ToBF16(opstest.F32(ops.Shape{2}, 1, 0))}, Want: []*ops.Tensor{opstest.ToBF16(opstest.F32(ops.Shape{2}, 1, 0))}},
		{Name: "bfloat16 probabilities before opset 22", Op: "Bernoulli", Opset: 15,
			Inputs: []*ops.Tensor{opstest.ToBF16(opstest.F32(ops.Shape{1}, 1))}, ErrSub: "bfloat16"},
		{Name: "integer probabilities", Op: "Bernoulli", Opset: 22, Inputs: []*ops.Tensor{opstest.I64(ops.Shape{1}, 1)}, ErrSub: "int64"},
		{Name: "string dtype", Op: "Bernoulli", Opset: 22, Attrs: ops.AttrMap{"dtype": ops.IntAttr(int64(ops.String))},
			Inputs: []*ops.Tensor{p}, ErrSub: `"dtype" is 8`, ErrIs: ops.ErrInvalid},
		{Name: "dtype out of range", Op: "Bernoulli", Opset: 22, Attrs: ops.AttrMap{"dtype": ops.IntAttr(1 << 40)},
			Inputs: []*ops.Tensor{p}, ErrSub: `"dtype"`},
		{Name: "infinite seed", Op: "Bernoulli", Opset: 22, Attrs: seeded(float32(math.Inf(1)), nil),
			Inputs: []*ops.Tensor{p}, ErrSub: `"seed" is +Inf`},
	})
}

func TestReadSeedWraps(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want uint32
	}{{0, 0}, {7.9, 7}, {-1, math.MaxUint32}, {1 << 33, 0}, {3e38, math.MaxUint32}, {-3e38, 0}} {
		s, err := readSeed(ops.NewAttrReader(ops.AttrMap{"seed": ops.FloatAttr(c.in)}))
		if err != nil || !s.fixed || s.value != c.want {
			t.Errorf("seed %g: %+v, %v; want fixed %d", c.in, s, err, c.want)
		}
	}
}

func TestRandomUniformLike(t *testing.T) {
	const n = 20000
	node := opstest.NewNode("RandomUniformLike", 22, seeded(3, ops.AttrMap{"low": ops.FloatAttr(-2), "high": ops.FloatAttr(6),
		"dtype": ops.IntAttr(int64(ops.Float64))}), ops.New(ops.Int32, ops.Shape{n}))
	y := opstest.MustRun(t, node)[0].Float64s()
	sum := 0.0
	for i, v := range y {
		if v < -2 || v >= 6 {
			t.Fatalf("y[%d] = %v, outside [-2, 6)", i, v)
		}
		sum += v
	}
	// Uniform on [-2, 6): mean 2, standard deviation 8/sqrt(12); the seed is fixed.
	if sigma := 8 / math.Sqrt(12*n); math.Abs(sum/n-2) > 4*sigma {
		t.Errorf("mean %v, want 2 within %v", sum/n, 4*sigma)
	}
	if !slices.Equal(y, opstest.MustRun(t, node)[0].Float64s()) {
		t.Error("two runs of a seeded node differ")
	}
	// The first draw of numpy's RandomState(0).uniform() is 0.5488135039273248 (see ops/internal/mt19937).
	first := opstest.MustRun(t, opstest.NewNode("RandomUniformLike", 22, seeded(0, nil), opstest.F64(ops.Shape{1}, 0)))[0].Float64s()
	if first[0] != 0.5488135039273248 {
		t.Errorf("seed 0: first draw %v, want numpy's 0.5488135039273248", first[0])
	}
	opstest.RunCases(t, []opstest.Case{
		{Name: "dtype from a float16 input", Op: "RandomUniformLike", Opset: 1, Attrs: seeded(0, ops.AttrMap{"low": ops.FloatAttr(1), "high": ops.FloatAttr(1)}),
			Inputs: []*ops.Tensor{opstest.ToHalf(opstest.F32(ops.Shape{2}, 9, 9))}, Want: []*ops.Tensor{opstest.ToHalf(opstest.F32(ops.Shape{2}, 1, 1))}},
		{Name: "an int input needs dtype", Op: "RandomUniformLike", Opset: 22, Inputs: []*ops.Tensor{opstest.I64(ops.Shape{1}, 1)}, ErrSub: "int64"},
		{Name: "bfloat16 before opset 22", Op: "RandomUniformLike", Opset: 1, Attrs: ops.AttrMap{"dtype": ops.IntAttr(int64(ops.BFloat16))},
			Inputs: []*ops.Tensor{opstest.F32(ops.Shape{1}, 1)}, ErrSub: `"dtype" is 16`},
		{Name: "low above high", Op: "RandomUniformLike", Opset: 22, Attrs: ops.AttrMap{"low": ops.FloatAttr(2), "high": ops.FloatAttr(1)},
			Inputs: []*ops.Tensor{opstest.F32(ops.Shape{1}, 1)}, ErrSub: "want finite low <= high"},
		{Name: "infinite high", Op: "RandomUniformLike", Opset: 22, Attrs: ops.AttrMap{"high": ops.FloatAttr(float32(math.Inf(1)))},
			Inputs: []*ops.Tensor{opstest.F32(ops.Shape{1}, 1)}, ErrSub: "want finite low <= high"},
	})
}

func TestRunAllocatesNothing(t *testing.T) {
	opstest.CheckRunAllocatesNothing(t, map[string]opstest.Node{
		"Bernoulli bool":        opstest.NewNode("Bernoulli", 22, ops.AttrMap{"dtype": ops.IntAttr(int64(ops.Bool))}, filled(1000, 0.5)),
		"Bernoulli seeded f16":  opstest.NewNode("Bernoulli", 22, seeded(1, ops.AttrMap{"dtype": ops.IntAttr(int64(ops.Float16))}), filled(1000, 0.5)),
		"RandomUniformLike f32": opstest.NewNode("RandomUniformLike", 22, nil, filled(1000, 0)),
	})
}
