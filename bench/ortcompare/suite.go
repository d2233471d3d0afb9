package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// The suites a run can choose with -suite: issue 5's CNN set (LeNet, the CIFAR CNNs, SGEMM, Loop), issue
// 15's real architectures (the models of make big-models), issue 15's single-operator workloads and
// issue 16's int8 models (make quant-models; suite_int8.go).
const (
	suiteCNN  = "cnn"
	suiteReal = "real"
	suiteOps  = "ops"
	suiteInt8 = "int8"
)

var allSuites = []string{suiteCNN, suiteReal, suiteOps, suiteInt8}

// parseSuites reads -suite: a comma-separated list of suites, or "all".
func parseSuites(s string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		switch f {
		case "all":
			for _, a := range allSuites {
				out[a] = true
			}
		case suiteCNN, suiteReal, suiteOps, suiteInt8:
			out[f] = true
		default:
			return nil, fmt.Errorf("-suite %q: want %s or all, comma-separated", s, strings.Join(allSuites, ", "))
		}
	}
	return out, nil
}

// Issue 15's targets.
const (
	suiteTargetRatio   = 1.0  // every real-architecture row at most 1.0x ORT, at 1 and 2 threads
	suiteTargetGeomean = 0.9  // the geometric mean of those rows
	suiteScaling       = 1.7  // 1 → 2 threads on ResNet-50, BERT and ViT at batch 1
	parityRatio        = 1.05 // SGEMM and ResNet-18 CIFAR within 5% of ORT
	depthwisePeakShare = 0.25 // depthwise convolution on MobileNetV2's layers, of the measured peak
)

// suiteModel is one architecture of issue 15's suite, as make big-models writes it: base.onnx with a
// symbolic batch, base_in_B.npy for its first input at batch B and base_in_B.NAME.npy for each further one.
type suiteModel struct {
	key     string // -only key prefix; the batch is appended (resnet50_b1)
	name    string
	bases   []string // file base names, the first that exists
	batches []int
	scaling bool // 1 → 2 threads at batch 1 has a target
}

// suiteModels is the suite of issue 15 item 7. BERT and the GPT-2 step run at batch 1 only: at batch 8
// they take seconds per run on 2 cores, which would double the suite's time for little more to learn.
var suiteModels = []suiteModel{
	{"resnet50", "ResNet-50", []string{"resnet50"}, []int{1, 8}, true},
	{"mobilenetv2", "MobileNetV2", []string{"mobilenet_v2"}, []int{1, 8}, false},
	{"mobilenetv3", "MobileNetV3-Large", []string{"mobilenet_v3_large"}, []int{1, 8}, false},
	{"efficientnet", "EfficientNet-B0", []string{"efficientnet_b0"}, []int{1, 8}, false},
	{"squeezenet", "SqueezeNet 1.1", []string{"squeezenet1_1"}, []int{1, 8}, false},
	{"shufflenet", "ShuffleNetV2 x1.0", []string{"shufflenet_v2"}, []int{1, 8}, false},
	{"vit", "ViT-B/16", []string{"vit_b_16"}, []int{1, 8}, true},
	{"bert", "BERT-base encoder (seq 128)", []string{"bert_base_enc", "bert_base_enc_manual"}, []int{1}, true},
	{"gpt2step", "GPT-2-small decoder step (past 128)", []string{"gpt2_step"}, []int{1}, false},
	{"yolo", "YOLO-style detector 320²", []string{"yolo_small"}, []int{1, 8}, false},
	{"unet", "U-Net 256²", []string{"unet"}, []int{1, 8}, false},
	{"deeplab", "DeepLabV3-MobileNetV3 256²", []string{"deeplabv3_mbv3"}, []int{1, 8}, false},
}

// realWorkloads lists the suite's models found in dir, and a note for each one missing or failing to
// prepare in onnxrun (a model onnxrun cannot load is a finding, not a reason to stop the run).
func realWorkloads(dir string, only func(key string) bool) ([]*workload, []string) {
	var out []*workload
	var skipped []string
	if dir == "" {
		return nil, []string{"the real-architecture suite: no -big-models folder (run make big-models)"}
	}
	for _, m := range suiteModels {
		base := ""
		for _, b := range m.bases {
			if _, err := os.Stat(filepath.Join(dir, b+".onnx")); err == nil {
				base = b
				break
			}
		}
		for _, batch := range m.batches {
			key := fmt.Sprintf("%s_b%d", m.key, batch)
			if !only(key) {
				continue
			}
			name := fmt.Sprintf("%s batch %d", m.name, batch)
			if base == "" {
				skipped = append(skipped, fmt.Sprintf("%s: none of %s.onnx in %s (run make big-models)", name, strings.Join(m.bases, ".onnx, "), dir))
				continue
			}
			w, err := suiteWorkload(key, name, dir, base, batch)
			if err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %v", name, err))
				continue
			}
			w.suite, w.targetRatio = suiteReal, suiteTargetRatio
			if m.scaling && batch == 1 {
				w.scalingTarget = suiteScaling
			}
			out = append(out, w)
		}
	}
	return out, skipped
}

