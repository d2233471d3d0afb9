package crosscheck

import (
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// The GEMM-shaped com.microsoft operators (QGemm, MatMulIntegerToFloat, DynamicQuantizeMatMul,
// MatMulNBits) in one-node models: the first input is a graph input, the others initializers (constant
// weights, as ONNX Runtime's quantizers write them), run in onnxrun and in ONNX Runtime.

// contribValue is one input of a one-node model; a nil data leaves the input out ("").
type contribValue struct {
	dims []int
	data any // []float32, []uint8, []int8 or []int32
}

func (v contribValue) tensor() *ops.Tensor {
	shape := ops.Shape(v.dims)
	switch d := v.data.(type) {
	case []float32:
		return ops.FromSlice(shape, d)
	case []uint8:
		return ops.FromSlice(shape, d)
	case []int8:
		return ops.FromSlice(shape, d)
	case []int32:
		return ops.FromSlice(shape, d)
	}
	panic(fmt.Sprintf("contribValue of %T", v.data))
}

func (v contribValue) ortTensor(t *testing.T) ort.Value {
	t.Helper()
	dims := make([]int64, len(v.dims))
	for i, d := range v.dims {
		dims[i] = int64(d)
	}
	var (
		val ort.Value
		err error
	)
	switch d := v.data.(type) {
	case []float32:
		val, err = ort.NewTensor(ort.NewShape(dims...), d)
	case []uint8:
		val, err = ort.NewTensor(ort.NewShape(dims...), d)
	case []int8:
		val, err = ort.NewTensor(ort.NewShape(dims...), d)
	default:
		t.Fatalf("graph input of %T", v.data)
	}
	if err != nil {
		t.Fatal(err)
	}
	return val
}

// contribModel writes a one-node com.microsoft model: inputs[0] is the graph input "x0", the present
// others initializers; the output "y" has type out.
func contribModel(t *testing.T, opType string, attrs []*onnxpb.AttributeProto, out onnxpb.TensorProto_DataType, inputs ...contribValue) string {
	t.Helper()
	g := &onnxpb.GraphProto{Name: proto.String(opType)}
	node := &onnxpb.NodeProto{OpType: proto.String(opType), Domain: proto.String(ops.MicrosoftDomain), Output: []string{"y"}, Attribute: attrs}
	for i, v := range inputs {
		if v.data == nil {
			node.Input = append(node.Input, "")
			continue
		}
		name := fmt.Sprintf("x%d", i)
		node.Input = append(node.Input, name)
		a := &onnx.Array{DataType: onnxpb.TensorProto_DataType(v.tensor().DType()), Data: v.data}
		for _, d := range v.dims {
			a.Dims = append(a.Dims, int64(d))
		}
		if i == 0 {
			g.Input = append(g.Input, &onnxpb.ValueInfoProto{Name: proto.String(name), Type: tensorTypeProto(a.DataType, a.Dims)})
			continue
		}
		tp, err := onnx.NewTensorProto(name, a)
		if err != nil {
			t.Fatal(err)
		}
		g.Initializer = append(g.Initializer, tp)
	}
	g.Node = []*onnxpb.NodeProto{node}
	g.Output = []*onnxpb.ValueInfoProto{{Name: proto.String("y"), Type: tensorTypeProto(out, nil)}}
	m := &onnx.Model{Proto: &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g, OpsetImport: []*onnxpb.OperatorSetIdProto{
		{Domain: proto.String(""), Version: proto.Int64(17)}, {Domain: proto.String(ops.MicrosoftDomain), Version: proto.Int64(1)}}}}
	path := filepath.Join(t.TempDir(), opType+".onnx")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func tensorTypeProto(dt onnxpb.TensorProto_DataType, dims []int64) *onnxpb.TypeProto {
	tt := &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt))}
	if dims != nil {
		tt.Shape = &onnxpb.TensorShapeProto{}
		for _, d := range dims {
			tt.Shape.Dim = append(tt.Shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
		}
	}
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: tt}}
}

// ortOutput runs the model in ONNX Runtime on its graph input and returns y as float64s.
func ortOutput(t *testing.T, path string, x contribValue) []float64 {
	t.Helper()
	in := x.ortTensor(t)
	defer in.Destroy()
	outs := runORT(t, path, []ort.Value{in})
	defer outs[0].Destroy()
	switch y := outs[0].(type) {
	case *ort.Tensor[float32]:
		return widen(y.GetData())
	case *ort.Tensor[uint8]:
		return widen(y.GetData())
	case *ort.Tensor[int8]:
		return widen(y.GetData())
	}
	t.Fatalf("ONNX Runtime output of type %T", outs[0])
	return nil
}

func widen[T float32 | uint8 | int8](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func randU8(r *rand.Rand, n int) []uint8 {
	v := make([]uint8, n)
	r.Read(v)
	return v
}

func randS8(r *rand.Rand, n int) []int8 {
	v := make([]int8, n)
	for i := range v {
		v[i] = int8(r.Intn(256) - 128)
	}
	return v
}

func randF32(r *rand.Rand, n int, lo, hi float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = lo + r.Float32()*(hi-lo)
	}
	return v
}

