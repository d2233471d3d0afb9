package ml

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// LabelEncoder maps each element of X to the value at the position of its key, or to the default; Y has
// X's shape and the values' type. Opset 1 maps strings to their index in classes_strings and int64s to the
// string at that index; opset 2 takes keys_* and values_* lists of strings, int64s or floats; opset 4 adds
// keys_tensor, values_tensor and default_tensor (also int16, int32 and double), and a NaN key matches
// every NaN. A repeated key maps to its last value.
// https://onnx.ai/onnx/operators/onnx_aionnxml_LabelEncoder.html — opsets 1, 2, 4.
//
// CategoryMapper maps strings to int64s (default_int64 for strangers) or int64s to strings
// (default_string) through the parallel lists cats_strings and cats_int64s.
// https://onnx.ai/onnx/operators/onnx_aionnxml_CategoryMapper.html — opset 1.
//
// OneHotEncoder replaces each element of X by a row of len(cats) floats, 1 at the element's category:
// Y is X's shape plus that axis. Numeric inputs are truncated to int64 and looked up in cats_int64s,
// strings in cats_strings. An element of no category gives zeros, or an error when zeros is 0.
// https://onnx.ai/onnx/operators/onnx_aionnxml_OneHotEncoder.html — opset 1.
func init() {
	ops.Register(Domain, "LabelEncoder", ops.SameBuilder(buildLabelEncoder, 1, 2, 4)...)
	ops.Register(Domain, "CategoryMapper", ops.Since(1, buildCategoryMapper))
	ops.Register(Domain, "OneHotEncoder", ops.Since(1, buildOneHotEncoder))
}

// table maps keys to values, with a default for keys it lacks. Keys and values are 1-D tensors of equal
// length; def holds one value of the values' type.
type table struct {
	keys, values, def *ops.Tensor
	strs              map[string]int
	ints              map[int64]int
	floats            map[uint64]int // by float64 bits, every NaN as one
}

// newTable checks the lengths and indexes the keys (the last of a repeated key wins).
func newTable(keysName string, keys *ops.Tensor, valuesName string, values, def *ops.Tensor) (*table, error) {
	if keys.Len() != values.Len() {
		return nil, &ops.AttrError{Name: valuesName, Msg: fmt.Sprintf("has %d elements, want %d (one per element of %s)", values.Len(), keys.Len(), keysName)}
	}
	if def.DType() != values.DType() || def.Len() != 1 {
		return nil, &ops.AttrError{Name: "default_tensor", Msg: fmt.Sprintf("is %s%v, want one %s", def.DType(), def.Shape(), values.DType())}
	}
	t := &table{keys: keys, values: values, def: def}
	switch d := keys.Data().(type) {
	case []string:
		t.strs = make(map[string]int, len(d))
		for i, k := range d {
			t.strs[k] = i
		}
	case []float32, []float64:
		t.floats = map[uint64]int{}
		for i, k := range keys.AsFloat64s() {
			t.floats[floatKey(k)] = i
		}
	case []int64, []int32, []int16:
		t.ints = map[int64]int{}
		for i, k := range keys.AsInt64s() {
			t.ints[k] = i
		}
	default:
		return nil, &ops.AttrError{Name: keysName, Msg: fmt.Sprintf("has type %s, want string, int64, int32, int16, float or double", keys.DType())}
	}
	switch values.DType() {
	case ops.String, ops.Int64, ops.Int32, ops.Int16, ops.Float32, ops.Float64:
	default:
		return nil, &ops.AttrError{Name: valuesName, Msg: fmt.Sprintf("has type %s, want string, int64, int32, int16, float or double", values.DType())}
	}
	return t, nil
}

func floatKey(v float64) uint64 {
	if math.IsNaN(v) {
		return math.Float64bits(math.NaN())
	}
	return math.Float64bits(v)
}

// find returns the index of element i of x among the keys, or -1.
func (t *table) find(x *ops.Tensor, i int) int {
	var (
		j  int
		ok bool
	)
	switch d := x.Data().(type) {
	case []string:
		j, ok = t.strs[d[i]]
	case []int64:
		j, ok = t.ints[d[i]]
	case []int32:
		j, ok = t.ints[int64(d[i])]
	case []int16:
		j, ok = t.ints[int64(d[i])]
	case []float32:
		j, ok = t.floats[floatKey(float64(d[i]))]
	case []float64:
		j, ok = t.floats[floatKey(d[i])]
	}
	if !ok {
		return -1
	}
	return j
}

