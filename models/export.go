package models

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// Export opsets: every op a network exports (Conv, MaxPool, AveragePool, GlobalAveragePool, Relu, Sigmoid,
// Tanh, Flatten, Gemm, Add, BatchNormalization in inference mode, Softmax) has the same meaning for these
// graphs from opset 9 to 21.
const (
	DefaultExportOpset = 13
	MinExportOpset     = 9
	MaxExportOpset     = 21
)

// ExportOptions control Network.Export. The zero value exports at opset 13 with input "input" and output
// "logits", batch dimension "N".
type ExportOptions struct {
	Opset      int    // 9 to 21; 0 means DefaultExportOpset
	Softmax    bool   // append a Softmax so the model outputs probabilities (output "probabilities")
	GraphName  string // "network" when empty
	InputName  string // "input" when empty
	OutputName string // "logits" (or "probabilities" with Softmax) when empty
	BatchDim   string // the symbolic batch dimension, "N" when empty
	// FoldBatchNorm folds each BatchNorm that follows a Conv2D or Dense without activation (read by
	// nothing else) into that layer's weight and bias; other BatchNorms, and all without it, export as
	// ONNX BatchNormalization nodes with the running averages.
	FoldBatchNorm bool
	// ProducerVersion, DocString and Metadata go to the ModelProto (producer_name is "onnxrun").
	ProducerVersion string
	DocString       string
	Metadata        map[string]string
}

// exportState is what layers need while exporting: the graph and the symbolic batch dimension.
type exportState struct {
	g     *exporter.Graph
	batch string
	opset int
	// folded marks the BatchNorms whose preceding layer's exported weights already hold them.
	folded map[*BatchNorm]bool
}

// dims is a per-example shape with the symbolic batch dimension in front, for value_info.
func (e *exportState) dims(shape ops.Shape) []exporter.Dim {
	d := []exporter.Dim{e.batch}
	for _, v := range shape {
		d = append(d, v)
	}
	return d
}

// node adds one node named after its output, records the output's shape as value_info, and returns the
// output's name.
func (e *exportState) node(opType, name string, inputs []string, attrs exporter.Attrs, shape ops.Shape, doc string) string {
	out := e.g.Unique(name)
	e.g.NodeNamed(out, opType, "", inputs, []string{out}, attrs)
	e.g.NodeDoc(doc)
	e.g.ValueInfo(out, onnxpb.TensorProto_FLOAT, e.dims(shape)...)
	return out
}

func (e *exportState) param(p *Param) string {
	return e.g.Float32Initializer(p.Name, p.Shape, p.Value)
}

func (e *exportState) activation(a Activation, x, layer string, shape ops.Shape) string {
	doc := fmt.Sprintf("%s activation of %s", a, layer)
	switch a {
	case GELU:
		// x·(1 + erf(x/√2))/2 in ops every opset from 9 has (ONNX's own Gelu needs opset 20).
		scaled := e.node("Mul", layer+"_gelu_scale", []string{x, e.scalar(layer+"_gelu_inv_sqrt2", 1/math.Sqrt2)}, nil, shape, doc)
		erf := e.node("Erf", layer+"_gelu_erf", []string{scaled}, nil, shape, doc)
		onePlus := e.node("Add", layer+"_gelu_one_plus", []string{erf, e.scalar(layer+"_gelu_one", 1)}, nil, shape, doc)
		half := e.node("Mul", layer+"_gelu_half", []string{onePlus, e.scalar(layer+"_gelu_half_const", 0.5)}, nil, shape, doc)
		return e.node("Mul", layer+"_gelu", []string{x, half}, nil, shape, doc)
	case SiLU:
		sig := e.node("Sigmoid", layer+"_silu_sigmoid", []string{x}, nil, shape, doc)
		return e.node("Mul", layer+"_silu", []string{x, sig}, nil, shape, doc)
	}
	op, _ := a.opTypes()
	if op == "" {
		return x
	}
	return e.node(op, layer+"_"+a.String(), []string{x}, nil, shape, doc)
}

// scalar adds a float32 scalar initializer.
func (e *exportState) scalar(name string, v float64) string {
	return e.g.Float32Initializer(e.g.Unique(name), nil, []float32{float32(v)})
}

