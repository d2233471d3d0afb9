package models

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// References made by PyTorch 1.13 (scripts/make_train_references.py): forward outputs and gradients of
// the trainer's layers on fixed inputs and weights, the loss being sum(y * dy).
type referenceTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func loadReferences(t *testing.T) map[string]map[string]referenceTensor {
	t.Helper()
	b, err := os.ReadFile("testdata/train_references.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases map[string]map[string]referenceTensor `json:"cases"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatalf("testdata/train_references.json: %v", err)
	}
	return file.Cases
}

func (r referenceTensor) tensor() *ops.Tensor {
	x := ops.New(ops.Float32, ops.Shape(r.Shape))
	for i, v := range r.Data {
		x.Float32s()[i] = float32(v)
	}
	return x
}

// matchReference compares got with PyTorch's values, within float32 rounding of the sums involved.
func matchReference(t *testing.T, what string, got []float32, want referenceTensor) {
	t.Helper()
	if len(got) != len(want.Data) {
		t.Errorf("%s: %d values, PyTorch has %d", what, len(got), len(want.Data))
		return
	}
	worst := 0.0
	for i, w := range want.Data {
		d := abs(float64(got[i])-w) / (1 + abs(w))
		if d > 2e-5 {
			t.Errorf("%s[%d] = %v, PyTorch gives %v", what, i, got[i], w)
			return
		}
		worst = max(worst, d)
	}
	t.Logf("%-28s %4d values, largest relative difference %.2g", what, len(got), worst)
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// TestLayersMatchPyTorch runs BatchNorm (training mode, with its running-average update), GELU, SiLU
// and GlobalAveragePool one step forward and backward on PyTorch's inputs and compares outputs, input
// gradients and parameter gradients.
func TestLayersMatchPyTorch(t *testing.T) {
	refs := loadReferences(t)
	for _, name := range []string{"batchnorm", "gelu", "silu", "gap"} {
		t.Run(name, func(t *testing.T) {
			ref := refs[name]
			x := ref["x"].tensor()
			shape := x.Shape()
			var l Layer
			switch name {
			case "batchnorm":
				l = &BatchNorm{LayerName: "bn"}
			case "gelu", "silu":
				l = &bareActivation{act: map[string]Activation{"gelu": GELU, "silu": SiLU}[name]}
			case "gap":
				l = &GlobalAveragePool{LayerName: "gap"}
			}
			if _, err := l.build(shape[1:]); err != nil {
				t.Fatal(err)
			}
			var grads []*ops.Tensor
			for _, p := range l.params() {
				suffix := p.Name[len(l.Name())+1:]
				copy(p.Value, ref[suffix].tensor().Float32s())
				grads = append(grads, ops.New(ops.Float32, p.Shape))
			}
			if b, ok := l.(bufferedLayer); ok {
				for _, p := range b.buffers() {
					copy(p.Value, ref[p.Name[len(l.Name())+1:]+"_before"].tensor().Float32s())
				}
			}
			s, err := l.newStep(shape[0], grads, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := ops.SerialContext()
			y, err := s.forward(ctx, x, true)
			if err != nil {
				t.Fatal(err)
			}
			matchReference(t, name+" y", y.Float32s(), ref["y"])
			dy := ref["dy"].tensor()
			dx, err := s.backward(ctx, dy.View(y.Shape()), true)
			if err != nil {
				t.Fatal(err)
			}
			matchReference(t, name+" dx", dx.Float32s(), ref["dx"])
			for i, p := range l.params() {
				matchReference(t, name+" d"+p.Name, grads[i].Float32s(), ref["d"+p.Name[len(l.Name())+1:]])
			}
			if bn, ok := l.(*BatchNorm); ok {
				bn.updateRunning([]*bnStep{s.(*bnStep)})
				matchReference(t, "running_mean", bn.runningMean.Value, ref["running_mean"])
				matchReference(t, "running_var", bn.runningVar.Value, ref["running_var"])
			}
		})
	}
}

// bareActivation is a bare activation, for comparing GELU and SiLU with PyTorch.
type bareActivation struct {
	act   Activation
	shape ops.Shape
}

func (l *bareActivation) Name() string     { return string(l.act) }
func (l *bareActivation) Type() string     { return "Activation" }
func (l *bareActivation) setName(string)   {}
func (l *bareActivation) params() []*Param { return nil }
func (l *bareActivation) export(*exportState, string) (string, error) {
	return "", fmt.Errorf("not exported")
}
func (l *bareActivation) build(in ops.Shape) (ops.Shape, error) {
	l.shape = in.Clone()
	return in, nil
}

type bareActivationStep struct{ *activationStep }

func (s bareActivationStep) forward(ctx *ops.ExecContext, x *ops.Tensor, _ bool) (*ops.Tensor, error) {
	return s.activationStep.forward(ctx, x)
}

func (s bareActivationStep) backward(ctx *ops.ExecContext, dy *ops.Tensor, _ bool) (*ops.Tensor, error) {
	return s.activationStep.backward(ctx, dy)
}

func (l *bareActivation) newStep(batch int, _ []*ops.Tensor, _ *rand.Rand) (step, error) {
	s, err := newActivationStep(l.act, withBatch(batch, l.shape))
	return bareActivationStep{s}, err
}

// TestResidualBlockMatchesPyTorch runs a residual block (conv-bn-relu-conv-bn, a 1x1 stride-2 projection
// with its BatchNorm on the skip path, Add, relu; the first convolution strided) through the graph's
// forward and backward and compares its output, every parameter gradient and the running averages with
// PyTorch's.
func TestResidualBlockMatchesPyTorch(t *testing.T) {
	ref := loadReferences(t)["residual_block"]
	x := ref["x"].tensor()
	g := NewGraph(x.Shape()[1:])
	g.Layer(&Conv2D{LayerName: "conv1", Filters: 4, Kernel: 3, Stride: 2, Padding: Same})
	g.Layer(&BatchNorm{LayerName: "bn1", Activation: ReLU})
	g.Layer(&Conv2D{LayerName: "conv2", Filters: 4, Kernel: 3, Padding: Same})
	g.Layer(&BatchNorm{LayerName: "bn2"})
	g.Layer(&Conv2D{LayerName: "proj", Filters: 4, Kernel: 1, Stride: 2, Padding: Same}, InputName)
	g.Layer(&BatchNorm{LayerName: "proj_bn"})
	g.Layer(&Add{LayerName: "add", Activation: ReLU}, "bn2", "proj_bn")
	net, err := g.Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range net.Params() {
		copy(p.Value, ref[p.Name].tensor().Float32s())
	}
	for _, p := range net.Buffers() {
		copy(p.Value, ref[p.Name+"_before"].tensor().Float32s())
	}
	w := newWorker(net, 1)
	p, err := w.pass(x.Shape()[0])
	if err != nil {
		t.Fatal(err)
	}
	copy(p.x.Float32s(), x.Float32s())
	y, err := w.forward(p, true)
	if err != nil {
		t.Fatal(err)
	}
	matchReference(t, "y", y.Float32s(), ref["y"])
	copy(p.dlogits.Float32s(), ref["dy"].tensor().Float32s())
	if err := w.backward(p); err != nil {
		t.Fatal(err)
	}
	for i, param := range net.Params() {
		matchReference(t, "d"+param.Name, w.grads[i], ref["d"+param.Name])
	}
	net.updateRunningStats([]*worker{w})
	for _, b := range net.Buffers() {
		matchReference(t, b.Name, b.Value, ref[b.Name])
	}
}
