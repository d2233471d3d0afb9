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
// It needs float32 constants for W, the optional B and all four statistics, and the Conv's output read by
// the BatchNormalization alone.
func foldBatchNormIntoConv(r *rewriter, _ map[string]ops.ValueInfo) (bool, error) {
	g := r.g
	changed := false
	for _, bn := range r.nodes() {
		if bn.OpType != "BatchNormalization" || bn.Domain != "" || len(bn.Inputs) != 5 || len(bn.Outputs) == 0 {
			continue
		}
		attrs := nodeAttrs(bn)
		training, spatial, isTest := attrs.Int("training_mode", 0), attrs.Int("spatial", 1), attrs.Int("is_test", 1)
		eps := float64(attrs.Float("epsilon", 1e-5))
		if attrs.Err() != nil || training != 0 || spatial != 1 || isTest == 0 {
			continue
		}
		if extraOutputsUsed(r, bn) {
			continue
		}
		conv := r.producerOf(bn.Inputs[0])
		if conv == nil || conv.OpType != "Conv" || conv.Domain != "" || r.soleConsumer(bn.Inputs[0]) != bn || len(conv.Outputs) != 1 || len(conv.Inputs) < 2 {
			continue
		}
		w, ok := g.Constants[conv.Inputs[1]]
		if !ok || w.DType() != ops.Float32 || w.Rank() < 3 {
			continue
		}
		m := w.Shape()[0]
		var bias []float32
		if len(conv.Inputs) > 2 && conv.Inputs[2] != "" {
			if bias = constFloat32(g, conv.Inputs[2]); len(bias) != m {
				continue
			}
		}
		scale, shift := constFloat32(g, bn.Inputs[1]), constFloat32(g, bn.Inputs[2])
		mean, variance := constFloat32(g, bn.Inputs[3]), constFloat32(g, bn.Inputs[4])
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
