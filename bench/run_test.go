package bench

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// denseModel writes x[N,16] → Gemm(W[16,8], b[8]) → Relu → y[N,8] to a file.
func denseModel(t *testing.T) string {
	t.Helper()
	b := exporter.NewGraph("dense")
	x := b.Input("x", onnxpb.TensorProto_FLOAT, "N", 16)
	w := make([]float32, 16*8)
	for i := range w {
		w[i] = float32(i%5) - 2
	}
	wName := b.Initializer("w", &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: []int64{16, 8}, Data: w})
	bName := b.Initializer("b", &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: []int64{8}, Data: make([]float32, 8)})
	b.NodeNamed("fc", "Gemm", "", []string{x, wName, bName}, []string{"h"}, nil)
	b.NodeNamed("act", "Relu", "", []string{"h"}, []string{"y"}, nil)
	b.Output("y", onnxpb.TensorProto_FLOAT, "N", 8)
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dense.onnx")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRun(t *testing.T) {
	path := denseModel(t)
	// Without the graph passes the Gemm and the Relu stay two steps, whatever fusions the passes learn.
	cfg := Config{Batch: 4, Threads: 1, NoOptimize: true, Measure: Measure{Warmup: 1, MinRuns: 7, MaxRuns: 7}, Profile: true,
		ProfileMeasure: Measure{MinRuns: 3, MaxRuns: 3}}
	r, err := Run(context.Background(), path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Latency.N != 7 || len(r.Samples) != 7 || r.Batch != 4 || r.Threads != 1 {
		t.Errorf("N=%d samples=%d batch=%d threads=%d, want 7, 7, 4, 1", r.Latency.N, len(r.Samples), r.Batch, r.Threads)
	}
	if len(r.Inputs) != 1 || r.Inputs[0].Name != "x" || !r.Inputs[0].Shape.Equal([]int{4, 16}) {
		t.Errorf("inputs %+v, want x [4 16]", r.Inputs)
	}
	if r.Count.MACs != 4*8*16 || r.Count.CountedSteps != 1 {
		t.Errorf("count %+v, want 512 MACs in 1 step", r.Count)
	}
	if r.Profile == nil || r.Profile.Runs != 3 {
		t.Fatalf("profile %+v, want 3 runs", r.Profile)
	}
	// The weights are the bias and the panels the Gemm packed W into (16 rows of 8 columns padded to the
	// GEMM's 16-wide panels): W's plain copy is dropped once the Gemm holds it packed (runtime/dropplain.go).
	if plain, packed := 8*4, 16*16*4; r.Memory.WeightBytes != int64(plain+packed) {
		t.Errorf("weights %d bytes, want %d (%d plain, %d packed)", r.Memory.WeightBytes, plain+packed, plain, packed)
	}
	if r.Latency.Min > r.Latency.P50 || r.Latency.P50 > r.Latency.P99 || r.Latency.P99 > r.Latency.Max {
		t.Errorf("latency not ordered: %+v", r.Latency)
	}

	var out bytes.Buffer
	r.WriteText(&out, 0)
	text := out.String()
	for _, want := range []string{"inputs      x float32[4,16] (batch 4)", "threads     1", "latency     p50 ",
		"7 runs)", "1.024e-06 GFLOP per run", "(1 of 2 steps counted)", "profile over 3 runs",
		"op type", "GFLOP/s", "steps, slowest first:", " fc ", " act "} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
}

func TestRunErrors(t *testing.T) {
	path := denseModel(t)
	tests := []struct {
		name string
		path string
		cfg  Config
		want string
	}{
		{"missing file", filepath.Join(t.TempDir(), "none.onnx"), Config{}, "none.onnx"},
		{"bad shape override", path, Config{Shapes: map[string]ops.Shape{"x": {2, 15}}, Measure: Measure{MinRuns: 1}}, `input "x": the pinned shape [2,15] contradicts the model's [N,16]: dimension 1 is fixed at 16`},
		{"negative threads", path, Config{Threads: -1}, "threads must be 0 or more"},
		{"bad measure", path, Config{Measure: Measure{MinRuns: 3, MaxRuns: 1}}, "max runs=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.path, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
