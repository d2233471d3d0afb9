package models

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	_ "github.com/onnxrun/onnxrun/ops/array" // Shape, Gather, Slice, Concat, Reshape... of shape subgraphs
	"github.com/onnxrun/onnxrun/tensorconv"
)

// ImportOptions control ImportONNX.
type ImportOptions struct {
	// NumClasses, if not 0, replaces the last Gemm (or MatMul+Add) by a fresh one with this many outputs:
	// Glorot-uniform weights drawn from Seed, zero bias.
	NumClasses int
	Seed       uint64
	// Freeze lists layer (ONNX node) or parameter (initializer) names, or prefixes of them, whose
	// parameters the optimizer leaves alone.
	Freeze []string
	// Origin names the model for checkpoints (the CLI gives the file and its SHA-256): a checkpoint of
	// the fine-tune records it, and resuming from it with another source model is refused.
	Origin string
}

// UnsupportedNodeError is an ONNX node ImportONNX cannot turn into a trainable layer.
type UnsupportedNodeError struct {
	Node, OpType string
	Why          string
}

func (e *UnsupportedNodeError) Error() string {
	return fmt.Sprintf("models: import: node %q (%s): %s", e.Node, e.OpType, e.Why)
}

// shapeProbeBatch is the batch size the import folds shape subgraphs (Shape → Gather → Concat → Reshape)
// at. A Reshape target whose first entry is this value, -1 or 0 keeps the batch axis; any other first
// entry would mix examples and is refused. The value is one no real target uses by chance.
const shapeProbeBatch = 9973

// importSource is the model an imported network came from, for Network.Export.
type importSource struct {
	model *onnx.Model
	// paramDims is the initializer shape of each parameter (a Gemm bias may be [1, N], stored here as [N]).
	paramDims map[string][]int64
	// head is the layer --num-classes replaced (nil when none was).
	head    *linearLayer
	classes int    // the network's output size
	origin  string // ImportOptions.Origin
}

// importer walks an ONNX graph in node order: each node reads one activation (the output of an earlier
// layer, or the input) and any number of constants, except the Add of two activations that joins a
// residual connection. The layers become a Graph, each reading the layers that produced its inputs.
type importer struct {
	model   *onnx.Model
	opset   int
	consts  map[string]*ops.Tensor
	inShape ops.Shape // the per-example shape of the activation the current node reads
	// shapes holds the per-example shape of every activation so far, for the nodes that read it and for
	// Shape nodes (tf2onnx's flatten reads the shape before its Transpose).
	shapes map[string]ops.Shape
	// producer names the layer whose output each activation is (InputName for the graph's input); nodes
	// without a layer (Identity, Softmax, a Conv's bias Add) pass their input's producer on.
	producer map[string]string
	// readers counts the nodes (and graph outputs) reading each value.
	readers map[string]int
	layers  []Layer
	from    [][]string // from[i]: the layers layer i reads, for Graph.Layer
	byName  map[string]Layer
	src     *importSource
	// pending is a MatMul waiting for the Add of its bias, pendingOut its output, pendingFrom the layer
	// it reads and pendingIn that layer's output shape.
	pending                 *linearLayer
	pendingOut, pendingFrom string
	pendingIn               ops.Shape
	ended                   string // the op type of the final Softmax/LogSoftmax, once seen
	// fixedBatch is the input's batch size when the model fixes it (mnist8's 1), else 0: a Reshape to
	// [fixedBatch, ...] then keeps the batch axis too (the export still takes that batch only).
	fixedBatch int64
}

