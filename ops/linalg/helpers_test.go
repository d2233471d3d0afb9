package linalg

import (
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// opCase is one operator invocation and what it must give: outputs (compared with ONNX's tolerance, exactly
// for integers), or an error whose message contains errSub and that wraps errIs when set.
type opCase struct {
	name   string
	op     string
	opset  int
	attrs  ops.AttrMap
	inputs []*ops.Tensor
	want   []*ops.Tensor
	errSub string
	errIs  error
	// nonConst lists inputs hidden from InferShapes and Prepare as runtime values (no prepacking).
	nonConst []int
}

func runCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opstest.Check(t, opstest.Node{OpType: c.op, Opset: c.opset, Attrs: c.attrs, Inputs: c.inputs,
				NonConstInputs: c.nonConst}, c.want, c.errSub, c.errIs)
		})
	}
}

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
