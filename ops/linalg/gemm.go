package linalg

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// Gemm is Y = alpha*A'*B' + beta*C: https://onnx.ai/onnx/operators/onnx__Gemm.html. Opsets 1, 6, 7, 9, 11
// and 13.
//
// A' is A or its transpose (transA), B' likewise; C broadcasts unidirectionally to [M,N] (a scalar, [N],
// [1,N], [M,1] or [M,N]).
func init() {
	ops.Register("", "Gemm",
		// opset 1: float types; C required, and an attribute "broadcast" says whether C may broadcast.
		ops.Since(1, buildGemm(floats16to64, true)),
		// opset 6: drops the legacy consumed_inputs attribute; same semantics here.
		ops.Since(6, buildGemm(floats16to64, true)),
		// opset 7: "broadcast" removed, C always broadcasts unidirectionally to [M,N].
		ops.Since(7, buildGemm(floats16to64, true)),
		// opset 9: adds uint32, uint64, int32 and int64.
		ops.Since(9, buildGemm((floats16to64|ints32to64), true)),
		// opset 11: C becomes optional (absent means 0).
		ops.Since(11, buildGemm((floats16to64|ints32to64), false)),
		// opset 13: adds bfloat16.
		ops.Since(13, buildGemm((floats16to64|ints32to64).With(ops.BFloat16), false)),
	)
}

func buildGemm(types ops.DTypeSet, cRequired bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &gemmOp{
			opset:  n.Opset,
			types:  types,
			alpha:  r.Float("alpha", 1),
			beta:   r.Float("beta", 1),
			transA: r.Int("transA", 0) != 0,
			transB: r.Int("transB", 0) != 0,
		}
		// Before opset 7, broadcast=0 asked for C to be exactly [M,N]; every such C also broadcasts, and
		// exporters of that era set broadcast inconsistently, so the attribute is read and then ignored.
		_ = r.Int("broadcast", 0)
		if err := r.Err(); err != nil {
			return nil, err
		}
		if n.NumInputs < 2 || n.NumInputs > 3 {
			return nil, ops.Invalidf("Gemm takes 2 or 3 inputs, the node has %d", n.NumInputs)
		}
		if cRequired && (n.NumInputs < 3 || !n.InputPresent[2]) {
			return nil, ops.Invalidf("Gemm at opset %d requires input C (optional from opset 11)", n.Opset)
		}
		return o, nil
	}
}

type gemmOp struct {
	opset          int
	types          ops.DTypeSet
	alpha, beta    float32
	transA, transB bool
}

func (o *gemmOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	p, err := o.plan(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: ops.Shape{p.m, p.n}}}, nil
}

// gemmPlan is one Gemm with its shapes resolved. C's element (i,j) is c[i*cRowStride+j*cColStride]: the
// strides are 0 along dimensions that C broadcasts.
type gemmPlan struct {
	m, n, k                int
	transA, transB         bool
	alpha, beta            float32
	hasC                   bool // C present and beta != 0
	cRowStride, cColStride int
}

func (o *gemmOp) plan(in []ops.ValueInfo) (*gemmPlan, error) {
	if err := o.types.Check("Gemm", o.opset, "A", in[0].DType); err != nil {
		return nil, err
	}
	hasC := len(in) > 2 && in[2].Present()
	for i, name := range []string{"B", "C"} {
		if i == 1 && !hasC {
			break
		}
		if in[i+1].DType != in[0].DType {
			return nil, ops.Invalidf("Gemm input %s has dtype %s, A has %s", name, in[i+1].DType, in[0].DType)
		}
	}
	a, b := in[0].Shape, in[1].Shape
	if len(a) != 2 || len(b) != 2 {
		return nil, ops.Invalidf("Gemm needs 2-D A and B, they are %v and %v", a, b)
	}
	p := &gemmPlan{transA: o.transA, transB: o.transB, alpha: o.alpha, beta: o.beta}
	p.m, p.k = a[0], a[1]
	if o.transA {
		p.m, p.k = a[1], a[0]
	}
	kb, n := b[0], b[1]
	if o.transB {
		kb, n = b[1], b[0]
	}
	p.n = n
	if kb != p.k {
		return nil, ops.Invalidf("Gemm A is %v (transA=%t) and B is %v (transB=%t): K=%d != %d",
			a, o.transA, b, o.transB, p.k, kb)
	}
	if hasC {
		c := in[2].Shape
		if len(c) > 2 {
			return nil, ops.Invalidf("Gemm C is %v, which does not broadcast to [%d,%d]", c, p.m, p.n)
		}
		// Right-align C against [M,N]: missing dims and 1s broadcast.
		cm, cn := 1, 1
		if len(c) >= 1 {
			cn = c[len(c)-1]
		}
		if len(c) == 2 {
			cm = c[0]
		}
		if (cm != 1 && cm != p.m) || (cn != 1 && cn != p.n) {
			return nil, ops.Invalidf("Gemm C is %v, which does not broadcast to [%d,%d]", c, p.m, p.n)
		}
		if cm == p.m && p.m != 1 {
			p.cRowStride = cn
		}
		if cn == p.n && p.n != 1 {
			p.cColStride = 1
		}
		p.hasC = o.beta != 0
	}
	return p, nil
}

