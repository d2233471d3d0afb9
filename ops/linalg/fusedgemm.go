package linalg

// FusedGemm (domain "onnxrun", opset 1) is a Gemm followed by an activation, run as one GEMM whose
// epilogue applies the activation while each tile is in registers:
//
//	Y = activation(alpha*A'*B' + beta*C)
//
// The graph pass runtime/pass_fuse_activation.go writes it for Gemm (opset 7 on: C broadcasts
// unidirectionally) and 2-D MatMul nodes followed by an activation. Attributes are Gemm's (alpha, beta,
// transA, transB) plus activation and activation_params as ops/internal/activation reads them (Relu, Clip
// [min, max], Sigmoid, SiLU, HardSigmoid, HardSwish, LeakyRelu, Tanh, Gelu, GeluTanh; absent means none),
// as in ONNX Runtime's com.microsoft FusedGemm. Relu and Clip run in the GEMM's store; the others over
// Y's rows after the product (per 32 columns on the one-row path), split across the session's threads by
// rows when Y is large. C is optional, as in Gemm-13. float32 only.
//
// Unlike Gemm, A may have more than two dimensions when transA = 0: its leading dimensions are all rows,
// as MatMul multiplies [..., M, K] by a 2-D B, and Y is A's shape with the last dimension N. The pass
// fuse-matmul-add-into-gemm writes that for a transformer's Linear layer (MatMul of [1, 197, 768] by a
// constant [768, 3072], then Add of a bias), so that the bias goes into the GEMM's store.

import (
	"fmt"

	"math"
	"sync"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/activation"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register(ops.FusedDomain, "FusedGemm", ops.Since(1, buildFusedGemm))
}

type fusedGemmOp struct {
	gemm *gemmOp
	act  gemm.Epilogue   // Act, Min and Max only
	post activation.Func // the other activations, applied to Y's rows after the product
}

func buildFusedGemm(n ops.NodeInfo) (ops.Op, error) {
	g, err := buildGemm(ops.DTypes(ops.Float32), false)(n)
	if err != nil {
		return nil, err
	}
	r := ops.NewAttrReader(n.Attrs)
	name := r.String("activation", "")
	params := r.Floats("activation_params", nil)
	if err := r.Err(); err != nil {
		return nil, err
	}
	f, err := activation.Parse(name, params)
	if err != nil {
		return nil, err
	}
	op := &fusedGemmOp{gemm: g.(*gemmOp)}
	switch f.Kind {
	case activation.None:
	case activation.Relu:
		op.act = gemm.Epilogue{Act: gemm.ActReLU, Max: float32(math.Inf(1))}
	case activation.Clip:
		op.act = gemm.Epilogue{Act: gemm.ActClip, Min: f.Alpha, Max: f.Beta}
	default:
		op.post = f
	}
	return op, nil
}

func (o *fusedGemmOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	flat, leading := o.flattenA(in)
	out, err := o.gemm.InferShapes(flat)
	if err != nil || leading == nil {
		return out, err
	}
	out[0].Shape = append(leading.Clone(), out[0].Shape[1])
	return out, nil
}

// flattenA returns in with an A of more than two dimensions (transA = 0) seen as the 2-D matrix of its
// rows, and A's leading dimensions (nil when A is left as it is).
func (o *fusedGemmOp) flattenA(in []ops.ValueInfo) ([]ops.ValueInfo, ops.Shape) {
	a := in[0].Shape
	if len(a) <= 2 || o.gemm.transA {
		return in, nil
	}
	flat := append([]ops.ValueInfo(nil), in...)
	flat[0].Shape = ops.Shape{a[:len(a)-1].Size(), a[len(a)-1]}
	return flat, a[:len(a)-1]
}

func (o *fusedGemmOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	flat, _ := o.flattenA(in)
	plan, err := o.gemm.plan(flat)
	if err != nil {
		return nil, err
	}
	// At M = 1 with a constant B the vector-matrix path reads B in its own layout, and B's GEMM panels
	// are not made: holding both would double the weights of a model run one token at a time (GPT-2's
	// decoder step held 648 MiB for 325 MiB of weights). A later Prepare at M > 1 makes the panels from
	// that layout if B's elements were dropped meanwhile (gemmOp.prepare).
	useGemv := plan.m == 1 && plan.k > 0 && plan.n > 0 && haveGemvAsm && in[1].Const != nil && in[0].DType == ops.Float32
	k, err := o.gemm.prepare(flat, !useGemv)
	if err != nil {
		return nil, err
	}
	fk := &fusedGemmKernel{gemmKernel: k, act: o.act, post: o.post, postStep: activation.Finisher{F: o.post}}
	if p := fk.plan; useGemv {
		b := in[1].Const
		layout := gemvLayout(p.transB, p.k, p.n)
		fk.gemv = ops.Prepack(in[1].Packs, b, layout, func() *gemvWeights { return newGemvWeights(p.transB, p.k, p.n, b.Float32s()) })
		if fk.gemv == nil && b.Dropped() {
			// Only B's GEMM panels are left (a plan first run at another batch dropped B's elements):
			// the same vector-matrix layout comes from them, op(B) unpacked.
			_, ldb := p.dims()
			if panels := ops.Prepack[*gemm.PackedB](in[1].Packs, b, panelsLayout(p.transB, p.k, p.n, ldb), nil); panels != nil {
				fk.gemv = ops.PrepackFromPacked(in[1].Packs, b, layout, func() *gemvWeights { return newGemvWeights(false, p.k, p.n, panels.Unpack()) })
			}
		}
	}
	return fk, nil
}

