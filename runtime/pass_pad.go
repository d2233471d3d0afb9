package runtime

import (
	"github.com/onnxrun/onnxrun/ops"
)

// mergePadIntoConvPool folds a constant-zero Pad in front of a Conv or AveragePool into the consumer's own
// pads, as PyTorch exports AvgPool2d and padded convolutions. The Pad must pad only spatial axes, by
// non-negative amounts, with value 0 in constant mode, and feed that one node. For AveragePool the
// padded zeros were counted in each window's average, so the merged pool gets count_include_pad=1; pools
// with their own pads or ceil_mode are left alone (the two paddings count differently there).
func mergePadIntoConvPool(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	g := r.g
	changed := false
	for _, pad := range r.nodes() {
		if pad.OpType != "Pad" || pad.Domain != "" || len(pad.Outputs) != 1 {
			continue
		}
		next := r.soleConsumer(pad.Outputs[0])
		if next == nil || next.Domain != "" || next.Inputs[0] != pad.Outputs[0] {
			continue
		}
		if next.OpType != "Conv" && next.OpType != "AveragePool" {
			continue
		}
		nextAttrs := nodeAttrs(next)
		autoPad, own, ceilMode := nextAttrs.String("auto_pad", "NOTSET"), nextAttrs.Ints("pads", nil), nextAttrs.Int("ceil_mode", 0)
		if nextAttrs.Err() != nil || autoPad != "NOTSET" {
			continue
		}
		pads, ok := zeroConstantPads(g, pad, shapes)
		if !ok {
			continue
		}
		rank := len(pads) / 2
		if rank < 3 || pads[0] != 0 || pads[1] != 0 || pads[rank] != 0 || pads[rank+1] != 0 {
			continue // batch or channel padding is not a convolution's business
		}
		spatial := rank - 2
		if own == nil {
			own = make([]int64, 2*spatial)
		}
		if len(own) != 2*spatial {
			continue
		}
		if next.OpType == "AveragePool" {
			if ceilMode != 0 || !allZero(own) {
				continue
			}
		}
		merged := make([]int64, 2*spatial)
		for i := 0; i < spatial; i++ {
			merged[i] = own[i] + pads[2+i]
			merged[spatial+i] = own[spatial+i] + pads[rank+2+i]
		}
		attrs := ops.AttrMap{}
		for k, v := range next.Attrs {
			attrs[k] = v
		}
		attrs["pads"] = ops.IntsAttr(merged...)
		if next.OpType == "AveragePool" {
			attrs["count_include_pad"] = ops.IntAttr(1)
		}
		r.edit(next, func() {
			next.Attrs = attrs
			next.Inputs[0] = pad.Inputs[0]
			next.Op = nil
		})
		r.remove(pad)
		changed = true
	}
	return changed, nil
}

// zeroConstantPads returns the pads of a constant-mode Pad whose fill value is zero, whichever opset's form
// (attributes before 11, inputs from 11) it uses.
func zeroConstantPads(g *Graph, pad *Node, shapes map[string]ops.ValueInfo) ([]int64, bool) {
	attrs := nodeAttrs(pad)
	if attrs.String("mode", "constant") != "constant" || attrs.Err() != nil {
		return nil, false
	}
	if pad.Opset < 11 {
		pads := attrs.Ints("pads", nil)
		if pads == nil {
			pads = attrs.Ints("paddings", nil) // opset 1 spelling
		}
		value := attrs.Float("value", 0)
		return pads, pads != nil && value == 0 && attrs.Err() == nil && nonNegative(pads)
	}
	if len(pad.Inputs) < 2 || len(pad.Inputs) > 3 && pad.Inputs[3] != "" {
		return nil, false // an axes input (opset 18) is left alone
	}
	p, ok := shapes[pad.Inputs[1]]
	if !ok || p.Const == nil {
		return nil, false
	}
	pads := p.Const.AsInt64s()
	if len(pad.Inputs) > 2 && pad.Inputs[2] != "" {
		v, ok := shapes[pad.Inputs[2]]
		if !ok || v.Const == nil || v.Const.Len() != 1 || v.Const.AsFloat64s()[0] != 0 {
			return nil, false
		}
	}
	return pads, nonNegative(pads)
}

func nonNegative(v []int64) bool {
	for _, x := range v {
		if x < 0 {
			return false
		}
	}
	return true
}

func allZero(v []int64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
