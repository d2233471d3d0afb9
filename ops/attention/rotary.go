package attention

// RotaryEmbedding: rotary positional embeddings (RoPE), https://onnx.ai/onnx/operators/onnx__RotaryEmbedding.html,
// opset 23.
//
// Each head's first rotary_embedding_dim values (all of them by default) are taken as pairs (x1, x2), the
// two halves of that slice or, interleaved, its even and odd elements, and rotated by the angle of the
// token's position:
//
//	(x1, x2) → (cos·x1 - sin·x2, sin·x1 + cos·x2)
//
// with cos and sin read from the caches at [batch, position] (no position_ids: caches of shape
// [batch, seq, rotary_dim/2]) or at position_ids[batch, position] (caches of shape [max_position,
// rotary_dim/2]). X is [batch, heads, seq, head_size], or [batch, seq, hidden] split by num_heads. The
// arithmetic is done in float64.

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "RotaryEmbedding", ops.Since(23, buildRotaryEmbedding))
}

type rotaryOp struct {
	interleaved bool
	numHeads    int
	rotaryDim   int // 0: the head size
}

func buildRotaryEmbedding(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &rotaryOp{interleaved: r.Int("interleaved", 0) != 0, numHeads: int(r.Int("num_heads", 0)), rotaryDim: int(r.Int("rotary_embedding_dim", 0))}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if op.numHeads < 0 || op.rotaryDim < 0 {
		return nil, &ops.AttrError{Name: "num_heads", Msg: fmt.Sprintf("num_heads %d and rotary_embedding_dim %d must not be negative", op.numHeads, op.rotaryDim)}
	}
	return op, nil
}

type rotaryShape struct {
	batch, heads, seq, headSize, rotaryDim int
	fourD, positions                       bool
	maxPosition                            int
}

func (op *rotaryOp) shape(in []ops.ValueInfo) (rotaryShape, error) {
	if err := ops.CheckInputCount(in, 3, 4); err != nil {
		return rotaryShape{}, err
	}
	x, cos, sin, pos := in[0], in[1], in[2], ops.Input(in, 3)
	if err := kernelutil.CheckFloat("X", x.DType); err != nil {
		return rotaryShape{}, err
	}
	var s rotaryShape
	switch len(x.Shape) {
	case 4:
		s.fourD = true
		s.batch, s.heads, s.seq, s.headSize = x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	case 3:
		if op.numHeads == 0 {
			return s, ops.Invalidf("a 3-D X %v needs the num_heads attribute", x.Shape)
		}
		if x.Shape[2]%op.numHeads != 0 {
			return s, ops.Invalidf("X's hidden size %d is not a multiple of num_heads %d", x.Shape[2], op.numHeads)
		}
		s.batch, s.seq, s.heads, s.headSize = x.Shape[0], x.Shape[1], op.numHeads, x.Shape[2]/op.numHeads
	default:
		return s, ops.Invalidf("X has shape %v, want [batch, heads, seq, head_size] or [batch, seq, hidden]", x.Shape)
	}
	s.rotaryDim = op.rotaryDim
	if s.rotaryDim == 0 {
		s.rotaryDim = s.headSize
	}
	if s.rotaryDim > s.headSize || s.rotaryDim%2 != 0 {
		return s, ops.Invalidf("rotary_embedding_dim %d must be even and at most the head size %d", s.rotaryDim, s.headSize)
	}
	half := s.rotaryDim / 2
	if cos.DType != x.DType || sin.DType != x.DType {
		return s, ops.Invalidf("cos_cache and sin_cache are %s and %s, want %s like X", cos.DType, sin.DType, x.DType)
	}
	if !cos.Shape.Equal(sin.Shape) {
		return s, ops.Invalidf("cos_cache %v and sin_cache %v differ in shape", cos.Shape, sin.Shape)
	}
	if pos.Present() {
		s.positions = true
		if pos.DType != ops.Int64 || !pos.Shape.Equal(ops.Shape{s.batch, s.seq}) {
			return s, ops.Invalidf("position_ids is %s%v, want int64[%d, %d]", pos.DType, pos.Shape, s.batch, s.seq)
		}
		if len(cos.Shape) != 2 || cos.Shape[1] != half {
			return s, ops.Invalidf("cos_cache has shape %v, want [max_position, %d] with position_ids", cos.Shape, half)
		}
		s.maxPosition = cos.Shape[0]
	} else if !cos.Shape.Equal(ops.Shape{s.batch, s.seq, half}) {
		return s, ops.Invalidf("cos_cache has shape %v, want [%d, %d, %d] without position_ids", cos.Shape, s.batch, s.seq, half)
	}
	return s, nil
}

func (op *rotaryOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if _, err := op.shape(in); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape}}, nil
}

func (op *rotaryOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return &rotaryKernel{op: op, s: s}, nil
}

type rotaryKernel struct {
	op *rotaryOp
	s  rotaryShape
}

func (k *rotaryKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	s := &k.s
	x, cos, sin, y := in[0], in[1], in[2], out[0]
	var pos []int64
	if p := ops.TensorAt(in, 3); p != nil && s.positions {
		pos = p.Int64s()
	}
	half := s.rotaryDim / 2
	for b := 0; b < s.batch; b++ {
		for t := 0; t < s.seq; t++ {
			cache := (b*s.seq + t) * half
			if pos != nil {
				p := pos[b*s.seq+t]
				if p < 0 || p >= int64(s.maxPosition) {
					return ops.Invalidf("position_ids[%d, %d] is %d, outside the caches' %d positions", b, t, p, s.maxPosition)
				}
				cache = int(p) * half
			}
			for h := 0; h < s.heads; h++ {
				base := (b*s.seq+t)*s.heads*s.headSize + h*s.headSize // [batch, seq, hidden]
				if s.fourD {
					base = ((b*s.heads+h)*s.seq + t) * s.headSize
				}
				for i := 0; i < half; i++ {
					i1, i2 := base+i, base+half+i
					if k.op.interleaved {
						i1, i2 = base+2*i, base+2*i+1
					}
					c, sn := kernelutil.ValueAt(cos, cache+i), kernelutil.ValueAt(sin, cache+i)
					x1, x2 := kernelutil.ValueAt(x, i1), kernelutil.ValueAt(x, i2)
					kernelutil.SetValue(y, i1, c*x1-sn*x2)
					kernelutil.SetValue(y, i2, sn*x1+c*x2)
				}
				for i := s.rotaryDim; i < s.headSize; i++ {
					kernelutil.SetValue(y, base+i, kernelutil.ValueAt(x, base+i))
				}
			}
		}
	}
	return nil
}