func (o *gemmOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	return o.prepare(in, true)
}

// prepare makes the kernel; makePanels false leaves a constant B unpacked, for FusedGemm's vector-matrix
// path, which reads B in a layout of its own (gemvWeights).
func (o *gemmOp) prepare(in []ops.ValueInfo, makePanels bool) (*gemmKernel, error) {
	p, err := o.plan(in)
	if err != nil {
		return nil, err
	}
	k := &gemmKernel{plan: p, droppedB: in[1].Const != nil && in[1].Const.Dropped()}
	if in[0].DType == ops.Float32 {
		if b := in[1].Const; b != nil && makePanels && p.m > 0 && p.n > 0 && p.k > 0 {
			// A constant B (a weight matrix) is packed into the GEMM's panel layout once per plan, so
			// runs skip packing it.
			// Every node that packs this B the same way shares one copy (ops.Prepack).
			_, ldb := p.dims()
			k.packedB = packPanels(in[1], p.transB, p.k, p.n, ldb)
		}
		if p.hasC && p.beta == 1 {
			// C as a row or column vector is a bias the GEMM adds while each tile is in registers.
			switch {
			case p.cRowStride == 0 && p.cColStride == 1:
				k.bias = gemm.BiasPerCol
			case p.cRowStride == 1 && p.cColStride == 0:
				k.bias = gemm.BiasPerRow
			}
		}
	}
	cSize := 0
	if p.hasC {
		cSize = in[2].Shape.Size()
	}
	k.scratch = ops.HalfScratch(in[0].DType, in[0].Shape.Size(), in[1].Shape.Size(), cSize, p.m*p.n)
	return k, nil
}

// panelsLayout is the pack-cache key of B's GEMM panels (ops.Prepack).
func panelsLayout(transB bool, k, n, ldb int) string {
	return fmt.Sprintf("gemm.PackB transB=%t k=%d n=%d ldb=%d", transB, k, n, ldb)
}

// packPanels returns the constant b's GEMM panels (op(B) k×n, ldb its row stride), shared through its
// pack cache. When b was dropped after only its vector-matrix layout was made (FusedGemm at M = 1 makes
// no panels) they come from that layout, which holds op(B) row by row; nil when b was dropped and neither
// form exists.
func packPanels(b ops.ValueInfo, transB bool, k, n, ldb int) *gemm.PackedB {
	c, layout := b.Const, panelsLayout(transB, k, n, ldb)
	panels := ops.Prepack(b.Packs, c, layout, func() *gemm.PackedB { return gemm.PackB(transB, k, n, c.Float32s(), ldb) })
	if panels != nil || !c.Dropped() {
		return panels
	}
	if g := ops.Prepack[*gemvWeights](b.Packs, c, gemvLayout(transB, k, n), nil); g != nil {
		return ops.PrepackFromPacked(b.Packs, c, layout, func() *gemm.PackedB { return gemm.PackB(false, k, n, g.w, g.ld) })
	}
	return nil
}

type gemmKernel struct {
	plan    *gemmPlan
	packedB *gemm.PackedB // B packed at plan time when it is a float32 constant
	// droppedB: B is a constant the runtime dropped (ops.Tensor.DropData), only its packed forms left.
	droppedB bool
	bias     gemm.BiasMode // C fused as a per-row or per-column bias (float32, beta == 1)
	scratch  int           // float32s for widened float16/bfloat16 operands and result
}

func (k *gemmKernel) ScratchSize() int { return k.scratch }

// PackedInputs: a packed B is all Run reads of B, and its layout depends on B's shape and transB only,
// not on M, so that the node prepared at another batch finds it packed (ops.PackedOnly).
func (k *gemmKernel) PackedInputs() []int { return packedBInput(k.skipsB()) }

// skipsB reports whether Run leaves B's elements alone: it reads the packed form, or B was dropped and
// there is nothing to compute (a batch of 0, prepared after a larger one dropped B).
func (k *gemmKernel) skipsB() bool {
	return k.packedB != nil || k.droppedB && k.plan.m*k.plan.n == 0
}

