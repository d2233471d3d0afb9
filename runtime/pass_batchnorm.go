package runtime

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// foldBatchNormIntoConv rewrites Conv → BatchNormalization (inference, constant statistics) as one Conv with
// scaled weights and a shifted bias:
//
//	s = scale / sqrt(var + epsilon)     W'[m] = W[m] * s[m]     B'[m] = (B[m] - mean[m]) * s[m] + bias[m]
//
// It needs float32 constants for W, the optional B and all four statistics (initializers, or Constant nodes
// and what folds from them: exporters write both), and the Conv's output read by the BatchNormalization alone.
func foldBatchNormIntoConv(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	g := r.g
	changed := false
	for _, bn := range r.nodes() {
		if bn.OpType != "BatchNormalization" || bn.Domain != "" || len(bn.Inputs) != 5 || len(bn.Outputs) == 0 {
			continue
		}
		eps, ok := inferenceBatchNorm(r, bn)
		if !ok {
			continue
		}
		conv := r.producerOf(bn.Inputs[0])
		if conv == nil || conv.OpType != "Conv" || conv.Domain != "" || r.soleConsumer(bn.Inputs[0]) != bn || len(conv.Outputs) != 1 || len(conv.Inputs) < 2 {
			continue
		}
		w := compileTimeTensor(g, shapes, conv.Inputs[1])
		if w == nil || w.DType() != ops.Float32 || w.Rank() < 3 {
			continue
		}
		m := w.Shape()[0]
		var bias []float32
		if len(conv.Inputs) > 2 && conv.Inputs[2] != "" {
			if bias = compileTimeFloat32(g, shapes, conv.Inputs[2]); len(bias) != m {
				continue
			}
		}
		scale, shift, mean, variance := batchNormStatistics(g, shapes, bn)
		if len(scale) != m || len(shift) != m || len(mean) != m || len(variance) != m {
			continue
		}
		per := w.Len() / m
		newW := ops.New(ops.Float32, w.Shape())
		newB := ops.New(ops.Float32, ops.Shape{m})
		wd, nw, nb := w.Float32s(), newW.Float32s(), newB.Float32s()
		for c := 0; c < m; c++ {
			s := float64(scale[c]) / math.Sqrt(float64(variance[c])+eps)
			for i := c * per; i < (c+1)*per; i++ {
				nw[i] = float32(float64(wd[i]) * s)
			}
			b := 0.0
			if bias != nil {
				b = float64(bias[c])
			}
			nb[c] = float32((b-float64(mean[c]))*s + float64(shift[c]))
		}
		foldedW, foldedB := r.addConstant(conv.Inputs[1]+"_bnfolded", newW), r.addConstant(bn.Inputs[1]+"_bnbias", newB)
		r.edit(conv, func() {
			conv.Inputs = []string{conv.Inputs[0], foldedW, foldedB}
			conv.Outputs = []string{bn.Outputs[0]}
			conv.Op = nil // rebuild: the bias input is new
		})
		r.remove(bn)
		changed = true
	}
	return changed, nil
}

// inferenceBatchNorm returns a BatchNormalization's epsilon when it normalises with its given statistics
// (inference mode, spatial) and only its first output is read.
func inferenceBatchNorm(r *rewriter, bn *Node) (eps float64, ok bool) {
	attrs := nodeAttrs(bn)
	training, spatial, isTest := attrs.Int("training_mode", 0), attrs.Int("spatial", 1), attrs.Int("is_test", 1)
	eps = float64(attrs.Float("epsilon", 1e-5))
	if attrs.Err() != nil || training != 0 || spatial != 1 || isTest == 0 || extraOutputsUsed(r, bn) {
		return 0, false
	}
	return eps, true
}

// batchNormStatistics returns a BatchNormalization's scale, bias, mean and variance when they are float32
// values known at compile time (nil for those that are not).
func batchNormStatistics(g *Graph, shapes map[string]ops.ValueInfo, bn *Node) (scale, shift, mean, variance []float32) {
	return compileTimeFloat32(g, shapes, bn.Inputs[1]), compileTimeFloat32(g, shapes, bn.Inputs[2]),
		compileTimeFloat32(g, shapes, bn.Inputs[3]), compileTimeFloat32(g, shapes, bn.Inputs[4])
}

