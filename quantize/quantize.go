package quantize

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// Mode is dynamic or static quantization.
type Mode int

const (
	// Dynamic quantizes the weights ahead of time and the activations at run time (DynamicQuantizeLinear).
	Dynamic Mode = iota
	// Static quantizes weights and activations ahead of time, the activations' ranges from calibration.
	Static
)

// ParseMode reads a mode name as the command line gives it.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "dynamic":
		return Dynamic, nil
	case "static":
		return Static, nil
	}
	return 0, fmt.Errorf("mode %q: want dynamic or static", s)
}

func (m Mode) String() string {
	if m == Static {
		return "static"
	}
	return "dynamic"
}

// Options says how to quantize.
type Options struct {
	Mode Mode
	// PerChannel gives each output channel of a weight its own scale (DequantizeLinear's axis); otherwise
	// one scale per weight tensor.
	PerChannel bool
	// Exclude names nodes to keep in float. Each must name a node of the graph.
	Exclude []string
	// Method and Percentile choose the activation ranges of static quantization; Percentile (0 to 100,
	// default 99.99) is read by the Percentile method only.
	Method     Method
	Percentile float64
	// Calibration holds the input sets (one tensor per graph input, in order, batched along the first
	// dimension) static quantization observes. Dynamic quantization reads none.
	Calibration [][]*ops.Tensor
}

// MetadataKey is the metadata_props key under which the quantized model says how it was made, e.g.
// "static, minmax, per channel, 1000 calibration examples".
const MetadataKey = "onnxrun.quantize"

func (o Options) describe() string {
	parts := []string{o.Mode.String()}
	if o.Mode == Static {
		if o.Method == Percentile {
			parts = append(parts, fmt.Sprintf("percentile %g", o.Percentile))
		} else {
			parts = append(parts, o.Method.String())
		}
	}
	if o.PerChannel {
		parts = append(parts, "per channel")
	} else {
		parts = append(parts, "per tensor")
	}
	if o.Mode == Static {
		examples := 0
		for _, set := range o.Calibration {
			if len(set) > 0 && set[0].Rank() > 0 {
				examples += set[0].Shape()[0]
			}
		}
		parts = append(parts, fmt.Sprintf("%d calibration examples", examples))
	}
	if len(o.Exclude) > 0 {
		parts = append(parts, "excluding "+strings.Join(o.Exclude, " "))
	}
	return strings.Join(parts, ", ")
}

// MinOpset is the lowest default-domain opset quantize accepts (DynamicQuantizeLinear came in 11), and
// MinPerChannelOpset the lowest with PerChannel (per-axis DequantizeLinear came in 13). quantize does not
// raise a model's opset: operators changed meaning at 13 (Softmax's axis, Squeeze's axes input...).
const (
	MinOpset           = 11
	MinPerChannelOpset = 13
)

// Error is a model or an option quantize cannot work with; Msg says what and names the node or tensor.
type Error struct{ Msg string }

func (e *Error) Error() string { return "quantize: " + e.Msg }

// Summary says what Quantize did.
type Summary struct {
	Weights     []string // the weights quantized to int8, in node order
	Activations []string // the activations quantized (static: Q->DQ pairs; dynamic: DynamicQuantizeLinear)
	Biases      []string // the biases quantized to int32 (static only)
}

// weighted lists the op types whose weights are quantized, with the input holding the weight.
var weighted = map[string]int{"Conv": 1, "MatMul": 1, "Gemm": 1}

// integerForm lists the op types without weights that have integer kernels (ONNX Runtime's QLinear*
// operators), whose float inputs and outputs static quantization puts between Q->DQ pairs as ORT's QDQ
// quantizer does. Other ops (Relu, Softmax, LayerNormalization, Reshape, ...) stay float and read the
// DequantizeLinear output of a quantized tensor.
var integerForm = map[string]bool{"Add": true, "Mul": true, "AveragePool": true, "GlobalAveragePool": true,
	"MaxPool": true, "Concat": true, "Sigmoid": true, "LeakyRelu": true}

