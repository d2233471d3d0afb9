package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/onnxrun/onnxrun/bench"
	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorio"
)

// workload is one model at one batch size with fixed inputs: what both runtimes run.
type workload struct {
	key         string // short name for --only and file names: lenet1, lenet64, vgg8, resnet8, sgemm1024
	name        string // for the report: "LeNet batch 1"
	modelPath   string
	modelBytes  []byte
	batch       int
	inputNames  []string
	outputNames []string
	inputShapes []ops.Shape
	inputs      [][]float32
	// Filled by prepare from an onnxrun plan.
	outputShapes []ops.Shape
	macs         int64
	weightBytes  int64 // onnxrun's constants after the graph passes
	// targetRatio is the largest onnxrun/ORT p50 latency ratio the issue accepts (0: no latency target);
	// gemm marks the SGEMM workload, judged in GFLOP/s against the machine's peak instead.
	targetRatio float64
	gemm        bool
	// scalingTarget is the least 1→2 thread speed-up of onnxrun the issues accept (0: no target).
	scalingTarget float64
	// suite is the -suite the workload belongs to (cnn, real, ops).
	suite string
	// parity is, where issue 15 asks for it, the largest onnxrun/ORT ratio "within 5% of ORT" allows.
	parity float64
	// elements is, for a single-operator workload, the elements of its input: the report gives
	// elements per second.
	elements int64
	// peakTarget1 and peakTargetN are the least share of the measured FMA peak the workload must reach on
	// 1 thread and on more (0: no such target).
	peakTarget1, peakTargetN float64
	// memory marks the workload whose peak memory has a target.
	memory bool
	// floatKey is, for an int8 workload, the key of the float32 workload of the same model and batch, and
	// floatSpeedup the least onnxrun float32 / onnxrun int8 time ratio the issue accepts (issue 16: 1.5 for
	// static QDQ; 0: no such target).
	floatKey     string
	floatSpeedup float64
	// format is, for an int8 workload, how the model is quantized ("static QDQ", "dynamic", "float32").
	format string
	// iterations is, for the Loop workload, how many times its body runs per Run: the report divides
	// each side's time by it to give the cost of one iteration.
	iterations int
}

// workloads lists the workloads of the suites cfg asks for whose key -only matches, skipping (with a
// note) any whose files are missing or that onnxrun cannot prepare.
func workloads(cfg *config) ([]*workload, []string, error) {
	only := func(key string) bool { return cfg.only == nil || cfg.only.MatchString(key) }
	var out []*workload
	var skipped []string
	if cfg.suites[suiteCNN] {
		ws, s, err := cnnWorkloads(cfg)
		if err != nil {
			return nil, nil, err
		}
		out, skipped = append(out, ws...), append(skipped, s...)
	}
	if cfg.suites[suiteReal] {
		ws, s := realWorkloads(cfg.bigModels, only)
		out, skipped = append(out, ws...), append(skipped, s...)
	}
	if cfg.suites[suiteInt8] {
		ws, s := int8Workloads(cfg.quantModels, only)
		out, skipped = append(out, ws...), append(skipped, s...)
	}
	if cfg.suites[suiteOps] {
		ws, err := operatorWorkloads(only)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, ws...)
	}
	var chosen []*workload
	for _, w := range out {
		if only(w.key) {
			chosen = append(chosen, w)
		}
	}
	return chosen, skipped, nil
}

// cnnWorkloads is issue 5's set: LeNet at batch 1 and 64, the CIFAR CNNs at batch 8, SGEMM and Loop.
func cnnWorkloads(cfg *config) ([]*workload, []string, error) {
	var out []*workload
	var skipped []string
	lenetDir := filepath.Join(cfg.shared, "models", "lenet_torch_opset13")
	digits, err := tensorio.ReadNPYFile(filepath.Join(lenetDir, "input_0.npy"))
	if err != nil {
		skipped = append(skipped, fmt.Sprintf("LeNet: %v", err))
	} else {
		for _, b := range []struct {
			batch  int
			target float64
		}{{1, 0.8}, {64, 1.0}} {
			w, err := fileWorkload(fmt.Sprintf("lenet%d", b.batch), fmt.Sprintf("LeNet batch %d", b.batch),
				filepath.Join(lenetDir, "model.onnx"), digits, b.batch)
			if err != nil {
				return nil, nil, err
			}
			w.targetRatio = b.target
			out = append(out, w)
		}
	}
	cifar, err := tensorio.ReadNPYFile(filepath.Join(cfg.models, "cifar_8.npy"))
	for _, m := range []struct{ key, name, file string }{
		{"vgg8", "VGG CIFAR batch 8", "vgg_cifar.onnx"},
		{"resnet8", "ResNet-18 CIFAR batch 8", "resnet18_cifar.onnx"},
	} {
		path := filepath.Join(cfg.models, m.file)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v (run scripts/make-bench-models.sh)", m.name, err))
			continue
		}
		if _, serr := os.Stat(path); serr != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v (run scripts/make-bench-models.sh)", m.name, serr))
			continue
		}
		w, werr := fileWorkload(m.key, m.name, path, cifar, 8)
		if werr != nil {
			return nil, nil, werr
		}
		w.targetRatio, w.scalingTarget = 1.0, scalingTarget
		if m.key == "resnet8" {
			w.parity = parityRatio
		}
		w.memory = m.key == "resnet8"
		out = append(out, w)
	}
	g, err := sgemmWorkload(1024)
	if err != nil {
		return nil, nil, err
	}
	out = append(out, g)
	loop, err := loopWorkload(loopIterations)
	if err != nil {
		return nil, nil, err
	}
	out = append(out, loop)
	for _, w := range out {
		w.suite = suiteCNN
	}
	return out, skipped, nil
}

