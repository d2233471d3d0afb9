// Package onnxgo runs code written for onnx-go (github.com/owulveryck/onnx-go) on onnxrun's kernels. Its
// Graph is an onnx-go backend: onnx-go's decoder builds the model into it, and Run compiles and runs it
// with onnxrun's runtime.
//
//	backend := onnxgo.NewGraph()         // instead of gorgonnx.NewGraph()
//	model := onnx.NewModel(backend)
//	if err := model.UnmarshalBinary(b); err != nil { ... }
//	model.SetInput(0, input)             // a gorgonia.org/tensor Tensor
//	if err := backend.Run(); err != nil { ... }
//	outputs, _ := model.GetOutputTensors()
//
// # How it works
//
// onnx-go decodes a model into a backend through two interfaces: a gonum graph builder (NewNode,
// AddNode, NewWeightedEdge, SetWeightedEdge), in which every value is a node and an edge goes from an
// operation's output to each of its inputs, weighted by the input's position; and
// OperationCarrier.ApplyOperation, which names the operation and its attributes. Graph records both.
// At the first Run it writes the recorded operations back into an ONNX model, with the nodes the caller
// set after decoding (Model.SetInput) as its inputs and the other tensors (the initializers) as
// initializers, and compiles it with runtime.Compile; later Runs reuse the plan while the inputs keep
// their dtypes and shapes. Outputs are copied into new Gorgonia dense tensors on their nodes, where
// Model.GetOutputTensors reads them.
//
// # Differences from gorgonnx
//
// onnx-go does not hand its backend the model's opset_import, so Graph infers the opset from the forms
// the operators take (Graph.Opset overrides it). An input whose dtype differs from the model's
// declaration is converted when its values fit exactly (onnx-go's generated tests feed float32 to int64
// inputs). Operators onnxrun lacks are reported as onnx-go's *ErrNotImplemented, at decode time when
// onnxrun has no kernel for them at all.
//
// # Tests
//
// The package runs the 348 operator tests onnx-go ships for backends (backend/testbackend/onnx): 340
// pass, listed in testdata/expected_pass.txt, and most of those also under onnx-go's own harness; the
// other 8 use operators onnxrun has no kernel for (TfIdfVectorizer, and Scan, which onnx-go itself cannot
// decode). The reference models of ../shared/models
// decode with onnx-go and give ONNX Runtime's outputs.
//
// # Dependencies
//
// The package imports onnx-go, Gorgonia's tensor package and gonum's graph interfaces, which onnx-go's
// API is made of. Nothing else in onnxrun imports this package, so none of them is linked into the
// onnxrun command or a program that uses only the runtime.
package onnxgo
