package inspect

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// SummaryOptions tune Summarize.
type SummaryOptions struct {
	// ChannelsFirst prints output shapes as ONNX holds them (N,C,H,W) instead of channels-last as Keras
	// shows them.
	ChannelsFirst bool
	// InputShapes pins inputs' dimensions, as runtime.Options.InputShapes does (`--shape`): the table then
	// shows the pinned sizes where it would show None.
	InputShapes map[string]ops.Shape
}

// Summary is a Keras-style model.summary() of an ONNX model. Its JSON form is what `onnxrun summary
// --json` prints.
type Summary struct {
	Model  string  `json:"model"`
	Layers []Layer `json:"layers"`
	// Parameter counts, and their size in bytes as stored.
	TotalParams        int64 `json:"total_params"`
	TrainableParams    int64 `json:"trainable_params"`
	NonTrainableParams int64 `json:"non_trainable_params"`
	TotalBytes         int64 `json:"total_bytes"`
	TrainableBytes     int64 `json:"trainable_bytes"`
	NonTrainableBytes  int64 `json:"non_trainable_bytes"`
	// ChannelsLast is set when some shapes were printed channels-last (N,...,C) while ONNX holds them
	// N,C,....
	ChannelsLast bool `json:"channels_last"`
	// ShapeError says why output shapes are missing ("?"), when they are.
	ShapeError string `json:"shape_error,omitempty"`
}

// Layer is one row: the nodes a Keras user would call one layer.
type Layer struct {
	// Name is the layer's name, from its main node's name with the op part and any prefix all layers share
	// taken off ("/c1/Conv" → "c1", "sequential/dense/MatMul" → "dense").
	Name string `json:"name"`
	// Type lists the operators, a recognised activation by its name: "Conv+Relu", "MatMul+Add+Softmax",
	// "Pad+AveragePool", "Conv+Gelu".
	Type string `json:"type"`
	// Nodes are the labels of the nodes in the layer, in order.
	Nodes []string `json:"nodes"`
	// OutputShapes has one entry per output: each dimension a size, "None" for one that follows the
	// batch (a symbolic input dimension), and a nil entry an output whose shape is unknown.
	OutputShapes [][]string `json:"output_shapes"`
	Params       int64      `json:"params"`
	// Depth is 0 for a layer of the main graph, 1 for one inside a body (If's branches, Loop's and
	// Scan's body) of a main-graph node, and so on: the text indents it under the layer that holds it.
	Depth        int   `json:"depth,omitempty"`
	NonTrainable int64 `json:"non_trainable,omitempty"`
	Bytes        int64 `json:"bytes"`
}

// Summarize groups m's nodes into layers and counts their parameters (see the package documentation for
// the rules). Shapes come from compiling the model without graph passes and inferring every value's
// shape twice, at two sizes of the inputs' symbolic dimensions (see inferShapes): a dimension that changes
// is the batch or another symbolic size (None). A model that does not compile still gets its layers and parameters, with the shapes its
// value_info declares, or "?".
func Summarize(m *onnx.Model, opts SummaryOptions) (*Summary, error) {
	g := m.Proto.GetGraph()
	if g == nil {
		return nil, errors.New("the model has no graph")
	}
	v := newGraphView(g)
	s := &Summary{Model: g.GetName(), Layers: []Layer{}}
	shapes, err := inferShapes(m, opts.InputShapes)
	if len(opts.InputShapes) > 0 && errors.Is(err, runtime.ErrBadInput) {
		return nil, err // a pin that does not fit the model is the caller's mistake, not a gap in the table
	}
	if err != nil {
		s.ShapeError = err.Error()
	}
	addDeclaredShapes(g, shapes)
	s.Layers = s.layers(v, shapes, opts, map[string]bool{}, 0)
	s.TrainableParams = s.TotalParams - s.NonTrainableParams
	s.TrainableBytes = s.TotalBytes - s.NonTrainableBytes
	return s, nil
}

