package ml

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// runValues instantiates one ai.onnx.ml node on constant inputs, which may be maps, and runs it, as the
// runtime's dynamic path does (opstest.Run hands kernels tensors only).
func runValues(t *testing.T, op string, attrs A, in ...*ops.Tensor) ([]*ops.Tensor, error) {
	t.Helper()
	infos := make([]ops.ValueInfo, len(in))
	for i, x := range in {
		infos[i] = ops.ConstInfo(x)
	}
	inst, err := ops.Instantiate(ops.NodeInfo{Name: "test", Domain: Domain, OpType: op, Opset: 1, Attrs: attrs, NumOutputs: 1}, infos)
	if err != nil {
		return nil, err
	}
	outs := make([]*ops.Tensor, len(inst.Outputs))
	for i, o := range inst.Outputs {
		outs[i] = ops.NewValue(o)
	}
	if err := inst.Kernel.Run(ops.SerialContext(), in, outs); err != nil {
		return nil, err
	}
	for i, o := range outs {
		if o.Kind() == ops.KindTensor && !o.Shape().Equal(inst.Outputs[i].Shape) {
			return nil, fmt.Errorf("output %d has shape %v after Run, InferShapes said %v", i, o.Shape(), inst.Outputs[i].Shape)
		}
	}
	return outs, nil
}

func mustMap(t *testing.T, keys, values *ops.Tensor) *ops.Tensor {
	t.Helper()
	m, err := ops.NewMap(keys, values)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func i64s(v ...int64) *ops.Tensor   { return ops.FromSlice(ops.Shape{len(v)}, v) }
func f32s(v ...float32) *ops.Tensor { return ops.FromSlice(ops.Shape{len(v)}, v) }

func wantErr(t *testing.T, err error, sub string) {
	t.Helper()
	if err == nil || !errors.Is(err, ops.ErrInvalid) || !strings.Contains(err.Error(), sub) {
		t.Errorf("error %v, want one wrapping ops.ErrInvalid with %q", err, sub)
	}
}

// refusal is a node (attributes and input) that must fail with an error holding sub.
type refusal struct {
	name  string
	attrs A
	x     *ops.Tensor
	sub   string
}

func checkRefused(t *testing.T, op string, cases []refusal) {
	t.Helper()
	for _, c := range cases {
		_, err := runValues(t, op, c.attrs, c.x)
		if err == nil || !strings.Contains(err.Error(), c.sub) {
			t.Errorf("%s %s: error %v, want %q", op, c.name, err, c.sub)
		}
	}
}

func TestZipMap(t *testing.T) {
	x := opstest.F32(ops.Shape{2, 3}, 0.1, 0.2, 0.7, 0.5, 0.25, 0.25)
	outs, err := runValues(t, "ZipMap", A{"classlabels_strings": strs("a", "b", "c")}, x)
	if err != nil {
		t.Fatal(err)
	}
	seq := outs[0]
	want := ops.SequenceOf(ops.MapOf(ops.String, ops.TensorType(ops.Float32)))
	if !seq.Type().Equal(want) || len(seq.Elements()) != 2 {
		t.Fatalf("ZipMap gave %v, want a %s of 2 maps", seq, want)
	}
	for r, m := range seq.Elements() {
		if got := ops.Data[string](m.MapKeys()); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
			t.Errorf("map %d keys %q, want a b c", r, got)
		}
		if got, want := m.MapValues().Float32s(), x.Float32s()[r*3:r*3+3]; !reflect.DeepEqual(got, want) {
			t.Errorf("map %d values %v, want %v", r, got, want)
		}
	}
	// The maps own their data: writing one changes neither the input nor the other map.
	seq.Elements()[0].MapValues().Float32s()[0] = 99
	seq.Elements()[0].MapKeys().Data().([]string)[1] = "z"
	if x.Float32s()[0] != 0.1 || seq.Elements()[1].MapKeys().Data().([]string)[1] != "b" {
		t.Error("ZipMap's maps share memory with the input or with each other")
	}

	// int64 labels, one row given as [C].
	outs, err = runValues(t, "ZipMap", A{"classlabels_int64s": ints(3, 1)}, f32s(0.25, 0.75))
	if err != nil {
		t.Fatal(err)
	}
	if m := outs[0].Elements(); len(m) != 1 || !reflect.DeepEqual(ops.Data[int64](m[0].MapKeys()), []int64{3, 1}) || m[0].MapValues().Float32s()[1] != 0.75 {
		t.Errorf("ZipMap of one row gave %v", outs[0])
	}

	// A batch of no rows gives an empty sequence of the right type.
	outs, err = runValues(t, "ZipMap", A{"classlabels_int64s": ints(3, 1)}, opstest.F32(ops.Shape{0, 2}))
	if err != nil || len(outs[0].Elements()) != 0 || outs[0].Type().Elem.Key != ops.Int64 {
		t.Errorf("ZipMap of 0 rows gave %v, %v; want an empty seq(map(int64, float))", outs, err)
	}

	checkRefused(t, "ZipMap", []refusal{
		{"no labels", A{}, x, "want one of them"},
		{"both labels", A{"classlabels_int64s": ints(1, 2, 3), "classlabels_strings": strs("a", "b", "c")}, x, "both set"},
		{"columns", A{"classlabels_int64s": ints(1, 2)}, x, "3 columns, want one per class label (2)"},
		{"dtype", A{"classlabels_int64s": ints(1, 2, 3)}, opstest.F64(ops.Shape{1, 3}, 1, 2, 3), "want a float32 tensor"},
		{"rank", A{"classlabels_int64s": ints(1, 2, 3)}, opstest.F32(ops.Shape{1, 1, 3}, 1, 2, 3), "want a float32 tensor"},
		{"a map", A{"classlabels_int64s": ints(1)}, mustMap(t, i64s(1), f32s(1)), "want a float32 tensor"},
	})
}

