package linalg

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// Expected values come from numpy on the pattern Inputs: A=pat(3,4), B=pat(4,2), A@B = [25,-34,-36,29,13,4].
func TestGemm(t *testing.T) {
	g := func(name string, opset int, attrs ops.AttrMap, want *ops.Tensor, in ...*ops.Tensor) opCase {
		return opCase{Name: name, Op: "Gemm", Opset: opset, Attrs: attrs, Inputs: in, Want: []*ops.Tensor{want}}
	}
	A, B := pat(ops.Float32, 3, 4), pat(ops.Float32, 4, 2)
	plain := []float64{25, -34, -36, 29, 13, 4}
	all := ops.AttrMap{"alpha": ops.FloatAttr(0.5), "beta": ops.FloatAttr(2), "transA": ops.IntAttr(1), "transB": ops.IntAttr(1)}
	cases := []opCase{
		g("no_c", 13, nil, f32(sh(3, 2), plain...), A, B),
		g("absent_c", 11, nil, f32(sh(3, 2), plain...), A, B, nil),
		g("all_attributes", 13, all, f32(sh(3, 2), -4, 6.5, -0.5, 17, -2.5, 11),
			pat(ops.Float32, 4, 3), pat(ops.Float32, 2, 4), pat(ops.Float32, 1, 2)),
		g("scalar_c", 13, nil, f32(sh(3, 2), 28, -31, -33, 32, 16, 7), A, B, f32(sh(), 3)),
		g("one_elem_c", 7, nil, f32(sh(3, 2), 28, -31, -33, 32, 16, 7), A, B, f32(sh(1), 3)),
		g("column_c", 13, ops.AttrMap{"alpha": ops.FloatAttr(2), "beta": ops.FloatAttr(0.5)},
			f32(sh(3, 2), 49, -69, -69.5, 60.5, 26.5, 8.5), A, B, pat(ops.Float32, 3, 1)),
		g("matrix_c", 9, nil, f32(sh(3, 2), 23, -29, -35, 26, 17, 4), A, B, pat(ops.Float32, 3, 2)),
		g("vector_c", 13, nil, f32(sh(3, 2), 23, -29, -38, 34, 11, 9), A, B, pat(ops.Float32, 2)),
		g("row_c", 13, nil, f32(sh(3, 2), 23, -29, -38, 34, 11, 9), A, B, pat(ops.Float32, 1, 2)),
		// beta=0 ignores C entirely, even NaN in it.
		g("beta_zero", 13, ops.AttrMap{"beta": ops.FloatAttr(0)}, f32(sh(3, 2), plain...), A, B,
			tensor(ops.Float32, sh(3, 2), []float64{nan, nan, nan, nan, nan, nan})),
		g("legacy_broadcast_attr", 6, ops.AttrMap{"broadcast": ops.IntAttr(1)}, f32(sh(3, 2), 23, -29, -38, 34, 11, 9), A, B, pat(ops.Float32, 2)),
		g("float64", 13, all, tensor(ops.Float64, sh(3, 2), []float64{-4, 6.5, -0.5, 17, -2.5, 11}),
			pat(ops.Float64, 4, 3), pat(ops.Float64, 2, 4), pat(ops.Float64, 1, 2)),
		g("float16", 13, all, tensor(ops.Float16, sh(3, 2), []float64{-4, 6.5, -0.5, 17, -2.5, 11}),
			pat(ops.Float16, 4, 3), pat(ops.Float16, 2, 4), pat(ops.Float16, 1, 2)),
		g("bfloat16", 13, nil, tensor(ops.BFloat16, sh(3, 2), plain), pat(ops.BFloat16, 3, 4), pat(ops.BFloat16, 4, 2)),
		g("int64_exact", 11, nil, tensor(ops.Int64, sh(3, 2), []float64{23, -29, -38, 34, 11, 9}),
			pat(ops.Int64, 3, 4), pat(ops.Int64, 4, 2), pat(ops.Int64, 2)),
		// alpha=2, beta=0.5 on int32: 2*(A@B) + 0.5*C truncated toward zero like numpy's astype.
		g("int32_scaled", 13, ops.AttrMap{"alpha": ops.FloatAttr(2), "beta": ops.FloatAttr(0.5)},
			tensor(ops.Int32, sh(3, 2), []float64{49, -69, -69, 60, 26, 8}), pat(ops.Int32, 3, 4), pat(ops.Int32, 4, 2), pat(ops.Int32, 3, 1)),
		{Name: "k_mismatch", Op: "Gemm", Opset: 13, Attrs: ops.AttrMap{"transA": ops.IntAttr(1)}, Inputs: []*ops.Tensor{A, B},
			ErrSub: "K=3 != 4", ErrIs: ops.ErrInvalid},
		{Name: "bad_c", Op: "Gemm", Opset: 13, Inputs: []*ops.Tensor{A, B, pat(ops.Float32, 3)},
			ErrSub: "C is [3], which does not broadcast to [3,2]"},
		{Name: "c_rank3", Op: "Gemm", Opset: 13, Inputs: []*ops.Tensor{A, B, pat(ops.Float32, 1, 3, 2)},
			ErrSub: "does not broadcast"},
		{Name: "a_not_2d", Op: "Gemm", Opset: 13, Inputs: []*ops.Tensor{pat(ops.Float32, 3), B},
			ErrSub: "2-D A and B"},
		{Name: "c_required_before_11", Op: "Gemm", Opset: 9, Inputs: []*ops.Tensor{A, B},
			ErrSub: "requires input C"},
		{Name: "int_before_9", Op: "Gemm", Opset: 7, Inputs: []*ops.Tensor{pat(ops.Int32, 2, 2), pat(ops.Int32, 2, 2), pat(ops.Int32, 2)},
			ErrSub: "dtype int32, opset 7"},
		{Name: "c_dtype", Op: "Gemm", Opset: 13, Inputs: []*ops.Tensor{A, B, pat(ops.Float64, 2)},
			ErrSub: "input C has dtype float64"},
		{Name: "alpha_type", Op: "Gemm", Opset: 13, Attrs: ops.AttrMap{"alpha": ops.StringAttr("x")}, Inputs: []*ops.Tensor{A, B},
			ErrSub: `attribute "alpha" is string, want float`},
	}
	runCases(t, cases)
}

func TestGemmRunAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, dt := range []ops.DType{ops.Float32, ops.Float64, ops.BFloat16} {
		a, b, c := pat(dt, 3, 4), pat(dt, 4, 5), pat(dt, 5)
		for _, nonConst := range [][]int{nil, {1}} {
			k, out, ctx := prepareNode(t, "Gemm", 13, nil, nonConst, a, b, c)
			in := []*ops.Tensor{a, b, c}
			if n := testing.AllocsPerRun(10, func() { _ = k.Run(ctx, in, out) }); n != 0 {
				t.Errorf("%s (non-constant inputs %v): Run allocates %v times", dt, nonConst, n)
			}
		}
	}
}
