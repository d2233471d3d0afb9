package ml

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
)

// The operators that turn maps into tensors and back (see ops/value.go for how a map is held: a keys
// tensor and a values tensor of one dimension and equal length).
//
// ZipMap turns each row of X [N, C] (or [C], one row) into a map from the C class labels
// (classlabels_strings or classlabels_int64s) to the row's scores: a seq(map(K, float)) of N maps, what a
// scikit-learn classifier's output_probability is.
// https://onnx.ai/onnx/operators/onnx_aionnxml_ZipMap.html — opset 1.
//
// DictVectorizer writes a map's values at the positions of its keys in the vocabulary (string_vocabulary
// or int64_vocabulary): Y is [1, len(vocabulary)] of the values' type, zero (or "") where the map has no
// key, the shape ONNX Runtime gives. A key outside the vocabulary is ignored, as scikit-learn's
// DictVectorizer.transform and ONNX Runtime ignore it (the spec says it must not occur). A word repeated in
// the vocabulary receives the value at each of its positions, as in ONNX Runtime.
// https://onnx.ai/onnx/operators/onnx_aionnxml_DictVectorizer.html — opset 1.
//
// CastMap writes a map(int64, string|float) as a [1, n] tensor of float, string or int64 (cast_to) in
// ascending key order: n is the map's size (map_form DENSE) or max_map (SPARSE, where key k goes to
// position k and the positions of absent keys hold 0, or "0.f" for strings, ONNX Runtime's pad). A key
// outside [0, max_map) in SPARSE form is an error (the spec forbids it; ONNX Runtime drops keys above).
// Floats become strings as ONNX Runtime writes them (six decimals), strings become numbers by parsing.
// https://onnx.ai/onnx/operators/onnx_aionnxml_CastMap.html — opset 1.
//
// A map given with a repeated key holds the last of its values, as a Python dict built from the pairs
// does; every kernel here reads it so.
func init() {
	ops.Register(Domain, "ZipMap", ops.Since(1, buildZipMap))
	ops.Register(Domain, "DictVectorizer", ops.Since(1, buildDictVectorizer))
	ops.Register(Domain, "CastMap", ops.Since(1, buildCastMap))
}

// --- ZipMap ---------------------------------------------------------------------------------------------

type zipMap struct {
	labels classLabels
}

func buildZipMap(n ops.NodeInfo) (ops.Op, error) {
	labels, err := readClassLabels(ops.NewAttrReader(n.Attrs), "classlabels_int64s")
	if err != nil {
		return nil, err
	}
	return &zipMap{labels: labels}, nil
}

// outputType is seq(map(K, tensor(float32))), K the labels' type.
func (z *zipMap) outputType() ops.ValueType {
	return ops.SequenceOf(ops.MapOf(z.labels.dtype(), ops.TensorType(ops.Float32)))
}

func (z *zipMap) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if in[0].Kind() != ops.KindTensor || in[0].DType != ops.Float32 || in[0].Shape.Rank() < 1 || in[0].Shape.Rank() > 2 {
		return nil, ops.Invalidf("input X is %s%v, want a float32 tensor [N, C] or [C]", typeOf(in[0]), in[0].Shape)
	}
	if c := in[0].Shape[in[0].Shape.Rank()-1]; c != z.labels.len() {
		return nil, ops.Invalidf("input X has %d columns, want one per class label (%d)", c, z.labels.len())
	}
	return []ops.ValueInfo{ops.InfoOf(z.outputType())}, nil
}

func (z *zipMap) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return z, nil }

// Run makes the N maps over two shared backing arrays (one allocation each, not 2N): each map owns its
// own slice of keys and of values, so a caller writing one map changes no other.
func (z *zipMap) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	x := in[0]
	rows := 1
	if x.Rank() == 2 {
		rows = x.Shape()[0]
	}
	var (
		maps []*ops.Tensor
		err  error
	)
	if z.labels.strings != nil {
		maps, err = rowMaps(z.labels.strings, x.Float32s(), rows)
	} else {
		maps, err = rowMaps(z.labels.ints, x.Float32s(), rows)
	}
	if err != nil {
		return err
	}
	out[0].SetValue(ops.NewSequence(*z.outputType().Elem, maps))
	return nil
}

// rowMaps makes one map per row of scores [rows, len(labels)], from each label to the row's score.
func rowMaps[K string | int64](labels []K, scores []float32, rows int) ([]*ops.Tensor, error) {
	c := len(labels)
	keys, values := slices.Repeat(labels, rows), slices.Clone(scores)
	maps := make([]*ops.Tensor, rows)
	for r := range maps {
		lo, hi := r*c, (r+1)*c
		m, err := ops.NewMap(ops.FromSlice(ops.Shape{c}, keys[lo:hi:hi]), ops.FromSlice(ops.Shape{c}, values[lo:hi:hi]))
		if err != nil {
			return nil, err
		}
		maps[r] = m
	}
	return maps, nil
}