// suiteWorkload reads base.onnx and its inputs at batch from dir, in the order of the model's inputs.
func suiteWorkload(key, name, dir, base string, batch int) (*workload, error) {
	return suiteWorkloadFrom(key, name, filepath.Join(dir, base+".onnx"), dir, base, batch)
}

// suiteWorkloadFrom reads the model at path and its inputs at batch from inputDir, named after base as
// make big-models names them (the int8 suite's quantized models take their float twin's inputs).
func suiteWorkloadFrom(key, name, path, inputDir, base string, batch int) (*workload, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	inputs := graphInputs(m)
	w := &workload{key: key, name: name, modelPath: path, batch: batch}
	if w.modelBytes, err = os.ReadFile(path); err != nil {
		return nil, err
	}
	for i, in := range inputs {
		file := filepath.Join(inputDir, suiteInputFile(base, batch, i, in))
		t, err := tensorio.ReadNPYFile(file)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", in, err)
		}
		if t.DType() != ops.Float32 {
			return nil, fmt.Errorf("input %q in %s is %s; the comparison feeds float32 only", in, file, t.DType())
		}
		w.inputShapes = append(w.inputShapes, t.Shape().Clone())
		w.inputs = append(w.inputs, t.Float32s())
	}
	return w, withoutPanic(w.prepare)
}

// withoutPanic runs fn and returns a panic inside it as an error: a model of the suite that crashes
// onnxrun is a finding for the report, and the rest of the run goes on.
func withoutPanic(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("onnxrun panicked: %v", r)
		}
	}()
	return fn()
}

// suiteInputFile names the .npy file of a model's input at a batch size (make big-models' convention).
func suiteInputFile(base string, batch, index int, input string) string {
	if index == 0 {
		return fmt.Sprintf("%s_in_%d.npy", base, batch)
	}
	return fmt.Sprintf("%s_in_%d.%s.npy", base, batch, input)
}

// graphInputs names a model's inputs that no initializer feeds.
func graphInputs(m *onnx.Model) []string {
	g := m.Proto.GetGraph()
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	var out []string
	for _, in := range g.GetInput() {
		if !inits[in.GetName()] {
			out = append(out, in.GetName())
		}
	}
	return out
}

// The sizes of the single-operator workloads: 16K and 4M elements, in rows of 1024 (768 for LayerNorm).
var opSizes = []struct {
	label string
	rows  int // of 1024 elements
}{{"16K", 16}, {"4M", 4096}}

const layerNormWidth = 768

// opWorkload describes one single-operator model: its label, opset and how to build its graph on input X
// of the given shape, returning the output's name.
type opWorkload struct {
	key, name string
	opset     int64
	build     func(b *exporter.Graph, x string, shape []int) string
}

var opWorkloads = []opWorkload{
	{"sigmoid", "Sigmoid", 13, func(b *exporter.Graph, x string, _ []int) string {
		return b.Node("Sigmoid", []string{x}, nil)
	}},
	{"silu", "SiLU as Sigmoid→Mul", 13, func(b *exporter.Graph, x string, _ []int) string {
		return b.Node("Mul", []string{x, b.Node("Sigmoid", []string{x}, nil)}, nil)
	}},
	{"swish", "SiLU as Swish-24", 24, func(b *exporter.Graph, x string, _ []int) string {
		return b.Node("Swish", []string{x}, nil)
	}},
	{"gelu_erf", "GELU, Erf form", 13, func(b *exporter.Graph, x string, _ []int) string {
		// x · 0.5 · (1 + erf(x / √2)), as torch exports nn.GELU() before opset 20
		sqrt2 := b.Float32Initializer(b.Unique("sqrt2"), nil, []float32{1.4142135})
		one := b.Float32Initializer(b.Unique("one"), nil, []float32{1})
		half := b.Float32Initializer(b.Unique("half"), nil, []float32{0.5})
		e := b.Node("Erf", []string{b.Node("Div", []string{x, sqrt2}, nil)}, nil)
		return b.Node("Mul", []string{b.Node("Mul", []string{x, b.Node("Add", []string{e, one}, nil)}, nil), half}, nil)
	}},
	{"gelu20", "Gelu-20", 20, func(b *exporter.Graph, x string, _ []int) string {
		return b.Node("Gelu", []string{x}, nil)
	}},
	{"softmax", "Softmax (last axis, rows of 1024)", 13, func(b *exporter.Graph, x string, _ []int) string {
		return b.Node("Softmax", []string{x}, exporter.Attrs{"axis": int64(-1)})
	}},
	{"layernorm", "LayerNormalization-17 (rows of 768)", 17, func(b *exporter.Graph, x string, shape []int) string {
		width := shape[len(shape)-1]
		rng := rand.New(rand.NewPCG(3, 4))
		scale, bias := make([]float32, width), make([]float32, width)
		for i := range scale {
			scale[i], bias[i] = 0.8+0.4*rng.Float32(), 0.1*rng.Float32()-0.05
		}
		return b.Node("LayerNormalization", []string{x, b.Float32Initializer(b.Unique("scale"), []int{width}, scale),
			b.Float32Initializer(b.Unique("bias"), []int{width}, bias)}, exporter.Attrs{"axis": int64(-1), "epsilon": float32(1e-5)})
	}},
}

