package serve

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/runtime"
)

func seqOfFloat() *onnxpb.TypeProto {
	elem := &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(f32))}}}
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{SequenceType: &onnxpb.TypeProto_Sequence{ElemType: elem}}}
}

func floatTensor(dims ...int64) *onnxpb.TypeProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(f32)), Shape: shape}}}
}

// compileProto compiles a hand-built opset-18 graph (the exporter writes tensors only).
func compileProto(t *testing.T, g *onnxpb.GraphProto) *runtime.Plan {
	t.Helper()
	raw, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(18)}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	p, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSequenceModelsRefused: the protocol carries tensors only, so a model with a sequence input or a
// sequence output is refused when it is loaded, by an error naming the value, and never reaches a request.
func TestSequenceModelsRefused(t *testing.T) {
	vi := func(name string, tp *onnxpb.TypeProto) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: tp}
	}
	tests := []struct {
		name string
		g    *onnxpb.GraphProto
		want string
	}{
		{"sequence input", &onnxpb.GraphProto{Name: proto.String("len"),
			Node:   []*onnxpb.NodeProto{{OpType: proto.String("SequenceAt"), Input: []string{"items", "pos"}, Output: []string{"item"}}},
			Input:  []*onnxpb.ValueInfoProto{vi("items", seqOfFloat()), {Name: proto.String("pos"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(i64)), Shape: &onnxpb.TensorShapeProto{}}}}}},
			Output: []*onnxpb.ValueInfoProto{vi("item", floatTensor(2))}},
			`model "m": input "items" is a seq(tensor(float32)): the Open Inference Protocol carries tensors only`},
		{"sequence output", &onnxpb.GraphProto{Name: proto.String("pair"),
			Node:   []*onnxpb.NodeProto{{OpType: proto.String("SequenceConstruct"), Input: []string{"x", "x"}, Output: []string{"pair"}}},
			Input:  []*onnxpb.ValueInfoProto{vi("x", floatTensor(2))},
			Output: []*onnxpb.ValueInfoProto{vi("pair", seqOfFloat())}},
			`model "m": output "pair" is a seq(tensor(float32)): the Open Inference Protocol carries tensors only`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewModel("m", compileProto(t, tc.g), Config{})
			if err == nil {
				m.Close()
				t.Fatal("the model was accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}
