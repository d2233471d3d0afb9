package runtime

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	goruntime "runtime"
	"slices"
	"sort"
	"strconv"
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
	// InputShapes pins graph inputs' shapes at Compile, by input name (what `--shape NAME=D0,D1,...` sets on
	// the command line): their symbolic dimensions become these sizes, the plan is made for them now, and
	// Run refuses other shapes. A pin must name an input, have its declared rank and agree with its fixed
	// dimensions; it gives a shape to an input that declares none.
	InputShapes map[string]ops.Shape
	// MaxLoopIterations bounds the iterations of one Loop node in one Run (default 10,000,000): a loop whose
	// condition never turns false and that has no trip count stops there with an *IterationLimitError
	// naming the node, instead of running forever. A cancelled context stops it sooner.
	MaxLoopIterations int64
	// Logf, when set, receives one line per graph pass that changed the graph.
	Logf func(format string, args ...any)
	// NoMmap makes Load read the model file into memory instead of mapping it. By default Load maps it
	// read-only where the platform can (onnx.DecodeOptions.Mmap) and the plan's weights stay in the file's
	// pages where their layout allows, so that they are shared with the page cache and with other processes
	// serving the same file, and are not scanned by the collector. Compile takes a decoded model and never
	// maps anything.
	NoMmap bool
	// KeepPlainWeights keeps every initializer's elements. By default a constant that every node reading
	// it reads only in packed form (a weight matrix of MatMul or Gemm) is dropped once packed, keeping
	// its shape (see dropplain.go): the plan then holds each such weight once, and Plan.Constant reports
	// it as dropped.
	KeepPlainWeights bool
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
	opts    Options
	graph   *Graph
	names   []string // value names by slot, for errors and dumps
	nodes   []planNode
	inputs  []valueID
	outputs []valueID
	consts  []*ops.Tensor // by slot; nil when not an initializer
	// packs holds the packed forms kernels make of the initializers (ops.Prepack): one per constant and
	// packing, shared by the nodes that read it and by every specialisation.
	packs     *ops.PackCache
	numValues int
	opsets    map[string]int

	mu    sync.Mutex
	cache map[string]*specialization
	order []string // cache keys, oldest first, to bound the cache

	// dataMu orders the reads of constants' elements while planning (read lock) before dropping them
	// (write lock; see dropplain.go).
	dataMu sync.RWMutex

	// lifetime holds the memory-mapped model file some constants point into (Load), released by Close.
	lifetime planLifetime
}

// Load reads, decodes and compiles a model file; its errors name the file. The decoded model is Load's
// own, so each weight takes as its memory the file's mapped pages (see Options.NoMmap), or else the
// buffer onnx.Load read its bytes into (onnx.Model.TakeTensor), where their layout allows, instead of a
// copy: a weight is read once and held once. A plan whose weights are mapped keeps the file mapped until
// it and every session made from it are closed (Plan.Close, Session.Close; the collector releases what is
// left unclosed, later).
func Load(path string, opts Options) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() // a mapped model keeps its pages after the file is closed
	return LoadFile(f, opts)
}

// LoadFile is Load for a model file the caller has opened already (onnx.DecodeOptions.LoadFile), such
// as one opened through an os.Root so that no symlink swapped in after a check can redirect the read.
// f.Name() names the file in errors and its folder is where external data resolves; f stays the
// caller's to close, and may be closed as soon as LoadFile returns.
func LoadFile(f *os.File, opts Options) (*Plan, error) {
	path := f.Name()
	m, err := onnx.DecodeOptions{Mmap: !opts.NoMmap}.LoadFile(f)
	if err != nil {
		return nil, classifyDecodeError(err) // it names the file already
	}
	defer m.Close() // the plan takes a reference of its own to what it keeps
	p, err := compile(m, opts, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p.lifetime.hold(p, m.Mapping())
	if mapping := m.Mapping(); mapping != nil {
		// Compiling read every weight, many only to pack, fold or copy them: what the runs read comes
		// back from the file as they read it.
		mapping.Trim()
	}
	return p, nil
}

// Compile checks the model, binds every node to a kernel, runs the graph passes and plans shapes and memory
// for the declared input shapes. Symbolic dimensions stay symbolic (see probeInputs): errors that do not
// depend on them are reported now, the rest at the first Run with real shapes. Every unsupported node is
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
	if err := pinInputShapes(g, opts.InputShapes); err != nil {
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
		if err := optimizeBodies(g, probeMaps(g, opts, opsets), opts, opsets, opts.Logf); err != nil {
			return nil, err
		}
	}
	p, err := newPlan(g, opts, opsets)
	if err != nil {
		return nil, err
	}
	if err := p.checkAtProbes(); err != nil {
		return nil, err
	}
	return p, nil
}

