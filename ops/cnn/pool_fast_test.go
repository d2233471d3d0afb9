package cnn

import (
	"fmt"
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// TestFastPool compares the float32 2-D fast paths with the reference pool kernel bit for bit (the
// separable AveragePool, which sums in another order, within 1e-6: samePooled), on odd sizes, pads, strides, dilations, ceil_mode and count_include_pad, with NaNs among the inputs, on one and
// two threads.
func TestFastPool(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	attrs := []ops.AttrMap{
		{"kernel_shape": ints(2, 2), "strides": ints(2, 2)},
		{"kernel_shape": ints(2, 2), "strides": ints(2, 2), "ceil_mode": ops.IntAttr(1)},
		{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1)},
		{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 0, 0, 1), "ceil_mode": ops.IntAttr(1)},
		{"kernel_shape": ints(3, 3), "pads": ints(1, 1, 1, 1), "count_include_pad": ops.IntAttr(1)},
		{"kernel_shape": ints(3, 2), "strides": ints(1, 3), "pads": ints(2, 1, 0, 1)},
		{"kernel_shape": ints(2, 3), "strides": ints(2, 1), "dilations": ints(2, 2), "pads": ints(1, 1, 1, 1)},
		{"kernel_shape": ints(5, 5), "strides": ints(3, 3)},
		{"kernel_shape": ints(1, 1)},
		{"auto_pad": ops.StringAttr("SAME_UPPER"), "kernel_shape": ints(3, 3), "strides": ints(2, 2)},
		// The separable max pool's cases (pool_sep.go): SPPF's 5x5 stride 1, any window at stride 1 or 2
		// along x, padding on every side, ceil_mode, strides along y other than 1 and 2.
		{"kernel_shape": ints(5, 5), "pads": ints(2, 2, 2, 2)},
		{"kernel_shape": ints(3, 3)},
		{"kernel_shape": ints(4, 4), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1), "ceil_mode": ops.IntAttr(1)},
		{"kernel_shape": ints(2, 5), "strides": ints(3, 2), "pads": ints(1, 2, 0, 1)},
		{"kernel_shape": ints(7, 1), "pads": ints(3, 0, 3, 0)},
		{"kernel_shape": ints(1, 6), "strides": ints(1, 2), "pads": ints(0, 5, 0, 0), "ceil_mode": ops.IntAttr(1)},
	}
	shapes := [][]int{{1, 1, 7, 7}, {2, 3, 9, 11}, {3, 2, 26, 26}, {1, 2, 5, 6}, {64, 70, 8, 8}, {2, 3, 40, 37}, {1, 2, 11, 77}}
	for _, op := range []string{"MaxPool", "AveragePool"} {
		for ai, a := range attrs {
			if _, dil := a["dilations"]; dil && op == "AveragePool" {
				a = ops.AttrMap{"kernel_shape": a["kernel_shape"], "strides": a["strides"], "pads": a["pads"]}
			}
			for _, shape := range shapes {
				x := randF32(int64(ai), shape...)
				xs := x.Float32s()
				xs[0], xs[len(xs)/2], xs[len(xs)-1] = float32(math.NaN()), float32(math.NaN()), float32(math.NaN())
				p := prepare(t, node(op, 22, a, x))
				f, ok := p.kernel.(*fastPoolKernel)
				if !ok {
					t.Fatalf("%s %v: kernel %T, want the fast path", op, a, p.kernel)
				}
				want := ops.New(ops.Float32, p.out[0].Shape())
				if err := f.ref.Run(ops.SerialContext(), p.in, []*ops.Tensor{want}); err != nil {
					t.Fatal(err)
				}
				for _, threads := range []int{1, 2} {
					name := fmt.Sprintf("%s/%v/%v/threads=%d", op, a, shape, threads)
					ctx := ops.SerialContext()
					if threads > 1 {
						ctx.Pool = pool
					}
					got := p.out[0].Float32s()
					for i := range got {
						got[i] = 12345
					}
					if err := f.Run(ctx, p.in, p.out); err != nil {
						t.Fatal(err)
					}
					for i, w := range want.Float32s() {
						if !samePooled(got[i], w, f.separable && !f.max) {
							t.Errorf("%s: element %d is %g, reference %g", name, i, got[i], w)
							break
						}
					}
				}
			}
		}
	}
}

// BenchmarkPool times the pools of LeNet (2x2 average of both layers, batch 64) and VGG/ResNet (2x2 and 3x3 stride-2 max,
// batch 8), fast path next to the reference kernel.
func BenchmarkPool(b *testing.B) {
	for _, c := range []struct {
		name string
		op   string
		x    []int
		attr ops.AttrMap
	}{
		{"lenet_avg2x2_b64", "AveragePool", []int{64, 6, 26, 26}, ops.AttrMap{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}},
		{"lenet2_avg2x2_b64", "AveragePool", []int{64, 16, 11, 11}, ops.AttrMap{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}},
		{"vgg_max2x2_b8", "MaxPool", []int{8, 64, 32, 32}, ops.AttrMap{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}},
		{"max3x3s2p1_b8", "MaxPool", []int{8, 64, 32, 32}, ops.AttrMap{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1)}},
		{"resnet_max3x3s2p1", "MaxPool", []int{1, 64, 112, 112}, ops.AttrMap{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1)}},
		{"squeezenet_max3x3s2ceil", "MaxPool", []int{1, 64, 111, 111}, ops.AttrMap{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "ceil_mode": ops.IntAttr(1)}},
		{"squeezenet3_max3x3s2ceil", "MaxPool", []int{1, 256, 27, 27}, ops.AttrMap{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "ceil_mode": ops.IntAttr(1)}},
		{"avg3x3s1p1_incpad", "AveragePool", []int{1, 64, 56, 56}, ops.AttrMap{"kernel_shape": ints(3, 3), "pads": ints(1, 1, 1, 1), "count_include_pad": ops.IntAttr(1)}},
		{"sppf_max5x5s1p2", "MaxPool", []int{1, 256, 20, 20}, ops.AttrMap{"kernel_shape": ints(5, 5), "pads": ints(2, 2, 2, 2)}},
	} {
		p := prepare(b, node(c.op, 22, c.attr, randF32(1, c.x...)))
		f := p.kernel.(*fastPoolKernel)
		kernels := []struct {
			name string
			k    ops.Kernel
		}{{"fast", f}, {"reference", f.ref}}
		if f.separable { // the path the separable passes replace: direct rows in the interior, the gather table around
			direct := *f
			direct.separable = false
			kernels = append(kernels, struct {
				name string
				k    ops.Kernel
			}{"direct", &direct})
		}
		for _, k := range kernels {
			b.Run(c.name+"/"+k.name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := k.k.Run(p.ctx, p.in, p.out); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestFastPoolAllocatesNothing runs a pool big enough to split over a 2-thread pool without allocating.
func TestFastPoolAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	pool := parallel.NewPool(2)
	defer pool.Close()
	p := prepare(t, node("MaxPool", 22, ops.AttrMap{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}, randF32(1, 8, 64, 32, 32)))
	for _, threads := range []int{1, 2} {
		if threads > 1 {
			p.ctx.Pool = pool
		}
		if allocs := testing.AllocsPerRun(10, func() { _ = p.kernel.Run(p.ctx, p.in, p.out) }); allocs != 0 {
			t.Errorf("%d threads: Run allocates %v times", threads, allocs)
		}
	}
}