// compileTimeTensor returns the value of name when it is known at compile time: an initializer, or the
// output of a Constant node or of nodes that fold from constants, as the shape probe found it (a value
// whose probes disagree is not there).
func compileTimeTensor(g *Graph, shapes map[string]ops.ValueInfo, name string) *ops.Tensor {
	if t, ok := g.Constants[name]; ok {
		return t
	}
	return shapes[name].Const
}

// compileTimeFloat32 is compileTimeTensor's data when it is float32, else nil.
func compileTimeFloat32(g *Graph, shapes map[string]ops.ValueInfo, name string) []float32 {
	t := compileTimeTensor(g, shapes, name)
	if t == nil || t.DType() != ops.Float32 {
		return nil
	}
	return t.Float32s()
}

// batchNormToScaleShift rewrites a BatchNormalization that no Conv absorbed (fold-batchnorm-into-conv runs
// first) as what it computes in inference mode, one multiply-add per element with per-channel constants:
//
//	s = scale / sqrt(var + epsilon)     t = bias - mean * s     Y = X * s + t
//
// as a Mul and an Add by constants of shape [C, 1, ...] (channel axis 1 of X, broadcast from the right),
// which fuse-elementwise then runs in one pass with the element-wise nodes around them. It needs float32
// statistics known at compile time and X of known rank 2 or more with a known channel count.
func batchNormToScaleShift(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	g := r.g
	changed := false
	for _, bn := range r.nodes() {
		if bn.OpType != "BatchNormalization" || bn.Domain != "" || len(bn.Inputs) != 5 || len(bn.Outputs) == 0 || bn.Outputs[0] == "" {
			continue
		}
		eps, ok := inferenceBatchNorm(r, bn)
		x, known := shapes[bn.Inputs[0]]
		if !ok || !known || x.DType != ops.Float32 || len(x.Shape) < 2 || x.Shape[1] < 0 {
			continue
		}
		c := x.Shape[1]
		scale, shift, mean, variance := batchNormStatistics(g, shapes, bn)
		if len(scale) != c || len(shift) != c || len(mean) != c || len(variance) != c {
			continue
		}
		perChannel := make(ops.Shape, len(x.Shape)-1)
		for i := range perChannel {
			perChannel[i] = 1
		}
		perChannel[0] = c
		mul, add := ops.New(ops.Float32, perChannel), ops.New(ops.Float32, perChannel.Clone())
		s, t := mul.Float32s(), add.Float32s()
		for i := 0; i < c; i++ {
			k := float64(scale[i]) / math.Sqrt(float64(variance[i])+eps)
			s[i], t[i] = float32(k), float32(float64(shift[i])-float64(mean[i])*k)
		}
		scaled := bn.Outputs[0] + "_bnscaled"
		for r.producerOf(scaled) != nil || r.isUsed(scaled) || g.Constants[scaled] != nil {
			scaled += "_"
		}
		mulNode := &Node{Name: bn.Name + "_scale", OpType: "Mul", Opset: 14,
			Inputs: []string{bn.Inputs[0], r.addConstant(bn.Inputs[1]+"_bnscale", mul)}, Outputs: []string{scaled}}
		addNode := &Node{Name: bn.Name, OpType: "Add", Opset: 14,
			Inputs: []string{scaled, r.addConstant(bn.Inputs[2]+"_bnshift", add)}, Outputs: []string{bn.Outputs[0]}}
		r.inline(bn, []*Node{mulNode, addNode})
		changed = true
	}
	return changed, nil
}

// extraOutputsUsed reports whether any output of n after the first is read or returned.
func extraOutputsUsed(r *rewriter, n *Node) bool {
	for _, o := range n.Outputs[1:] {
		if o == "" {
			continue
		}
		if r.isUsed(o) {
			return true
		}
	}
	return false
}