// layers groups the nodes of one graph (the main graph at depth 0, a body deeper) into rows, each followed
// by the rows of the bodies its nodes hold, one level deeper. A weight counts once, where it is first
// used: counted is shared by every level, so an outer weight read inside a loop body counts there if
// nothing outside reads it.
func (s *Summary) layers(v *graphView, shapes map[string][]int64, opts SummaryOptions, counted map[string]bool, depth int) []Layer {
	b := &layerBuilder{v: v, shapes: shapes, assigned: make([]bool, len(v.nodes)), prefix: map[int][]int{}}
	b.build()
	var rows []Layer
	var bodies [][]Layer // by row: the rows of the bodies of its nodes
	for _, l := range b.layers {
		row := Layer{Type: l.typeName(v), Depth: depth}
		var nested []Layer
		for _, i := range l.nodes {
			row.Nodes = append(row.Nodes, nodeLabel(v.nodes[i], i))
			n := v.nodes[i]
			for pos, in := range n.GetInput() {
				for _, root := range v.paramRoots(n, pos, in, i == l.bias) {
					if counted[root] {
						continue // a shared weight counts once, where it is first used
					}
					counted[root] = true
					t := v.tensors[root]
					row.Params += t.elems
					row.Bytes += t.bytes
					if nonTrainable(n.GetOpType(), pos) {
						row.NonTrainable += t.elems
						s.NonTrainableBytes += t.bytes
					}
				}
			}
			for _, a := range n.GetAttribute() {
				if sub := a.GetG(); sub != nil {
					nested = append(nested, s.layers(newBodyView(sub, v), shapes, opts, counted, depth+1)...)
				}
			}
		}
		last := l.nodes[len(l.nodes)-1]
		for _, out := range v.nodes[last].GetOutput() {
			if out == "" || (len(v.dataConsumers(out)) == 0 && !v.isOutput[out] && len(v.nodes[last].GetOutput()) > 1) {
				continue // an optional output nobody reads (BatchNormalization's running mean in training mode)
			}
			dims, known := shapes[out]
			if !known {
				row.OutputShapes = append(row.OutputShapes, nil)
				continue
			}
			shown := append([]int64(nil), dims...)
			if !opts.ChannelsFirst && len(shown) >= 3 {
				// One rule for every row, so that a table never mixes layouts: ONNX holds a value of
				// rank 3 or more N,C,..., and Keras shows it N,...,C. Deciding per operator which values
				// are images (a convolution's, but not the Unsqueeze's before a BatchNormalization)
				// printed neighbouring rows of one tensor in two layouts.
				shown = append(append(shown[:1:1], shown[2:]...), shown[1])
				s.ChannelsLast = true
			}
			row.OutputShapes = append(row.OutputShapes, dimStrings(shown))
		}
		s.TotalParams += row.Params
		s.TotalBytes += row.Bytes
		s.NonTrainableParams += row.NonTrainable
		rows = append(rows, row)
		bodies = append(bodies, nested)
	}
	names := make([]string, len(b.layers))
	for i, l := range b.layers {
		names[i] = layerName(v.nodes[l.main], l.main)
	}
	names = trimCommonPrefix(names)
	var out []Layer
	for i := range rows {
		rows[i].Name = names[i]
		out = append(out, rows[i])
		out = append(out, bodies[i]...)
	}
	return out
}

// addDeclaredShapes fills in, for the values whose shapes inference did not give, the shapes g and its
// subgraphs declare (value_info and outputs): the only shapes a body's values have in the summary.
func addDeclaredShapes(g *onnxpb.GraphProto, shapes map[string][]int64) {
	for _, vi := range append(append([]*onnxpb.ValueInfoProto{}, g.GetValueInfo()...), g.GetOutput()...) {
		if _, known := shapes[vi.GetName()]; !known {
			if _, dims, ok := onnx.ValueInfoShape(vi); ok {
				d := make([]int64, len(dims))
				for i, x := range dims {
					d[i] = x.Value // symbolic and unknown dimensions are -1: None
				}
				shapes[vi.GetName()] = d
			}
		}
	}
	for _, n := range g.GetNode() {
		for _, a := range n.GetAttribute() {
			if sub := a.GetG(); sub != nil {
				addDeclaredShapes(sub, shapes)
			}
		}
	}
}

