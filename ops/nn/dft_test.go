package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func dftNode(attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
	return opstest.Node{OpType: "DFT", Opset: 20, Attrs: attrs, Inputs: in}
}

// An impulse has a flat spectrum, a constant a single line; the inverse undoes the forward transform, and
// the one-sided pair (rfft, irfft) round-trips a real signal.
func TestDFT(t *testing.T) {
	impulse := f32(ops.Shape{1, 4, 1}, 1, 0, 0, 0)
	got := mustRun(t, dftNode(nil, impulse))[0]
	if err := closeTo(got.Float32s(), []float64{1, 0, 1, 0, 1, 0, 1, 0}, 1e-7, 1e-7); err != nil {
		t.Errorf("impulse: %v", err)
	}
	constant := f32(ops.Shape{1, 4, 1}, 2, 2, 2, 2)
	got = mustRun(t, dftNode(nil, constant))[0]
	if err := closeTo(got.Float32s(), []float64{8, 0, 0, 0, 0, 0, 0, 0}, 1e-7, 1e-6); err != nil {
		t.Errorf("constant: %v", err)
	}
	x := randF32(3, 2, 5, 2)
	back := mustRun(t, dftNode(ops.AttrMap{"inverse": ops.IntAttr(1)}, mustRun(t, dftNode(nil, x))[0]))[0]
	if err := opstest.Close(back, x, 1e-5, 1e-6); err != nil {
		t.Errorf("inverse of forward: %v", err)
	}
	real := randF32(4, 3, 6, 1)
	half := mustRun(t, dftNode(ops.AttrMap{"onesided": ops.IntAttr(1)}, real))[0]
	if !half.Shape().Equal(ops.Shape{3, 4, 2}) {
		t.Fatalf("rfft of 6 samples: shape %v, want [3 4 2]", half.Shape())
	}
	again := mustRun(t, dftNode(ops.AttrMap{"onesided": ops.IntAttr(1), "inverse": ops.IntAttr(1)}, half))[0]
	if err := opstest.Close(again, real, 1e-5, 1e-6); err != nil {
		t.Errorf("irfft of rfft: %v", err)
	}
	// dft_length pads with zeros: the impulse padded to 8 is still flat. axis 1 of rank 3 is the signal.
	got = mustRun(t, dftNode(nil, impulse, ops.Scalar(int64(8)), ops.Scalar(int64(1))))[0]
	if !got.Shape().Equal(ops.Shape{1, 8, 2}) {
		t.Errorf("dft_length 8: shape %v", got.Shape())
	}
	if _, err := opstest.Run(dftNode(nil, impulse, nil, ops.Scalar(int64(2)))); err == nil || !strings.Contains(err.Error(), "axis 2 is not a signal axis") {
		t.Errorf("axis on the complex axis: got %v", err)
	}
}

// A signal of one frame: the STFT is the DFT of the windowed frame.
func TestSTFT(t *testing.T) {
	x := randF32(5, 1, 8, 1)
	w := f32(ops.Shape{8}, 0, 0.5, 1, 1, 1, 1, 0.5, 0)
	got := mustRun(t, opstest.Node{OpType: "STFT", Opset: 17, Inputs: []*ops.Tensor{x, ops.Scalar(int64(8)), w}})[0]
	windowed := make([]float32, 8)
	for i, v := range x.Float32s() {
		windowed[i] = v * w.Float32s()[i]
	}
	want := mustRun(t, dftNode(ops.AttrMap{"onesided": ops.IntAttr(1)}, f32(ops.Shape{1, 8, 1}, windowed...)))[0]
	if !got.Shape().Equal(ops.Shape{1, 1, 5, 2}) {
		t.Fatalf("shape %v, want [1 1 5 2]", got.Shape())
	}
	if err := closeTo(got.Float32s(), f64s(want.Float32s()), 1e-6, 1e-7); err != nil {
		t.Errorf("one frame: %v", err)
	}
	// frame_step 3 over 8 samples with frames of 4: 1 + (8-4)/3 = 2 frames.
	got = mustRun(t, opstest.Node{OpType: "STFT", Opset: 17, Inputs: []*ops.Tensor{x, ops.Scalar(int64(3)), nil, ops.Scalar(int64(4))}})[0]
	if !got.Shape().Equal(ops.Shape{1, 2, 3, 2}) {
		t.Errorf("two frames: shape %v, want [1 2 3 2]", got.Shape())
	}
	if math.IsNaN(float64(got.Float32s()[0])) {
		t.Error("NaN in the output")
	}
}
