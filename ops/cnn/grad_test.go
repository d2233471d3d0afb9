package cnn

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	_ "github.com/onnxrun/onnxrun/ops/elementwise" // Relu, Sigmoid, Tanh forward
	_ "github.com/onnxrun/onnxrun/ops/linalg"      // Gemm forward
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// gradCase checks a gradient op against central finite differences of its forward op, in float64. The loss
// is L = Σ R ⊙ forward(inputs) for a fixed random R, so dL/dY = R is the dY given to the gradient op, and
// each gradient output must equal (L(x+h) - L(x-h)) / 2h for every element of the input it differentiates.
type gradCase struct {
	name     string
	fwd      opstest.Node // float64 inputs
	gradOp   string
	gradArgs func(dy *ops.Tensor, in []*ops.Tensor, y *ops.Tensor) []*ops.Tensor
	wrt      []int // wrt[k] is the forward input that gradient output k differentiates
}

func randTensor(rng *rand.Rand, shape ops.Shape, lo, hi float64) *ops.Tensor {
	t := ops.New(ops.Float64, shape)
	for i := range t.Float64s() {
		t.Float64s()[i] = lo + (hi-lo)*rng.Float64()
	}
	return t
}

// awayFromZero pushes values within 0.05 of zero away from it, so ReLU kinks are far from any probe.
func awayFromZero(t *ops.Tensor) *ops.Tensor {
	for i, v := range t.Float64s() {
		if math.Abs(v) < 0.05 {
			t.Float64s()[i] = math.Copysign(0.05+math.Abs(v), v)
		}
	}
	return t
}

func loss(t *testing.T, n opstest.Node, r *ops.Tensor) float64 {
	t.Helper()
	out, err := opstest.Run(n)
	if err != nil {
		t.Fatalf("forward: %v", err)
	}
	sum := 0.0
	for i, v := range out[0].Float64s() {
		sum += v * r.Float64s()[i]
	}
	return sum
}

func (c gradCase) run(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	out, err := opstest.Run(c.fwd)
	if err != nil {
		t.Fatalf("forward: %v", err)
	}
	r := randTensor(rng, out[0].Shape(), -1, 1)
	grads, err := opstest.Run(opstest.Node{Domain: ops.TrainingDomain, OpType: c.gradOp, Opset: 1, Attrs: c.fwd.Attrs,
		Inputs: c.gradArgs(r, c.fwd.Inputs, out[0]), NumOutputs: len(c.wrt)})
	if err != nil {
		t.Fatalf("%s: %v", c.gradOp, err)
	}
	const h = 1e-5
	for k, i := range c.wrt {
		x := c.fwd.Inputs[i].Float64s()
		got := grads[k].Float64s()
		if len(got) != len(x) {
			t.Fatalf("gradient %d has %d elements, input %d has %d", k, len(got), i, len(x))
		}
		for j := range x {
			orig := x[j]
			x[j] = orig + h
			up := loss(t, c.fwd, r)
			x[j] = orig - h
			down := loss(t, c.fwd, r)
			x[j] = orig
			want := (up - down) / (2 * h)
			if math.Abs(got[j]-want) > 1e-6+1e-5*math.Abs(want) {
				t.Fatalf("d/d input %d [%d]: %s gives %.9g, finite differences %.9g", i, j, c.gradOp, got[j], want)
			}
		}
	}
}

func TestGradientsMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	conv := func(dy *ops.Tensor, in []*ops.Tensor, _ *ops.Tensor) []*ops.Tensor {
		return []*ops.Tensor{dy, in[0], in[1]}
	}
	pool := func(dy *ops.Tensor, in []*ops.Tensor, _ *ops.Tensor) []*ops.Tensor { return []*ops.Tensor{dy, in[0]} }
	act := func(dy *ops.Tensor, _ []*ops.Tensor, y *ops.Tensor) []*ops.Tensor { return []*ops.Tensor{dy, y} }
	gemmArgs := func(dy *ops.Tensor, in []*ops.Tensor, _ *ops.Tensor) []*ops.Tensor {
		return []*ops.Tensor{dy, in[0], in[1]}
	}
	x := func(shape ...int) *ops.Tensor { return randTensor(rng, shape, -1, 1) }
	cases := []gradCase{
		{name: "conv 3x3 valid (LeNet conv1)", gradOp: "ConvGrad", gradArgs: conv, wrt: []int{0, 1, 2},
			fwd: opstest.Node{OpType: "Conv", Opset: 13, Inputs: []*ops.Tensor{x(2, 1, 6, 6), x(3, 1, 3, 3), x(3)}}},
		{name: "conv multi-channel", gradOp: "ConvGrad", gradArgs: conv, wrt: []int{0, 1, 2},
			fwd: opstest.Node{OpType: "Conv", Opset: 13, Inputs: []*ops.Tensor{x(2, 3, 5, 5), x(4, 3, 3, 3), x(4)}}},
		{name: "conv pads strides dilations", gradOp: "ConvGrad", gradArgs: conv, wrt: []int{0, 1, 2},
			fwd: opstest.Node{OpType: "Conv", Opset: 13, Inputs: []*ops.Tensor{x(1, 2, 7, 6), x(3, 2, 3, 2), x(3)},
				Attrs: ops.AttrMap{"pads": ops.IntsAttr(1, 2, 0, 1), "strides": ops.IntsAttr(2, 1), "dilations": ops.IntsAttr(1, 2)}}},
		{name: "conv groups same_upper", gradOp: "ConvGrad", gradArgs: conv, wrt: []int{0, 1, 2},
			fwd: opstest.Node{OpType: "Conv", Opset: 13, Inputs: []*ops.Tensor{x(2, 4, 5, 5), x(6, 2, 3, 3), x(6)},
				Attrs: ops.AttrMap{"group": ops.IntAttr(2), "auto_pad": ops.StringAttr("SAME_UPPER"), "strides": ops.IntsAttr(2, 2)}}},
		{name: "conv 1d no bias", gradOp: "ConvGrad", gradArgs: conv, wrt: []int{0, 1},
			fwd: opstest.Node{OpType: "Conv", Opset: 13, Inputs: []*ops.Tensor{x(2, 2, 9), x(3, 2, 4)}}},
		{name: "maxpool 2x2", gradOp: "MaxPoolGrad", gradArgs: pool, wrt: []int{0},
			fwd: opstest.Node{OpType: "MaxPool", Opset: 13, Inputs: []*ops.Tensor{x(2, 3, 6, 6)}, Attrs: ops.AttrMap{
				"kernel_shape": ops.IntsAttr(2, 2), "strides": ops.IntsAttr(2, 2)}}},
		{name: "maxpool overlapping padded ceil", gradOp: "MaxPoolGrad", gradArgs: pool, wrt: []int{0},
			fwd: opstest.Node{OpType: "MaxPool", Opset: 13, Inputs: []*ops.Tensor{x(1, 2, 7, 5)}, Attrs: ops.AttrMap{
				"kernel_shape": ops.IntsAttr(3, 3), "strides": ops.IntsAttr(2, 2), "pads": ops.IntsAttr(1, 1, 1, 0), "ceil_mode": ops.IntAttr(1)}}},
		{name: "averagepool 2x2 (LeNet)", gradOp: "AveragePoolGrad", gradArgs: pool, wrt: []int{0},
			fwd: opstest.Node{OpType: "AveragePool", Opset: 13, Inputs: []*ops.Tensor{x(2, 3, 7, 7)}, Attrs: ops.AttrMap{
				"kernel_shape": ops.IntsAttr(2, 2), "strides": ops.IntsAttr(2, 2)}}},
		{name: "averagepool padded", gradOp: "AveragePoolGrad", gradArgs: pool, wrt: []int{0},
			fwd: opstest.Node{OpType: "AveragePool", Opset: 13, Inputs: []*ops.Tensor{x(1, 2, 6, 5)}, Attrs: ops.AttrMap{
				"kernel_shape": ops.IntsAttr(3, 3), "strides": ops.IntsAttr(2, 2), "pads": ops.IntsAttr(1, 1, 1, 1)}}},
		{name: "averagepool padded count_include_pad ceil", gradOp: "AveragePoolGrad", gradArgs: pool, wrt: []int{0},
			fwd: opstest.Node{OpType: "AveragePool", Opset: 13, Inputs: []*ops.Tensor{x(1, 2, 6, 5)}, Attrs: ops.AttrMap{
				"kernel_shape": ops.IntsAttr(3, 3), "strides": ops.IntsAttr(2, 2), "pads": ops.IntsAttr(1, 1, 1, 1),
				"count_include_pad": ops.IntAttr(1), "ceil_mode": ops.IntAttr(1)}}},
		{name: "relu", gradOp: "ReluGrad", gradArgs: act, wrt: []int{0},
			fwd: opstest.Node{OpType: "Relu", Opset: 14, Inputs: []*ops.Tensor{awayFromZero(x(3, 7))}}},
		{name: "sigmoid", gradOp: "SigmoidGrad", gradArgs: act, wrt: []int{0},
			fwd: opstest.Node{OpType: "Sigmoid", Opset: 13, Inputs: []*ops.Tensor{x(3, 7)}}},
		{name: "tanh", gradOp: "TanhGrad", gradArgs: act, wrt: []int{0},
			fwd: opstest.Node{OpType: "Tanh", Opset: 13, Inputs: []*ops.Tensor{x(3, 7)}}},
	}
	// Gemm (the Dense layer is transB=1 with a bias [N]) in every transposition.
	for _, ta := range []int64{0, 1} {
		for _, tb := range []int64{0, 1} {
			const m, n, k = 3, 4, 5
			a, b := x(m, k), x(k, n)
			if ta == 1 {
				a = x(k, m)
			}
			if tb == 1 {
				b = x(n, k)
			}
			cases = append(cases, gradCase{name: fmt.Sprintf("gemm transA=%d transB=%d", ta, tb), gradOp: "GemmGrad", gradArgs: gemmArgs,
				wrt: []int{0, 1, 2}, fwd: opstest.Node{OpType: "Gemm", Opset: 13, Inputs: []*ops.Tensor{a, b, x(n)},
					Attrs: ops.AttrMap{"transA": ops.IntAttr(ta), "transB": ops.IntAttr(tb), "alpha": ops.FloatAttr(0.75), "beta": ops.FloatAttr(1.5)}}})
		}
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

// TestGradFloat32MatchesFloat64 runs the float32 kernels (GEMM, im2col) against the float64 loops.
func TestGradFloat32MatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	x := func(shape ...int) *ops.Tensor { return randTensor(rng, shape, -1, 1) }
	cases := []struct {
		name   string
		op     string
		attrs  ops.AttrMap
		inputs []*ops.Tensor
		nout   int
	}{
		{"conv LeNet conv2 shapes", "ConvGrad", nil, []*ops.Tensor{x(5, 16, 11, 11), x(5, 6, 13, 13), x(16, 6, 3, 3)}, 3},
		{"conv padded strided groups", "ConvGrad", ops.AttrMap{"pads": ops.IntsAttr(1, 1, 1, 1), "strides": ops.IntsAttr(2, 2), "group": ops.IntAttr(2)},
			[]*ops.Tensor{x(3, 4, 4, 4), x(3, 4, 8, 8), x(4, 2, 3, 3)}, 3},
		{"gemm Dense 400->120", "GemmGrad", ops.AttrMap{"transB": ops.IntAttr(1)}, []*ops.Tensor{x(33, 120), x(33, 400), x(120, 400)}, 3},
		{"gemm transA", "GemmGrad", ops.AttrMap{"transA": ops.IntAttr(1)}, []*ops.Tensor{x(7, 9), x(13, 7), x(13, 9)}, 3},
		{"maxpool", "MaxPoolGrad", ops.AttrMap{"kernel_shape": ops.IntsAttr(2, 2), "strides": ops.IntsAttr(2, 2)}, []*ops.Tensor{x(2, 3, 4, 4), x(2, 3, 8, 8)}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, err := opstest.Run(opstest.Node{Domain: ops.TrainingDomain, OpType: c.op, Opset: 1, Attrs: c.attrs, Inputs: c.inputs, NumOutputs: c.nout})
			if err != nil {
				t.Fatal(err)
			}
			in32 := make([]*ops.Tensor, len(c.inputs))
			for i, t64 := range c.inputs {
				in32[i] = toFloat32(t64)
			}
			got, err := opstest.Run(opstest.Node{Domain: ops.TrainingDomain, OpType: c.op, Opset: 1, Attrs: c.attrs, Inputs: in32, NumOutputs: c.nout})
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if err := opstest.Close(got[i], toFloat32(want[i]), 1e-4, 1e-4); err != nil {
					t.Errorf("output %d: %v", i, err)
				}
			}
		})
	}
}

