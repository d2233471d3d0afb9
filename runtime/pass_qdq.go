package runtime

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// The qdq-* passes run a QDQ graph (float operators between DequantizeLinear and QuantizeLinear nodes, as
// ONNX Runtime's quantize_static and torch's quantized export write it) on the integer kernels, as ONNX
// Runtime's QDQ transformer does: a node unit DQ(inputs) → Op → Q(output) becomes the quantized operator
// reading the 8-bit inputs and writing the 8-bit output. The rules common to every fusion:
//
//   - scales and zero points are known at compile time (initializers, Constant nodes or values folded from
//     them), scales float32, the quantized values uint8 or int8, no blocked quantization;
//   - the float output of Op is read by the Q alone (else the float value would still be needed, and the
//     fusion would compute the op twice): no fusion;
//   - a DQ read by other nodes as well stays for them, the fused node reading the DQ's 8-bit input: the same
//     as ORT's duplicating the DQ per node unit, without the copy (eliminate-dead-nodes drops a DQ nobody
//     reads any more);
//   - the fused node is built and its shapes inferred before it replaces anything (qdqFits): a kernel that
//     is not registered, or that rejects these dtypes or shapes, leaves the float graph as it was, so a pass
//     never produces a graph that does not run.
//
// The results match the float graph within one quantization step of the output: the fused kernels
// accumulate exactly in int32 and round once, where the float graph rounds every product and the sum.

// quantParams is a quantized value as a DQ reads it or a Q writes it: the 8-bit tensor and its scale and
// zero point (zeroPoint "" when the node omits it, which means 0 of the 8-bit dtype).
type quantParams struct {
	value     string
	scale     string
	zeroPoint string
	dtype     ops.DType     // uint8 or int8
	scales    []float32     // the scale's values
	zeros     []int64       // the zero point's values (one 0 when absent)
	axis      int           // the per-axis axis, normalised; meaningful when len(scales) > 1
	scaleInfo ops.ValueInfo // the scale's shape, for the checks of per-channel parameters
}

// perTensor reports whether p has a single scale and zero point.
func (p quantParams) perTensor() bool { return len(p.scales) == 1 && len(p.zeros) == 1 }

// sameAs reports whether p and o quantize alike: the same dtype, scale and zero point, per tensor.
func (p quantParams) sameAs(o quantParams) bool {
	return p.perTensor() && o.perTensor() && p.dtype == o.dtype && p.scales[0] == o.scales[0] && p.zeros[0] == o.zeros[0]
}

// isQuant8 reports whether dt is one of the 8-bit integer types the integer kernels take.
func isQuant8(dt ops.DType) bool { return dt == ops.Uint8 || dt == ops.Int8 }

// quantNodeParams reads the scale and zero point inputs (1 and 2) of a DequantizeLinear or QuantizeLinear
// node whose 8-bit side is value of dtype, and whose float side has rank rank; ok is false when they are
// not compile-time constants of the expected types or the node quantizes by blocks.
func quantNodeParams(n *Node, value string, dtype ops.DType, rank int, shapes map[string]ops.ValueInfo) (quantParams, bool) {
	if n.Domain != "" || len(n.Inputs) < 2 || len(n.Outputs) != 1 || !isQuant8(dtype) {
		return quantParams{}, false
	}
	attrs := nodeAttrs(n)
	axis := int(attrs.Int("axis", 1))
	if attrs.Int("block_size", 0) != 0 || attrs.Err() != nil {
		return quantParams{}, false
	}
	p := quantParams{value: value, scale: n.Inputs[1], dtype: dtype, zeros: []int64{0}}
	scale, ok := shapes[p.scale]
	if !ok || scale.Const == nil || scale.DType != ops.Float32 || scale.Const.Len() == 0 {
		return quantParams{}, false
	}
	p.scales, p.scaleInfo = scale.Const.Float32s(), scale
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		p.zeroPoint = n.Inputs[2]
		zp, ok := shapes[p.zeroPoint]
		if !ok || zp.Const == nil || zp.DType != dtype || zp.Const.Len() != len(p.scales) {
			return quantParams{}, false
		}
		p.zeros = zp.Const.AsInt64s()
	}
	if len(p.scales) > 1 {
		if len(p.zeros) == 1 {
			return quantParams{}, false // per-axis scales with a scalar zero point: not a form the quantizers write
		}
		if axis < 0 {
			axis += rank
		}
		if axis < 0 || axis >= rank {
			return quantParams{}, false
		}
		p.axis = axis
	}
	for _, s := range p.scales {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return quantParams{}, false
		}
	}
	return p, true
}

