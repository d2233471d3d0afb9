package crosscheck

import (
	"context"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorio"
)

// sklearnModel is a model folder of the conformance suite's scikit-learn exports.
func sklearnModel(t *testing.T, name string) string {
	return testenv.RepoPath(t, filepath.Join("conformance", "testdata", "sklearn", name))
}

// runORT runs a model file in ONNX Runtime, which allocates every output (sequences and maps too).
// The caller destroys the outputs.
func runORT(t *testing.T, path string, inputs []ort.Value) []ort.Value {
	t.Helper()
	in, out, err := ort.GetInputOutputInfo(path)
	if err != nil {
		t.Fatalf("ONNX Runtime cannot read %s: %v", path, err)
	}
	names := func(infos []ort.InputOutputInfo) []string {
		s := make([]string, len(infos))
		for i, v := range infos {
			s[i] = v.Name
		}
		return s
	}
	sess, err := ort.NewDynamicAdvancedSession(path, names(in), names(out), nil)
	if err != nil {
		t.Fatalf("ONNX Runtime cannot load %s: %v", path, err)
	}
	defer sess.Destroy()
	outs := make([]ort.Value, len(out))
	if err := sess.Run(inputs, outs); err != nil {
		t.Fatalf("ONNX Runtime run: %v", err)
	}
	return outs
}

