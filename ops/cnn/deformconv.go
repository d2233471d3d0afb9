package cnn

import (
	"math"
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

// DeformConv is a convolution whose kernel taps sample the input at learned fractional offsets (with
// multilinear interpolation, zero outside the input) and, optionally, scale each tap by a mask:
// https://onnx.ai/onnx/operators/onnx__DeformConv.html. Opsets 19 and 22.
//
// Any number of spatial axes is supported. This is a reference kernel: it widens every input to float64 in
// scratch memory and accumulates there, then rounds the output to its dtype.
func init() {
	ops.Register("", "DeformConv",
		// opset 19: float16, float, double.
		ops.Since(19, buildDeformConv(ops.DTypes(ops.Float16, ops.Float32, ops.Float64))),
		// opset 22: adds bfloat16.
		ops.Since(22, buildDeformConv(ops.DTypes(ops.Float16, ops.Float32, ops.Float64, ops.BFloat16))),
	)
}

type deformConvOp struct {
	opset              int
	types              ops.DTypeSet
	kernelShape, pads  []int
	strides, dilations []int
	group, offsetGroup int
}

func buildDeformConv(types ops.DTypeSet) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &deformConvOp{opset: n.Opset, types: types,
			kernelShape: r.IntsAsInts("kernel_shape", nil), pads: r.IntsAsInts("pads", nil),
			strides: r.IntsAsInts("strides", nil), dilations: r.IntsAsInts("dilations", nil),
			group: int(r.Int("group", 1)), offsetGroup: int(r.Int("offset_group", 1))}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if o.group < 1 {
			return nil, &ops.AttrError{Name: "group", Msg: "must be >= 1, is " + strconv.Itoa(o.group)}
		}
		if o.offsetGroup < 1 {
			return nil, &ops.AttrError{Name: "offset_group", Msg: "must be >= 1, is " + strconv.Itoa(o.offsetGroup)}
		}
		if n.NumInputs < 3 || n.NumInputs > 5 {
			return nil, ops.Invalidf("DeformConv takes 3 to 5 inputs (X, W, offset, B, mask), the node has %d", n.NumInputs)
		}
		return o, nil
	}
}

// deformGeometry is the resolved convolution: sizes of every axis and the per-axis window parameters.
type deformGeometry struct {
	n, c, oc, cPerGroup, ocPerGroup, cPerOffsetGroup int
	in, kernel, out                                  []int
	strides, dilations, padBegin                     []int
	kernelSize, outSize, inSize                      int
}