// ImportONNX builds a trainable network from an ONNX CNN, with the model's initializers as
// the starting weights (see doc.go, "Imported models"). The network exports back to the same graph.
func ImportONNX(m *onnx.Model, opts ImportOptions) (*Network, error) {
	g := m.Proto.GetGraph()
	if g == nil {
		return nil, fmt.Errorf("models: import: the model has no graph")
	}
	opset, ok := m.OpsetFor("")
	if !ok {
		return nil, fmt.Errorf("models: import: the model imports no default-domain opset")
	}
	im := &importer{model: m, opset: int(opset), consts: map[string]*ops.Tensor{}, byName: map[string]Layer{},
		shapes: map[string]ops.Shape{}, producer: map[string]string{}, readers: map[string]int{},
		src: &importSource{model: m, paramDims: map[string][]int64{}, origin: opts.Origin}}
	for _, init := range g.GetInitializer() {
		a, err := m.TensorArray(init)
		if err != nil {
			return nil, fmt.Errorf("models: import: initializer %q: %w", init.GetName(), err)
		}
		t, err := tensorconv.FromArray(a)
		if err != nil {
			return nil, fmt.Errorf("models: import: initializer %q: %w", init.GetName(), err)
		}
		im.consts[init.GetName()] = t
	}
	var inputs []*onnxpb.ValueInfoProto
	for _, in := range g.GetInput() {
		if _, isConst := im.consts[in.GetName()]; !isConst {
			inputs = append(inputs, in)
		}
	}
	if len(inputs) != 1 || len(g.GetOutput()) != 1 {
		return nil, fmt.Errorf("models: import: the graph has %d inputs and %d outputs, want one of each", len(inputs), len(g.GetOutput()))
	}
	input, err := exampleShape(inputs[0])
	if err != nil {
		return nil, err
	}
	if _, dims, _ := onnx.ValueInfoShape(inputs[0]); dims[0].Param == "" && dims[0].Value > 0 {
		im.fixedBatch = dims[0].Value
	}
	im.shapes[inputs[0].GetName()] = input
	im.producer[inputs[0].GetName()] = InputName
	for _, n := range g.GetNode() {
		for _, in := range n.GetInput() {
			im.readers[in]++
		}
	}
	outName := g.GetOutput()[0].GetName()
	im.readers[outName]++
	for i, n := range g.GetNode() {
		if err := im.node(i, n); err != nil {
			return nil, err
		}
	}
	if im.pending != nil {
		return nil, &UnsupportedNodeError{Node: im.pending.LayerName, OpType: "MatMul", Why: "a MatMul not followed by the Add of a bias"}
	}
	if len(im.layers) == 0 {
		return nil, fmt.Errorf("models: import: the graph has no layer to train")
	}
	if last := im.layers[len(im.layers)-1].Name(); im.producer[outName] != last {
		return nil, fmt.Errorf("models: import: the graph output %q is not the output of the last layer, %s", outName, last)
	}
	if opts.NumClasses != 0 {
		if err := im.replaceHead(opts.NumClasses); err != nil {
			return nil, err
		}
	}
	graph := NewGraph(input)
	for i, l := range im.layers {
		graph.Layer(l, im.from[i]...)
	}
	net, err := graph.Build()
	if err != nil {
		return nil, fmt.Errorf("models: import: %w", err)
	}
	if err := im.loadWeights(net, opts.Seed); err != nil {
		return nil, err
	}
	im.src.classes = net.Output()[len(net.Output())-1] // the trainer checks that it is a vector of class scores
	net.source = im.src
	if err := net.Freeze(opts.Freeze...); err != nil {
		return nil, err
	}
	return net, nil
}

// exampleShape is an input's shape without its (first, batch) dimension, which must be the only
// symbolic one.
func exampleShape(vi *onnxpb.ValueInfoProto) (ops.Shape, error) {
	_, dims, ok := onnx.ValueInfoShape(vi)
	if !ok || len(dims) < 2 {
		return nil, fmt.Errorf("models: import: input %q is not a float tensor with a batch axis", vi.GetName())
	}
	shape := ops.Shape{}
	for i, d := range dims[1:] {
		if d.Value < 1 {
			return nil, fmt.Errorf("models: import: input %q has no fixed size on axis %d", vi.GetName(), i+1)
		}
		shape = append(shape, int(d.Value))
	}
	return shape, nil
}

func nodeName(i int, n *onnxpb.NodeProto) string {
	if n.GetName() != "" {
		return n.GetName()
	}
	if len(n.GetOutput()) > 0 && n.GetOutput()[0] != "" {
		return n.GetOutput()[0]
	}
	return fmt.Sprintf("#%d:%s", i, n.GetOpType())
}

func (im *importer) unsupported(name, opType, format string, args ...any) error {
	return &UnsupportedNodeError{Node: name, OpType: opType, Why: fmt.Sprintf(format, args...)}
}