func (l *Conv2D) export(e *exportState, x string) (string, error) {
	w, b := e.param(l.weight), e.param(l.bias)
	p, q := l.padBegin, l.padEnd
	attrs := exporter.Attrs{"kernel_shape": []int{l.Kernel, l.Kernel}, "strides": []int{l.stride(), l.stride()}, "dilations": []int{1, 1},
		"pads": []int{p, p, q, q}, "group": 1}
	y := e.node("Conv", l.LayerName, []string{x, w, b}, attrs, l.out,
		fmt.Sprintf("Conv2D: %d filters %dx%d, stride %d, padding %s", l.Filters, l.Kernel, l.Kernel, l.stride(), l.paddingName()))
	return e.activation(l.Activation, y, l.LayerName, l.out), nil
}

func (l *Pool2D) export(e *exportState, x string) (string, error) {
	attrs := exporter.Attrs{"kernel_shape": []int{l.Size, l.Size}, "strides": []int{l.Size, l.Size}}
	return e.node(l.opType(), l.LayerName, []string{x}, attrs, l.out, fmt.Sprintf("%s %dx%d", l.Type(), l.Size, l.Size)), nil
}

func (l *Flatten) export(e *exportState, x string) (string, error) {
	return e.node("Flatten", l.LayerName, []string{x}, exporter.Attrs{"axis": 1}, l.out, "Flatten (channels-first order)"), nil
}

func (l *Dense) export(e *exportState, x string) (string, error) {
	w, b := e.param(l.weight), e.param(l.bias)
	attrs := exporter.Attrs{"transB": 1, "alpha": float32(1), "beta": float32(1)}
	y := e.node("Gemm", l.LayerName, []string{x, w, b}, attrs, l.out, fmt.Sprintf("Dense: %d units, weight [out, in]", l.Units))
	return e.activation(l.Activation, y, l.LayerName, l.out), nil
}

func (l *GlobalAveragePool) export(e *exportState, x string) (string, error) {
	pooled := e.node("GlobalAveragePool", l.LayerName, []string{x}, nil, ops.Shape{l.in[0], 1, 1}, "GlobalAveragePooling2D")
	return e.node("Flatten", l.LayerName+"_flatten", []string{pooled}, exporter.Attrs{"axis": 1}, l.out, "channels as a vector"), nil
}

func (l *Add) export(*exportState, string) (string, error) {
	return "", fmt.Errorf("layer %s (Add) reads two or more outputs", l.LayerName)
}

func (l *Add) exportMerge(e *exportState, xs []string) (string, error) {
	sum := xs[0]
	for k, x := range xs[1:] {
		name := l.LayerName
		if k > 0 {
			name = fmt.Sprintf("%s_%d", l.LayerName, k+1)
		}
		sum = e.node("Add", name, []string{sum, x}, nil, l.shape, "residual sum")
	}
	return e.activation(l.Activation, sum, l.LayerName, l.shape), nil
}

func (l *BatchNorm) export(e *exportState, x string) (string, error) {
	if e.folded[l] {
		return e.activation(l.Activation, x, l.LayerName, l.shape), nil
	}
	in := []string{x, e.param(l.scale), e.param(l.shift), e.param(l.runningMean), e.param(l.runningVar)}
	y := e.node("BatchNormalization", l.LayerName, in, exporter.Attrs{"epsilon": float32(l.epsilon), "momentum": float32(l.momentum)},
		l.shape, "BatchNormalization with the running averages")
	return e.activation(l.Activation, y, l.LayerName, l.shape), nil
}