// pinInputShapes applies Options.InputShapes to the graph's declared inputs.
func pinInputShapes(g *Graph, pins map[string]ops.Shape) error {
	names := make([]string, 0, len(pins))
	for name := range pins {
		names = append(names, name)
	}
	sort.Strings(names) // the first error is the same at every Compile
	for _, name := range names {
		pin := pins[name]
		i := slices.IndexFunc(g.Inputs, func(in ValueSpec) bool { return in.Name == name })
		if i < 0 {
			return &InputError{Msg: fmt.Sprintf("a shape is pinned for %q, but the model has no such input; its inputs are %s", name, specNames(g.Inputs))}
		}
		in := &g.Inputs[i]
		if in.Type != nil {
			return &InputError{Input: name, Msg: fmt.Sprintf("a shape is pinned, but the input is a %s, not a tensor", in.TypeString())}
		}
		if in.HasShape && len(pin) != len(in.Dims) {
			return &InputError{Input: name, Msg: fmt.Sprintf("the pinned shape %v has rank %d, but the model declares %s, rank %d", pin, len(pin), in.ShapeString(), len(in.Dims))}
		}
		dims := make([]Dim, len(pin))
		for j, size := range pin {
			if size < 0 {
				return &InputError{Input: name, Msg: fmt.Sprintf("the pinned shape %v: dimension %d is negative", pin, j)}
			}
			if in.HasShape && !in.Dims[j].Symbolic() && in.Dims[j].Value != int64(size) {
				return &InputError{Input: name, Msg: fmt.Sprintf("the pinned shape %v contradicts the model's %s: dimension %d is fixed at %d", pin, in.ShapeString(), j, in.Dims[j].Value)}
			}
			dims[j] = Dim{Value: int64(size)}
		}
		in.Dims, in.HasShape = dims, true
	}
	return nil
}

func specNames(specs []ValueSpec) string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = fmt.Sprintf("%q %s%s", s.Name, s.DType, s.ShapeString())
	}
	return strings.Join(names, ", ")
}

// Symbolic dimensions stay symbolic: Compile never plans the graph as if an unknown size were 1 (a
// MaxPool over [1,3,H,W] would fail at H=1 although it runs at every real H). What only real shapes can
// plan is planned at the first Run with them and cached per shape (specialize). Where Compile needs
// shapes before that, for its own checks and for the graph passes, it plans at two probes, two different
// substitutions of the symbolic dimensions, and keeps only what does not depend on them:
//
//   - probe A gives every symbolic dimension the same size, so that dimensions that must be equal (a
//     batch named differently on two inputs) are;
//   - probe B gives each symbol (by name; each unnamed one is its own) its own size, so that a fact holding
//     only when two symbols are equal does not survive.
//
// The sizes of a spatial or sequence dimension are multiples of 32 (64 at A; 96, 128, ... at B), so that
// the feature maps of a CNN that downsamples 5 times keep whole sizes and its additions line up, as they do
// at the sizes such a model is run at. A symbol found only on inputs' first axis is a batch: no kernel
// windows over it, and the values constant folding computes grow with it, so it gets small sizes (2 at A;
// 3, 4, ... at B), never 1, which would broadcast.
const (
	probeSizeShared      = 64
	probeSizeFirst       = 96
	probeSizeStep        = 32
	probeBatchSizeShared = 2
	probeBatchSizeFirst  = 3
)