// operatorWorkloads builds the single-operator workloads (each at 16K and 4M elements) and the depthwise
// convolutions of MobileNetV2.
func operatorWorkloads(only func(key string) bool) ([]*workload, error) {
	var out []*workload
	for _, o := range opWorkloads {
		for _, size := range opSizes {
			key := fmt.Sprintf("op_%s_%s", o.key, strings.ToLower(size.label))
			if !only(key) {
				continue
			}
			shape := []int{size.rows, 1024}
			if o.key == "layernorm" {
				shape = []int{size.rows * 1024 / layerNormWidth, layerNormWidth}
			}
			b := exporter.NewGraph(o.key)
			x := b.Input("X", onnxpb.TensorProto_FLOAT, exportDims(shape)...)
			y := o.build(b, x, shape)
			b.Rename(y, "Y")
			b.Output("Y", onnxpb.TensorProto_FLOAT, exportDims(shape)...)
			w, err := memoryWorkload(key, fmt.Sprintf("%s, %s elements", o.name, size.label), b, o.opset, shape, 5)
			if err != nil {
				return nil, err
			}
			w.elements = int64(shape[0] * shape[1])
			w.targetRatio = 1.0
			out = append(out, w)
		}
	}
	for _, l := range mobileNetV2Depthwise {
		key := fmt.Sprintf("dw_%dx%d_c%d_s%d", l.size, l.size, l.channels, l.stride)
		if !only(key) {
			continue
		}
		w, err := depthwiseWorkload(key, l.channels, l.size, l.stride)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func exportDims(shape []int) []exporter.Dim {
	out := make([]exporter.Dim, len(shape))
	for i, d := range shape {
		out[i] = d
	}
	return out
}

// mobileNetV2Depthwise are the depthwise 3x3 convolutions of torchvision's MobileNetV2 at 224², batch 1:
// channels, input height and width, stride (one row per distinct shape).
var mobileNetV2Depthwise = []struct{ channels, size, stride int }{
	{32, 112, 1}, {96, 112, 2}, {144, 56, 1}, {144, 56, 2}, {192, 28, 1},
	{192, 28, 2}, {384, 14, 1}, {576, 14, 1}, {576, 14, 2}, {960, 7, 1},
}

// depthwiseWorkload is one depthwise 3x3 convolution (pads 1, bias, weights as initializers) on a
// [1,C,H,H] input.
func depthwiseWorkload(key string, channels, size, stride int) (*workload, error) {
	rng := rand.New(rand.NewPCG(5, uint64(channels*size+stride)))
	weights, bias := make([]float32, channels*9), make([]float32, channels)
	for i := range weights {
		weights[i] = rng.Float32()*2 - 1
	}
	for i := range bias {
		bias[i] = rng.Float32()*0.2 - 0.1
	}
	out := (size+2-3)/stride + 1
	b := exporter.NewGraph("depthwise")
	x := b.Input("X", onnxpb.TensorProto_FLOAT, 1, channels, size, size)
	b.NodeNamed("depthwise", "Conv", "", []string{x, b.Float32Initializer("W", []int{channels, 1, 3, 3}, weights),
		b.Float32Initializer("B", []int{channels}, bias)}, []string{"Y"},
		exporter.Attrs{"group": int64(channels), "kernel_shape": []int64{3, 3}, "pads": []int64{1, 1, 1, 1},
			"strides": []int64{int64(stride), int64(stride)}})
	b.Output("Y", onnxpb.TensorProto_FLOAT, 1, channels, out, out)
	name := fmt.Sprintf("Depthwise 3×3 conv, %d channels, %d², stride %d", channels, size, stride)
	w, err := memoryWorkload(key, name, b, 13, []int{1, channels, size, size}, 6)
	if err != nil {
		return nil, err
	}
	w.peakTarget1, w.peakTargetN = depthwisePeakShare, depthwisePeakShare
	return w, nil
}

// memoryWorkload finishes a one-input model built in memory, with random inputs in [-4, 4) drawn with seed.
func memoryWorkload(key, name string, b *exporter.Graph, opset int64, shape []int, seed uint64) (*workload, error) {
	m, err := b.Model(exporter.ModelOptions{Opset: opset})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	raw, err := m.Encode()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, ops.Shape(shape).Size())
	for i := range x {
		x[i] = rng.Float32()*8 - 4
	}
	w := &workload{key: key, name: name, modelPath: "(" + name + ", built in memory)", modelBytes: raw, batch: 1,
		inputShapes: []ops.Shape{ops.Shape(shape).Clone()}, inputs: [][]float32{x}, suite: suiteOps}
	return w, w.prepare()
}
