package onnx

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

func TestDecodeValidation(t *testing.T) {
	floatInit := func() *onnxpb.TensorProto {
		tp, _ := NewTensorProto("W", &Array{onnxpb.TensorProto_FLOAT, []int64{2}, []float32{1, 2}})
		return tp
	}
	tests := []struct {
		name        string
		edit        func(m *onnxpb.ModelProto)
		unsupported bool
		msg         string // "" = must decode
	}{
		{"valid", func(*onnxpb.ModelProto) {}, false, ""},
		{"IR 3", func(m *onnxpb.ModelProto) { m.IrVersion = proto.Int64(3) }, false, ""},
		{"IR 13", func(m *onnxpb.ModelProto) { m.IrVersion = proto.Int64(13) }, false, ""},
		{"no ir_version", func(m *onnxpb.ModelProto) { m.IrVersion = nil }, false, "model.ir_version: missing or not positive (0)"},
		{"negative ir_version", func(m *onnxpb.ModelProto) { m.IrVersion = proto.Int64(-4) }, false, "missing or not positive (-4)"},
		{"IR 2", func(m *onnxpb.ModelProto) { m.IrVersion = proto.Int64(2) }, true, "IR version 2 predates opset_import (IR 3); accepted: 3..13"},
		{"IR 14", func(m *onnxpb.ModelProto) { m.IrVersion = proto.Int64(14) }, true, "IR version 14 is newer than 13"},
		{"no graph", func(m *onnxpb.ModelProto) { m.Graph = nil }, false, "model.graph: missing"},
		{"no opset_import", func(m *onnxpb.ModelProto) { m.OpsetImport = nil }, false,
			"model.opset_import: empty: a model of IR version 3 or later must import at least one operator set"},
		{"opset version 0", func(m *onnxpb.ModelProto) {
			m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String("com.x")})
		}, false, `model.opset_import[1]: domain "com.x" has version 0`},
		{"only a custom domain", func(m *onnxpb.ModelProto) {
			m.OpsetImport = []*onnxpb.OperatorSetIdProto{{Domain: proto.String("ai.onnx.ml"), Version: proto.Int64(3)}}
		}, false, ""},
		{"bad initializer", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0].RawData = m.Graph.Initializer[0].RawData[:7]
		}, false, `graph "g", initializer, tensor "W": dims [2] need 8 bytes, raw_data has 7`},
		{"bad sparse initializer", func(m *onnxpb.ModelProto) {
			m.Graph.SparseInitializer = []*onnxpb.SparseTensorProto{{Values: &onnxpb.TensorProto{
				Name: proto.String("sv"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{-2}}}}
		}, false, `sparse_initializer, values, tensor "sv": dims [-2]: dim 0 is negative`},
		{"bad tensor in function", func(m *onnxpb.ModelProto) {
			m.Functions = []*onnxpb.FunctionProto{{Name: proto.String("f"), Node: []*onnxpb.NodeProto{{
				OpType: proto.String("Constant"),
				Attribute: []*onnxpb.AttributeProto{{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(),
					T: &onnxpb.TensorProto{Name: proto.String("k"), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{2}, Int64Data: []int64{1}}}},
			}}}}
		}, false, `function "f" (#0), node "#0" (Constant), attribute "value", tensor "k": dims [2] need 2 INT64 entries, int64_data has 1`},
		{"bad tensor in training graph", func(m *onnxpb.ModelProto) {
			m.TrainingInfo = []*onnxpb.TrainingInfoProto{{Algorithm: &onnxpb.GraphProto{Name: proto.String("step"), Initializer: []*onnxpb.TensorProto{{
				Name: proto.String("lr"), DataType: proto.Int32(int32(onnxpb.TensorProto_UNDEFINED))}}}}}
		}, false, `training_info[0].algorithm "step", initializer, tensor "lr": data_type is UNDEFINED`},
		// Valid layouts do not fail Decode, whether or not this package converts them.
		{"float8 initializer", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0].DataType = proto.Int32(int32(onnxpb.TensorProto_FLOAT8E5M2))
			m.Graph.Initializer[0].Dims = []int64{8}
		}, false, ""},
		{"segmented initializer", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0].Segment = &onnxpb.TensorProto_Segment{Begin: proto.Int64(0), End: proto.Int64(2)}
		}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp := testModel(floatInit())
			tt.edit(mp)
			m, err := Decode(marshal(t, mp))
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(m.Proto, mp) {
					t.Error("decoded model differs from the input")
				}
				return
			}
			checkErr(t, err, tt.unsupported, tt.msg)
		})
	}
}

func TestDecodeGarbage(t *testing.T) {
	for _, b := range [][]byte{{0xff}, {0x0a, 0x05, 0x01}, []byte("not a model at all")} {
		_, err := Decode(b)
		checkErr(t, err, false, "model: not a ModelProto")
	}
}

