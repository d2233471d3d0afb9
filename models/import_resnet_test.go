package models

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/onnx"
)

// The torchvision-style residual CNN with BatchNorm of scripts/make_resnet_import_model.py (random
// weights; stem, a BasicBlock, a stride-2 BasicBlock with a downsample shortcut, GlobalAveragePool,
// Linear), exported by PyTorch 1.13 at opset 13, and PyTorch's gradients of it in training mode.
const (
	resnetModel     = "testdata/resnet_bn.onnx"
	resnetReference = "testdata/resnet_bn_reference.json"
)

func importResNet(t *testing.T, opts ImportOptions) (*onnx.Model, *Network) {
	t.Helper()
	m, err := onnx.Load(resnetModel)
	if err != nil {
		t.Fatal(err)
	}
	net, err := ImportONNX(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, net
}

// TestImportResNetStructure checks the graph the import builds: every BatchNormalization is a BatchNorm
// layer (batch statistics in training) named after the model's initializers, with the model's running
// averages; each residual Add reads two layers, one of them the block's input (or its downsample).
func TestImportResNetStructure(t *testing.T) {
	m, net := importResNet(t, ImportOptions{})
	consts := map[string][]float32{}
	for _, init := range m.Proto.GetGraph().GetInitializer() {
		a, err := m.TensorArray(init)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := a.Data.([]float32); ok {
			consts[init.GetName()] = v
		}
	}
	var bns int
	var adds [][]string
	for i, l := range net.Layers {
		switch l := l.(type) {
		case *BatchNorm:
			bns++
			if l.momentum != float64(float32(0.9)) || l.epsilon != float64(float32(1e-5)) {
				t.Errorf("%s: momentum %g epsilon %g, want the model's 0.9 and 1e-5", l.Name(), l.momentum, l.epsilon)
			}
		case *Add:
			var from []string
			for _, j := range net.inputs[i] {
				from = append(from, net.Layers[j].Name())
			}
			adds = append(adds, from)
		}
	}
	if bns != 6 {
		t.Errorf("%d BatchNorm layers, want the model's 6", bns)
	}
	want := [][]string{{"/layer1/bn2/BatchNormalization", "/Relu"}, {"/layer2/bn2/BatchNormalization", "/layer2/downsample/downsample.1/BatchNormalization"}}
	if len(adds) != 2 || !slices.Equal(adds[0], want[0]) || !slices.Equal(adds[1], want[1]) {
		t.Errorf("the residual Adds read %q, want %q", adds, want)
	}
	if len(net.Buffers()) != 12 {
		t.Fatalf("%d buffers, want 6 running means and 6 running variances", len(net.Buffers()))
	}
	for _, b := range net.Buffers() {
		if !strings.HasSuffix(b.Name, ".running_mean") && !strings.HasSuffix(b.Name, ".running_var") {
			t.Errorf("buffer %s is not named after a running-statistics initializer", b.Name)
		}
		if closeTo(b.Value, consts[b.Name], 0) != nil {
			t.Errorf("buffer %s does not hold the model's values", b.Name)
		}
	}
}

// TestImportResNetMatchesPyTorch runs the imported network one training step forward and backward on
// PyTorch's batch with the mean cross-entropy loss, and compares the logits, every parameter's gradient
// and the running averages after the step with PyTorch's in training mode.
func TestImportResNetMatchesPyTorch(t *testing.T) {
	raw, err := os.ReadFile(resnetReference)
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatalf("%s: %v", resnetReference, err)
	}
	tensorOf := func(key string) (referenceTensor, bool) {
		var r referenceTensor
		b, ok := ref[key]
		if ok {
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("%s: %s: %v", resnetReference, key, err)
			}
		}
		return r, ok
	}
	var labels []uint8
	var loss float64
	if err := json.Unmarshal(ref["labels"], &labels); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ref["loss"], &loss); err != nil {
		t.Fatal(err)
	}
	_, net := importResNet(t, ImportOptions{})
	x, _ := tensorOf("x")
	w := newWorker(net, 1)
	p, err := w.pass(len(labels))
	if err != nil {
		t.Fatal(err)
	}
	copy(p.x.Float32s(), x.tensor().Float32s())
	y, err := w.forward(p, true)
	if err != nil {
		t.Fatal(err)
	}
	logits, _ := tensorOf("logits")
	matchReference(t, "logits", y.Float32s(), logits)
	sum, _ := softmaxCrossEntropy(y.Float32s(), labels, 10, 1/float32(len(labels)), p.dlogits.Float32s())
	if mean := sum / float64(len(labels)); math.Abs(mean-loss) > 1e-5*(1+loss) {
		t.Errorf("mean loss %v, PyTorch gives %v", mean, loss)
	}
	if err := w.backward(p); err != nil {
		t.Fatal(err)
	}
	compared := 0
	for i, param := range net.Params() {
		want, ok := tensorOf("d/" + param.Name)
		if !ok {
			if !param.frozen {
				t.Errorf("no PyTorch gradient for the trainable parameter %s", param.Name)
			}
			continue // the zero bias of a Conv without one, which the graph has no room for
		}
		matchReference(t, "d"+param.Name, w.grads[i], want)
		compared++
	}
	if compared != 20 { // 7 convolutions, 6 BatchNorms with scale and shift, the Linear's weight and bias
		t.Errorf("compared %d gradients with PyTorch's, want 20", compared)
	}
	net.updateRunningStats([]*worker{w})
	for _, b := range net.Buffers() {
		want, ok := tensorOf("after/" + b.Name)
		if !ok {
			t.Fatalf("no PyTorch value for %s", b.Name)
		}
		matchReference(t, b.Name, b.Value, want)
	}
}