// attrs converts a node's attributes to ops form (numbers, strings and tensors; graphs are refused).
func (im *importer) attrs(name string, n *onnxpb.NodeProto) (ops.AttrMap, error) {
	out := ops.AttrMap{}
	for _, a := range n.GetAttribute() {
		v, err := onnx.AttrValue(a)
		if err != nil {
			return nil, fmt.Errorf("models: import: node %q: %w", name, err)
		}
		switch v := v.(type) {
		case int64:
			out[a.GetName()] = ops.IntAttr(v)
		case float32:
			out[a.GetName()] = ops.FloatAttr(v)
		case string:
			out[a.GetName()] = ops.StringAttr(v)
		case []int64:
			out[a.GetName()] = ops.IntsAttr(v...)
		case []float32:
			out[a.GetName()] = ops.FloatsAttr(v...)
		case *onnxpb.TensorProto:
			arr, err := im.model.TensorArray(v)
			if err != nil {
				return nil, fmt.Errorf("models: import: node %q attribute %q: %w", name, a.GetName(), err)
			}
			t, err := tensorconv.FromArray(arr)
			if err != nil {
				return nil, fmt.Errorf("models: import: node %q attribute %q: %w", name, a.GetName(), err)
			}
			out[a.GetName()] = ops.TensorAttr(t)
		default:
			return nil, im.unsupported(name, n.GetOpType(), "attribute %q of kind %T", a.GetName(), v)
		}
	}
	return out, nil
}

// node turns one ONNX node into a layer, a folded constant, or nothing (Identity, inference Dropout).
func (im *importer) node(i int, n *onnxpb.NodeProto) error {
	name, opType := nodeName(i, n), n.GetOpType()
	if d := onnx.NormalizeDomain(n.GetDomain()); d != "" {
		return im.unsupported(name, opType, "domain %q: only default-domain operators are imported", d)
	}
	if im.ended != "" {
		return im.unsupported(name, opType, "it follows the final %s; only a Softmax or LogSoftmax may end the network", im.ended)
	}
	attrs, err := im.attrs(name, n)
	if err != nil {
		return err
	}
	if _, isActivation := im.shapes[firstInput(n)]; opType == "Shape" && isActivation {
		return im.foldShape(name, n, attrs)
	}
	var activation []int // the inputs that are activations, not constants
	for k, in := range n.GetInput() {
		if in == "" {
			continue
		}
		if _, ok := im.consts[in]; ok {
			continue
		}
		if _, ok := im.shapes[in]; !ok {
			return im.unsupported(name, opType, "input %q is neither a constant nor the output of an earlier node", in)
		}
		activation = append(activation, k)
	}
	if len(activation) == 0 {
		return im.fold(name, n, attrs)
	}
	if len(n.GetOutput()) < 1 || n.GetOutput()[0] == "" {
		return im.unsupported(name, opType, "it has no output")
	}
	if im.pending != nil && (opType != "Add" || len(activation) != 1 || firstInput(n) != im.pendingOut) {
		return im.unsupported(im.pending.LayerName, "MatMul", "a MatMul not followed by the Add of a bias (next is %s %q)", opType, name)
	}
	if opType == "Add" && len(activation) == 2 {
		return im.residualAdd(name, n)
	}
	if len(activation) != 1 || activation[0] != 0 {
		return im.unsupported(name, opType, "its first input must be its only activation (only an Add may sum two)")
	}
	in, out := firstInput(n), n.GetOutput()[0]
	from := im.producer[in]
	im.inShape = im.shapes[in]
	if im.pending != nil { // the Add completes the MatMul, which read that layer
		from, im.inShape = im.pendingFrom, im.pendingIn
	}
	layer, err := im.layer(name, n, attrs)
	if err != nil {
		return err
	}
	switch {
	case layer != nil:
		shape, err := im.addLayer(layer, im.inShape, from)
		if err != nil {
			return err
		}
		im.producer[out], im.shapes[out] = layer.Name(), shape
	case im.pending != nil: // the MatMul, waiting for its bias
		im.pendingOut, im.pendingFrom, im.pendingIn = out, from, im.inShape
		im.shapes[out] = ops.Shape{im.pending.weightShape[1]}
	default: // Identity, the final Softmax, a Conv's bias: the output is the input's producer's
		im.producer[out], im.shapes[out] = from, im.shapes[in]
	}
	return nil
}

