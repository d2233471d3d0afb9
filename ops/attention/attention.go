package attention

// Attention: scaled dot-product attention, https://onnx.ai/onnx/operators/onnx__Attention.html, opsets 23
// and 24 (24 adds nonpad_kv_seqlen).
//
// For every batch entry b and query head h (kv head h / (q_num_heads / kv_num_heads), which covers
// multi-head, grouped-query and multi-query attention), with K and V the past cache followed by the new
// keys and values:
//
//	S[i, j] = scale · Q[i]·K[j]                      (scale defaults to 1/sqrt(head_size))
//	S = softcap · tanh(S / softcap)                  (when softcap > 0)
//	S[i, j] += mask bias                             (float mask: its value; bool mask: -inf where false;
//	                                                  keys past the mask's last axis, padding keys past
//	                                                  nonpad_kv_seqlen and, with is_causal, keys j > i +
//	                                                  offset: -inf)
//	Y[i] = Σ_j softmax(S[i])[j] · V[j]               (a row with every key masked gives zeros)
//
// The causal offset is the past length with a cache, nonpad_kv_seqlen - q_sequence_length with an external
// one, else 0. 3-D inputs are [batch, seq, heads·size] and are split into heads by q_num_heads and
// kv_num_heads. qk_matmul_output is S after the product (mode 0), the softcap (1), the mask (2) or the
// softmax (3). Everything is computed in float64 and rounded once to each output's type.

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "Attention", ops.Since(23, buildAttention), ops.Since(24, buildAttention))
}

type attentionOp struct {
	opset            int
	causal           bool
	qHeads, kvHeads  int // 0: from 4-D inputs
	qkMode           int
	scale            float64
	hasScale         bool
	softcap          float64
	softmaxPrecision int64
}

func buildAttention(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &attentionOp{opset: n.Opset, causal: r.Int("is_causal", 0) != 0,
		qHeads: int(r.Int("q_num_heads", 0)), kvHeads: int(r.Int("kv_num_heads", 0)),
		qkMode: int(r.Int("qk_matmul_output_mode", 0)), hasScale: r.Has("scale"),
		scale: float64(r.Float("scale", 0)), softcap: float64(r.Float("softcap", 0)),
		softmaxPrecision: r.Int("softmax_precision", 0)}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if op.qkMode < 0 || op.qkMode > 3 {
		return nil, &ops.AttrError{Name: "qk_matmul_output_mode", Msg: fmt.Sprintf("is %d, want 0 to 3", op.qkMode)}
	}
	if op.qHeads < 0 || op.kvHeads < 0 {
		return nil, &ops.AttrError{Name: "q_num_heads", Msg: fmt.Sprintf("q_num_heads %d and kv_num_heads %d must not be negative", op.qHeads, op.kvHeads)}
	}
	if op.softcap < 0 || math.IsNaN(op.softcap) {
		return nil, &ops.AttrError{Name: "softcap", Msg: fmt.Sprintf("is %g, want 0 (none) or more", op.softcap)}
	}
	return op, nil
}

// Input positions.
const (
	attnQ = iota
	attnK
	attnV
	attnMask
	attnPastKey
	attnPastValue
	attnNonpad
)

// attentionShape is a node's geometry.
type attentionShape struct {
	batch, qHeads, kvHeads, qSeq, kvSeq, past, total, headSize, vHeadSize int
	threeD                                                                int
	mask                                                                  [4]int // the mask's dims right-aligned to [batch, heads, q, keys]; 0: none
	boolMask                                                              bool
	outShapes                                                             [4]ops.Shape
	outTypes                                                              [4]ops.DType
}

