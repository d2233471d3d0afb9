// Package crosscheck runs models that onnxrun's trainer exports in ONNX Runtime and compares them with
// onnxrun's own results; maps_test.go does the same for the scikit-learn exports whose values are maps
// (ZipMap's seq(map) output, DictVectorizer's map input), which ONNX Runtime's Go binding passes as
// ort.Sequence and ort.Map. It is a separate module because ONNX Runtime is reached through cgo
// (github.com/yalue/onnxruntime_go) and the main module stays pure Go.
//
// # Running
//
// The test needs ONNX Runtime's shared library and MNIST, and skips with a message naming the missing
// piece otherwise:
//
//	make data                      # MNIST in data/mnist
//	scripts/setup-ort.sh           # libonnxruntime.so.1 in .cache/ort (from npm's onnxruntime-node)
//	cd crosscheck && go test ./...
//
// ONNXRUNTIME_LIB names the library when it lives elsewhere. The binding's C API version (ORT_API_VERSION
// 24 for onnxruntime_go v1.27.0) must not be newer than the library's: setup-ort.sh installs ONNX Runtime
// 1.30.0, which still serves that API version.
package crosscheck
