package random

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/mt19937"
)

// Bernoulli draws 1 with probability p and 0 otherwise, for each probability p of its input:
// https://onnx.ai/onnx/operators/onnx__Bernoulli.html. Opsets 15 and 22. The reference loop, with u[i] the
// generator's uniforms in [0, 1) in row-major order:
//
//	output[i] = 1 if u[i] < input[i] else 0   // in the output dtype; p <= 0 (or NaN) never, p >= 1 always
func init() {
	ops.Register("", "Bernoulli",
		// opset 15: float16, float and double probabilities.
		ops.Since(15, buildBernoulli(bernoulliInputs15)),
		// opset 22: bfloat16 probabilities.
		ops.Since(22, buildBernoulli(bernoulliInputs15.With(ops.BFloat16))),
	)
}

var (
	bernoulliInputs15 = ops.DTypes(ops.Float16, ops.Float32, ops.Float64)
	// The output may be any numeric type or bool, in both opsets (bfloat16 included since 15).
	bernoulliOutputs = ops.DTypes(ops.Float16, ops.Float32, ops.Float64, ops.BFloat16, ops.Uint8, ops.Uint16, ops.Uint32,
		ops.Uint64, ops.Int8, ops.Int16, ops.Int32, ops.Int64, ops.Bool)
)

type bernoulliOp struct {
	opset  int
	inputs ops.DTypeSet
	dtype  ops.DType // Undefined: the input's dtype
	seed   seedAttr
}

func buildBernoulli(inputs ops.DTypeSet) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		op := &bernoulliOp{opset: n.Opset, inputs: inputs}
		var err error
		if op.dtype, err = outputDType(r, "Bernoulli", n.Opset, bernoulliOutputs); err != nil {
			return nil, err
		}
		if op.seed, err = readSeed(r); err != nil {
			return nil, err
		}
		return op, nil
	}
}

// Nondeterministic keeps constant folding away from the draws.
func (op *bernoulliOp) Nondeterministic() bool { return true }

func (op *bernoulliOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if err := op.inputs.Check("Bernoulli", op.opset, "input", in[0].DType); err != nil {
		return nil, err
	}
	dt := op.dtype
	if dt == ops.Undefined {
		dt = in[0].DType
	}
	return []ops.ValueInfo{{DType: dt, Shape: in[0].Shape.Clone()}}, nil
}

func (op *bernoulliOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	return bernoulliKernel{seed: op.seed}, nil
}

type bernoulliKernel struct{ seed seedAttr }

func (k bernoulliKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	var g mt19937.Generator
	k.seed.start(&g)
	p := in[0]
	switch y := out[0].Data().(type) {
	case []float32:
		draw(&g, p, y, 1)
	case []float64:
		draw(&g, p, y, 1)
	case []ops.Float16Bits:
		draw(&g, p, y, ops.Float16FromFloat32(1))
	case []ops.BFloat16Bits:
		draw(&g, p, y, ops.BFloat16FromFloat32(1))
	case []int8:
		draw(&g, p, y, 1)
	case []int16:
		draw(&g, p, y, 1)
	case []int32:
		draw(&g, p, y, 1)
	case []int64:
		draw(&g, p, y, 1)
	case []uint8:
		draw(&g, p, y, 1)
	case []uint16:
		draw(&g, p, y, 1)
	case []uint32:
		draw(&g, p, y, 1)
	case []uint64:
		draw(&g, p, y, 1)
	case []bool:
		draw(&g, p, y, true)
	default:
		return ops.Unsupportedf("Bernoulli output dtype %s", out[0].DType())
	}
	return nil
}

// draw sets y[i] to one where the next uniform falls below the probability p[i], else to T's zero.
func draw[T any](g *mt19937.Generator, p *ops.Tensor, y []T, one T) {
	var zero T
	for i := range y {
		if g.Float64() < kernelutil.ValueAt(p, i) {
			y[i] = one
		} else {
			y[i] = zero
		}
	}
}
