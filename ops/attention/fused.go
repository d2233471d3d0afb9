package attention

// FusedAttention (domain "onnxrun", opset 1) is the scaled dot-product attention that exporters write out
// as MatMul → Mul|Div(scale) → [Add(mask)] → Softmax(last axis) → MatMul, run as one kernel. For every
// index n over the leading dimensions (batch × heads):
//
//	S[i, j] = scale · Σ_d Q[n, i, d] · K[n, j, d]        (K[n, d, j] when transposed_k = 1)
//	S[i, j] += Mask[n, i, j]                             (Mask broadcast to S; optional)
//	Y[n, i] = Σ_j softmax(S[i])[j] · V[n, j]             (a row whose every key the mask sets to -inf: zeros,
//	                                                      as ONNX Attention gives, where Softmax gives NaN)
//
// Q is [..., Sq, D], K [..., Sk, D] (or [..., D, Sk]: the right operand of the exported MatMul as it is),
// V [..., Sk, Dv], all with the same leading dimensions; Y is [..., Sq, Dv]. float32 only. The graph pass
// runtime/pass_fuse_attention.go writes it.
//
// The optional attributes q_perm, k_perm and v_perm say that an input is given before the Transpose that
// makes the operand: the operand is Transpose(input, perm), read in place through strides. y_perm says
// that the node's output is Transpose(Y, y_perm), written in place. This is how the heads of [B, S, H·dh]
// (or torch's [S, B·H, dh]) projections are read and written without the Transposes exporters put around
// attention. Each perm keeps the last axis last, so that every row of an operand is contiguous.
//
// The leading indices are split across the session's threads, each thread with its own Sq×Sk scores in the
// scratch memory the planner gives the kernel: a GEMM for the scores, the mask and a row softmax
// (vecmath.Softmax) while they are in cache, a GEMM with V. The scores never go to memory as a tensor, and
// the whole attention runs in one parallel section instead of five kernels of which only the MatMuls were
// parallel.

import (
	"math"
	goruntime "runtime"
	"sync"
	"sync/atomic"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/vecmath"
)

func init() {
	ops.Register(ops.FusedDomain, "FusedAttention", ops.Since(1, buildFusedAttention))
}

type fusedAttentionOp struct {
	scale      float32
	transposeK bool
	// perms holds q_perm, k_perm, v_perm and y_perm (nil: the identity).
	perms [4][]int
}

// permAttrs names the layout attributes in the order of fusedAttentionOp.perms.
var permAttrs = [4]string{"q_perm", "k_perm", "v_perm", "y_perm"}

