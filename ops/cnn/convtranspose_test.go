package cnn

import (
	"fmt"
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/isa"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func convTNode(attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
	return opstest.Node{OpType: "ConvTranspose", Opset: 22, Attrs: attrs, Inputs: in}
}

// naiveConvTranspose is an independent reference: every input cell adds x*w into output cell
// i*stride + k*dilation - padBegin, over an output of the given spatial shape.
func naiveConvTranspose(x, w, b []float64, xs, ws []int, group int, strides, padBegin, dil, out []int) []float64 {
	rank := len(xs) - 2
	size := func(s []int) int {
		n := 1
		for _, d := range s {
			n *= d
		}
		return n
	}
	cg, mg := xs[1]/group, ws[1]
	m := mg * group
	y := make([]float64, xs[0]*m*size(out))
	for n := 0; n < xs[0]; n++ {
		for oc := 0; oc < m; oc++ {
			for o := 0; o < size(out); o++ {
				if b != nil {
					y[(n*m+oc)*size(out)+o] = b[oc]
				}
			}
		}
	}
	ic := make([]int, rank)
	kc := make([]int, rank)
	for n := 0; n < xs[0]; n++ {
		for c := 0; c < xs[1]; c++ {
			g := c / cg
			for i := range ic {
				ic[i] = 0
			}
			for p := 0; p < size(xs[2:]); p++ {
				xv := x[(n*xs[1]+c)*size(xs[2:])+p]
				for mm := 0; mm < mg; mm++ {
					for i := range kc {
						kc[i] = 0
					}
					for k := 0; k < size(ws[2:]); k++ {
						oi, inside := 0, true
						for a := 0; a < rank; a++ {
							pos := ic[a]*strides[a] + kc[a]*dil[a] - padBegin[a]
							if pos < 0 || pos >= out[a] {
								inside = false
							}
							oi = oi*out[a] + pos
						}
						if inside {
							y[(n*m+g*mg+mm)*size(out)+oi] += xv * w[(c*mg+mm)*size(ws[2:])+k]
						}
						kernelutil.NextIndex(kc, ws[2:])
					}
				}
				kernelutil.NextIndex(ic, xs[2:])
			}
		}
	}
	return y
}

