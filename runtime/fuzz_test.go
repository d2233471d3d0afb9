package runtime

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorconv"
)

// The fuzz targets of this file feed Compile and Session.Run models no exporter would write. Both
// targets check the same contract (exercise): nothing panics, nothing hangs, every error matches one of
// ErrInvalidModel, ErrUnsupported or ErrBadInput, and a model that compiles runs at its declared shapes.
//
//	FuzzCompile  mutates serialized models (seeded from the ONNX node tests): the decoder, the graph
//	             checks, the passes, shape inference and planning see broken protobuf and broken graphs.
//	FuzzNode     builds a one-node model from the bytes: any registered operator at any opset it covers,
//	             with fuzzed input dtypes, shapes and constant values and fuzzed attributes. It reaches the
//	             operators' Builders and InferShapes far faster than byte mutation does.
//
// Run them with `make fuzz` (FUZZTIME per target); `go test` replays the seeds and every crasher saved
// under testdata/fuzz/.

// fuzzOptions keep every input small and fast: the fuzzer should spend its time on odd models, not on
// allocating what they declare.
var fuzzOptions = Options{Threads: 1, MaxTensorBytes: 1 << 20, MaxPlanBytes: 16 << 20, FoldLimitBytes: 256 << 10, MaxLoopIterations: 1000}

// fuzzMaxMACs skips running plans that do more multiply-adds than this: valid but slow models are not what
// the fuzzer looks for.
const fuzzMaxMACs = 1 << 24

// fuzzHangAfter is how long one input may take while fuzzing before the worker is killed with the input
// named as a crasher. It is a watchdog, not a timing test: it is armed only under -fuzz.
const fuzzHangAfter = 60 * time.Second

func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

// watchdog panics (killing the fuzz worker, which records the input) if the returned stop is not called in
// time. Outside fuzzing it does nothing.
func watchdog(what func() string) (stop func()) {
	if !fuzzing() {
		return func() {}
	}
	timer := time.AfterFunc(fuzzHangAfter, func() {
		panic(fmt.Sprintf("hang: one fuzz input ran for over %v: %s", fuzzHangAfter, what()))
	})
	return func() { timer.Stop() }
}

// requireKind fails unless err is one of the runtime's three kinds with a well-formed message.
func requireKind(t *testing.T, stage string, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalidModel) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrBadInput) {
		t.Fatalf("%s: error of no kind (%T): %v", stage, err, err)
	}
	msg := err.Error()
	if msg == "" || strings.Contains(msg, "%!") {
		t.Fatalf("%s: malformed error message %q", stage, msg)
	}
}

// exercise compiles m and, when it compiles and is cheap enough, runs it once at its declared shapes with
// inputs filled from src.
func exercise(t *testing.T, m *onnx.Model, src *byteSource, threads int) {
	t.Helper()
	opts := fuzzOptions
	opts.Threads = threads
	p, err := Compile(m, opts)
	if err != nil {
		requireKind(t, "compile", err)
		return
	}
	infos, _, ok := probeInputs(p.graph, false)
	if !ok {
		return
	}
	spec, err := p.specialize(infos)
	if err != nil {
		requireKind(t, "specialize", err)
		return
	}
	var macs int64
	for _, st := range spec.steps {
		macs += st.flops
	}
	if macs > fuzzMaxMACs {
		return
	}
	inputs := make([]*ops.Tensor, len(infos))
	for i, info := range infos {
		if info.Type != nil {
			inputs[i] = ops.NewValue(info) // an empty sequence, an absent optional
			continue
		}
		if info.DType.Size() == 0 || info.Shape.Size() > 1<<12 {
			return
		}
		if !fillable(onnxpb.TensorProto_DataType(info.DType)) {
			inputs[i] = ops.New(info.DType, info.Shape) // zeros of a type the filler does not draw (float8, int4)
			continue
		}
		a := src.array(onnxpb.TensorProto_DataType(info.DType), info.Shape)
		in, err := tensorconv.FromArray(a)
		if err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
		inputs[i] = in
	}
	s := p.NewSession()
	defer s.Close()
	outs, err := s.Run(context.Background(), inputs)
	if err != nil {
		requireKind(t, "run", err)
		return
	}
	if len(outs) != len(p.outputs) {
		t.Fatalf("Run returned %d outputs, the plan has %d", len(outs), len(p.outputs))
	}
	for i, o := range outs {
		if o == nil {
			t.Fatalf("output %d is nil", i)
		}
		if err := o.CheckValue(); err != nil { // a tensor's data fills its shape; a sequence's elements too
			t.Fatalf("output %d %v", i, err)
		}
	}
}

