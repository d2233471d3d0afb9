package elementwise_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	_ "github.com/onnxrun/onnxrun/ops/elementwise"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// tcase is one operator invocation with its expected output, or the substring its error must contain.
type tcase struct {
	name    string
	op      string
	opset   int
	attrs   ops.AttrMap
	inputs  []*ops.Tensor
	want    *ops.Tensor
	wantErr string
	// kind, when set, is the sentinel the error must wrap (ops.ErrInvalid, ops.ErrUnsupported).
	kind error
	// rtol is the relative tolerance for float outputs (default 1e-6; integers, bools, strings are exact).
	rtol float64
}

func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	for _, c := range cases {
		name := c.name
		if name == "" {
			name = c.op
		}
		name = fmt.Sprintf("%s-%d", name, c.opset)
		t.Run(name, func(t *testing.T) {
			out, err := opstest.Run(opstest.Node{OpType: c.op, Opset: c.opset, Attrs: c.attrs, Inputs: c.inputs})
			if c.wantErr != "" {
				if err == nil {
					t.Fatalf("no error, want one containing %q (output %v)", c.wantErr, out[0].Data())
				}
				if !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %q does not contain %q", err, c.wantErr)
				}
				if c.kind != nil && !errors.Is(err, c.kind) {
					t.Fatalf("error %q does not wrap %v", err, c.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rtol := c.rtol
			if rtol == 0 {
				rtol = 1e-6
			}
			if err := opstest.Close(out[0], c.want, rtol, 1e-7); err != nil {
				t.Fatalf("%v\ngot  %v\nwant %v", err, out[0].Data(), c.want.Data())
			}
		})
	}
}

// t32 and friends build tensors; a nil shape means 1-D of the values' length.
func tensor[T ops.Elem](shape ops.Shape, v ...T) *ops.Tensor {
	if shape == nil {
		shape = ops.Shape{len(v)}
	}
	return ops.FromSlice(shape, v)
}

func f32(shape ops.Shape, v ...float32) *ops.Tensor { return tensor(shape, v...) }
func f64(shape ops.Shape, v ...float64) *ops.Tensor { return tensor(shape, v...) }
func i64(shape ops.Shape, v ...int64) *ops.Tensor   { return tensor(shape, v...) }
func i32(shape ops.Shape, v ...int32) *ops.Tensor   { return tensor(shape, v...) }
func b(shape ops.Shape, v ...bool) *ops.Tensor      { return tensor(shape, v...) }
func str(shape ops.Shape, v ...string) *ops.Tensor  { return tensor(shape, v...) }

func f16(shape ops.Shape, v ...float32) *ops.Tensor {
	h := make([]ops.Float16Bits, len(v))
	for i, x := range v {
		h[i] = ops.Float16FromFloat32(x)
	}
	return tensor(shape, h...)
}

func bf16(shape ops.Shape, v ...float32) *ops.Tensor {
	h := make([]ops.BFloat16Bits, len(v))
	for i, x := range v {
		h[i] = ops.BFloat16FromFloat32(x)
	}
	return tensor(shape, h...)
}

func ints(v ...int64) ops.Attr           { return ops.IntsAttr(v...) }
func attr(v int64) ops.Attr              { return ops.IntAttr(v) }
func fattr(v float32) ops.Attr           { return ops.FloatAttr(v) }
func sattr(v string) ops.Attr            { return ops.StringAttr(v) }
func in(ts ...*ops.Tensor) []*ops.Tensor { return ts }

var (
	inf = float32(math.Inf(1))
	nan = float32(math.NaN())
)

// versionsOf lists the first opset of each registered range of op.
func versionsOf(op string) []int {
	var v []int
	for _, r := range ops.Registrations() {
		if r.Domain == "" && r.OpType == op {
			v = append(v, r.Range.Min)
		}
	}
	return v
}
