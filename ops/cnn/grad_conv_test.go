package cnn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// gradIm2colReference is gradIm2col cell by cell from the tap table: the twin the run-based gather is
// checked against.
func gradIm2colReference(k *convGradKernel, cols, x []float32, g int) {
	eachTapRow(k, cols, g, func(tab []int32, col []float32, plane int) {
		for p, off := range tab {
			col[p] = 0
			if off >= 0 {
				col[p] = x[plane+int(off)]
			}
		}
	})
}

// gradCol2imReference is gradCol2im cell by cell from the tap table.
func gradCol2imReference(k *convGradKernel, dx, cols []float32, g int) {
	eachTapRow(k, cols, g, func(tab []int32, col []float32, plane int) {
		for p, off := range tab {
			if off >= 0 {
				dx[plane+int(off)] += col[p]
			}
		}
	})
}

// eachTapRow calls f, for group g and in gradIm2col's order, with the tap table row of every (channel,
// tap, image), the image's stretch of that row of cols, and the offset of the image's input plane.
func eachTapRow(k *convGradKernel, cols []float32, g int, f func(tab []int32, col []float32, plane int)) {
	s := &k.s
	rows := s.batch * s.outSize
	for c := 0; c < s.groupInC; c++ {
		for t := 0; t < s.taps; t++ {
			tab := k.taps[t*s.outSize : (t+1)*s.outSize]
			for n := 0; n < s.batch; n++ {
				f(tab, cols[(c*s.taps+t)*rows+n*s.outSize:][:s.outSize], (n*s.inC+g*s.groupInC+c)*s.inSize)
			}
		}
	}
}

// prepareConvGrad returns the float32 ConvGrad kernel for x and w of the given shapes, and its outputs.
func prepareConvGrad(t *testing.T, attrs ops.AttrMap, xShape, wShape ops.Shape) (*convGradKernel, []ops.ValueInfo) {
	t.Helper()
	build, _, _ := ops.Lookup(ops.TrainingDomain, "ConvGrad", 1)
	op, err := build(ops.NodeInfo{Domain: ops.TrainingDomain, OpType: "ConvGrad", Opset: 1, Attrs: attrs, NumInputs: 3, NumOutputs: 3})
	if err != nil {
		t.Fatal(err)
	}
	// dY's shape is the forward convolution's output.
	cs, err := op.(*convGradOp).conv.shape([]ops.ValueInfo{{DType: ops.Float32, Shape: xShape}, {DType: ops.Float32, Shape: wShape}})
	if err != nil {
		t.Fatal(err)
	}
	vi := []ops.ValueInfo{{DType: ops.Float32, Shape: cs.outShape}, {DType: ops.Float32, Shape: xShape}, {DType: ops.Float32, Shape: wShape}}
	outInfo, err := op.InferShapes(vi)
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.Prepare(vi, outInfo)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*convGradKernel), outInfo
}