// Quantize returns a quantized copy of the float32 model m, as QDQ (see the package documentation), and a
// summary of what it quantized. m is not changed.
func Quantize(m *onnx.Model, opts Options) (*onnx.Model, *Summary, error) {
	opset, _ := m.OpsetFor("")
	if opset < MinOpset {
		return nil, nil, &Error{Msg: fmt.Sprintf("the model imports ONNX opset %d; quantize writes DynamicQuantizeLinear and QuantizeLinear of opset %d or newer: re-export the model at opset %d or newer", opset, MinOpset, MinPerChannelOpset)}
	}
	if opts.PerChannel && opset < MinPerChannelOpset {
		return nil, nil, &Error{Msg: fmt.Sprintf("the model imports ONNX opset %d; per-channel weights need per-axis DequantizeLinear, which came in opset %d: quantize per tensor, or re-export the model at opset %d", opset, MinPerChannelOpset, MinPerChannelOpset)}
	}
	if opts.Percentile == 0 {
		opts.Percentile = 99.99
	}
	if opts.Percentile <= 0 || opts.Percentile > 100 {
		return nil, nil, &Error{Msg: fmt.Sprintf("percentile %g: want more than 0 and at most 100", opts.Percentile)}
	}
	g := m.Proto.GetGraph()
	excluded, err := excludedNodes(g, opts.Exclude)
	if err != nil {
		return nil, nil, err
	}
	q := &rewriter{model: m, opts: opts, excluded: excluded, names: usedNames(g), summary: &Summary{},
		inits: map[string]*onnxpb.TensorProto{}, done: map[weightKey]quantizedWeight{}}
	for _, t := range g.GetInitializer() {
		q.inits[t.GetName()] = t
	}
	targets := q.targets(g)
	if len(targets) == 0 {
		return nil, nil, &Error{Msg: "no node to quantize: the model has no Conv, MatMul or Gemm with a float32 initializer weight outside --exclude"}
	}
	out := proto.Clone(m.Proto).(*onnxpb.ModelProto)
	if err := q.rewrite(out.GetGraph(), targets); err != nil {
		return nil, nil, err
	}
	out.MetadataProps = slices.DeleteFunc(out.MetadataProps, func(e *onnxpb.StringStringEntryProto) bool { return e.GetKey() == MetadataKey })
	out.MetadataProps = append(out.MetadataProps, &onnxpb.StringStringEntryProto{
		Key: proto.String(MetadataKey), Value: proto.String(opts.describe())})
	return &onnx.Model{Proto: out, Dir: m.Dir, Limits: m.Limits}, q.summary, nil
}

func excludedNodes(g *onnxpb.GraphProto, names []string) (map[string]bool, error) {
	excluded := map[string]bool{}
	have := map[string]bool{}
	for i, n := range g.GetNode() {
		have[nodeName(n, i)] = true
	}
	for _, name := range names {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if !have[name] {
			var all []string
			for n := range have {
				all = append(all, n)
			}
			sort.Strings(all)
			return nil, &Error{Msg: fmt.Sprintf("--exclude %q names no node; the nodes are %s", name, strings.Join(all, ", "))}
		}
		excluded[name] = true
	}
	return excluded, nil
}

// nodeName is a node's name, or as the runtime names an unnamed node: its first output, else #idx:OpType.
func nodeName(n *onnxpb.NodeProto, i int) string {
	switch {
	case n.GetName() != "":
		return n.GetName()
	case len(n.GetOutput()) > 0 && n.GetOutput()[0] != "":
		return n.GetOutput()[0]
	}
	return fmt.Sprintf("#%d:%s", i, n.GetOpType())
}

func usedNames(g *onnxpb.GraphProto) map[string]bool {
	used := map[string]bool{}
	for _, n := range g.GetNode() {
		used[n.GetName()] = true
		for _, v := range slices.Concat(n.GetInput(), n.GetOutput()) {
			used[v] = true
		}
	}
	for _, t := range g.GetInitializer() {
		used[t.GetName()] = true
	}
	for _, v := range slices.Concat(g.GetInput(), g.GetOutput(), g.GetValueInfo()) {
		used[v.GetName()] = true
	}
	return used
}

type rewriter struct {
	model    *onnx.Model
	opts     Options
	excluded map[string]bool
	names    map[string]bool
	inits    map[string]*onnxpb.TensorProto
	summary  *Summary
	// done holds the weights already quantized, by name and axis, so that nodes sharing a weight share
	// its int8 copy.
	done map[weightKey]quantizedWeight
}