func buildFusedAttention(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &fusedAttentionOp{scale: r.Float("scale", 1), transposeK: r.Int("transposed_k", 0) != 0}
	for i, name := range permAttrs {
		op.perms[i] = r.IntsAsInts(name, nil)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if n.NumOutputs != 1 {
		return nil, ops.Invalidf("FusedAttention has one output, the node declares %d", n.NumOutputs)
	}
	return op, nil
}

// fusedAttentionShape is a node's geometry.
type fusedAttentionShape struct {
	batch            int // product of the leading dimensions
	sq, sk, d, dv    int
	out              ops.Shape
	maskBase         []int // per leading index, the offset of its mask plane (nil: no mask)
	maskRow, maskCol int   // the mask's strides along Sq and Sk (0 where it broadcasts)
	// q, k, v and y place each leading index's matrix in the inputs and the output.
	q, k, v, y operandLayout
}

// operandLayout places the matrices of an operand in its tensor: the matrix of leading index n starts at
// base[n] and its rows are ld apart (its columns are contiguous).
type operandLayout struct {
	base []int
	ld   int
}

// newOperandLayout returns the logical shape of Transpose(physical, perm) (perm nil: the identity) and
// where each of its matrices lies in the physical tensor. perm must keep the last axis last.
func newOperandLayout(name string, physical ops.Shape, perm []int) (ops.Shape, operandLayout, error) {
	rank := len(physical)
	if perm == nil {
		perm = make([]int, rank)
		for i := range perm {
			perm[i] = i
		}
	}
	if len(perm) != rank || !isPermutation(perm) || perm[rank-1] != rank-1 {
		return nil, operandLayout{}, ops.Invalidf("%s %v: perm %v must be a permutation of its %d axes that keeps the last one last",
			name, physical, perm, rank)
	}
	physicalStrides := physical.Strides()
	logical := make(ops.Shape, rank)
	strides := make([]int, rank)
	for i, p := range perm {
		logical[i], strides[i] = physical[p], physicalStrides[p]
	}
	return logical, operandLayout{base: leadingOffsets(logical[:rank-2], strides), ld: strides[rank-2]}, nil
}

// leadingOffsets returns, for each index n over the leading dimensions lead in row-major order, the
// offset Σ index[a]·strides[a] of its matrix.
func leadingOffsets(lead ops.Shape, strides []int) []int {
	offsets := make([]int, lead.Size())
	for n := range offsets {
		off, rem := 0, n
		for a := len(lead) - 1; a >= 0; a-- {
			off += (rem % lead[a]) * strides[a]
			rem /= lead[a]
		}
		offsets[n] = off
	}
	return offsets
}

// isPermutation reports whether perm holds each of 0 … len(perm)-1 once.
func isPermutation(perm []int) bool {
	seen := make([]bool, len(perm))
	for _, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			return false
		}
		seen[p] = true
	}
	return true
}

// inversePerm returns the permutation that undoes perm (nil for nil).
func inversePerm(perm []int) []int {
	if perm == nil {
		return nil
	}
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[p] = i
	}
	return inv
}

func (op *fusedAttentionOp) shape(in []ops.ValueInfo) (fusedAttentionShape, error) {
	var s fusedAttentionShape
	if err := ops.CheckInputCount(in, 3, 4); err != nil {
		return s, err
	}
	for i, name := range [...]string{"Q", "K", "V", "Mask"} {
		if x := ops.Input(in, i); x.Present() && x.DType != ops.Float32 {
			return s, ops.Unsupportedf("%s has dtype %s: FusedAttention is float32 only", name, x.DType)
		}
	}
	rank := len(in[0].Shape)
	if rank < 2 || len(in[1].Shape) != rank || len(in[2].Shape) != rank {
		return s, ops.Invalidf("Q %v, K %v and V %v must have the same rank, at least 2", in[0].Shape, in[1].Shape, in[2].Shape)
	}
	var q, k, v ops.ValueInfo
	var err error
	for i, operand := range [...]struct {
		name   string
		info   *ops.ValueInfo
		layout *operandLayout
	}{{"Q", &q, &s.q}, {"K", &k, &s.k}, {"V", &v, &s.v}} {
		*operand.info = in[i]
		if operand.info.Shape, *operand.layout, err = newOperandLayout(operand.name, in[i].Shape, op.perms[i]); err != nil {
			return s, err
		}
	}
	lead := q.Shape[:rank-2]
	if !ops.Shape(k.Shape[:rank-2]).Equal(lead) || !ops.Shape(v.Shape[:rank-2]).Equal(lead) {
		return s, ops.Invalidf("Q %v, K %v and V %v must have the same leading dimensions", q.Shape, k.Shape, v.Shape)
	}
	s.sq, s.d = q.Shape[rank-2], q.Shape[rank-1]
	kRows, kCols := k.Shape[rank-2], k.Shape[rank-1]
	if op.transposeK {
		kRows, kCols = kCols, kRows
	}
	s.sk = kRows
	if kCols != s.d {
		return s, ops.Invalidf("K %v (transposed_k %t) has head size %d, Q %v has %d", k.Shape, op.transposeK, kCols, q.Shape, s.d)
	}
	if v.Shape[rank-2] != s.sk {
		return s, ops.Invalidf("V %v has %d keys, K %v has %d", v.Shape, v.Shape[rank-2], k.Shape, s.sk)
	}
	s.dv = v.Shape[rank-1]
	s.batch = ops.Shape(lead).Size()
	logicalY := append(ops.Shape(lead).Clone(), s.sq, s.dv)
	s.out = logicalY
	if yPerm := op.perms[3]; yPerm != nil {
		// The output is Transpose(Y, y_perm): Y is the output read through the inverse permutation.
		if len(yPerm) != rank || !isPermutation(yPerm) {
			return s, ops.Invalidf("y_perm %v is not a permutation of Y's %d axes", yPerm, rank)
		}
		s.out = make(ops.Shape, rank)
		for j, p := range yPerm {
			s.out[j] = logicalY[p]
		}
	}
	if _, s.y, err = newOperandLayout("Y", s.out, inversePerm(op.perms[3])); err != nil {
		return s, err
	}
	if mask := ops.Input(in, 3); mask.Present() {
		scores := append(ops.Shape(lead).Clone(), s.sq, s.sk)
		strides, ok := broadcastInto(mask.Shape, scores)
		if !ok {
			return s, ops.Invalidf("Mask %v does not broadcast to the scores %v", mask.Shape, scores)
		}
		s.maskBase = leadingOffsets(scores[:rank-2], strides)
		s.maskRow, s.maskCol = strides[rank-2], strides[rank-1]
	}
	return s, nil
}

