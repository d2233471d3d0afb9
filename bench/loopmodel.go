package bench

import (
	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// LoopModel is the control-flow benchmark of issue 14: a Loop of the given number of iterations (trip
// count M constant, cond constant true) whose body computes x = (x + x) * 0.5 on a carried float32[16],
// so each iteration is two tiny element-wise kernels and what is measured is the cost of iterating: input
// x, output y (equal to x).
func LoopModel(iterations int64) (*onnx.Model, error) {
	const f32 = onnxpb.TensorProto_FLOAT
	b := exporter.NewGraph("loop_bench")
	x := b.Input("x", f32, 16)
	body := exporter.NewGraph("body")
	body.Input("i", onnxpb.TensorProto_INT64)
	c := body.Input("c", onnxpb.TensorProto_BOOL)
	xb := body.Input("xb", f32, 16)
	half := body.Initializer("half", &onnx.Array{DataType: f32, Dims: []int64{1}, Data: []float32{0.5}})
	body.NodeNamed("keep_going", "Identity", "", []string{c}, []string{"c_out"}, nil)
	body.NodeNamed("add", "Add", "", []string{xb, xb}, []string{"sum"}, nil)
	body.NodeNamed("mul", "Mul", "", []string{"sum", half}, []string{"x_out"}, nil)
	body.Output("c_out", onnxpb.TensorProto_BOOL)
	body.Output("x_out", f32, 16)
	m := b.Initializer("M", &onnx.Array{DataType: onnxpb.TensorProto_INT64, Dims: []int64{}, Data: []int64{iterations}})
	cond := b.Initializer("cond", &onnx.Array{DataType: onnxpb.TensorProto_BOOL, Dims: []int64{}, Data: []bool{true}})
	b.NodeNamed("loop", "Loop", "", []string{m, cond, x}, []string{"y"}, exporter.Attrs{"body": body})
	b.Output("y", f32, 16)
	return b.Model(exporter.ModelOptions{Opset: 16})
}