// TestGradIm2colRunsMatchReference compares the run-based gather and scatter of ConvGrad with their
// cell-by-cell twins, on the residual CNN's shapes (3x3 same, stride 2, 1x1 stride-2 projections) and on
// odd ones (asymmetric pads, dilations, groups, a 1-D convolution), with NaN guard bands after the
// buffers to catch writes past their end.
func TestGradIm2colRunsMatchReference(t *testing.T) {
	cases := []struct {
		attrs ops.AttrMap
		x, w  ops.Shape
	}{
		{ops.AttrMap{"pads": ops.IntsAttr(1, 1, 1, 1)}, ops.Shape{2, 3, 28, 28}, ops.Shape{4, 3, 3, 3}},
		{ops.AttrMap{"pads": ops.IntsAttr(1, 1, 1, 1), "strides": ops.IntsAttr(2, 2)}, ops.Shape{3, 2, 14, 14}, ops.Shape{4, 2, 3, 3}},
		{ops.AttrMap{"strides": ops.IntsAttr(2, 2)}, ops.Shape{2, 3, 7, 7}, ops.Shape{5, 3, 1, 1}},
		{ops.AttrMap{"pads": ops.IntsAttr(0, 2, 1, 0), "dilations": ops.IntsAttr(2, 1), "group": ops.IntAttr(2)}, ops.Shape{1, 4, 9, 6}, ops.Shape{6, 2, 3, 2}},
		{ops.AttrMap{"pads": ops.IntsAttr(3, 1), "strides": ops.IntsAttr(3)}, ops.Shape{2, 1, 17}, ops.Shape{2, 1, 4}},
		{nil, ops.Shape{1, 1, 5, 5}, ops.Shape{1, 1, 5, 5}},
	}
	rng := rand.New(rand.NewSource(3))
	const guard = 7
	for _, c := range cases {
		t.Run(fmt.Sprintf("x%v_w%v", c.x, c.w), func(t *testing.T) {
			k, _ := prepareConvGrad(t, c.attrs, c.x, c.w)
			x := make([]float32, c.x.Size())
			for i := range x {
				x[i] = rng.Float32()*2 - 1
			}
			for g := 0; g < k.s.group; g++ {
				got := guarded(k.colLen()+guard, k.colLen())
				want := guarded(len(got), k.colLen())
				gradIm2col(k, got, x, g)
				gradIm2colReference(k, want, x, g)
				compareExact(t, "im2col", got, want)

				dxGot, dxWant := guarded(len(x)+guard, len(x)), guarded(len(x)+guard, len(x))
				for i := range x {
					dxGot[i], dxWant[i] = x[i], x[i]
				}
				gradCol2im(k, dxGot, got[:k.colLen()], g)
				gradCol2imReference(k, dxWant, want[:k.colLen()], g)
				compareExact(t, "col2im", dxGot, dxWant)
			}
		})
	}
}

// guarded returns n floats: NaN from used on, and garbage (not zero) before it, so that a cell the
// kernel should write and does not shows.
func guarded(n, used int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1e30
		if i >= used {
			s[i] = float32(math.NaN())
		}
	}
	return s
}

// compareExact fails unless got and want hold the same bits, or are both NaN (the guard band).
func compareExact(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("%s: element %d = %v, the reference gives %v", what, i, got[i], want[i])
		}
	}
}

// TestReluGradFloat32MatchesReference compares the branch-free float32 ReluGrad with activationGrad's
// plain loop, bit for bit, on y values that include ±0, ±Inf, NaNs of both signs, subnormals and the
// extremes, and dy values that include NaN and -0.
func TestReluGradFloat32MatchesReference(t *testing.T) {
	nan := float32(math.NaN())
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), nan,
		-nan, math.Float32frombits(0xffc00001), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.MaxFloat32, -math.MaxFloat32, 1, -1, 1e-30, -1e-30}
	rng := rand.New(rand.NewSource(9))
	for _, n := range []int{0, 1, 7, 33, 1000} {
		dy, y := make([]float32, n), make([]float32, n)
		for i := range y {
			y[i] = rng.Float32()*2 - 1
			dy[i] = rng.Float32()*2 - 1
			if rng.Intn(3) == 0 {
				y[i] = special[rng.Intn(len(special))]
			}
			if rng.Intn(5) == 0 {
				dy[i] = special[rng.Intn(len(special))]
			}
		}
		got, want := guarded(n+3, n), guarded(n+3, n)
		reluGradFloat32(dy, y, got)
		activationGrad(activationRelu, dy, y, want[:n])
		compareExact(t, fmt.Sprintf("ReluGrad of %d", n), got, want)
	}
	for _, y := range special {
		got, want := []float32{-7}, []float32{-7}
		reluGradFloat32([]float32{3}, []float32{y}, got)
		activationGrad(activationRelu, []float32{3}, []float32{y}, want)
		if math.Float32bits(got[0]) != math.Float32bits(want[0]) {
			t.Errorf("ReluGrad at y = %v (bits %#x): %v, the reference gives %v", y, math.Float32bits(y), got[0], want[0])
		}
	}
}
