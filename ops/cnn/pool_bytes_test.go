package cnn

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// randBytes returns a uint8 or int8 tensor of shape whose values crowd the type's ends (its least value,
// which padding must never beat or be confused with, and its greatest), with ties, and spread between.
func randBytes(r *rand.Rand, dtype ops.DType, shape ...int) *ops.Tensor {
	t := ops.New(dtype, ops.Shape(shape))
	data := ops.ByteData(t)
	for i := range data {
		v := byte(r.IntN(256))
		switch r.IntN(4) {
		case 0: // the least value
			v = 0
			if dtype == ops.Int8 {
				v = 0x80
			}
		case 1: // the greatest
			v = 0xff
			if dtype == ops.Int8 {
				v = 0x7f
			}
		}
		data[i] = v
	}
	return t
}

// TestBytePool compares the 8-bit MaxPool (pool_bytes.go) with the reference loop (pool.go) byte for byte,
// on uint8 and int8, with padding, strides, dilations, ceil_mode and auto_pad, on rows narrower and wider
// than the assembly's 32-byte blocks, windows that lie wholly in the padding, one and two threads.
func TestBytePool(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	attrs := []ops.AttrMap{
		{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1)}, // ResNet's
		{"kernel_shape": ints(2, 2), "strides": ints(2, 2)},
		{"kernel_shape": ints(3, 3), "strides": ints(3, 3)},
		{"kernel_shape": ints(2, 2), "strides": ints(2, 2), "ceil_mode": ops.IntAttr(1)},
		{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 0, 0, 1), "ceil_mode": ops.IntAttr(1)},
		{"kernel_shape": ints(5, 5), "pads": ints(2, 2, 2, 2)},
		{"kernel_shape": ints(3, 2), "strides": ints(1, 3), "pads": ints(2, 1, 0, 1)},
		{"kernel_shape": ints(2, 3), "strides": ints(2, 1), "dilations": ints(2, 2), "pads": ints(1, 1, 1, 1)},
		{"kernel_shape": ints(3, 3), "strides": ints(2, 3), "dilations": ints(3, 2), "pads": ints(2, 1, 2, 1), "ceil_mode": ops.IntAttr(1)},
		// Dilation 3 over two taps with pads of 2: on a 1-row map the first rows' windows read only padding.
		{"kernel_shape": ints(2, 2), "dilations": ints(3, 3), "pads": ints(2, 2, 2, 2)},
		{"kernel_shape": ints(1, 1)},
		{"kernel_shape": ints(7, 1), "pads": ints(3, 0, 3, 0)},
		{"auto_pad": ops.StringAttr("SAME_UPPER"), "kernel_shape": ints(3, 3), "strides": ints(2, 2)},
		{"auto_pad": ops.StringAttr("SAME_LOWER"), "kernel_shape": ints(4, 4), "strides": ints(1, 2)},
	}
	shapes := [][]int{{1, 1, 1, 1}, {1, 2, 1, 9}, {2, 3, 9, 11}, {1, 2, 33, 31}, {3, 2, 26, 70}, {64, 3, 8, 8}, {1, 2, 40, 113}}
	r := rand.New(rand.NewPCG(16, 12))
	compared := 0
	for _, dtype := range []ops.DType{ops.Uint8, ops.Int8} {
		for _, a := range attrs {
			for _, shape := range shapes {
				x := randBytes(r, dtype, shape...)
				p, err := opstest.Prepare(node("MaxPool", 12, a, x))
				if err != nil {
					continue // the window does not fit this map (kernel or pads too large)
				}
				b, ok := p.Kernel.(*bytePoolKernel)
				if !ok {
					t.Fatalf("%s %v %v: kernel %T, want the 8-bit path", dtype, a, shape, p.Kernel)
				}
				want := ops.New(dtype, p.Out[0].Shape())
				if err := b.ref.Run(ops.SerialContext(), p.In, []*ops.Tensor{want}); err != nil {
					t.Fatal(err)
				}
				for _, threads := range []int{1, 2} {
					ctx := ops.SerialContext()
					if threads > 1 {
						ctx.Pool = pool
					}
					got := ops.ByteData(p.Out[0])
					for i := range got {
						got[i] = 0x5a
					}
					if err := b.Run(ctx, p.In, p.Out); err != nil {
						t.Fatal(err)
					}
					if i := firstDifference(got, ops.ByteData(want)); i >= 0 {
						t.Errorf("%s/%v/%v/threads=%d: element %d is %#x, reference %#x",
							dtype, a, shape, threads, i, got[i], ops.ByteData(want)[i])
					}
					compared++
				}
			}
		}
	}
	if want := 2 * 2 * len(attrs) * len(shapes) * 2 / 3; compared < want {
		t.Errorf("compared %d runs, want at least %d: most windows should fit the maps", compared, want)
	}
}