type weightKey struct {
	name string
	axis int
}

type quantizedWeight struct {
	dequantized string
	scales      []float32
}

// fresh returns base, or base with a numeric suffix, so that it names nothing else in the graph.
func (q *rewriter) fresh(base string) string {
	name := base
	for i := 1; q.names[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	q.names[name] = true
	return name
}

// target is one node whose weight is quantized.
type target struct {
	index      int
	weight     string
	channels   int // the output channels of the weight
	axis       int // the weight's output-channel axis
	activation string
	bias       string // a 1-D float initializer of `channels` elements, or ""
}

// targets finds the default-domain Conv, MatMul and Gemm nodes outside the exclusions whose weight is a
// float32 initializer of a shape whose output channels are known.
func (q *rewriter) targets(g *onnxpb.GraphProto) []target {
	var out []target
	for i, n := range g.GetNode() {
		wi, ok := weighted[n.GetOpType()]
		if !ok || onnx.NormalizeDomain(n.GetDomain()) != "" || q.excluded[nodeName(n, i)] || len(n.GetInput()) <= wi {
			continue
		}
		w := q.inits[n.GetInput()[wi]]
		if w == nil || w.GetDataType() != int32(onnxpb.TensorProto_FLOAT) {
			continue
		}
		dims := w.GetDims()
		t := target{index: i, weight: w.GetName(), activation: n.GetInput()[0]}
		switch n.GetOpType() {
		case "Conv":
			if len(dims) < 3 {
				continue
			}
			t.axis = 0
		case "MatMul":
			if len(dims) != 2 {
				continue
			}
			t.axis = 1
		case "Gemm":
			if len(dims) != 2 || attrInt(n, "transA", 0) != 0 {
				continue
			}
			t.axis = 1
			if attrInt(n, "transB", 0) != 0 {
				t.axis = 0
			}
		}
		t.channels = int(dims[t.axis])
		if len(n.GetInput()) > 2 {
			if b := q.inits[n.GetInput()[2]]; b != nil && b.GetDataType() == int32(onnxpb.TensorProto_FLOAT) &&
				len(b.GetDims()) == 1 && int(b.GetDims()[0]) == t.channels {
				t.bias = b.GetName()
			}
		}
		out = append(out, t)
	}
	return out
}

func attrInt(n *onnxpb.NodeProto, name string, def int64) int64 {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a.GetI()
		}
	}
	return def
}