func toFloat32(t *ops.Tensor) *ops.Tensor {
	out := ops.New(ops.Float32, t.Shape())
	for i, v := range t.AsFloat64s() {
		out.Float32s()[i] = float32(v)
	}
	return out
}

// TestGradSkipsNilOutputs runs ConvGrad with only dW wanted, as the trainer does for a first layer.
func TestGradSkipsNilOutputs(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	x := func(shape ...int) *ops.Tensor { return toFloat32(randTensor(rng, shape, -1, 1)) }
	in := []*ops.Tensor{x(2, 6, 4, 4), x(2, 1, 6, 6), x(6, 1, 3, 3)}
	all, err := opstest.Run(opstest.Node{Domain: ops.TrainingDomain, OpType: "ConvGrad", Opset: 1, Inputs: in, NumOutputs: 3})
	if err != nil {
		t.Fatal(err)
	}
	k, outInfo := prepareConvGrad(t, nil, in[1].Shape(), in[2].Shape())
	ctx := ops.SerialContext()
	ctx.Scratch = make([]float32, k.ScratchSize())
	dw := ops.New(ops.Float32, outInfo[1].Shape)
	if err := k.Run(ctx, in, []*ops.Tensor{nil, dw, nil}); err != nil {
		t.Fatal(err)
	}
	if err := opstest.Close(dw, all[1], 1e-6, 1e-6); err != nil {
		t.Fatal(err)
	}
}

