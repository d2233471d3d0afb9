// Package onnxgocases runs the ONNX node tests that onnx-go (github.com/owulveryck/onnx-go, v0.5.0) embeds
// in Go, in its backend/testbackend/onnx package, through onnxrun. They need no data on disk, so they run
// on a fresh clone: each case carries its model as bytes and its inputs and expected outputs as gorgonia
// tensors, which the tests convert to ops tensors and check with the conformance package's tolerance.
//
// # Tests
//
// TestOnnxGoCases gives a verdict per case: those listed in expected_pass.txt must pass, the others skip
// with their reason, and cases that pass without being listed are logged (regenerate the list with
// make expected-pass). TestExportCases, given -export DIR, writes every case as a backend-test folder
// (model.onnx, test_data_set_0/{input,output}_K.pb) so that `onnxrun conformance DIR` reports on them
// like any other suite; make conformance does that into .cache/onnx-go.
//
// The package holds only tests, so onnx-go and gorgonia are compiled into no binary of onnxrun.
package onnxgocases
