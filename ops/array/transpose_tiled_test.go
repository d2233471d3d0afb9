package array

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// permutations returns every permutation of 0..n-1.
func permutations(n int) [][]int64 {
	if n == 0 {
		return [][]int64{{}}
	}
	var out [][]int64
	for _, p := range permutations(n - 1) {
		for pos := 0; pos <= len(p); pos++ {
			q := append(append(append([]int64{}, p[:pos]...), int64(n-1)), p[pos:]...)
			out = append(out, q)
		}
	}
	return out
}

// transposeKernelFor prepares Transpose with perm for an input of the given shape and dtype.
func transposeKernelFor(t testing.TB, dt ops.DType, shape ops.Shape, perm []int64) (*transposeKernel, ops.Shape) {
	t.Helper()
	op := &transposeOp{perm: perm}
	outs, err := op.InferShapes([]ops.ValueInfo{{DType: dt, Shape: shape}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.Prepare([]ops.ValueInfo{{DType: dt, Shape: shape}}, outs)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*transposeKernel), outs[0].Shape
}

// Every permutation of rank 1 to 4 on odd sizes (with a unit axis and tile-crossing lengths), for element
// sizes 1, 4 and 16 and strings: the tiled kernel, on one thread and on two, equals the general index
// walker (runCopy over the same plan), and the 2-D transposes do take the tiled path.
func TestTransposeTiledMatchesWalker(t *testing.T) {
	pool := ops.NewPool(2)
	defer pool.Close()
	shapes := map[int][]ops.Shape{
		1: {{37}},
		2: {{19, 33}, {1, 40}},
		3: {{3, 17, 35}, {5, 1, 21}},
		4: {{2, 3, 37, 19}, {1, 19, 5, 34}},
	}
	tiledSeen := 0
	for rank := 1; rank <= 4; rank++ {
		for _, shape := range shapes[rank] {
			for _, perm := range permutations(rank) {
				for _, dt := range []ops.DType{ops.Float32, ops.Uint8, ops.Complex128, ops.String} {
					name := fmt.Sprintf("%v/perm%v/%s", shape, perm, dt)
					k, outShape := transposeKernelFor(t, dt, shape, perm)
					if k.tiled != nil {
						tiledSeen++
					}
					x := ops.New(dt, shape)
					fillDistinct(x)
					want := ops.New(dt, outShape)
					k.run(k.plan, want.Data(), x.Data())
					for _, p := range []*ops.Pool{nil, pool} {
						ctx := ops.SerialContext()
						ctx.Pool = p
						have := ops.New(dt, outShape)
						if err := k.Run(ctx, []*ops.Tensor{x}, []*ops.Tensor{have}); err != nil {
							t.Fatal(err)
						}
						if !reflect.DeepEqual(have.Data(), want.Data()) {
							t.Fatalf("%s (threads %d): tiled transpose differs from the index walker", name, p.Threads())
						}
					}
				}
			}
		}
	}
	if tiledSeen == 0 {
		t.Fatal("no permutation took the tiled path")
	}
}

// fillDistinct gives every element a different value (modulo the dtype's range).
func fillDistinct(x *ops.Tensor) {
	switch d := x.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(i) + 0.5
		}
	case []uint8:
		for i := range d {
			d[i] = uint8(i*7 + 3)
		}
	case []complex128:
		for i := range d {
			d[i] = complex(float64(i), -float64(i))
		}
	case []string:
		for i := range d {
			d[i] = fmt.Sprint(i)
		}
	}
}

// NCHW→NHWC, NHWC→NCHW and a matrix transpose are tiled; [B,S,H,D]→[B,H,S,D] is row copies.
func TestTransposeTiledPaths(t *testing.T) {
	for _, c := range []struct {
		shape ops.Shape
		perm  []int64
		tiled bool
	}{
		{ops.Shape{1, 32, 20, 20}, []int64{0, 2, 3, 1}, true},
		{ops.Shape{2, 20, 20, 32}, []int64{0, 3, 1, 2}, true},
		{ops.Shape{64, 48}, []int64{1, 0}, true},
		{ops.Shape{1, 128, 12, 64}, []int64{0, 2, 1, 3}, false},
	} {
		k, _ := transposeKernelFor(t, ops.Float32, c.shape, c.perm)
		if (k.tiled != nil) != c.tiled {
			t.Errorf("%v perm %v: tiled %v, want %v", c.shape, c.perm, k.tiled != nil, c.tiled)
		}
	}
}

func BenchmarkTranspose(b *testing.B) {
	for _, c := range []struct {
		name  string
		shape ops.Shape
		perm  []int64
	}{
		{"NCHW-NHWC/1x64x56x56", ops.Shape{1, 64, 56, 56}, []int64{0, 2, 3, 1}},
		{"NHWC-NCHW/1x56x56x64", ops.Shape{1, 56, 56, 64}, []int64{0, 3, 1, 2}},
		{"matrix/1024x768", ops.Shape{1024, 768}, []int64{1, 0}},
		{"attention/1x128x12x64", ops.Shape{1, 128, 12, 64}, []int64{0, 2, 1, 3}},
	} {
		// walker is the general index walker on the same plan: the baseline the kernel is measured against.
		for _, walker := range []bool{false, true} {
			name := c.name
			if walker {
				name += "/walker"
			}
			b.Run(name, func(b *testing.B) {
				k, outShape := transposeKernelFor(b, ops.Float32, c.shape, c.perm)
				x, y := ops.New(ops.Float32, c.shape), ops.New(ops.Float32, outShape)
				ctx := ops.SerialContext()
				in, out := []*ops.Tensor{x}, []*ops.Tensor{y}
				b.ReportAllocs()
				b.SetBytes(int64(c.shape.Size() * 4))
				for b.Loop() {
					if walker {
						k.run(k.plan, y.Data(), x.Data())
					} else {
						_ = k.Run(ctx, in, out)
					}
				}
			})
		}
	}
}
