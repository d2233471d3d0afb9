package runtime

// Importing the kernel packages registers every operator (their init functions call ops.Register), but
// for the opt-in ones of OptInKernels.
import (
	_ "github.com/onnxrun/onnxrun/ops/array"
	_ "github.com/onnxrun/onnxrun/ops/attention"
	_ "github.com/onnxrun/onnxrun/ops/cnn"
	_ "github.com/onnxrun/onnxrun/ops/elementwise"
	_ "github.com/onnxrun/onnxrun/ops/linalg"
	_ "github.com/onnxrun/onnxrun/ops/ml"
	_ "github.com/onnxrun/onnxrun/ops/norm"
	_ "github.com/onnxrun/onnxrun/ops/quant"
	_ "github.com/onnxrun/onnxrun/ops/random"
	_ "github.com/onnxrun/onnxrun/ops/recurrent"
	_ "github.com/onnxrun/onnxrun/ops/reduce"
	_ "github.com/onnxrun/onnxrun/ops/sequence"
	_ "github.com/onnxrun/onnxrun/ops/signal"
	_ "github.com/onnxrun/onnxrun/ops/text"
	_ "github.com/onnxrun/onnxrun/ops/training"
	_ "github.com/onnxrun/onnxrun/ops/vision"
)
