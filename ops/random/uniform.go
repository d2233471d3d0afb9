package random

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/mt19937"
)

// RandomUniformLike fills a tensor shaped like its input with uniforms in [low, high):
// https://onnx.ai/onnx/operators/onnx__RandomUniformLike.html. Opsets 1 and 22. The reference loop, with
// u[i] the generator's uniforms in [0, 1) in row-major order:
//
//	output[i] = low + (high-low)*u[i]   // in float64, then rounded to the output dtype (which may round up to high)
//
// Only the input's shape (and, without a dtype attribute, its dtype) is read, so its dtype may be any.
func init() {
	ops.Register("", "RandomUniformLike",
		// opset 1: float16, float and double outputs.
		ops.Since(1, buildRandomUniformLike(uniformOutputs1)),
		// opset 22: bfloat16 outputs.
		ops.Since(22, buildRandomUniformLike(uniformOutputs1.With(ops.BFloat16))),
	)
}

var uniformOutputs1 = ops.DTypes(ops.Float16, ops.Float32, ops.Float64)

type uniformLikeOp struct {
	opset     int
	outputs   ops.DTypeSet
	dtype     ops.DType // Undefined: the input's dtype
	low, high float64
	seed      seedAttr
}

func buildRandomUniformLike(outputs ops.DTypeSet) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		op := &uniformLikeOp{opset: n.Opset, outputs: outputs, low: float64(r.Float("low", 0)), high: float64(r.Float("high", 1))}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if math.IsNaN(op.low) || math.IsNaN(op.high) || math.IsInf(op.high-op.low, 0) || op.low > op.high {
			return nil, &ops.AttrError{Name: "low", Msg: fmt.Sprintf("is %g with high %g, want finite low <= high", op.low, op.high)}
		}
		var err error
		if op.dtype, err = outputDType(r, "RandomUniformLike", n.Opset, outputs); err != nil {
			return nil, err
		}
		if op.seed, err = readSeed(r); err != nil {
			return nil, err
		}
		return op, nil
	}
}

// Nondeterministic keeps constant folding away from the draws.
func (op *uniformLikeOp) Nondeterministic() bool { return true }

func (op *uniformLikeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	dt := op.dtype
	if dt == ops.Undefined {
		if err := op.outputs.Check("RandomUniformLike", op.opset, "input (without a dtype attribute, the output's dtype)", in[0].DType); err != nil {
			return nil, err
		}
		dt = in[0].DType
	}
	return []ops.ValueInfo{{DType: dt, Shape: in[0].Shape.Clone()}}, nil
}

func (op *uniformLikeOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	return op, nil
}

// Run makes uniformLikeOp its own kernel: it holds only attributes.
func (op *uniformLikeOp) Run(_ *ops.ExecContext, _, out []*ops.Tensor) error {
	var g mt19937.Generator
	op.seed.start(&g)
	y := out[0]
	width := op.high - op.low
	switch d := y.Data().(type) {
	case []float64:
		for i := range d {
			d[i] = op.low + width*g.Float64()
		}
	default:
		for i := 0; i < y.Len(); i++ {
			kernelutil.SetValue(y, i, op.low+width*g.Float64())
		}
	}
	return nil
}
