package opstest

import (
	"errors"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// Check runs n and compares its outputs with want (ONNX's tolerance RTol, ATol; exact for integers), or, when errSub
// is set, asserts that it fails with an error containing errSub that wraps errIs (when errIs is non-nil).
// It is the body of the table-driven op tests of the kernel packages.
func Check(t testing.TB, n Node, want []*ops.Tensor, errSub string, errIs error) {
	t.Helper()
	if n.NumOutputs == 0 {
		n.NumOutputs = len(want)
	}
	got, err := Run(n)
	if errSub != "" {
		if err == nil {
			t.Fatalf("no error, want one containing %q", errSub)
		}
		if !strings.Contains(err.Error(), errSub) {
			t.Fatalf("error %q does not contain %q", err, errSub)
		}
		if errIs != nil && !errors.Is(err, errIs) {
			t.Fatalf("error %q does not wrap %v", err, errIs)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if err := Close(got[i], w, RTol, ATol); err != nil {
			t.Fatalf("output %d: %v", i, err)
		}
	}
}

// Case is one row of a kernel package's table-driven op test: an operator invocation and what it must
// give, outputs (compared as Check does) or an error (ErrSub, ErrIs).
type Case struct {
	Name   string
	Op     string
	Opset  int
	Attrs  ops.AttrMap
	Inputs []*ops.Tensor
	Want   []*ops.Tensor
	ErrSub string
	ErrIs  error
	// NonConst lists inputs hidden from InferShapes and Prepare as runtime values (no prepacking).
	NonConst []int
}

// RunCases runs each case as a subtest through Check.
func RunCases(t *testing.T, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			Check(t, Node{OpType: c.Op, Opset: c.Opset, Attrs: c.Attrs, Inputs: c.Inputs, NonConstInputs: c.NonConst},
				c.Want, c.ErrSub, c.ErrIs)
		})
	}
}

// Pattern gives n small integers, mixed in sign, that a numpy script reproduces as ((i*7+3) % 11) - 5, so
// expected values can be computed there exactly.
func Pattern(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64((i*7+3)%11 - 5)
	}
	return v
}

// FromFloat64s builds a tensor of dtype dt holding vals, converted (halves rounded to nearest).
func FromFloat64s(dt ops.DType, shape ops.Shape, vals []float64) *ops.Tensor {
	switch dt {
	case ops.Float32:
		return ops.FromSlice(shape, convert[float32](vals))
	case ops.Float64:
		return ops.FromSlice(shape, convert[float64](vals))
	case ops.Int8:
		return ops.FromSlice(shape, convert[int8](vals))
	case ops.Int16:
		return ops.FromSlice(shape, convert[int16](vals))
	case ops.Int32:
		return ops.FromSlice(shape, convert[int32](vals))
	case ops.Int64:
		return ops.FromSlice(shape, convert[int64](vals))
	case ops.Uint8:
		return ops.FromSlice(shape, convert[uint8](vals))
	case ops.Uint16:
		return ops.FromSlice(shape, convert[uint16](vals))
	case ops.Uint32:
		return ops.FromSlice(shape, convert[uint32](vals))
	case ops.Uint64:
		return ops.FromSlice(shape, convert[uint64](vals))
	case ops.Float16:
		h := make([]ops.Float16Bits, len(vals))
		for i, v := range vals {
			h[i] = ops.Float16FromFloat32(float32(v))
		}
		return ops.FromSlice(shape, h)
	case ops.BFloat16:
		h := make([]ops.BFloat16Bits, len(vals))
		for i, v := range vals {
			h[i] = ops.BFloat16FromFloat32(float32(v))
		}
		return ops.FromSlice(shape, h)
	}
	panic("opstest.FromFloat64s: dtype " + dt.String())
}

func convert[T ops.Number](vals []float64) []T {
	out := make([]T, len(vals))
	for i, v := range vals {
		out[i] = T(v)
	}
	return out
}
