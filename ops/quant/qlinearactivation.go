package quant

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// QLinearSigmoid and QLinearLeakyRelu (com.microsoft, opset 1, ONNX Runtime's contrib operators): inputs
// X, X_scale, X_zero_point (optional), Y_scale, Y_zero_point (optional), X and Y uint8 or int8 of one type;
// QLinearLeakyRelu has the attribute alpha (default 0.01). Each element is
//
//	Y = saturate(round_half_to_even(f((X - X_zero_point) * X_scale) / Y_scale) + Y_zero_point)
//
// in float32 (Sigmoid through float64 exp rounded to float32). As ONNX Runtime does, the kernel is a
// 256-entry lookup table over X's byte, built at Prepare when the scales and zero points are constants
// (they are in every quantized model) and at each Run otherwise.
func init() {
	ops.Register(ops.MicrosoftDomain, "QLinearSigmoid", ops.Since(1, buildQLinearSigmoid))
	ops.Register(ops.MicrosoftDomain, "QLinearLeakyRelu", ops.Since(1, buildQLinearLeakyRelu))
}

func buildQLinearSigmoid(n ops.NodeInfo) (ops.Op, error) {
	return &qlinearUnaryOp{opType: "QLinearSigmoid", fn: floatFn{kind: fnSigmoid}}, nil
}

func buildQLinearLeakyRelu(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	alpha := r.Float("alpha", 0.01)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return &qlinearUnaryOp{opType: "QLinearLeakyRelu", fn: floatFn{kind: fnLeakyRelu, alpha: float32(alpha)}}, nil
}

// qlinearUnaryOp is a table-driven unary operator.
type qlinearUnaryOp struct {
	opType string
	fn     floatFn
}

var (
	unaryX = qParam{name: "X", scale: 1, zp: 2}
	unaryY = qParam{name: "Y", scale: 3, zp: 4}
)

func (o *qlinearUnaryOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := checkInputs(o.opType, in, 4, 5, 0, 1, 3); err != nil {
		return nil, err
	}
	t, err := checkQ8(o.opType, in, 0, "X")
	if err != nil {
		return nil, err
	}
	for _, p := range []qParam{unaryX, unaryY} {
		if err := checkQParam(o.opType, in, p, t); err != nil {
			return nil, err
		}
	}
	return []ops.ValueInfo{{DType: t, Shape: in[0].Shape.Clone()}}, nil
}

func (o *qlinearUnaryOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := o.InferShapes(in); err != nil {
		return nil, err
	}
	if in[0].DType == ops.Int8 {
		return newUnaryKernel[int8](o.fn, in), nil
	}
	return newUnaryKernel[uint8](o.fn, in), nil
}

func newUnaryKernel[T q8](fn floatFn, in []ops.ValueInfo) *qlinearUnaryKernel[T] {
	k := &qlinearUnaryKernel[T]{fn: fn}
	if constQParam(in, unaryX) && constQParam(in, unaryY) {
		xs, xzp := readQParamInfo(in, unaryX)
		ys, yzp := readQParamInfo(in, unaryY)
		k.table = new(lookupTable)
		buildTable[T](k.table, fn, xs, xzp, ys, yzp)
	}
	return k
}

type qlinearUnaryKernel[T q8] struct {
	fn    floatFn
	table *lookupTable // nil when the scales or zero points are computed at run time
	tasks parallel.TaskSlot[tableTask[T]]
}

func (k *qlinearUnaryKernel[T]) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	t := k.tasks.Get()
	defer k.tasks.Put(t)
	t.table = k.table
	if t.table == nil {
		xs, xzp := readQParam(in, unaryX)
		ys, yzp := readQParam(in, unaryY)
		buildTable[T](&t.local, k.fn, xs, xzp, ys, yzp)
		t.table = &t.local
	}
	t.src, t.dst = ops.Data[T](in[0]), ops.Data[T](out[0])
	runSplit(ctx, len(t.src), t)
	return nil
}

// tableTask applies a lookup table over a span, a range of it per thread.
type tableTask[T q8] struct {
	table    *lookupTable
	local    lookupTable // the table built at run time, kept here so that building it allocates nothing
	dst, src []T
}

func (t *tableTask[T]) Do(lo, hi int) { applyTable(t.table, t.dst[lo:hi], t.src[lo:hi]) }

// parallelBytes is the element count above which the byte kernels split their work across the threads:
// below it, handing ranges to the workers costs more than the work.
const parallelBytes = 1 << 16

// runSplit runs t over [0, n), split across ctx's threads when n is above parallelBytes.
func runSplit(ctx *ops.ExecContext, n int, t parallel.Task) {
	if n < parallelBytes || ctx.Pool == nil || ctx.Threads <= 1 {
		t.Do(0, n)
		return
	}
	ctx.Pool.ForTask(n, t)
}
