package onnxgo_test

import (
	"fmt"
	"log"

	onnx "github.com/owulveryck/onnx-go"
	"gorgonia.org/tensor"

	"github.com/onnxrun/onnxrun/exporter"
	onnxrun "github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/onnxgo"
)

// A model written by any exporter, decoded and run through onnx-go's API on onnxrun's kernels.
func Example() {
	// y = Relu(x · W), W = [[1, -1], [2, 1]]
	b := exporter.NewGraph("dense")
	x := b.Input("x", onnxpb.TensorProto_FLOAT, "N", 2)
	w := b.Initializer("W", &onnxrun.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: []int64{2, 2}, Data: []float32{1, -1, 2, 1}})
	y := b.Node("Relu", []string{b.Node("MatMul", []string{x, w}, nil)}, nil)
	b.Output(y, onnxpb.TensorProto_FLOAT, "N", 2)
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		log.Fatal(err)
	}
	raw, err := m.Encode() // what ioutil.ReadFile("model.onnx") would give
	if err != nil {
		log.Fatal(err)
	}

	backend := onnxgo.NewGraph()
	model := onnx.NewModel(backend)
	if err := model.UnmarshalBinary(raw); err != nil {
		log.Fatal(err)
	}
	model.SetInput(0, tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float32{3, 1})))
	if err := backend.Run(); err != nil {
		log.Fatal(err)
	}
	outputs, _ := model.GetOutputTensors()
	fmt.Println(outputs[0].Shape(), outputs[0].Data())
	// Output: (1, 2) [5 0]
}