func (op *attentionOp) shape(in []ops.ValueInfo) (attentionShape, error) {
	maxIn := 6
	if op.opset >= 24 {
		maxIn = 7
	}
	if err := ops.CheckInputCount(in, 3, maxIn); err != nil {
		return attentionShape{}, err
	}
	q, k, v := in[attnQ], in[attnK], in[attnV]
	for i, t := range []ops.ValueInfo{q, k, v} {
		if err := kernelutil.CheckFloat([]string{"Q", "K", "V"}[i], t.DType); err != nil {
			return attentionShape{}, err
		}
	}
	if k.DType != q.DType {
		return attentionShape{}, ops.Invalidf("K has dtype %s, Q has %s", k.DType, q.DType)
	}
	var s attentionShape
	rank := len(q.Shape)
	if rank != 3 && rank != 4 || len(k.Shape) != rank || len(v.Shape) != rank {
		return s, ops.Invalidf("Q, K and V have shapes %v, %v and %v, want all 3-D or all 4-D", q.Shape, k.Shape, v.Shape)
	}
	if rank == 4 {
		s.batch, s.qHeads, s.qSeq, s.headSize = q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
		s.kvHeads, s.kvSeq = k.Shape[1], k.Shape[2]
		if k.Shape[0] != s.batch || k.Shape[3] != s.headSize || !v.Shape[:3].Equal(k.Shape[:3]) {
			return s, ops.Invalidf("K %v and V %v do not fit Q %v (batch, kv heads, kv sequence and head size must agree)", k.Shape, v.Shape, q.Shape)
		}
		s.vHeadSize = v.Shape[3]
	} else {
		if op.qHeads == 0 || op.kvHeads == 0 {
			return s, ops.Invalidf("3-D Q, K and V need the q_num_heads and kv_num_heads attributes")
		}
		s.threeD = 1
		s.batch, s.qSeq, s.qHeads, s.kvHeads, s.kvSeq = q.Shape[0], q.Shape[1], op.qHeads, op.kvHeads, k.Shape[1]
		if q.Shape[2]%s.qHeads != 0 || k.Shape[2]%s.kvHeads != 0 || v.Shape[2]%s.kvHeads != 0 {
			return s, ops.Invalidf("hidden sizes of Q %v, K %v, V %v are not multiples of q_num_heads %d and kv_num_heads %d", q.Shape, k.Shape, v.Shape, s.qHeads, s.kvHeads)
		}
		s.headSize, s.vHeadSize = q.Shape[2]/s.qHeads, v.Shape[2]/s.kvHeads
		if k.Shape[0] != s.batch || v.Shape[0] != s.batch || v.Shape[1] != s.kvSeq || k.Shape[2]/s.kvHeads != s.headSize {
			return s, ops.Invalidf("K %v and V %v do not fit Q %v", k.Shape, v.Shape, q.Shape)
		}
	}
	if s.kvHeads == 0 || s.qHeads%s.kvHeads != 0 {
		return s, ops.Invalidf("q_num_heads %d is not a multiple of kv_num_heads %d", s.qHeads, s.kvHeads)
	}
	pk, pv := ops.Input(in, attnPastKey), ops.Input(in, attnPastValue)
	if pk.Present() != pv.Present() {
		return s, ops.Invalidf("past_key and past_value go together: give both or neither")
	}
	if pk.Present() {
		if len(pk.Shape) != 4 || !pk.Shape.Equal(ops.Shape{s.batch, s.kvHeads, pk.Shape[2], s.headSize}) || pk.DType != q.DType {
			return s, ops.Invalidf("past_key is %s%v, want %s[%d, %d, past, %d]", pk.DType, pk.Shape, q.DType, s.batch, s.kvHeads, s.headSize)
		}
		s.past = pk.Shape[2]
		if !pv.Shape.Equal(ops.Shape{s.batch, s.kvHeads, s.past, s.vHeadSize}) || pv.DType != v.DType {
			return s, ops.Invalidf("past_value is %s%v, want %s[%d, %d, %d, %d]", pv.DType, pv.Shape, v.DType, s.batch, s.kvHeads, s.past, s.vHeadSize)
		}
	}
	s.total = s.past + s.kvSeq
	if np := ops.Input(in, attnNonpad); np.Present() {
		if np.DType != ops.Int64 || !np.Shape.Equal(ops.Shape{s.batch}) {
			return s, ops.Invalidf("nonpad_kv_seqlen is %s%v, want int64[%d]", np.DType, np.Shape, s.batch)
		}
		if pk.Present() {
			return s, ops.Invalidf("nonpad_kv_seqlen cannot be used with past_key and past_value")
		}
	}
	if m := ops.Input(in, attnMask); m.Present() {
		if len(m.Shape) < 1 || len(m.Shape) > 4 {
			return s, ops.Invalidf("attn_mask has shape %v, want rank 1 to 4", m.Shape)
		}
		if m.DType == ops.Bool {
			s.boolMask = true
		} else if !m.DType.IsFloat() && !m.DType.IsInteger() {
			return s, ops.Invalidf("attn_mask has dtype %s, want bool or a number", m.DType)
		}
		s.mask = [4]int{1, 1, 1, 1}
		copy(s.mask[4-len(m.Shape):], m.Shape)
		target := [4]int{s.batch, s.qHeads, s.qSeq, s.total}
		for i := 0; i < 3; i++ {
			if s.mask[i] != 1 && s.mask[i] != target[i] {
				return s, ops.Invalidf("attn_mask has shape %v, which does not broadcast to [%d, %d, %d, %d]", m.Shape, target[0], target[1], target[2], target[3])
			}
		}
		if s.mask[3] > s.total {
			return s, ops.Invalidf("attn_mask's last axis is %d, longer than the %d keys", s.mask[3], s.total)
		}
	}
	if s.threeD == 1 {
		s.outShapes[0] = ops.Shape{s.batch, s.qSeq, s.qHeads * s.vHeadSize}
	} else {
		s.outShapes[0] = ops.Shape{s.batch, s.qHeads, s.qSeq, s.vHeadSize}
	}
	s.outShapes[1] = ops.Shape{s.batch, s.kvHeads, s.total, s.headSize}
	s.outShapes[2] = ops.Shape{s.batch, s.kvHeads, s.total, s.vHeadSize}
	s.outShapes[3] = ops.Shape{s.batch, s.qHeads, s.qSeq, s.total}
	s.outTypes = [4]ops.DType{q.DType, q.DType, v.DType, q.DType}
	return s, nil
}

