// Package conformance runs folders of ONNX backend tests (model.onnx plus test_data_set_N/{input,output}_K.pb,
// the layout of ONNX's node tests and of ONNX Runtime's onnx_test_runner) through the runtime and compares
// the outputs with the reference tensors, by ONNX's tolerances unless an override says otherwise.
//
// # Sources
//
// The node tests of ONNX 1.23 in ../shared/onnx-node-tests, the real models of ../shared/models (npy inputs and
// ONNX Runtime outputs), and onnx-go's embedded test cases. expected_pass.txt lists the cases that must pass:
// CI fails when one of them stops passing, and reports cases that pass without being listed so the list grows.
package conformance
