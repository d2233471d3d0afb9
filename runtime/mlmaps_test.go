package runtime

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// castMapModel is CastMap(m) -> y over a graph input m: map(int64, tensor(float)), with the given
// attributes.
func castMapModel(attrs ...*onnxpb.AttributeProto) *onnx.Model {
	tensorType := func(dt onnxpb.TensorProto_DataType) *onnxpb.TypeProto {
		return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt))}}}
	}
	mapType := &onnxpb.TypeProto{Value: &onnxpb.TypeProto_MapType{MapType: &onnxpb.TypeProto_Map{
		KeyType: proto.Int32(int32(onnxpb.TensorProto_INT64)), ValueType: tensorType(onnxpb.TensorProto_FLOAT)}}}
	return &onnx.Model{Proto: &onnxpb.ModelProto{IrVersion: proto.Int64(8), OpsetImport: []*onnxpb.OperatorSetIdProto{
		{Domain: proto.String(""), Version: proto.Int64(17)}, {Domain: proto.String("ai.onnx.ml"), Version: proto.Int64(3)}},
		Graph: &onnxpb.GraphProto{Name: proto.String("g"),
			Node:   []*onnxpb.NodeProto{{OpType: proto.String("CastMap"), Domain: proto.String("ai.onnx.ml"), Input: []string{"m"}, Output: []string{"y"}, Attribute: attrs}},
			Input:  []*onnxpb.ValueInfoProto{{Name: proto.String("m"), Type: mapType}},
			Output: []*onnxpb.ValueInfoProto{{Name: proto.String("y"), Type: tensorType(onnxpb.TensorProto_FLOAT)}},
		}}}
}

func stringAttr(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// TestMapInputThroughGoAPI: a caller feeds a map made with ops.NewMap; CastMap's DENSE output, whose
// length is the map's size, is planned at each Run with the map given.
func TestMapInputThroughGoAPI(t *testing.T) {
	p, err := Compile(castMapModel(), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := p.NewSession()
	defer s.Close()
	for _, tt := range []struct {
		keys   []int64
		values []float32
		want   []float32
	}{
		{[]int64{3, 1}, []float32{30, 10}, []float32{10, 30}},
		{[]int64{9, 2, 5}, []float32{9, 2, 5}, []float32{2, 5, 9}},
		{nil, nil, []float32{}},
	} {
		m, err := ops.NewMap(ops.FromSlice(ops.Shape{len(tt.keys)}, tt.keys), ops.FromSlice(ops.Shape{len(tt.values)}, tt.values))
		if err != nil {
			t.Fatal(err)
		}
		outs, err := s.Run(context.Background(), []*ops.Tensor{m})
		if err != nil {
			t.Fatal(err)
		}
		if got := outs[0]; !got.Shape().Equal(ops.Shape{1, len(tt.want)}) || !reflect.DeepEqual(got.Float32s(), tt.want) {
			t.Errorf("CastMap of %v -> %v gave %v, want [1, %d] %v", tt.keys, tt.values, got, len(tt.want), tt.want)
		}
	}
}

// TestCastMapHugeMaxMap: a SPARSE max_map whose output would be gigabytes is a typed error naming the
// node, from the builder's bound (max_map over int32) or from Options.MaxTensorBytes when the plan is
// made for the map given (a map input makes the plan at Run), never an allocation of that size.
func TestCastMapHugeMaxMap(t *testing.T) {
	sparse := stringAttr("map_form", "SPARSE")
	m, err := ops.NewMap(ops.FromSlice(ops.Shape{1}, []int64{1}), ops.FromSlice(ops.Shape{1}, []float32{1}))
	if err != nil {
		t.Fatal(err)
	}
	for _, maxMap := range []int64{1 << 40, 1<<31 - 1} {
		model := castMapModel(sparse, &onnxpb.AttributeProto{Name: proto.String("max_map"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(maxMap)})
		p, err := Compile(model, Options{Threads: 1, MaxTensorBytes: 1 << 20})
		if err == nil {
			s := p.NewSession()
			_, err = s.Run(context.Background(), []*ops.Tensor{m})
			s.Close()
		}
		t.Logf("max_map %d: %v", maxMap, err)
		if err == nil || !strings.Contains(err.Error(), "CastMap") || !(errors.Is(err, ops.ErrInvalid) || errors.Is(err, ErrUnsupported)) {
			t.Errorf("max_map %d: got %v, want a typed error naming the node", maxMap, err)
		}
	}
}
