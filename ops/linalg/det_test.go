package linalg

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// Expected values come from numpy.linalg.det on the pattern inputs.
func TestDet(t *testing.T) {
	d := func(name string, opset int, want, in *ops.Tensor) opCase {
		return opCase{Name: name, Op: "Det", Opset: opset, Inputs: []*ops.Tensor{in}, Want: []*ops.Tensor{want}}
	}
	// pat(3,3) + I = [[-1,5,1],[-3,5,0],[-4,3,0]]: expanding the last column gives 1*(-9+20) = 11.
	m3 := []float64{-1, 5, 1, -3, 5, 0, -4, 3, 0}
	cases := []opCase{
		d("2x2", 22, f32(sh(), 1), pat(ops.Float32, 2, 2)),
		d("3x3", 11, f32(sh(), 11), f32(sh(3, 3), m3...)),
		d("batched", 22, f32(sh(2, 2), 0, 44, 44, -33), pat(ops.Float32, 2, 2, 3, 3)),
		d("needs_pivoting", 22, f32(sh(), -1), f32(sh(2, 2), 0, 1, 1, 0)),
		d("singular", 22, f32(sh(), 0), f32(sh(3, 3), 1, 2, 3, 2, 4, 6, 7, 8, 9)),
		d("empty_matrix", 22, f32(sh(), 1), f32(sh(0, 0))),
		d("empty_batch", 22, f32(sh(0)), f32(sh(0, 2, 2))),
		d("float64", 22, tensor(ops.Float64, sh(), []float64{11}), tensor(ops.Float64, sh(3, 3), m3)),
		d("float16", 11, tensor(ops.Float16, sh(), []float64{11}), tensor(ops.Float16, sh(3, 3), m3)),
		d("bfloat16", 22, tensor(ops.BFloat16, sh(), []float64{11}), tensor(ops.BFloat16, sh(3, 3), m3)),
		{Name: "not_square", Op: "Det", Opset: 22, Inputs: []*ops.Tensor{pat(ops.Float32, 2, 3)}, ErrSub: "[*, M, M], it is [2,3]", ErrIs: ops.ErrInvalid},
		{Name: "vector", Op: "Det", Opset: 22, Inputs: []*ops.Tensor{pat(ops.Float32, 3)}, ErrSub: "it is [3]"},
		{Name: "bfloat16_before_22", Op: "Det", Opset: 21, Inputs: []*ops.Tensor{pat(ops.BFloat16, 2, 2)}, ErrSub: "dtype bfloat16, opset 21"},
		{Name: "int_input", Op: "Det", Opset: 22, Inputs: []*ops.Tensor{pat(ops.Int32, 2, 2)}, ErrSub: "dtype int32"},
	}
	runCases(t, cases)
}

func TestDetRunAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, dt := range []ops.DType{ops.Float32, ops.Float64, ops.Float16, ops.BFloat16} {
		x := pat(dt, 2, 3, 3)
		k, out, ctx := prepareNode(t, "Det", 22, nil, nil, x)
		in := []*ops.Tensor{x}
		if n := testing.AllocsPerRun(10, func() { _ = k.Run(ctx, in, out) }); n != 0 {
			t.Errorf("%s: Run allocates %v times", dt, n)
		}
	}
}
