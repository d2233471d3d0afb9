// Package opstest runs a single operator the way the runtime does (lookup, build, infer shapes, prepare, run)
// so kernel packages can test themselves without building an ONNX model, and compares tensors with ONNX's
// tolerances. End-to-end tests through a real model live in runtime and conformance.
package opstest

import (
	"fmt"
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// Node describes one operator invocation.
type Node struct {
	Domain     string
	OpType     string
	Opset      int
	Attrs      ops.AttrMap
	Inputs     []*ops.Tensor // nil entries are absent optional inputs
	NumOutputs int           // 0 means 1
	// ConstInputs marks inputs given to InferShapes/Prepare as constants (as initializers would be). By
	// default every input is constant, which is what lets shape-from-value ops plan.
	NonConstInputs []int
}

// Run builds and runs the node, returning its outputs.
func Run(n Node) ([]*ops.Tensor, error) {
	nout := n.NumOutputs
	if nout == 0 {
		nout = 1
	}
	nonConst := map[int]bool{}
	for _, i := range n.NonConstInputs {
		nonConst[i] = true
	}
	in := make([]ops.ValueInfo, len(n.Inputs))
	for i, t := range n.Inputs {
		if t == nil {
			continue
		}
		in[i] = ops.ValueInfo{DType: t.DType(), Shape: t.Shape()}
		if !nonConst[i] {
			in[i].Const = t
		}
	}
	inst, err := ops.Instantiate(ops.NodeInfo{Name: "test", Domain: n.Domain, OpType: n.OpType, Opset: n.Opset,
		Attrs: n.Attrs, NumOutputs: nout}, in)
	if err != nil {
		return nil, err
	}
	k, outInfo := inst.Kernel, inst.Outputs
	out := make([]*ops.Tensor, nout)
	for i, vi := range outInfo {
		if _, err := vi.Shape.CheckedSize(1 << 31); err != nil {
			return nil, fmt.Errorf("output %d: %w", i, err)
		}
		out[i] = ops.New(vi.DType, vi.Shape)
		fillGarbage(out[i]) // kernels must write every element, not rely on zeroed outputs
	}
	ctx := ops.SerialContext()
	if s, ok := k.(ops.Scratcher); ok {
		ctx.Scratch = make([]float32, s.ScratchSize())
	}
	if err := k.Run(ctx, n.Inputs, out); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	for i := range out {
		if !out[i].Shape().Equal(outInfo[i].Shape) {
			return nil, fmt.Errorf("output %d has shape %v after Run, InferShapes said %v", i, out[i].Shape(), outInfo[i].Shape)
		}
	}
	return out, nil
}

func fillGarbage(t *ops.Tensor) {
	switch d := t.Data().(type) {
	case []float32:
		fill(d, float32(math.NaN()))
	case []float64:
		fill(d, math.NaN())
	case []int64:
		fill(d, -0x5a5a5a5a)
	case []int32:
		fill(d, -0x5a5a5a5a)
	case []int16:
		fill(d, -0x5a5a)
	case []int8:
		fill(d, -0x5a)
	case []uint8:
		fill(d, 0xa5)
	case []uint16:
		fill(d, 0xa5a5)
	case []uint32:
		fill(d, 0xa5a5a5a5)
	case []uint64:
		fill(d, 0xa5a5a5a5)
	case []bool:
		fill(d, true)
	case []string:
		fill(d, "\x00garbage")
	case []ops.Float16Bits:
		fill(d, 0x7e00) // NaN
	case []ops.BFloat16Bits:
		fill(d, 0x7fc0) // NaN
	case []complex64:
		fill(d, complex(float32(math.NaN()), 0))
	case []complex128:
		fill(d, complex(math.NaN(), 0))
	}
}

func fill[T any](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

// Close reports whether got matches want within |got-want| <= atol + rtol*|want| (see ops.AllClose).
func Close(got, want *ops.Tensor, rtol, atol float64) error {
	return ops.AllClose(got, want, rtol, atol)
}

// AssertClose fails t when got and want differ beyond ONNX's default tolerance (rtol 1e-3, atol 1e-5 as
// STYLE.md's "rounding" class).
func AssertClose(t testing.TB, got, want *ops.Tensor) {
	t.Helper()
	if err := Close(got, want, 1e-3, 1e-5); err != nil {
		t.Fatal(err)
	}
}

// F32 is shorthand for a float32 tensor in tests.
func F32(shape ops.Shape, v ...float32) *ops.Tensor { return ops.FromSlice(shape, v) }

// I64 is shorthand for an int64 tensor in tests.
func I64(shape ops.Shape, v ...int64) *ops.Tensor { return ops.FromSlice(shape, v) }
