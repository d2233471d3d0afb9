// Package conformance runs folders of ONNX backend tests through the runtime and compares the outputs
// with reference tensors, as ONNX's backend test runner does: ONNX's tolerance by default (|got - want| <=
// 1e-7 + 1e-3*|want|; integers, bools and strings exact; NaN equal to NaN), exactly as many outputs as
// the reference has, and every data set with reference outputs; with the per-case exceptions of
// overrides.txt, each with its reason. (ONNX Runtime's onnx_test_runner is looser: DefaultTolerance says
// how.)
//
// # Sources
//
//   - ONNX 1.23's node tests, ../shared/onnx-node-tests: one folder per case, model.onnx and
//     test_data_set_N/{input_K,output_K}.pb (Kind NodeTest).
//   - onnx-go's node tests, embedded in its Go source: conformance/onnxgocases runs them with no data on
//     disk, and can export them to the same layout (make onnxgo-cases writes .cache/onnx-go).
//   - Whole models with ONNX Runtime's outputs: ../shared/models, and torchvision's ImageNet CNNs that
//     scripts/export_torchvision.py writes to .cache/torchvision (make torchvision-models); model.onnx,
//     input_K.npy, expected_K.npy (Kind ModelDir), compared within 1e-4 + 1e-4*|want|. Models whose
//     spatial size is symbolic (scripts/export_symbolic_size.py, make symbolic-size-models, .cache/symbolic)
//     hold their other input sizes as more data sets in data_set_<label>/, run by the same compiled plan.
//
// # Layout
//
// runner.go finds cases (Discover), runs them (Run, RunAll, Check) and holds Result; compare.go is the
// element-wise comparison that names the worst element; tolerance.go reads overrides.txt; families.go
// sorts cases into the CNN and common-math core set and the families left (control flow, RNNs,
// quantization, ...) with what each would take; report.go tallies results by suite, operator and family
// and writes the text summary of `onnxrun conformance` and CONFORMANCE.md; expected.go reads and writes
// expected-pass lists and compares a run with one.
//
// # Expected-pass lists
//
// expected_pass.txt lists the node tests that pass (onnxgocases/expected_pass.txt, onnx-go's). The tests of
// this package fail when a listed case stops passing, skip the others with their reason, and log the cases
// that pass without being listed; `make expected-pass` regenerates both lists, and
// `onnxrun conformance --expected FILE` checks a run against one. Every ONNX node test is either in
// expected_pass.txt or explained by a "known" or "fails" line of overrides.txt, never both
// (TestEveryNodeTestIsAccounted): a case leaves the list only with a reason.
package conformance