// addLayer builds layer on its input shape (each input's, for an Add) and appends it, reading the layers
// named in from; it returns the layer's output shape.
func (im *importer) addLayer(layer Layer, in ops.Shape, from ...string) (ops.Shape, error) {
	if _, dup := im.byName[layer.Name()]; dup {
		return nil, im.unsupported(layer.Name(), layer.Type(), "two layers are named %q", layer.Name())
	}
	var out ops.Shape
	var err error
	if m, ok := layer.(mergeLayer); ok {
		shapes := make([]ops.Shape, len(from))
		for k := range shapes {
			shapes[k] = in
		}
		out, err = m.buildMerge(shapes)
	} else {
		out, err = layer.build(in)
	}
	if err != nil {
		return nil, fmt.Errorf("models: import: %w", err)
	}
	im.byName[layer.Name()] = layer
	im.layers = append(im.layers, layer)
	im.from = append(im.from, from)
	return out, nil
}

// residualAdd imports the Add of two activations of the same shape, the join of a residual connection:
// gradients flow back into both branches.
func (im *importer) residualAdd(name string, n *onnxpb.NodeProto) error {
	a, b := n.GetInput()[0], n.GetInput()[1]
	if !im.shapes[a].Equal(im.shapes[b]) {
		return im.unsupported(name, "Add", "it sums %q of shape %v and %q of shape %v: only the sum of two activations of the same shape (a residual connection) is imported",
			a, im.shapes[a], b, im.shapes[b])
	}
	shape, err := im.addLayer(&Add{LayerName: name}, im.shapes[a], im.producer[a], im.producer[b])
	if err != nil {
		return err
	}
	out := n.GetOutput()[0]
	im.producer[out], im.shapes[out] = name, shape
	return nil
}

// constInput returns input k of n if it is a constant, nil if it is absent.
func (im *importer) constInput(n *onnxpb.NodeProto, k int) *ops.Tensor {
	if k >= len(n.GetInput()) || n.GetInput()[k] == "" {
		return nil
	}
	return im.consts[n.GetInput()[k]]
}