// FuzzCompile decodes, compiles and runs mutated models.
func FuzzCompile(f *testing.F) {
	for _, seed := range fuzzSeedModels(f) {
		f.Add(seed)
	}
	for _, seed := range nodeSeeds() {
		f.Add(buildFuzzNode(&byteSource{b: seed}).model)
	}
	decode := onnx.DecodeOptions{Limits: onnx.Limits{MaxTensorBytes: fuzzOptions.MaxTensorBytes}}
	f.Fuzz(func(t *testing.T, b []byte) {
		defer watchdog(func() string { return fmt.Sprintf("a %d-byte model", len(b)) })()
		m, err := decode.Decode(b)
		if err != nil {
			requireKind(t, "decode", classifyDecodeError(err))
			return
		}
		exercise(t, m, &byteSource{b: b}, 1)
	})
}

// FuzzNode compiles and runs one-node models built from the bytes (see buildFuzzNode).
func FuzzNode(f *testing.F) {
	for _, seed := range nodeSeeds() {
		f.Add(seed)
	}
	decode := onnx.DecodeOptions{Limits: onnx.Limits{MaxTensorBytes: fuzzOptions.MaxTensorBytes}}
	f.Fuzz(func(t *testing.T, b []byte) {
		src := &byteSource{b: b}
		n := buildFuzzNode(src)
		defer watchdog(n.String)()
		m, err := decode.Decode(n.model)
		if err != nil {
			// The builder writes well-formed protobuf; the decoder may still refuse what it holds (a tensor
			// over the limit), but only with its typed errors.
			requireKind(t, "decode "+n.String(), classifyDecodeError(err))
			return
		}
		t.Logf("node: %s", n)
		exercise(t, m, src, 1+int(n.threads))
	})
}

