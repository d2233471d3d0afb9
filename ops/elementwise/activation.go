package elementwise

import (
	"math"
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecmath"
)

// Activation functions, each a float64 function of x built from the node's attributes, evaluated like the
// unary math functions. Spec pages: https://onnx.ai/onnx/operators/onnx__<Op>.html. Relu and PRelu have
// their own files (clip.go, prelu.go).
var activations = []struct {
	op       string
	versions []int
	types    typeSince
	// make reads the attributes (r) and returns y = f(x); opset selects per-version defaults.
	make func(r *ops.AttrReader, opset int) (func(float64) float64, error)
}{
	// LeakyRelu: opset 6 dropped consumed_inputs, opset 16 added bfloat16.
	{"LeakyRelu", []int{1, 6, 16}, typeSince{{1, floatsNoBF16}, {16, floats}}, makeLeakyRelu},
	// Elu: opset 6 dropped consumed_inputs, opset 22 added bfloat16.
	{"Elu", []int{1, 6, 22}, typeSince{{1, floatsNoBF16}, {22, floats}}, makeElu},
	// Selu: opset 6 dropped consumed_inputs and made the defaults the float32 values of the exact constants.
	{"Selu", []int{1, 6, 22}, typeSince{{1, floatsNoBF16}, {22, floats}}, makeSelu},
	// Celu: opset 12 took float only; opset 28 added float16, double and bfloat16.
	{"Celu", []int{12, 28}, typeSince{{12, setOf(ops.Float32)}, {28, floats}}, makeCelu},
	// HardSigmoid: opset 6 dropped consumed_inputs, opset 22 added bfloat16.
	{"HardSigmoid", []int{1, 6, 22}, typeSince{{1, floatsNoBF16}, {22, floats}}, makeHardSigmoid},
	// HardSwish: opset 22 added bfloat16.
	{"HardSwish", []int{14, 22}, typeSince{{14, floatsNoBF16}, {22, floats}}, makeHardSwish},
	// Softplus, Softsign: opset 22 added bfloat16.
	{"Softplus", []int{1, 22}, typeSince{{1, floatsNoBF16}, {22, floats}}, plain(softplus)},
	{"Softsign", []int{1, 22}, typeSince{{1, floatsNoBF16}, {22, floats}}, plain(func(x float64) float64 { return x / (1 + math.Abs(x)) })},
	// Mish: opset 22 added bfloat16.
	{"Mish", []int{18, 22}, typeSince{{18, floatsNoBF16}, {22, floats}}, plain(func(x float64) float64 { return x * math.Tanh(softplus(x)) })},
	{"Gelu", []int{20}, typeSince{{20, floats}}, makeGelu},
	// Sigmoid, Tanh: opset 6 dropped consumed_inputs, opset 13 added bfloat16.
	{"Sigmoid", []int{1, 6, 13}, typeSince{{1, floatsNoBF16}, {13, floats}}, plain(sigmoid)},
	{"Tanh", []int{1, 6, 13}, typeSince{{1, floatsNoBF16}, {13, floats}}, plain(math.Tanh)},
	// ThresholdedRelu: opset 22 added bfloat16.
	{"ThresholdedRelu", []int{10, 22}, typeSince{{10, floatsNoBF16}, {22, floats}}, makeThresholdedRelu},
	// Shrink also takes integers (computed in float64, truncated back).
	{"Shrink", []int{9}, typeSince{{9, numericNoBF}}, makeShrink},
}

func init() {
	for _, a := range activations {
		ops.Register("", a.op, ops.SameBuilder(func(n ops.NodeInfo) (ops.Op, error) {
			r := ops.NewAttrReader(n.Attrs)
			f, err := a.make(r, n.Opset)
			var fast span32
			if makeFast := fastActivations[a.op]; makeFast != nil {
				fast = makeFast(r)
			}
			if err == nil {
				err = r.Err()
			}
			if err != nil {
				return nil, err
			}
			var vec vecmath.Kernel
			if makeVec := activationVec[a.op]; makeVec != nil {
				vec = makeVec(r)
			}
			return newUnary(n, a.types.at(n.Opset), ops.Undefined, withVec(vec, func(dt ops.DType) ops.Kernel {
				if dt == ops.Float32 && fast.f != nil {
					return newSpanKernel(fast)
				}
				return floatOrIntMap(dt, f)
			}))
		}, a.versions...)...)
	}
}

