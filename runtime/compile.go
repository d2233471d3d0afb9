package runtime

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
)

// Options tune Compile. The zero value is sensible: every pass on, threads = GOMAXPROCS, default limits.
type Options struct {
	// Threads is the number of threads a Session uses inside operators; 0 means GOMAXPROCS.
	Threads int
	// AllowNewerOpsets lets a model that imports a default-domain opset above ops.MaxOpset compile, with the
	// kernels of the newest opset known. Off by default: a newer opset may change an operator's meaning.
	AllowNewerOpsets bool
	// NoOptimize turns the graph passes off (constant folding stays: it is how shapes are planned).
	NoOptimize bool
	// MaxTensorBytes bounds any single tensor, declared or inferred (default 4 GiB), so a hostile model gets
	// an error instead of an out-of-memory kill.
	MaxTensorBytes int64
	// MaxPlanBytes bounds the memory a specialised plan may ask for, all buffers together (default 16 GiB).
	MaxPlanBytes int64
	// FoldLimitBytes is the largest tensor constant folding will materialise (default 64 MiB); bigger
	// results are computed at Run instead.
	FoldLimitBytes int64
	// MaxLoopIterations bounds the iterations of one Loop node in one Run (default 10,000,000): a loop whose
	// condition never turns false and that has no trip count stops there with an *IterationLimitError
	// naming the node, instead of running forever. A cancelled context stops it sooner.
	MaxLoopIterations int64
	// Logf, when set, receives one line per graph pass that changed the graph.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.Threads <= 0 {
		o.Threads = goruntime.GOMAXPROCS(0)
	}
	if o.MaxTensorBytes <= 0 {
		o.MaxTensorBytes = 4 << 30
	}
	if o.MaxPlanBytes <= 0 {
		o.MaxPlanBytes = 16 << 30
	}
	if o.MaxLoopIterations <= 0 {
		o.MaxLoopIterations = DefaultMaxLoopIterations
	}
	if o.FoldLimitBytes <= 0 {
		o.FoldLimitBytes = 64 << 20
	}
	return o
}

// DefaultMaxLoopIterations is Options.MaxLoopIterations when it is left at zero.
const DefaultMaxLoopIterations = 10_000_000

// valueID is a value's slot at run time: an index into per-value tables, so Run does no map lookups.
type valueID int32

const noValue valueID = -1

// planNode is a node with its values resolved to slots.
type planNode struct {
	node  *Node
	label string
	in    []valueID // noValue for an absent optional input
	out   []valueID
}

// Plan is a compiled model: the graph after passes, sorted, bound to kernels, with its values numbered.
// A Plan is immutable and safe for concurrent use; each goroutine runs it through its own Session.
// Shapes are resolved per set of concrete input shapes ("specialisations", cached in the Plan), so a model
// declared [N,1,28,28] runs at any batch.
type Plan struct {
	opts      Options
	graph     *Graph
	names     []string // value names by slot, for errors and dumps
	nodes     []planNode
	inputs    []valueID
	outputs   []valueID
	consts    []*ops.Tensor // by slot; nil when not an initializer
	numValues int
	opsets    map[string]int

	mu    sync.Mutex
	cache map[string]*specialization
	order []string // cache keys, oldest first, to bound the cache
}