// TestBytePoolTakesOnlyItsCases checks that the 8-bit kernel leaves Indices, other ranks and float inputs to
// the kernels that handle them.
func TestBytePoolTakesOnlyItsCases(t *testing.T) {
	u8 := ops.New(ops.Uint8, ops.Shape{1, 2, 6, 6})
	k := ops.AttrMap{"kernel_shape": ints(2, 2)}
	withIndices := node("MaxPool", 12, k, ops.New(ops.Int8, ops.Shape{1, 2, 6, 6}))
	withIndices.NumOutputs = 2
	cases := map[string]struct {
		n    opstest.Node
		want bool
	}{
		"uint8 2-D":         {node("MaxPool", 12, k, u8), true},
		"uint8 1-D":         {node("MaxPool", 12, ops.AttrMap{"kernel_shape": ints(2)}, ops.New(ops.Uint8, ops.Shape{1, 2, 6})), false},
		"int8 with Indices": {withIndices, false},
		"float32":           {node("MaxPool", 12, k, randF32(1, 1, 2, 6, 6)), false},
	}
	for name, c := range cases {
		kernel := opstest.MustPrepare(t, c.n).Kernel
		if _, got := kernel.(*bytePoolKernel); got != c.want {
			t.Errorf("%s: kernel %T, 8-bit path %v, want %v", name, kernel, got, c.want)
		}
	}
}

// TestMaxShiftedGo checks the Go routine the assembly is compared with against the loop of its doc comment,
// both orders, on lengths around the 32-byte block.
func TestMaxShiftedGo(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for _, n := range []int{1, 31, 32, 33, 70} {
		for _, step := range []int{1, 2, 40} {
			for _, count := range []int{1, 2, 3, 5} {
				src := make([]byte, n+(count-1)*step)
				for i := range src {
					src[i] = byte(r.IntN(256))
				}
				for _, signed := range []bool{false, true} {
					got := make([]byte, n)
					maxShiftedGo(got, src, step, count, signed)
					want := make([]byte, n)
					for i := range want {
						best := src[i]
						for tap := 1; tap < count; tap++ {
							v := src[i+tap*step]
							if (signed && int8(v) > int8(best)) || (!signed && v > best) {
								best = v
							}
						}
						want[i] = best
					}
					if !bytes.Equal(got, want) {
						t.Errorf("n=%d step=%d count=%d signed=%v: %v, want %v", n, step, count, signed, got, want)
					}
				}
			}
		}
	}
}

func firstDifference(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// BenchmarkMaxPool8bit times ResNet's 3x3 stride-2 MaxPool on a 64x112x112 uint8 map: the 8-bit kernel, the
// reference loop it replaces, and the float32 fast path on the same shape (the lower bound of widening a
// plane to float32 and back, which would add two conversions).
func BenchmarkMaxPool8bit(b *testing.B) {
	a := ops.AttrMap{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1)}
	u8 := randBytes(rand.New(rand.NewPCG(1, 1)), ops.Uint8, 1, 64, 112, 112)
	fast := opstest.MustPrepare(b, node("MaxPool", 12, a, u8))
	f32 := opstest.MustPrepare(b, node("MaxPool", 12, a, randF32(1, 1, 64, 112, 112)))
	for _, c := range []struct {
		name   string
		kernel ops.Kernel
		p      *opstest.Prepared
	}{
		{"uint8", fast.Kernel, fast},
		{"uint8 reference", fast.Kernel.(*bytePoolKernel).ref, fast},
		{"float32", f32.Kernel, f32},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if err := c.kernel.Run(c.p.Ctx, c.p.In, c.p.Out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
