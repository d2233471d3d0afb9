package crosscheck

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// qlinearCase is a one-node com.microsoft model: its quantized inputs (graph inputs, so that neither
// engine folds them) and its constant scales and zero points (initializers, as quantizers write them).
type qlinearCase struct {
	name   string
	op     string
	attrs  []*onnxpb.AttributeProto
	inputs []qInput // in the node's input order
}

// qInput is one node input: a graph input holding data, or a constant.
type qInput struct {
	data   *ops.Tensor
	const_ bool
}

func graphInput(t *ops.Tensor) qInput { return qInput{data: t} }
func constant(t *ops.Tensor) qInput   { return qInput{data: t, const_: true} }

func elemType(dt ops.DType) onnxpb.TensorProto_DataType {
	switch dt {
	case ops.Uint8:
		return onnxpb.TensorProto_UINT8
	case ops.Int8:
		return onnxpb.TensorProto_INT8
	}
	return onnxpb.TensorProto_FLOAT
}

func tensorProto(name string, t *ops.Tensor) *onnxpb.TensorProto {
	p := &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(elemType(t.DType())))}
	for _, d := range t.Shape() {
		p.Dims = append(p.Dims, int64(d))
	}
	switch d := t.Data().(type) {
	case []float32:
		p.FloatData = d
	case []uint8:
		p.RawData = append([]byte(nil), d...)
	case []int8:
		for _, v := range d {
			p.RawData = append(p.RawData, byte(v))
		}
	}
	return p
}