func (t *table) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if in[0].DType != t.keys.DType() {
		return nil, ops.Invalidf("input X has dtype %s, the keys are %s", in[0].DType, t.keys.DType())
	}
	return []ops.ValueInfo{{DType: t.values.DType(), Shape: in[0].Shape}}, nil
}

func (t *table) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return t, nil }

func (t *table) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	for i := 0; i < in[0].Len(); i++ {
		src, j := t.values, t.find(in[0], i)
		if j < 0 {
			src, j = t.def, 0
		}
		switch d := out[0].Data().(type) {
		case []string:
			d[i] = ops.Data[string](src)[j]
		case []int64:
			d[i] = ops.Data[int64](src)[j]
		case []int32:
			d[i] = ops.Data[int32](src)[j]
		case []int16:
			d[i] = ops.Data[int16](src)[j]
		case []float32:
			d[i] = ops.Data[float32](src)[j]
		case []float64:
			d[i] = ops.Data[float64](src)[j]
		}
	}
	return nil
}

// vector makes a 1-D tensor of a list attribute.
func vector[T ops.Elem](v []T) *ops.Tensor { return ops.FromSlice(ops.Shape{len(v)}, v) }

// labelEncoderV1 is opset 1's encoder, whose direction depends on the input type.
type labelEncoderV1 struct {
	toInt, toString *table
}

func buildLabelEncoder(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	defInt := r.Int("default_int64", -1)
	defString := r.String("default_string", "_Unused")
	if n.Opset < 2 {
		classes := r.Strings("classes_strings", nil)
		if err := r.Err(); err != nil {
			return nil, err
		}
		index := make([]int64, len(classes))
		for i := range index {
			index[i] = int64(i)
		}
		toInt, err := newTable("classes_strings", vector(classes), "classes_strings", vector(index), ops.Scalar(defInt))
		if err != nil {
			return nil, err
		}
		toString, err := newTable("classes_strings", vector(index), "classes_strings", vector(classes), ops.Scalar(defString))
		if err != nil {
			return nil, err
		}
		return &labelEncoderV1{toInt: toInt, toString: toString}, nil
	}
	defFloat := r.Float("default_float", float32(math.Copysign(0, -1)))
	keys, keysName := pickList(r, "keys", n.Opset >= 4)
	values, valuesName := pickList(r, "values", n.Opset >= 4)
	defTensor := r.Tensor("default_tensor")
	if err := r.Err(); err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, &ops.AttrError{Name: "keys_*", Msg: fmt.Sprintf("are %s: want exactly one of keys_strings, keys_int64s, keys_floats%s", keysName, tensorNote(n.Opset))}
	}
	if values == nil {
		return nil, &ops.AttrError{Name: "values_*", Msg: fmt.Sprintf("are %s: want exactly one of values_strings, values_int64s, values_floats%s", valuesName, tensorNote(n.Opset))}
	}
	def := defTensor
	if def == nil || n.Opset < 4 {
		switch values.DType() {
		case ops.String:
			def = ops.Scalar(defString)
		case ops.Float32:
			def = ops.Scalar(defFloat)
		case ops.Float64:
			def = ops.Scalar(float64(defFloat))
		case ops.Int64:
			def = ops.Scalar(defInt)
		case ops.Int32:
			def = ops.Scalar(int32(-1))
		case ops.Int16:
			def = ops.Scalar(int16(-1))
		}
	}
	if def == nil {
		return nil, &ops.AttrError{Name: valuesName, Msg: fmt.Sprintf("has type %s, want string, int64, int32, int16, float or double", values.DType())}
	}
	return newTable(keysName, keys, valuesName, values, def)
}

func tensorNote(opset int) string {
	if opset >= 4 {
		return " or the _tensor form"
	}
	return ""
}