func TestConvTransposeAgainstNaive(t *testing.T) {
	type geo struct {
		xs, ws                     []int
		group                      int
		strides, pads, dil, outPad []int
		bias                       bool
	}
	geos := []geo{
		{[]int{1, 1, 3, 3}, []int{1, 2, 3, 3}, 1, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, []int{0, 0}, false},
		{[]int{2, 2, 3, 4}, []int{2, 3, 3, 2}, 1, []int{2, 3}, []int{1, 0, 0, 2}, []int{1, 1}, []int{1, 2}, true},
		{[]int{1, 4, 3, 3}, []int{4, 1, 2, 2}, 2, []int{2, 2}, []int{0, 0, 0, 0}, []int{2, 1}, []int{1, 0}, true},
		{[]int{1, 4, 5}, []int{4, 1, 3}, 4, []int{3}, []int{2, 1}, []int{1}, []int{2}, true}, // depthwise 1-D
		{[]int{1, 2, 2, 3, 2}, []int{2, 2, 2, 2, 3}, 1, []int{1, 2, 2}, []int{0, 1, 0, 0, 0, 1}, []int{1, 1, 1}, []int{0, 1, 0}, true},
		// Stride equal to the kernel, no pads: the tile scatter (convtranspose_tile.go).
		{[]int{2, 3, 5, 7}, []int{3, 5, 2, 2}, 1, []int{2, 2}, []int{0, 0, 0, 0}, []int{1, 1}, []int{0, 0}, true},
		{[]int{1, 4, 3, 5}, []int{4, 3, 3, 2}, 2, []int{3, 2}, []int{0, 0, 0, 0}, []int{1, 1}, []int{0, 0}, false},
		{[]int{1, 2, 4, 3}, []int{2, 3, 1, 1}, 1, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, []int{0, 0}, true},
	}
	for i, g := range geos {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			rank := len(g.xs) - 2
			out := make([]int, rank)
			for a := 0; a < rank; a++ {
				out[a] = g.strides[a]*(g.xs[2+a]-1) + g.outPad[a] + (g.ws[2+a]-1)*g.dil[a] + 1 - g.pads[a] - g.pads[a+rank]
			}
			x := randF32(int64(10*i+1), g.xs...)
			w := randF32(int64(10*i+2), g.ws...)
			var b *ops.Tensor
			var bv []float64
			if g.bias {
				b = randF32(int64(10*i+3), g.ws[1]*g.group)
				bv = b.AsFloat64s()
			}
			want := naiveConvTranspose(x.AsFloat64s(), w.AsFloat64s(), bv, g.xs, g.ws, g.group, g.strides, g.pads[:rank], g.dil, out)
			wantT := f64(append(ops.Shape{g.xs[0], g.ws[1] * g.group}, out...), want...)
			toI64 := func(v []int) []int64 {
				r := make([]int64, len(v))
				for i, x := range v {
					r[i] = int64(x)
				}
				return r
			}
			attrs := ops.AttrMap{"group": ops.IntAttr(int64(g.group)), "strides": ints(toI64(g.strides)...),
				"pads": ints(toI64(g.pads)...), "dilations": ints(toI64(g.dil)...), "output_padding": ints(toI64(g.outPad)...)}
			in, in64, in16 := []*ops.Tensor{x, w}, []*ops.Tensor{toF64(x), toF64(w)}, []*ops.Tensor{toHalf(x), toHalf(w)}
			if b != nil {
				in, in64, in16 = append(in, b), append(in64, toF64(b)), append(in16, toHalf(b))
			}
			got32 := mustRun(t, convTNode(attrs, in...))[0]
			if err := opstest.Close(toF64(got32), wantT, 1e-5, 1e-5); err != nil {
				t.Errorf("float32: %v", err)
			}
			n := convTNode(attrs, in...)
			n.NonConstInputs = []int{1}
			if err := opstest.Close(toF64(mustRun(t, n)[0]), wantT, 1e-5, 1e-5); err != nil {
				t.Errorf("float32, W not constant: %v", err)
			}
			got64 := mustRun(t, convTNode(attrs, in64...))[0]
			if err := opstest.Close(got64, wantT, 1e-12, 1e-12); err != nil {
				t.Errorf("float64: %v", err)
			}
			got16 := mustRun(t, convTNode(attrs, in16...))[0]
			if err := opstest.Close(toF64(toF32(got16)), wantT, 2e-2, 2e-2); err != nil {
				t.Errorf("float16: %v", err)
			}
		})
	}
}