// --- DictVectorizer -------------------------------------------------------------------------------------

// mapTensorValues are the value types of the maps DictVectorizer reads (and so of its output).
var mapTensorValues = ops.DTypes(ops.Int64, ops.Float32, ops.Float64, ops.String)

type dictVectorizer struct {
	keyType ops.DType // String or Int64: the vocabulary's type, which the map's keys must have
	size    int
	strs    map[string][]int // each word's positions in the vocabulary
	ints    map[int64][]int
}

func buildDictVectorizer(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	strs, ints := r.Strings("string_vocabulary", nil), r.Ints("int64_vocabulary", nil)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if (len(strs) > 0) == (len(ints) > 0) {
		return nil, &ops.AttrError{Name: "string_vocabulary", Msg: fmt.Sprintf("has %d words and int64_vocabulary %d: want exactly one of them set", len(strs), len(ints))}
	}
	d := &dictVectorizer{}
	if len(strs) > 0 {
		d.keyType, d.size, d.strs = ops.String, len(strs), positions(strs)
	} else {
		d.keyType, d.size, d.ints = ops.Int64, len(ints), positions(ints)
	}
	return d, nil
}

// positions indexes a vocabulary: each word's positions, in order.
func positions[K comparable](vocabulary []K) map[K][]int {
	at := make(map[K][]int, len(vocabulary))
	for i, w := range vocabulary {
		at[w] = append(at[w], i)
	}
	return at
}

// AcceptsNonTensors: the input is a map.
func (d *dictVectorizer) AcceptsNonTensors() bool { return true }

// mapInput checks that input 0 is a map whose keys are one of keyTypes and whose values are tensors of
// one of valueTypes, and returns the value dtype.
func mapInput(in []ops.ValueInfo, keyTypes, valueTypes ops.DTypeSet) (ops.DType, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return 0, err
	}
	t := typeOf(in[0])
	if t.Kind != ops.KindMap || t.Elem == nil || t.Elem.Kind != ops.KindTensor || !keyTypes.Has(t.Key) || !valueTypes.Has(t.Elem.DType) {
		return 0, ops.Invalidf("input X is a %s, want a map with %s keys and %s values", t, keyTypes, valueTypes)
	}
	return t.Elem.DType, nil
}

// typeOf names a ValueInfo's type.
func typeOf(v ops.ValueInfo) ops.ValueType {
	if v.Type != nil {
		return *v.Type
	}
	return ops.TensorType(v.DType)
}

func (d *dictVectorizer) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	dt, err := mapInput(in, ops.DTypes(d.keyType), mapTensorValues)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: dt, Shape: ops.Shape{1, d.size}}}, nil
}

func (d *dictVectorizer) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return d, nil }

func (d *dictVectorizer) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	keys, values := in[0].MapKeys(), in[0].MapValues()
	switch y := out[0].Data().(type) {
	case []string:
		clear(y)
		d.scatter(keys, func(dst, src int) { y[dst] = ops.Data[string](values)[src] })
	case []int64:
		clear(y)
		d.scatter(keys, func(dst, src int) { y[dst] = ops.Data[int64](values)[src] })
	case []float32:
		clear(y)
		d.scatter(keys, func(dst, src int) { y[dst] = ops.Data[float32](values)[src] })
	case []float64:
		clear(y)
		d.scatter(keys, func(dst, src int) { y[dst] = ops.Data[float64](values)[src] })
	}
	return nil
}

// scatter calls write(position, entry) for each map entry at each of its key's vocabulary positions, in
// entry order, so that a repeated key leaves its last value.
func (d *dictVectorizer) scatter(keys *ops.Tensor, write func(dst, src int)) {
	if d.strs != nil {
		for i, k := range ops.Data[string](keys) {
			for _, p := range d.strs[k] {
				write(p, i)
			}
		}
		return
	}
	for i, k := range ops.Data[int64](keys) {
		for _, p := range d.ints[k] {
			write(p, i)
		}
	}
}

// --- CastMap --------------------------------------------------------------------------------------------

type castMap struct {
	to     ops.DType // Float32, String or Int64
	sparse bool
	maxMap int
}

