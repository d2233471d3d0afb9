//go:build !noasm

package cnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// Every interleaved pack and unpack variant this CPU runs matches its pure-Go twin for pixel counts
// around the 16-pixel step (the masked tail included), full and partial channel blocks and planes
// further apart than their length; the unpack leaves the values between the planes alone.
func TestDepthwiseInterleavedTransposesMatchTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 17))
	for _, n := range []int{1, 7, 15, 16, 17, 49, 196, 200, 256, 257} {
		for _, rows := range []int{16, 5} {
			stride := n + 3
			src := randFloats(r, rows*stride)
			for _, v := range isa.Runnable(dwciPackVariants...) {
				size := ceilDiv(n, dwciLanes) * dwciLanes * dwciLanes
				want, got := make([]float32, size), make([]float32, size)
				for i := range got {
					want[i], got[i] = 42, 42
				}
				dwciPackGo(want, src, stride, rows, n)
				v.Fn(got, src, stride, rows, n)
				closeFloats(t, v.Name+" pack", got, want, 0)
			}
			packed := randFloats(r, ceilDiv(n, dwciLanes)*dwciLanes*dwciLanes)
			for _, v := range isa.Runnable(dwciUnpackVariants...) {
				want, got := make([]float32, 16*stride), make([]float32, 16*stride)
				for i := range got {
					want[i], got[i] = 42, 42
				}
				dwciUnpackGo(want, stride, packed, rows, n)
				v.Fn(got, stride, packed, rows, n)
				closeFloats(t, v.Name+" unpack", got, want, 0)
			}
		}
	}
}

// Every interleaved pack-to variant this CPU runs matches its pure-Go twin for pixel counts around its
// 16- and 8-pixel steps, full and partial channel blocks, with pixels sent to scattered, out-of-order
// offsets: the values no offset names keep their guard value (only the n pixels are stored).
func TestDepthwiseInterleavedPackToMatchesTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 31))
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 49, 196, 225} {
		for _, rows := range []int{16, 5} {
			stride := n + 3
			src := randFloats(r, rows*stride)
			// Pixel p goes to slot perm[p] of 2n+1 slots, one in two left unwritten.
			perm := r.Perm(2*n + 1)[:n]
			at := make([]int, n)
			for p := range at {
				at[p] = perm[p] * dwciLanes
			}
			for _, v := range isa.Runnable(dwciPackToVariants...) {
				want, got := make([]float32, (2*n+1)*dwciLanes), make([]float32, (2*n+1)*dwciLanes)
				for i := range got {
					want[i], got[i] = 42, 42
				}
				dwciPackToGo(want, src, stride, rows, newDwciOffsets(at))
				v.Fn(got, src, stride, rows, newDwciOffsets(at))
				closeFloats(t, fmt.Sprintf("%s pack-to n=%d rows=%d", v.Name, n, rows), got, want, 0)
			}
		}
	}
}

// Every interleaved stencil variant this CPU runs computes what its pure-Go twin computes on the tap
// and base tables of 3x3 and 5x5 windows at strides 1 and 2 on odd maps, clamped and not; the
// assembly fuses multiply-adds, so values compare within a few ulps. NaN stays NaN through the clamp
// and the values past the pixels are left alone.
func TestDepthwiseInterleavedStencilMatchesTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 23))
	for _, v := range isa.Runnable(dwciTapsVariants...) {
		for _, stride := range []int{1, 2} {
			for _, k := range []int{3, 5} {
				for _, outHW := range [][2]int{{1, 1}, {3, 5}, {7, 7}, {14, 14}} {
					s := &convShape{win: dwTestWindow(k, stride, outHW[0], outHW[1]), inC: 16, groupOutC: 1}
					p := newDwciPlanFor(s, newDwVectorPlan(s))
					base := p.bases[:ceilDiv(p.outPixels, dwciGroup)*dwciGroup]
					src := randFloats(r, p.padLen)
					src[p.offsets[len(p.offsets)-1]+3] = float32(math.NaN())
					w, bias := randFloats(r, len(p.offsets)*dwciLanes), randFloats(r, dwciLanes)
					for _, clamp := range [][2]float32{{float32(math.Inf(-1)), float32(math.Inf(1))}, {-0.7, 1.1}} {
						n := len(base) * dwciLanes
						want, got := make([]float32, n+5), make([]float32, n+5)
						for i := n; i < n+5; i++ {
							want[i], got[i] = 42, 42
						}
						dwciTapsGo(want, src, p.offsets, base, w, bias, clamp[0], clamp[1])
						v.Fn(got, src, p.offsets, base, w, bias, clamp[0], clamp[1])
						closeFloats(t, v.Name, got, want, 1e-5)
					}
				}
			}
		}
	}
}
