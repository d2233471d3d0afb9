package vision

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// The float32 fast path (planes2D) against the general float64 path (its twin) on odd sizes, up and down,
// with every coordinate mode exporters use, every nearest_mode, one and two resampled axes, on one thread
// and on a pool of two (planes split between workers).
func TestResizeFastPathMatchesTwin(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	pool := ops.NewPool(2)
	defer pool.Close()
	scales := [][]float32{{1, 1, 2, 2}, {1, 1, 3, 1.5}, {1, 1, 0.6, 0.45}, {1, 1, 1, 2.5}, {1, 1, 1.7, 1}, {1, 1, 0.5, 2}}
	coords := []string{"asymmetric", "half_pixel", "pytorch_half_pixel", "align_corners", "half_pixel_symmetric"}
	nearest := []string{"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}
	fastRuns := 0
	// The second shape is wider than the strips of hChunk columns the separable path works in.
	for _, shape := range []ops.Shape{{2, 3, 7, 9}, {1, 2, 3, 300}} {
		data := make([]float32, shape.Size())
		for i := range data {
			data[i] = rng.Float32()*4 - 2
		}
		x := opstest.F32(shape, data...)
		for _, sc := range scales {
			for _, coord := range coords {
				for _, mode := range append([]string{"linear"}, nearest...) {
					a := attrs("mode", "linear", "coordinate_transformation_mode", coord)
					if mode != "linear" {
						a = attrs("mode", "nearest", "coordinate_transformation_mode", coord, "nearest_mode", mode)
					}
					name := fmt.Sprintf("%v/%v/%s/%s", shape, sc, coord, mode)
					k, fast := prepared(t, 19, a, []*ops.Tensor{x, nil, scalesT(sc...)})
					rk := k.(*resampleKernel)
					if rk.fast == nil {
						t.Fatalf("%s: float32 resize of H and W did not take the fast path", name)
					}
					fastRuns++
					ctx := ops.SerialContext()
					for _, p := range []*ops.Pool{nil, pool} {
						ctx.Pool = p
						if err := k.Run(ctx, []*ops.Tensor{x, nil, nil}, []*ops.Tensor{fast}); err != nil {
							t.Fatal(err)
						}
						twin := ops.New(ops.Float32, fast.Shape())
						saved := rk.fast
						rk.fast = nil
						err := k.Run(ctx, []*ops.Tensor{x, nil, nil}, []*ops.Tensor{twin})
						rk.fast = saved
						if err != nil {
							t.Fatal(err)
						}
						for i, want := range twin.Float32s() {
							if have := fast.Float32s()[i]; math.Abs(float64(have-want)) > 1e-5*(1+math.Abs(float64(want))) {
								t.Fatalf("%s: element %d of %v is %g, the general path gives %g", name, i, fast.Shape(), have, want)
							}
						}
					}
				}
			}
		}
	}
	if fastRuns == 0 {
		t.Fatal("no case ran the fast path")
	}
}

// Extrapolation (tf_crop_and_resize), cubic and antialiased filters, and other dtypes stay on the general path.
func TestResizeFastPathDeclines(t *testing.T) {
	x := opstest.F32(ops.Shape{1, 1, 5, 5}, seq(25)...)
	for name, a := range map[string]ops.AttrMap{
		"cubic":     attrs("mode", "cubic"),
		"antialias": attrs("mode", "linear", "antialias", 1),
	} {
		k, _ := prepared(t, 19, a, []*ops.Tensor{x, nil, scalesT(1, 1, 0.5, 0.5)})
		if k.(*resampleKernel).fast != nil {
			t.Errorf("%s took the two-tap fast path", name)
		}
	}
	crop := attrs("mode", "linear", "coordinate_transformation_mode", "tf_crop_and_resize")
	k, _ := prepared(t, 19, crop, []*ops.Tensor{x, opstest.F32(ops.Shape{8}, 0, 0, -0.5, -0.5, 1, 1, 1.5, 1.5), scalesT(1, 1, 2, 2)})
	if k.(*resampleKernel).fast != nil {
		t.Error("tf_crop_and_resize with extrapolated elements took the fast path")
	}
	xi := opstest.I64(ops.Shape{1, 1, 2, 2}, 1, 2, 3, 4)
	if k, _ := prepared(t, 19, attrs("mode", "linear"), []*ops.Tensor{xi, nil, scalesT(1, 1, 2, 2)}); k.(*resampleKernel).fast != nil {
		t.Error("int64 data took the float32 fast path")
	}
}

// BenchmarkResizeFastVsTwin: a segmentation-style 2x upsample of a 1x32x64x64 feature map through the
// fast path and through the general float64 path (its twin), on one thread.
func BenchmarkResizeFastVsTwin(b *testing.B) {
	x := opstest.F32(ops.Shape{1, 32, 64, 64}, make([]float32, 32*64*64)...)
	for _, mode := range []string{"linear", "nearest"} {
		for _, twin := range []bool{false, true} {
			name := mode + "/fast"
			if twin {
				name = mode + "/twin"
			}
			b.Run(name, func(b *testing.B) {
				k, out := prepared(b, 19, attrs("mode", mode), []*ops.Tensor{x, nil, scalesT(1, 1, 2, 2)})
				if twin {
					k.(*resampleKernel).fast = nil
				}
				ctx := ops.SerialContext()
				in, outs := []*ops.Tensor{x, nil, nil}, []*ops.Tensor{out}
				b.ReportAllocs()
				b.SetBytes(int64(out.Len() * 4))
				for b.Loop() {
					_ = k.Run(ctx, in, outs)
				}
			})
		}
	}
}
