package cnn

// Dropout: https://onnx.ai/onnx/operators/onnx__Dropout.html, opsets 1, 6, 7, 10, 12, 13 and 22.

import (
	"math/rand/v2"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/mt19937"
)

func init() {
	ops.Register("", "Dropout",
		// opset 1: is_test, ratio, consumed_inputs; the mask has X's type.
		ops.Since(1, buildDropout(1)),
		// opset 6: consumed_inputs removed.
		ops.Since(6, buildDropout(6)),
		// opset 7: is_test removed (Dropout is an inference op).
		ops.Since(7, buildDropout(7)),
		// opset 10: the mask becomes bool.
		ops.Since(10, buildDropout(10)),
		// opset 12: ratio and training_mode become inputs; the seed attribute; training really drops.
		ops.Since(12, buildDropout(12)),
		// opset 13: bfloat16.
		ops.Since(13, buildDropout(13)),
		// opset 22: float8 types (not held by onnxrun).
		ops.Since(22, buildDropout(22)),
	)
}

type dropoutOp struct {
	opset    int
	hasSeed  bool
	seed     uint32
	mayTrain bool // the node has a training_mode input (opset >= 12), so outputs may be random
	withMask bool
}

func buildDropout(opset int) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		op := &dropoutOp{opset: opset, withMask: n.NumOutputs > 1}
		if opset >= 12 {
			op.hasSeed = r.Has("seed")
			op.seed = uint32(r.Int("seed", 0))
			op.mayTrain = n.NumInputs > 2 && (len(n.InputPresent) <= 2 || n.InputPresent[2])
		}
		// ratio (an attribute before opset 12) and is_test only matter in training, which the old versions
		// never run in an inference engine: ONNX Runtime treats them as the identity too.
		_ = r.Float("ratio", 0.5)
		if err := r.Err(); err != nil {
			return nil, err
		}
		if n.NumOutputs > 2 {
			return nil, ops.Invalidf("Dropout has at most 2 outputs (output, mask), the node declares %d", n.NumOutputs)
		}
		maxIn := 1
		if opset >= 12 {
			maxIn = 3
		}
		if n.NumInputs > maxIn {
			return nil, ops.Invalidf("Dropout opset %d has at most %d inputs, the node has %d", opset, maxIn, n.NumInputs)
		}
		return op, nil
	}
}

// Nondeterministic reports whether outputs may be random: only when the node can be told to train.
func (op *dropoutOp) Nondeterministic() bool { return op.mayTrain }

// AliasOf says the output is the input itself whenever the node cannot train.
func (op *dropoutOp) AliasOf(output int) (int, bool) { return 0, output == 0 && !op.mayTrain }

func (op *dropoutOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if len(in) == 0 || !in[0].Present() {
		return nil, ops.Invalidf("input data is required but missing")
	}
	x := in[0]
	if err := kernelutil.CheckFloat("data", x.DType); err != nil {
		return nil, err
	}
	if r := ops.Input(in, 1); r.Present() {
		if err := kernelutil.CheckFloat("ratio", r.DType); err != nil {
			return nil, err
		}
		if r.Shape.Size() != 1 {
			return nil, ops.Invalidf("ratio has shape %v, want a scalar", r.Shape)
		}
		if r.Const != nil && op.mayTrain {
			if v := kernelutil.ValueAt(r.Const, 0); !(v >= 0 && v < 1) {
				return nil, ops.Invalidf("ratio is %g, want a value in [0, 1)", v)
			}
		}
	}
	if t := ops.Input(in, 2); t.Present() {
		if t.DType != ops.Bool || t.Shape.Size() != 1 {
			return nil, ops.Invalidf("training_mode is %s%v, want a bool scalar", t.DType, t.Shape)
		}
	}
	maskType := ops.Bool
	if op.opset < 10 {
		maskType = x.DType
	}
	return []ops.ValueInfo{{DType: x.DType, Shape: x.Shape}, {DType: maskType, Shape: x.Shape}}, nil
}

func (op *dropoutOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	return &dropoutKernel{op: op, withMask: len(out) > 1}, nil
}

type dropoutKernel struct {
	op       *dropoutOp
	withMask bool
}

func (k *dropoutKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	x, y := in[0], out[0]
	var mask *ops.Tensor
	if k.withMask {
		mask = out[1]
	}
	training, ratio := false, 0.5
	if t := ops.TensorAt(in, 2); t != nil {
		training = t.Bools()[0]
	}
	if r := ops.TensorAt(in, 1); r != nil {
		ratio = kernelutil.ValueAt(r, 0)
	}
	if !training || ratio == 0 {
		// Inference: the identity, and a mask of ones (copy is a no-op when the runtime aliased y to x).
		ops.CopyData(y, x)
		if mask != nil {
			fillOnes(mask)
		}
		return nil
	}
	if !(ratio >= 0 && ratio < 1) {
		return ops.Invalidf("Dropout ratio is %g, want a value in [0, 1)", ratio)
	}
	var rng mt19937.Generator
	if k.op.hasSeed {
		rng.Seed(k.op.seed)
	} else {
		rng.Seed(rand.Uint32())
	}
	var keep []bool
	if mask != nil {
		keep = mask.Bools()
	}
	switch xd := x.Data().(type) {
	case []float32:
		dropout(&rng, xd, y.Float32s(), keep, ratio)
	case []float64:
		dropout(&rng, xd, y.Float64s(), keep, ratio)
	default: // float16, bfloat16: one element at a time through float64
		scale := 1 / (1 - ratio)
		for i := 0; i < x.Len(); i++ {
			kept := rng.Float64() >= ratio
			v := 0.0
			if kept {
				v = kernelutil.ValueAt(x, i) * scale
			}
			kernelutil.SetValue(y, i, v)
			if keep != nil {
				keep[i] = kept
			}
		}
	}
	return nil
}

// dropout keeps each element when a uniform draw u in [0, 1) has u >= ratio, scaling kept values by
// 1/(1-ratio) and zeroing the others, and records the decisions in keep when asked. The draws are numpy's
// np.random.uniform(0, 1, shape) in row-major order, as ONNX's reference implementation makes them.
func dropout[T ops.Float](rng *mt19937.Generator, x, y []T, keep []bool, ratio float64) {
	scale := T(1 / (1 - ratio))
	for i, v := range x {
		kept := rng.Float64() >= ratio
		if kept {
			y[i] = v * scale
		} else {
			y[i] = 0
		}
		if keep != nil {
			keep[i] = kept
		}
	}
}

// fillOnes sets a mask to all true (bool) or all 1 (the float masks of opsets before 10).
func fillOnes(t *ops.Tensor) {
	switch d := t.Data().(type) {
	case []bool:
		for i := range d {
			d[i] = true
		}
	default:
		for i := 0; i < t.Len(); i++ {
			kernelutil.SetValue(t, i, 1)
		}
	}
}
