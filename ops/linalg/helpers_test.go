package linalg

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// opCase is one operator invocation and what it must give: outputs (compared with ONNX's tolerance, exactly
// for integers), or an error whose message contains errSub and that wraps errIs when set.
type opCase struct {
	name   string
	op     string
	opset  int
	attrs  ops.AttrMap
	inputs []*ops.Tensor
	want   []*ops.Tensor
	errSub string
	errIs  error
	// nonConst lists inputs hidden from InferShapes and Prepare as runtime values (no prepacking).
	nonConst []int
}

func runCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			nout := len(c.want)
			got, err := opstest.Run(opstest.Node{OpType: c.op, Opset: c.opset, Attrs: c.attrs, Inputs: c.inputs, NumOutputs: nout,
				NonConstInputs: c.nonConst})
			if c.errSub != "" {
				if err == nil {
					t.Fatalf("no error, want one containing %q", c.errSub)
				}
				if !strings.Contains(err.Error(), c.errSub) {
					t.Fatalf("error %q does not contain %q", err, c.errSub)
				}
				if c.errIs != nil && !errors.Is(err, c.errIs) {
					t.Fatalf("error %q does not wrap %v", err, c.errIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range c.want {
				if err := opstest.Close(got[i], w, 1e-3, 1e-5); err != nil {
					t.Fatalf("output %d: %v", i, err)
				}
			}
		})
	}
}

// pattern gives n small integers, mixed in sign, that a numpy script reproduces as ((i*7+3) % 11) - 5, so
// expected values can be computed there exactly.
func pattern(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64((i*7+3)%11 - 5)
	}
	return v
}

// tensor builds a tensor of dtype dt holding vals (converted; halves rounded).
func tensor(dt ops.DType, shape ops.Shape, vals []float64) *ops.Tensor {
	switch dt {
	case ops.Float32:
		return ops.FromSlice(shape, conv[float32](vals))
	case ops.Float64:
		return ops.FromSlice(shape, conv[float64](vals))
	case ops.Int8:
		return ops.FromSlice(shape, conv[int8](vals))
	case ops.Int16:
		return ops.FromSlice(shape, conv[int16](vals))
	case ops.Int32:
		return ops.FromSlice(shape, conv[int32](vals))
	case ops.Int64:
		return ops.FromSlice(shape, conv[int64](vals))
	case ops.Uint8:
		return ops.FromSlice(shape, conv[uint8](vals))
	case ops.Uint16:
		return ops.FromSlice(shape, conv[uint16](vals))
	case ops.Uint32:
		return ops.FromSlice(shape, conv[uint32](vals))
	case ops.Uint64:
		return ops.FromSlice(shape, conv[uint64](vals))
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
	panic("tensor: dtype " + dt.String())
}

func conv[T ops.Number](vals []float64) []T {
	out := make([]T, len(vals))
	for i, v := range vals {
		out[i] = T(v)
	}
	return out
}

// pat is a tensor of dtype dt and the given shape filled with pattern values.
func pat(dt ops.DType, shape ...int) *ops.Tensor {
	return tensor(dt, shape, pattern(ops.Shape(shape).Size()))
}

func f32(shape ops.Shape, v ...float64) *ops.Tensor { return tensor(ops.Float32, shape, v) }

func sh(d ...int) ops.Shape { return ops.Shape(d) }

var nan = math.NaN()