func plain(f func(float64) float64) func(*ops.AttrReader, int) (func(float64) float64, error) {
	return func(*ops.AttrReader, int) (func(float64) float64, error) { return f, nil }
}

// softplus is log(1+e^x), written to neither overflow for large x nor lose digits for very negative x.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// sigmoid is 1/(1+e^-x), evaluated on the side where the exponential cannot overflow.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func makeLeakyRelu(r *ops.AttrReader, _ int) (func(float64) float64, error) {
	alpha := float64(r.Float("alpha", 0.01))
	return func(x float64) float64 {
		if x < 0 {
			return alpha * x
		}
		return x
	}, nil
}

func makeElu(r *ops.AttrReader, _ int) (func(float64) float64, error) {
	alpha := float64(r.Float("alpha", 1))
	return func(x float64) float64 {
		if x < 0 {
			return alpha * math.Expm1(x)
		}
		return x
	}, nil
}

func makeSelu(r *ops.AttrReader, opset int) (func(float64) float64, error) {
	alphaDef, gammaDef := float32(1.6732), float32(1.0507)
	if opset >= 6 {
		alphaDef, gammaDef = 1.67326319217681884765625, 1.05070102214813232421875
	}
	alpha, gamma := float64(r.Float("alpha", alphaDef)), float64(r.Float("gamma", gammaDef))
	return func(x float64) float64 {
		if x > 0 {
			return gamma * x
		}
		return gamma * alpha * math.Expm1(x)
	}, nil
}

func makeCelu(r *ops.AttrReader, _ int) (func(float64) float64, error) {
	alpha := float64(r.Float("alpha", 1))
	if alpha == 0 {
		return nil, &ops.AttrError{Name: "alpha", Msg: "is 0; Celu divides by it"}
	}
	return func(x float64) float64 {
		return math.Max(0, x) + math.Min(0, alpha*math.Expm1(x/alpha))
	}, nil
}

func makeHardSigmoid(r *ops.AttrReader, _ int) (func(float64) float64, error) {
	alpha, beta := float64(r.Float("alpha", 0.2)), float64(r.Float("beta", 0.5))
	return func(x float64) float64 { return hardSigmoid(x, alpha, beta) }, nil
}

// hardSigmoid is max(0, min(1, alpha*x + beta)), keeping NaN.
func hardSigmoid(x, alpha, beta float64) float64 {
	y := alpha*x + beta
	switch {
	case y < 0:
		return 0
	case y > 1:
		return 1
	}
	return y
}

func makeHardSwish(*ops.AttrReader, int) (func(float64) float64, error) {
	return func(x float64) float64 { return x * hardSigmoid(x, 1.0/6, 0.5) }, nil
}

func makeGelu(r *ops.AttrReader, _ int) (func(float64) float64, error) {
	switch approx := r.String("approximate", "none"); approx {
	case "none":
		return func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }, nil
	case "tanh":
		k := math.Sqrt(2 / math.Pi)
		return func(x float64) float64 { return 0.5 * x * (1 + math.Tanh(k*(x+0.044715*x*x*x))) }, nil
	default:
		return nil, &ops.AttrError{Name: "approximate", Msg: "is " + strconv.Quote(approx) + `, want "none" or "tanh"`}
	}
}

func makeThresholdedRelu(r *ops.AttrReader, _ int) (func(float64) float64, error) {
	alpha := float64(r.Float("alpha", 1))
	return func(x float64) float64 {
		if x > alpha {
			return x
		}
		return 0 // NaN too, as the reference's where(x > alpha, x, 0)
	}, nil
}

func makeShrink(r *ops.AttrReader, _ int) (func(float64) float64, error) {
	bias, lambd := float64(r.Float("bias", 0)), float64(r.Float("lambd", 0.5))
	return func(x float64) float64 {
		switch {
		case x < -lambd:
			return x + bias
		case x > lambd:
			return x - bias
		}
		return 0 // NaN too, as the reference's nested where
	}, nil
}