// fuzzSeedModels are the node-test models of ../shared (every one while fuzzing, every eighth otherwise, to
// keep `go test` quick) and the reference models.
func fuzzSeedModels(tb testing.TB) [][]byte {
	shared, ok := testenv.SharedDir()
	if !ok {
		return nil
	}
	paths, _ := filepath.Glob(filepath.Join(shared, "onnx-node-tests", "*", "model.onnx"))
	sort.Strings(paths)
	var seeds [][]byte
	for i, path := range paths {
		if !fuzzing() && i%8 != 0 {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil || len(b) > 64<<10 {
			continue
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// byteSource hands out the fuzzer's bytes as choices; past the end every choice is 0.
type byteSource struct {
	b []byte
	i int
}

func (s *byteSource) next() byte {
	if s.i >= len(s.b) {
		return 0
	}
	c := s.b[s.i]
	s.i++
	return c
}

// intn is a choice in [0, n) for n <= 65536.
func (s *byteSource) intn(n int) int {
	if n <= 1 {
		return 0
	}
	v := int(s.next())
	if n > 256 {
		v = v<<8 | int(s.next())
	}
	return v % n
}

// interestingInts are the values that break arithmetic: zero, negatives, powers of two at int32 and
// int64 limits.
var interestingInts = []int64{0, 1, -1, 2, -2, 3, 7, 8, 16, 255, 1 << 16, 1 << 31, -1 << 31, 1 << 32, 1 << 40,
	1 << 62, math.MaxInt64, math.MinInt64, math.MaxInt32, -100, 1000}

// smallInt is mostly in [-1, 6] (axes, dims, kernel sizes), sometimes an interesting extreme.
func (s *byteSource) smallInt() int64 {
	c := s.next()
	if c < 224 {
		return int64(c%8) - 1
	}
	return interestingInts[int(c)%len(interestingInts)]
}

var interestingFloats = []float32{0, 1, -1, 0.5, 2, -0.5, 3, 1e-3, 1e20, -1e20, float32(math.NaN()),
	float32(math.Inf(1)), float32(math.Inf(-1)), 1e-40, 6, 0.25}

func (s *byteSource) float() float32 {
	return interestingFloats[s.intn(len(interestingFloats))]
}

var fuzzStrings = []string{"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "constant", "reflect", "edge", "wrap",
	"nearest", "linear", "cubic", "DCR", "CRD", "half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
	"tf_crop_and_resize", "half_pixel_symmetric", "round_prefer_floor", "round_prefer_ceil", "floor", "ceil",
	"none", "add", "mul", "max", "min", "LEFT", "RIGHT", "tanh", "ij,jk->ik", "ii->i", "...ij->...ji", "i,i->",
	"bij,bjk->bik", "ab,ab", "i", "bilinear", "bicubic", "zeros", "border", "reflection", "stretch",
	"not_larger", "not_smaller", "", "x", "a"}

func (s *byteSource) str() string { return fuzzStrings[s.intn(len(fuzzStrings))] }

// fuzzDTypes weights the element types the way models use them.
var fuzzDTypes = []onnxpb.TensorProto_DataType{
	onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_FLOAT,
	onnxpb.TensorProto_INT64, onnxpb.TensorProto_INT64, onnxpb.TensorProto_INT64, onnxpb.TensorProto_INT32,
	onnxpb.TensorProto_BOOL, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_UINT8, onnxpb.TensorProto_INT8,
	onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_STRING, onnxpb.TensorProto_UINT64, onnxpb.TensorProto_BFLOAT16,
	onnxpb.TensorProto_INT16, onnxpb.TensorProto_UINT16, onnxpb.TensorProto_UINT32,
	onnxpb.TensorProto_FLOAT8E4M3FN, onnxpb.TensorProto_FLOAT8E5M2FNUZ, onnxpb.TensorProto_INT4,
	onnxpb.TensorProto_FLOAT4E2M1, onnxpb.TensorProto_UINT2, onnxpb.TensorProto_FLOAT8E8M0,
}

// shape is a rank in [0, 4] with dimensions mostly in [0, 5], at most 1024 elements.
func (s *byteSource) shape() ops.Shape {
	rank := s.intn(5)
	shape := make(ops.Shape, rank)
	n := 1
	for i := range shape {
		c := s.next()
		d := int(c % 6)
		if c >= 240 {
			d = 1 + int(c%32) // now and then a longer axis
		}
		if n*max(d, 1) > 1024 {
			d = 1
		}
		shape[i] = d
		n *= max(d, 1)
	}
	return shape
}

// fillable reports whether array can draw values of dtype dt.
func fillable(dt onnxpb.TensorProto_DataType) bool {
	for _, d := range fuzzDTypes {
		if d == dt {
			return true
		}
	}
	return false
}

// array is a tensor of dtype dt and the given shape with values from the bytes.
func (s *byteSource) array(dt onnxpb.TensorProto_DataType, shape ops.Shape) *onnx.Array {
	n := shape.Size()
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d)
	}
	a := &onnx.Array{DataType: dt, Dims: dims}
	switch dt {
	case onnxpb.TensorProto_FLOAT:
		a.Data = fill(n, s.float)
	case onnxpb.TensorProto_DOUBLE:
		a.Data = fill(n, func() float64 { return float64(s.float()) })
	case onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		a.Data = fill(n, func() uint16 { return uint16(s.next())<<8 | uint16(s.next()) })
	case onnxpb.TensorProto_INT64:
		a.Data = fill(n, s.smallInt)
	case onnxpb.TensorProto_INT32:
		a.Data = fill(n, func() int32 { return int32(s.smallInt()) })
	case onnxpb.TensorProto_INT16:
		a.Data = fill(n, func() int16 { return int16(s.smallInt()) })
	case onnxpb.TensorProto_INT8:
		a.Data = fill(n, func() int8 { return int8(s.smallInt()) })
	case onnxpb.TensorProto_UINT8:
		a.Data = fill(n, func() uint8 { return uint8(s.smallInt()) })
	case onnxpb.TensorProto_UINT16:
		a.Data = fill(n, func() uint16 { return uint16(s.smallInt()) })
	case onnxpb.TensorProto_UINT32:
		a.Data = fill(n, func() uint32 { return uint32(s.smallInt()) })
	case onnxpb.TensorProto_UINT64:
		a.Data = fill(n, func() uint64 { return uint64(s.smallInt()) })
	case onnxpb.TensorProto_BOOL:
		a.Data = fill(n, func() bool { return s.next()&1 == 1 })
	case onnxpb.TensorProto_STRING:
		a.Data = fill(n, s.str)
	case onnxpb.TensorProto_FLOAT8E4M3FN, onnxpb.TensorProto_FLOAT8E4M3FNUZ, onnxpb.TensorProto_FLOAT8E5M2,
		onnxpb.TensorProto_FLOAT8E5M2FNUZ, onnxpb.TensorProto_UINT4, onnxpb.TensorProto_INT4,
		onnxpb.TensorProto_FLOAT4E2M1, onnxpb.TensorProto_FLOAT8E8M0, onnxpb.TensorProto_UINT2, onnxpb.TensorProto_INT2:
		a.Data = fill(n, s.next) // one element per byte, as onnx.Array holds the narrow types
	default:
		panic("fuzz: no filler for " + dt.String())
	}
	return a
}

func fill[T any](n int, f func() T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = f()
	}
	return out
}

// attrKind is how an attribute's value is drawn.
type attrKind byte

const (
	kindInt attrKind = iota
	kindInts
	kindFloat
	kindFloats
	kindString
	kindStrings
	kindTensor
)

// fuzzAttrs are the attributes the kernels read (found with grep over ops/), with the kind each reads.
var fuzzAttrs = []struct {
	name string
	kind attrKind
}{
	{"align_corners", kindInt}, {"allowzero", kindInt}, {"alpha", kindFloat}, {"antialias", kindInt},
	{"approximate", kindString}, {"auto_pad", kindString}, {"axes", kindInts}, {"axis", kindInt},
	{"batch_dims", kindInt}, {"beta", kindFloat}, {"bias", kindFloat}, {"blocksize", kindInt},
	{"broadcast", kindInt}, {"ceil_mode", kindInt}, {"coordinate_transformation_mode", kindString},
	{"count_include_pad", kindInt}, {"cubic_coeff_a", kindFloat}, {"detect_negative", kindInt},
	{"detect_positive", kindInt}, {"dilations", kindInts}, {"direction", kindString}, {"end", kindInt},
	{"ends", kindInts}, {"epsilon", kindFloat}, {"equation", kindString}, {"exclude_outside", kindInt},
	{"exclusive", kindInt}, {"extrapolation_value", kindFloat}, {"fmod", kindInt}, {"gamma", kindFloat},
	{"group", kindInt}, {"k", kindInt}, {"keep_aspect_ratio_policy", kindString}, {"keepdims", kindInt},
	{"kernel_shape", kindInts}, {"lambd", kindFloat}, {"largest", kindInt}, {"max", kindFloat},
	{"min", kindFloat}, {"mode", kindString}, {"momentum", kindFloat}, {"nearest_mode", kindString},
	{"noop_with_empty_axes", kindInt}, {"num_groups", kindInt}, {"num_outputs", kindInt},
	{"output_padding", kindInts}, {"output_shape", kindInts}, {"p", kindFloat}, {"p", kindInt},
	{"padding_mode", kindString}, {"paddings", kindInts}, {"pads", kindInts}, {"perm", kindInts},
	{"ratio", kindFloat}, {"reduction", kindString}, {"reverse", kindInt}, {"round_mode", kindString},
	{"scales", kindFloats}, {"seed", kindInt}, {"select_last_index", kindInt}, {"shape", kindInts},
	{"size", kindInt}, {"sorted", kindInt}, {"spatial", kindInt}, {"spatial_scale", kindFloat},
	{"split", kindInts}, {"start", kindInt}, {"starts", kindInts}, {"stash_type", kindInt},
	{"storage_order", kindInt}, {"strides", kindInts}, {"to", kindInt}, {"to", kindString},
	{"training_mode", kindInt}, {"transA", kindInt}, {"transB", kindInt}, {"upper", kindInt},
	{"value", kindFloat}, {"value", kindTensor}, {"dtype", kindInt}, {"value_float", kindFloat},
	{"value_floats", kindFloats}, {"value_int", kindInt}, {"value_ints", kindInts},
	{"value_string", kindString}, {"value_strings", kindStrings}, {"sample_size", kindInt},
	{"high", kindFloat}, {"low", kindFloat}, {"mean", kindFloat}, {"scale", kindFloat},
	{"activation", kindString}, {"activation_params", kindFloats}, {"consumed_inputs", kindInts},
	{"is_test", kindInt}, {"layout", kindInt}, {"hidden_size", kindInt}, {"mode", kindInt},
	{"block_size", kindInt}, {"center_point_box", kindInt}, {"axis_w", kindInt},
	{"num_scan_inputs", kindInt}, {"scan_input_axes", kindInts}, {"scan_output_axes", kindInts},
	{"scan_input_directions", kindInts}, {"scan_output_directions", kindInts}, {"directions", kindInts},
	// TfIdfVectorizer, LinearAttention, and the random generators' float seed.
	{"min_gram_length", kindInt}, {"max_gram_length", kindInt}, {"max_skip_count", kindInt},
	{"ngram_counts", kindInts}, {"ngram_indexes", kindInts}, {"pool_int64s", kindInts}, {"pool_strings", kindStrings},
	{"weights", kindFloats}, {"q_num_heads", kindInt}, {"kv_num_heads", kindInt}, {"update_rule", kindString},
	{"seed", kindFloat},
	// ai.onnx.ml: trees, SVMs, linear models, encoders; the sequence ops; ImageDecoder.
	{"aggregate_function", kindString}, {"aggregate_function", kindInt}, {"base_values", kindFloats},
	{"base_values_as_tensor", kindTensor}, {"class_ids", kindInts}, {"class_nodeids", kindInts},
	{"class_treeids", kindInts}, {"class_weights", kindFloats}, {"classlabels_int64s", kindInts},
	{"classlabels_ints", kindInts}, {"classlabels_strings", kindStrings}, {"classes_strings", kindStrings},
	{"nodes_falsenodeids", kindInts}, {"nodes_featureids", kindInts}, {"nodes_hitrates", kindFloats},
	{"nodes_missing_value_tracks_true", kindInts}, {"nodes_modes", kindStrings}, {"nodes_modes", kindTensor},
	{"nodes_nodeids", kindInts}, {"nodes_treeids", kindInts}, {"nodes_truenodeids", kindInts},
	{"nodes_values", kindFloats}, {"nodes_splits", kindTensor}, {"nodes_trueleafs", kindInts},
	{"nodes_falseleafs", kindInts}, {"leaf_targetids", kindInts}, {"leaf_weights", kindTensor},
	{"membership_values", kindTensor}, {"tree_roots", kindInts}, {"n_targets", kindInt},
	{"target_ids", kindInts}, {"target_nodeids", kindInts}, {"target_treeids", kindInts},
	{"target_weights", kindFloats}, {"post_transform", kindString}, {"post_transform", kindInt},
	{"coefficients", kindFloats}, {"intercepts", kindFloats}, {"multi_class", kindInt}, {"targets", kindInt},
	{"kernel_params", kindFloats}, {"kernel_type", kindString}, {"prob_a", kindFloats}, {"prob_b", kindFloats},
	{"rho", kindFloats}, {"support_vectors", kindFloats}, {"vectors_per_class", kindInts}, {"n_supports", kindInt},
	{"one_class", kindInt}, {"keys_floats", kindFloats}, {"keys_int64s", kindInts}, {"keys_strings", kindStrings},
	{"values_floats", kindFloats}, {"values_int64s", kindInts}, {"values_strings", kindStrings},
	{"default_float", kindFloat}, {"default_int64", kindInt}, {"default_string", kindString},
	{"default_tensor", kindTensor}, {"cats_int64s", kindInts}, {"cats_strings", kindStrings},
	{"int64_vocabulary", kindInts}, {"string_vocabulary", kindStrings}, {"offset", kindFloats},
	{"scale", kindFloats}, {"norm", kindString}, {"threshold", kindFloat}, {"imputed_value_floats", kindFloats},
	{"imputed_value_int64s", kindInts}, {"replaced_value_float", kindFloat}, {"replaced_value_int64", kindInt},
	{"inputdimensions", kindInts}, {"cast_to", kindString}, {"map_form", kindString}, {"max_map", kindInt},
	{"zeros", kindInt}, {"new_axis", kindInt}, {"pixel_format", kindString},
}

// fuzzOps lists every registration once, in a fixed order, so that a byte picks an operator and an opset.
// It is made at first use, not as a package variable: this package's own operators (If, Loop, Scan)
// register in an init function, which runs after package variables are initialised. The test domains
// (test.*) that tests declare are left out.
var fuzzOps = sync.OnceValue(func() []ops.Registration {
	var regs []ops.Registration
	for _, r := range ops.Registrations() {
		if !strings.HasPrefix(r.Domain, "test.") { // operators this package's tests register, not the engine's
			regs = append(regs, r)
		}
	}
	sort.SliceStable(regs, func(i, j int) bool {
		a, b := regs[i], regs[j]
		if a.Domain != b.Domain {
			return a.Domain < b.Domain
		}
		if a.OpType != b.OpType {
			return a.OpType < b.OpType
		}
		return a.Range.Min < b.Range.Min
	})
	return regs
})

// fuzzNode is one generated model and a description of it for failure messages.
type fuzzNode struct {
	model   []byte
	desc    string
	threads byte
}

func (n fuzzNode) String() string { return n.desc }

// buildFuzzNode reads, from src: the registration (two bytes) and the opset within its range; the inputs
// (each absent, a graph input, or an initializer, with dtype, shape and values); the number of outputs;
// the attributes; and the thread count. The node's outputs are the graph's outputs.
func buildFuzzNode(src *byteSource) fuzzNode {
	reg := fuzzOps()[src.intn(len(fuzzOps()))]
	opset := reg.Range.Min + src.intn(min(reg.Range.Max, ops.MaxOpset)-reg.Range.Min+1)
	var desc strings.Builder
	fmt.Fprintf(&desc, "%s::%s opset %d (", reg.Domain, reg.OpType, opset)

	g := &onnxpb.GraphProto{Name: proto.String("fuzz")}
	node := &onnxpb.NodeProto{Name: proto.String("n"), OpType: proto.String(reg.OpType), Domain: proto.String(reg.Domain)}
	nIn := src.intn(5)
	var inTypes []onnxpb.TensorProto_DataType // by input, FLOAT for an absent one
	var outer []string                        // the values a body may capture
	for i := 0; i < nIn; i++ {
		name := fmt.Sprintf("x%d", i)
		kind := src.intn(8)
		if kind == 0 {
			node.Input = append(node.Input, "")
			inTypes = append(inTypes, onnxpb.TensorProto_FLOAT)
			desc.WriteString(" absent")
			continue
		}
		node.Input = append(node.Input, name)
		outer = append(outer, name)
		dt := fuzzDTypes[src.intn(len(fuzzDTypes))]
		inTypes = append(inTypes, dt)
		shape := src.shape()
		if kind <= 3 {
			g.Input = append(g.Input, tensorValueInfo(name, dt, shape))
			fmt.Fprintf(&desc, " input %s%v", ops.DType(dt), shape)
			continue
		}
		a := src.array(dt, shape)
		tp, err := onnx.NewTensorProto(name, a)
		if err != nil {
			panic("fuzz: " + err.Error())
		}
		g.Initializer = append(g.Initializer, tp)
		fmt.Fprintf(&desc, " const %s%v=%v", ops.DType(dt), shape, a.Data)
	}
	nOut := 1 + src.intn(3)
	for i := 0; i < nOut; i++ {
		name := fmt.Sprintf("y%d", i)
		node.Output = append(node.Output, name)
		g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String(name)})
	}
	fmt.Fprintf(&desc, " ) -> %d outputs; attrs", nOut)
	nAttr := src.intn(5)
	seen := map[string]bool{}
	for i := 0; i < nAttr; i++ {
		spec := fuzzAttrs[src.intn(len(fuzzAttrs))]
		if seen[spec.name] {
			continue
		}
		seen[spec.name] = true
		a := &onnxpb.AttributeProto{Name: proto.String(spec.name)}
		switch spec.kind {
		case kindInt:
			a.Type, a.I = onnxpb.AttributeProto_INT.Enum(), proto.Int64(src.smallInt())
			fmt.Fprintf(&desc, " %s=%d", spec.name, a.GetI())
		case kindInts:
			a.Type = onnxpb.AttributeProto_INTS.Enum()
			a.Ints = fill(src.intn(7), src.smallInt)
			fmt.Fprintf(&desc, " %s=%v", spec.name, a.Ints)
		case kindFloat:
			a.Type, a.F = onnxpb.AttributeProto_FLOAT.Enum(), proto.Float32(src.float())
			fmt.Fprintf(&desc, " %s=%v", spec.name, a.GetF())
		case kindFloats:
			a.Type = onnxpb.AttributeProto_FLOATS.Enum()
			a.Floats = fill(src.intn(7), src.float)
			fmt.Fprintf(&desc, " %s=%v", spec.name, a.Floats)
		case kindString:
			a.Type, a.S = onnxpb.AttributeProto_STRING.Enum(), []byte(src.str())
			fmt.Fprintf(&desc, " %s=%q", spec.name, a.S)
		case kindStrings:
			a.Type = onnxpb.AttributeProto_STRINGS.Enum()
			for j := src.intn(4); j > 0; j-- {
				a.Strings = append(a.Strings, []byte(src.str()))
			}
			fmt.Fprintf(&desc, " %s=%q", spec.name, a.Strings)
		case kindTensor:
			dt := fuzzDTypes[src.intn(len(fuzzDTypes))]
			arr := src.array(dt, src.shape())
			tp, err := onnx.NewTensorProto("", arr)
			if err != nil {
				panic("fuzz: " + err.Error())
			}
			a.Type, a.T = onnxpb.AttributeProto_TENSOR.Enum(), tp
			fmt.Fprintf(&desc, " %s=%s%v", spec.name, ops.DType(dt), arr.Dims)
		}
		node.Attribute = append(node.Attribute, a)
	}
	if reg.Domain == "" {
		addFuzzBodies(src, node, reg.OpType, inTypes, outer, seen, &desc)
	}
	threads := src.next() & 1
	g.Node = []*onnxpb.NodeProto{node}
	imports := []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(int64(ops.MaxOpset))}}
	if reg.Domain == "" {
		imports[0].Version = proto.Int64(int64(opset))
	} else {
		imports = append(imports, &onnxpb.OperatorSetIdProto{Domain: proto.String(reg.Domain), Version: proto.Int64(int64(opset))})
	}
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(onnx.MaxIRVersion), Graph: g, OpsetImport: imports}
	b, err := proto.Marshal(m)
	if err != nil {
		panic("fuzz: " + err.Error())
	}
	return fuzzNode{model: b, desc: desc.String(), threads: threads}
}

