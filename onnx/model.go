package onnx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/internal/atomicfile"
	"github.com/onnxrun/onnxrun/internal/mmap"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// The IR versions Decode accepts. IR 3 introduced opset_import, which everything downstream relies on to
// pick operator versions; IR 13 is the newest this schema describes.
const (
	MinIRVersion = 3
	MaxIRVersion = int64(onnxpb.Version_IR_VERSION)
)

// defaultMaxDepth bounds message nesting when decoding. A subgraph costs three levels
// (Graph → Node → Attribute → Graph), a nested type two, so 256 leaves room for deeply nested
// control flow while keeping hostile inputs from exhausting the stack.
const defaultMaxDepth = 256

// Model is a decoded ONNX model: the protobuf message as read, plus what is needed to read tensors
// whose data lives in external files.
type Model struct {
	Proto *onnxpb.ModelProto
	// Dir is the folder external data locations are resolved against; "" means none is known, and
	// reading an external tensor fails.
	Dir string
	// Limits bounds what TensorArray allocates; the zero value means the defaults.
	Limits Limits

	// mapping, when not nil, holds the file Load mapped (DecodeOptions.Mmap): the main graph's
	// initializers' raw_data point into it. Close releases the Model's reference.
	mapping *Mapping
}

// DecodeOptions configures Decode and Load. The zero value gives the defaults.
type DecodeOptions struct {
	// Dir is the folder external data is resolved against (Load uses the model file's folder when Dir is
	// empty). With Dir empty, a model that has external data is rejected at decode.
	Dir string
	// Limits is copied into the Model and bounds every tensor read from it.
	Limits Limits
	// MaxDepth is the protobuf message nesting limit (proto.UnmarshalOptions.RecursionLimit); 0 means 256.
	MaxDepth int
	// Mmap makes Load map the model file into memory read-only where the platform can (internal/mmap; a
	// plain read elsewhere) and leave each initializer's raw_data in the mapped pages instead of copying it
	// into the Go heap. The Model then holds a Mapping: its raw_data fields are valid until Model.Close
	// (and the last Release of anyone who took a reference), and Model.TakeTensor gives arrays that use the
	// mapped bytes in place. Off by default because Close becomes necessary: a Model whose Proto is read
	// after Close faults. runtime.Load turns it on and manages the lifetime.
	Mmap bool
}

// Load reads and decodes the model file at path with the default options; external data resolves
// against the file's folder.
func Load(path string) (*Model, error) { return DecodeOptions{}.Load(path) }

// Decode parses and validates a serialized ModelProto with the default options. The model has no folder,
// so a model with external data is rejected; use Load or DecodeOptions.Dir for those.
func Decode(b []byte) (*Model, error) { return DecodeOptions{}.Decode(b) }

// Load reads and decodes the model file at path. When o.Dir is empty it becomes the file's folder.
//
// The result is Decode's on the file's bytes, but a regular file is streamed (see splitModel): each
// initializer's raw_data is read from the file straight into its own buffer, instead of into the file's
// bytes and then copied by protobuf-go, so a weight is moved once and is never in memory twice.
func (o DecodeOptions) Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return o.LoadFile(f)
}