func buildCastMap(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	castTo := r.String("cast_to", "TO_FLOAT")
	form := r.String("map_form", "DENSE")
	maxMap := r.Int("max_map", 1)
	if err := r.Err(); err != nil {
		return nil, err
	}
	c := &castMap{}
	switch castTo {
	case "TO_FLOAT":
		c.to = ops.Float32
	case "TO_STRING":
		c.to = ops.String
	case "TO_INT64":
		c.to = ops.Int64
	default:
		return nil, &ops.AttrError{Name: "cast_to", Msg: fmt.Sprintf("is %q, want TO_FLOAT, TO_STRING or TO_INT64", castTo)}
	}
	switch form {
	case "DENSE":
	case "SPARSE":
		c.sparse = true
		// The output has max_map elements: bound it here, before the planner is asked to allocate it
		// (which then checks it against Options.MaxTensorBytes).
		if maxMap < 1 || maxMap > math.MaxInt32 {
			return nil, &ops.AttrError{Name: "max_map", Msg: fmt.Sprintf("is %d, want a length in [1, %d] for the SPARSE form", maxMap, math.MaxInt32)}
		}
		c.maxMap = int(maxMap)
	default:
		return nil, &ops.AttrError{Name: "map_form", Msg: fmt.Sprintf("is %q, want DENSE or SPARSE", form)}
	}
	return c, nil
}

// AcceptsNonTensors: the input is a map.
func (c *castMap) AcceptsNonTensors() bool { return true }

// ShapeInputs: the DENSE form's length is the number of distinct keys of the map.
func (c *castMap) ShapeInputs() []int {
	if c.sparse {
		return nil
	}
	return []int{0}
}

func (c *castMap) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if _, err := mapInput(in, ops.DTypes(ops.Int64), ops.DTypes(ops.String, ops.Float32)); err != nil {
		return nil, err
	}
	if c.sparse {
		return []ops.ValueInfo{{DType: c.to, Shape: ops.Shape{1, c.maxMap}}}, nil
	}
	if in[0].Const == nil {
		return nil, ops.Dynamicf("CastMap's DENSE output has one element per key of the map")
	}
	return []ops.ValueInfo{{DType: c.to, Shape: ops.Shape{1, len(lastOfEachKey(in[0].Const.MapKeys()))}}}, nil
}

func (c *castMap) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return c, nil }

// lastOfEachKey returns the positions of a map's entries in ascending key order, keeping the last entry
// of a repeated key.
func lastOfEachKey(keys *ops.Tensor) []int {
	k := ops.Data[int64](keys)
	order := make([]int, len(k))
	for i := range order {
		order[i] = i
	}
	// Ascending key, and for equal keys the later entry first, so that Compact keeps it.
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(k[a], k[b]); c != 0 {
			return c
		}
		return cmp.Compare(b, a)
	})
	return slices.CompactFunc(order, func(a, b int) bool { return k[a] == k[b] })
}

func (c *castMap) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	keys, values := in[0].MapKeys(), in[0].MapValues()
	y := out[0]
	if !c.sparse {
		order := lastOfEachKey(keys)
		if len(order) != y.Len() {
			return ops.Invalidf("the map has %d distinct keys, the output was planned for %d", len(order), y.Len())
		}
		for dst, src := range order {
			if err := castEntry(values, src, y, dst); err != nil {
				return err
			}
		}
		return nil
	}
	switch d := y.Data().(type) {
	case []float32:
		clear(d)
	case []int64:
		clear(d)
	case []string:
		for i := range d {
			d[i] = "0.f"
		}
	}
	for src, k := range ops.Data[int64](keys) {
		if k < 0 || k >= int64(c.maxMap) {
			return ops.Invalidf("map key %d is outside [0, max_map=%d) of the SPARSE form", k, c.maxMap)
		}
		if err := castEntry(values, src, y, int(k)); err != nil {
			return err
		}
	}
	return nil
}

// castEntry writes values[src] as element dst of y, converting float32 or string to y's dtype.
func castEntry(values *ops.Tensor, src int, y *ops.Tensor, dst int) error {
	switch v := values.Data().(type) {
	case []float32:
		f := v[src]
		switch d := y.Data().(type) {
		case []float32:
			d[dst] = f
		case []string:
			d[dst] = strconv.FormatFloat(float64(f), 'f', 6, 64) // C++'s std::to_string, as ONNX Runtime
		case []int64:
			if !(f >= -(1<<63) && f < 1<<63) {
				return ops.Invalidf("map value %v cannot be cast to int64", f)
			}
			d[dst] = int64(f)
		}
	case []string:
		s := v[src]
		switch d := y.Data().(type) {
		case []string:
			d[dst] = s
		case []float32:
			f, err := strconv.ParseFloat(s, 32)
			if err != nil {
				return ops.Invalidf("map value %q is not a float", s)
			}
			d[dst] = float32(f)
		case []int64:
			i, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return ops.Invalidf("map value %q is not an int64", s)
			}
			d[dst] = i
		}
	}
	return nil
}
