package array

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// opCase is one table entry: a node, and either its expected outputs or a substring of its error. Expected
// values in the tables were computed with numpy (np.transpose, np.pad, np.take, ...) unless trivial.
type opCase struct {
	name string
	node opstest.Node
	want []*ops.Tensor
	err  string // substring of the expected error; empty when the node must succeed
	is   error  // the error must also match this with errors.Is, when set
}

func runCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := c.node
			if n.NumOutputs == 0 {
				n.NumOutputs = max(1, len(c.want))
			}
			got, err := opstest.Run(n)
			if c.err != "" || c.is != nil {
				if err == nil {
					t.Fatalf("no error, want one containing %q", c.err)
				}
				if !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %q does not contain %q", err, c.err)
				}
				if c.is != nil && !errors.Is(err, c.is) {
					t.Fatalf("error %q does not wrap %v", err, c.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%d outputs, want %d", len(got), len(c.want))
			}
			for i := range got {
				if err := opstest.Close(got[i], c.want[i], 0, 0); err != nil {
					t.Errorf("output %d: %v", i, err)
				}
			}
		})
	}
}

// arange returns a float32 tensor holding 0, 1, 2, ... (numpy's np.arange(n).reshape(shape)).
func arange(shape ...int) *ops.Tensor {
	s := ops.Shape(shape)
	v := make([]float32, s.Size())
	for i := range v {
		v[i] = float32(i)
	}
	return ops.FromSlice(s, v)
}

// arangeOf returns arange converted to T (for dtype coverage).
func arangeOf[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float64](shape ...int) *ops.Tensor {
	s := ops.Shape(shape)
	v := make([]T, s.Size())
	for i := range v {
		v[i] = T(i)
	}
	return ops.FromSlice(s, v)
}

func f32(shape ops.Shape, v ...float32) *ops.Tensor { return ops.FromSlice(shape, v) }
func i64(shape ops.Shape, v ...int64) *ops.Tensor   { return ops.FromSlice(shape, v) }
func i32(shape ops.Shape, v ...int32) *ops.Tensor   { return ops.FromSlice(shape, v) }
func bools(shape ops.Shape, v ...bool) *ops.Tensor  { return ops.FromSlice(shape, v) }
func strs(shape ops.Shape, v ...string) *ops.Tensor { return ops.FromSlice(shape, v) }
func vec(v ...int64) *ops.Tensor                    { return ops.FromSlice(ops.Shape{len(v)}, v) }
func out(ts ...*ops.Tensor) []*ops.Tensor           { return ts }

// node builds an opstest.Node in the default domain.
func node(op string, opset int, attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
	return opstest.Node{OpType: op, Opset: opset, Attrs: attrs, Inputs: in}
}

// nonConst marks inputs as values only known at run time.
func nonConst(n opstest.Node, inputs ...int) opstest.Node {
	n.NonConstInputs = inputs
	return n
}

func negZero() float64 { return math.Copysign(0, -1) }
func nan() float64     { return math.NaN() }