// gemvLayout is the pack-cache key of the vector-matrix layout of a Gemm's B (ops.Prepack).
func gemvLayout(transB bool, k, n int) string {
	return fmt.Sprintf("linalg.gemvWeights transB=%t k=%d n=%d", transB, k, n)
}

// fusedGemmKernel is Gemm's float32 kernel with the activation in the GEMM's epilogue.
type fusedGemmKernel struct {
	*gemmKernel
	act  gemm.Epilogue
	post activation.Func
	// postStep applies post as the GEMM's Finisher.
	postStep activation.Finisher
	gemv     *gemvWeights // M = 1 with constant B: the vector-matrix path (gemv.go)
}

// PackedInputs: B's packed GEMM panels serve every M, and at M = 1 the vector-matrix path's layout of B is
// made from them once B's elements are dropped (ops.PackedOnly).
func (k *fusedGemmKernel) PackedInputs() []int { return packedBInput(k.skipsB() || k.gemv != nil) }

func (k *fusedGemmKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	p := k.plan
	var c []float32
	if p.hasC {
		c = in[2].Float32s()
	}
	a, y := in[0].Float32s(), out[0].Float32s()
	var b []float32
	if !k.skipsB() && k.gemv == nil { // else B may be a constant whose data the runtime dropped
		b = in[1].Float32s()
	}
	if k.gemv != nil {
		k.runGemv(ctx, a, c, y)
		return nil
	}
	lda, ldb := p.dims()
	params := gemm.Params{
		TransA: p.transA, TransB: p.transB, M: p.m, N: p.n, K: p.k, Alpha: p.alpha,
		A: a, LDA: lda, B: b, LDB: ldb, PackedB: k.packedB,
		C: y, LDC: max(1, p.n), Pool: gemmPool(ctx), Done: kernelutil.DoneOf(ctx),
		Epilogue: k.act,
	}
	switch {
	case k.bias != gemm.BiasNone:
		params.Epilogue.Bias, params.Epilogue.BiasMode = c, k.bias
	case p.hasC:
		for i := 0; i < p.m; i++ {
			row := y[i*p.n : (i+1)*p.n]
			for j := range row {
				row[j] = c[i*p.cRowStride+j*p.cColStride]
			}
		}
		params.Beta = p.beta
	}
	if k.post.Kind != activation.None {
		// The activation the tiles cannot fuse runs on each thread's region of Y as the product finishes
		// it, inside the product's parallel section (a GELU after ViT's fc1, 197x3072, took a second one).
		params.Epilogue.Finish = &k.postStep
	}
	gemm.Multiply(&params)
	return nil
}

// gemvParallelMin is the multiply-adds (K·N) from which the vector-matrix product splits its column
// blocks across the pool. The product streams all of B once (4 bytes a multiply-add) and runs at memory
// speed: MobileNetV3's 960x1280 classifier layer (1.2M, 4.9 MB) took about 0.3 ms on one thread, and
// 128K multiply-adds, 0.5 MB, some 20 µs, against a few µs for a fork and join.
const gemvParallelMin = 128 << 10

// runGemv computes the one output row 32 columns at a time, the blocks of 32 split across the pool when
// the product is large (each block is computed alone, so the result does not depend on the threads):
//
//	y[j] = act(alpha * Σ_p a[p]*op(B)[p][j] + beta*C[j])
func (k *fusedGemmKernel) runGemv(ctx *ops.ExecContext, a, c, y []float32) {
	g := k.gemv
	blocks := (g.n + 31) / 32
	if ctx.Pool.Threads() < 2 || blocks < 2 || g.k*g.n < gemvParallelMin {
		k.gemvBlocks(a, c, y, 0, blocks)
		return
	}
	t := gemvTaskPool.Get().(*gemvTask)
	*t = gemvTask{k: k, a: a, c: c, y: y}
	ctx.Pool.ForTask(blocks, t)
	*t = gemvTask{}
	gemvTaskPool.Put(t)
}

// gemvTask is one threaded vector-matrix product: each thread takes a range of the column blocks.
type gemvTask struct {
	k       *fusedGemmKernel
	a, c, y []float32
}

var gemvTaskPool = sync.Pool{New: func() any { return new(gemvTask) }}

func (t *gemvTask) Do(lo, hi int) { t.k.gemvBlocks(t.a, t.c, t.y, lo, hi) }

// gemvBlocks computes the column blocks [lo, hi) of runGemv (columns 32·lo to 32·hi, cut at N).
func (k *fusedGemmKernel) gemvBlocks(a, c, y []float32, lo, hi int) {
	p, g := k.plan, k.gemv
	var acc [32]float32
	for j0 := 32 * lo; j0 < min(32*hi, g.n); j0 += 32 {
		gemv32(g.k, a, g.w[j0:], g.ld, &acc)
		for j := range min(32, g.n-j0) {
			v := p.alpha * acc[j]
			if p.hasC {
				v += p.beta * c[(j0+j)*p.cColStride]
			}
			switch k.act.Act {
			case gemm.ActReLU:
				if v < 0 {
					v = 0
				}
			case gemm.ActClip:
				if v < k.act.Min {
					v = k.act.Min
				}
				if v > k.act.Max {
					v = k.act.Max
				}
			}
			y[j0+j] = v
		}
		chunk := y[j0:min(j0+32, g.n)]
		k.post.Row(chunk, chunk)
	}
}
