package cnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// TestSeparablePool checks that the pools the separable passes cover take them, and that they match the
// reference kernel, with every pass variant this CPU runs: MaxPool bit for bit on inputs where a fifth of
// the values are NaN and some are -Inf, so that windows whose first tap is NaN, windows with NaN elsewhere
// and windows of -Inf all occur; AveragePool, which sums in another order, within 1e-6 (relative), with and
// without count_include_pad.
func TestSeparablePool(t *testing.T) {
	attrs := []ops.AttrMap{
		{"kernel_shape": ints(5, 5), "pads": ints(2, 2, 2, 2)},                           // YOLO's SPPF
		{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1)},    // ResNet's stem
		{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "ceil_mode": ops.IntAttr(1)}, // SqueezeNet
		{"kernel_shape": ints(4, 3), "strides": ints(3, 1), "pads": ints(0, 2, 3, 1)},
		{"kernel_shape": ints(2, 2), "strides": ints(1, 1)},
		{"kernel_shape": ints(5, 4), "strides": ints(2, 2), "pads": ints(2, 3, 1, 0), "ceil_mode": ops.IntAttr(1)},
	}
	shapes := [][]int{{1, 1, 3, 4}, {1, 3, 5, 9}, {2, 2, 17, 41}, {1, 2, 9, 70}}
	saved := poolSepAsm
	defer func() { poolSepAsm = saved }()
	r := rand.New(rand.NewPCG(7, 8))
	type poolCase struct {
		op         string
		includePad bool
	}
	for _, v := range isa.Runnable(poolSepVariants...) {
		poolSepAsm = v.Fn
		for _, a := range attrs {
			for _, shape := range shapes {
				for _, pc := range []poolCase{{"MaxPool", false}, {"AveragePool", false}, {"AveragePool", true}} {
					checkSeparablePool(t, r, v.Name, pc.op, pc.includePad, a, shape)
				}
			}
		}
	}
}

func checkSeparablePool(t *testing.T, r *rand.Rand, variant, op string, includePad bool, a ops.AttrMap, shape []int) {
	t.Helper()
	x := randF32(1, shape...)
	xs := x.Float32s()
	if op == "MaxPool" {
		for i := range xs {
			switch r.IntN(10) {
			case 0, 1:
				xs[i] = float32(math.NaN())
			case 2:
				xs[i] = negInf32
			}
		}
	} else {
		xs[r.IntN(len(xs))] = float32(math.NaN())
		attrs := ops.AttrMap{}
		for k, v := range a {
			attrs[k] = v
		}
		if includePad {
			attrs["count_include_pad"] = ops.IntAttr(1)
		}
		a = attrs
	}
	name := fmt.Sprintf("%s/%s/%v/%v", variant, op, a, shape)
	p := prepare(t, node(op, 22, a, x))
	f, ok := p.kernel.(*fastPoolKernel)
	if !ok || f.separable == f.maxPool3x3s2() {
		t.Fatalf("%s: kernel %T (separable %v), want the separable fast path unless a 3x3 stride-2 MaxPool", name, p.kernel, ok && f.separable)
	}
	want := ops.New(ops.Float32, p.out[0].Shape())
	if err := f.ref.Run(ops.SerialContext(), p.in, []*ops.Tensor{want}); err != nil {
		t.Fatal(err)
	}
	if err := f.Run(p.ctx, p.in, p.out); err != nil {
		t.Fatal(err)
	}
	got := p.out[0].Float32s()
	for i, w := range want.Float32s() {
		if !samePooled(got[i], w, op == "AveragePool") {
			t.Errorf("%s: element %d is %g, reference %g", name, i, got[i], w)
			return
		}
	}
}

// samePooled says whether a fast pool's value g matches the reference's w: the same bits, or for an
// average (summed in another order) within 1e-6 relative, NaN where the reference is NaN.
func samePooled(g, w float32, average bool) bool {
	if math.Float32bits(g) == math.Float32bits(w) {
		return true
	}
	if !average {
		return false
	}
	if w != w || g != g {
		return w != w && g != g
	}
	return math.Abs(float64(g-w)) <= 1e-6*max(1, math.Abs(float64(w)))
}

// TestPoolSeparablePassesMatchGo compares each pass variant with its Go twin on odd widths (tails of one to
// seven after the blocks of eight, and the 32-column blocks), both strides and kernel widths 1 to 6.
func TestPoolSeparablePassesMatchGo(t *testing.T) {
	saved := poolSepAsm
	defer func() { poolSepAsm = saved }()
	r := rand.New(rand.NewPCG(9, 10))
	for _, v := range isa.Runnable(poolSepVariants...) {
		poolSepAsm = v.Fn
		for _, n := range []int{1, 7, 8, 9, 31, 33, 45} {
			const stride = 50
			x := make([]float32, 5*stride)
			for i := range x {
				x[i] = r.Float32()*2 - 1
				if r.IntN(6) == 0 {
					x[i] = float32(math.NaN())
				}
			}
			for rows := 1; rows <= 5; rows += 2 {
				for _, sum := range []bool{false, true} {
					got, want := make([]float32, n), make([]float32, n)
					poolColPass(got, x, stride, rows, sum)
					poolColPassGo(want, x, stride, rows, sum)
					sameBits(t, fmt.Sprintf("%s colPass n=%d rows=%d sum=%v", v.Name, n, rows, sum), got, want)
				}
			}
			vrow := x[:2*n+22] // free of NaN, as the vertical pass leaves it
			vrow = append([]float32(nil), vrow...)
			for i := range vrow {
				if vrow[i] != vrow[i] {
					vrow[i] = negInf32
				}
			}
			for _, s := range []int{1, 2} {
				for k := 1; k <= 6; k++ {
					for _, sum := range []bool{false, true} {
						m := min(len(vrow), (n-1)*s+k+16)
						got, want := make([]float32, n), make([]float32, n)
						poolRowPass(got, vrow[:m], x[stride:stride+m], s, k, sum)
						poolRowPassGo(want, vrow[:m], x[stride:stride+m], s, k, sum)
						sameBits(t, fmt.Sprintf("%s rowPass n=%d stride=%d k=%d sum=%v", v.Name, n, s, k, sum), got, want)
					}
				}
			}
		}
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Errorf("%s: element %d is %g, want %g", what, i, got[i], want[i])
			return
		}
	}
}
