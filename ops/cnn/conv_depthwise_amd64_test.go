//go:build !noasm

package cnn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// Every depthwise kernel variant this CPU runs computes what its pure-Go twin computes, on both kernel
// sizes, odd row strides and block counts; the assembly fuses multiply-adds, so values compare within a
// few ulps. Values past the blocks are left alone; NaN inputs stay NaN through the clamp.
func TestDepthwiseKernelVariantsMatchTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, stride := range []int{1, 2} {
		variants, twin := dwStride1Variants, dwKernelGo(stride)
		if stride == 2 {
			variants = dwStride2Variants
		}
		for _, v := range isa.Runnable(variants...) {
			for _, k := range []int{3, 5} {
				for _, blocks := range []int{1, 2, 7} {
					for _, rowStride := range []int{9, 37, 58} {
						src := randFloats(r, dwSrcExtent(stride, rowStride, k, blocks))
						src[rowStride+1] = float32(math.NaN())
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
						twin(want, src, rowStride, k, blocks, w, bias, lo, hi)
						v.Fn(got, src, rowStride, k, blocks, w, bias, lo, hi)
						closeFloats(t, v.Name, got, want, 1e-5)
					}
				}
			}
		}
	}
}
