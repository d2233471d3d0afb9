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

// Prepared is a node bound the way the runtime binds it: the kernel, its inputs, freshly allocated outputs
// and a serial context with the kernel's scratch. Tests that measure Run alone (allocations, benchmarks)
// start from it.
type Prepared struct {
	Kernel  ops.Kernel
	Ctx     *ops.ExecContext
	In, Out []*ops.Tensor
}

// Prepare builds the node, infers its shapes and prepares its kernel (ops.Instantiate, as the runtime
// does), without running it.
func Prepare(n Node) (*Prepared, error) {
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
	p := &Prepared{Kernel: k, Ctx: ops.SerialContext(), In: n.Inputs, Out: make([]*ops.Tensor, nout)}
	for i, vi := range outInfo {
		if _, err := vi.Shape.CheckedSize(1 << 31); err != nil {
			return nil, fmt.Errorf("output %d: %w", i, err)
		}
		p.Out[i] = ops.New(vi.DType, vi.Shape)
	}
	if s, ok := k.(ops.Scratcher); ok {
		p.Ctx.Scratch = make([]float32, s.ScratchSize())
	}
	return p, nil
}

// MustPrepare is Prepare that fails the test on an error.
func MustPrepare(t testing.TB, n Node) *Prepared {
	t.Helper()
	p, err := Prepare(n)
	if err != nil {
		t.Fatalf("%s-%d: %v", n.OpType, n.Opset, err)
	}
	return p
}

// Run builds and runs the node, returning its outputs.
func Run(n Node) ([]*ops.Tensor, error) {
	p, err := Prepare(n)
	if err != nil {
		return nil, err
	}
	shapes := make([]ops.Shape, len(p.Out))
	for i, o := range p.Out {
		shapes[i] = o.Shape().Clone()
		fillGarbage(o) // kernels must write every element, not rely on zeroed outputs
	}
	if err := p.Kernel.Run(p.Ctx, n.Inputs, p.Out); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	for i, o := range p.Out {
		if !o.Shape().Equal(shapes[i]) {
			return nil, fmt.Errorf("output %d has shape %v after Run, InferShapes said %v", i, o.Shape(), shapes[i])
		}
	}
	return p.Out, nil
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

// RTol and ATol are ONNX's default tolerance for its backend tests, |got - want| <= ATol + RTol*|want|:
// onnx/backend/test/loader/__init__.py gives every node test rtol 1e-3 and atol 1e-7. (The 1e-5 of STYLE.md's
// "rounding" class is ONNX Runtime's atol_default, in onnxruntime/test/testdata/onnx_backend_test_series_overrides.jsonc,
// not ONNX's.) A test that needs more names its own tolerance and says why.
const (
	RTol = 1e-3
	ATol = 1e-7
)

// AssertClose fails t when got and want differ beyond ONNX's default tolerance (RTol, ATol).
func AssertClose(t testing.TB, got, want *ops.Tensor) {
	t.Helper()
	if err := Close(got, want, RTol, ATol); err != nil {
		t.Fatal(err)
	}
}

// F32 is shorthand for a float32 tensor in tests.
func F32(shape ops.Shape, v ...float32) *ops.Tensor { return ops.FromSlice(shape, v) }

// I64 is shorthand for an int64 tensor in tests.
func I64(shape ops.Shape, v ...int64) *ops.Tensor { return ops.FromSlice(shape, v) }