// Load reads, decodes and compiles a model file; its errors name the file. The decoded model is Load's
// own, so each weight takes as its memory the buffer onnx.Load read its bytes into (onnx.TakeTensor)
// where their layout allows, instead of a copy: a weight is read once and held once.
func Load(path string, opts Options) (*Plan, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, classifyDecodeError(err) // it names the file already
	}
	p, err := compile(m, opts, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Compile checks the model, binds every node to a kernel, runs the graph passes and plans shapes and memory
// for the declared input shapes (symbolic dimensions taken as 1 for that check). Every unsupported node is
// reported at once in an *UnsupportedError.
func Compile(m *onnx.Model, opts Options) (*Plan, error) { return compile(m, opts, false) }

// compile is Compile; with ownModel, m is the caller's to spend: buildGraph drops the initializers' bytes
// from the protobuf as it converts them. (No collection is forced after that: onnx.Load leaves no copy of
// the file behind, so there is nothing large to collect.)
func compile(m *onnx.Model, opts Options, ownModel bool) (*Plan, error) {
	opts = opts.withDefaults()
	opsets, err := resolveOpsets(m, opts)
	if err != nil {
		return nil, err
	}
	limits := onnx.Limits{MaxTensorBytes: opts.MaxTensorBytes}
	g, err := buildGraph(m, opsets, limits, ownModel)
	if err != nil {
		return nil, err
	}
	if err := checkDeclaredInputs(g, opts); err != nil {
		return nil, err
	}
	if err := sortGraph(g); err != nil {
		return nil, err
	}
	if err := bindGraph(g, opts, opsets); err != nil {
		return nil, err
	}
	if !opts.NoOptimize {
		probe := func(g *Graph) map[string]ops.ValueInfo { return probeShapes(g, opts, opsets) }
		if err := runPasses(g, probe, opts.Logf); err != nil {
			return nil, err
		}
		if err := bindGraph(g, opts, opsets); err != nil { // the nodes passes created
			return nil, err
		}
	}
	p, err := newPlan(g, opts, opsets)
	if err != nil {
		return nil, err
	}
	// Plan once at the declared shapes so that shape errors surface now, not at the first Run.
	if probe, ok := declaredShapes(g); ok {
		if _, err := p.specialize(probe); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// declaredShapes gives the inputs' declared shapes with every symbolic dimension taken as 1; ok is false
// when an input declares no shape.
func declaredShapes(g *Graph) ([]ops.ValueInfo, bool) {
	probe := make([]ops.ValueInfo, len(g.Inputs))
	for i, in := range g.Inputs {
		if !in.HasShape {
			return nil, false
		}
		shape := make(ops.Shape, len(in.Dims))
		for j, d := range in.Dims {
			shape[j] = int(d.Value)
			if d.Symbolic() {
				shape[j] = 1
			}
		}
		probe[i] = ops.ValueInfo{DType: in.DType, Shape: shape}
	}
	return probe, true
}

// probeShapes plans the graph at its declared shapes and returns what it learnt of every value by name:
// dtype, shape (with symbolic dimensions at 1) and, for constants, the value. Passes use it to check that a
// rewrite is valid; a value missing from the map is unknown (planning stopped before it, or the graph has
// dynamic shapes), and passes leave its nodes alone.
func probeShapes(g *Graph, opts Options, opsets map[string]int) map[string]ops.ValueInfo {
	known := map[string]ops.ValueInfo{}
	probe, ok := declaredShapes(g)
	if !ok {
		return known
	}
	p, err := newPlan(g, opts, opsets)
	if err != nil {
		return known
	}
	s, _ := p.plan(probe, planShapes)
	if s == nil {
		return known
	}
	for id, info := range s.infos {
		if info.DType != ops.Undefined && p.names[id] != "" {
			known[p.names[id]] = info
		}
	}
	return known
}

func resolveOpsets(m *onnx.Model, opts Options) (map[string]int, error) {
	opsets := map[string]int{}
	for _, imp := range m.Proto.GetOpsetImport() {
		d := ops.NormalizeDomain(imp.GetDomain())
		v := int(imp.GetVersion())
		if v < 1 {
			return nil, modelErrorf("opset_import for domain %q has version %d", imp.GetDomain(), v)
		}
		opsets[d] = v
	}
	if v, ok := opsets[""]; ok && v > ops.MaxOpset {
		if !opts.AllowNewerOpsets {
			return nil, fmt.Errorf("%w: the model imports opset %d of the default ONNX domain; onnxrun is tested up to opset %d (set Options.AllowNewerOpsets to try anyway)", ErrUnsupported, v, ops.MaxOpset)
		}
		opsets[""] = ops.MaxOpset
	}
	return opsets, nil
}

// sortGraph orders the nodes so that every value is produced before it is used, keeping the file's order
// where it is already valid (exporters sometimes write nodes out of order). It reports cycles, values
// produced twice and inputs nothing produces.
func sortGraph(g *Graph) error {
	producer := map[string]int{}
	for _, in := range g.Inputs {
		producer[in.Name] = -1
	}
	for name := range g.Constants {
		producer[name] = -1
	}
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o == "" {
				continue
			}
			if prev, dup := producer[o]; dup {
				if prev >= 0 {
					return modelErrorf("value %q is produced twice: by node %q and node %q", o, g.Nodes[prev].label(prev), n.label(i))
				}
				return modelErrorf("value %q is produced by node %q but is also a graph input or initializer", o, n.label(i))
			}
			producer[o] = i
		}
	}
	var missing []string
	indeg := make([]int, len(g.Nodes))
	users := make([][]int, len(g.Nodes))
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in == "" {
				continue
			}
			p, ok := producer[in]
			if !ok {
				missing = append(missing, fmt.Sprintf("%q (input of node %q)", in, n.label(i)))
				continue
			}
			if p >= 0 {
				indeg[i]++
				users[p] = append(users[p], i)
			}
		}
	}
	for _, out := range g.Outputs {
		if _, ok := producer[out.Name]; !ok {
			missing = append(missing, fmt.Sprintf("%q (graph output)", out.Name))
		}
	}
	if len(missing) > 0 {
		return modelErrorf("values used but never produced: %s", strings.Join(missing, ", "))
	}
	// Kahn's algorithm with the ready set kept sorted by original index: a valid file keeps its order.
	var ready []int
	for i := range g.Nodes {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	sorted := make([]*Node, 0, len(g.Nodes))
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		sorted = append(sorted, g.Nodes[i])
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				j := sort.SearchInts(ready, u)
				ready = append(ready, 0)
				copy(ready[j+1:], ready[j:])
				ready[j] = u
			}
		}
	}
	if len(sorted) != len(g.Nodes) {
		var cyc []string
		for i, d := range indeg {
			if d > 0 {
				cyc = append(cyc, fmt.Sprintf("%q (%s)", g.Nodes[i].label(i), g.Nodes[i].OpType))
			}
		}
		return modelErrorf("the graph has a cycle through nodes %s", strings.Join(cyc, ", "))
	}
	g.Nodes = sorted
	return nil
}