func (im *importer) layer(name string, n *onnxpb.NodeProto, attrs ops.AttrMap) (Layer, error) {
	opType := n.GetOpType()
	base := importedLayer{LayerName: name, OpType: opType}
	switch opType {
	case "Conv", "Gemm":
		w := im.constInput(n, 1)
		if w == nil || w.DType() != ops.Float32 {
			return nil, im.unsupported(name, opType, "the weight must be a float32 initializer")
		}
		l := &linearLayer{importedLayer: base, weightShape: w.Shape(), attrs: ops.AttrMap{}}
		l.weight = &Param{Name: n.GetInput()[1]}
		l.bias = &Param{Name: name + ".bias", frozen: true} // a zero bias the graph has no room for
		if b := im.constInput(n, 2); b != nil {
			l.bias = &Param{Name: n.GetInput()[2]}
			l.hasBias = true
		} else if len(n.GetInput()) > 2 && n.GetInput()[2] != "" {
			return nil, im.unsupported(name, opType, "the bias must be an initializer")
		}
		if opType == "Conv" {
			l.attrs = attrs
		} else {
			r := ops.NewAttrReader(attrs)
			if r.Int("transA", 0) != 0 {
				return nil, im.unsupported(name, opType, "transA=1 (the activations must be rows)")
			}
			l.attrs["transB"] = ops.IntAttr(r.Int("transB", 0))
			l.attrs["alpha"] = ops.FloatAttr(r.Float("alpha", 1))
			l.attrs["beta"] = ops.FloatAttr(r.Float("beta", 1))
			if err := r.Err(); err != nil {
				return nil, fmt.Errorf("models: import: node %q: %w", name, err)
			}
		}
		im.recordDims(l.weight.Name, w)
		im.recordDims(l.bias.Name, im.constInput(n, 2))
		return l, nil
	case "MatMul":
		w := im.constInput(n, 1)
		if w == nil || w.DType() != ops.Float32 || w.Rank() != 2 {
			return nil, im.unsupported(name, opType, "the second input must be a float32 matrix initializer")
		}
		l := &linearLayer{importedLayer: base, weightShape: w.Shape(),
			attrs: ops.AttrMap{"transB": ops.IntAttr(0), "alpha": ops.FloatAttr(1), "beta": ops.FloatAttr(1)}}
		l.weight = &Param{Name: n.GetInput()[1]}
		im.recordDims(l.weight.Name, w)
		im.pending = l
		return nil, nil // the layer is added by the Add of its bias
	case "Add":
		l := im.pending
		b := im.constInput(n, 1)
		if l == nil && b != nil {
			return nil, im.convBias(name, n, b)
		}
		if l == nil || b == nil || b.Len() != l.weightShape[1] {
			return nil, im.unsupported(name, opType, "only the Add of a bias right after a MatMul, or after a Conv without one, is imported")
		}
		im.pending = nil
		l.bias = &Param{Name: n.GetInput()[1]}
		im.recordDims(l.bias.Name, b)
		return l, nil
	case "Relu", "Sigmoid", "Tanh":
		return &activationLayer{importedLayer: base}, nil
	case "LeakyRelu":
		r := ops.NewAttrReader(attrs)
		l := &activationLayer{importedLayer: base, alpha: r.Float("alpha", 0.01)}
		return l, r.Err()
	case "Clip":
		l := &activationLayer{importedLayer: base, min: float32(math.Inf(-1)), max: float32(math.Inf(1))}
		if im.opset < 11 {
			r := ops.NewAttrReader(attrs)
			l.min, l.max = r.Float("min", l.min), r.Float("max", l.max)
			return l, r.Err()
		}
		for k, bound := range []*float32{&l.min, &l.max} {
			if t := im.constInput(n, k+1); t != nil {
				if t.DType() != ops.Float32 || t.Len() != 1 {
					return nil, im.unsupported(name, opType, "bound %d is not a float32 scalar", k+1)
				}
				*bound = t.Float32s()[0]
			}
		}
		return l, nil
	case "MaxPool", "AveragePool":
		if len(n.GetOutput()) > 1 && n.GetOutput()[1] != "" {
			return nil, im.unsupported(name, opType, "the Indices output is not imported")
		}
		return &poolLayer{importedLayer: base, attrs: attrs}, nil
	case "GlobalAveragePool":
		return &globalAveragePoolLayer{importedLayer: base}, nil
	case "Flatten":
		r := ops.NewAttrReader(attrs)
		if axis := r.Int("axis", 1); axis != 1 {
			return nil, im.unsupported(name, opType, "axis %d: only axis 1 (keep the batch, flatten each example) is imported", axis)
		}
		return &reshapeLayer{importedLayer: base, target: ops.Shape{im.inShape.Size()}}, nil
	case "Reshape":
		return im.reshape(base, n)
	case "Transpose":
		perm := attrs["perm"].Ints
		if perm == nil {
			return nil, im.unsupported(name, opType, "no perm attribute (reversing every axis would move the batch)")
		}
		return &transposeLayer{importedLayer: base, perm: perm}, nil
	case "Pad":
		return im.pad(base, n, attrs)
	case "Dropout":
		rate := float64(0.5)
		r := ops.NewAttrReader(attrs)
		if im.opset < 12 {
			rate = float64(r.Float("ratio", 0.5))
		} else if t := im.constInput(n, 1); t != nil && t.DType() == ops.Float32 && t.Len() == 1 {
			rate = float64(t.Float32s()[0])
		}
		if len(n.GetOutput()) > 1 && n.GetOutput()[1] != "" {
			return nil, im.unsupported(name, opType, "the mask output is not imported")
		}
		return &Dropout{Rate: rate, LayerName: name}, r.Err()
	case "Identity":
		return nil, nil
	case "BatchNormalization":
		return im.batchNorm(base, n, attrs)
	case "Softmax", "LogSoftmax":
		r := ops.NewAttrReader(attrs)
		axis := r.Int("axis", map[bool]int64{true: 1, false: -1}[im.opset < 13])
		if len(im.inShape) != 1 || (axis != 1 && axis != -1) {
			return nil, im.unsupported(name, opType, "only a final %s over the class scores of [N, classes] is imported", opType)
		}
		im.ended = opType // the loss takes the logits before it; the export keeps it
		return nil, nil
	}
	return nil, im.unsupported(name, opType, "not an operator the trainer has layers for (Conv, Gemm, MatMul+Add, BatchNormalization, "+
		"Relu, LeakyRelu, Tanh, Sigmoid, Clip, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape, Transpose, "+
		"constant Pad, Constant, Dropout, Identity, final Softmax/LogSoftmax)")
}