// TestDecodeDepthLimit nests TypeProto sequences deeper than the limit: Decode must refuse rather than
// recurse without bound, and a larger MaxDepth must accept the same bytes.
func TestDecodeDepthLimit(t *testing.T) {
	typ := &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(1)}}}
	for range 200 {
		typ = &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{SequenceType: &onnxpb.TypeProto_Sequence{ElemType: typ}}}
	}
	mp := testModel()
	mp.Graph.Input = []*onnxpb.ValueInfoProto{{Name: proto.String("x"), Type: typ}}
	b := marshal(t, mp)
	_, err := Decode(b)
	checkErr(t, err, false, "not a ModelProto")
	if _, err := (DecodeOptions{MaxDepth: 1000}).Decode(b); err != nil {
		t.Errorf("MaxDepth 1000: %v", err)
	}
}

// TestUnknownFieldsSurvive checks that fields a newer ONNX might add are kept through a round trip.
func TestUnknownFieldsSurvive(t *testing.T) {
	mp := testModel()
	b := marshal(t, mp)
	b = protowire.AppendTag(b, 999, protowire.BytesType)
	b = protowire.AppendString(b, "future")
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(m.Proto, again.Proto) || len(again.Proto.ProtoReflect().GetUnknown()) == 0 {
		t.Error("unknown field lost in the round trip")
	}
}

func TestSaveLoad(t *testing.T) {
	tp, err := NewTensorProto("W", &Array{onnxpb.TensorProto_INT64, []int64{3}, []int64{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Proto: testModel(tp)}
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(m.Proto, back.Proto) {
		t.Error("Save → Load changed the model")
	}
	if back.Dir != filepath.Dir(path) {
		t.Errorf("Dir = %q, want %q", back.Dir, filepath.Dir(path))
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.onnx")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func TestOpsetFor(t *testing.T) {
	imp := func(d string, v int64) *onnxpb.OperatorSetIdProto {
		return &onnxpb.OperatorSetIdProto{Domain: proto.String(d), Version: proto.Int64(v)}
	}
	m := &Model{Proto: &onnxpb.ModelProto{OpsetImport: []*onnxpb.OperatorSetIdProto{
		imp("ai.onnx", 11), imp("", 17), imp("ai.onnx.ml", 3), imp("com.microsoft", 1), imp("ai.onnx.ml", 2),
	}}}
	tests := []struct {
		domain string
		want   int64
		ok     bool
	}{
		{"", 17, true},
		{"ai.onnx", 17, true},
		{"ai.onnx.ml", 3, true},
		{"com.microsoft", 1, true},
		{"org.pytorch", 0, false},
	}
	for _, tt := range tests {
		got, ok := m.OpsetFor(tt.domain)
		if got != tt.want || ok != tt.ok {
			t.Errorf("OpsetFor(%q) = %d, %v; want %d, %v", tt.domain, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := (&Model{Proto: &onnxpb.ModelProto{}}).OpsetFor(""); ok {
		t.Error("OpsetFor on a model without imports reported a version")
	}
}

func TestNormalizeDomain(t *testing.T) {
	for in, want := range map[string]string{"": "", "ai.onnx": "", "ai.onnx.ml": "ai.onnx.ml", "com.microsoft": "com.microsoft", "AI.ONNX": "AI.ONNX"} {
		if got := NormalizeDomain(in); got != want {
			t.Errorf("NormalizeDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

// LoadFile reads the file the caller opened, not whatever its path names later: a file renamed over the
// path after the open is not what decodes, read or mapped, and Dir is the opened file's folder.
func TestLoadFileReadsTheOpenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	save := func(p string, values []int64) {
		tp, err := NewTensorProto("W", &Array{onnxpb.TensorProto_INT64, []int64{int64(len(values))}, values})
		if err != nil {
			t.Fatal(err)
		}
		if err := (&Model{Proto: testModel(tp)}).Save(p); err != nil {
			t.Fatal(err)
		}
	}
	save(path, []int64{1, 2, 3})
	for _, mmap := range []bool{false, true} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		save(filepath.Join(dir, "other.onnx"), []int64{7, 7})
		if err := os.Rename(filepath.Join(dir, "other.onnx"), path); err != nil {
			t.Fatal(err)
		}
		m, err := DecodeOptions{Mmap: mmap}.LoadFile(f)
		f.Close() // a mapped model keeps its pages
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.TensorArray(m.Proto.Graph.Initializer[0])
		if err != nil {
			t.Fatal(err)
		}
		if want := []int64{1, 2, 3}; !reflect.DeepEqual(got.Data, want) {
			t.Errorf("mmap %v: W = %v, want %v (the file as opened)", mmap, got.Data, want)
		}
		if m.Dir != dir {
			t.Errorf("mmap %v: Dir = %q, want %q", mmap, m.Dir, dir)
		}
		m.Close()
		save(path, []int64{1, 2, 3})
	}
}
