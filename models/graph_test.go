package models

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// residualTestNet is a small ResNet-style graph holding every new piece: a strided same-padded
// convolution, GELU and SiLU, BatchNorm on channels and on units, a residual Add whose skip path is a 1x1 stride-2
// projection, an output read by two layers (whose gradients must add up), GlobalAveragePool.
func residualTestNet(t *testing.T) *Network {
	t.Helper()
	g := NewGraph(ops.Shape{2, 7, 7})
	g.Layer(&Conv2D{LayerName: "stem", Filters: 3, Kernel: 3, Padding: Same})
	g.Layer(&BatchNorm{LayerName: "stem_bn", Activation: Tanh}) // smooth: a ReLU kink within h of a value spoils finite differences
	g.Layer(&Conv2D{LayerName: "conv1", Filters: 4, Kernel: 3, Stride: 2, Padding: Same, Activation: GELU})
	g.Layer(&Conv2D{LayerName: "conv2", Filters: 4, Kernel: 3, Padding: Same})
	g.Layer(&BatchNorm{LayerName: "bn2"})
	g.Layer(&Conv2D{LayerName: "proj", Filters: 4, Kernel: 1, Stride: 2, Padding: Same}, "stem_bn")
	g.Layer(&Add{LayerName: "add", Activation: ReLU}, "bn2", "proj")
	g.Layer(&GlobalAveragePool{LayerName: "gap"})
	g.Layer(&Dense{LayerName: "dense", Units: 5})
	g.Layer(&BatchNorm{LayerName: "bn_dense", Activation: SiLU})
	g.Layer(&Dense{LayerName: "head", Units: 3})
	net, err := g.Build()
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func TestResidualGraphGradients(t *testing.T) {
	net := residualTestNet(t)
	if got := net.shapes[2]; !got.Equal(ops.Shape{4, 4, 4}) {
		t.Fatalf("stride-2 same convolution of 7x7 gives %v, want [4 4 4]", got)
	}
	checkGradients(t, net, []uint8{0, 2, 1, 2}, 3)
}

func TestGraphErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(g *Graph)
		want  string
	}{
		{"unknown input", func(g *Graph) { g.Layer(&Flatten{}, "nope") }, `reads "nope"`},
		{"add of one", func(g *Graph) { g.Layer(&Add{}) }, "want at least two"},
		{"add shapes", func(g *Graph) {
			g.Layer(&Conv2D{LayerName: "a", Filters: 2, Kernel: 3})
			g.Layer(&Add{}, "a", InputName)
		}, "input 2 has shape [1,6,6], input 1 has [2,4,4]"},
		{"unused output", func(g *Graph) {
			g.Layer(&Flatten{LayerName: "f"})
			g.Layer(&Conv2D{Filters: 2, Kernel: 3}, InputName)
		}, "output of layer f is not read"},
		{"two inputs to a conv", func(g *Graph) {
			g.Layer(&Conv2D{Filters: 2, Kernel: 3}, InputName, InputName)
		}, "only Add reads more than one"},
		{"an output read twice by one Add", func(g *Graph) {
			g.Layer(&Flatten{LayerName: "f"})
			g.Layer(&Add{}, "f", "f")
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := NewGraph(ops.Shape{1, 6, 6})
			c.build(g)
			_, err := g.Build()
			if c.want == "" {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Build error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// randomizeBatchNorms gives every BatchNorm running averages and scales far from their start, so that an
// export that drops or misplaces one shows.
func randomizeBatchNorms(net *Network, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	for _, p := range append(net.Buffers(), net.Params()...) {
		if p.fanIn != 0 {
			continue
		}
		for i := range p.Value {
			if strings.HasSuffix(p.Name, "running_var") || strings.HasSuffix(p.Name, ".weight") {
				p.Value[i] = float32(0.5 + rng.Float64())
			} else {
				p.Value[i] = float32(rng.Float64() - 0.5)
			}
		}
	}
}

// TestExportResidualBatchNorm exports a residual CNN with BatchNorm, kept as BatchNormalization and
// folded into the convolutions, runs both in onnxrun's runtime and compares with the trainer's inference
// forward pass (running averages).
func TestExportResidualBatchNorm(t *testing.T) {
	cfg := SmallResNet()
	cfg.Widths = []int{4, 8}
	net, err := NewResNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(5)
	randomizeBatchNorms(net, 6)
	x := randomImages(5, 2)
	want, err := net.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for _, fold := range []bool{false, true} {
		t.Run(fmt.Sprintf("fold=%v", fold), func(t *testing.T) {
			before := slices.Clone(net.Params()[0].Value)
			m, err := net.Export(ExportOptions{FoldBatchNorm: fold})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(before, net.Params()[0].Value) {
				t.Fatal("folding changed the network's own weights")
			}
			counts := map[string]int{}
			for _, n := range m.Proto.GetGraph().GetNode() {
				counts[n.GetOpType()]++
			}
			wantBN := 6 // the stem's, two per block, the second block's projection's
			if fold {
				wantBN = 0
			}
			if counts["BatchNormalization"] != wantBN || counts["Add"] != 2 || counts["Conv"] != 6 || counts["GlobalAveragePool"] != 1 {
				t.Errorf("exported ops %v, want %d BatchNormalization, 2 Add, 6 Conv, 1 GlobalAveragePool", counts, wantBN)
			}
			plan, err := runtime.Compile(m, runtime.Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			sess := plan.NewSession()
			defer sess.Close()
			out, err := sess.Run(context.Background(), []*ops.Tensor{x})
			if err != nil {
				t.Fatal(err)
			}
			if err := closeTo(out[0].Float32s(), want.Float32s(), 1e-4); err != nil {
				t.Fatalf("runtime output vs trainer's forward pass: %v", err)
			}
		})
	}
}

// TestExportGELUAndSiLU checks the exported forms of GELU (Erf-based) and SiLU (Sigmoid·x) against the
// trainer's loops, at the lowest and highest export opsets.
func TestExportGELUAndSiLU(t *testing.T) {
	net, err := NewSequential(ops.Shape{1, 28, 28}, &Conv2D{Filters: 3, Kernel: 3, Activation: GELU}, &Flatten{},
		&Dense{Units: 8, Activation: SiLU}, &Dense{Units: 4, Activation: GELU})
	if err != nil {
		t.Fatal(err)
	}
	net.Init(8)
	x := randomImages(3, 4)
	want, err := net.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for _, opset := range []int{MinExportOpset, MaxExportOpset} {
		m, err := net.Export(ExportOptions{Opset: opset})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := runtime.Compile(m, runtime.Options{Threads: 1})
		if err != nil {
			t.Fatalf("opset %d: %v", opset, err)
		}
		sess := plan.NewSession()
		out, err := sess.Run(context.Background(), []*ops.Tensor{x})
		if err != nil {
			t.Fatal(err)
		}
		if err := closeTo(out[0].Float32s(), want.Float32s(), 1e-5); err != nil {
			t.Errorf("opset %d: runtime output vs trainer's forward pass: %v", opset, err)
		}
		sess.Close()
	}
}