// probeInputs gives the inputs' declared shapes with the symbolic dimensions substituted as probe A
// (distinct false) or B (distinct true). ok is false when an input declares no shape; symbolic is
// whether any dimension is symbolic (then the probe is not a shape the model will necessarily run at).
func probeInputs(g *Graph, distinct bool) (infos []ops.ValueInfo, symbolic, ok bool) {
	notBatch := map[string]bool{} // named symbols found on an axis other than the first
	for _, in := range g.Inputs {
		if in.Type != nil {
			continue // a sequence or optional: the plan becomes dynamic where it is read
		}
		if !in.HasShape {
			return nil, false, false
		}
		for j, d := range in.Dims {
			if d.Symbolic() && j > 0 && d.Param != "" {
				notBatch[d.Param] = true
			}
		}
	}
	infos = make([]ops.ValueInfo, len(g.Inputs))
	symbolSize := map[string]int{}
	next, nextBatch := probeSizeFirst, probeBatchSizeFirst
	for i, in := range g.Inputs {
		if in.Type != nil {
			infos[i] = ops.InfoOf(*in.Type)
			continue
		}
		shape := make(ops.Shape, len(in.Dims))
		for j, d := range in.Dims {
			if !d.Symbolic() {
				shape[j] = int(d.Value)
				continue
			}
			symbolic = true
			batch := j == 0 && !notBatch[d.Param]
			size, seen := symbolSize[d.Param]
			switch {
			case !distinct && batch:
				size = probeBatchSizeShared
			case !distinct:
				size = probeSizeShared
			case seen && d.Param != "":
			case batch:
				size = nextBatch
				nextBatch++
			default:
				size = next
				next += probeSizeStep
			}
			shape[j] = size
			if d.Param != "" {
				symbolSize[d.Param] = size
			}
		}
		infos[i] = ops.ValueInfo{DType: in.DType, Shape: shape}
	}
	return infos, symbolic, true
}

// checkAtProbes plans the graph once at Compile so that errors surface now, not at the first Run. With
// no symbolic dimension the declared shapes are the shapes: the specialisation is made and cached, and the
// first Run reuses it. Otherwise the graph's shapes are inferred (no kernel prepared, nothing cached) at probe A and, if
// that fails, at probe B: an error is reported only when both probes fail with the same message (but for
// the probe sizes themselves, see sameExceptProbeSizes), that is when it does not depend on the symbolic
// sizes (an unsupported attribute, a shape clash among fixed dimensions). An error that changes with them
// (a kernel larger than a size that the caller may well make larger, a Reshape that fits one size only)
// waits for the real shapes at Run.
func (p *Plan) checkAtProbes() error {
	probeA, symbolic, ok := probeInputs(p.graph, false)
	if !ok {
		return nil
	}
	if !symbolic {
		_, err := p.specialize(probeA)
		return err
	}
	// The probes infer shapes and fold constants but prepare no kernel: the first Run prepares its own for
	// the real shapes, so a kernel prepared here (with its prepacked copy of the weights) would be work and
	// memory thrown away, doubling a symbolic-batch model's cold start. What only Prepare checks waits for
	// that first Run.
	_, errA := p.plan(probeA, planShapes)
	if errA == nil {
		return nil
	}
	probeB, _, _ := probeInputs(p.graph, true)
	_, errB := p.plan(probeB, planShapes)
	if errB != nil && sameExceptProbeSizes(errA.Error(), errB.Error(), probeA, probeB) {
		return errA
	}
	return nil
}

// digitRuns splits an error message into its numbers and the text between them.
var digitRuns = regexp.MustCompile(`[0-9]+`)

// sameExceptProbeSizes reports whether two probes' error messages say the same thing: equal, but for
// numbers that are, in each message, a size its probe gave a symbolic input dimension. So an Add of
// [N,3,H,W] and [N,4,H,W], whose message prints both shapes, is one error at every size; a Reshape whose
// element count follows H and W (a size computed from a probe size, not one) is not, and waits for Run.
func sameExceptProbeSizes(msgA, msgB string, probeA, probeB []ops.ValueInfo) bool {
	if msgA == msgB {
		return true
	}
	sizesA, sizesB := map[string]bool{}, map[string]bool{}
	for i := range probeA {
		for j, d := range probeA[i].Shape {
			if e := probeB[i].Shape[j]; d != e {
				sizesA[strconv.Itoa(d)], sizesB[strconv.Itoa(e)] = true, true
			}
		}
	}
	numsA, numsB := digitRuns.FindAllString(msgA, -1), digitRuns.FindAllString(msgB, -1)
	if len(numsA) != len(numsB) || !slices.Equal(digitRuns.Split(msgA, -1), digitRuns.Split(msgB, -1)) {
		return false
	}
	for k, a := range numsA {
		if b := numsB[k]; a != b && !(sizesA[a] && sizesB[b]) {
			return false
		}
	}
	return true
}

