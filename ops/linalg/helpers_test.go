package linalg

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// opCase and runCases are opstest's table rows and runner, shared with the other kernel packages.
type opCase = opstest.Case

var runCases = opstest.RunCases

// pattern and tensor are opstest's Pattern and FromFloat64s under the short names the tables use.
var (
	pattern = opstest.Pattern
	tensor  = opstest.FromFloat64s
)

// pat is a tensor of dtype dt and the given shape filled with pattern values.
func pat(dt ops.DType, shape ...int) *ops.Tensor {
	return tensor(dt, shape, pattern(ops.Shape(shape).Size()))
}

func f32(shape ops.Shape, v ...float64) *ops.Tensor { return tensor(ops.Float32, shape, v) }

func sh(d ...int) ops.Shape { return ops.Shape(d) }

var nan = math.NaN()