func TestDictVectorizer(t *testing.T) {
	// The spec's example, plus a key outside the vocabulary (ignored, as scikit-learn and ONNX Runtime do).
	in := mustMap(t, strTensor("a", "c", "unknown"), i64s(4, 8, 100))
	outs, err := runValues(t, "DictVectorizer", A{"string_vocabulary": strs("a", "c", "b", "z")}, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := outs[0]; !got.Shape().Equal(ops.Shape{1, 4}) || !reflect.DeepEqual(ops.Data[int64](got), []int64{4, 8, 0, 0}) {
		t.Errorf("DictVectorizer gave %v, want [[4 8 0 0]]", got)
	}

	// int64 keys to doubles; a word repeated in the vocabulary gets the value at both places; a repeated
	// map key keeps its last value; every output element is written (no garbage from a previous run).
	in = mustMap(t, i64s(7, 2, 7), ops.FromSlice(ops.Shape{3}, []float64{1.5, -2, 3}))
	outs, err = runValues(t, "DictVectorizer", A{"int64_vocabulary": ints(2, 5, 7, 2)}, in)
	if err != nil {
		t.Fatal(err)
	}
	y := outs[0]
	if got := ops.Data[float64](y); !reflect.DeepEqual(got, []float64{-2, 0, 3, -2}) {
		t.Errorf("DictVectorizer gave %v, want [-2 0 3 -2]", got)
	}

	// String values, an empty map: all "".
	empty := mustMap(t, i64s(), strTensor())
	outs, err = runValues(t, "DictVectorizer", A{"int64_vocabulary": ints(1, 2)}, empty)
	if err != nil || !reflect.DeepEqual(ops.Data[string](outs[0]), []string{"", ""}) {
		t.Errorf("DictVectorizer of an empty map gave %v, %v; want two empty strings", outs, err)
	}

	// Run clears what a previous run wrote (the runtime reuses output buffers).
	op, err := buildDictVectorizer(ops.NodeInfo{Attrs: A{"int64_vocabulary": ints(1, 2)}})
	if err != nil {
		t.Fatal(err)
	}
	p := op.(*dictVectorizer)
	reused := opstest.F32(ops.Shape{1, 2}, 9, 9)
	if err := p.Run(ops.SerialContext(), []*ops.Tensor{mustMap(t, i64s(2), f32s(5))}, []*ops.Tensor{reused}); err != nil {
		t.Fatal(err)
	}
	if got := reused.Float32s(); got[0] != 0 || got[1] != 5 {
		t.Errorf("DictVectorizer into a used buffer gave %v, want [0 5]", got)
	}

	checkRefused(t, "DictVectorizer", []refusal{
		{"no vocabulary", A{}, in, "want exactly one of them"},
		{"two vocabularies", A{"int64_vocabulary": ints(1), "string_vocabulary": strs("a")}, in, "want exactly one of them"},
		{"key type", A{"string_vocabulary": strs("a")}, in, "want a map with {string} keys"},
		{"a tensor", A{"int64_vocabulary": ints(1)}, i64s(1), "input X is a tensor(int64)"},
		{"value type", A{"int64_vocabulary": ints(1)}, mustMap(t, i64s(1), ops.FromSlice(ops.Shape{1}, []int32{1})), "values"},
	})
}

func TestCastMap(t *testing.T) {
	// Keys out of order and one repeated (its last value wins), floats.
	in := mustMap(t, i64s(5, 1, 3, 1), f32s(2.5, -1, 7, 4))
	cases := []struct {
		attrs A
		want  any
	}{
		{A{}, []float32{4, 7, 2.5}}, // TO_FLOAT, DENSE by default
		{A{"cast_to": str("TO_INT64")}, []int64{4, 7, 2}},
		{A{"cast_to": str("TO_STRING")}, []string{"4.000000", "7.000000", "2.500000"}},
		{A{"map_form": str("SPARSE"), "max_map": intAttr(7)}, []float32{0, 4, 0, 7, 0, 2.5, 0}},
		{A{"map_form": str("SPARSE"), "max_map": intAttr(6), "cast_to": str("TO_STRING")},
			[]string{"0.f", "4.000000", "0.f", "7.000000", "0.f", "2.500000"}},
	}
	for _, c := range cases {
		outs, err := runValues(t, "CastMap", c.attrs, in)
		if err != nil {
			t.Errorf("%v: %v", c.attrs, err)
			continue
		}
		if got := outs[0].Data(); !reflect.DeepEqual(got, c.want) || outs[0].Rank() != 2 || outs[0].Shape()[0] != 1 {
			t.Errorf("%v: got %v%v, want [1, n] %v", c.attrs, outs[0].Shape(), got, c.want)
		}
	}

	// Strings parsed as numbers.
	strMap := mustMap(t, i64s(2, 0), strTensor("12", "-3"))
	outs, err := runValues(t, "CastMap", A{"cast_to": str("TO_INT64")}, strMap)
	if err != nil || !reflect.DeepEqual(ops.Data[int64](outs[0]), []int64{-3, 12}) {
		t.Errorf("CastMap of strings to int64 gave %v, %v; want [-3 12]", outs, err)
	}
	outs, err = runValues(t, "CastMap", A{"cast_to": str("TO_FLOAT"), "map_form": str("SPARSE"), "max_map": intAttr(3)}, strMap)
	if err != nil || !reflect.DeepEqual(outs[0].Float32s(), []float32{-3, 0, 12}) {
		t.Errorf("CastMap of strings to SPARSE float gave %v, %v; want [-3 0 12]", outs, err)
	}

	// An empty map: DENSE gives [1, 0], SPARSE all padding.
	empty := mustMap(t, i64s(), f32s())
	outs, err = runValues(t, "CastMap", A{}, empty)
	if err != nil || !outs[0].Shape().Equal(ops.Shape{1, 0}) {
		t.Errorf("CastMap of an empty map gave %v, %v; want [1, 0]", outs, err)
	}

	// Without the map at plan time, the DENSE length is not known: the runtime plans at Run.
	op, err := buildCastMap(ops.NodeInfo{Attrs: A{}})
	if err != nil {
		t.Fatal(err)
	}
	mapType := ops.MapOf(ops.Int64, ops.TensorType(ops.Float32))
	if _, err := op.InferShapes([]ops.ValueInfo{ops.InfoOf(mapType)}); !errors.Is(err, ops.ErrDynamicShape) {
		t.Errorf("DENSE CastMap of an unknown map: %v, want ErrDynamicShape", err)
	}

	// Hostile max_map: refused by the builder, before any output is sized from it.
	for _, m := range []int64{0, -1, 1 << 40} {
		_, err := runValues(t, "CastMap", A{"map_form": str("SPARSE"), "max_map": intAttr(m)}, in)
		if !errors.As(err, new(*ops.AttrError)) || !strings.Contains(err.Error(), "max_map") {
			t.Errorf("max_map %d: error %v, want an AttrError naming max_map", m, err)
		}
	}
	_, err = runValues(t, "CastMap", A{"map_form": str("SPARSE"), "max_map": intAttr(4)}, in)
	wantErr(t, err, "map key 5 is outside [0, max_map=4)")
	_, err = runValues(t, "CastMap", A{"map_form": str("SPARSE"), "max_map": intAttr(4)}, mustMap(t, i64s(-1), f32s(1)))
	wantErr(t, err, "map key -1 is outside")
	_, err = runValues(t, "CastMap", A{"cast_to": str("TO_FLOAT")}, mustMap(t, i64s(0), strTensor("x1")))
	wantErr(t, err, `map value "x1" is not a float`)
	_, err = runValues(t, "CastMap", A{"cast_to": str("TO_INT64")}, mustMap(t, i64s(0), f32s(1e30)))
	wantErr(t, err, "cannot be cast to int64")

	checkRefused(t, "CastMap", []refusal{
		{"cast_to", A{"cast_to": str("TO_DOUBLE")}, in, `"cast_to" is "TO_DOUBLE"`},
		{"map_form", A{"map_form": str("COMPACT")}, in, `is "COMPACT"`},
		{"string keys", A{}, mustMap(t, strTensor("a"), f32s(1)), "want a map with {int64} keys"},
		{"double values", A{}, mustMap(t, i64s(1), ops.FromSlice(ops.Shape{1}, []float64{1})), "want a map with {int64} keys"},
		{"a tensor", A{}, f32s(1), "input X is a tensor(float32)"},
	})
}