// convBias takes the Add of a per-channel constant right after a Conv without bias (as CNTK and some
// TensorFlow exports write it) as that Conv's bias; the export writes the trained bias to the Add's
// initializer. The Conv's output must have no other reader, which would see it without the bias.
func (im *importer) convBias(name string, n *onnxpb.NodeProto, b *ops.Tensor) error {
	conv, _ := im.byName[im.producer[firstInput(n)]].(*linearLayer)
	if conv == nil || !conv.isConv() || conv.hasBias || im.readers[firstInput(n)] != 1 {
		return im.unsupported(name, "Add", "only the Add of a bias right after a MatMul, or after a Conv without one whose output nothing else reads, is imported")
	}
	channels := conv.weightShape[0]
	perChannel := b.DType() == ops.Float32 && b.Len() == channels
	for i, d := range b.Shape() {
		// [F 1 1] or [1 F 1 1]: the channel axis is the only one above 1, counted from the end as broadcasting does.
		fromEnd := b.Rank() - i
		if d != 1 && fromEnd != 3 {
			perChannel = false
		}
	}
	if !perChannel || b.Rank() < 3 {
		return im.unsupported(name, "Add", "the constant %v is not a per-channel bias of the %d-filter Conv %q", b.Shape(), channels, conv.LayerName)
	}
	conv.bias = &Param{Name: n.GetInput()[1]}
	conv.hasBias = true
	im.recordDims(conv.bias.Name, b)
	return nil
}

func (im *importer) recordDims(name string, t *ops.Tensor) {
	if t == nil {
		return
	}
	dims := make([]int64, t.Rank())
	for i, d := range t.Shape() {
		dims[i] = int64(d)
	}
	im.src.paramDims[name] = dims
}

func (im *importer) reshape(base importedLayer, n *onnxpb.NodeProto) (Layer, error) {
	t := im.constInput(n, 1)
	if t == nil || t.DType() != ops.Int64 {
		return nil, im.unsupported(base.LayerName, "Reshape", "the shape is not an int64 constant at a fixed batch size")
	}
	target := t.Int64s()
	keepsBatch := target[0] == -1 || target[0] == 0 || target[0] == shapeProbeBatch || (im.fixedBatch > 0 && target[0] == im.fixedBatch)
	if len(target) < 2 || !keepsBatch {
		return nil, im.unsupported(base.LayerName, "Reshape", "target %v does not keep the batch axis first", target)
	}
	shape := ops.Shape{}
	infer := -1
	known := 1
	for i, d := range target[1:] {
		switch {
		case d == -1 && infer < 0:
			infer = i
			shape = append(shape, 1)
		case d == 0 && i+1 < len(im.inShape)+1:
			shape = append(shape, im.inShape[i])
			known *= im.inShape[i]
		case d > 0:
			shape = append(shape, int(d))
			known *= int(d)
		default:
			return nil, im.unsupported(base.LayerName, "Reshape", "target %v is not a shape", target)
		}
	}
	if infer >= 0 {
		if known == 0 || im.inShape.Size()%known != 0 {
			return nil, im.unsupported(base.LayerName, "Reshape", "target %v does not fit %v", target, im.inShape)
		}
		shape[infer] = im.inShape.Size() / known
	}
	return &reshapeLayer{importedLayer: base, target: shape}, nil
}