// TestImportResNetGradients checks the imported network's backward pass against central finite
// differences of the loss for every parameter, on two random images (batch statistics in training, as
// the forward of a training step), at up to 64 values of each parameter spread over it. Through six BatchNorms on batch statistics and many ReLU kinks, float32
// finite differences are noisy value by value (up to about 0.005 where the gradients are about 0.03), so
// each parameter is compared as a whole: a gradient wired to the wrong place or branch is off by its own
// size; PyTorch's gradients (TestImportResNetMatchesPyTorch) are the tight check.
func TestImportResNetGradients(t *testing.T) {
	_, net := importResNet(t, ImportOptions{})
	w := newWorker(net, 1)
	p, err := w.pass(2)
	if err != nil {
		t.Fatal(err)
	}
	copy(p.x.Float32s(), randomInput(8, 2, 1, 28, 28).Float32s())
	for i, numeric := range numericGradients(t, net, w, p, []uint8{4, 9}, nil, 64) {
		param := net.Params()[i]
		var diff, norm float64
		for j, want := range numeric {
			if math.IsNaN(want) { // not sampled
				continue
			}
			d := float64(w.grads[i][j]) - want
			diff += d * d
			norm += want * want
		}
		rel := math.Sqrt(diff / max(norm, 1e-12))
		if param.frozen { // the zero bias of a Conv without one: its gradient is computed but never applied
			continue
		}
		if rel > 0.1 {
			t.Errorf("%s: backward and finite differences differ by %.2g of the gradient's norm %.2g", param.Name, rel, math.Sqrt(norm))
		}
		t.Logf("%-30s %4d values, relative difference %.2g on those sampled (norm %.2g)", param.Name, len(numeric), rel, math.Sqrt(norm))
	}
}