func dimStrings(dims []int64) []string {
	out := make([]string, len(dims))
	for i, d := range dims {
		if d < 0 {
			out[i] = "None"
		} else {
			out[i] = strconv.FormatInt(d, 10)
		}
	}
	return out
}

// inferShapes compiles m without passes (so every value of the file keeps its name) and infers every
// value's shape at two sizes of the symbolic input dimensions; dimensions that differ become -1. The sizes
// are 64 and 96, which a CNN that pools or strides down 5 times still fits (at 1 its first MaxPool does
// not); a model that fits only size 1 (a reshape to batch 1) is tried at 1 and 2 next.
func inferShapes(m *onnx.Model, pins map[string]ops.Shape) (map[string][]int64, error) {
	shapes := map[string][]int64{}
	plan, err := runtime.Compile(m, runtime.Options{NoOptimize: true, Threads: 1, AllowNewerOpsets: true, InputShapes: pins})
	if err != nil {
		return shapes, fmt.Errorf("shapes unknown: %w", err)
	}
	var infos, infos2 map[string]ops.ValueInfo
	for _, sizes := range [][2]int{{64, 96}, {1, 2}} {
		at1, at2, err := symbolsAt(plan, sizes)
		if err != nil {
			return shapes, err
		}
		if infos, err = plan.ValueInfos(at1...); err != nil {
			continue
		}
		if infos2, err = plan.ValueInfos(at2...); err != nil {
			infos2 = nil // a model that only runs at one size: print its sizes as they are
		}
		break
	}
	if infos == nil {
		return shapes, fmt.Errorf("shapes unknown: %w", err)
	}
	for name, info := range infos {
		dims := make([]int64, len(info.Shape))
		other, ok := infos2[name]
		for i, d := range info.Shape {
			dims[i] = int64(d)
			if ok && len(other.Shape) == len(info.Shape) && other.Shape[i] != d {
				dims[i] = -1
			}
		}
		shapes[name] = dims
	}
	return shapes, nil
}

// symbolsAt gives the plan's declared input shapes with every symbolic dimension at sizes[0], then at
// sizes[1].
func symbolsAt(plan *runtime.Plan, sizes [2]int) (at1, at2 []ops.Shape, err error) {
	for _, in := range plan.Inputs() {
		if !in.HasShape {
			return nil, nil, fmt.Errorf("shapes unknown: input %q declares no shape", in.Name)
		}
		s1, s2 := make(ops.Shape, len(in.Dims)), make(ops.Shape, len(in.Dims))
		for i, d := range in.Dims {
			s1[i], s2[i] = int(d.Value), int(d.Value)
			if d.Symbolic() {
				s1[i], s2[i] = sizes[0], sizes[1]
			}
		}
		at1, at2 = append(at1, s1), append(at2, s2)
	}
	return at1, at2, nil
}

// paramRoots lists the weights node n reads through input pos: the roots of a constant input that is
// not configuration, of a type weights have (not int64, bool or string). A scalar read by an elementwise
// operator is a hyper-parameter (GELU's 0.5, a normalisation's 255), unless the Add is a layer's bias.
func (v *graphView) paramRoots(n *onnxpb.NodeProto, pos int, in string, isBias bool) []string {
	if in == "" || v.kind[in] != kindConst || isConfigInput(n.GetOpType(), pos) {
		return nil
	}
	var out []string
	for _, r := range v.roots[in] {
		t := v.tensors[r]
		switch t.dtype {
		case onnxpb.TensorProto_INT64, onnxpb.TensorProto_BOOL, onnxpb.TensorProto_STRING, onnxpb.TensorProto_UNDEFINED:
			continue
		}
		if elementwise[n.GetOpType()] && !isBias && t.elems <= 1 {
			continue
		}
		out = append(out, r)
	}
	return out
}

