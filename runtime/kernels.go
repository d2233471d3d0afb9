package runtime

// Importing the kernel packages registers every operator (their init functions call ops.Register).
import (
	_ "github.com/onnxrun/onnxrun/ops/elementwise"
	_ "github.com/onnxrun/onnxrun/ops/vision"
	_ "github.com/onnxrun/onnxrun/ops/linalg"
	_ "github.com/onnxrun/onnxrun/ops/nn"
	_ "github.com/onnxrun/onnxrun/ops/quant"
	_ "github.com/onnxrun/onnxrun/ops/reduce"
	_ "github.com/onnxrun/onnxrun/ops/array"
)
