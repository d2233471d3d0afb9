package cnn

import (
	"fmt"
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// TestIm2colBlocks: im2col cut into blocks of output rows (the last one short), over strided inputs read
// through the phased layout, gives the reference loop's result with a bias, a residual and a clamp.
func TestIm2colBlocks(t *testing.T) {
	epi := convEpilogue{act: gemm.ActReLU, hi: float32(math.Inf(1)), sum: true}
	for ci, c := range []convCase{
		{"7x7 stride 2 c3", []int{1, 3, 23, 21}, []int{10, 3, 7, 7}, ops.AttrMap{"pads": ints(3, 3, 3, 3), "strides": ints(2, 2)}},
		{"6x6 stride 2 c3", []int{2, 3, 20, 19}, []int{7, 3, 6, 6}, ops.AttrMap{"pads": ints(2, 2, 2, 2), "strides": ints(2, 2)}},
		{"3x3 stride 3x1 dilated", []int{1, 4, 17, 13}, []int{5, 4, 3, 3}, ops.AttrMap{"pads": ints(1, 2, 0, 1), "strides": ints(1, 3), "dilations": ints(2, 1)}},
		{"3x3 stride 1", []int{1, 5, 9, 11}, []int{6, 5, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}},
	} {
		x, w, b := randF32(int64(ci+1), c.x...), randF32(int64(ci+11), c.w...), randF32(int64(ci+21), c.w[0])
		s := testConvShape(t, c.x, c.w, c.attr)
		z := randF32(int64(ci+31), s.outShape...)
		want := referenceConv(&s, x, w, b, z, epi)
		for _, rows := range []int{1, 2, 3, s.win.out[0]} {
			name := fmt.Sprintf("%s/%d rows a block", c.name, rows)
			k := prepareFastConv(s, w, nil, epi)
			st := newConvIm2col(&k.s, convWeights{t: w})
			st.blockRows = rows
			k.strategy = st
			ctx := ops.SerialContext()
			ctx.Scratch = make([]float32, k.ScratchSize())
			y := ops.New(ops.Float32, s.outShape)
			fillNaN(y)
			if err := k.Run(ctx, []*ops.Tensor{x, w, b, z}, []*ops.Tensor{y}); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := closeTo(y.Float32s(), want, 2e-4, 2e-4); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// TestIm2colBlockRows: a large map is cut into blocks of about im2colBlockFloats columns' worth, a small
// one is not cut.
func TestIm2colBlockRows(t *testing.T) {
	for _, c := range []struct {
		x, w []int
		attr ops.AttrMap
		want int
	}{
		{[]int{1, 3, 224, 224}, []int{64, 3, 7, 7}, ops.AttrMap{"pads": ints(3, 3, 3, 3), "strides": ints(2, 2)}, 7}, // 147 x 784 columns
		{[]int{1, 256, 14, 14}, []int{256, 256, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2)}, 7},
		{[]int{1, 4, 9, 9}, []int{4, 4, 3, 3}, nil, 7},
	} {
		s := testConvShape(t, c.x, c.w, c.attr)
		if got := newConvIm2col(&s, convWeights{}).blockRows; got != c.want {
			t.Errorf("X %v W %v: %d output rows a block, want %d", c.x, c.w, got, c.want)
		}
	}
}

// testConvShape resolves a Conv node's geometry for X and W shapes (and a bias of W's output channels).
func testConvShape(t *testing.T, x, w []int, attr ops.AttrMap) convShape {
	return testConvShapeB(t, x, w, attr)
}

// testConvShapeB is testConvShape for tests and benchmarks.
func testConvShapeB(t testing.TB, x, w []int, attr ops.AttrMap) convShape {
	t.Helper()
	op, err := buildConv(ops.NodeInfo{OpType: "Conv", Opset: 22, Attrs: attr, NumInputs: 3, NumOutputs: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := op.(*convOp).shape([]ops.ValueInfo{{DType: ops.Float32, Shape: x}, {DType: ops.Float32, Shape: w}, {DType: ops.Float32, Shape: ops.Shape{w[0]}}})
	if err != nil {
		t.Fatalf("X %v W %v %v: %v", x, w, attr, err)
	}
	return s
}

// TestIm2colSplitMatchesSerial: the phased rows and the column block written across a 2-thread pool are
// the ones one thread writes, for a strided stem and a stride-1 window (sizes above im2colSplitMinFloats,
// so the pool is used, and output row counts that do not divide by the threads).
func TestIm2colSplitMatchesSerial(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	for _, c := range []convCase{
		{"7x7 stride 2 c3", []int{1, 3, 225, 223}, []int{8, 3, 7, 7}, ops.AttrMap{"pads": ints(3, 3, 3, 3), "strides": ints(2, 2)}},
		{"3x3 stride 1 c32", []int{1, 32, 45, 43}, []int{8, 32, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}},
	} {
		s := testConvShape(t, c.x, c.w, c.attr)
		x := make([]float32, s.groupInC*s.inSize)
		for i := range x {
			x[i] = float32(i%97) - 40
		}
		rows := s.groupInC * s.win.in[0]
		phasedN := phasedLen(&s.win, s.groupInC)
		oy0, oy1 := 1, s.win.out[0]-2
		cols := (oy1 - oy0) * s.win.out[1]
		ld := colStride(cols)
		colN := s.groupInC * s.taps * ld
		write := func(pool *parallel.Pool) (phased, col []float32) {
			r := &convRun{}
			phased, col, src := make([]float32, phasedN), make([]float32, colN), x
			if phasedN > 0 {
				im2colSplit{w: &s.win, channels: s.groupInC, phase: true, phased: phased, x: x}.run(r, phasedN, rows, pool)
				src = phased
			}
			split := im2colSplit{w: &s.win, channels: s.groupInC, col: col, x: src, ld: ld, oy0: oy0}
			if pool != nil && s.groupInC*s.taps*cols < im2colSplitMinFloats {
				t.Fatalf("%s: %d column floats, below the split threshold: the test would not split", c.name, s.groupInC*s.taps*cols)
			}
			split.run(r, s.groupInC*s.taps*cols, oy1-oy0, pool)
			return phased, col
		}
		wantPhased, wantCol := write(nil)
		gotPhased, gotCol := write(pool)
		for i := range wantPhased {
			if gotPhased[i] != wantPhased[i] {
				t.Fatalf("%s: phased[%d] = %v split, %v serial", c.name, i, gotPhased[i], wantPhased[i])
			}
		}
		for i := range wantCol {
			if gotCol[i] != wantCol[i] {
				t.Fatalf("%s: col[%d] = %v split, %v serial", c.name, i, gotCol[i], wantCol[i])
			}
		}
	}
}

// TestIm2colSameSizeMatchesCellLoop checks im2colRowRange on the windows whose rows it copies as whole planes
// (im2colTapPlane: strides 1, output as wide as the input) against the cell-by-cell definition, for bytes
// with a zero point as padding and for floats, over ranges of output rows that start and end inside the
// padding and inside the map, with asymmetric pads, dilations and taps that read only padding.
func TestIm2colSameSizeMatchesCellLoop(t *testing.T) {
	for _, c := range []struct {
		x, w []int
		attr ops.AttrMap
	}{
		{[]int{1, 3, 7, 7}, []int{2, 3, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}},
		{[]int{1, 2, 14, 5}, []int{2, 2, 5, 5}, ops.AttrMap{"pads": ints(2, 2, 2, 2)}},
		{[]int{1, 2, 6, 9}, []int{2, 2, 3, 3}, ops.AttrMap{"pads": ints(2, 2, 0, 0)}},
		{[]int{1, 2, 8, 8}, []int{2, 2, 3, 3}, ops.AttrMap{"pads": ints(2, 2, 2, 2), "dilations": ints(2, 2)}},
		// Dilation 5 over a 4-wide map: the outer columns of taps read only padding.
		{[]int{1, 1, 4, 4}, []int{1, 1, 3, 3}, ops.AttrMap{"pads": ints(5, 5, 5, 5), "dilations": ints(5, 5)}},
		{[]int{1, 2, 5, 3}, []int{2, 2, 2, 1}, ops.AttrMap{"pads": ints(1, 0, 0, 0)}},
	} {
		s := testConvShape(t, c.x, c.w, c.attr)
		w := &s.win
		if w.out[1] != w.in[1] || w.stride[0] != 1 || w.stride[1] != 1 {
			t.Fatalf("X %v W %v %v: output %v, want a same-size stride-1 window", c.x, c.w, c.attr, w.out)
		}
		channels, ih, iw, ow := s.groupInC, w.in[0], w.in[1], w.out[1]
		xb := make([]byte, channels*ih*iw)
		xf := make([]float32, len(xb))
		for i := range xb {
			xb[i] = byte(i*37 + 1)
			xf[i] = float32(xb[i])
		}
		const pad = 0x77
		for _, rows := range [][2]int{{0, w.out[0]}, {1, w.out[0] - 1}, {w.out[0] - 1, w.out[0]}, {0, 1}} {
			oy0, oy1 := rows[0], rows[1]
			cols := (oy1 - oy0) * ow
			ld := cols + 3 // a gap after each row, which must stay as it was
			gotB := make([]byte, channels*s.taps*ld)
			gotF := make([]float32, len(gotB))
			for i := range gotB {
				gotB[i], gotF[i] = 0xee, -1
			}
			im2colRowRange(gotB, xb, w, channels, ld, oy0, oy1, byte(pad))
			im2colRowRange(gotF, xf, w, channels, ld, oy0, oy1, pad)
			row := 0
			for ch := 0; ch < channels; ch++ {
				for i := 0; i < w.kernel[0]; i++ {
					for j := 0; j < w.kernel[1]; j++ {
						for p := 0; p < ld; p++ {
							want := byte(0xee)
							if p < cols {
								oy, ox := oy0+p/ow, p%ow
								iy, ix := oy+i*w.dilation[0]-w.padBegin[0], ox+j*w.dilation[1]-w.padBegin[1]
								want = pad
								if iy >= 0 && iy < ih && ix >= 0 && ix < iw {
									want = xb[ch*ih*iw+iy*iw+ix]
								}
							}
							if got := gotB[row*ld+p]; got != want {
								t.Fatalf("X %v W %v %v rows [%d,%d): bytes: channel %d tap (%d,%d) cell %d is %#x, want %#x",
									c.x, c.w, c.attr, oy0, oy1, ch, i, j, p, got, want)
							}
							if p < cols && gotF[row*ld+p] != float32(gotB[row*ld+p]) {
								t.Fatalf("X %v W %v %v rows [%d,%d): floats: channel %d tap (%d,%d) cell %d is %v, want %v",
									c.x, c.w, c.attr, oy0, oy1, ch, i, j, p, gotF[row*ld+p], gotB[row*ld+p])
							}
						}
						row++
					}
				}
			}
		}
	}
}

// BenchmarkIm2colBytes times the 8-bit im2col of ResNet-50's 3x3 stride-1 layers (batch 1, all output rows).
func BenchmarkIm2colBytes(b *testing.B) {
	for _, l := range []struct{ c, hw int }{{64, 56}, {128, 28}, {256, 14}, {512, 7}} {
		b.Run(fmt.Sprintf("c%d_%dx%d", l.c, l.hw, l.hw), func(b *testing.B) {
			s := testConvShapeB(b, []int{1, l.c, l.hw, l.hw}, []int{l.c, l.c, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)})
			x := make([]byte, l.c*l.hw*l.hw)
			cols := l.hw * l.hw
			col := make([]byte, l.c*9*cols)
			b.SetBytes(int64(len(col)))
			for range b.N {
				im2colRowRange(col, x, &s.win, l.c, cols, 0, l.hw, 128)
			}
		})
	}
}

// TestPhaseBytesMatchesPhaseRows: the 8-bit stride-2 split writes what the cell loop writes, on even and odd
// widths around its 8-cell steps, and leaves the cells the loop leaves (an odd row's last odd-phase cell).
func TestPhaseBytesMatchesPhaseRows(t *testing.T) {
	for width := 1; width <= 40; width++ {
		for _, stride := range []int{1, 2, 3} {
			const rows = 3
			x := make([]byte, rows*width)
			for i := range x {
				x[i] = byte(i*29 + 3)
			}
			n := rows * stride * ceilDiv(width, stride)
			got, want := make([]byte, n), make([]byte, n)
			for i := range got {
				got[i], want[i] = 0xee, 0xee
			}
			phaseBytes(got, x, rows, width, stride)
			phaseRows(want, x, rows, width, stride)
			if i := firstDifference(got, want); i >= 0 {
				t.Errorf("width %d stride %d: cell %d is %#x, cell loop %#x", width, stride, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkPhaseBytes times the stride-2 split of ResNet-50's strided 3x3 and 1x1 inputs: the 8-bit version
// and the cell loop.
func BenchmarkPhaseBytes(b *testing.B) {
	for _, l := range []struct{ c, hw int }{{128, 56}, {512, 28}, {1024, 14}} {
		x := make([]byte, l.c*l.hw*l.hw)
		dst := make([]byte, len(x))
		for _, v := range []struct {
			name  string
			phase func(dst, x []byte, rows, width, stride int)
		}{{"bytes", phaseBytes}, {"cell loop", phaseRows[byte]}} {
			b.Run(fmt.Sprintf("c%d_%dx%d/%s", l.c, l.hw, l.hw, v.name), func(b *testing.B) {
				b.SetBytes(int64(len(x)))
				for range b.N {
					v.phase(dst, x, l.c*l.hw, l.hw, 2)
				}
			})
		}
	}
}