func (o *deformConvOp) geometry(in []ops.ValueInfo) (*deformGeometry, error) {
	if err := ops.CheckInputCount(in, 3, 5); err != nil {
		return nil, err
	}
	names := []string{"X", "W", "offset", "B", "mask"}
	for i, v := range in {
		if !v.Present() {
			continue
		}
		if err := o.types.Check("DeformConv", o.opset, names[i], v.DType); err != nil {
			return nil, err
		}
		if v.DType != in[0].DType {
			return nil, ops.Invalidf("DeformConv %s has dtype %s, X %s: they must match", names[i], v.DType, in[0].DType)
		}
	}
	x, w, off := in[0].Shape, in[1].Shape, in[2].Shape
	if len(x) < 3 {
		return nil, ops.Invalidf("DeformConv X has shape %v, want (N, C, D1, ...)", x)
	}
	nd := len(x) - 2
	if nd > maxDeformAxes {
		return nil, ops.Unsupportedf("DeformConv with %d spatial axes (at most %d)", nd, maxDeformAxes)
	}
	if len(w) != len(x) {
		return nil, ops.Invalidf("DeformConv W has shape %v, want rank %d like X %v", w, len(x), x)
	}
	g := &deformGeometry{n: x[0], c: x[1], oc: w[0], in: x[2:].Clone(), kernel: w[2:].Clone()}
	if o.kernelShape != nil && !ops.Shape(o.kernelShape).Equal(g.kernel) {
		return nil, &ops.AttrError{Name: "kernel_shape", Msg: "is " + ops.Shape(o.kernelShape).String() + ", W's kernel is " + ops.Shape(g.kernel).String()}
	}
	if g.c%o.group != 0 || g.oc%o.group != 0 || w[1]*o.group != g.c {
		return nil, ops.Invalidf("DeformConv C=%d, oC=%d, W.C=%d and group=%d do not fit: want C = W.C*group and both divisible by group",
			g.c, g.oc, w[1], o.group)
	}
	if g.c%o.offsetGroup != 0 {
		return nil, ops.Invalidf("DeformConv C=%d is not divisible by offset_group=%d", g.c, o.offsetGroup)
	}
	g.cPerGroup, g.ocPerGroup, g.cPerOffsetGroup = g.c/o.group, g.oc/o.group, g.c/o.offsetGroup
	g.strides, g.dilations = ones(nd), ones(nd)
	pads := make([]int, 2*nd)
	for _, a := range []struct {
		name string
		v    []int
		dst  []int
	}{{"strides", o.strides, g.strides}, {"dilations", o.dilations, g.dilations}, {"pads", o.pads, pads}} {
		if a.v == nil {
			continue
		}
		if len(a.v) != len(a.dst) {
			return nil, &ops.AttrError{Name: a.name, Msg: "has " + strconv.Itoa(len(a.v)) + " values, want " + strconv.Itoa(len(a.dst))}
		}
		copy(a.dst, a.v)
	}
	g.padBegin = pads[:nd]
	g.out = make([]int, nd)
	for d := 0; d < nd; d++ {
		if g.strides[d] < 1 || g.dilations[d] < 1 || pads[d] < 0 || pads[d+nd] < 0 {
			return nil, ops.Invalidf("DeformConv axis %d has stride %d, dilation %d, pads %d/%d: want strides and dilations >= 1, pads >= 0",
				d, g.strides[d], g.dilations[d], pads[d], pads[d+nd])
		}
		span := g.dilations[d]*(g.kernel[d]-1) + 1
		padded := g.in[d] + pads[d] + pads[d+nd]
		if padded < span {
			return nil, ops.Invalidf("DeformConv axis %d: padded input %d is smaller than the dilated kernel %d", d, padded, span)
		}
		g.out[d] = (padded-span)/g.strides[d] + 1
	}
	g.kernelSize, g.outSize, g.inSize = ops.Shape(g.kernel).Size(), ops.Shape(g.out).Size(), ops.Shape(g.in).Size()
	wantOff := append(ops.Shape{g.n, o.offsetGroup * g.kernelSize * nd}, g.out...)
	if !off.Equal(wantOff) {
		return nil, ops.Invalidf("DeformConv offset has shape %v, want %v", off, wantOff)
	}
	if b := ops.Input(in, 3); b.Present() && (len(b.Shape) != 1 || b.Shape[0] != g.oc) {
		return nil, ops.Invalidf("DeformConv B has shape %v, want [%d]", b.Shape, g.oc)
	}
	if m := ops.Input(in, 4); m.Present() {
		wantMask := append(ops.Shape{g.n, o.offsetGroup * g.kernelSize}, g.out...)
		if !m.Shape.Equal(wantMask) {
			return nil, ops.Invalidf("DeformConv mask has shape %v, want %v", m.Shape, wantMask)
		}
	}
	return g, nil
}

// maxDeformAxes bounds the spatial rank so interpolation corners fit in fixed arrays (no allocation in Run).
const maxDeformAxes = 8

func ones(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func (o *deformConvOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	g, err := o.geometry(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: append(ops.Shape{g.n, g.oc}, g.out...)}}, nil
}

func (o *deformConvOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	g, err := o.geometry(in)
	if err != nil {
		return nil, err
	}
	k := &deformConvKernel{g: g, offsetGroup: o.offsetGroup}
	for i := range in {
		if in[i].Present() {
			k.lens[i] = in[i].Shape.Size()
		}
	}
	k.lens[5] = out[0].Shape.Size()
	// Kernel-tap coordinates, one row of nd per tap, so Run does not divide.
	nd := len(g.kernel)
	k.taps = make([]int, g.kernelSize*nd)
	for t := 0; t < g.kernelSize; t++ {
		rem := t
		for d := nd - 1; d >= 0; d-- {
			k.taps[t*nd+d] = rem % g.kernel[d]
			rem /= g.kernel[d]
		}
	}
	k.outPos = make([]int, g.outSize*nd)
	for p := 0; p < g.outSize; p++ {
		rem := p
		for d := nd - 1; d >= 0; d-- {
			k.outPos[p*nd+d] = rem % g.out[d]
			rem /= g.out[d]
		}
	}
	k.inStrides = ops.Shape(g.in).Strides()
	return k, nil
}