func (op *attentionOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	out := make([]ops.ValueInfo, 4)
	for i := range out {
		out[i] = ops.ValueInfo{DType: s.outTypes[i], Shape: s.outShapes[i]}
	}
	return out, nil
}

func (op *attentionOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	if len(out) > 4 {
		return nil, ops.Invalidf("%d outputs, at most 4", len(out))
	}
	if fk := op.fusedKernel(in, s, len(out)); fk != nil {
		return fk, nil
	}
	return &attentionKernel{op: op, s: s, outputs: len(out)}, nil
}

type attentionKernel struct {
	op      *attentionOp
	s       attentionShape
	outputs int
}

// scratch layout, in float64s: K and V with the past prepended ([batch, kv heads, total, size]), Q
// ([batch, heads, q, size]), one row of scores, Y and the qk output.
func (k *attentionKernel) sizes() (kv, vv, q, row, y, qk int) {
	s := &k.s
	return s.batch * s.kvHeads * s.total * s.headSize, s.batch * s.kvHeads * s.total * s.vHeadSize,
		s.batch * s.qHeads * s.qSeq * s.headSize, s.total,
		s.batch * s.qHeads * s.qSeq * s.vHeadSize, s.batch * s.qHeads * s.qSeq * s.total
}

func (k *attentionKernel) float64s() int {
	a, b, c, d, e, f := k.sizes()
	return a + b + c + d + e + f
}

func (k *attentionKernel) ScratchSize() int { return ops.Float64ScratchLen(k.float64s()) }

// FLOPs counts the multiply-adds of the two products.
func (k *attentionKernel) FLOPs() int64 {
	s := &k.s
	return int64(s.batch) * int64(s.qHeads) * int64(s.qSeq) * int64(s.total) * int64(s.headSize+s.vHeadSize)
}