// compareContrib checks onnxrun's output against ONNX Runtime's: within maxSteps of each other for an
// 8-bit output (counting the elements that differ), within rtol/atol for a float one.
func compareContrib(t *testing.T, path string, inputs []contribValue, quantized bool, rtol, atol float64) {
	t.Helper()
	want := ortOutput(t, path, inputs[0])
	got := runOnnxrun(t, path, inputs[0].tensor())[0].AsFloat64s()
	if len(got) != len(want) {
		t.Fatalf("onnxrun gave %d values, ONNX Runtime %d", len(got), len(want))
	}
	differ := 0
	for i := range got {
		d := math.Abs(got[i] - want[i])
		if quantized {
			if d != 0 {
				differ++
			}
			if d > 1 {
				t.Fatalf("element %d: onnxrun %v, ONNX Runtime %v: more than one quantization step apart", i, got[i], want[i])
			}
			continue
		}
		if d > atol+rtol*math.Abs(want[i]) {
			t.Fatalf("element %d: onnxrun %v, ONNX Runtime %v", i, got[i], want[i])
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d quantized outputs differ by one step from ONNX Runtime's", differ, len(got))
	}
}

func TestQGemmMatchesORT(t *testing.T) {
	initORT(t)
	r := rand.New(rand.NewSource(1))
	const m, k, n = 5, 37, 19
	for _, c := range []struct {
		name      string
		quantized bool
		perCol    bool
		bSigned   bool
	}{
		{"u8xs8 per-column to u8", true, true, true},
		{"u8xs8 per-column to float", false, true, true},
		{"u8xu8 per-tensor to u8", true, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			nb := 1
			if c.perCol {
				nb = n
			}
			var b, bzp any = randS8(r, n*k), make([]int8, nb)
			if !c.bSigned {
				b, bzp = randU8(r, n*k), randU8(r, nb)
			}
			inputs := []contribValue{
				{[]int{m, k}, randU8(r, m*k)}, {nil, []float32{0.02}}, {nil, []uint8{131}},
				{[]int{n, k}, b}, {[]int{nb}, randF32(r, nb, 0.001, 0.01)}, {[]int{nb}, bzp},
				{[]int{n}, randS32(r, n, 5000)},
			}
			out := onnxpb.TensorProto_FLOAT
			if c.quantized {
				inputs = append(inputs, contribValue{nil, []float32{0.15}}, contribValue{nil, []uint8{120}})
				out = onnxpb.TensorProto_UINT8
			}
			attrs := []*onnxpb.AttributeProto{intAttr("transB", 1), floatAttr("alpha", 0.8)}
			path := contribModel(t, "QGemm", attrs, out, inputs...)
			compareContrib(t, path, inputs, c.quantized, 1e-5, 1e-5)
		})
	}
}

func randS32(r *rand.Rand, n, bound int) []int32 {
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(r.Intn(2*bound+1) - bound)
	}
	return v
}

func TestMatMulIntegerToFloatMatchesORT(t *testing.T) {
	initORT(t)
	r := rand.New(rand.NewSource(2))
	const k, n = 37, 19
	inputs := []contribValue{
		{[]int{2, 3, k}, randU8(r, 6*k)}, {[]int{k, n}, randS8(r, k*n)},
		{nil, []float32{0.03}}, {[]int{n}, randF32(r, n, 0.001, 0.01)},
		{nil, []uint8{127}}, {[]int{n}, randS8(r, n)}, {[]int{n}, randF32(r, n, -1, 1)},
	}
	path := contribModel(t, "MatMulIntegerToFloat", nil, onnxpb.TensorProto_FLOAT, inputs...)
	compareContrib(t, path, inputs, false, 1e-5, 1e-5)
}

func TestDynamicQuantizeMatMulMatchesORT(t *testing.T) {
	initORT(t)
	r := rand.New(rand.NewSource(3))
	const k, n = 37, 19
	inputs := []contribValue{
		{[]int{4, k}, randF32(r, 4*k, -2, 3)}, {[]int{k, n}, randS8(r, k*n)},
		{[]int{n}, randF32(r, n, 0.001, 0.01)}, {[]int{n}, make([]int8, n)}, {[]int{n}, randF32(r, n, -1, 1)},
	}
	path := contribModel(t, "DynamicQuantizeMatMul", nil, onnxpb.TensorProto_FLOAT, inputs...)
	compareContrib(t, path, inputs, false, 1e-5, 1e-5)
}

func TestMatMulNBitsMatchesORT(t *testing.T) {
	initORT(t)
	r := rand.New(rand.NewSource(4))
	const k, n, blockSize = 70, 19, 32
	const kBlocks = (k + blockSize - 1) / blockSize
	for _, c := range []struct {
		name       string
		rows       int
		zeroPoints string
	}{
		{"one row, packed zero points", 1, "packed"},
		{"five rows, packed zero points", 5, "packed"},
		{"five rows, default zero point", 5, ""},
		{"one row, float zero points", 1, "float"},
	} {
		t.Run(c.name, func(t *testing.T) {
			inputs := []contribValue{
				{[]int{c.rows, k}, randF32(r, c.rows*k, -1, 1)},
				{[]int{n, kBlocks, blockSize / 2}, randU8(r, n*kBlocks*blockSize/2)},
				{[]int{n * kBlocks}, randF32(r, n*kBlocks, 0.01, 0.1)},
				{}, {}, {[]int{n}, randF32(r, n, -1, 1)},
			}
			switch c.zeroPoints {
			case "packed":
				inputs[3] = contribValue{[]int{n * ((kBlocks + 1) / 2)}, randU8(r, n*((kBlocks+1)/2))}
			case "float":
				inputs[3] = contribValue{[]int{n * kBlocks}, randF32(r, n*kBlocks, 0, 15)}
			}
			attrs := []*onnxpb.AttributeProto{intAttr("K", k), intAttr("N", n), intAttr("bits", 4), intAttr("block_size", blockSize)}
			path := contribModel(t, "MatMulNBits", attrs, onnxpb.TensorProto_FLOAT, inputs...)
			compareContrib(t, path, inputs, false, 1e-4, 1e-4)
		})
	}
}