func TestGradErrors(t *testing.T) {
	f := func(shape ...int) *ops.Tensor { return ops.New(ops.Float32, shape) }
	cases := []struct {
		name    string
		node    opstest.Node
		wantErr string
	}{
		{"conv dY shape", opstest.Node{OpType: "ConvGrad", Inputs: []*ops.Tensor{f(1, 2, 3, 3), f(1, 1, 6, 6), f(2, 1, 3, 3)}, NumOutputs: 3},
			"dY has shape [1,2,3,3], the convolution of X [1,1,6,6] by W [2,1,3,3] gives [1,2,4,4]"},
		{"conv channels", opstest.Node{OpType: "ConvGrad", Inputs: []*ops.Tensor{f(1, 2, 4, 4), f(1, 3, 6, 6), f(2, 1, 3, 3)}, NumOutputs: 3}, "X has 3 channels"},
		{"conv int", opstest.Node{OpType: "ConvGrad", Inputs: []*ops.Tensor{ops.New(ops.Int32, ops.Shape{1, 2, 4, 4}), f(1, 1, 6, 6), f(2, 1, 3, 3)}}, "dY has dtype int32"},
		{"conv too many outputs", opstest.Node{OpType: "ConvGrad", Inputs: []*ops.Tensor{f(1, 2, 4, 4), f(1, 1, 6, 6), f(2, 1, 3, 3)}, NumOutputs: 4}, "1 to 3 outputs"},
		{"pool dY shape", opstest.Node{OpType: "AveragePoolGrad", Attrs: ops.AttrMap{"kernel_shape": ops.IntsAttr(2, 2), "strides": ops.IntsAttr(2, 2)},
			Inputs: []*ops.Tensor{f(1, 1, 2, 2), f(1, 1, 6, 6)}}, "dY has shape [1,1,2,2], pooling X [1,1,6,6] gives [1,1,3,3]"},
		{"pool kernel missing", opstest.Node{OpType: "MaxPoolGrad", Inputs: []*ops.Tensor{f(1, 1, 2, 2), f(1, 1, 4, 4)}}, `"kernel_shape" is required`},
		{"gemm inner", opstest.Node{OpType: "GemmGrad", Attrs: ops.AttrMap{"transB": ops.IntAttr(1)}, Inputs: []*ops.Tensor{f(2, 3), f(2, 4), f(3, 5)}, NumOutputs: 3},
			"inner dimensions 4 != 5"},
		{"gemm dY", opstest.Node{OpType: "GemmGrad", Inputs: []*ops.Tensor{f(2, 4), f(2, 4), f(4, 3)}}, "dY has shape [2,4], the product op(A)·op(B) is 2x3"},
		{"relu shapes", opstest.Node{OpType: "ReluGrad", Inputs: []*ops.Tensor{f(2, 4), f(2, 3)}}, "want the same dtype and shape"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.node.Domain, c.node.Opset = ops.TrainingDomain, 1
			_, err := opstest.Run(c.node)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}