// LoadFile is Load for a model file the caller has opened already, so that the file checked is the
// file read: one opened through an os.Root (as the server opens its model folder's files) cannot be
// swapped for a symlink leading elsewhere between a check and the read. f.Name() names the file in errors
// and, when o.Dir is empty, gives the folder external data resolves against. f stays the caller's to
// close; a Model that maps it (o.Mmap) keeps its mapping after f is closed.
func (o DecodeOptions) LoadFile(f *os.File) (*Model, error) {
	path := f.Name()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if o.Dir == "" {
		o.Dir = filepath.Dir(path)
	}
	if o.Mmap && mmap.Supported && st.Mode().IsRegular() && st.Size() > 0 {
		if m, err := o.loadMapped(f, st.Size()); !errors.Is(err, errNotSplit) {
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return m, nil
		}
	}
	err = errNotSplit
	var mp *onnxpb.ModelProto
	if st.Mode().IsRegular() {
		var stripped []byte
		var raws [][]byte
		if stripped, raws, err = splitModel(f, st.Size()); err == nil {
			mp, err = o.unmarshalSplit(stripped, raws)
		}
	}
	if errors.Is(err, errNotSplit) {
		// Not a regular file, or one splitModel does not handle: decode the whole of it, read through the
		// file already open (a pipe cannot be opened twice for the same data).
		var b []byte
		if b, err = readAllFrom(f, st); err != nil {
			return nil, err
		}
		mp, err = o.unmarshal(b)
	}
	if err == nil {
		err = validateModel(mp, o.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Model{Proto: mp, Dir: o.Dir, Limits: o.Limits}, nil
}

// loadMapped maps f (size bytes) and decodes it with every main-graph initializer's raw_data left in the
// mapped pages. It returns errNotSplit, having unmapped the file, when the file cannot be mapped or is not
// one splitMapped handles: the caller then reads it as usual, which also gives a malformed file its
// ordinary errors.
func (o DecodeOptions) loadMapped(f *os.File, size int64) (*Model, error) {
	data, err := mmap.Map(f, size)
	if err != nil {
		return nil, errNotSplit
	}
	mapping := newMapping(data)
	stripped, raws, err := splitMapped(data)
	var mp *onnxpb.ModelProto
	if err == nil {
		mp, err = o.unmarshalSplit(stripped, raws)
	}
	if err == nil {
		err = validateModel(mp, o.Dir)
	}
	if err != nil {
		_ = mapping.Release() // nothing refers to the pages yet
		return nil, err
	}
	return &Model{Proto: mp, Dir: o.Dir, Limits: o.Limits, mapping: mapping}, nil
}

// Mapping returns the memory-mapped files the model's tensors point into, nil when Load read the file
// (DecodeOptions.Mmap off, or a platform without mmap) or the model was decoded from bytes.
func (m *Model) Mapping() *Mapping { return m.mapping }

// Close releases the Model's reference to its Mapping, if it has one: once every other holder has
// released theirs too, the files are unmapped, and the Proto's initializers' raw_data must not be read any
// more. Closing twice, or a Model without a mapping, does nothing.
func (m *Model) Close() error {
	mapping := m.mapping
	if mapping == nil {
		return nil
	}
	m.mapping = nil
	return mapping.Release()
}

// readAllFrom reads f from its start (a regular file, which splitModel may have read part of) or from where
// it is (anything else), into a buffer sized by st when st knows the size. Errors are *os.PathError.
func readAllFrom(f *os.File, st os.FileInfo) ([]byte, error) {
	if !st.Mode().IsRegular() {
		return io.ReadAll(f)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, st.Size()+bytes.MinRead)) // room for ReadFrom to see EOF without growing
	_, err := buf.ReadFrom(f)
	return buf.Bytes(), err
}

// unmarshalSplit decodes splitModel's stripped model and puts the raw_data back into the main graph's
// initializers.
func (o DecodeOptions) unmarshalSplit(stripped []byte, raws [][]byte) (*onnxpb.ModelProto, error) {
	mp, err := o.unmarshal(stripped)
	if err != nil {
		return nil, errNotSplit // the whole file gives the error, with the offsets of the file
	}
	inits := mp.GetGraph().GetInitializer()
	if len(inits) != len(raws) {
		return nil, errNotSplit
	}
	for i, t := range inits {
		if raws[i] != nil {
			t.RawData = raws[i]
		}
	}
	return mp, nil
}

// Decode parses b as a ModelProto and validates it:
//
//   - ir_version is between MinIRVersion and MaxIRVersion (outside: *UnsupportedError; absent or
//     not positive: *FormatError);
//   - there is a graph, and at least one opset_import entry, each with a positive version;
//   - every tensor in the model (initializers, sparse initializers, attribute values, nested graphs,
//     functions, training graphs) has a known layout whose declared size matches its data, checked without
//     allocating, and external data references are well formed and have a folder to resolve against.
//
// Unknown operators do not fail Decode. Tensors of element types Array cannot hold, and segmented
// tensors, are reported only when read.
func (o DecodeOptions) Decode(b []byte) (*Model, error) {
	mp, err := o.unmarshal(b)
	if err != nil {
		return nil, err
	}
	if err := validateModel(mp, o.Dir); err != nil {
		return nil, err
	}
	return &Model{Proto: mp, Dir: o.Dir, Limits: o.Limits}, nil
}

// unmarshal parses b as a ModelProto, with the nesting limit of o.
func (o DecodeOptions) unmarshal(b []byte) (*onnxpb.ModelProto, error) {
	depth := o.MaxDepth
	if depth <= 0 {
		depth = defaultMaxDepth
	}
	mp := &onnxpb.ModelProto{}
	if err := (proto.UnmarshalOptions{RecursionLimit: depth}).Unmarshal(b, mp); err != nil {
		return nil, &FormatError{Where: "model", What: "not a ModelProto", Err: err}
	}
	return mp, nil
}

// Encode serializes the model deterministically (stable within one binary; compare messages with
// proto.Equal, not bytes). External data stays external: the references are written as they are.
func (m *Model) Encode() ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m.Proto)
}

