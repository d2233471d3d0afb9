package bench

import (
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

func TestStepMACs(t *testing.T) {
	s := func(d ...int) ops.Shape { return ops.Shape(d) }
	tests := []struct {
		name    string
		step    runtime.StepProfile
		want    int64
		wantSrc MACSource
	}{
		{"conv 3x3", runtime.StepProfile{OpType: "Conv",
			InputShapes: []ops.Shape{s(2, 3, 32, 32), s(64, 3, 3, 3), s(64)}, OutputShapes: []ops.Shape{s(2, 64, 32, 32)}},
			2 * 64 * 32 * 32 * 3 * 9, MACsFromShapes},
		{"grouped conv counts the group's channels only", runtime.StepProfile{OpType: "Conv",
			InputShapes: []ops.Shape{s(1, 8, 10, 10), s(8, 2, 3, 3)}, OutputShapes: []ops.Shape{s(1, 8, 8, 8)}},
			8 * 8 * 8 * 2 * 9, MACsFromShapes},
		{"fused conv with a residual input", runtime.StepProfile{Domain: "onnxrun", OpType: "FusedConv",
			InputShapes: []ops.Shape{s(1, 4, 5, 5), s(6, 4, 1, 1), s(6), s(1, 6, 5, 5)}, OutputShapes: []ops.Shape{s(1, 6, 5, 5)}},
			6 * 25 * 4, MACsFromShapes},
		{"1-D conv", runtime.StepProfile{OpType: "Conv",
			InputShapes: []ops.Shape{s(1, 2, 10), s(3, 2, 4)}, OutputShapes: []ops.Shape{s(1, 3, 7)}},
			3 * 7 * 2 * 4, MACsFromShapes},
		{"conv transpose", runtime.StepProfile{OpType: "ConvTranspose",
			InputShapes: []ops.Shape{s(1, 4, 5, 5), s(4, 3, 2, 2)}, OutputShapes: []ops.Shape{s(1, 3, 10, 10)}},
			4 * 25 * 3 * 4, MACsFromShapes},
		{"gemm", runtime.StepProfile{OpType: "Gemm",
			InputShapes: []ops.Shape{s(64, 400), s(120, 400), s(120)}, OutputShapes: []ops.Shape{s(64, 120)}},
			64 * 120 * 400, MACsFromShapes},
		{"gemm with A transposed", runtime.StepProfile{OpType: "Gemm",
			InputShapes: []ops.Shape{s(400, 64), s(400, 120)}, OutputShapes: []ops.Shape{s(64, 120)}},
			64 * 120 * 400, MACsFromShapes},
		{"fused gemm", runtime.StepProfile{Domain: "onnxrun", OpType: "FusedGemm",
			InputShapes: []ops.Shape{s(8, 4096), s(4096, 512), s(512)}, OutputShapes: []ops.Shape{s(8, 512)}},
			8 * 512 * 4096, MACsFromShapes},
		{"fused gemm of a 3-D A (a transformer's Linear layer)", runtime.StepProfile{Domain: "onnxrun", OpType: "FusedGemm",
			InputShapes: []ops.Shape{s(1, 197, 768), s(768, 3072), s(3072)}, OutputShapes: []ops.Shape{s(1, 197, 3072)}},
			197 * 3072 * 768, MACsFromShapes},
		{"batched matmul", runtime.StepProfile{OpType: "MatMul",
			InputShapes: []ops.Shape{s(3, 5, 7), s(7, 2)}, OutputShapes: []ops.Shape{s(3, 5, 2)}},
			3 * 5 * 2 * 7, MACsFromShapes},
		{"vector times matrix", runtime.StepProfile{OpType: "MatMul",
			InputShapes: []ops.Shape{s(7), s(7, 2)}, OutputShapes: []ops.Shape{s(2)}},
			2 * 7, MACsFromShapes},
		{"an op counted by its kernel", runtime.StepProfile{OpType: "Resize", MACs: 1234,
			InputShapes: []ops.Shape{s(1, 3, 4, 4)}, OutputShapes: []ops.Shape{s(1, 3, 8, 8)}},
			1234, MACsFromKernel},
		{"shapes win over the kernel's count (Winograd does fewer)", runtime.StepProfile{OpType: "Conv", MACs: 10,
			InputShapes: []ops.Shape{s(1, 1, 4, 4), s(1, 1, 3, 3)}, OutputShapes: []ops.Shape{s(1, 1, 2, 2)}},
			4 * 9, MACsFromShapes},
		{"elementwise", runtime.StepProfile{OpType: "Relu",
			InputShapes: []ops.Shape{s(8, 64)}, OutputShapes: []ops.Shape{s(8, 64)}}, 0, MACsNone},
		{"conv without a weight shape falls back", runtime.StepProfile{OpType: "Conv", MACs: 7,
			InputShapes: []ops.Shape{s(1, 1, 4, 4)}, OutputShapes: []ops.Shape{s(1, 1, 2, 2)}}, 7, MACsFromKernel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, src := StepMACs(tc.step)
			if got != tc.want || src != tc.wantSrc {
				t.Errorf("StepMACs = %d from %s, want %d from %s", got, src, tc.want, tc.wantSrc)
			}
		})
	}
}

// sharedModelPath finds ../shared/models/NAME/model.onnx beside the repository root, or skips.
func sharedModelPath(t *testing.T, name string) string {
	t.Helper()
	return testenv.Shared(t, "models", name, "model.onnx")
}

// LeNet's arithmetic, counted by hand from the seed's layers (valid 3x3 convolutions, 2x2 pools):
//
//	conv1  6@26x26 outputs × (1 channel × 3×3)   =  36,504
//	conv2 16@11x11 outputs × (6 channels × 3×3)  = 104,544
//	fc1   120 × 400                              =  48,000
//	fc2    84 × 120                              =  10,080
//	fc3    10 × 84                               =     840
//	                                               199,968 multiply-adds per image
func TestLeNetMACs(t *testing.T) {
	const perImage = 36504 + 104544 + 48000 + 10080 + 840
	if perImage != 199968 {
		t.Fatalf("the hand count adds up to %d", perImage)
	}
	plan, err := runtime.Load(sharedModelPath(t, "lenet_torch_opset13"), runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1, 64} {
		prof, err := plan.NewProfile(ops.Shape{batch, 1, 28, 28})
		if err != nil {
			t.Fatal(err)
		}
		c := CountMACs(prof)
		if c.MACs != int64(batch)*perImage || c.FromShapes != c.MACs || c.CountedSteps != 5 {
			t.Errorf("batch %d: %+v, want %d MACs all from shapes in 5 steps", batch, c, batch*perImage)
		}
		if c.FLOPs() != 2*c.MACs {
			t.Errorf("FLOPs %d != 2·MACs", c.FLOPs())
		}
		// The kernels' own counts (ops.Coster) agree, where they give one.
		for _, st := range prof.Steps {
			n, _ := StepMACs(st)
			if st.MACs != 0 && st.MACs != n {
				t.Errorf("batch %d, step %s (%s): the kernel reports %d MACs, the shapes give %d", batch, st.Node, st.OpType, st.MACs, n)
			}
		}
	}
}
