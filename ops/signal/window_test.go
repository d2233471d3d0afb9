package signal

import (
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func TestWindows(t *testing.T) {
	sym := ops.AttrMap{"periodic": ops.IntAttr(0)}
	size := func(n int64) []*ops.Tensor { return []*ops.Tensor{ops.Scalar(n)} }
	want := func(v ...float32) []*ops.Tensor { return []*ops.Tensor{opstest.F32(ops.Shape{len(v)}, v...)} }
	opstest.RunCases(t, []opstest.Case{
		// numpy.hanning(5) is the symmetric window; the periodic one of 4 is the first 4 of hanning(5).
		{Name: "hann periodic", Op: "HannWindow", Opset: 17, Inputs: size(4), Want: want(0, 0.5, 1, 0.5)},
		{Name: "hann symmetric", Op: "HannWindow", Opset: 17, Attrs: sym, Inputs: []*ops.Tensor{ops.Scalar(int32(5))}, Want: want(0, 0.5, 1, 0.5, 0)},
		// Hamming with ONNX's 25/46: 25/46 - 21/46·cos(2πn/2) for n = 0, 1, 2.
		{Name: "hamming symmetric", Op: "HammingWindow", Opset: 17, Attrs: sym, Inputs: size(3), Want: want(4.0/46, 1, 4.0/46)},
		{Name: "one symmetric value", Op: "HannWindow", Opset: 17, Attrs: sym, Inputs: size(1), Want: want(1)},
		{Name: "empty", Op: "HannWindow", Opset: 17, Inputs: size(0), Want: want()},
		{Name: "uint8 truncates", Op: "HannWindow", Opset: 17, Attrs: ops.AttrMap{"output_datatype": ops.IntAttr(int64(ops.Uint8))}, Inputs: size(4),
			Want: []*ops.Tensor{ops.FromSlice(ops.Shape{4}, []uint8{0, 0, 1, 0})}},
		{Name: "negative size", Op: "HammingWindow", Opset: 17, Inputs: size(-2), ErrSub: "size is -2"},
		{Name: "bool output", Op: "HammingWindow", Opset: 17, Attrs: ops.AttrMap{"output_datatype": ops.IntAttr(int64(ops.Bool))}, Inputs: size(2), ErrSub: `"output_datatype" is 9 (bool)`},
		{Name: "size not scalar", Op: "HannWindow", Opset: 17, Inputs: []*ops.Tensor{opstest.I64(ops.Shape{2}, 2, 3)}, ErrSub: "want one int32 or int64"},
		{Name: "not const", Op: "BlackmanWindow", Opset: 17, Inputs: size(3), NonConst: []int{0}, ErrSub: "value of its size input", ErrIs: ops.ErrDynamicShape},
	})
	// Blackman: 0.42 - 0.5 + 0.08 = 0 at the ends, 0.42 + 0.5 + 0.08 = 1 in the middle (numpy.blackman(3),
	// to float64 rounding).
	got, err := opstest.Run(opstest.NewNode("BlackmanWindow", 17, ops.AttrMap{"periodic": ops.IntAttr(0), "output_datatype": ops.IntAttr(int64(ops.Float64))}, ops.Scalar(int64(3))))
	if err != nil {
		t.Fatal(err)
	}
	if err := opstest.Close(got[0], ops.FromSlice(ops.Shape{3}, []float64{0, 1, 0}), 0, 1e-12); err != nil {
		t.Errorf("blackman: %v", err)
	}
}

// The operator documentation's example (8 bins, a 16-point DFT at 8192 Hz over [0, 4096] Hz): every filter
// peaks at 1, and the shape is [16/2+1, 8].
func TestMelWeightMatrix(t *testing.T) {
	got, err := opstest.Run(opstest.NewNode("MelWeightMatrix", 17, nil, ops.Scalar(int32(8)), ops.Scalar(int32(16)), ops.Scalar(int32(8192)),
		ops.Scalar(float32(0)), ops.Scalar(float32(4096))))
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].Shape().Equal(ops.Shape{9, 8}) {
		t.Fatalf("shape %v, want [9 8]", got[0].Shape())
	}
	w := got[0].Float32s()
	for i := 0; i < 8; i++ {
		peak := float32(0)
		for j := 0; j < 9; j++ {
			peak = max(peak, w[j*8+i])
		}
		if peak != 1 {
			t.Errorf("filter %d peaks at %g, want 1", i, peak)
		}
	}
	if _, err := opstest.Run(opstest.NewNode("MelWeightMatrix", 17, nil, ops.Scalar(int32(0)), ops.Scalar(int32(16)), ops.Scalar(int32(8192)),
		ops.Scalar(float32(0)), ops.Scalar(float32(4096)))); err == nil || !strings.Contains(err.Error(), "must be positive") {
		t.Errorf("no bins: got %v", err)
	}
}