// probeShapes tells the graph passes what holds of every value whatever the symbolic dimensions: it plans
// the graph (inferring and folding, preparing nothing) at probes A and B and keeps a value only where both
// reached it with the same dtype and rank. A dimension the probes agree on is kept as is; one they
// disagree on (it depends on a symbolic size) becomes a negative code, the same for the same pair of
// probe sizes, so that two such dimensions compare equal exactly when they were equal at both probes; a
// constant is kept only when both probes computed the same value (a Shape of a symbolic input is not).
// A value missing from the map is unknown (planning stopped before it, or the graph has dynamic shapes),
// and passes leave its nodes alone. A pass that computes with a dimension checks it is known (knownDims).
func probeShapes(g *Graph, opts Options, opsets map[string]int) map[string]ops.ValueInfo {
	return mergeAll(probeMaps(g, opts, opsets))
}

// probeAt plans shapes (no kernel prepared) for these inputs and returns what it learnt by value name.
func (p *Plan) probeAt(inputs []ops.ValueInfo) map[string]ops.ValueInfo {
	known := map[string]ops.ValueInfo{}
	s, _ := p.plan(inputs, planShapes)
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

// mergeProbes keeps what probes a and b agree on, as probeShapes describes.
func mergeProbes(a, b map[string]ops.ValueInfo) map[string]ops.ValueInfo {
	merged := make(map[string]ops.ValueInfo, len(a))
	codes := map[[2]int]int{}
	for name, infoA := range a {
		infoB, ok := b[name]
		if !ok || infoA.DType != infoB.DType || len(infoA.Shape) != len(infoB.Shape) {
			continue
		}
		info := ops.ValueInfo{DType: infoA.DType, Shape: make(ops.Shape, len(infoA.Shape))}
		for i, d := range infoA.Shape {
			if d == infoB.Shape[i] {
				info.Shape[i] = d
				continue
			}
			pair := [2]int{d, infoB.Shape[i]}
			code, seen := codes[pair]
			if !seen {
				code = -1 - len(codes)
				codes[pair] = code
			}
			info.Shape[i] = code
		}
		if infoA.Const != nil && infoB.Const != nil && knownDims(info.Shape) && sameConstant(infoA.Const, infoB.Const) {
			info.Const = infoA.Const
		}
		merged[name] = info
	}
	return merged
}

// sameConstant reports whether two probes folded a value to the same tensor. A NaN makes them differ,
// which only costs a pass a fact.
func sameConstant(a, b *ops.Tensor) bool {
	return a.DType() == b.DType() && a.Shape().Equal(b.Shape()) && reflect.DeepEqual(a.Data(), b.Data())
}

// knownDims reports whether every dimension of a probed shape is a size, not the code of a dimension that
// depends on a symbolic one (see probeShapes).
func knownDims(shape ops.Shape) bool {
	for _, d := range shape {
		if d < 0 {
			return false
		}
	}
	return true
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
	p := &Plan{opts: opts, graph: g, opsets: opsets, cache: map[string]*specialization{}, packs: new(ops.PackCache)}
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

// Graph returns the optimised graph the plan runs (for inspection and dumps; do not modify it). Its
// Constants include the weights the plan dropped once packed, shape and all but no elements
// (ops.Tensor.Dropped); read a constant's elements through Plan.Constant, which reports those.
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

// PrepackStats reports the packed forms kernels made of the plan's initializers (ops.Prepack): each is
// made once, whatever the number of nodes and input shapes that use it.
func (p *Plan) PrepackStats() ops.PackStats { return p.packs.Stats() }

// WeightBytes is the memory the plan holds for its weights: the initializers it keeps (after the graph
// passes; not those only packed forms are left of, see Options.KeepPlainWeights) and the packed forms its kernels made of them, each counted once however many nodes share it.
func (p *Plan) WeightBytes() int64 {
	p.dataMu.RLock()
	defer p.dataMu.RUnlock()
	var n int64
	for _, t := range p.consts {
		if t != nil {
			n += int64(t.Len()) * int64(t.DType().Size())
		}
	}
	return n + p.packs.Stats().Bytes
}
