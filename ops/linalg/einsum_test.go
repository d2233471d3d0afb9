package linalg

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// Expected values come from numpy.einsum on the pattern inputs.
func TestEinsum(t *testing.T) {
	e := func(name, eq string, want *ops.Tensor, in ...*ops.Tensor) opCase {
		return opCase{Name: name, Op: "Einsum", Opset: 12, Attrs: ops.AttrMap{"equation": ops.StringAttr(eq)},
			Inputs: in, Want: []*ops.Tensor{want}}
	}
	bcast := []float64{13, -25, 10, -27, 5, -33, 8, -29, -25, 14, -27, 13, 7, -29, 4, -31, 11, -25, 14, -21, -29, 12, -31, 11}
	fail := func(name, eq, sub string, in ...*ops.Tensor) opCase {
		return opCase{Name: name, Op: "Einsum", Opset: 12, Attrs: ops.AttrMap{"equation": ops.StringAttr(eq)},
			Inputs: in, ErrSub: sub, ErrIs: ops.ErrInvalid}
	}
	cases := []opCase{
		e("batch_diagonal", "...ii ->...i", f32(sh(2, 3), -2, 4, -1, -5, 1, -4), pat(ops.Float32, 2, 3, 3)),
		e("trace_implicit", "ii", f32(sh(), 1), pat(ops.Float32, 3, 3)),
		e("batch_matmul", "bij, bjk -> bik", f32(sh(2, 2, 2), 13, -25, 10, -27, 11, -25, 14, -21),
			pat(ops.Float32, 2, 2, 3), pat(ops.Float32, 2, 3, 2)),
		e("transpose", "ij->ji", f32(sh(3, 2), -2, -3, 5, 4, 1, 0), pat(ops.Float32, 2, 3)),
		e("row_sum", "ij->i", f32(sh(2), 4, 1), pat(ops.Float32, 2, 3)),
		e("inner_product", "i,i", f32(sh(), 39), pat(ops.Float32, 4), pat(ops.Float32, 4)),
		e("outer_product", "i,j", f32(sh(2, 3), 4, -10, -2, -10, 25, 5), pat(ops.Float32, 2), pat(ops.Float32, 3)),
		e("three_operands", "ij,jk,kl->il", f32(sh(2, 2), -51, 140, -47, 131),
			pat(ops.Float32, 2, 3), pat(ops.Float32, 3, 2), pat(ops.Float32, 2, 2)),
		e("implicit_sorted_output", "ba,ac", f32(sh(2, 2), 13, -25, 10, -27), pat(ops.Float32, 2, 3), pat(ops.Float32, 3, 2)),
		e("ellipsis_broadcast", "...ij,...jk->...ik", f32(sh(2, 3, 2, 2), bcast...), pat(ops.Float32, 2, 1, 2, 3), pat(ops.Float32, 3, 3, 2)),
		e("scalar_operand", ",ij->ij", f32(sh(2, 2), -6, 15, 3, -9), f32(sh(), 3), pat(ops.Float32, 2, 2)),
		e("repeated_label_sum", "iij->j", f32(sh(3), -7, 7, -1), pat(ops.Float32, 2, 2, 3)),
		e("size_one_broadcast", "ij,ij->ij", f32(sh(2, 2), 2, 4, 3, 8), f32(sh(1, 2), 2, 4), f32(sh(2, 2), 1, 1, 1.5, 2)),
		e("empty_sum", "ij->i", f32(sh(2), 0, 0), pat(ops.Float32, 2, 0)),
		e("float64", "bij,bjk->bik", tensor(ops.Float64, sh(2, 2, 2), []float64{13, -25, 10, -27, 11, -25, 14, -21}),
			pat(ops.Float64, 2, 2, 3), pat(ops.Float64, 2, 3, 2)),
		e("float16", "i,i", tensor(ops.Float16, sh(), []float64{39}), pat(ops.Float16, 4), pat(ops.Float16, 4)),
		e("int32", "ij->ji", tensor(ops.Int32, sh(3, 2), []float64{-2, -3, 5, 4, 1, 0}), pat(ops.Int32, 2, 3)),
		e("uint8", "ij->i", tensor(ops.Uint8, sh(2), []float64{6, 15}), tensor(ops.Uint8, sh(2, 3), []float64{1, 2, 3, 4, 5, 6})),
		e("int8_wraps", "i->", tensor(ops.Int8, sh(), []float64{-56}), tensor(ops.Int8, sh(2), []float64{100, 100})),
		fail("term_count", "ij,jk->ik", "2 terms, the node has 1", pat(ops.Float32, 2, 2)),
		fail("rank_mismatch", "ij->i", "its term \"ij\" has 2 labels", pat(ops.Float32, 2, 2, 2)),
		fail("size_mismatch", "ij,jk->ik", "label j has size 4 in input 1 and 3 elsewhere", pat(ops.Float32, 2, 3), pat(ops.Float32, 4, 2)),
		fail("bad_char", "i1->i", "character '1'", pat(ops.Float32, 2)),
		fail("unknown_output_label", "ij->k", "output label 'k' is in no input term", pat(ops.Float32, 2, 2)),
		fail("repeated_output_label", "ij->ii", "output label 'i' appears twice", pat(ops.Float32, 2, 2)),
		fail("missing_output_ellipsis", "...ij->ij", "no '...'", pat(ops.Float32, 2, 2, 2)),
		fail("stray_dot", "i.j->ij", "stray '.'", pat(ops.Float32, 2, 2)),
		{Name: "missing_equation", Op: "Einsum", Opset: 12, Inputs: []*ops.Tensor{pat(ops.Float32, 2)}, ErrSub: `"equation" is required`},
		{Name: "bfloat16_not_allowed", Op: "Einsum", Opset: 12, Attrs: ops.AttrMap{"equation": ops.StringAttr("i->i")},
			Inputs: []*ops.Tensor{pat(ops.BFloat16, 2)}, ErrSub: "dtype bfloat16"},
	}
	runCases(t, cases)
}

func TestEinsumRunAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, dt := range []ops.DType{ops.Float32, ops.Int16, ops.Float16} {
		a, b, c := pat(dt, 2, 3), pat(dt, 3, 2), pat(dt, 2, 2)
		k, out, ctx := prepareNode(t, "Einsum", 12, ops.AttrMap{"equation": ops.StringAttr("ij,jk,kl->il")}, nil, a, b, c)
		in := []*ops.Tensor{a, b, c}
		if n := testing.AllocsPerRun(10, func() { _ = k.Run(ctx, in, out) }); n != 0 {
			t.Errorf("%s: Run allocates %v times", dt, n)
		}
	}
}
