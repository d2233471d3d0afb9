package serve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// Model is one compiled model served under a name: its metadata, its pool of sessions and, when dynamic
// batching is on and the model has a batch dimension, its batcher.
type Model struct {
	name    string
	version string
	plan    *runtime.Plan
	inputs  []runtime.ValueSpec
	outputs []runtime.ValueSpec
	inIdx   map[string]int
	outIdx  map[string]int
	meta    ModelMetadata

	pool     *sessionPool
	batch    *batcher // nil when requests run one by one
	maxBatch int
	noBatch  string // why dynamic batching is off for this model, when it was asked for
	queue    *admission

	closeOnce sync.Once
	closed    atomic.Bool // set by Close: a model the repository replaced is closed after its last request

	settings ModelSettings // from NAME.json beside the model file, when Load found one

	stats *metrics // set when a Server adopts the model

	ownsPlan bool // Load compiled the plan, so Close closes it (unmapping the model file)
}

// ModelSource names a model file to serve.
type ModelSource struct {
	Name string // the name in URLs: /v2/models/NAME
	Path string // the .onnx file
}

// ParseModelSource reads a command-line model argument: PATH (named after the file, lenet.onnx → lenet) or
// NAME=PATH.
func ParseModelSource(arg string) (ModelSource, error) {
	if name, path, ok := strings.Cut(arg, "="); ok && name != "" && !strings.ContainsAny(name, `/\`) {
		if err := checkModelName(name); err != nil {
			return ModelSource{}, err
		}
		return ModelSource{Name: name, Path: path}, nil
	}
	return ModelSource{Name: strings.TrimSuffix(filepath.Base(arg), filepath.Ext(arg)), Path: arg}, nil
}

// ModelsInDir finds the models in dir: each NAME.onnx file, and each folder NAME/ that holds model.onnx or
// exactly one .onnx file (the layout of ../shared/models, and of a KServe storage URI that points at a
// folder). Names starting with a dot are skipped. The list is sorted by name.
func ModelsInDir(dir string) ([]ModelSource, error) {
	found, err := scanModelDir(dir)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, errNoModelsIn(dir)
	}
	for _, src := range found {
		if err := confineSource(dir, src); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
	}
	return found, nil
}

// scanModelDir is ModelsInDir, with an empty directory no error.
func scanModelDir(dir string) ([]ModelSource, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var found []ModelSource
	byName := map[string]string{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") { // .git, editor files, Kubernetes' ..data links
			continue
		}
		path := filepath.Join(dir, e.Name())
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			// Followed, so that a linked folder is found; where it leads is checked when it loads
			// (confineSource), which refuses a link out of the folder by name rather than skipping it.
			if st, err := os.Stat(path); err == nil {
				isDir = st.IsDir()
			}
		}
		var src ModelSource
		switch {
		case !isDir && strings.EqualFold(filepath.Ext(e.Name()), ".onnx"):
			src = ModelSource{Name: strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())), Path: path}
		case isDir:
			file, ok := modelInFolder(path)
			if !ok {
				continue
			}
			src = ModelSource{Name: e.Name(), Path: file}
		default:
			continue
		}
		if prev, dup := byName[src.Name]; dup {
			return nil, fmt.Errorf("%s: two models are named %q: %s and %s", dir, src.Name, prev, src.Path)
		}
		byName[src.Name] = src.Path
		found = append(found, src)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	return found, nil
}

func modelInFolder(dir string) (string, bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	var onnxFiles []string
	for _, e := range entries {
		if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".onnx") {
			if e.Name() == "model.onnx" {
				return filepath.Join(dir, e.Name()), true
			}
			onnxFiles = append(onnxFiles, filepath.Join(dir, e.Name()))
		}
	}
	if len(onnxFiles) == 1 {
		return onnxFiles[0], true
	}
	return "", false
}

func checkModelName(name string) error {
	if name == "" || strings.ContainsAny(name, "/\\?#% \t\n") {
		return fmt.Errorf("model name %q: it must be non-empty and fit in a URL path segment (no '/', '?', '#', '%%' or spaces)", name)
	}
	return nil
}

// Load compiles the model file src.Path (with cfg.Threads threads per session) and makes it servable. The
// model's settings file (SettingsFile), when there is one, overrides cfg for this model.
func Load(src ModelSource, cfg Config) (*Model, error) {
	settings, err := readSourceSettings(src)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", src.Name, err)
	}
	cfg = settings.Apply(cfg.withDefaults())
	plan, err := runtime.Load(src.Path, runtime.Options{Threads: cfg.Threads, InputShapes: cfg.InputShapes})
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", src.Name, err)
	}
	return newLoadedModel(src, plan, settings, cfg)
}

// loadConfined is Load for a model of the model folder dir: its files are opened through an os.Root on
// the folder (openConfined), so that no symlink leads the read outside it.
func loadConfined(dir string, src ModelSource, cfg Config) (*Model, error) {
	files, err := openConfined(dir, src)
	if err != nil {
		return nil, err
	}
	defer files.model.Close() // the plan keeps its own mapping of the file
	var settings ModelSettings
	if files.settings != nil {
		if settings, err = parseModelSettings(src.SettingsFile(), files.settings); err != nil {
			return nil, fmt.Errorf("model %q: %w", src.Name, err)
		}
	}
	cfg = settings.Apply(cfg.withDefaults())
	plan, err := runtime.LoadFile(files.model, runtime.Options{Threads: cfg.Threads, InputShapes: cfg.InputShapes})
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", src.Name, err)
	}
	return newLoadedModel(src, plan, settings, cfg)
}

// newLoadedModel serves a plan Load compiled from src's file, which the model then owns.
func newLoadedModel(src ModelSource, plan *runtime.Plan, settings ModelSettings, cfg Config) (*Model, error) {
	m, err := NewModel(src.Name, plan, cfg)
	if err != nil {
		plan.Close()
		return nil, err
	}
	m.settings = settings
	m.ownsPlan = true
	return m, nil
}

// NewModel serves a compiled plan under name, with cfg.Sessions sessions and, when cfg.MaxBatch > 1 and
// the model has a batch dimension, dynamic batching. Close releases it.
func NewModel(name string, plan *runtime.Plan, cfg Config) (*Model, error) {
	cfg = cfg.withDefaults()
	if err := checkModelName(name); err != nil {
		return nil, err
	}
	m := &Model{
		name: name, version: cfg.ModelVersion, plan: plan,
		inputs: plan.Inputs(), outputs: plan.Outputs(),
		inIdx: map[string]int{}, outIdx: map[string]int{},
		maxBatch: cfg.MaxBatch, queue: newAdmission(cfg.QueueSize, cfg.Sessions, cfg.MaxQueueDelay),
	}
	m.meta = ModelMetadata{Name: name, Versions: []string{m.version}, Platform: Platform,
		Inputs: []TensorMetadata{}, Outputs: []TensorMetadata{}}
	for i, spec := range m.inputs {
		md, err := tensorMetadata("input", spec)
		if err != nil {
			return nil, fmt.Errorf("model %q: %w", name, err)
		}
		m.meta.Inputs = append(m.meta.Inputs, md)
		m.inIdx[spec.Name] = i
	}
	for i, spec := range m.outputs {
		md, err := tensorMetadata("output", spec)
		if err != nil {
			return nil, fmt.Errorf("model %q: %w", name, err)
		}
		m.meta.Outputs = append(m.meta.Outputs, md)
		m.outIdx[spec.Name] = i
	}
	m.pool = newSessionPool(plan, cfg.Sessions)
	if cfg.MaxBatch > 1 {
		if reason := batchDimProblem(m.inputs, m.outputs); reason != "" {
			m.noBatch = reason
		} else {
			m.batch = newBatcher(m, cfg.MaxBatch, cfg.MaxBatchDelay)
		}
	}
	return m, nil
}

// Name is the model's name in URLs.
func (m *Model) Name() string { return m.name }

// Metadata is what GET /v2/models/NAME answers.
func (m *Model) Metadata() ModelMetadata { return m.meta }

// Settings are the model's own settings (NAME.json), the zero value when it has none.
func (m *Model) Settings() ModelSettings { return m.settings }

// Batching reports whether requests to this model are batched dynamically, and if not although it was
// asked for, why.
func (m *Model) Batching() (on bool, whyNot string) { return m.batch != nil, m.noBatch }

// drain makes the batcher stop waiting for batches to fill (see batcher.startDrain).
func (m *Model) drain() {
	if m.batch != nil {
		m.batch.startDrain()
	}
}

// admit lets a request into the model's queue, or refuses it at once when the queue is full (an *Error
// with RetryAfter set). The context returned carries the request's place, which the pool and the batcher
// give up when they start running it; leave must be called when the request is done.
func (m *Model) admit(ctx context.Context) (admitted context.Context, leave func(), err error) {
	t, refusal, err := m.queue.enter(m.name)
	if err != nil {
		m.stats.observeRejected(m.name, refusal)
		return ctx, nil, err
	}
	return withTicket(ctx, t), t.leave, nil
}

// QueueSize is the number of requests that may wait for the model at once (Config.QueueSize).
func (m *Model) QueueSize() int { return int(m.queue.queueSize) }

// Close stops the batcher (running what it holds) and the sessions, and closes the plan when Load made
// it, which unmaps the model file (runtime.Plan.Close). The model must get no more requests. Closing it
// again does nothing.
func (m *Model) Close() {
	m.closeOnce.Do(func() {
		if m.batch != nil {
			m.batch.close()
		}
		m.pool.close()
		if m.ownsPlan {
			m.plan.Close()
		}
		m.closed.Store(true)
	})
}

// tensorMetadata describes a model input or output the protocol's way. The protocol carries tensors only,
// so a model with a sequence, optional or map input or output is refused when it is loaded, with an error
// naming the value, rather than failing (or answering half) each request.
func tensorMetadata(kind string, spec runtime.ValueSpec) (TensorMetadata, error) {
	if spec.Type != nil {
		return TensorMetadata{}, fmt.Errorf("%s %q is a %s: the Open Inference Protocol carries tensors only; run the model with `onnxrun run` or the Go API", kind, spec.Name, spec.Type)
	}
	dt := Datatype(spec.DType)
	if dt == "" {
		return TensorMetadata{}, fmt.Errorf("%s %q has dtype %s, which the Open Inference Protocol cannot carry", kind, spec.Name, spec.DType)
	}
	return TensorMetadata{Name: spec.Name, Datatype: dt, Shape: protocolShape(spec)}, nil
}

// protocolShape gives a declared shape the protocol's way: symbolic dimensions as -1. A model that
// declares no shape at all (any rank) is shown as [-1], the closest the protocol can say.
func protocolShape(spec runtime.ValueSpec) []int64 {
	if !spec.HasShape {
		return []int64{-1}
	}
	shape := make([]int64, len(spec.Dims))
	for i, d := range spec.Dims {
		if d.Symbolic() {
			shape[i] = -1
		} else {
			shape[i] = d.Value
		}
	}
	return shape
}

func shapeString(s []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, d)
	}
	b.WriteByte(']')
	return b.String()
}

func describeTensors(ts []TensorMetadata) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s (%s %s)", t.Name, t.Datatype, shapeString(t.Shape))
	}
	return strings.Join(parts, ", ")
}

// batchDimProblem says why requests to a model cannot be stacked along their first dimension, or "" if
// they can: every input and output must declare a symbolic first dimension, the same symbol for all inputs.
func batchDimProblem(inputs, outputs []runtime.ValueSpec) string {
	param := ""
	for i, spec := range inputs {
		if !spec.HasShape || len(spec.Dims) == 0 || !spec.Dims[0].Symbolic() {
			return fmt.Sprintf("input %q has no variable first (batch) dimension", spec.Name)
		}
		if i == 0 {
			param = spec.Dims[0].Param
		} else if spec.Dims[0].Param != param {
			return fmt.Sprintf("inputs %q and %q have different first dimensions (%s, %s)", inputs[0].Name, spec.Name, param, spec.Dims[0].Param)
		}
	}
	for _, spec := range outputs {
		if !spec.HasShape || len(spec.Dims) == 0 || !spec.Dims[0].Symbolic() {
			return fmt.Sprintf("output %q has no variable first (batch) dimension", spec.Name)
		}
	}
	return ""
}

// request is a decoded inference request: the model's inputs in order and the outputs wanted.
type request struct {
	inputs []*ops.Tensor
	want   []int // indices into the model's outputs, in the order the response lists them
}

// decode checks an inference request against the model and parses its tensors, which may hold up to
// maxElements elements in all (Config.MaxElements).
func (m *Model) decode(req *InferRequest, maxElements int64) (*request, error) {
	inNames := make([]string, len(req.Inputs))
	for k := range req.Inputs {
		inNames[k] = req.Inputs[k].Name
	}
	outNames := make([]string, len(req.Outputs))
	for k := range req.Outputs {
		outNames[k] = req.Outputs[k].Name
	}
	elements := &elementBudget{limit: maxElements, left: maxElements}
	return m.assemble(inNames, outNames, func(k, i int) (*ops.Tensor, error) { return m.decodeInput(i, &req.Inputs[k], elements) })
}

// assemble builds the internal request both protocols run, from the names of a request's inputs and
// wanted outputs: decodeInput(k, i) parses the request's k-th input, which is the model's input i. Unknown,
// repeated and missing names are refused here, the same way for HTTP and gRPC.
func (m *Model) assemble(inNames, outNames []string, decodeInput func(k, i int) (*ops.Tensor, error)) (*request, error) {
	if len(inNames) == 0 && len(m.inputs) > 0 {
		return nil, badRequestf("the request has no inputs; model %q takes %s", m.name, describeTensors(m.meta.Inputs))
	}
	r := &request{inputs: make([]*ops.Tensor, len(m.inputs))}
	for k, name := range inNames {
		i, ok := m.inIdx[name]
		if !ok {
			return nil, badRequestf("unknown input %q; model %q takes %s", name, m.name, describeTensors(m.meta.Inputs))
		}
		if r.inputs[i] != nil {
			return nil, badRequestf("input %q is given twice", name)
		}
		t, err := decodeInput(k, i)
		if err != nil {
			return nil, err
		}
		r.inputs[i] = t
	}
	for i, t := range r.inputs {
		if t == nil {
			md := m.meta.Inputs[i]
			return nil, badRequestf("missing input %q (%s %s)", md.Name, md.Datatype, shapeString(md.Shape))
		}
	}
	if len(outNames) == 0 {
		r.want = make([]int, len(m.outputs))
		for i := range r.want {
			r.want[i] = i
		}
		return r, nil
	}
	seen := map[int]bool{}
	for _, name := range outNames {
		i, ok := m.outIdx[name]
		if !ok {
			return nil, badRequestf("unknown output %q; model %q produces %s", name, m.name, describeTensors(m.meta.Outputs))
		}
		if seen[i] {
			return nil, badRequestf("output %q is requested twice", name)
		}
		seen[i] = true
		r.want = append(r.want, i)
	}
	return r, nil
}

func (m *Model) decodeInput(i int, in *RequestInput, elements *elementBudget) (*ops.Tensor, error) {
	dt, shape, err := m.checkInput(i, in.Name, in.Datatype, in.Shape, elements)
	if err != nil {
		return nil, err
	}
	if in.BinaryData != nil {
		data, err := decodeBinary(in.BinaryData, dt, shape)
		if err != nil {
			return nil, badRequestf("input %q: %v", in.Name, err)
		}
		return tensorOf(in.Name, dt, shape, data)
	}
	if len(in.Data) == 0 {
		return nil, badRequestf("input %q has no data", in.Name)
	}
	// Every element takes at least one byte of JSON, which bounds what the shape may make us allocate.
	if _, err := shape.CheckedSize(int64(len(in.Data))); err != nil {
		if n, err := shape.CheckedSize(0); err == nil {
			return nil, badRequestf("input %q: shape %s holds %d elements, more than its %d bytes of data can hold", in.Name, shapeString(in.Shape), n, len(in.Data))
		}
		return nil, badRequestf("input %q: shape %s holds more elements than fit in memory", in.Name, shapeString(in.Shape))
	}
	data, err := decodeData(in.Data, dt, shape)
	if err != nil {
		return nil, badRequestf("input %q: %v", in.Name, err)
	}
	return tensorOf(in.Name, dt, shape, data)
}

// tensorOf wraps a slice that decodeData or decodeBinary made for shape.
func tensorOf(name string, dt ops.DType, shape ops.Shape, data any) (*ops.Tensor, error) {
	t, err := ops.FromData(dt, shape, data)
	if err != nil {
		return nil, fmt.Errorf("input %q: %w", name, err) // the decoder made the slice: cannot happen
	}
	return t, nil
}

// checkInput checks a request input's datatype and shape against the model's input i, and its element
// count against what is left of the request's budget (Config.MaxElements), which it then takes: all before
// the input's data is looked at, so that a shape cannot make the server allocate past the limit.
func (m *Model) checkInput(i int, name, datatype string, reqShape []int64, elements *elementBudget) (ops.DType, ops.Shape, error) {
	md := m.meta.Inputs[i]
	dt, ok := DTypeOf(datatype)
	if !ok {
		return 0, nil, badRequestf("input %q: unknown datatype %q; the protocol's datatypes are %s", name, datatype, datatypeList())
	}
	if dt != m.inputs[i].DType {
		return 0, nil, badRequestf("input %q: datatype %s, but the model takes %s", name, datatype, md.Datatype)
	}
	if reqShape == nil {
		return 0, nil, badRequestf("input %q has no shape; the model takes %s", name, shapeString(md.Shape))
	}
	shape := make(ops.Shape, len(reqShape))
	for j, d := range reqShape {
		if d < 0 || d > math.MaxInt32 {
			return 0, nil, badRequestf("input %q: dimension %d of shape %s is %d, out of range", name, j, shapeString(reqShape), d)
		}
		shape[j] = int(d)
	}
	if spec := m.inputs[i]; spec.HasShape {
		if len(shape) != len(spec.Dims) {
			return 0, nil, badRequestf("input %q: shape %s does not fit the model's %s: rank %d, want %d", name, shapeString(reqShape), shapeString(md.Shape), len(shape), len(spec.Dims))
		}
		for j, d := range spec.Dims {
			if !d.Symbolic() && int64(shape[j]) != d.Value {
				return 0, nil, badRequestf("input %q: shape %s does not fit the model's %s: dimension %d is %d, want %d", name, shapeString(reqShape), shapeString(md.Shape), j, shape[j], d.Value)
			}
		}
	}
	n, err := shape.CheckedSize(max(elements.left, 1)) // 0 left still admits an empty tensor
	if err != nil || int64(n) > elements.left {
		if _, overflow := shape.CheckedSize(0); overflow != nil {
			return 0, nil, badRequestf("input %q: shape %s holds more elements than fit in memory", name, shapeString(reqShape))
		}
		return 0, nil, badRequestf("input %q: shape %s holds more elements than the request's limit of %d allows (%d left for this input)", name, shapeString(reqShape), elements.limit, elements.left)
	}
	elements.left -= int64(n)
	return dt, shape, nil
}

// elementBudget is what is left of a request's element limit (Config.MaxElements) as its inputs are
// checked one by one.
type elementBudget struct{ limit, left int64 }

// run computes the wanted outputs, through the batcher when the request can join a batch. The tensors
// returned belong to the caller.
func (m *Model) run(ctx context.Context, r *request) ([]*ops.Tensor, error) {
	if m.batch != nil {
		if rows, ok := batchRows(r.inputs); ok && rows < m.maxBatch {
			return m.batch.submit(ctx, r, rows)
		}
	}
	return m.runAlone(ctx, r.inputs, r.want)
}

// runAlone runs one request on a session of its own.
func (m *Model) runAlone(ctx context.Context, inputs []*ops.Tensor, want []int) ([]*ops.Tensor, error) {
	key := shapeKey(inputs)
	ps, err := m.pool.acquire(ctx, key)
	if err != nil {
		return nil, err
	}
	defer m.pool.release(ps, key)
	markStarted(ctx)
	start := time.Now()
	outs, err := ps.sess.Run(ctx, inputs)
	if err != nil {
		return nil, runError(err)
	}
	took := time.Since(start)
	m.stats.observeRun(m.name, rowsOf(inputs), took)
	m.queue.observeRun(took, 1)
	res := make([]*ops.Tensor, len(want))
	for i, k := range want {
		res[i] = outs[k].Clone() // outputs live in the session's arena until its next Run
	}
	return res, nil
}

// runError sorts a Session.Run error: a tensor the model refuses is the client's fault, the rest the server's.
func runError(err error) error {
	switch {
	case errors.Is(err, runtime.ErrBadInput):
		return badRequestf("%v", err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err
	}
	return &Error{Status: 500, Msg: "inference failed: " + err.Error()}
}

// batchRows returns the common first dimension of the inputs; ok is false when they have none.
func batchRows(inputs []*ops.Tensor) (rows int, ok bool) {
	for i, t := range inputs {
		if t.Rank() == 0 {
			return 0, false
		}
		if i == 0 {
			rows = t.Shape()[0]
		} else if t.Shape()[0] != rows {
			return 0, false
		}
	}
	return rows, rows > 0
}

func rowsOf(inputs []*ops.Tensor) int {
	if rows, ok := batchRows(inputs); ok {
		return rows
	}
	return 1
}

// shapeKey identifies the dtypes and shapes of a set of inputs; sessions remember the last one they ran.
func shapeKey(inputs []*ops.Tensor) string {
	var b []byte
	for _, t := range inputs {
		b = append(b, byte(t.DType()))
		for _, d := range t.Shape() {
			b = fmt.Appendf(b, "%d,", d)
		}
		b = append(b, ';')
	}
	return string(b)
}

// encodeOutputs turns the computed tensors into the response's outputs, as raw bytes those that binary
// (nil for none) marks.
func (m *Model) encodeOutputs(want []int, outs []*ops.Tensor, binary []bool) ([]ResponseOutput, error) {
	res := make([]ResponseOutput, len(want))
	for i, k := range want {
		t := outs[i]
		res[i] = ResponseOutput{Name: m.outputs[k].Name, Shape: protocolDims(t.Shape()), Datatype: Datatype(t.DType())}
		var err error
		if binary != nil && binary[i] {
			res[i].BinaryData, err = appendBinary(make([]byte, 0, t.Len()*max(elemBytes(t.DType()), 1)), t)
			res[i].Parameters = map[string]any{paramBinaryDataSize: len(res[i].BinaryData)}
		} else {
			res[i].Data, err = appendData(nil, t)
		}
		if err != nil {
			return nil, &Error{Status: 500, Msg: fmt.Sprintf("output %q: %v", m.outputs[k].Name, err)}
		}
	}
	return res, nil
}
