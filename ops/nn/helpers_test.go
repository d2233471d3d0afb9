package nn

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// opCase is one row of an op test table: a node, the outputs it must give (nil entries are not checked), or
// the error substring it must fail with.
type opCase struct {
	name    string
	node    opstest.Node
	want    []*ops.Tensor
	wantErr string
	rtol    float64 // 0 means 1e-5
	atol    float64 // 0 means 1e-6
}

func runCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.node.NumOutputs == 0 && len(c.want) > 1 {
				c.node.NumOutputs = len(c.want)
			}
			got, err := opstest.Run(c.node)
			if c.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, want one containing %q", c.wantErr)
				}
				if !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %q does not contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rtol, atol := c.rtol, c.atol
			if rtol == 0 {
				rtol = 1e-5
			}
			if atol == 0 {
				atol = 1e-6
			}
			for i, w := range c.want {
				if w == nil {
					continue
				}
				if err := opstest.Close(got[i], w, rtol, atol); err != nil {
					t.Errorf("output %d: %v\ngot  %v", i, err, got[i].AsFloat64s())
				}
			}
		})
	}
}

func f32(shape ops.Shape, v ...float32) *ops.Tensor { return ops.FromSlice(shape, v) }
func f64(shape ops.Shape, v ...float64) *ops.Tensor { return ops.FromSlice(shape, v) }
func i64(shape ops.Shape, v ...int64) *ops.Tensor   { return ops.FromSlice(shape, v) }

func ints(v ...int64) ops.Attr { return ops.IntsAttr(v...) }

// randF32 returns a float32 tensor of uniform values in [-1, 1) from a fixed seed.
func randF32(seed int64, shape ...int) *ops.Tensor {
	r := rand.New(rand.NewSource(seed))
	v := make([]float32, ops.Shape(shape).Size())
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return ops.FromSlice(ops.Shape(shape), v)
}

// toF64 converts a float32 tensor to float64.
func toF64(t *ops.Tensor) *ops.Tensor {
	return ops.FromSlice(t.Shape(), t.AsFloat64s())
}

// toF32 converts any numeric tensor to float32.
func toF32(t *ops.Tensor) *ops.Tensor {
	v := t.AsFloat64s()
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return ops.FromSlice(t.Shape(), out)
}

// toHalf converts a float32 tensor to float16.
func toHalf(t *ops.Tensor) *ops.Tensor {
	v := t.Float32s()
	out := make([]ops.Float16Bits, len(v))
	for i, x := range v {
		out[i] = ops.Float16FromFloat32(x)
	}
	return ops.FromSlice(t.Shape(), out)
}

// mustRun runs a node and fails the test on error.
func mustRun(t *testing.T, n opstest.Node) []*ops.Tensor {
	t.Helper()
	out, err := opstest.Run(n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// maxAbsDiff is the largest |a-b| over two same-sized tensors.
func maxAbsDiff(a, b *ops.Tensor) float64 {
	x, y := a.AsFloat64s(), b.AsFloat64s()
	worst := 0.0
	for i := range x {
		worst = math.Max(worst, math.Abs(x[i]-y[i]))
	}
	return worst
}