// dequantized returns the DequantizeLinear that produces name (a float32 value) and what it reads.
func dequantized(r *rewriter, name string, shapes map[string]ops.ValueInfo) (*Node, quantParams, bool) {
	dq := r.producerOf(name)
	if dq == nil || dq.OpType != "DequantizeLinear" || !isFloat32(shapes, name) {
		return nil, quantParams{}, false
	}
	x, ok := shapes[dq.Inputs[0]]
	if !ok {
		return nil, quantParams{}, false
	}
	p, ok := quantNodeParams(dq, dq.Inputs[0], x.DType, len(x.Shape), shapes)
	return dq, p, ok
}

// quantizedOnly returns the QuantizeLinear that alone reads name (a float32 value the graph does not
// return) and what it writes, per tensor.
func quantizedOnly(r *rewriter, name string, shapes map[string]ops.ValueInfo) (*Node, quantParams, bool) {
	q := r.soleConsumer(name)
	if q == nil || q.OpType != "QuantizeLinear" || q.Inputs[0] != name || !isFloat32(shapes, name) {
		return nil, quantParams{}, false
	}
	y, ok := shapes[q.Outputs[0]]
	if !ok {
		return nil, quantParams{}, false
	}
	p, ok := quantNodeParams(q, q.Outputs[0], y.DType, len(y.Shape), shapes)
	if !ok || !p.perTensor() {
		return nil, quantParams{}, false
	}
	return q, p, true
}

// fusedNode is a node a qdq pass is about to put in the graph, with the constants it needs that the
// graph does not hold yet (zero points the DQ or Q omitted). Nothing is added to the graph until it is
// known to fit, so a pattern that does not fuse leaves no trace (and the fixpoint no reason to go round).
type fusedNode struct {
	*Node
	pending map[string]*ops.Tensor // input name → constant to add under that name (or a fresh one)
}

func newFusedNode(n *Node) *fusedNode { return &fusedNode{Node: n, pending: map[string]*ops.Tensor{}} }

// zeroPoint returns p's zero point input, a constant 0 of p's dtype when the node omitted it (the
// quantized operators take it as a required input).
func (f *fusedNode) zeroPoint(p quantParams) string {
	if p.zeroPoint != "" {
		return p.zeroPoint
	}
	name := p.value + "_zero_point"
	f.pending[name] = ops.New(p.dtype, ops.Shape{})
	return name
}

// fits reports whether the node has a registered kernel that accepts its attributes and the dtypes and
// shapes of its inputs (all of which must be in shapes or pending).
func (f *fusedNode) fits(shapes map[string]ops.ValueInfo) bool {
	present := make([]bool, len(f.Inputs))
	in := make([]ops.ValueInfo, len(f.Inputs))
	symbolic := map[int]int{}
	for i, name := range f.Inputs {
		present[i] = name != ""
		if name == "" {
			continue
		}
		if t, ok := f.pending[name]; ok {
			in[i] = ops.ValueInfo{DType: t.DType(), Shape: t.Shape(), Const: t}
			continue
		}
		info, ok := shapes[name]
		if !ok {
			return false
		}
		in[i] = withSizedDims(info, symbolic)
	}
	op, err := ops.Build(ops.NodeInfo{Name: f.Name, Domain: f.Domain, OpType: f.OpType, Opset: f.Opset, Attrs: f.Attrs,
		NumInputs: len(f.Inputs), NumOutputs: len(f.Outputs), InputPresent: present})
	if err != nil {
		return false
	}
	out, err := op.InferShapes(in)
	return err == nil && len(out) == len(f.Outputs)
}

// withSizedDims returns info with each symbolic dimension of the probes (a negative code, see probeShapes)
// replaced by a size, the same size for the same code and distinct sizes for distinct codes, so that a
// kernel's shape inference (a Resize scaling every dimension) sees a shape it can compute with.
func withSizedDims(info ops.ValueInfo, sizes map[int]int) ops.ValueInfo {
	for _, d := range info.Shape {
		if d >= 0 {
			continue
		}
		shape := info.Shape.Clone()
		for j, d := range shape {
			if d < 0 {
				if _, ok := sizes[d]; !ok {
					sizes[d] = 1009 + len(sizes) // no size a model's fixed dimensions are likely to hold
				}
				shape[j] = sizes[d]
			}
		}
		info.Shape = shape
		return info
	}
	return info
}

// commit adds the pending constants to the graph (under fresh names where taken) and returns the node
// reading them.
func (f *fusedNode) commit(r *rewriter) *Node {
	added := map[string]string{}
	for i, name := range f.Inputs {
		t, ok := f.pending[name]
		if !ok {
			continue
		}
		if _, done := added[name]; !done {
			added[name] = r.addConstant(name, t)
		}
		f.Inputs[i] = added[name]
	}
	return f.Node
}

// msOpset is the opset of the com.microsoft domain the fused contrib operators are written in.
const msOpset = 1