// FLOPs counts multiply-adds.
func (k *gemmKernel) FLOPs() int64 { return int64(k.plan.m) * int64(k.plan.n) * int64(k.plan.k) }

func (k *gemmKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	p := k.plan
	var cData any
	if p.hasC {
		cData = in[2].Data()
	}
	switch a := in[0].Data().(type) {
	case []float32:
		c, _ := cData.([]float32)
		var b []float32
		if !k.skipsB() { // else B may be a constant whose data the runtime dropped (PackedInputs)
			b = in[1].Float32s()
		}
		k.runFloat32(ctx, a, b, c, out[0].Float32s())
	case []float64:
		c, _ := cData.([]float64)
		runGemm(p, a, ops.Data[float64](in[1]), c, ops.Data[float64](out[0]))
	case []int32:
		c, _ := cData.([]int32)
		runGemm(p, a, ops.Data[int32](in[1]), c, ops.Data[int32](out[0]))
	case []int64:
		c, _ := cData.([]int64)
		runGemm(p, a, ops.Data[int64](in[1]), c, ops.Data[int64](out[0]))
	case []uint32:
		c, _ := cData.([]uint32)
		runGemm(p, a, ops.Data[uint32](in[1]), c, ops.Data[uint32](out[0]))
	case []uint64:
		c, _ := cData.([]uint64)
		runGemm(p, a, ops.Data[uint64](in[1]), c, ops.Data[uint64](out[0]))
	case []ops.Float16Bits, []ops.BFloat16Bits:
		var c *ops.Tensor
		if p.hasC {
			c = in[2]
		}
		w := ops.NewWidener(ctx.Scratch)
		k.runFloat32(ctx, w.In(in[0]), w.In(in[1]), w.In(c), w.Out(out[0]))
		w.Narrow()
	}
	return nil
}

func (p *gemmPlan) dims() (lda, ldb int) {
	lda, ldb = p.k, p.n
	if p.transA {
		lda = p.m
	}
	if p.transB {
		ldb = p.k
	}
	return max(1, lda), max(1, ldb)
}

// runFloat32 hands the product to gemm.Multiply: with B prepacked when it is constant, C fused as a bias
// when it is a vector and beta is 1, and otherwise C broadcast into Y first and scaled by beta there.
func (k *gemmKernel) runFloat32(ctx *ops.ExecContext, a, b, c, y []float32) {
	p := k.plan
	lda, ldb := p.dims()
	params := gemm.Params{
		TransA: p.transA, TransB: p.transB, M: p.m, N: p.n, K: p.k, Alpha: p.alpha,
		A: a, LDA: lda, B: b, LDB: ldb, PackedB: k.packedB,
		C: y, LDC: max(1, p.n), Pool: gemmPool(ctx), Done: kernelutil.DoneOf(ctx),
	}
	switch {
	case k.bias != gemm.BiasNone:
		params.Epilogue = gemm.Epilogue{Bias: c, BiasMode: k.bias}
	case p.hasC:
		for i := 0; i < p.m; i++ {
			row := y[i*p.n : (i+1)*p.n]
			for j := range row {
				row[j] = c[i*p.cRowStride+j*p.cColStride]
			}
		}
		params.Beta = p.beta
	}
	gemm.Multiply(&params)
}

// gemmPool is the session's worker pool, or nil (the calling goroutine only).
func gemmPool(ctx *ops.ExecContext) *parallel.Pool {
	return ctx.Pool
}

// runGemm is runFloat32 for the other number types: the product first, then alpha and beta*C. Integers
// scale through float64 (alpha and beta are floats) unless both are 1, where the sum stays exact.
func runGemm[T ops.Number](p *gemmPlan, a, b, c, y []T) {
	lda, ldb := p.dims()
	gemmLoop(p.transA, p.transB, p.m, p.n, p.k, a, lda, b, ldb, y, max(1, p.n))
	alpha, beta := float64(p.alpha), float64(p.beta)
	if !p.hasC {
		beta = 0
	}
	if alpha == 1 && (beta == 0 || beta == 1) {
		if beta == 1 {
			for i := 0; i < p.m; i++ {
				row := y[i*p.n : (i+1)*p.n]
				for j := range row {
					row[j] += c[i*p.cRowStride+j*p.cColStride]
				}
			}
		}
		return
	}
	for i := 0; i < p.m; i++ {
		row := y[i*p.n : (i+1)*p.n]
		for j := range row {
			v := alpha * float64(row[j])
			if beta != 0 {
				v += beta * float64(c[i*p.cRowStride+j*p.cColStride])
			}
			row[j] = T(v)
		}
	}
}