// rewrite changes g (the copy) in place: weights to int8 behind DequantizeLinear, activations behind
// DynamicQuantizeLinear or Q->DQ pairs, biases (static) to int32.
func (q *rewriter) rewrite(g *onnxpb.GraphProto, targets []target) error {
	nodes := g.GetNode()
	// before[i] holds the nodes to insert before node i; after[i] after it; first at the top.
	before := map[int][]*onnxpb.NodeProto{}
	after := map[int][]*onnxpb.NodeProto{}
	var first []*onnxpb.NodeProto

	// The activations: for dynamic, the weighted nodes' inputs; for static, also their outputs and the
	// float inputs and outputs of the ops with integer forms. Graph outputs stay float.
	isInit := func(v string) bool { return q.inits[v] != nil }
	graphOutput := map[string]bool{}
	for _, o := range g.GetOutput() {
		graphOutput[o.GetName()] = true
	}
	wanted := map[string]bool{}
	want := func(v string) {
		if v != "" && !isInit(v) && !graphOutput[v] {
			wanted[v] = true
		}
	}
	consumers := map[string][]int{}
	for i, n := range nodes {
		for _, v := range n.GetInput() {
			consumers[v] = append(consumers[v], i)
		}
	}
	for _, t := range targets {
		want(t.activation)
		if q.opts.Mode == Static {
			for _, o := range nodes[t.index].GetOutput() {
				want(q.afterRelu(nodes, consumers, o))
			}
		}
	}
	if q.opts.Mode == Static {
		for i, n := range nodes {
			if integerForm[n.GetOpType()] && onnx.NormalizeDomain(n.GetDomain()) == "" && !q.excluded[nodeName(n, i)] {
				for _, v := range slices.Concat(n.GetInput(), n.GetOutput()) {
					want(v)
				}
			}
		}
	}
	var ranges map[string][2]float64
	if q.opts.Mode == Static {
		var err error
		if ranges, err = calibrate(q.model, q.opts.Calibration, wanted, q.opts.Method, q.opts.Percentile); err != nil {
			return err
		}
	}

	// Where each activation is made: -1 for a graph input.
	producer := map[string]int{}
	for _, in := range g.GetInput() {
		producer[in.GetName()] = -1
	}
	for i, n := range nodes {
		for _, o := range n.GetOutput() {
			producer[o] = i
		}
	}
	// replaced maps an activation to the float tensor its consumers read instead; scales to its scale.
	replaced := map[string]string{}
	scales := map[string]float64{}
	for _, v := range sortedKeys(wanted) {
		at, ok := producer[v]
		if !ok {
			continue // not an activation made in this graph (an outer-scope value)
		}
		var made []*onnxpb.NodeProto
		switch q.opts.Mode {
		case Dynamic:
			qv, s, zp, dq := q.fresh(v+"_quantized"), q.fresh(v+"_scale"), q.fresh(v+"_zero_point"), q.fresh(v+"_dequantized")
			made = []*onnxpb.NodeProto{
				node("DynamicQuantizeLinear", q.fresh(v+"_DynamicQuantizeLinear"), []string{v}, []string{qv, s, zp}),
				node("DequantizeLinear", q.fresh(v+"_DequantizeLinear"), []string{qv, s, zp}, []string{dq}),
			}
			replaced[v] = dq
		case Static:
			r, ok := ranges[v]
			if !ok {
				continue // never observed as float32
			}
			scale, zp := uint8Params(r[0], r[1])
			s, z := q.fresh(v+"_scale"), q.fresh(v+"_zero_point")
			if err := q.addInit(g, s, &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Data: []float32{float32(scale)}}); err != nil {
				return err
			}
			if err := q.addInit(g, z, &onnx.Array{DataType: onnxpb.TensorProto_UINT8, Data: []uint8{zp}}); err != nil {
				return err
			}
			qv, dq := q.fresh(v+"_quantized"), q.fresh(v+"_dequantized")
			made = []*onnxpb.NodeProto{
				node("QuantizeLinear", q.fresh(v+"_QuantizeLinear"), []string{v, s, z}, []string{qv}),
				node("DequantizeLinear", q.fresh(v+"_DequantizeLinear"), []string{qv, s, z}, []string{dq}),
			}
			replaced[v], scales[v] = dq, scale
		}
		q.summary.Activations = append(q.summary.Activations, v)
		if at < 0 {
			first = append(first, made...)
		} else {
			after[at] = append(after[at], made...)
		}
	}
	// Every consumer outside the exclusions reads the dequantized activation.
	for i, n := range nodes {
		if q.excluded[nodeName(n, i)] {
			continue
		}
		for j, v := range n.GetInput() {
			if r, ok := replaced[v]; ok {
				n.Input[j] = r
			}
		}
	}

	for _, t := range targets {
		n := nodes[t.index]
		wScales, err := q.quantizeWeight(g, n, t, &before)
		if err != nil {
			return err
		}
		xScale, ok := scales[t.activation]
		if q.opts.Mode == Static && ok && t.bias != "" {
			if err := q.quantizeBias(g, n, t, xScale, wScales, &before); err != nil {
				return err
			}
		}
	}

	var out []*onnxpb.NodeProto
	out = append(out, first...)
	for i, n := range nodes {
		out = append(out, before[i]...)
		out = append(out, n)
		out = append(out, after[i]...)
	}
	g.Node = out
	dropUnused(g)
	return nil
}

// afterRelu returns the output of the Relu that is v's only consumer, if there is one outside the
// exclusions, else v. A Conv or Gemm followed by a Relu gets its Q->DQ pair after the Relu, as ORT's
// quantizer does once it has fused the two: the range is then [0, max], twice the resolution of the
// pre-activation range, and the pattern is the one integer kernels fuse (QLinearConv with the Relu folded
// into its output range).
func (q *rewriter) afterRelu(nodes []*onnxpb.NodeProto, consumers map[string][]int, v string) string {
	c := consumers[v]
	if len(c) != 1 {
		return v
	}
	n := nodes[c[0]]
	if n.GetOpType() != "Relu" || onnx.NormalizeDomain(n.GetDomain()) != "" || q.excluded[nodeName(n, c[0])] || len(n.GetOutput()) != 1 {
		return v
	}
	return n.GetOutput()[0]
}

