package opstest

// Shorthands the kernel packages' tests share: tensors from literals or a seed, dtype conversions, element-wise
// comparison of float32 results with float64 references, and a node built in one call.

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// F64 is shorthand for a float64 tensor in tests.
func F64(shape ops.Shape, v ...float64) *ops.Tensor { return ops.FromSlice(shape, v) }

// Ints is shorthand for an ints attribute.
func Ints(v ...int64) ops.Attr { return ops.IntsAttr(v...) }

// RandF32 returns a float32 tensor of uniform values in [-1, 1) from a fixed seed.
func RandF32(seed int64, shape ...int) *ops.Tensor {
	r := rand.New(rand.NewSource(seed))
	v := make([]float32, ops.Shape(shape).Size())
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return ops.FromSlice(ops.Shape(shape), v)
}

// ToF64 converts a float32 tensor to float64.
func ToF64(t *ops.Tensor) *ops.Tensor {
	return ops.FromSlice(t.Shape(), t.AsFloat64s())
}

// ToF32 converts any numeric tensor to float32.
func ToF32(t *ops.Tensor) *ops.Tensor {
	v := t.AsFloat64s()
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return ops.FromSlice(t.Shape(), out)
}

// ToHalf converts a float32 tensor to float16.
func ToHalf(t *ops.Tensor) *ops.Tensor {
	v := t.Float32s()
	out := make([]ops.Float16Bits, len(v))
	for i, x := range v {
		out[i] = ops.Float16FromFloat32(x)
	}
	return ops.FromSlice(t.Shape(), out)
}

// ToBF16 converts a float32 tensor to bfloat16.
func ToBF16(t *ops.Tensor) *ops.Tensor {
	v := t.Float32s()
	out := make([]ops.BFloat16Bits, len(v))
	for i, x := range v {
		out[i] = ops.BFloat16FromFloat32(x)
	}
	return ops.FromSlice(t.Shape(), out)
}

// Float64s converts float32 values to float64.
func Float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// MustRun runs a node and fails the test on error.
func MustRun(t *testing.T, n Node) []*ops.Tensor {
	t.Helper()
	out, err := Run(n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// NewNode is a Node with one output.
func NewNode(op string, opset int, attrs ops.AttrMap, in ...*ops.Tensor) Node {
	return Node{OpType: op, Opset: opset, Attrs: attrs, Inputs: in}
}

// CloseTo checks |got-want| <= atol + rtol*|want| element-wise.
func CloseTo(got []float32, want []float64, rtol, atol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d values, want %d", len(got), len(want))
	}
	for i, g := range got {
		if d := math.Abs(float64(g) - want[i]); !(d <= atol+rtol*math.Abs(want[i])) {
			return fmt.Errorf("element %d: got %g, want %g (|diff| %g)", i, g, want[i], d)
		}
	}
	return nil
}

// FillNaN sets every element of a floating-point tensor to NaN.
func FillNaN(t *ops.Tensor) {
	nan := make([]float64, t.Len())
	for i := range nan {
		nan[i] = math.NaN()
	}
	switch d := t.Data().(type) {
	case []float32:
		copy(d, FromFloat64s(ops.Float32, t.Shape(), nan).Float32s())
	case []float64:
		copy(d, nan)
	case []ops.Float16Bits:
		copy(d, FromFloat64s(ops.Float16, t.Shape(), nan).Data().([]ops.Float16Bits))
	case []ops.BFloat16Bits:
		copy(d, FromFloat64s(ops.BFloat16, t.Shape(), nan).Data().([]ops.BFloat16Bits))
	}
}