type deformConvKernel struct {
	g           *deformGeometry
	offsetGroup int
	lens        [6]int // X, W, offset, B, mask, Y element counts (0 for absent inputs)
	taps        []int  // per kernel tap, its coordinate on each spatial axis
	outPos      []int  // per output position, its coordinate on each spatial axis
	inStrides   []int
}

func (k *deformConvKernel) total() int {
	n := 0
	for _, l := range k.lens {
		n += l
	}
	return n
}

func (k *deformConvKernel) ScratchSize() int { return ops.Float64ScratchLen(k.total()) }

func (k *deformConvKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	g := k.g
	all := ops.Float64View(ctx.Scratch, k.total())
	var parts [6][]float64
	off := 0
	for i := range parts {
		parts[i] = all[off : off+k.lens[i]]
		off += k.lens[i]
		if i < 5 && k.lens[i] > 0 {
			kernelutil.Widen64(parts[i], in[i])
		}
	}
	x, w, offs, bias, mask, y := parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]
	K, P := g.kernelSize, g.outSize
	for n := 0; n < g.n; n++ {
		for oc := 0; oc < g.oc; oc++ {
			grp := oc / g.ocPerGroup
			for p := 0; p < P; p++ {
				acc := 0.0
				if len(bias) > 0 {
					acc = bias[oc]
				}
				for icl := 0; icl < g.cPerGroup; icl++ {
					ic := grp*g.cPerGroup + icl
					og := ic / g.cPerOffsetGroup
					plane := x[(n*g.c+ic)*g.inSize : (n*g.c+ic+1)*g.inSize]
					for t := 0; t < K; t++ {
						wv := w[((oc*g.cPerGroup+icl)*K)+t]
						if wv == 0 {
							continue
						}
						m := 1.0
						if len(mask) > 0 {
							m = mask[((n*k.offsetGroup+og)*K+t)*P+p]
						}
						if m == 0 {
							continue
						}
						acc += wv * m * k.sample(plane, offs, n, og, t, p)
					}
				}
				y[(n*g.oc+oc)*P+p] = acc
			}
		}
	}
	kernelutil.Narrow64(out[0], y)
	return nil
}

// sample interpolates plane at tap t of output position p, displaced by the offsets of offset group og:
// a weighted sum over the 2^nd surrounding cells, cells outside the input counting as zero.
func (k *deformConvKernel) sample(plane, offs []float64, n, og, t, p int) float64 {
	g, nd := k.g, len(k.g.in)
	K, P := g.kernelSize, g.outSize
	// Corner enumeration: bit d of c picks the upper neighbour on axis d.
	var lo [maxDeformAxes]int
	var frac [maxDeformAxes]float64
	for d := 0; d < nd; d++ {
		base := k.outPos[p*nd+d]*g.strides[d] - g.padBegin[d] + k.taps[t*nd+d]*g.dilations[d]
		c := float64(base) + offs[((n*k.offsetGroup+og)*K*nd+t*nd+d)*P+p]
		f := math.Floor(c)
		if c <= -1 || c >= float64(g.in[d]) {
			return 0
		}
		lo[d], frac[d] = int(f), c-f
	}
	sum := 0.0
	for c := 0; c < 1<<nd; c++ {
		wgt, idx := 1.0, 0
		inside := true
		for d := 0; d < nd; d++ {
			coord := lo[d]
			if c&(1<<d) != 0 {
				coord++
				wgt *= frac[d]
			} else {
				wgt *= 1 - frac[d]
			}
			if coord < 0 || coord >= g.in[d] {
				inside = false
				break
			}
			idx += coord * k.inStrides[d]
		}
		if inside && wgt != 0 {
			sum += wgt * plane[idx]
		}
	}
	return sum
}