// fileWorkload reads a one-input model and takes the first batch items of data as its input.
func fileWorkload(key, name, path string, data *ops.Tensor, batch int) (*workload, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	shape := data.Shape().Clone()
	if len(shape) == 0 || shape[0] < batch {
		return nil, fmt.Errorf("%s: the input data %v has fewer than %d items", name, shape, batch)
	}
	shape[0] = batch
	w := &workload{key: key, name: name, modelPath: path, modelBytes: raw, batch: batch,
		inputShapes: []ops.Shape{shape}, inputs: [][]float32{data.Float32s()[:shape.Size()]}}
	return w, w.prepare()
}

// sgemmWorkload is C[n,n] = A[n,n]·B[n,n] as a one-node MatMul model whose operands are both inputs, so
// each run multiplies (and packs) them afresh, as a plain SGEMM call does.
func sgemmWorkload(n int) (*workload, error) {
	b := exporter.NewGraph("sgemm")
	a := b.Input("A", onnxpb.TensorProto_FLOAT, n, n)
	bb := b.Input("B", onnxpb.TensorProto_FLOAT, n, n)
	b.NodeNamed("sgemm", "MatMul", "", []string{a, bb}, []string{"C"}, nil)
	b.Output("C", onnxpb.TensorProto_FLOAT, n, n)
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		return nil, err
	}
	raw, err := m.Encode()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	data := func() []float32 {
		x := make([]float32, n*n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		return x
	}
	w := &workload{key: fmt.Sprintf("sgemm%d", n), name: fmt.Sprintf("SGEMM %d³", n), modelPath: "(MatMul built in memory)",
		modelBytes: raw, batch: 1, inputShapes: []ops.Shape{{n, n}, {n, n}}, inputs: [][]float32{data(), data()}, gemm: true,
		peakTarget1: sgemmTarget1, peakTargetN: sgemmTargetN, parity: parityRatio}
	return w, w.prepare()
}

// loopIterations is the trip count of the Loop workload (issue 14's target: at most 2x ONNX Runtime).
const loopIterations = 1000

// loopWorkload is bench.LoopModel: a Loop of n iterations (cond true) of Add and Mul on a carried
// float32[16], built in memory, so that both runtimes' time is almost all the cost of iterating.
func loopWorkload(n int) (*workload, error) {
	m, err := bench.LoopModel(int64(n))
	if err != nil {
		return nil, err
	}
	raw, err := m.Encode()
	if err != nil {
		return nil, err
	}
	x := make([]float32, 16)
	for i := range x {
		x[i] = float32(i)
	}
	w := &workload{key: fmt.Sprintf("loop%d", n), name: fmt.Sprintf("Loop of %d iterations", n), modelPath: "(Loop built in memory)",
		modelBytes: raw, batch: 1, inputShapes: []ops.Shape{{16}}, inputs: [][]float32{x}, targetRatio: 2, iterations: n}
	return w, w.prepare()
}

// prepare reads the input and output names from the model, checks the inputs are float32, and finds the
// output shapes and the multiply-adds per run with an onnxrun plan.
func (w *workload) prepare() error {
	m, err := onnx.Decode(w.modelBytes)
	if err != nil {
		return fmt.Errorf("%s: %w", w.modelPath, err)
	}
	plan, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		return fmt.Errorf("%s: %w", w.modelPath, err)
	}
	specs := plan.Inputs()
	if len(specs) != len(w.inputs) {
		return fmt.Errorf("%s: the model has %d inputs, the workload gives %d", w.modelPath, len(specs), len(w.inputs))
	}
	w.inputNames = nil
	for _, s := range specs {
		if s.DType != ops.Float32 {
			return fmt.Errorf("%s: input %q is %s; the comparison feeds float32 only", w.modelPath, s.Name, s.DType)
		}
		w.inputNames = append(w.inputNames, s.Name)
	}
	w.outputNames = nil
	for _, s := range plan.Outputs() {
		if s.DType != ops.Float32 {
			return fmt.Errorf("%s: output %q is %s; the comparison reads float32 only", w.modelPath, s.Name, s.DType)
		}
		w.outputNames = append(w.outputNames, s.Name)
	}
	prof, err := plan.NewProfile(w.inputShapes...)
	if err != nil {
		return fmt.Errorf("%s: %w", w.modelPath, err)
	}
	w.macs = bench.CountMACs(prof).MACs
	w.weightBytes = plan.WeightBytes()
	sess := plan.NewSession()
	defer sess.Close()
	in := make([]*ops.Tensor, len(w.inputs))
	for i := range w.inputs {
		in[i] = ops.FromSlice(w.inputShapes[i], w.inputs[i])
	}
	outs, err := sess.Run(context.Background(), in)
	if err != nil {
		return fmt.Errorf("%s: %w", w.modelPath, err)
	}
	w.outputShapes = nil
	for _, o := range outs {
		w.outputShapes = append(w.outputShapes, o.Shape().Clone())
	}
	return nil
}
