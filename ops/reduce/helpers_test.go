package reduce

import (
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// opCase and runCases are opstest's table rows and runner, shared with the other kernel packages.
type opCase = opstest.Case

var runCases = opstest.RunCases

// pattern and tensor are opstest's Pattern and FromFloat64s under the short names the tables use.
var (
	pattern = opstest.Pattern
	tensor  = opstest.FromFloat64s
)

// pat is a tensor of dtype dt and the given shape filled with pattern values.
func pat(dt ops.DType, shape ...int) *ops.Tensor {
	return tensor(dt, shape, pattern(ops.Shape(shape).Size()))
}

func f32(shape ops.Shape, v ...float64) *ops.Tensor { return tensor(ops.Float32, shape, v) }

func sh(d ...int) ops.Shape { return ops.Shape(d) }

var nan = math.NaN()

var inf = math.Inf(1)

// pos is pat shifted to 1..11, for reductions that want positive inputs (logs, products).
func pos(dt ops.DType, shape ...int) *ops.Tensor {
	v := pattern(ops.Shape(shape).Size())
	for i := range v {
		v[i] += 6
	}
	return tensor(dt, shape, v)
}

func i64(shape ops.Shape, v ...int64) *ops.Tensor { return ops.FromSlice(shape, v) }

// prepareNode builds, infers and prepares a node the way opstest.Run does, returning the kernel, allocated
// outputs and a context with its scratch, so a test can count Run's allocations alone.
func prepareNode(t testing.TB, opType string, opset int, attrs ops.AttrMap, nout int, inputs ...*ops.Tensor) (ops.Kernel, []*ops.Tensor, *ops.ExecContext) {
	t.Helper()
	p := opstest.MustPrepare(t, opstest.Node{OpType: opType, Opset: opset, Attrs: attrs, Inputs: inputs, NumOutputs: nout})
	return p.Kernel, p.Out, p.Ctx
}

// assertNoAllocs fails when the kernel's Run allocates.
func assertNoAllocs(t *testing.T, name string, k ops.Kernel, ctx *ops.ExecContext, in, out []*ops.Tensor) {
	t.Helper()
	if n := testing.AllocsPerRun(10, func() { _ = k.Run(ctx, in, out) }); n != 0 {
		t.Errorf("%s: Run allocates %v times", name, n)
	}
}