func node(opType, name string, in, out []string) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: proto.String(opType), Name: proto.String(name), Input: in, Output: out}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (q *rewriter) addInit(g *onnxpb.GraphProto, name string, a *onnx.Array) error {
	t, err := onnx.NewTensorProto(name, a)
	if err != nil {
		return fmt.Errorf("quantize: %w", err)
	}
	g.Initializer = append(g.Initializer, t)
	return nil
}

// uint8Params is ONNX Runtime's asymmetric uint8 quantization of the range [lo, hi], widened to hold 0
// so that zero (padding, ReLU's floor) is exact: scale = (hi-lo)/255, zero point = round(-lo/scale)
// clamped to [0, 255]. An empty range gets scale 1.
func uint8Params(lo, hi float64) (scale float64, zeroPoint uint8) {
	lo, hi = min(lo, 0), max(hi, 0)
	scale = float64(float32((hi - lo) / 255))
	if scale == 0 || math.IsNaN(scale) || math.IsInf(scale, 0) {
		return 1, 0
	}
	return scale, uint8(min(max(math.RoundToEven(-lo/scale), 0), 255))
}

// int8Scale is the symmetric int8 scale of values whose largest magnitude is maxAbs: maxAbs/127, so that
// the weights take [-127, 127] (ONNX Runtime's symmetric range, which keeps -128 out); 1 for all-zero.
func int8Scale(maxAbs float64) float32 {
	if maxAbs == 0 || math.IsNaN(maxAbs) || math.IsInf(maxAbs, 0) {
		return 1
	}
	return float32(maxAbs / 127)
}

// quantizeWeight replaces node n's weight by int8 values behind a DequantizeLinear and returns the
// scales (one per output channel, the same value repeated when per tensor).
func (q *rewriter) quantizeWeight(g *onnxpb.GraphProto, n *onnxpb.NodeProto, t target, before *map[int][]*onnxpb.NodeProto) ([]float32, error) {
	key := weightKey{t.weight, t.axis}
	if w, ok := q.done[key]; ok {
		n.Input[weighted[n.GetOpType()]] = w.dequantized
		return w.scales, nil
	}
	a, err := q.model.TensorArray(q.inits[t.weight])
	if err != nil {
		return nil, fmt.Errorf("quantize: node %q: weight: %w", n.GetName(), err)
	}
	w := a.Data.([]float32)
	// inner is the stride of the channel axis; outer the count of blocks before it.
	inner := 1
	for _, d := range a.Dims[t.axis+1:] {
		inner *= int(d)
	}
	channelOf := func(i int) int { return i / inner % t.channels }
	maxAbs := make([]float64, t.channels)
	for i, v := range w {
		c := channelOf(i)
		maxAbs[c] = max(maxAbs[c], math.Abs(float64(v)))
	}
	scales := make([]float32, t.channels)
	if q.opts.PerChannel {
		for c := range scales {
			scales[c] = int8Scale(maxAbs[c])
		}
	} else {
		s := int8Scale(slices.Max(maxAbs))
		for c := range scales {
			scales[c] = s
		}
	}
	qw := make([]int8, len(w))
	for i, v := range w {
		qw[i] = int8(min(max(math.RoundToEven(float64(v/scales[channelOf(i)])), -127), 127))
	}
	name := t.weight
	qn, sn, zn, dq := q.fresh(name+"_quantized"), q.fresh(name+"_scale"), q.fresh(name+"_zero_point"), q.fresh(name+"_dequantized")
	if err := q.addInit(g, qn, &onnx.Array{DataType: onnxpb.TensorProto_INT8, Dims: slices.Clone(a.Dims), Data: qw}); err != nil {
		return nil, err
	}
	dqNode := node("DequantizeLinear", q.fresh(name+"_DequantizeLinear"), []string{qn, sn, zn}, []string{dq})
	if q.opts.PerChannel {
		if err := q.addInit(g, sn, &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: []int64{int64(t.channels)}, Data: scales}); err != nil {
			return nil, err
		}
		if err := q.addInit(g, zn, &onnx.Array{DataType: onnxpb.TensorProto_INT8, Dims: []int64{int64(t.channels)}, Data: make([]int8, t.channels)}); err != nil {
			return nil, err
		}
		dqNode.Attribute = []*onnxpb.AttributeProto{intAttr("axis", int64(t.axis))}
	} else {
		if err := q.addInit(g, sn, &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Data: scales[:1]}); err != nil {
			return nil, err
		}
		if err := q.addInit(g, zn, &onnx.Array{DataType: onnxpb.TensorProto_INT8, Data: []int8{0}}); err != nil {
			return nil, err
		}
	}
	(*before)[t.index] = append((*before)[t.index], dqNode)
	n.Input[weighted[n.GetOpType()]] = dq
	q.summary.Weights = append(q.summary.Weights, t.weight)
	q.done[key] = quantizedWeight{dequantized: dq, scales: scales}
	return scales, nil
}

