package linalg

import (
	"sync"
	"sync/atomic"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// MatMul is numpy.matmul: https://onnx.ai/onnx/operators/onnx__MatMul.html. Opsets 1, 9 and 13.
//
// A 1-D A is promoted to a 1×K matrix and a 1-D B to a K×1 matrix, and the promoted dimension is removed from
// the result. Dimensions before the last two are batch dimensions and broadcast numpy-style.
func init() {
	ops.Register("", "MatMul",
		// opset 1: float16, float32, float64.
		ops.Since(1, buildMatMul(floats16to64)),
		// opset 9: adds uint32, uint64, int32 and int64.
		ops.Since(9, buildMatMul((floats16to64|ints32to64))),
		// opset 13: adds bfloat16.
		ops.Since(13, buildMatMul((floats16to64|ints32to64).With(ops.BFloat16))),
	)
}

func buildMatMul(types ops.DTypeSet) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		if n.NumInputs != 2 {
			return nil, ops.Invalidf("MatMul takes 2 inputs, the node has %d", n.NumInputs)
		}
		return &matMulOp{opset: n.Opset, types: types}, nil
	}
}

type matMulOp struct {
	opset int
	types ops.DTypeSet
}

func (o *matMulOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := o.checkTypes(in); err != nil {
		return nil, err
	}
	p, err := newMatMulPlan(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: p.outShape}}, nil
}

func (o *matMulOp) checkTypes(in []ops.ValueInfo) error {
	if err := o.types.Check("MatMul", o.opset, "A", in[0].DType); err != nil {
		return err
	}
	if in[1].DType != in[0].DType {
		return ops.Invalidf("MatMul inputs differ in dtype: A is %s, B is %s", in[0].DType, in[1].DType)
	}
	return nil
}