// foldBatchNorms gives each foldable BatchNorm's preceding Conv2D or Dense, for the export, a weight and
// bias that include the normalization: per output channel c, with k = scale[c]/sqrt(var[c]+eps),
// W'[c] = k·W[c] and b'[c] = k·(b[c] - mean[c]) + shift[c]. It returns what puts the layers' own
// parameters back.
func (n *Network) foldBatchNorms(e *exportState) (restore func()) {
	e.folded = map[*BatchNorm]bool{}
	var undo []func()
	for i, l := range n.Layers {
		bn, ok := l.(*BatchNorm)
		if !ok || len(n.inputs[i]) != 1 || n.inputs[i][0] == networkInput || n.consumers[n.inputs[i][0]] != 1 {
			continue
		}
		var weight, bias **Param
		switch prev := n.Layers[n.inputs[i][0]].(type) {
		case *Conv2D:
			if prev.Activation == Linear {
				weight, bias = &prev.weight, &prev.bias
			}
		case *Dense:
			if prev.Activation == Linear {
				weight, bias = &prev.weight, &prev.bias
			}
		}
		if weight == nil {
			continue
		}
		w, b := *weight, *bias
		fw, fb := *w, *b
		fw.Value, fb.Value = make([]float32, len(w.Value)), make([]float32, len(b.Value))
		per := len(w.Value) / bn.channels
		for c := 0; c < bn.channels; c++ {
			k := float64(bn.scale.Value[c]) / math.Sqrt(float64(bn.runningVar.Value[c])+bn.epsilon)
			for j := c * per; j < (c+1)*per; j++ {
				fw.Value[j] = float32(k * float64(w.Value[j]))
			}
			fb.Value[c] = float32(k*(float64(b.Value[c])-float64(bn.runningMean.Value[c])) + float64(bn.shift.Value[c]))
		}
		*weight, *bias = &fw, &fb
		e.folded[bn] = true
		undo = append(undo, func() { *weight, *bias = w, b })
	}
	return func() {
		for _, f := range undo {
			f()
		}
	}
}

// Dropout is the identity at inference: the exported graph leaves it out.
func (l *Dropout) export(_ *exportState, x string) (string, error) { return x, nil }

// Export writes the network as an ONNX model for inference: float32 input [N, Input...] with a symbolic
// batch dimension, one node (or two, with the activation) per layer, weights as initializers in raw_data,
// value_info for every intermediate value, and a final Softmax when asked. Dropout layers are left out.
func (n *Network) Export(opts ExportOptions) (*onnx.Model, error) {
	if opts.Opset == 0 {
		opts.Opset = DefaultExportOpset
	}
	if opts.Opset < MinExportOpset || opts.Opset > MaxExportOpset {
		return nil, fmt.Errorf("models: export opset %d, want %d to %d", opts.Opset, MinExportOpset, MaxExportOpset)
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&opts.GraphName, "network")
	def(&opts.InputName, "input")
	def(&opts.BatchDim, "N")
	if opts.Softmax {
		def(&opts.OutputName, "probabilities")
	} else {
		def(&opts.OutputName, "logits")
	}
	g := exporter.NewGraph(opts.GraphName)
	e := &exportState{g: g, batch: opts.BatchDim, opset: opts.Opset}
	x := g.Input(opts.InputName, onnxpb.TensorProto_FLOAT, e.dims(n.Input)...)
	g.ValueDoc(x, fmt.Sprintf("a batch of %v images, float32 in [0, 1] (pixel / 255)", n.Input))
	if opts.FoldBatchNorm {
		restore := n.foldBatchNorms(e)
		defer restore()
	}
	names := make([]string, len(n.Layers))
	for i, l := range n.Layers {
		xs := make([]string, len(n.inputs[i]))
		for k, j := range n.inputs[i] {
			xs[k] = x
			if j != networkInput {
				xs[k] = names[j]
			}
		}
		var err error
		if m, ok := l.(mergeLayer); ok {
			names[i], err = m.exportMerge(e, xs)
		} else {
			names[i], err = l.export(e, xs[0])
		}
		if err != nil {
			return nil, fmt.Errorf("models: export layer %s: %w", l.Name(), err)
		}
	}
	x = names[len(names)-1]
	if opts.Softmax {
		x = e.node("Softmax", "softmax", []string{x}, exporter.Attrs{"axis": 1}, n.Output(), "class probabilities")
	}
	if x == opts.InputName {
		return nil, fmt.Errorf("models: the network exports no node (only Dropout layers?)")
	}
	g.Rename(x, opts.OutputName)
	g.Output(opts.OutputName, onnxpb.TensorProto_FLOAT, e.dims(n.Output())...)
	what := "class probabilities"
	if !opts.Softmax {
		what = "class scores (logits); softmax gives probabilities"
	}
	g.ValueDoc(opts.OutputName, what)
	g.Doc(fmt.Sprintf("Network, %d parameters:\n%s", n.NumParams(), n.Summary()))
	return g.Model(exporter.ModelOptions{Opset: int64(opts.Opset), ProducerVersion: opts.ProducerVersion,
		DocString: opts.DocString, Metadata: opts.Metadata})
}
