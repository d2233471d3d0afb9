package activation

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecarith"
	"github.com/onnxrun/onnxrun/ops/internal/vecmath"
)

// Kind names an activation.
type Kind uint8

const (
	None        Kind = iota
	Relu             // max(x, 0)
	Clip             // min(max(x, Alpha), Beta)
	Sigmoid          // 1 / (1 + e^-x)
	SiLU             // x · sigmoid(x) (Swish)
	HardSigmoid      // max(0, min(1, Alpha·x + Beta))
	HardSwish        // x · HardSigmoid(x)
	LeakyRelu        // x if x >= 0, else Alpha·x
	Tanh             // tanh(x)
	GeluErf          // x/2 · (1 + erf(x/√2))
	GeluTanh         // x/2 · (1 + tanh(√(2/π)·(x + 0.044715x³)))
)

// names are the attribute values of the activation attribute, by Kind.
var names = [...]string{None: "", Relu: "Relu", Clip: "Clip", Sigmoid: "Sigmoid", SiLU: "SiLU",
	HardSigmoid: "HardSigmoid", HardSwish: "HardSwish", LeakyRelu: "LeakyRelu", Tanh: "Tanh",
	GeluErf: "Gelu", GeluTanh: "GeluTanh"}

// Func is one activation with its parameters (Clip: Alpha = min, Beta = max).
type Func struct {
	Kind        Kind
	Alpha, Beta float32
}

// Parse reads a fused node's activation and activation_params attributes: Relu, Sigmoid, SiLU, Tanh,
// Gelu and GeluTanh take no parameters, Clip [min, max], LeakyRelu [alpha] (default 0.01), HardSigmoid
// [alpha, beta] (default 0.2, 0.5) and HardSwish [alpha, beta] (default 1/6, 0.5, ONNX's HardSwish).
func Parse(name string, params []float32) (Func, error) {
	kind := None
	for k, n := range names {
		if n == name {
			kind = Kind(k)
			break
		}
	}
	if kind == None && name != "" {
		return Func{}, ops.Unsupportedf("activation %q: fused products take %v", name, names[1:])
	}
	f := Func{Kind: kind}
	want := 0
	switch kind {
	case Clip:
		want = 2
	case LeakyRelu:
		f.Alpha, want = 0.01, 1
	case HardSigmoid:
		f.Alpha, f.Beta, want = 0.2, 0.5, 2
	case HardSwish:
		f.Alpha, f.Beta, want = 1.0/6, 0.5, 2
	}
	switch {
	case len(params) == 0 && kind != Clip:
	case len(params) != want:
		return Func{}, &ops.AttrError{Name: "activation_params", Msg: fmt.Sprintf("is %v: %s takes %d values", params, name, want)}
	case want == 1:
		f.Alpha = params[0]
	default:
		f.Alpha, f.Beta = params[0], params[1]
	}
	if kind == Clip && !(f.Alpha <= f.Beta) {
		return Func{}, &ops.AttrError{Name: "activation_params", Msg: fmt.Sprintf("is %v: Clip's min must not exceed max", params)}
	}
	return f, nil
}

// Name is the activation attribute's value for f ("" for None).
func (f Func) Name() string { return names[f.Kind] }

// Params is the activation_params attribute for f, nil when it takes none.
func (f Func) Params() []float32 {
	switch f.Kind {
	case Clip, HardSigmoid, HardSwish:
		return []float32{f.Alpha, f.Beta}
	case LeakyRelu:
		return []float32{f.Alpha}
	}
	return nil
}

// Clamp says whether f is a clamp to [lo, hi] (None, Relu, Clip), which a kernel applies in its store.
func (f Func) Clamp() (lo, hi float32, ok bool) {
	inf := float32(math.Inf(1))
	switch f.Kind {
	case None:
		return -inf, inf, true
	case Relu:
		return 0, inf, true
	case Clip:
		return f.Alpha, f.Beta, true
	}
	return 0, 0, false
}

// Apply is f on one value, in float64: the reference Row is tested against.
func (f Func) Apply(v float64) float64 {
	a, b := float64(f.Alpha), float64(f.Beta)
	switch f.Kind {
	case Relu:
		if v < 0 {
			return 0
		}
	case Clip:
		return math.Min(math.Max(v, a), b)
	case Sigmoid:
		return 1 / (1 + math.Exp(-v))
	case SiLU:
		return v / (1 + math.Exp(-v))
	case HardSigmoid:
		return math.Max(0, math.Min(1, a*v+b))
	case HardSwish:
		return v * math.Max(0, math.Min(1, a*v+b))
	case LeakyRelu:
		if v < 0 {
			return a * v
		}
	case Tanh:
		return math.Tanh(v)
	case GeluErf:
		return v / 2 * (1 + math.Erf(v/math.Sqrt2))
	case GeluTanh:
		return v / 2 * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
	}
	return v
}

// Finisher applies F in place to the regions of a product's output as the threads that computed them
// finish them: it is a gemm.Finisher (the GEMM's Epilogue.Finish), so that an activation the tiles cannot
// fuse runs inside the product's parallel section rather than after it. Rows of the region lie ldc apart.
type Finisher struct{ F Func }

// Finish applies F to rows [i0, i1), columns [j0, j1) of c, in one call when they are contiguous.
func (f *Finisher) Finish(c []float32, ldc, i0, i1, j0, j1 int) {
	if j0 == 0 && j1 == ldc {
		rows := c[i0*ldc : i1*ldc]
		f.F.Row(rows, rows)
		return
	}
	for i := i0; i < i1; i++ {
		row := c[i*ldc+j0 : i*ldc+j1]
		f.F.Row(row, row)
	}
}

// Split applies F in place to Y cut into Parts contiguous pieces: a parallel.Task for ForTask(Parts, ·),
// for an activation that runs as a pass of its own over a large output. Each element's result does not
// depend on where the pieces are cut.
type Split struct {
	F     Func
	Y     []float32
	Parts int
}

// Do applies F to pieces [lo, hi) of Y.
func (s *Split) Do(lo, hi int) {
	part := s.Y[lo*len(s.Y)/s.Parts : hi*len(s.Y)/s.Parts]
	s.F.Row(part, part)
}

// Row writes dst[i] = f(src[i]) for i < len(src); dst may be src.
func (f Func) Row(dst, src []float32) {
	dst = dst[:len(src)]
	a, b := f.Alpha, f.Beta
	switch f.Kind {
	case None:
		copy(dst, src)
	case Relu:
		vecarith.Clamp(dst, src, 0, float32(math.Inf(1)))
	case Clip:
		vecarith.Clamp(dst, src, a, b)
	case Sigmoid:
		vecmath.Sigmoid(dst, src)
	case SiLU:
		vecmath.SiLU(dst, src)
	case Tanh:
		vecmath.Tanh(dst, src)
	case GeluErf:
		vecmath.GeluErf(dst, src)
	case GeluTanh:
		vecmath.GeluTanh(dst, src)
	case HardSigmoid:
		vecarith.HardSigmoid(dst, src, a, b)
	case HardSwish:
		if a == 1.0/6 && b == 0.5 { // ONNX's HardSwish, which vecarith has
			vecarith.HardSwish(dst, src)
			return
		}
		for i, v := range src { // in one loop: dst may be src
			dst[i] = v * min(max(a*v+b, 0), 1)
		}
	case LeakyRelu:
		vecarith.LeakyRelu(dst, src, a)
	}
}