func (im *importer) pad(base importedLayer, n *onnxpb.NodeProto, attrs ops.AttrMap) (Layer, error) {
	name := base.LayerName
	r := ops.NewAttrReader(attrs)
	mode := r.String("mode", "constant")
	pads := attrs["pads"].Ints
	value := r.Float("value", 0)
	if im.opset >= 11 {
		t := im.constInput(n, 1)
		if t == nil || t.DType() != ops.Int64 {
			return nil, im.unsupported(name, "Pad", "the pads must be an int64 constant")
		}
		pads = t.Int64s()
		if v := im.constInput(n, 2); v != nil {
			if v.DType() != ops.Float32 || v.Len() != 1 {
				return nil, im.unsupported(name, "Pad", "the constant value must be a float32 scalar")
			}
			value = v.Float32s()[0]
		}
		if len(n.GetInput()) > 3 && n.GetInput()[3] != "" {
			return nil, im.unsupported(name, "Pad", "the axes input is not imported")
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("models: import: node %q: %w", name, err)
	}
	if mode != "constant" {
		return nil, im.unsupported(name, "Pad", "mode %q: only constant padding is imported", mode)
	}
	if len(pads) != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 {
		return nil, im.unsupported(name, "Pad", "pads %v: only padding of height and width of an NCHW tensor is imported", pads)
	}
	for _, p := range pads {
		if p < 0 {
			return nil, im.unsupported(name, "Pad", "pads %v: negative pads (cropping) are not imported", pads)
		}
	}
	return &padLayer{importedLayer: base, value: value, top: int(pads[2]), left: int(pads[3]), bottom: int(pads[6]), right: int(pads[7])}, nil
}

func (im *importer) batchNorm(base importedLayer, n *onnxpb.NodeProto, attrs ops.AttrMap) (Layer, error) {
	name := base.LayerName
	var names [4]string
	for k := range names {
		t := im.constInput(n, k+1)
		if t == nil || t.DType() != ops.Float32 || t.Rank() != 1 {
			return nil, im.unsupported(name, "BatchNormalization", "input %d must be a float32 vector initializer", k+1)
		}
		names[k] = n.GetInput()[k+1]
		im.recordDims(names[k], t)
	}
	for _, out := range n.GetOutput()[1:] {
		if out != "" {
			return nil, im.unsupported(name, "BatchNormalization", "the training outputs (running mean and variance) are not imported")
		}
	}
	r := ops.NewAttrReader(attrs)
	eps := r.Float("epsilon", 1e-5)
	momentum := r.Float("momentum", 0.9)
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("models: import: node %q: %w", name, err)
	}
	// Trained as the BatchNorm layer: batch statistics in training, running averages moved by the
	// model's momentum (ONNX's convention is the trainer's) and used in inference and the export.
	return &BatchNorm{LayerName: name, Epsilon: float64(eps), Momentum: float64(momentum), initializers: &names}, nil
}

// fold evaluates a node whose inputs are all constants (Constant, the arithmetic of shape subgraphs)
// with its kernel, so its outputs become constants too.
func (im *importer) fold(name string, n *onnxpb.NodeProto, attrs ops.AttrMap) error {
	var in []ops.ValueInfo
	var tensors []*ops.Tensor
	for _, v := range n.GetInput() {
		if v == "" {
			in = append(in, ops.ValueInfo{})
			tensors = append(tensors, nil)
			continue
		}
		t := im.consts[v]
		in = append(in, ops.ValueInfo{DType: t.DType(), Shape: t.Shape(), Const: t})
		tensors = append(tensors, t)
	}
	inst, err := ops.Instantiate(ops.NodeInfo{Name: name, OpType: n.GetOpType(), Opset: im.opset, Attrs: attrs, NumOutputs: len(n.GetOutput())}, in)
	if err != nil {
		return im.unsupported(name, n.GetOpType(), "its inputs are constant but it cannot be folded: %v", err)
	}
	outs := make([]*ops.Tensor, len(inst.Outputs))
	for k, vi := range inst.Outputs {
		if vi.Kind() != ops.KindTensor {
			return im.unsupported(name, n.GetOpType(), "output %d is not a tensor", k)
		}
		outs[k] = ops.New(vi.DType, vi.Shape)
	}
	if err := inst.Kernel.Run(ops.SerialContext(), tensors, outs); err != nil {
		return im.unsupported(name, n.GetOpType(), "folding it failed: %v", err)
	}
	for k, out := range n.GetOutput() {
		if out != "" {
			im.consts[out] = outs[k]
		}
	}
	return nil
}

func firstInput(n *onnxpb.NodeProto) string {
	if len(n.GetInput()) == 0 {
		return ""
	}
	return n.GetInput()[0]
}

// foldShape makes Shape of an activation a constant, at batch shapeProbeBatch.
func (im *importer) foldShape(name string, n *onnxpb.NodeProto, attrs ops.AttrMap) error {
	if len(attrs) != 0 {
		return im.unsupported(name, "Shape", "start/end attributes are not imported")
	}
	if len(n.GetInput()) != 1 || len(n.GetOutput()) != 1 {
		return im.unsupported(name, "Shape", "want one input and one output")
	}
	full := withBatch(shapeProbeBatch, im.shapes[n.GetInput()[0]])
	dims := make([]int64, len(full))
	for i, d := range full {
		dims[i] = int64(d)
	}
	im.consts[n.GetOutput()[0]] = ops.FromSlice(ops.Shape{len(dims)}, dims)
	return nil
}