// quantizeBias replaces node n's bias by int32 values of scale xScale*wScale[c] and zero point 0 behind a
// DequantizeLinear, as ORT's QDQ quantizer writes it (what QLinearConv and QGemm take).
func (q *rewriter) quantizeBias(g *onnxpb.GraphProto, n *onnxpb.NodeProto, t target, xScale float64, wScales []float32, before *map[int][]*onnxpb.NodeProto) error {
	a, err := q.model.TensorArray(q.inits[t.bias])
	if err != nil {
		return fmt.Errorf("quantize: node %q: bias: %w", n.GetName(), err)
	}
	b := a.Data.([]float32)
	scales := make([]float32, len(b))
	qb := make([]int32, len(b))
	for c, v := range b {
		scales[c] = float32(xScale) * wScales[c]
		qb[c] = int32(min(max(math.RoundToEven(float64(v/scales[c])), math.MinInt32), math.MaxInt32))
	}
	name := t.bias
	qn, sn, zn, dq := q.fresh(name+"_quantized"), q.fresh(name+"_scale"), q.fresh(name+"_zero_point"), q.fresh(name+"_dequantized")
	// Per channel: one scale per element on axis 0; per tensor the scales are all equal, written as a
	// scalar so that the model needs no per-axis DequantizeLinear (opset 13).
	dims := []int64{int64(len(b))}
	scaleArray := &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: dims, Data: scales}
	zeroArray := &onnx.Array{DataType: onnxpb.TensorProto_INT32, Dims: dims, Data: make([]int32, len(b))}
	if !q.opts.PerChannel {
		scaleArray = &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Data: scales[:1]}
		zeroArray = &onnx.Array{DataType: onnxpb.TensorProto_INT32, Data: []int32{0}}
	}
	for _, init := range []struct {
		name string
		a    *onnx.Array
	}{{qn, &onnx.Array{DataType: onnxpb.TensorProto_INT32, Dims: dims, Data: qb}}, {sn, scaleArray}, {zn, zeroArray}} {
		if err := q.addInit(g, init.name, init.a); err != nil {
			return err
		}
	}
	dqNode := node("DequantizeLinear", q.fresh(name+"_DequantizeLinear"), []string{qn, sn, zn}, []string{dq})
	if q.opts.PerChannel {
		dqNode.Attribute = []*onnxpb.AttributeProto{intAttr("axis", 0)}
	}
	(*before)[t.index] = append((*before)[t.index], dqNode)
	n.Input[2] = dq
	q.summary.Biases = append(q.summary.Biases, t.bias)
	return nil
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

// dropUnused removes the initializers no node reads any more (the float weights replaced), unless the
// graph lists them as inputs or outputs.
func dropUnused(g *onnxpb.GraphProto) {
	read := map[string]bool{}
	for _, n := range g.GetNode() {
		for _, v := range n.GetInput() {
			read[v] = true
		}
	}
	for _, v := range slices.Concat(g.GetInput(), g.GetOutput()) {
		read[v.GetName()] = true
	}
	g.Initializer = slices.DeleteFunc(g.Initializer, func(t *onnxpb.TensorProto) bool { return !read[t.GetName()] })
}