// broadcastInto returns the strides with which a tensor of shape from is read at each index of shape to
// (0 along the axes it broadcasts over), and whether from broadcasts to to unidirectionally.
func broadcastInto(from, to ops.Shape) ([]int, bool) {
	if len(from) > len(to) {
		return nil, false
	}
	strides := make([]int, len(to))
	stride := 1
	for i := 1; i <= len(to); i++ {
		t := to[len(to)-i]
		f := 1
		if i <= len(from) {
			f = from[len(from)-i]
		}
		switch {
		case f == t:
			strides[len(to)-i] = stride
		case f == 1:
		default:
			return nil, false
		}
		stride *= f
	}
	return strides, true
}

func (op *fusedAttentionOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: ops.Float32, Shape: s.out}}, nil
}

func (op *fusedAttentionOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return newFusedAttentionKernel(op, s), nil
}

// newFusedAttentionKernel sizes the kernel's scratch for up to one thread per CPU (at most 64).
func newFusedAttentionKernel(op *fusedAttentionOp, s fusedAttentionShape) *fusedAttentionKernel {
	return &fusedAttentionKernel{op: op, s: s, maxThreads: max(1, min(goruntime.GOMAXPROCS(0), 64))}
}

// fusedAttentionKernel runs FusedAttention; each of up to maxThreads threads has its own scores in the
// scratch memory.
type fusedAttentionKernel struct {
	op         *fusedAttentionOp
	s          fusedAttentionShape
	maxThreads int
}

// ScratchSize is one Sq×Sk scores matrix per thread.
func (k *fusedAttentionKernel) ScratchSize() int { return k.maxThreads * k.s.sq * k.s.sk }

// FLOPs counts the multiply-adds of the two products.
func (k *fusedAttentionKernel) FLOPs() int64 {
	s := k.s
	return int64(s.batch) * int64(s.sq) * int64(s.sk) * int64(s.d+s.dv)
}

func (k *fusedAttentionKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	var mask []float32
	if m := ops.TensorAt(in, 3); m != nil {
		mask = m.Float32s()
	}
	t := fusedAttentionTaskPool.Get().(*fusedAttentionTask)
	*t = fusedAttentionTask{k: k, q: in[0].Float32s(), kk: in[1].Float32s(), v: in[2].Float32s(), mask: mask,
		y: out[0].Float32s(), scratch: ctx.Scratch}
	if threads := min(ctx.Pool.Threads(), k.maxThreads, k.s.batch); threads > 1 {
		ctx.Pool.ForTask(threads, t)
	} else {
		t.Do(0, 1)
	}
	*t = fusedAttentionTask{}
	fusedAttentionTaskPool.Put(t)
	return nil
}

