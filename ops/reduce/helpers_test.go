package reduce

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
	// nonConst lists inputs hidden from InferShapes as runtime values.
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
	build, _, ok := ops.Lookup("", opType, opset)
	if !ok {
		t.Fatalf("%s opset %d not registered", opType, opset)
	}
	present := make([]bool, len(inputs))
	infos := make([]ops.ValueInfo, len(inputs))
	for i, x := range inputs {
		present[i] = x != nil
		if x != nil {
			infos[i] = ops.ValueInfo{DType: x.DType(), Shape: x.Shape(), Const: x}
		}
	}
	op, err := build(ops.NodeInfo{OpType: opType, Opset: opset, Attrs: attrs, NumInputs: len(inputs), NumOutputs: nout, InputPresent: present})
	if err != nil {
		t.Fatal(err)
	}
	outInfo, err := op.InferShapes(infos)
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.Prepare(infos, outInfo)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*ops.Tensor, len(outInfo))
	for i, o := range outInfo {
		out[i] = ops.New(o.DType, o.Shape)
	}
	ctx := ops.SerialContext()
	if s, ok := k.(ops.Scratcher); ok {
		ctx.Scratch = make([]float32, s.ScratchSize())
	}
	return k, out, ctx
}

// assertNoAllocs fails when the kernel's Run allocates.
func assertNoAllocs(t *testing.T, name string, k ops.Kernel, ctx *ops.ExecContext, in, out []*ops.Tensor) {
	t.Helper()
	if n := testing.AllocsPerRun(10, func() { _ = k.Run(ctx, in, out) }); n != 0 {
		t.Errorf("%s: Run allocates %v times", name, n)
	}
}