// bindKernels builds every node's Op (ops.Build: a registry lookup, then the builder). All unsupported nodes are
// collected into one error; a node whose attributes are wrong fails with a NodeError.
func bindKernels(g *Graph) error {
	var unsupported []UnsupportedNode
	var firstErr error
	for i, n := range g.Nodes {
		if n.Op != nil {
			continue
		}
		present := make([]bool, len(n.Inputs))
		for j, in := range n.Inputs {
			present[j] = in != ""
		}
		op, err := ops.Build(ops.NodeInfo{Name: n.label(i), Domain: n.Domain, OpType: n.OpType, Opset: n.Opset,
			Attrs: n.Attrs, NumInputs: len(n.Inputs), NumOutputs: len(n.Outputs), InputPresent: present})
		var missing *ops.NotRegisteredError
		if errors.As(err, &missing) {
			unsupported = append(unsupported, UnsupportedNode{Name: n.label(i), Domain: n.Domain, OpType: n.OpType, Opset: n.Opset, Have: missing.Have})
			continue
		}
		if err != nil {
			if firstErr == nil {
				firstErr = newNodeError(n.label(i), n, "build", err)
			}
			continue
		}
		n.Op = op
	}
	if len(unsupported) > 0 {
		return &UnsupportedError{Nodes: unsupported}
	}
	return firstErr
}

// bindGraph binds every node's kernel (bindKernels), then compiles the bodies of control-flow nodes into
// nested plans, recursively: they need the options and opsets, which builders do not see.
func bindGraph(g *Graph, opts Options, opsets map[string]int) error {
	if err := bindKernels(g); err != nil {
		return err
	}
	for i, n := range g.Nodes {
		if cf, ok := n.Op.(bodyOwner); ok {
			if err := cf.compileBodies(n.label(i), opts, opsets); err != nil {
				return newNodeError(n.label(i), n, "compile body", err)
			}
		}
	}
	return nil
}

// newPlan numbers the values and resolves each node's inputs and outputs to slots.
func newPlan(g *Graph, opts Options, opsets map[string]int) (*Plan, error) {
	p := &Plan{opts: opts, graph: g, opsets: opsets, cache: map[string]*specialization{}}
	ids := map[string]valueID{}
	add := func(name string) valueID {
		id := valueID(len(p.names))
		p.names = append(p.names, name)
		ids[name] = id
		return id
	}
	for _, in := range g.Inputs {
		p.inputs = append(p.inputs, add(in.Name))
	}
	constNames := make([]string, 0, len(g.Constants))
	for name := range g.Constants {
		constNames = append(constNames, name)
	}
	sort.Strings(constNames)
	for _, name := range constNames {
		add(name)
	}
	for i, n := range g.Nodes {
		pn := planNode{node: n, label: n.label(i)}
		for _, in := range n.Inputs {
			if in == "" {
				pn.in = append(pn.in, noValue)
				continue
			}
			pn.in = append(pn.in, ids[in])
		}
		for _, o := range n.Outputs {
			if o == "" {
				// An unused optional output still gets a slot: kernels always have somewhere to write.
				pn.out = append(pn.out, add(""))
				continue
			}
			pn.out = append(pn.out, add(o))
		}
		p.nodes = append(p.nodes, pn)
	}
	for _, out := range g.Outputs {
		id, ok := ids[out.Name]
		if !ok {
			return nil, modelErrorf("graph output %q is never produced", out.Name)
		}
		p.outputs = append(p.outputs, id)
	}
	p.numValues = len(p.names)
	p.consts = make([]*ops.Tensor, p.numValues)
	for _, name := range constNames {
		p.consts[ids[name]] = g.Constants[name]
	}
	return p, nil
}

// Inputs describes the values a caller feeds, in order.
func (p *Plan) Inputs() []ValueSpec { return append([]ValueSpec(nil), p.graph.Inputs...) }

// Outputs describes the values Run returns, in order.
func (p *Plan) Outputs() []ValueSpec { return append([]ValueSpec(nil), p.graph.Outputs...) }

// Graph returns the optimised graph the plan runs (for inspection and dumps; do not modify it).
func (p *Plan) Graph() *Graph { return p.graph }

// Options returns the options the plan was compiled with, defaults filled in.
func (p *Plan) Options() Options { return p.opts }

// Describe plans the model for the given input shapes (inputs in order, dtypes as declared) and prints the
// steps, value placement and arena size: what `onnxrun inspect --plan` shows.
func (p *Plan) Describe(shapes ...ops.Shape) string {
	infos := make([]ops.ValueInfo, len(p.graph.Inputs))
	for i, in := range p.graph.Inputs {
		infos[i] = ops.ValueInfo{DType: in.DType}
		if i < len(shapes) {
			infos[i].Shape = shapes[i]
		}
	}
	s, err := p.specialize(infos)
	if err != nil {
		return "cannot plan: " + err.Error()
	}
	return s.describe(p)
}