// addFuzzBodies gives If, Loop and Scan nodes small random bodies (fuzzBody) of the arity their inputs
// and outputs call for, reading the node's inputs as outer values; Scan gets num_scan_inputs if the
// attributes drew none.
func addFuzzBodies(src *byteSource, node *onnxpb.NodeProto, opType string, inTypes []onnxpb.TensorProto_DataType, outer []string, seen map[string]bool, desc *strings.Builder) {
	graphAttr := func(name string, g *onnxpb.GraphProto) {
		node.Attribute = append(node.Attribute, &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: g})
	}
	nOut := len(node.Output)
	switch opType {
	case "If":
		graphAttr("then_branch", fuzzBody(src, "t", nil, outer, nOut, false, 0, desc))
		graphAttr("else_branch", fuzzBody(src, "e", nil, outer, nOut, false, 0, desc))
	case "Loop":
		formal := []onnxpb.TensorProto_DataType{onnxpb.TensorProto_INT64, onnxpb.TensorProto_BOOL}
		if len(inTypes) > 2 {
			formal = append(formal, inTypes[2:]...)
		}
		graphAttr("body", fuzzBody(src, "b", formal, outer, 1+nOut, true, 0, desc))
	case "Scan":
		if !seen["num_scan_inputs"] {
			k := int64(1 + src.intn(max(1, len(inTypes))))
			node.Attribute = append(node.Attribute, &onnxpb.AttributeProto{Name: proto.String("num_scan_inputs"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(k)})
			fmt.Fprintf(desc, " num_scan_inputs=%d", k)
		}
		graphAttr("body", fuzzBody(src, "b", inTypes, outer, nOut, false, 0, desc))
	}
}