func runOnnxrun(t *testing.T, path string, inputs ...*ops.Tensor) []*ops.Tensor {
	t.Helper()
	plan, err := runtime.Load(path, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	sess := plan.NewSession()
	defer sess.Close()
	outs, err := sess.Run(context.Background(), inputs)
	if err != nil {
		t.Fatal(err)
	}
	return outs
}

func ortStrings(t *testing.T, v ort.Value) []string {
	t.Helper()
	s, ok := v.(*ort.StringTensor)
	if !ok {
		t.Fatalf("ONNX Runtime gave a %T, want a string tensor", v)
	}
	c, err := s.GetContents()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// closeTo reports whether got is within the scikit-learn suite's tolerance of want.
func closeTo(got, want float32) bool {
	return math.Abs(float64(got-want)) <= 1e-6+1e-5*math.Abs(float64(want))
}

// TestZipMapMatchesORT: a classifier's output_probability, a seq(map(string, float)) made by ZipMap, is
// the same in onnxrun and ONNX Runtime: as many maps, the same keys in the same order, values within the
// scikit-learn suite's tolerance; and the labels are equal.
func TestZipMapMatchesORT(t *testing.T) {
	initORT(t)
	dir := sklearnModel(t, "logistic_regression_zipmap")
	model := filepath.Join(dir, "model.onnx")
	x, err := tensorio.ReadNPYFile(filepath.Join(dir, "input_0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	xt, err := ort.NewTensor(ort.NewShape(int64(x.Shape()[0]), int64(x.Shape()[1])), x.Float32s())
	if err != nil {
		t.Fatal(err)
	}
	defer xt.Destroy()
	want := runORT(t, model, []ort.Value{xt})
	defer func() {
		for _, v := range want {
			v.Destroy()
		}
	}()
	got := runOnnxrun(t, model, x)

	if w := ortStrings(t, want[0]); !reflect.DeepEqual(ops.Data[string](got[0]), w) {
		t.Errorf("labels %q, ONNX Runtime %q", ops.Data[string](got[0]), w)
	}
	seq, ok := want[1].(*ort.Sequence)
	if !ok {
		t.Fatalf("ONNX Runtime's output_probability is a %T, want a sequence", want[1])
	}
	maps, err := seq.GetValues()
	if err != nil {
		t.Fatal(err)
	}
	if len(maps) != len(got[1].Elements()) || len(maps) != x.Shape()[0] {
		t.Fatalf("%d maps, ONNX Runtime %d, want one per row (%d)", len(got[1].Elements()), len(maps), x.Shape()[0])
	}
	for r, v := range maps {
		m, ok := v.(*ort.Map)
		if !ok {
			t.Fatalf("ONNX Runtime's element %d is a %T, want a map", r, v)
		}
		keys, values, err := m.GetKeysAndValues()
		if err != nil {
			t.Fatal(err)
		}
		mine := got[1].Elements()[r]
		if w := ortStrings(t, keys); !reflect.DeepEqual(ops.Data[string](mine.MapKeys()), w) {
			t.Errorf("map %d keys %q, ONNX Runtime %q", r, ops.Data[string](mine.MapKeys()), w)
		}
		wv := values.(*ort.Tensor[float32]).GetData()
		for i, p := range mine.MapValues().Float32s() {
			if i >= len(wv) || !closeTo(p, wv[i]) {
				t.Errorf("map %d value %d is %v, ONNX Runtime %v", r, i, p, wv)
				break
			}
		}
	}
}

// TestDictVectorizerMatchesORT: the DictVectorizer -> LinearRegressor pipeline fed one map (whose
// "unseen" key is outside the vocabulary, which both engines ignore) gives the same prediction.
func TestDictVectorizerMatchesORT(t *testing.T) {
	initORT(t)
	dir := sklearnModel(t, "dict_vectorizer_linear_regression")
	model := filepath.Join(dir, "model.onnx")
	in, err := tensorio.ReadValuePB(filepath.Join(dir, "input_0.pb"), ops.MapOf(ops.String, ops.TensorType(ops.Float32)))
	if err != nil {
		t.Fatal(err)
	}
	keys := ops.Data[string](in.MapKeys())
	kt, err := ort.NewStringTensor(ort.NewShape(int64(len(keys))))
	if err != nil {
		t.Fatal(err)
	}
	defer kt.Destroy()
	if err := kt.SetContents(keys); err != nil {
		t.Fatal(err)
	}
	vt, err := ort.NewTensor(ort.NewShape(int64(len(keys))), in.MapValues().Float32s())
	if err != nil {
		t.Fatal(err)
	}
	defer vt.Destroy()
	m, err := ort.NewMap(kt, vt)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Destroy()
	want := runORT(t, model, []ort.Value{m})
	defer want[0].Destroy()
	w := want[0].(*ort.Tensor[float32])
	got := runOnnxrun(t, model, in)[0]
	if !reflect.DeepEqual([]int64(w.GetShape()), []int64{1, 1}) || !got.Shape().Equal(ops.Shape{1, 1}) || !closeTo(got.Float32s()[0], w.GetData()[0]) {
		t.Errorf("onnxrun gave %v, ONNX Runtime %v%v", got, w.GetShape(), w.GetData())
	}
}

// castMapModel writes CastMap(m) -> y with the given attributes over m: map(int64, tensor(float)), y a
// tensor of outType.
func castMapModel(t *testing.T, outType onnxpb.TensorProto_DataType, attrs ...*onnxpb.AttributeProto) string {
	t.Helper()
	tensorType := func(dt onnxpb.TensorProto_DataType) *onnxpb.TypeProto {
		return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt))}}}
	}
	mapType := &onnxpb.TypeProto{Value: &onnxpb.TypeProto_MapType{MapType: &onnxpb.TypeProto_Map{
		KeyType: proto.Int32(int32(onnxpb.TensorProto_INT64)), ValueType: tensorType(onnxpb.TensorProto_FLOAT)}}}
	m := &onnx.Model{Proto: &onnxpb.ModelProto{IrVersion: proto.Int64(8), OpsetImport: []*onnxpb.OperatorSetIdProto{
		{Domain: proto.String(""), Version: proto.Int64(17)}, {Domain: proto.String("ai.onnx.ml"), Version: proto.Int64(3)}},
		Graph: &onnxpb.GraphProto{Name: proto.String("castmap"),
			Node:   []*onnxpb.NodeProto{{OpType: proto.String("CastMap"), Domain: proto.String("ai.onnx.ml"), Input: []string{"m"}, Output: []string{"y"}, Attribute: attrs}},
			Input:  []*onnxpb.ValueInfoProto{{Name: proto.String("m"), Type: mapType}},
			Output: []*onnxpb.ValueInfoProto{{Name: proto.String("y"), Type: tensorType(outType)}},
		}}}
	path := filepath.Join(t.TempDir(), "castmap.onnx")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func strAttr(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// TestCastMapMatchesORT: CastMap's three targets in both forms give what ONNX Runtime gives, element for
// element: the ascending key order, the SPARSE padding (0, or "0.f" for strings) and floats written as
// strings with six decimals.
func TestCastMapMatchesORT(t *testing.T) {
	initORT(t)
	keys := []int64{5, 0, 3}
	values := []float32{2.5, -1.25, 7}
	in, err := ops.NewMap(ops.FromSlice(ops.Shape{3}, keys), ops.FromSlice(ops.Shape{3}, values))
	if err != nil {
		t.Fatal(err)
	}
	kt, err := ort.NewTensor(ort.NewShape(3), keys)
	if err != nil {
		t.Fatal(err)
	}
	defer kt.Destroy()
	vt, err := ort.NewTensor(ort.NewShape(3), values)
	if err != nil {
		t.Fatal(err)
	}
	defer vt.Destroy()
	m, err := ort.NewMap(kt, vt)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Destroy()
	maxMap := &onnxpb.AttributeProto{Name: proto.String("max_map"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(8)}
	for _, castTo := range []struct {
		name string
		dt   onnxpb.TensorProto_DataType
	}{{"TO_FLOAT", onnxpb.TensorProto_FLOAT}, {"TO_INT64", onnxpb.TensorProto_INT64}, {"TO_STRING", onnxpb.TensorProto_STRING}} {
		for _, form := range []string{"DENSE", "SPARSE"} {
			model := castMapModel(t, castTo.dt, strAttr("cast_to", castTo.name), strAttr("map_form", form), maxMap)
			want := runORT(t, model, []ort.Value{m})
			var w any
			switch v := want[0].(type) {
			case *ort.Tensor[float32]:
				w = v.GetData()
			case *ort.Tensor[int64]:
				w = v.GetData()
			default:
				w = ortStrings(t, v)
			}
			shape := want[0].GetShape()
			want[0].Destroy()
			got := runOnnxrun(t, model, in)[0]
			if !reflect.DeepEqual(got.Data(), w) || len(shape) != 2 || !got.Shape().Equal(ops.Shape{int(shape[0]), int(shape[1])}) {
				t.Errorf("%s %s: onnxrun gave %v%v, ONNX Runtime %v%v", castTo.name, form, got.Shape(), got.Data(), shape, w)
			}
		}
	}
}