func valueInfo(name string, dt ops.DType, shape ops.Shape) *onnxpb.ValueInfoProto {
	s := &onnxpb.TensorShapeProto{}
	for _, d := range shape {
		s.Dim = append(s.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(elemType(dt))), Shape: s}}}}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func intsAttr(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func floatAttr(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

// save writes c's model; outDType is Y's type.
func (c *qlinearCase) save(t *testing.T, outDType ops.DType) string {
	g := &onnxpb.GraphProto{Name: proto.String(c.name)}
	node := &onnxpb.NodeProto{OpType: proto.String(c.op), Domain: proto.String(ops.MicrosoftDomain), Output: []string{"y"}, Attribute: c.attrs}
	for i, in := range c.inputs {
		name := fmt.Sprintf("in%d", i)
		node.Input = append(node.Input, name)
		if in.const_ {
			g.Initializer = append(g.Initializer, tensorProto(name, in.data))
		} else {
			g.Input = append(g.Input, valueInfo(name, in.data.DType(), in.data.Shape()))
		}
	}
	g.Node = []*onnxpb.NodeProto{node}
	g.Output = []*onnxpb.ValueInfoProto{{Name: proto.String("y"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(elemType(outDType)))}}}}}
	m := &onnx.Model{Proto: &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g, OpsetImport: []*onnxpb.OperatorSetIdProto{
		{Domain: proto.String(""), Version: proto.Int64(17)}, {Domain: proto.String(ops.MicrosoftDomain), Version: proto.Int64(1)}}}}
	path := filepath.Join(t.TempDir(), c.name+".onnx")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func ortTensor(t *testing.T, x *ops.Tensor) ort.Value {
	shape := make([]int64, len(x.Shape()))
	for i, d := range x.Shape() {
		shape[i] = int64(d)
	}
	var v ort.Value
	var err error
	switch d := x.Data().(type) {
	case []uint8:
		v, err = ort.NewTensor(ort.NewShape(shape...), append([]uint8(nil), d...))
	case []int8:
		v, err = ort.NewTensor(ort.NewShape(shape...), append([]int8(nil), d...))
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ortQ8(t *testing.T, v ort.Value) []float64 {
	switch d := v.(type) {
	case *ort.Tensor[uint8]:
		out := make([]float64, len(d.GetData()))
		for i, x := range d.GetData() {
			out[i] = float64(x)
		}
		return out
	case *ort.Tensor[int8]:
		out := make([]float64, len(d.GetData()))
		for i, x := range d.GetData() {
			out[i] = float64(x)
		}
		return out
	}
	t.Fatalf("ONNX Runtime gave a %T, want a uint8 or int8 tensor", v)
	return nil
}

func randBytes(rng *rand.Rand, dt ops.DType, shape ...int) *ops.Tensor {
	n := ops.Shape(shape).Size()
	if dt == ops.Int8 {
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(rng.Intn(256) - 128)
		}
		return ops.FromSlice(ops.Shape(shape), v)
	}
	v := make([]uint8, n)
	for i := range v {
		v[i] = uint8(rng.Intn(256))
	}
	return ops.FromSlice(ops.Shape(shape), v)
}

// allBytePairs returns two [256*256] tensors of dtype dt that together hold every pair of byte values.
func allBytePairs(dt ops.DType) (a, b *ops.Tensor) {
	first, second := make([]byte, 256*256), make([]byte, 256*256)
	for i := range first {
		first[i], second[i] = byte(i/256), byte(i%256)
	}
	return bytesTensor(dt, ops.Shape{256 * 256}, first), bytesTensor(dt, ops.Shape{256 * 256}, second)
}

// bytesRange returns a rows x cols tensor of dtype dt holding every byte value once, in order.
func bytesRange(dt ops.DType, rows, cols int) *ops.Tensor {
	v := make([]byte, rows*cols)
	for i := range v {
		v[i] = byte(i)
	}
	return bytesTensor(dt, ops.Shape{rows, cols}, v)
}

func bytesTensor(dt ops.DType, shape ops.Shape, v []byte) *ops.Tensor {
	if dt == ops.Int8 {
		s := make([]int8, len(v))
		for i, b := range v {
			s[i] = int8(b)
		}
		return ops.FromSlice(shape, s)
	}
	return ops.FromSlice(shape, v)
}

func scalar8(dt ops.DType, v int) *ops.Tensor {
	if dt == ops.Int8 {
		return ops.Scalar(int8(v))
	}
	return ops.Scalar(uint8(v))
}

// TestQLinearOpsMatchORT runs each com.microsoft elementwise and pooling operator in ONNX Runtime and in
// onnxrun on the same random data and wants every element equal: it settled the semantics the contrib
// docs leave open (where the zero point is added relative to the rounding, the averaging pools' order of
// operations, softmax, channels_last).
func TestQLinearOpsMatchORT(t *testing.T) {
	initORT(t)
	rng := rand.New(rand.NewSource(1))
	f := func(v float32) qInput { return constant(ops.Scalar(v)) }
	var cases []qlinearCase
	for _, dt := range []ops.DType{ops.Uint8, ops.Int8} {
		zp := func(v int) qInput { return constant(scalar8(dt, v)) }
		z1, z2, z3 := 3, -5, 7
		if dt == ops.Uint8 {
			z1, z2, z3 = 128, 120, 131
		}
		x4 := randBytes(rng, dt, 2, 3, 9, 7)
		cases = append(cases,
			qlinearCase{name: "add" + dt.String(), op: "QLinearAdd", inputs: []qInput{graphInput(x4), f(0.05), zp(z1),
				graphInput(randBytes(rng, dt, 1, 3, 1, 1)), f(0.02), zp(z2), f(0.04), zp(z3)}},
			qlinearCase{name: "addsame" + dt.String(), op: "QLinearAdd", inputs: []qInput{graphInput(x4), f(0.05), zp(z1),
				graphInput(randBytes(rng, dt, 2, 3, 9, 7)), f(0.02), zp(z2), f(0.04), zp(z3)}},
			qlinearCase{name: "mul" + dt.String(), op: "QLinearMul", inputs: []qInput{graphInput(randBytes(rng, dt, 5, 17)), f(0.05), zp(z1),
				graphInput(randBytes(rng, dt, 17)), f(0.02), zp(z2), f(0.3), zp(z3)}},
			qlinearCase{name: "sigmoid" + dt.String(), op: "QLinearSigmoid", inputs: []qInput{graphInput(x4), f(0.07), zp(z1), f(1.0 / 256), zp(z2)}},
			qlinearCase{name: "leakyrelu" + dt.String(), op: "QLinearLeakyRelu", attrs: []*onnxpb.AttributeProto{floatAttr("alpha", 0.1)},
				inputs: []qInput{graphInput(x4), f(0.07), zp(z1), f(0.05), zp(z2)}},
			qlinearCase{name: "concat" + dt.String(), op: "QLinearConcat", attrs: []*onnxpb.AttributeProto{intAttr("axis", 1)},
				inputs: []qInput{f(0.05), zp(z3), graphInput(x4), f(0.05), zp(z3), graphInput(randBytes(rng, dt, 2, 5, 9, 7)), f(0.11), zp(z2)}},
			qlinearCase{name: "gap" + dt.String(), op: "QLinearGlobalAveragePool", attrs: []*onnxpb.AttributeProto{intAttr("channels_last", 0)},
				inputs: []qInput{graphInput(x4), f(0.05), zp(z1), f(0.03), zp(z2)}},
			qlinearCase{name: "gapnhwc" + dt.String(), op: "QLinearGlobalAveragePool", attrs: []*onnxpb.AttributeProto{intAttr("channels_last", 1)},
				inputs: []qInput{graphInput(x4), f(0.05), zp(z1), f(0.03), zp(z2)}},
			qlinearCase{name: "softmax13" + dt.String(), op: "QLinearSoftmax", attrs: []*onnxpb.AttributeProto{intAttr("opset", 13), intAttr("axis", -1)},
				inputs: []qInput{graphInput(x4), f(0.08), zp(z1), f(1.0 / 256), zp(map[ops.DType]int{ops.Uint8: 0, ops.Int8: -128}[dt])}},
			qlinearCase{name: "softmax12" + dt.String(), op: "QLinearSoftmax", attrs: []*onnxpb.AttributeProto{intAttr("opset", 12), intAttr("axis", 2)},
				inputs: []qInput{graphInput(x4), f(0.08), zp(z1), f(1.0 / 256), zp(map[ops.DType]int{ops.Uint8: 0, ops.Int8: -128}[dt])}},
		)
		for _, cl := range []int64{0, 1} {
			for _, cip := range []int64{0, 1} {
				cases = append(cases, qlinearCase{name: fmt.Sprintf("avgpool%s_cl%d_cip%d", dt, cl, cip), op: "QLinearAveragePool",
					attrs: []*onnxpb.AttributeProto{intAttr("channels_last", cl), intAttr("count_include_pad", cip), intsAttr("kernel_shape", 3, 2),
						intsAttr("strides", 2, 2), intsAttr("pads", 1, 0, 1, 1)},
					inputs: []qInput{graphInput(x4), f(0.05), zp(z1), f(0.03), zp(z2)}})
			}
		}
		big := randBytes(rng, dt, 4, 16, 9, 7) // enough windows to meet ties, where the rounding order shows
		for _, cip := range []int64{0, 1} {
			cases = append(cases, qlinearCase{name: fmt.Sprintf("avgpoolbig%s_cip%d", dt, cip), op: "QLinearAveragePool",
				attrs:  []*onnxpb.AttributeProto{intAttr("count_include_pad", cip), intsAttr("kernel_shape", 3, 2), intsAttr("strides", 2, 2), intsAttr("pads", 1, 0, 1, 1)},
				inputs: []qInput{graphInput(big), f(0.05), zp(z1), f(0.03), zp(z2)}})
		}
		cases = append(cases, qlinearCase{name: "gapbig" + dt.String(), op: "QLinearGlobalAveragePool",
			inputs: []qInput{graphInput(big), f(0.05), zp(z1), f(0.03), zp(z2)}})
		// Every pair of bytes, with the scales and zero points of MobileNetV2's first residual QLinearAdd
		// (make quant-models), whose sums come within float32 rounding of a tie for some pairs: there the
		// order of ONNX Runtime's multiply-adds decides the byte. The pairs run along one contiguous span,
		// and broadcast with either input constant along the span (ONNX Runtime's scalar-input loops).
		pairsA, pairsB := allBytePairs(dt)
		rowsA, colsB := bytesRange(dt, 256, 1), bytesRange(dt, 1, 256)
		mobilenetAdd := func(a, b *ops.Tensor) []qInput {
			za, zb, zc := 131, 128, 123
			if dt == ops.Int8 {
				za, zb, zc = 3, 0, -5
			}
			return []qInput{graphInput(a), f(0.04344618), zp(za), graphInput(b), f(0.041741185), zp(zb), f(0.0524576), zp(zc)}
		}
		cases = append(cases,
			qlinearCase{name: "addties" + dt.String(), op: "QLinearAdd", inputs: mobilenetAdd(pairsA, pairsB)},
			qlinearCase{name: "addtiesrowsA" + dt.String(), op: "QLinearAdd", inputs: mobilenetAdd(rowsA, colsB)},
			qlinearCase{name: "addtiesrowsB" + dt.String(), op: "QLinearAdd", inputs: mobilenetAdd(colsB, rowsA)})
		cases = append(cases, qlinearCase{name: "avgpoolceil" + dt.String(), op: "QLinearAveragePool",
			attrs:  []*onnxpb.AttributeProto{intsAttr("kernel_shape", 2, 2), intsAttr("strides", 2, 2), intAttr("ceil_mode", 1)},
			inputs: []qInput{graphInput(x4), f(0.05), zp(z1), f(0.03), zp(z2)}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dt := c.inputs[0].data.DType()
			if c.op == "QLinearConcat" {
				dt = c.inputs[2].data.DType()
			}
			path := c.save(t, dt)
			var ortIn []ort.Value
			var ourIn []*ops.Tensor
			for _, in := range c.inputs {
				if !in.const_ {
					ortIn = append(ortIn, ortTensor(t, in.data))
					ourIn = append(ourIn, in.data)
				}
			}
			outs := runORT(t, path, ortIn)
			want := ortQ8(t, outs[0])
			got := runOnnxrun(t, path, ourIn...)[0].AsFloat64s()
			if len(got) != len(want) {
				t.Fatalf("%d elements, ONNX Runtime gives %d", len(got), len(want))
			}
			differ, worst := 0, 0.0
			for i := range got {
				if d := got[i] - want[i]; d != 0 {
					differ++
					worst = max(worst, max(d, -d))
				}
			}
			if differ > 0 {
				t.Errorf("%d of %d elements differ from ONNX Runtime's, by up to %v steps", differ, len(got), worst)
			}
		})
	}
}