// fuzzOpsInBodies are the operators body nodes draw from: element-wise ones that mix dtypes and shapes
// badly often enough, and If, for nesting.
var fuzzOpsInBodies = []struct {
	op     string
	inputs int
}{{"Add", 2}, {"Mul", 2}, {"Sub", 2}, {"Identity", 1}, {"Neg", 1}, {"Relu", 1}, {"Less", 2}, {"Not", 1},
	{"Concat", 2}, {"Cast", 1}, {"If", 1}}

// fuzzBody is a body with formal inputs of the given dtypes (no declared shapes: they come from the
// node), its own constant, up to three nodes reading the formal inputs, earlier nodes, the constant and
// the outer values, and nOut outputs picked among all of those (the first a bool when firstBool: a
// Loop's condition).
func fuzzBody(src *byteSource, prefix string, formal []onnxpb.TensorProto_DataType, outer []string, nOut int, firstBool bool, depth int, desc *strings.Builder) *onnxpb.GraphProto {
	g := &onnxpb.GraphProto{Name: proto.String(prefix)}
	values := append([]string(nil), outer...)
	var bools []string
	for i, dt := range formal {
		name := fmt.Sprintf("%s_in%d", prefix, i)
		g.Input = append(g.Input, &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt))}}}})
		values = append(values, name)
		if dt == onnxpb.TensorProto_BOOL {
			bools = append(bools, name)
		}
	}
	cdt := []onnxpb.TensorProto_DataType{onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_INT64, onnxpb.TensorProto_BOOL}[src.intn(3)]
	tp, err := onnx.NewTensorProto(prefix+"_c", src.array(cdt, src.shape()))
	if err != nil {
		panic("fuzz: " + err.Error())
	}
	g.Initializer = append(g.Initializer, tp)
	values = append(values, prefix+"_c")
	if cdt == onnxpb.TensorProto_BOOL {
		bools = append(bools, prefix+"_c")
	}
	fmt.Fprintf(desc, " [%s: %d inputs, const %s", prefix, len(formal), ops.DType(cdt))
	pick := func() string { return values[src.intn(len(values))] }
	for i, n := 0, src.intn(4); i < n; i++ {
		spec := fuzzOpsInBodies[src.intn(len(fuzzOpsInBodies))]
		out := fmt.Sprintf("%s_v%d", prefix, i)
		bn := &onnxpb.NodeProto{Name: proto.String(out), OpType: proto.String(spec.op), Output: []string{out}}
		for j := 0; j < spec.inputs; j++ {
			bn.Input = append(bn.Input, pick())
		}
		switch spec.op {
		case "Concat":
			bn.Attribute = append(bn.Attribute, &onnxpb.AttributeProto{Name: proto.String("axis"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(src.smallInt())})
		case "Cast":
			bn.Attribute = append(bn.Attribute, &onnxpb.AttributeProto{Name: proto.String("to"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(int64(cdt))})
		case "If":
			if depth >= 2 {
				bn.OpType = proto.String("Identity")
				break
			}
			if len(bools) > 0 {
				bn.Input[0] = bools[src.intn(len(bools))]
			}
			for _, branch := range []string{"then_branch", "else_branch"} {
				sub := fuzzBody(src, fmt.Sprintf("%s_%s", out, branch[:1]), nil, values, 1, false, depth+1, desc)
				bn.Attribute = append(bn.Attribute, &onnxpb.AttributeProto{Name: proto.String(branch), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: sub})
			}
		}
		fmt.Fprintf(desc, " %s%v", bn.GetOpType(), bn.Input)
		g.Node = append(g.Node, bn)
		values = append(values, out)
		if spec.op == "Less" || spec.op == "Not" {
			bools = append(bools, out)
		}
	}
	for i := 0; i < nOut; i++ {
		out := pick()
		if i == 0 && firstBool && len(bools) > 0 && src.intn(4) != 0 {
			out = bools[src.intn(len(bools))]
		}
		g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String(out)})
		fmt.Fprintf(desc, " ->%s", out)
	}
	desc.WriteString("]")
	return g
}