// nonTrainable reports the inputs Keras counts as non-trainable: BatchNormalization's running mean and
// variance.
func nonTrainable(op string, pos int) bool {
	return op == "BatchNormalization" && (pos == 3 || pos == 4)
}

// Operator families the grouping rules use.
var (
	elementwise = set("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mod", "Equal", "Less", "Greater",
		"LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Where", "BitShift", "Sum", "Mean")
	// activations are the unary operators an activation chain is made of.
	activations = set("Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu",
		"Celu", "Gelu", "Mish", "Softplus", "Softsign", "ThresholdedRelu", "Softmax", "LogSoftmax", "Clip", "Erf",
		"Exp", "Log", "Abs", "Neg", "Sqrt", "Reciprocal", "Sin", "Cos", "Swish")
	chainBinary = set("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min")
	weighted    = set("Conv", "ConvTranspose", "Gemm", "ConvInteger", "QLinearConv", "QLinearMatMul", "MatMulInteger")
	spatial     = set("Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "LpPool",
		"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "BatchNormalization", "InstanceNormalization", "LRN",
		"DepthToSpace", "SpaceToDepth", "Upsample", "Resize", "MaxUnpool", "DeformConv")
	poolsAndConvs = set("Conv", "ConvTranspose", "AveragePool", "MaxPool", "LpPool")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// layer is a row being built: node indexes in order, the main node (which names it), the Add taken as its
// bias and the nodes of its activation.
type layer struct {
	nodes      []int
	main       int
	bias       int // -1 when none
	activation []int
}

// typeName lists the layer's operators, its activation chain by the name of the function it computes
// when recognised.
func (l *layer) typeName(v *graphView) string {
	var parts []string
	inAct := map[int]bool{}
	for _, i := range l.activation {
		inAct[i] = true
	}
	for _, i := range l.nodes {
		if !inAct[i] {
			parts = append(parts, v.nodes[i].GetOpType())
		}
	}
	if len(l.activation) > 0 {
		var acts []string
		for _, i := range l.activation {
			acts = append(acts, v.nodes[i].GetOpType())
		}
		parts = append(parts, activationName(acts))
	}
	return strings.Join(parts, "+")
}

// activationName names a chain of elementwise operators by the function it computes, when it is one
// exporters are known to decompose: GELU (x·½(1+erf(x/√2))), its tanh approximation, Swish, Mish,
// HardSwish. Other chains keep their operators.
func activationName(acts []string) string {
	if len(acts) == 1 {
		return acts[0]
	}
	sorted := append([]string(nil), acts...)
	sort.Strings(sorted)
	key := strings.Join(sorted, ",")
	switch key {
	case "Add,Div,Erf,Mul,Mul", "Add,Erf,Mul,Mul,Mul":
		return "Gelu"
	case "Add,Add,Mul,Mul,Mul,Mul,Pow,Tanh", "Add,Add,Mul,Mul,Mul,Mul,Mul,Tanh":
		return "Gelu(tanh)"
	case "Mul,Sigmoid":
		return "Swish"
	case "Mul,Softplus,Tanh":
		return "Mish"
	case "HardSigmoid,Mul":
		return "HardSwish"
	}
	return strings.Join(acts, "+")
}

// layerBuilder walks the data nodes in order and groups them into layers.
type layerBuilder struct {
	v        *graphView
	shapes   map[string][]int64
	assigned []bool
	prefix   map[int][]int // node index → the nodes that become the front of its layer (a Pad, a Transpose)
	layers   []*layer
}

func (b *layerBuilder) build() {
	v := b.v
	for i, n := range v.nodes {
		if b.assigned[i] || !v.isData(i) {
			continue
		}
		b.assigned[i] = true
		op := n.GetOpType()
		if op == "Identity" || b.isInputAdapter(i) {
			continue // an exporter's plumbing, not a layer
		}
		if c, ok := b.prefixTarget(i); ok {
			b.prefix[c] = append(b.prefix[c], append(b.prefix[i], i)...)
			continue
		}
		l := &layer{nodes: append(b.prefix[i], i), main: i, bias: -1}
		cur := v.firstOutput(i)
		switch {
		case b.isWeighted(i):
			if b.needsBias(i) {
				if a, ok := b.biasAdd(cur); ok {
					l.nodes = append(l.nodes, a)
					l.bias = a
					b.assigned[a] = true
					cur = v.firstOutput(a)
				}
			}
			if chain := b.activationChain(cur); len(chain) > 0 {
				l.nodes = append(l.nodes, chain...)
				l.activation = chain
			}
		case activations[op] || elementwise[op]:
			// A standalone activation: gather the rest of its chain, so a decomposed GELU is one row.
			if ins := v.dataInputs(i); len(ins) == 1 {
				b.assigned[i] = false
				if chain := b.activationChain(ins[0]); len(chain) > 0 && chain[0] == i {
					l.nodes = append(b.prefix[i], chain...)
					l.activation = chain
				}
				b.assigned[i] = true
			}
		}
		b.layers = append(b.layers, l)
	}
}

// isInputAdapter reports a Reshape, Transpose or Cast applied to a graph input that keeps its rank: the
// layout change (NHWC to NCHW) or type change exporters put before the first layer.
func (b *layerBuilder) isInputAdapter(i int) bool {
	v := b.v
	n := v.nodes[i]
	switch n.GetOpType() {
	case "Reshape", "Transpose", "Cast":
	default:
		return false
	}
	ins := v.dataInputs(i)
	if len(ins) != 1 || !v.isInput[ins[0]] || len(v.dataConsumers(ins[0])) != 1 {
		return false
	}
	in, inOK := b.shapes[ins[0]]
	out, outOK := b.shapes[v.firstOutput(i)]
	if inOK && outOK {
		return len(in) == len(out)
	}
	return n.GetOpType() != "Reshape" // without shapes, a Reshape may be a flatten
}

// prefixTarget finds the layer a Pad or Transpose belongs to: the convolution or pooling a Pad feeds
// (PyTorch writes AvgPool2d's padding so), the flatten a Transpose feeds (tf2onnx's NHWC flatten).
func (b *layerBuilder) prefixTarget(i int) (int, bool) {
	v := b.v
	op := v.nodes[i].GetOpType()
	if op != "Pad" && op != "Transpose" {
		return 0, false
	}
	c, ok := v.soleConsumer(v.firstOutput(i))
	if !ok || c <= i {
		return 0, false
	}
	cop := v.nodes[c].GetOpType()
	switch {
	case op == "Pad" && poolsAndConvs[cop]:
		return c, true
	case op == "Transpose" && (cop == "Flatten" || cop == "Reshape"):
		if d, known := b.shapes[v.firstOutput(c)]; known && len(d) > 2 {
			return 0, false // a Reshape that is not a flatten
		}
		return c, true
	}
	return 0, false
}

// isWeighted reports the operators that make a Keras layer with weights and an activation: convolutions,
// Gemm, and a MatMul by a constant (a dense layer; a MatMul of two data values is attention, not a layer
// with weights).
func (b *layerBuilder) isWeighted(i int) bool {
	n := b.v.nodes[i]
	if weighted[n.GetOpType()] {
		return true
	}
	if n.GetOpType() != "MatMul" {
		return false
	}
	for _, in := range n.GetInput() {
		if in != "" && b.v.kind[in] == kindConst {
			return true
		}
	}
	return false
}

// needsBias reports a weighted node without its own bias, whose following Add is the bias.
func (b *layerBuilder) needsBias(i int) bool {
	n := b.v.nodes[i]
	switch n.GetOpType() {
	case "MatMul", "MatMulInteger", "QLinearMatMul", "ConvInteger":
		return true
	case "Conv", "ConvTranspose":
		return len(n.GetInput()) < 3 || n.GetInput()[2] == ""
	case "Gemm":
		return len(n.GetInput()) < 3 || n.GetInput()[2] == ""
	}
	return false
}

// biasAdd finds the Add of a constant that is the only reader of value.
func (b *layerBuilder) biasAdd(value string) (int, bool) {
	v := b.v
	c, ok := v.soleConsumer(value)
	if !ok || b.assigned[c] || v.nodes[c].GetOpType() != "Add" {
		return 0, false
	}
	for _, in := range v.nodes[c].GetInput() {
		if in != value && in != "" && v.kind[in] != kindConst {
			return 0, false
		}
	}
	return c, true
}

// maxChain bounds an activation chain: the longest decomposition recognised has 8 operators.
const maxChain = 12

// activationChain finds the elementwise nodes that compute a function of value alone, value being read by
// nothing else: single-input activations, and binary operators whose other operand is a scalar constant
// or another value of the chain. The chain must have one result, read outside it; its nodes come in graph
// order. It returns nil when there is no such chain.
func (b *layerBuilder) activationChain(value string) []int {
	v := b.v
	if v.isOutput[value] {
		return nil
	}
	start := 0
	if p, ok := v.producer[value]; ok {
		start = p + 1
	}
	inChain := map[string]bool{value: true}
	var cand []int
	for i := start; i < len(v.nodes) && len(cand) < maxChain; i++ {
		if b.assigned[i] || !v.isData(i) || !b.chainable(i, inChain) {
			continue
		}
		cand = append(cand, i)
		for _, out := range v.nodes[i].GetOutput() {
			if out != "" {
				inChain[out] = true
			}
		}
	}
	// The longest prefix of the candidates that is closed: value and every intermediate read only inside
	// it, and exactly one result, the last node's output.
	for k := len(cand); k > 0; k-- {
		if b.closedChain(value, cand[:k]) {
			for _, i := range cand[:k] {
				b.assigned[i] = true
			}
			return append([]int(nil), cand[:k]...)
		}
	}
	return nil
}

// chainable reports whether node i can extend a chain whose values are inChain.
func (b *layerBuilder) chainable(i int, inChain map[string]bool) bool {
	v := b.v
	n := v.nodes[i]
	op := n.GetOpType()
	if !activations[op] && !chainBinary[op] {
		return false
	}
	if len(n.GetOutput()) != 1 {
		return false
	}
	reads := false
	for pos, in := range n.GetInput() {
		switch {
		case in == "":
		case inChain[in]:
			reads = true
		case v.kind[in] == kindConst && (isConfigInput(op, pos) || v.constElems(in) <= 1):
		default:
			return false // another data value, or a constant tensor (a bias, a PRelu slope)
		}
	}
	return reads
}

// constElems is the element count of a constant value, from its shape when known, else its roots'.
func (v *graphView) constElems(name string) int64 {
	roots := v.roots[name]
	if len(roots) == 1 && roots[0] == name {
		return v.tensors[name].elems
	}
	var n int64
	for _, r := range roots {
		n = max(n, v.tensors[r].elems)
	}
	return n
}

func (b *layerBuilder) closedChain(value string, chain []int) bool {
	v := b.v
	member := map[int]bool{}
	for _, i := range chain {
		member[i] = true
	}
	readInside := func(name string) bool {
		for _, u := range v.dataConsumers(name) {
			if !member[u.node] {
				return false
			}
		}
		return true
	}
	if !readInside(value) {
		return false
	}
	last := chain[len(chain)-1]
	for _, i := range chain {
		out := v.nodes[i].GetOutput()[0]
		if i == last {
			continue
		}
		if v.isOutput[out] || !readInside(out) || len(v.dataConsumers(out)) == 0 {
			return false
		}
	}
	return true
}

// layerName derives a row's name from its main node: the node's name (else its first output) without a
// leading "/" and without its last path element, which names the operator ("/c1/Conv" → "c1").
func layerName(n *onnxpb.NodeProto, idx int) string {
	name := nodeLabel(n, idx)
	name = strings.TrimPrefix(name, "/")
	if i := strings.LastIndex(name, "/"); i > 0 {
		name = name[:i]
	}
	if name == "" {
		return n.GetOpType()
	}
	return name
}

// trimCommonPrefix drops a leading path ("sequential/") that every name shares, as Keras names layers
// without their model's scope.
func trimCommonPrefix(names []string) []string {
	if len(names) < 2 {
		return names
	}
	prefix := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	i := strings.LastIndex(prefix, "/")
	if i < 0 {
		return names
	}
	prefix = prefix[:i+1]
	out := make([]string, len(names))
	for k, n := range names {
		out[k] = strings.TrimPrefix(n, prefix)
		if out[k] == "" {
			return names
		}
	}
	return out
}

// WriteText prints the summary as Keras 2 prints model.summary(): a table of layers, output shapes and
// parameter counts, then the totals with their size.
func (s *Summary) WriteText(w io.Writer) error {
	rows := [][3]string{{"Layer (type)", "Output Shape", "Param #"}}
	for _, l := range s.Layers {
		rows = append(rows, [3]string{strings.Repeat("  ", l.Depth) + l.Name + " (" + l.Type + ")", formatShapes(l.OutputShapes), Thousands(l.Params)})
	}
	widths := [3]int{28, 25, 10}
	for _, r := range rows {
		for c := range r {
			widths[c] = max(widths[c], len(r[c])+2)
		}
	}
	total := widths[0] + widths[1] + widths[2] + 1
	var b strings.Builder
	fmt.Fprintf(&b, "Model: %q\n", s.Model)
	b.WriteString(strings.Repeat("_", total) + "\n")
	for i, r := range rows {
		fmt.Fprintf(&b, " %-*s%-*s%s\n", widths[0], r[0], widths[1], r[1], r[2])
		if i == 0 {
			b.WriteString(strings.Repeat("=", total) + "\n")
		}
	}
	b.WriteString(strings.Repeat("=", total) + "\n")
	fmt.Fprintf(&b, "Total params: %s (%s)\n", Thousands(s.TotalParams), ByteSize(s.TotalBytes))
	fmt.Fprintf(&b, "Trainable params: %s (%s)\n", Thousands(s.TrainableParams), ByteSize(s.TrainableBytes))
	fmt.Fprintf(&b, "Non-trainable params: %s (%s)\n", Thousands(s.NonTrainableParams), ByteSize(s.NonTrainableBytes))
	b.WriteString(strings.Repeat("_", total) + "\n")
	if s.ChannelsLast {
		b.WriteString("Output shapes of rank 3 or more are shown channels-last (N,...,C), as Keras shows them; ONNX holds them N,C,... (--channels-first).\n")
	}
	if s.ShapeError != "" {
		b.WriteString(s.ShapeError + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatShapes prints output shapes as Python tuples, Keras's form: (None, 26, 26, 6); several outputs
// as a list.
func formatShapes(shapes [][]string) string {
	parts := make([]string, len(shapes))
	for i, s := range shapes {
		switch {
		case s == nil:
			parts[i] = "?"
		case len(s) == 0:
			parts[i] = "()"
		case len(s) == 1:
			parts[i] = "(" + s[0] + ",)"
		default:
			parts[i] = "(" + strings.Join(s, ", ") + ")"
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
