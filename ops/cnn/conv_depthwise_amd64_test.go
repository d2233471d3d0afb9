//go:build !noasm

package cnn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// Every depthwise kernel variant this CPU runs computes what its pure-Go twin computes, on the tap
// tables of 3x3 and 5x5 windows at strides 1 and 2 (odd row strides), on block counts that take the
// 4-block, 2-block and single-block loops; the assembly fuses multiply-adds, so values compare within a
// few ulps. Values past the blocks are left alone; NaN inputs stay NaN through the clamp.
func TestDepthwiseKernelVariantsMatchTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, v := range isa.Runnable(dwKernelVariants...) {
		for _, stride := range []int{1, 2} {
			for _, k := range []int{3, 5} {
				for _, blocks := range []int{1, 2, 3, 4, 7, 9} {
					for _, outW := range []int{7, 30, 56} {
						plan := newDwVectorPlan(&convShape{win: dwTestWindow(k, stride, blocks*dwBlock/outW+1, outW)})
						src := randFloats(r, dwSrcExtent(plan.offsets, blocks))
						src[plan.rowStride+1] = float32(math.NaN())
						w := randFloats(r, k*k)
						bias := r.Float32() - 0.5
						lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
						if blocks == 2 {
							lo, hi = -0.7, 1.1
						}
						n := blocks * dwBlock
						want := make([]float32, n+3)
						got := make([]float32, n+3)
						for i := n; i < n+3; i++ {
							want[i], got[i] = 42, 42
						}
						dwKernelGo(want, src, plan.offsets, w, blocks, bias, lo, hi)
						v.Fn(got, src, plan.offsets, w, blocks, bias, lo, hi)
						closeFloats(t, v.Name, got, want, 1e-5)
					}
				}
			}
		}
	}
}

// dwTestWindow is a k x k window with the given stride, padding k/2 on every side, whose output is
// outH x outW.
func dwTestWindow(k, stride, outH, outW int) window {
	p := k / 2
	return window{in: []int{outH * stride, outW * stride}, out: []int{outH, outW}, kernel: []int{k, k},
		stride: []int{stride, stride}, dilation: []int{1, 1}, padBegin: []int{p, p}, padEnd: []int{p, p}}
}

// Every split variant this CPU runs matches its pure-Go twin for pair counts around the 16-pair step
// (the masked tail included), on rows whose destinations are scattered and out of order, and leaves the
// values it is not to write alone.
func TestDepthwiseSplitVariantsMatchTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for _, v := range isa.Runnable(dwSplitVariants...) {
		for _, pairs := range []int{1, 7, 15, 16, 17, 31, 40} {
			inW := 2*pairs + 1
			src := randFloats(r, 3*inW)
			evenAt, oddAt := []int{3 * 50, 0, 6 * 50}, []int{50, 5 * 50, 2 * 50}
			want, got := make([]float32, 7*50), make([]float32, 7*50)
			for i := range want {
				want[i], got[i] = 42, 42
			}
			dwSplitGo(want, src, evenAt, oddAt, inW, pairs)
			v.Fn(got, src, evenAt, oddAt, inW, pairs)
			closeFloats(t, v.Name, got, want, 0)
		}
	}
}

// Every row-copy variant this CPU runs matches its pure-Go twin for row lengths around the 16-value step
// (the masked tail included) and leaves the values between the rows alone.
func TestDepthwiseCopyRowsVariantsMatchTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 9))
	for _, v := range isa.Runnable(dwCopyRowsVariants...) {
		for _, n := range []int{1, 7, 15, 16, 17, 40} {
			src := randFloats(r, 4*(n+3))
			want, got := make([]float32, 4*(n+5)), make([]float32, 4*(n+5))
			for i := range want {
				want[i], got[i] = 42, 42
			}
			dwCopyRowsGo(want, n+5, src, n+3, 4, n)
			v.Fn(got, n+5, src, n+3, 4, n)
			closeFloats(t, v.Name, got, want, 0)
		}
	}
}