func tensorValueInfo(name string, dt onnxpb.TensorProto_DataType, shape ops.Shape) *onnxpb.ValueInfoProto {
	ts := &onnxpb.TensorShapeProto{}
	for _, d := range shape {
		ts.Dim = append(ts.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt)), Shape: ts}}}}
}

// nodeSeeds give every registered operator three starting points: one float input [2,3]; two float
// inputs [1,2,4,4] and [2,2,3,3] (a convolution's X and W); a float input [2,3,4] and an int64 constant
// [2] (a shape, axes or indices input).
func nodeSeeds() [][]byte {
	var seeds [][]byte
	for i := range fuzzOps() {
		op := []byte{byte(i)} // intn reads one byte for up to 256 choices, two above
		if len(fuzzOps()) > 256 {
			op = []byte{byte(i >> 8), byte(i)}
		}
		const (
			input = 1 // kind byte: a graph input
			konst = 4 // kind byte: an initializer
			f32   = 0 // index into fuzzDTypes
			i64   = 4
		)
		opset := byte(0xff) // a high byte: the opset is Min + 255 mod the range's width
		seeds = append(seeds,
			append(append([]byte{}, op...), opset, 1, input, f32, 2, 2, 3, 0, 0, 0),
			append(append([]byte{}, op...), opset, 2, input, f32, 4, 1, 2, 4, 4, input, f32, 4, 2, 2, 3, 3, 0, 0, 0),
			append(append([]byte{}, op...), opset, 2, input, f32, 3, 2, 3, 4, konst, i64, 1, 2, 0, 2, 0, 0, 0),
		)
	}
	return append(seeds, controlFlowSeeds()...)
}

