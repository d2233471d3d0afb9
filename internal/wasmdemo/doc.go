// Package wasmdemo is the part of the WebAssembly demo (cmd/onnxrun-wasm, docs/wasm.md) that does not need a
// browser: it turns a digit drawn on a canvas into the input the shipped LeNet expects, classifies it, and
// times batch-1 runs. cmd/onnxrun-wasm binds it to JavaScript with syscall/js; keeping it here lets it be
// tested natively and keeps the js/wasm package to the bindings.
//
// # Preprocessing
//
// models/lenet/lenet.onnx was trained on MNIST: a white digit on black, pixels / 255, 28x28, the digit's
// box scaled to 20x20 and its centre of mass at the centre of the picture. DigitInput does the same to a
// canvas: it finds the ink, crops to it, pads the crop to a square whose middle is the ink's centre of
// mass and whose side is the box's longer side times 28/20, and resizes that to 28x28 with tensorio's
// resampling (PIL's antialiased bilinear filter, the one `onnxrun run` applies to a picture).
//
// # Timing
//
// A browser rounds performance.now() (Go's clock under js/wasm) to 0.1 ms or coarser, about the time of
// one LeNet run, so TimeRuns times rounds of several runs and reports the mean over all of them and the
// median of the rounds' means per run. The onnxruntime-web page (cmd/onnxrun-wasm/web/ort.html) times its
// runs the same way, so the two figures compare.
package wasmdemo
