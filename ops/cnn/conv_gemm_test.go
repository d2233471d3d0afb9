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