// controlFlowSeeds give If, Loop and Scan nodes that compile and run: inputs of the arity and types each
// needs (If: a bool; Loop: a constant trip count of 3, a bool condition and a float32[3]; Scan: a state
// float32[2] and a scan input float32[3,2]), then bodies from a fixed generator's bytes, kept when the
// model runs. A random node of these rarely has the inputs they need, so without these seeds the fuzzer
// would spend its time on build errors.
func controlFlowSeeds() [][]byte {
	const (
		input, konst      = 1, 4    // kind bytes
		f32, i64, boolean = 0, 4, 8 // indexes into fuzzDTypes
	)
	prefixes := map[string][]byte{
		"If":   {1, input, boolean, 0, 0, 0},
		"Loop": {3, konst, i64, 0, 4, input, boolean, 0, input, f32, 1, 3, 1, 0},
		"Scan": {2, input, f32, 1, 2, input, f32, 2, 3, 2, 1, 0, 0},
	}
	rng := rand.New(rand.NewPCG(14, 2))
	var seeds [][]byte
	for i, reg := range fuzzOps() {
		prefix, ok := prefixes[reg.OpType]
		if !ok || reg.Domain != "" {
			continue
		}
		op := []byte{byte(i >> 8), byte(i)}
		for try, found := 0, 0; try < 64 && found < 2; try++ {
			b := append(append(append([]byte{}, op...), 0xff), prefix...)
			for range 48 {
				b = append(b, byte(rng.Uint32()))
			}
			if fuzzNodeRuns(b) {
				seeds = append(seeds, b)
				found++
			}
		}
	}
	return seeds
}

// fuzzNodeRuns reports whether the node the bytes build compiles and runs at its declared shapes.
func fuzzNodeRuns(b []byte) bool {
	m, err := onnx.Decode(buildFuzzNode(&byteSource{b: b}).model)
	if err != nil {
		return false
	}
	p, err := Compile(m, fuzzOptions)
	if err != nil {
		return false
	}
	infos, _, ok := probeInputs(p.graph, false)
	if !ok {
		return false
	}
	in := make([]*ops.Tensor, len(infos))
	for i, info := range infos {
		in[i] = ops.New(info.DType, info.Shape)
	}
	s := p.NewSession()
	defer s.Close()
	_, err = s.Run(context.Background(), in)
	return err == nil
}