// pickList reads the one set attribute among prefix_strings, _int64s, _floats (and _tensor when allowed)
// as a 1-D tensor and its name; when none or several are set, a nil tensor and the list of those set.
func pickList(r *ops.AttrReader, prefix string, tensors bool) (*ops.Tensor, string) {
	var found []*ops.Tensor
	var names []string
	if r.Has(prefix + "_strings") {
		found, names = append(found, vector(r.Strings(prefix+"_strings", nil))), append(names, prefix+"_strings")
	}
	if r.Has(prefix + "_int64s") {
		found, names = append(found, vector(r.Ints(prefix+"_int64s", nil))), append(names, prefix+"_int64s")
	}
	if r.Has(prefix + "_floats") {
		found, names = append(found, vector(r.Floats(prefix+"_floats", nil))), append(names, prefix+"_floats")
	}
	if tensors && r.Has(prefix+"_tensor") {
		if t := r.Tensor(prefix + "_tensor"); t != nil {
			found, names = append(found, t.View(ops.Shape{t.Len()})), append(names, prefix+"_tensor")
		}
	}
	if len(found) != 1 {
		return nil, fmt.Sprint(names)
	}
	return found[0], names[0]
}

func (op *labelEncoderV1) direction(dt ops.DType) (*table, error) {
	switch dt {
	case ops.String:
		return op.toInt, nil
	case ops.Int64:
		return op.toString, nil
	}
	return nil, ops.Invalidf("input X has dtype %s, want string or int64", dt)
}

func (op *labelEncoderV1) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	t, err := op.direction(in[0].DType)
	if err != nil {
		return nil, err
	}
	return t.InferShapes(in)
}

func (op *labelEncoderV1) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return op.direction(in[0].DType)
}

func buildCategoryMapper(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	ints, strs := r.Ints("cats_int64s", nil), r.Strings("cats_strings", nil)
	defInt, defString := r.Int("default_int64", -1), r.String("default_string", "_Unused")
	if err := r.Err(); err != nil {
		return nil, err
	}
	if err := checkLen("cats_int64s", len(ints), len(strs), "one per element of cats_strings"); err != nil {
		return nil, err
	}
	toInt, err := newTable("cats_strings", vector(strs), "cats_int64s", vector(ints), ops.Scalar(defInt))
	if err != nil {
		return nil, err
	}
	toString, err := newTable("cats_int64s", vector(ints), "cats_strings", vector(strs), ops.Scalar(defString))
	if err != nil {
		return nil, err
	}
	return &labelEncoderV1{toInt: toInt, toString: toString}, nil
}

type oneHotOp struct {
	cats  *table // category -> its column; values unused
	n     int
	zeros bool
}

func buildOneHotEncoder(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	ints, strs := r.Ints("cats_int64s", nil), r.Strings("cats_strings", nil)
	zeros := r.Int("zeros", 1)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if (len(ints) == 0) == (len(strs) == 0) {
		return nil, &ops.AttrError{Name: "cats_int64s", Msg: fmt.Sprintf("has %d elements and cats_strings %d, want exactly one of them set", len(ints), len(strs))}
	}
	keys := vector(strs)
	if len(ints) > 0 {
		keys = vector(ints)
	}
	cats, err := newTable("cats", keys, "cats", keys, ops.New(keys.DType(), ops.Shape{1}))
	if err != nil {
		return nil, err
	}
	return &oneHotOp{cats: cats, n: keys.Len(), zeros: zeros != 0}, nil
}

func (op *oneHotOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	want := numericInputs
	if op.cats.strs != nil {
		want = ops.DTypes(ops.String)
	}
	if !want.Has(in[0].DType) {
		return nil, ops.Invalidf("input X has dtype %s, want one of %s for these categories", in[0].DType, want)
	}
	return []ops.ValueInfo{{DType: ops.Float32, Shape: append(in[0].Shape.Clone(), op.n)}}, nil
}

func (op *oneHotOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return op, nil }

func (op *oneHotOp) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	y := out[0].Float32s()
	clear(y)
	var f features
	if op.cats.strs == nil {
		f = readFeatures(in[0])
	}
	for i := 0; i < in[0].Len(); i++ {
		j, ok := -1, false
		if op.cats.strs != nil {
			j, ok = op.cats.strs[ops.Data[string](in[0])[i]]
		} else if v := f.at(i); v >= math.MinInt64 && v < math.MaxInt64 {
			j, ok = op.cats.ints[int64(v)]
		}
		if !ok {
			if !op.zeros {
				return ops.Invalidf("OneHotEncoder: element %d is in no category and zeros is 0", i)
			}
			continue
		}
		y[i*op.n+j] = 1
	}
	return nil
}