// Save writes Encode's output to path atomically (internal/atomicfile: a temporary file, fsync, rename), so
// that a crash or a failed write leaves either the old file or the whole new one, never a truncated model.
// External data files are neither written nor moved, so a model that has them stays readable only from a
// folder that holds them.
func (m *Model) Save(path string) error {
	b, err := m.Encode()
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, 0o644, b)
}

// NormalizeDomain maps the two spellings of the default ONNX operator set, "" and "ai.onnx", to "".
func NormalizeDomain(d string) string {
	if d == "ai.onnx" {
		return ""
	}
	return d
}

// OpsetFor returns the version of the operator set the model imports for domain ("" or "ai.onnx" for
// the default set). If the domain is imported more than once, the highest version wins, as the spec
// binds nodes to the highest imported version. ok is false if the model does not import the domain:
// IR 3 and later have no implicit imports, so a model that lists only other domains has no default opset.
func (m *Model) OpsetFor(domain string) (version int64, ok bool) {
	domain = NormalizeDomain(domain)
	for _, imp := range m.Proto.GetOpsetImport() {
		if NormalizeDomain(imp.GetDomain()) == domain && (!ok || imp.GetVersion() > version) {
			version, ok = imp.GetVersion(), true
		}
	}
	return version, ok
}

// validateModel runs Decode's checks.
func validateModel(mp *onnxpb.ModelProto, dir string) error {
	switch ir := mp.GetIrVersion(); {
	case mp.IrVersion == nil || ir <= 0:
		return formatErr("model.ir_version", fmt.Sprintf("missing or not positive (%d)", ir))
	case ir < MinIRVersion:
		// IR 1 and 2 predate opset_import; such models implicitly use ONNX opset 1. We do not support them
		// rather than guess at operators that old.
		return unsupportedErr("model.ir_version", fmt.Sprintf("IR version %d predates opset_import (IR 3); accepted: %d..%d", ir, MinIRVersion, MaxIRVersion))
	case ir > MaxIRVersion:
		return unsupportedErr("model.ir_version", fmt.Sprintf("IR version %d is newer than %d; accepted: %d..%d", ir, MaxIRVersion, MinIRVersion, MaxIRVersion))
	}
	if len(mp.GetOpsetImport()) == 0 {
		// From IR 3 on, a model must name every operator set it uses; only IR 1-2 models (rejected above)
		// implied ONNX opset 1. We do not guess a version.
		return formatErr("model.opset_import", "empty: a model of IR version 3 or later must import at least one operator set")
	}
	if err := checkOpsets("model", mp.GetOpsetImport()); err != nil {
		return err
	}
	if mp.Graph == nil {
		return formatErr("model.graph", "missing")
	}
	w := walker{dir: dir}
	w.graph("graph", mp.Graph)
	for i, f := range mp.GetFunctions() {
		where := fmt.Sprintf("function %q (#%d)", f.GetName(), i)
		if err := checkOpsets(where, f.GetOpsetImport()); err != nil {
			return err
		}
		w.nodes(where, f.GetNode())
		for _, a := range f.GetAttributeProto() {
			w.attribute(where+fmt.Sprintf(", attribute %q", a.GetName()), a)
		}
	}
	for i, ti := range mp.GetTrainingInfo() {
		if ti.Initialization != nil {
			w.graph(fmt.Sprintf("training_info[%d].initialization", i), ti.Initialization)
		}
		if ti.Algorithm != nil {
			w.graph(fmt.Sprintf("training_info[%d].algorithm", i), ti.Algorithm)
		}
	}
	return w.err
}