// replaceHead swaps the last linear layer for one with classes outputs.
func (im *importer) replaceHead(classes int) error {
	if classes < 2 {
		return fmt.Errorf("models: import: --num-classes %d, want at least 2", classes)
	}
	var head *linearLayer
	at := -1
	for i, l := range im.layers {
		if lin, ok := l.(*linearLayer); ok {
			head, at = lin, i
		}
	}
	if head == nil || head.isConv() {
		return fmt.Errorf("models: import: no Gemm or MatMul+Add to replace by a %d-class head", classes)
	}
	for _, l := range im.layers[at+1:] {
		switch l.(type) {
		case *activationLayer, *Dropout:
		default:
			return fmt.Errorf("models: import: layer %s (%s) follows the head %s; only activations and dropout may", l.Name(), l.Type(), head.LayerName)
		}
	}
	inner := head.in[0]
	if head.attrs["transB"].Int != 0 {
		head.weightShape = ops.Shape{classes, inner}
	} else {
		head.weightShape = ops.Shape{inner, classes}
	}
	head.bias.frozen = false
	if _, err := head.build(head.in); err != nil {
		return err
	}
	im.src.head = head
	for name := range im.src.paramDims {
		if name == head.weight.Name {
			im.src.paramDims[name] = []int64{int64(head.weightShape[0]), int64(head.weightShape[1])}
		}
		if name == head.bias.Name {
			im.src.paramDims[name] = []int64{int64(classes)}
		}
	}
	return nil
}

// loadWeights copies the initializers into the network's parameters, and gives a replaced head fresh
// Glorot-uniform weights.
func (im *importer) loadWeights(net *Network, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 0x68656164)) // "head"
	for _, l := range net.Layers {
		for _, p := range l.params() {
			if lin, ok := l.(*linearLayer); ok && lin == im.src.head {
				p.frozen = false
				if p == lin.weight {
					limit := math.Sqrt(6 / float64(p.fanIn+p.fanOut))
					for i := range p.Value {
						p.Value[i] = float32((2*rng.Float64() - 1) * limit)
					}
				}
				continue
			}
			t, ok := im.consts[p.Name]
			if !ok {
				p.frozen = true // a zero bias the source graph has no room for
				continue
			}
			if t.Len() != len(p.Value) || t.DType() != ops.Float32 {
				return fmt.Errorf("models: import: initializer %q is %s%v, layer %s wants float32%v", p.Name, t.DType(), t.Shape(), l.Name(), p.Shape)
			}
			copy(p.Value, t.Float32s())
		}
	}
	for _, b := range net.buffers { // BatchNorm's running averages
		t, ok := im.consts[b.Name]
		if !ok || t.Len() != len(b.Value) || t.DType() != ops.Float32 {
			return fmt.Errorf("models: import: the running statistics %q of a BatchNormalization are not a float32 initializer of %d values", b.Name, len(b.Value))
		}
		copy(b.Value, t.Float32s())
	}
	return nil
}

// Freeze keeps the parameters of the named layers, or the named parameters, out of training; a name
// ending in "*" or "/" or "." matches as a prefix, any other name matches exactly or as a prefix of
// whole path components ("sequential_1/conv2d_1" freezes sequential_1/conv2d_1/...). A name that
// matches nothing is an error, so a typo does not silently train everything.
func (n *Network) Freeze(names ...string) error {
	var unmatched []string
	for _, name := range names {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		prefix := strings.TrimSuffix(name, "*")
		matched := false
		for _, l := range n.Layers {
			layerHit := matchesName(l.Name(), name, prefix)
			for _, p := range l.params() {
				if layerHit || matchesName(p.Name, name, prefix) {
					p.frozen = true
					matched = true
				}
			}
		}
		if !matched {
			unmatched = append(unmatched, name)
		}
	}
	if len(unmatched) > 0 {
		return fmt.Errorf("models: freeze: no layer or parameter with parameters is named %s (or starts so)", strings.Join(unmatched, ", "))
	}
	return nil
}

func matchesName(have, name, prefix string) bool {
	if have == name {
		return true
	}
	if prefix != name { // "conv*"
		return strings.HasPrefix(have, prefix)
	}
	return strings.HasPrefix(have, name) && strings.ContainsAny(have[len(name):len(name)+1], "/.:_")
}

// Frozen lists the parameters Freeze (or the import) kept out of training.
func (n *Network) Frozen() []string {
	var out []string
	for _, p := range n.params {
		if p.frozen {
			out = append(out, p.Name)
		}
	}
	return out
}

var errNotImported = errors.New("models: the network was not imported from an ONNX model")
