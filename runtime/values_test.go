package runtime

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

func seqFloatType() *onnxpb.TypeProto {
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{SequenceType: &onnxpb.TypeProto_Sequence{
		ElemType: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}}}}}}
}

// sequenceModel is SequenceInsert(seq, x) -> out, SequenceLength(out) -> n: a sequence graph input and
// output next to tensors.
func sequenceModel(t *testing.T, op string) *Plan {
	t.Helper()
	tensor := func(shape ...int64) *onnxpb.TypeProto {
		dims := make([]*onnxpb.TensorShapeProto_Dimension, len(shape))
		for i, d := range shape {
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}}
		}
		return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: &onnxpb.TensorShapeProto{Dim: dims}}}}
	}
	vi := func(name string, tp *onnxpb.TypeProto) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: tp}
	}
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph: &onnxpb.GraphProto{Name: proto.String("g"),
			Node: []*onnxpb.NodeProto{
				{OpType: proto.String(op), Input: []string{"seq", "x"}, Output: []string{"out"}},
				{OpType: proto.String("SequenceLength"), Input: []string{"out"}, Output: []string{"n"}},
			},
			Input:  []*onnxpb.ValueInfoProto{vi("seq", seqFloatType()), vi("x", tensor(2))},
			Output: []*onnxpb.ValueInfoProto{vi("out", seqFloatType()), vi("n", &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_INT64))}}})},
		}}
	p, err := Compile(&onnx.Model{Proto: m}, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSequenceInputsAndOutputs(t *testing.T) {
	p := sequenceModel(t, "SequenceInsert")
	if in := p.Inputs()[0]; in.Kind() != ops.KindSequence || in.TypeString() != "seq(tensor(float32))" {
		t.Fatalf("input 0 is declared %s (%s); want a sequence of float32 tensors", in.TypeString(), in.Kind())
	}
	s := p.NewSession()
	defer s.Close()
	x := ops.FromSlice(ops.Shape{2}, []float32{1, 2})
	seq := ops.NewSequence(ops.TensorType(ops.Float32), []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []float32{7})})
	for run := 0; run < 2; run++ { // the plan is made at each Run: the second must not see the first's values
		outs, err := s.Run(context.Background(), []*ops.Tensor{seq, x})
		if err != nil {
			t.Fatal(err)
		}
		if elems := outs[0].Elements(); len(elems) != 2 || elems[1].Float32s()[1] != 2 || outs[1].Int64s()[0] != 2 {
			t.Fatalf("run %d: got %v and %v; want the sequence [7], [1 2] and its length 2", run, outs[0], outs[1])
		}
		x = ops.FromSlice(ops.Shape{2}, []float32{1, 2})
	}

	var ie *InputError
	for _, tt := range []struct {
		name string
		in   []*ops.Tensor
		want string
	}{
		{"tensor for a sequence", []*ops.Tensor{x, x}, "expected a seq(tensor(float32)), got a tensor(float32)"},
		{"sequence for a tensor", []*ops.Tensor{seq, seq}, "expected a tensor float32[2], got a seq(tensor(float32))"},
		{"element of another dtype", []*ops.Tensor{ops.NewSequence(ops.TensorType(ops.Int64), nil), x}, "got a seq(tensor(int64))"},
		{"element of the wrong type inside", []*ops.Tensor{ops.NewSequence(ops.TensorType(ops.Float32), []*ops.Tensor{ops.Scalar(int64(1))}), x}, "element 0 is a tensor(int64)"},
		{"nil element", []*ops.Tensor{ops.NewSequence(ops.TensorType(ops.Float32), []*ops.Tensor{nil}), x}, "element 0 is nil"},
	} {
		_, err := s.Run(context.Background(), tt.in)
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want an *InputError containing %q", tt.name, err, tt.want)
		}
	}
}

// A sequence fed to an op that reads only tensors is refused with a typed error, not read as a tensor.
func TestSequenceIntoTensorOp(t *testing.T) {
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph: &onnxpb.GraphProto{Name: proto.String("g"),
			Node:   []*onnxpb.NodeProto{{OpType: proto.String("Relu"), Input: []string{"seq"}, Output: []string{"y"}}},
			Input:  []*onnxpb.ValueInfoProto{{Name: proto.String("seq"), Type: seqFloatType()}},
			Output: []*onnxpb.ValueInfoProto{{Name: proto.String("y")}},
		}}
	_, err := Compile(&onnx.Model{Proto: m}, Options{Threads: 1})
	if !errors.Is(err, ops.ErrInvalid) || !strings.Contains(err.Error(), `input 0 ("seq") is a seq(tensor(float32)), and the op takes tensors only`) {
		t.Fatalf("Compile: %v; want the typed refusal", err)
	}
}