func (o *matMulOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if err := o.checkTypes(in); err != nil {
		return nil, err
	}
	p, err := newMatMulPlan(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	k := &matMulKernel{plan: p, droppedB: in[1].Const != nil && in[1].Const.Dropped()}
	// An empty batch (a batch dimension of 0) has no B matrix to pack.
	if b := in[1].Const; b != nil && in[0].DType == ops.Float32 && p.m > 0 && p.n > 0 && p.k > 0 && len(p.bOff) > 0 && p.sharedB() {
		// A constant B shared by the whole batch (a weight matrix) is packed once per plan.
		// It is shared with every node packing the same B the same way (ops.Prepack).
		k.packedB = packPanels(in[1], false, p.k, p.n, p.n)
	}
	k.scratch = ops.HalfScratch(in[0].DType, in[0].Shape.Size(), in[1].Shape.Size(), p.outShape.Size())
	return k, nil
}

// matMulPlan is a batch of m×k by k×n products. Batch element i multiplies the matrices that start at
// aOff[i] in A and bOff[i] in B and writes the m×n block at i*m*n of Y.
type matMulPlan struct {
	m, n, k    int
	aOff, bOff []int
	outShape   ops.Shape
}

// newMatMulPlan checks that A and B can be multiplied and lays out the batch.
func newMatMulPlan(a, b ops.Shape) (*matMulPlan, error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, ops.Invalidf("MatMul needs inputs of rank >= 1, A is %v and B is %v", a, b)
	}
	// Promote 1-D operands to matrices, remembering to drop the added dimension from the result.
	am, bm := a, b
	if len(a) == 1 {
		am = ops.Shape{1, a[0]}
	}
	if len(b) == 1 {
		bm = ops.Shape{b[0], 1}
	}
	ra, rb := len(am), len(bm)
	p := &matMulPlan{m: am[ra-2], k: am[ra-1], n: bm[rb-1]}
	if bm[rb-2] != p.k {
		return nil, ops.Invalidf("MatMul A is %v and B is %v: K=%d != %d", a, b, p.k, bm[rb-2])
	}
	aBatch, bBatch := am[:ra-2], bm[:rb-2]
	batch, err := ops.BroadcastShapes(aBatch, bBatch)
	if err != nil {
		return nil, ops.Invalidf("MatMul batch dimensions of A %v and B %v do not broadcast: %v", a, b, err)
	}
	p.outShape = append(ops.Shape{}, batch...)
	if len(a) > 1 {
		p.outShape = append(p.outShape, p.m)
	}
	if len(b) > 1 {
		p.outShape = append(p.outShape, p.n)
	}

	nb := batch.Size()
	p.aOff = make([]int, nb)
	p.bOff = make([]int, nb)
	aStrides := batchStrides(aBatch, batch, p.m*p.k)
	bStrides := batchStrides(bBatch, batch, p.k*p.n)
	idx := make([]int, len(batch))
	for i := 0; i < nb; i++ {
		for d, v := range idx {
			p.aOff[i] += v * aStrides[d]
			p.bOff[i] += v * bStrides[d]
		}
		for d := len(idx) - 1; d >= 0; d-- { // odometer over the output batch
			idx[d]++
			if idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
	}
	p.foldBatch()
	return p, nil
}

// batchStrides gives, for each dimension of the broadcast batch shape out, the element stride of an operand
// whose own batch shape is dims (right-aligned): 0 where the operand has no such dimension or broadcasts a 1.
func batchStrides(dims, out ops.Shape, matrixSize int) []int {
	st := make([]int, len(out))
	acc := matrixSize
	off := len(out) - len(dims)
	for d := len(dims) - 1; d >= 0; d-- {
		if dims[d] != 1 {
			st[off+d] = acc
		}
		acc *= dims[d]
	}
	return st
}

// foldBatch turns a batch whose B is shared and whose A matrices lie back to back ([b,m,k] x [k,n], the
// common Linear-layer case) into one (b*m)×k by k×n product, which a GEMM does much faster than b small ones.
func (p *matMulPlan) foldBatch() {
	if len(p.aOff) <= 1 {
		return
	}
	for i := range p.aOff {
		if p.bOff[i] != 0 || p.aOff[i] != i*p.m*p.k {
			return
		}
	}
	p.m *= len(p.aOff)
	p.aOff, p.bOff = p.aOff[:1], p.bOff[:1]
}

// sharedB reports whether every batch element multiplies by the same B matrix.
func (p *matMulPlan) sharedB() bool {
	for _, off := range p.bOff {
		if off != 0 {
			return false
		}
	}
	return true
}

// runFloat32 runs one gemm.Multiply per batch element, reading B from packedB when it was prepacked. A batch
// of products each too small for the GEMM to split across threads (attention's per-head products, 128×128×64,
// when they are not fused) runs its products side by side instead, one thread each.
func (k *matMulKernel) runFloat32(ctx *ops.ExecContext, a, b, y []float32) {
	p := k.plan
	pool := gemmPool(ctx)
	if k.splitsBatch(pool.Threads()) {
		t := matMulTaskPool.Get().(*matMulTask)
		*t = matMulTask{k: k, a: a, b: b, y: y, done: kernelutil.DoneOf(ctx)}
		pool.ForTask(pool.Threads(), t)
		*t = matMulTask{}
		matMulTaskPool.Put(t)
		return
	}
	for i := range p.aOff {
		k.product(i, a, b, y, pool, kernelutil.DoneOf(ctx))
	}
}

// splitsBatch reports whether, on threads threads, the batch is split across threads by product.
func (k *matMulKernel) splitsBatch(threads int) bool {
	p := k.plan
	work := p.m * p.n * p.k
	return threads > 1 && len(p.aOff) > 1 && work < gemmSplitWork && len(p.aOff)*work >= minBatchSplitWork
}

// gemmSplitWork is the multiply-adds from which the GEMM splits one product across threads (its
// parallelMinWork); below it, a batch is split across threads by product.
const gemmSplitWork = 128 * 128 * 128

// minBatchSplitWork is the multiply-adds of a whole batch below which it stays on one thread: a few µs,
// a few times what handing half of it to another thread costs.
const minBatchSplitWork = 1 << 18

// product computes batch element i on pool (nil: the calling goroutine).
func (k *matMulKernel) product(i int, a, b, y []float32, pool *parallel.Pool, done <-chan struct{}) {
	p := k.plan
	mn := p.m * p.n
	params := gemm.Params{M: p.m, N: p.n, K: p.k, Alpha: 1, LDA: max(1, p.k), LDB: max(1, p.n), LDC: max(1, p.n),
		PackedB: k.packedB, Pool: pool, Done: done, A: a[p.aOff[i]:], C: y[i*mn : (i+1)*mn]}
	if k.packedB == nil {
		params.B = b[p.bOff[i]:]
	}
	gemm.Multiply(&params)
}

// matMulTask is one batch split across threads: each thread claims products one at a time until none is
// left, so a thread that starts late does not hold up the others.
type matMulTask struct {
	k       *matMulKernel
	a, b, y []float32
	done    <-chan struct{}
	next    atomic.Int32
}

var matMulTaskPool = sync.Pool{New: func() any { return new(matMulTask) }}

func (t *matMulTask) Do(_, _ int) {
	for {
		i := int(t.next.Add(1) - 1)
		if i >= len(t.k.plan.aOff) {
			return
		}
		t.k.product(i, t.a, t.b, t.y, nil, t.done)
	}
}

func runMatMul[T ops.Number](p *matMulPlan, a, b, y []T) {
	mn := p.m * p.n
	for i := range p.aOff {
		gemmLoop(false, false, p.m, p.n, p.k, a[p.aOff[i]:], p.k, b[p.bOff[i]:], p.n, y[i*mn:(i+1)*mn], p.n)
	}
}

type matMulKernel struct {
	plan    *matMulPlan
	packedB *gemm.PackedB // B packed at plan time when it is a float32 constant shared by the batch
	// droppedB: B is a constant the runtime dropped (ops.Tensor.DropData), only its packed forms left.
	droppedB bool
	scratch  int // float32s for widened float16/bfloat16 operands and result
}

func (k *matMulKernel) ScratchSize() int { return k.scratch }

// PackedInputs: a packed B is all Run reads of B, and its layout depends on B's K and N only, so that
// the node prepared at another batch or sequence length finds it packed (ops.PackedOnly).
func (k *matMulKernel) PackedInputs() []int { return packedBInput(k.skipsB()) }

// skipsB reports whether Run leaves B's elements alone: it reads the packed form, or B was dropped and
// the product is empty (a batch of 0, prepared after a larger one dropped B).
func (k *matMulKernel) skipsB() bool {
	return k.packedB != nil || k.droppedB && k.plan.outShape.Size() == 0
}

// packedBInput is the PackedInputs of a GEMM-like kernel whose input 1, B, is prepacked when packed is set.
func packedBInput(packed bool) []int {
	if packed {
		return []int{1}
	}
	return nil
}

// FLOPs counts multiply-adds.
func (k *matMulKernel) FLOPs() int64 {
	p := k.plan
	return int64(len(p.aOff)) * int64(p.m) * int64(p.n) * int64(p.k)
}

func (k *matMulKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	p := k.plan
	switch a := in[0].Data().(type) {
	case []float32:
		var b []float32
		if !k.skipsB() { // else B may be a constant whose data the runtime dropped (PackedInputs)
			b = in[1].Float32s()
		}
		k.runFloat32(ctx, a, b, out[0].Float32s())
	case []float64:
		runMatMul(p, a, ops.Data[float64](in[1]), ops.Data[float64](out[0]))
	case []int32:
		runMatMul(p, a, ops.Data[int32](in[1]), ops.Data[int32](out[0]))
	case []int64:
		runMatMul(p, a, ops.Data[int64](in[1]), ops.Data[int64](out[0]))
	case []uint32:
		runMatMul(p, a, ops.Data[uint32](in[1]), ops.Data[uint32](out[0]))
	case []uint64:
		runMatMul(p, a, ops.Data[uint64](in[1]), ops.Data[uint64](out[0]))
	case []ops.Float16Bits, []ops.BFloat16Bits:
		w := ops.NewWidener(ctx.Scratch)
		k.runFloat32(ctx, w.In(in[0]), w.In(in[1]), w.Out(out[0]))
		w.Narrow()
	}
	return nil
}