func TestConvTransposeShapes(t *testing.T) {
	x := f32(ops.Shape{1, 1, 3}, 1, 2, 3)
	w := f32(ops.Shape{1, 1, 2}, 1, 10)
	runCases(t, []opCase{
		// Full result: [1, 12, 23, 30]; stride 1 → 3 + 2 - 1 = 4 cells.
		{name: "default", node: convTNode(nil, x, w), want: []*ops.Tensor{f32(ops.Shape{1, 1, 4}, 1, 12, 23, 30)}},
		{name: "pads crop", node: convTNode(ops.AttrMap{"pads": ints(1, 0)}, x, w), want: []*ops.Tensor{f32(ops.Shape{1, 1, 3}, 12, 23, 30)}},
		// Stride 2: [1, 10, 2, 20, 3, 30] (5 + 1 cells with output_padding 1, the last one only the bias).
		{name: "stride", node: convTNode(ops.AttrMap{"strides": ints(2)}, x, w), want: []*ops.Tensor{f32(ops.Shape{1, 1, 6}, 1, 10, 2, 20, 3, 30)}},
		{name: "output_padding", node: convTNode(ops.AttrMap{"strides": ints(2), "output_padding": ints(1)}, x, w, f32(ops.Shape{1}, 100)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 7}, 101, 110, 102, 120, 103, 130, 100)}},
		// SAME_UPPER asks for 3*2 = 6 cells from the full 6: no padding. With kernel 3 (full 7) the extra cell
		// is cropped at the end (UPPER) or the beginning (LOWER).
		{name: "same_upper", node: convTNode(ops.AttrMap{"strides": ints(2), "auto_pad": ops.StringAttr("SAME_UPPER")}, x, f32(ops.Shape{1, 1, 3}, 1, 10, 100)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 6}, 1, 10, 102, 20, 203, 30)}},
		{name: "same_lower", node: convTNode(ops.AttrMap{"strides": ints(2), "auto_pad": ops.StringAttr("SAME_LOWER")}, x, f32(ops.Shape{1, 1, 3}, 1, 10, 100)),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 6}, 10, 102, 20, 203, 30, 300)}},
		// output_shape 7 from a full 6: the total padding -1 splits (with floor division, as the spec's Python
		// does) into begin 0 and end -1, extending the end by a cell only the bias reaches.
		{name: "output_shape larger", node: convTNode(ops.AttrMap{"strides": ints(2), "output_shape": ints(7)}, x, w),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 7}, 1, 10, 2, 20, 3, 30, 0)}},
		{name: "output_shape smaller", node: convTNode(ops.AttrMap{"strides": ints(2), "output_shape": ints(4)}, x, w),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 4}, 10, 2, 20, 3)}},
		{name: "output_shape with N and C", node: convTNode(ops.AttrMap{"strides": ints(2), "output_shape": ints(1, 1, 4)}, x, w),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 4}, 10, 2, 20, 3)}},
		{name: "output_padding too large", node: convTNode(ops.AttrMap{"strides": ints(2), "output_padding": ints(2)}, x, w),
			wantErr: "output_padding 2 (axis 0) must be smaller than the stride 2 or the dilation 1"},
		{name: "channels", node: convTNode(nil, x, randF32(1, 2, 1, 2)), wantErr: "X has 1 channels, W [2,1,2] has 2"},
		{name: "group", node: convTNode(ops.AttrMap{"group": ops.IntAttr(2)}, randF32(1, 1, 3, 3), randF32(1, 3, 1, 2)), wantErr: "group 2 does not divide the 3 input channels"},
		{name: "bias", node: convTNode(nil, x, w, f32(ops.Shape{2}, 1, 2)), wantErr: "B has shape [2], want [1]"},
		{name: "cropped away", node: convTNode(ops.AttrMap{"pads": ints(2, 2)}, x, w), wantErr: "gives an empty output"},
		{name: "output_shape rank", node: convTNode(ops.AttrMap{"output_shape": ints(4, 4)}, x, w), wantErr: "output_shape [4 4] has 2 values for 1 spatial axes"},
	})
}