// fusedAttentionTask is one Run. The pool calls Do once per thread with that thread's index as lo (or once
// with [0, threads) on the calling goroutine when it is busy); each call claims leading indices one at a
// time, so a thread that starts late does not hold up the others, and works in the scores of slot lo.
type fusedAttentionTask struct {
	k                 *fusedAttentionKernel
	q, kk, v, mask, y []float32
	scratch           []float32
	next              atomic.Int32
}

var fusedAttentionTaskPool = sync.Pool{New: func() any { return new(fusedAttentionTask) }}

func (t *fusedAttentionTask) Do(slot, _ int) {
	s := &t.k.s
	scores := t.scratch[slot*s.sq*s.sk : (slot+1)*s.sq*s.sk]
	for {
		n := int(t.next.Add(1) - 1)
		if n >= s.batch {
			return
		}
		t.k.head(n, t.q, t.kk, t.v, t.mask, t.y, scores)
	}
}

// head computes the attention of leading index n in scores.
//
// It takes all of the head's query rows at once: the scores (64 KB at 128 tokens, 155 KB at ViT's 197)
// stay in L2 between the two products. Blocks of query rows, to keep them in L1, were measured slower on
// BERT-base's heads (12×128×64, one thread, CPU time of 1000 runs: all rows 0.42 s, blocks of 64 rows
// 0.46 s, 32 rows 0.54 s, 16 rows 0.71 s), since every block packs K and V again for its products.
func (k *fusedAttentionKernel) head(n int, q, kk, v, mask, y, scores []float32) {
	s := &k.s
	qn, kn, vn, yn := q[s.q.base[n]:], kk[s.k.base[n]:], v[s.v.base[n]:], y[s.y.base[n]:]
	gemm.Sgemm(false, !k.op.transposeK, s.sq, s.sk, s.d, k.op.scale, qn, s.q.ld, kn, s.k.ld, 0, scores, s.sk)
	for i := 0; i < s.sq; i++ {
		row := scores[i*s.sk : (i+1)*s.sk]
		if mask != nil {
			m := mask[s.maskBase[n]+i*s.maskRow:]
			peak := float32(math.Inf(-1))
			for j := range row {
				row[j] += m[j*s.maskCol]
				peak = max(peak, row[j])
			}
			if math.IsInf(float64(peak), -1) {
				clear(row)
				continue
			}
		}
		vecmath.Softmax(row, row)
	}
	gemm.Sgemm(false, false, s.sq, s.dv, s.sk, 1, scores, s.sk, vn, s.v.ld, 0, yn, s.y.ld)
}

// fusedKernel returns the FusedAttention kernel that computes the ONNX Attention node of shape s, when the
// node is in its float32 core: 4-D Q, K and V with as many key/value heads as query heads, no cache, no
// padding lengths, no causal masking or soft-capping, only the output Y, and no mask or a float32 one
// covering every key. Otherwise nil: the general kernel runs it.
func (op *attentionOp) fusedKernel(in []ops.ValueInfo, s attentionShape, outputs int) ops.Kernel {
	q := in[attnQ]
	if q.DType != ops.Float32 || s.threeD == 1 || s.qHeads != s.kvHeads || s.past != 0 || op.causal || op.softcap != 0 || outputs != 1 ||
		ops.Input(in, attnNonpad).Present() {
		return nil
	}
	fusedIn := in[:3]
	if m := ops.Input(in, attnMask); m.Present() {
		if m.DType != ops.Float32 || s.mask[3] != s.total {
			return nil
		}
		fusedIn = []ops.ValueInfo{in[attnQ], in[attnK], in[attnV], m}
	}
	scale := float32(1 / math.Sqrt(float64(s.headSize)))
	if op.hasScale {
		scale = float32(op.scale)
	}
	fused := &fusedAttentionOp{scale: scale}
	fs, err := fused.shape(fusedIn)
	if err != nil {
		return nil
	}
	return newFusedAttentionKernel(fused, fs)
}