// TestImportResNetTrainAndExport trains the imported network for an epoch on random digits and checks the
// export: the source's input and output names, dynamic batch, opset and nodes (the BatchNormalizations
// kept), trained weights and moved running averages in its initializers, and onnxrun's inference of it
// equal to the trainer's.
func TestImportResNetTrainAndExport(t *testing.T) {
	src, net := importResNet(t, ImportOptions{Seed: 1})
	before := map[string][]float32{}
	for _, p := range append(slices.Clip(net.Params()), net.Buffers()...) {
		before[p.Name] = slices.Clone(p.Value)
	}
	ds := syntheticDigits(64, 3)
	if _, err := Train(net, ds, nil, Config{Epochs: 1, BatchSize: 16, Threads: 2, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(slices.Clip(net.Params()), net.Buffers()...) {
		if changed := closeTo(p.Value, before[p.Name], 0) != nil; changed == p.frozen {
			t.Errorf("%s: changed %v, frozen %v", p.Name, changed, p.frozen)
		}
	}
	m, err := net.ExportImported("", nil)
	if err != nil {
		t.Fatal(err)
	}
	g, sg := m.Proto.GetGraph(), src.Proto.GetGraph()
	if g.GetInput()[0].GetName() != "input" || g.GetOutput()[0].GetName() != "logits" {
		t.Errorf("input %q output %q, want input and logits", g.GetInput()[0].GetName(), g.GetOutput()[0].GetName())
	}
	if _, dims, _ := onnx.ValueInfoShape(g.GetInput()[0]); len(dims) != 4 || dims[0].Param != "N" || dims[1].Value != 1 {
		t.Errorf("input dims %v, want [N 1 28 28]", dims)
	}
	if v, _ := m.OpsetFor(""); v != 13 {
		t.Errorf("opset %d, want 13", v)
	}
	if len(g.GetNode()) != len(sg.GetNode()) {
		t.Fatalf("%d nodes, the source has %d", len(g.GetNode()), len(sg.GetNode()))
	}
	for i, n := range g.GetNode() {
		if n.GetName() != sg.GetNode()[i].GetName() || n.GetOpType() != sg.GetNode()[i].GetOpType() {
			t.Errorf("node %d is %s %q, the source's is %s %q", i, n.GetOpType(), n.GetName(), sg.GetNode()[i].GetOpType(), sg.GetNode()[i].GetName())
		}
	}
	for _, init := range g.GetInitializer() {
		a, err := m.TensorArray(init)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(init.GetName(), "running_") && closeTo(a.Data.([]float32), before[init.GetName()], 0) == nil {
			t.Errorf("the export's %s is the source's: the running averages were not written back", init.GetName())
		}
	}
	x := randomInput(6, 3, 1, 28, 28)
	y, err := net.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if err := closeTo(runModel(t, m, x), y.Float32s(), 1e-4); err != nil {
		t.Errorf("onnxrun's inference of the export and the trainer differ: %v", err)
	}
}

// TestImportResNetResume checkpoints a fine-tune of the imported residual CNN mid-epoch, resumes it in a
// fresh import and expects the uninterrupted run's weights and BatchNorm running averages, bit for bit.
// Its parameters include the frozen zero biases of its bias-less convolutions, named after their nodes
// ("/conv1/Conv.bias"): a "/" in a parameter's name must not read as an optimizer buffer's prefix.
func TestImportResNetResume(t *testing.T) {
	ds := syntheticDigits(96, 4) // 6 steps of 16 an epoch
	cfg := Config{Epochs: 2, BatchSize: 16, Threads: 2, Seed: 3}
	_, want := importResNet(t, ImportOptions{})
	if _, err := Train(want, ds, nil, cfg); err != nil {
		t.Fatal(err)
	}

	dir, snapshot := t.TempDir(), t.TempDir()
	_, net := importResNet(t, ImportOptions{})
	withCheckpoints := cfg
	withCheckpoints.CheckpointDir, withCheckpoints.CheckpointEverySteps = dir, 2
	steps := 0
	withCheckpoints.OnBatch = func(BatchProgress) {
		if steps++; steps == 9 { // holds step 8: mid-epoch 2
			b, err := os.ReadFile(filepath.Join(dir, CheckpointFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(snapshot, CheckpointFile), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := Train(net, ds, nil, withCheckpoints); err != nil {
		t.Fatal(err)
	}

	_, resumed := importResNet(t, ImportOptions{})
	tr, err := NewTrainer(resumed, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Resume(snapshot, ds); err != nil {
		t.Fatal(err)
	}
	if tr.run.epoch != 2 || tr.run.next == 0 {
		t.Fatalf("the snapshot is at epoch %d, example %d: want mid-epoch 2", tr.run.epoch, tr.run.next)
	}
	if _, err := tr.Fit(ds, nil); err != nil {
		t.Fatal(err)
	}
	sameWeights(t, "resumed fine-tune", resumed.Params(), want.Params())
	sameWeights(t, "resumed fine-tune's running averages", resumed.Buffers(), want.Buffers())
}