// TestConvTransposeTiles checks that the non-overlapping transposed convolutions take the tile scatter, and
// that it gives the general path's bits (bias + tap either way) on one thread and split over two.
func TestConvTransposeTiles(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	for _, c := range []struct {
		xs, ws []int
		attrs  ops.AttrMap
		outC   int
		tiles  bool
	}{
		{[]int{1, 8, 33, 31}, []int{8, 16, 2, 2}, ops.AttrMap{"strides": ints(2, 2)}, 16, true},
		{[]int{2, 6, 9, 5}, []int{6, 2, 3, 2}, ops.AttrMap{"strides": ints(3, 2), "group": ops.IntAttr(3)}, 6, true},
		// Bands of 3, 3, 3 and 1 input rows (tileBandRows: 64*4*81*4 bytes of col a row).
		{[]int{2, 3, 10, 81}, []int{3, 64, 2, 2}, ops.AttrMap{"strides": ints(2, 2)}, 64, true},
		{[]int{1, 8, 33, 31}, []int{8, 16, 2, 2}, ops.AttrMap{"strides": ints(2, 2), "pads": ints(0, 1, 0, 0)}, 16, false},
		{[]int{1, 8, 33, 31}, []int{8, 16, 2, 2}, ops.AttrMap{"strides": ints(2, 2), "output_padding": ints(1, 0)}, 16, false},
		{[]int{1, 8, 9, 8}, []int{8, 4, 3, 3}, ops.AttrMap{"strides": ints(2, 2)}, 4, false},
	} {
		name := fmt.Sprint(c.xs, c.ws, c.attrs)
		p := prepare(t, convTNode(c.attrs, randF32(1, c.xs...), randF32(2, c.ws...), randF32(3, c.outC)))
		k := p.kernel.(*convTransposeKernel)
		if k.tiles != c.tiles {
			t.Fatalf("%s: tiles %v, want %v", name, k.tiles, c.tiles)
		}
		general := generalConvTranspose(k)
		want := ops.New(ops.Float32, p.out[0].Shape())
		if err := general.Run(p.ctx, p.in, []*ops.Tensor{want}); err != nil {
			t.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			if threads > 1 {
				p.ctx.Pool = pool
			}
			got := p.out[0].Float32s()
			for i := range got {
				got[i] = 12345
			}
			if err := k.Run(p.ctx, p.in, p.out); err != nil {
				t.Fatal(err)
			}
			for i, w := range want.Float32s() {
				if math.Float32bits(got[i]) != math.Float32bits(w) {
					t.Errorf("%s, %d threads: element %d is %g, general path %g", name, threads, i, got[i], w)
					break
				}
			}
		}
	}
}

// BenchmarkConvTransposeUNet times U-Net's last upsampling (2x2 stride 2, 32 → 16 channels, 128² → 256²),
// the tile scatter next to the general col2im path.
func BenchmarkConvTransposeUNet(b *testing.B) {
	p := prepare(b, convTNode(ops.AttrMap{"strides": ints(2, 2)}, randF32(1, 1, 32, 128, 128), randF32(2, 32, 16, 2, 2), randF32(3, 16)))
	k := p.kernel.(*convTransposeKernel)
	general := generalConvTranspose(k)
	for _, c := range []struct {
		name string
		k    ops.Kernel
	}{{"tiles", k}, {"general", general}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := c.k.Run(p.ctx, p.in, p.out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(2*k.FLOPs())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// generalConvTranspose is k on the general path (bias fill, then col2im through the gather table).
func generalConvTranspose(k *convTransposeKernel) *convTransposeKernel {
	return &convTransposeKernel{s: k.s, g: k.g, dtype: k.dtype, hasBias: k.hasBias, colSize: k.colSize, packed: k.packed}
}

// TestTileInterleaveMatchesGo compares each variant of the two-tap row store with its Go twin on lengths
// around the blocks of eight.
func TestTileInterleaveMatchesGo(t *testing.T) {
	saved := tileInterleaveAsm
	defer func() { tileInterleaveAsm = saved }()
	c := randF32(4, 2, 45).Float32s()
	for _, v := range isa.Runnable(tileInterleaveVariants...) {
		tileInterleaveAsm = v.Fn
		for _, n := range []int{1, 7, 8, 9, 16, 23, 45} {
			got, want := make([]float32, 2*n+1), make([]float32, 2*n+1)
			got[2*n], want[2*n] = 7, 7 // past the row: left alone
			tileInterleave2(got, c[:n], c[45:45+n], 0.375)
			tileInterleave2Go(want, c[:n], c[45:45+n], 0.375)
			sameBits(t, fmt.Sprintf("%s n=%d", v.Name, n), got, want)
		}
	}
}