func checkOpsets(where string, imports []*onnxpb.OperatorSetIdProto) error {
	for i, imp := range imports {
		if imp.GetVersion() <= 0 {
			return formatErr(fmt.Sprintf("%s.opset_import[%d]", where, i),
				fmt.Sprintf("domain %q has version %d; versions start at 1", imp.GetDomain(), imp.GetVersion()))
		}
	}
	return nil
}

// walker visits every TensorProto of a model and keeps the first error.
type walker struct {
	dir string
	err error
}

func (w *walker) graph(where string, g *onnxpb.GraphProto) {
	where = fmt.Sprintf("%s %q", where, g.GetName())
	for _, t := range g.GetInitializer() {
		w.tensor(where+", initializer", t)
	}
	for _, s := range g.GetSparseInitializer() {
		w.sparse(where+", sparse_initializer", s)
	}
	w.nodes(where, g.GetNode())
}

func (w *walker) nodes(where string, nodes []*onnxpb.NodeProto) {
	for i, n := range nodes {
		name := n.GetName()
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		for _, a := range n.GetAttribute() {
			w.attribute(fmt.Sprintf("%s, node %q (%s), attribute %q", where, name, n.GetOpType(), a.GetName()), a)
		}
	}
}

func (w *walker) attribute(where string, a *onnxpb.AttributeProto) {
	if a.T != nil {
		w.tensor(where, a.T)
	}
	for _, t := range a.GetTensors() {
		w.tensor(where, t)
	}
	if a.SparseTensor != nil {
		w.sparse(where, a.SparseTensor)
	}
	for _, s := range a.GetSparseTensors() {
		w.sparse(where, s)
	}
	if a.G != nil {
		w.graph(where+", graph", a.G)
	}
	for _, g := range a.GetGraphs() {
		w.graph(where+", graph", g)
	}
}

func (w *walker) sparse(where string, s *onnxpb.SparseTensorProto) {
	if _, err := numElements(where+", sparse tensor", s.GetDims()); err != nil {
		w.fail(err)
	}
	if s.Values != nil {
		w.tensor(where+", values", s.Values)
	}
	if s.Indices != nil {
		w.tensor(where+", indices", s.Indices)
	}
}

// tensor checks one tensor's layout. Unsupported features (segments, element types this build does not
// know) are left for ReadTensor to report: they do not make the model malformed.
func (w *walker) tensor(where string, t *onnxpb.TensorProto) {
	if w.err != nil {
		return
	}
	where += ", " + tensorWhere(t)
	if _, _, src, err := checkTensor(where, t); err != nil {
		var unsupported *UnsupportedError
		if !errors.As(err, &unsupported) {
			w.fail(err)
		}
	} else if src == fromExternal && w.dir == "" {
		ref, _ := parseExternal(where, t)
		_, _, err := readExternal(where, ref, "", 0, nil)
		w.fail(err)
	}
}

func (w *walker) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}