func (k *attentionKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	s, op := &k.s, k.op
	nk, nv, nq, nrow, ny, nqk := k.sizes()
	all := ops.Float64View(ctx.Scratch, k.float64s())
	keys, vals, q, row, y, qk := all[:nk], all[nk:nk+nv], all[nk+nv:nk+nv+nq], all[nk+nv+nq:nk+nv+nq+nrow],
		all[nk+nv+nq+nrow:nk+nv+nq+nrow+ny], all[nk+nv+nq+nrow+ny:nk+nv+nq+nrow+ny+nqk]

	// Q in [batch, heads, q, size]; K and V as [batch, kv heads, total, size], past first.
	loadHeads(q, in[attnQ], s.threeD == 1, s.batch, s.qHeads, s.qSeq, s.headSize, 0, s.qSeq)
	pk, pv := ops.TensorAt(in, attnPastKey), ops.TensorAt(in, attnPastValue)
	if pk != nil {
		loadHeads(keys, pk, false, s.batch, s.kvHeads, s.past, s.headSize, 0, s.total)
		loadHeads(vals, pv, false, s.batch, s.kvHeads, s.past, s.vHeadSize, 0, s.total)
	}
	loadHeads(keys, in[attnK], s.threeD == 1, s.batch, s.kvHeads, s.kvSeq, s.headSize, s.past, s.total)
	loadHeads(vals, in[attnV], s.threeD == 1, s.batch, s.kvHeads, s.kvSeq, s.vHeadSize, s.past, s.total)

	var nonpad []int64
	if t := ops.TensorAt(in, attnNonpad); t != nil {
		nonpad = t.Int64s()
		for b, n := range nonpad {
			if n < 0 || n > int64(s.total) {
				return ops.Invalidf("nonpad_kv_seqlen[%d] is %d, want 0 to %d", b, n, s.total)
			}
		}
	}
	mask := ops.TensorAt(in, attnMask)
	scale := 1 / math.Sqrt(float64(s.headSize))
	if op.hasScale {
		scale = op.scale
	}
	group := s.qHeads / s.kvHeads
	done := kernelutil.DoneOf(ctx)
	for b := 0; b < s.batch; b++ {
		valid := s.total
		offset := s.past
		if nonpad != nil {
			valid = int(nonpad[b])
			offset = valid - s.qSeq
		}
		for h := 0; h < s.qHeads; h++ {
			if kernelutil.Cancelled(done) {
				return nil // the outputs are unfinished; the runtime reports the context's error
			}
			kvh := h / group
			kb := keys[(b*s.kvHeads+kvh)*s.total*s.headSize:]
			vb := vals[(b*s.kvHeads+kvh)*s.total*s.vHeadSize:]
			for i := 0; i < s.qSeq; i++ {
				qi := q[((b*s.qHeads+h)*s.qSeq+i)*s.headSize:][:s.headSize]
				qkRow := qk[((b*s.qHeads+h)*s.qSeq+i)*s.total:][:s.total]
				for j := 0; j < s.total; j++ {
					kj := kb[j*s.headSize:][:s.headSize]
					dot := 0.0
					for d, x := range qi {
						dot += x * kj[d]
					}
					v := dot * scale
					if op.qkMode == 0 {
						qkRow[j] = v
					}
					if op.softcap > 0 {
						v = op.softcap * math.Tanh(v/op.softcap)
					}
					if op.qkMode == 1 {
						qkRow[j] = v
					}
					v += k.bias(mask, b, h, i, j)
					if j >= valid || (op.causal && j > i+offset) {
						v = math.Inf(-1)
					}
					if op.qkMode == 2 {
						qkRow[j] = v
					}
					row[j] = v
				}
				// Softmax over the keys; a row with every key masked gives zeros.
				m := math.Inf(-1)
				for _, v := range row {
					m = math.Max(m, v)
				}
				yi := y[((b*s.qHeads+h)*s.qSeq+i)*s.vHeadSize:][:s.vHeadSize]
				clear(yi)
				if math.IsInf(m, -1) {
					clear(row)
				} else {
					sum := 0.0
					for j, v := range row {
						row[j] = math.Exp(v - m)
						sum += row[j]
					}
					for j := range row {
						row[j] /= sum
					}
				}
				if op.qkMode == 3 {
					copy(qkRow, row)
				}
				for j, p := range row {
					if p == 0 {
						continue
					}
					vj := vb[j*s.vHeadSize:][:s.vHeadSize]
					for d, x := range vj {
						yi[d] += p * x
					}
				}
			}
		}
	}
	// Outputs: Y (3-D: heads back into the hidden axis), the caches, the qk output.
	if s.threeD == 1 {
		storeHeads(out[0], y, s.batch, s.qHeads, s.qSeq, s.vHeadSize)
	} else {
		kernelutil.Narrow64(out[0], y)
	}
	if k.outputs > 1 && out[1] != nil {
		kernelutil.Narrow64(out[1], keys)
	}
	if k.outputs > 2 && out[2] != nil {
		kernelutil.Narrow64(out[2], vals)
	}
	if k.outputs > 3 && out[3] != nil {
		kernelutil.Narrow64(out[3], qk)
	}
	return nil
}

