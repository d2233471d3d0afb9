package training

// The training optimizers of the ai.onnx.preview.training domain, version 1: Adagrad
// (https://onnx.ai/onnx/operators/onnx_aionnxpreviewtraining_Adagrad.html), Adam and Momentum. Each takes
// the learning rate R and the update count T (scalars), then n tensors X, their gradients G and one or two
// state tensors per X, and returns the updated X followed by the updated states, element by element:
//
//	Adagrad:  g = norm·X + G;  H' = H + g²;  X' = X - R/(1 + T·decay) · g / (√H' + ε)
//	Adam:     g = norm·X + G;  V' = α·V + (1-α)·g;  H' = β·H + (1-β)·g²
//	          X' = (1 - norm_post)·(X - R'·V' / (√H' + ε)),  R' = R·√(1-β^T)/(1-α^T) when T > 0, else R
//	Momentum: g = norm·X + G;  V' = α·V + β'·g  (β' = β when T > 0, else 1)
//	          X' = X - R·V'  (standard)  or  X - R·(g + α·V')  (nesterov)
//
// computed in float64.

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register(ops.PreviewTrainingDomain, "Adagrad", ops.Since(1, buildOptimizer(optAdagrad)))
	ops.Register(ops.PreviewTrainingDomain, "Adam", ops.Since(1, buildOptimizer(optAdam)))
	ops.Register(ops.PreviewTrainingDomain, "Momentum", ops.Since(1, buildOptimizer(optMomentum)))
}

type optimizerKind int

const (
	optAdagrad optimizerKind = iota
	optAdam
	optMomentum
)

// optimizerStates is how many state tensors each X has.
var optimizerStates = [...]int{optAdagrad: 1, optAdam: 2, optMomentum: 1}

type optimizerOp struct {
	kind                        optimizerKind
	alpha, beta, epsilon, decay float64
	norm, normPost              float64
	nesterov                    bool
}

func buildOptimizer(kind optimizerKind) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		op := &optimizerOp{kind: kind, epsilon: float64(r.Float("epsilon", 0)), norm: float64(r.Float("norm_coefficient", 0))}
		switch kind {
		case optAdagrad:
			op.decay = float64(r.Float("decay_factor", 0))
		case optAdam:
			op.alpha, op.beta = float64(r.Float("alpha", 0.9)), float64(r.Float("beta", 0.999))
			op.normPost = float64(r.Float("norm_coefficient_post", 0))
		case optMomentum:
			for _, name := range []string{"alpha", "beta", "mode", "norm_coefficient"} {
				if !r.Has(name) {
					return nil, &ops.AttrError{Name: name, Msg: "is required"}
				}
			}
			op.alpha, op.beta = float64(r.Float("alpha", 0)), float64(r.Float("beta", 0))
			switch mode := r.String("mode", ""); mode {
			case "standard":
			case "nesterov":
				op.nesterov = true
			default:
				return nil, &ops.AttrError{Name: "mode", Msg: fmt.Sprintf("is %q, want standard or nesterov", mode)}
			}
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		return op, nil
	}
}

// tensors is n, the number of optimized tensors, checked against the inputs.
func (op *optimizerOp) tensors(in []ops.ValueInfo) (int, error) {
	per := 2 + optimizerStates[op.kind]
	if len(in) < 2+per || (len(in)-2)%per != 0 {
		return 0, ops.Invalidf("%d inputs, want R, T and then %d tensors per optimized tensor (X, G and its states)", len(in), per)
	}
	n := (len(in) - 2) / per
	r, t := in[0], in[1]
	if (r.DType != ops.Float32 && r.DType != ops.Float64) || r.Shape.Size() != 1 {
		return 0, ops.Invalidf("R is %s%v, want one float or double", r.DType, r.Shape)
	}
	if t.DType != ops.Int64 || t.Shape.Size() != 1 {
		return 0, ops.Invalidf("T is %s%v, want one int64", t.DType, t.Shape)
	}
	for i := 0; i < n; i++ {
		x := in[2+i]
		if x.DType != ops.Float32 && x.DType != ops.Float64 {
			return 0, ops.Invalidf("X[%d] has dtype %s, want float or double", i, x.DType)
		}
		for k := 1; k < per; k++ {
			if v := in[2+k*n+i]; v.DType != x.DType || !v.Shape.Equal(x.Shape) {
				return 0, ops.Invalidf("input %d is %s%v, want %s%v like X[%d]", 2+k*n+i, v.DType, v.Shape, x.DType, x.Shape, i)
			}
		}
	}
	return n, nil
}

func (op *optimizerOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	n, err := op.tensors(in)
	if err != nil {
		return nil, err
	}
	outs := make([]ops.ValueInfo, 0, n*(1+optimizerStates[op.kind]))
	for k := 0; k < 1+optimizerStates[op.kind]; k++ {
		for i := 0; i < n; i++ {
			x := in[2+i]
			outs = append(outs, ops.ValueInfo{DType: x.DType, Shape: x.Shape})
		}
	}
	return outs, nil
}

func (op *optimizerOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	n, err := op.tensors(in)
	if err != nil {
		return nil, err
	}
	return &optimizerKernel{op: op, n: n}, nil
}

type optimizerKernel struct {
	op *optimizerOp
	n  int
}

func (k *optimizerKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	op, n := k.op, k.n
	r, t := kernelutil.ValueAt(in[0], 0), in[1].Int64s()[0]
	for i := 0; i < n; i++ {
		x, g := in[2+i], in[2+n+i]
		// Outputs in order: X', then the states; a node may leave the last ones out.
		at := func(k int) *ops.Tensor {
			if j := k*n + i; j < len(out) {
				return out[j]
			}
			return nil
		}
		for e := 0; e < x.Len(); e++ {
			xv := kernelutil.ValueAt(x, e)
			grad := op.norm*xv + kernelutil.ValueAt(g, e)
			var xNew float64
			switch op.kind {
			case optAdagrad:
				h := kernelutil.ValueAt(in[2+2*n+i], e) + grad*grad
				xNew = xv - r/(1+float64(t)*op.decay)*grad/(math.Sqrt(h)+op.epsilon)
				setIf(at(1), e, h)
			case optAdam:
				v := op.alpha*kernelutil.ValueAt(in[2+2*n+i], e) + (1-op.alpha)*grad
				h := op.beta*kernelutil.ValueAt(in[2+3*n+i], e) + (1-op.beta)*grad*grad
				rate := r
				if t > 0 {
					rate = r * math.Sqrt(1-math.Pow(op.beta, float64(t))) / (1 - math.Pow(op.alpha, float64(t)))
				}
				xNew = (1 - op.normPost) * (xv - rate*v/(math.Sqrt(h)+op.epsilon))
				setIf(at(1), e, v)
				setIf(at(2), e, h)
			case optMomentum:
				beta := op.beta
				if t <= 0 {
					beta = 1
				}
				v := op.alpha*kernelutil.ValueAt(in[2+2*n+i], e) + beta*grad
				if op.nesterov {
					xNew = xv - r*(grad+op.alpha*v)
				} else {
					xNew = xv - r*v
				}
				setIf(at(1), e, v)
			}
			setIf(at(0), e, xNew)
		}
	}
	return nil
}

// setIf writes v into element i of t when the node has that output.
func setIf(t *ops.Tensor, i int, v float64) {
	if t != nil {
		kernelutil.SetValue(t, i, v)
	}
}