// bias is the mask's contribution to score (b, h, i, j): a float mask's value, -inf where a bool mask is
// false, -inf past the mask's last axis, 0 without a mask.
func (k *attentionKernel) bias(mask *ops.Tensor, b, h, i, j int) float64 {
	if mask == nil {
		return 0
	}
	m := &k.s.mask
	if j >= m[3] {
		return math.Inf(-1)
	}
	at := ((min(b, m[0]-1)*m[1]+min(h, m[1]-1))*m[2]+min(i, m[2]-1))*m[3] + j
	if k.s.boolMask {
		if mask.Bools()[at] {
			return 0
		}
		return math.Inf(-1)
	}
	return maskValue(mask, at)
}

// maskValue reads element i of a numeric mask as float64.
func maskValue(t *ops.Tensor, i int) float64 {
	switch d := t.Data().(type) {
	case []int8:
		return float64(d[i])
	case []int16:
		return float64(d[i])
	case []int32:
		return float64(d[i])
	case []int64:
		return float64(d[i])
	case []uint8:
		return float64(d[i])
	case []uint16:
		return float64(d[i])
	case []uint32:
		return float64(d[i])
	case []uint64:
		return float64(d[i])
	}
	return kernelutil.ValueAt(t, i)
}

// loadHeads widens t, [batch, heads, seq, size] (or, split3D, [batch, seq, heads·size]), into dst laid out
// [batch, heads, dstSeq, size] at sequence positions from, from+seq.
func loadHeads(dst []float64, t *ops.Tensor, split3D bool, batch, heads, seq, size, from, dstSeq int) {
	for b := 0; b < batch; b++ {
		for h := 0; h < heads; h++ {
			for i := 0; i < seq; i++ {
				src := ((b*heads+h)*seq + i) * size
				if split3D {
					src = (b*seq+i)*heads*size + h*size
				}
				d := dst[((b*heads+h)*dstSeq+from+i)*size:][:size]
				for x := range d {
					d[x] = kernelutil.ValueAt(t, src+x)
				}
			}
		}
	}
}

// storeHeads writes y, [batch, heads, seq, size], to t as [batch, seq, heads·size].
func storeHeads(t *ops.Tensor, y []float64, batch, heads, seq, size int) {
	for b := 0; b < batch; b++ {
		for h := 0; h < heads; h++ {
			for i := 0; i < seq; i++ {
				src := y[((b*heads+h)*seq+i)*size:][:size]
				dst := (b*seq+i)*heads*size + h*size
				for x, v := range src {
					kernelutil.SetValue(t, dst+x, v)
				}
			}
		}
	}
}
