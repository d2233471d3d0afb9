package cnn

// ConvTranspose: https://onnx.ai/onnx/operators/onnx__ConvTranspose.html, opsets 1, 11 and 22.

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

func init() {
	ops.Register("", "ConvTranspose",
		ops.Since(1, buildConvTranspose),
		// opset 11: SAME_* defined as output = input*stride and the pads derived from output_shape spelled out;
		// default strides and dilations documented.
		ops.Since(11, buildConvTranspose),
		// opset 22: bfloat16 added to T.
		ops.Since(22, buildConvTranspose),
	)
}

type convTransposeOp struct {
	win           windowAttrs
	group         int
	outputPadding []int // nil: zeros
	outputShape   []int // nil: computed from pads
}

func buildConvTranspose(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	win, err := readWindowAttrs(r, false)
	if err != nil {
		return nil, err
	}
	op := &convTransposeOp{win: win}
	op.group = int(r.Int("group", 1))
	op.outputPadding = kernelutil.IntsToInt(r.Ints("output_padding", nil))
	op.outputShape = kernelutil.IntsToInt(r.Ints("output_shape", nil))
	if err := r.Err(); err != nil {
		return nil, err
	}
	if op.group < 1 {
		return nil, &ops.AttrError{Name: "group", Msg: fmt.Sprintf("is %d, must be at least 1", op.group)}
	}
	for i, p := range op.outputPadding {
		if p < 0 {
			return nil, &ops.AttrError{Name: "output_padding", Msg: fmt.Sprintf("is %v: value %d (axis %d) is negative", op.outputPadding, p, i)}
		}
	}
	for i, d := range op.outputShape {
		if d <= 0 {
			return nil, &ops.AttrError{Name: "output_shape", Msg: fmt.Sprintf("is %v: value %d (position %d) must be positive", op.outputShape, d, i)}
		}
	}
	return op, nil
}

// floorDiv is floor(a/b) for b > 0, as Python's // (the spec's pad formulas split negative totals too).
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// resolveTransposed computes the output spatial shape and pads of a transposed convolution. Along each axis
// the full result has s*(in-1) + outputPadding + (k-1)*d + 1 cells; pads crop it:
//
//	out = s*(in-1) + outputPadding + (k-1)*d + 1 - padBegin - padEnd
//
// With output_shape (or SAME_*, which asks for out = in*s) the total padding follows from out and is split
// with the odd cell at the end for SAME_UPPER and at the beginning otherwise, as the spec writes it. A
// negative total (output_shape larger than the full result) extends the output with cells only the bias
// reaches.
func (op *convTransposeOp) resolveTransposed(in, kernel []int) (window, error) {
	rank := len(in)
	w := window{in: append([]int(nil), in...), kernel: append([]int(nil), kernel...)}
	for i, k := range kernel { // W's dims, which no attribute check has seen
		if k < 1 {
			return w, ops.Invalidf("kernel shape %v (W's spatial dims): axis %d is %d, must be positive", kernel, i, k)
		}
	}
	var err error
	if w.stride, err = listFor("strides", op.win.strides, rank, 1); err != nil {
		return w, err
	}
	if w.dilation, err = listFor("dilations", op.win.dilations, rank, 1); err != nil {
		return w, err
	}
	outPad, err := listFor("output_padding", op.outputPadding, rank, 0)
	if err != nil {
		return w, err
	}
	outShape := op.outputShape
	if len(outShape) == rank+2 { // some exporters write the full N x C x D... shape
		outShape = outShape[2:]
	}
	if outShape != nil && len(outShape) != rank {
		return w, ops.Invalidf("output_shape %v has %d values for %d spatial axes", op.outputShape, len(op.outputShape), rank)
	}
	w.padBegin, w.padEnd, w.out = make([]int, rank), make([]int, rank), make([]int, rank)
	if op.win.autoPad == autoPadNotSet && op.win.pads != nil && outShape == nil {
		if len(op.win.pads) != 2*rank {
			return w, ops.Invalidf("pads has %d values %v, want %d (a begin and an end for each of %d spatial axes)", len(op.win.pads), op.win.pads, 2*rank, rank)
		}
		copy(w.padBegin, op.win.pads[:rank])
		copy(w.padEnd, op.win.pads[rank:])
	}
	for i := 0; i < rank; i++ {
		s, d := w.stride[i], w.dilation[i]
		if outPad[i] >= s && outPad[i] >= d {
			return w, ops.Invalidf("output_padding %d (axis %d) must be smaller than the stride %d or the dilation %d", outPad[i], i, s, d)
		}
		full := s*(in[i]-1) + outPad[i] + w.effectiveKernel(i)
		split := func(out int) {
			total := full - out
			if op.win.autoPad == autoPadSameUpper {
				w.padBegin[i] = floorDiv(total, 2)
			} else {
				w.padBegin[i] = total - floorDiv(total, 2)
			}
			w.padEnd[i] = total - w.padBegin[i]
			w.out[i] = out
		}
		switch {
		case outShape != nil:
			split(outShape[i])
		case op.win.autoPad == autoPadSameUpper || op.win.autoPad == autoPadSameLower:
			split(in[i] * s)
		default: // NOTSET (explicit pads) or VALID (none)
			w.out[i] = full - w.padBegin[i] - w.padEnd[i]
		}
		if w.out[i] <= 0 {
			return w, ops.Invalidf("axis %d: input size %d gives an empty output (kernel %d, stride %d, dilation %d, pads %d+%d)",
				i, in[i], w.kernel[i], s, d, w.padBegin[i], w.padEnd[i])
		}
	}
	return w, nil
}

// shape checks X (N x C x D1...), W (C x M/group x k1...) and the optional B (M).
func (op *convTransposeOp) shape(in []ops.ValueInfo) (convShape, error) {
	var s convShape
	if err := ops.CheckInputCount(in, 2, 3); err != nil {
		return s, err
	}
	x, w, b := in[0], in[1], ops.Input(in, 2)
	if err := kernelutil.CheckFloat("X", x.DType); err != nil {
		return s, err
	}
	if w.DType != x.DType {
		return s, ops.Invalidf("W has dtype %s, X has %s", w.DType, x.DType)
	}
	if len(x.Shape) < 3 {
		return s, ops.Invalidf("X has shape %v, want rank >= 3 (N x C x D1 ...)", x.Shape)
	}
	if len(w.Shape) != len(x.Shape) {
		return s, ops.Invalidf("W has shape %v (rank %d), X has shape %v (rank %d): ranks must match", w.Shape, len(w.Shape), x.Shape, len(x.Shape))
	}
	s.batch, s.inC, s.group = x.Shape[0], x.Shape[1], op.group
	if w.Shape[0] != s.inC {
		return s, ops.Invalidf("X has %d channels, W %v has %d (W.shape[0] must equal C)", s.inC, w.Shape, w.Shape[0])
	}
	if s.inC%s.group != 0 {
		return s, ops.Invalidf("group %d does not divide the %d input channels of X %v", s.group, s.inC, x.Shape)
	}
	s.outC = w.Shape[1] * s.group
	if b.Present() {
		if b.DType != x.DType {
			return s, ops.Invalidf("B has dtype %s, X has %s", b.DType, x.DType)
		}
		if len(b.Shape) != 1 || b.Shape[0] != s.outC {
			return s, ops.Invalidf("B has shape %v, want [%d] (W.shape[1]*group)", b.Shape, s.outC)
		}
	}
	if op.win.kernel != nil && !ops.Shape(op.win.kernel).Equal(w.Shape[2:]) {
		return s, ops.Invalidf("kernel_shape %v does not match W's spatial dims %v (W %v)", op.win.kernel, w.Shape[2:], w.Shape)
	}
	win, err := op.resolveTransposed(x.Shape[2:], w.Shape[2:])
	if err != nil {
		return s, err
	}
	s.setWindow(win)
	return s, nil
}

func (op *convTransposeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: s.outShape}}, nil
}

func (op *convTransposeOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	k := &convTransposeKernel{s: s, g: s.win.scatterOutput(), dtype: in[0].DType, hasBias: ops.Input(in, 2).Present()}
	k.colSize = s.groupOutC * s.taps * s.inSize
	k.tiles = tileScatterFits(&s)
	if w := in[1].Const; w != nil && w.DType() == ops.Float32 {
		// Constant weights are packed for the GEMM once, one transposed A per group.
		// Every node reading the same W shares them (ops.Prepack).
		mt := s.groupOutC * s.taps
		layout := fmt.Sprintf("convtranspose.PackA groups=%d mt=%d k=%d", s.group, mt, s.groupInC)
		k.packed = ops.Prepack(in[1].Packs, w, layout, func() []*gemm.PackedA {
			wd := w.Float32s()
			packed := make([]*gemm.PackedA, 0, s.group)
			for grp := 0; grp < s.group; grp++ {
				packed = append(packed, gemm.PackA(true, mt, s.groupInC, wd[grp*s.groupInC*mt:(grp+1)*s.groupInC*mt], mt))
			}
			return packed
		})
	}
	return k, nil
}

// convTransposeKernel runs one transposed convolution. Its fields are read-only during Run.
type convTransposeKernel struct {
	s       convShape
	g       *gather // positions are input cells, offsets are output cells
	dtype   ops.DType
	hasBias bool
	colSize int // float32 elements of the GEMM result buffer
	// packed holds each group's Wᵀ packed for the GEMM when W is a float32 constant, else nil.
	packed []*gemm.PackedA
	// tiles: stride equals kernel, no pads: each output cell is one tap of one input cell, stored with
	// its bias by scatterTiles (convtranspose_tile.go) instead of the bias fill and the col2im sum.
	tiles       bool
	scatterSlot parallel.TaskSlot[tileScatterTask]
}

// ScratchSize is the column buffer for float32, plus float32 copies of X, W, B and Y for 16-bit floats.
func (k *convTransposeKernel) ScratchSize() int {
	s := &k.s
	return convHalfScratch(k.dtype, s.batch*s.inC*s.inSize, s.inC*s.groupOutC*s.taps, s.outC, k.hasBias,
		s.batch*s.outC*s.outSize, k.colSize)
}

// FLOPs counts multiply-adds.
func (k *convTransposeKernel) FLOPs() int64 {
	s := &k.s
	return int64(s.batch) * int64(s.inC) * int64(s.inSize) * int64(s.groupOutC*s.taps)
}

func (k *convTransposeKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	runConvByDType(ctx, k, k.colSize, in, out)
	return nil
}

func (k *convTransposeKernel) runFloat64(x, w, bias, y []float64, done <-chan struct{}) {
	convTransposeDirect(&k.s, k.g, x, w, bias, y, done)
}

// fillBias sets every plane of y (planes of size planeSize) to its channel's bias, or to zero.
func fillBias[T ops.Float](y, bias []T, batch, channels, planeSize int) {
	for n := 0; n < batch; n++ {
		for m := 0; m < channels; m++ {
			var v T
			if bias != nil {
				v = bias[m]
			}
			plane := y[(n*channels+m)*planeSize : (n*channels+m+1)*planeSize]
			for i := range plane {
				plane[i] = v
			}
		}
	}
}

// runGemm computes, for each image n and group g, the columns
//
//	col (M/group*taps x inSize) = W[g]ᵀ · X[n, g]     with W[g] of shape (C/group x M/group*taps)
//
// and adds each column entry into the output cell its input cell and tap reach (col2im). A closed done
// (the run's context) stops it between products and makes the GEMMs return early; the runtime then
// discards the output.
func (k *convTransposeKernel) runGemm(x, w, bias, y, col []float32, pool *parallel.Pool, done <-chan struct{}) {
	s, g := &k.s, k.g
	if cancelled(done) {
		return
	}
	if !k.tiles {
		fillBias(y, bias, s.batch, s.outC, s.outSize)
	}
	mt := s.groupOutC * s.taps
	for n := 0; n < s.batch; n++ {
		for grp := 0; grp < s.group; grp++ {
			if cancelled(done) {
				return
			}
			xg := x[(n*s.inC+grp*s.groupInC)*s.inSize : (n*s.inC+(grp+1)*s.groupInC)*s.inSize]
			p := gemm.Params{M: mt, N: s.inSize, K: s.groupInC, Alpha: 1, B: xg, LDB: s.inSize, C: col, LDC: s.inSize, Pool: pool, Done: done}
			if k.packed != nil {
				p.PackedA = k.packed[grp]
			} else {
				p.A, p.LDA, p.TransA = w[grp*s.groupInC*mt:(grp+1)*s.groupInC*mt], mt, true
			}
			if k.tiles {
				yg := y[(n*s.outC+grp*s.groupOutC)*s.outSize : (n*s.outC+(grp+1)*s.groupOutC)*s.outSize]
				var bg []float32
				if bias != nil {
					bg = bias[grp*s.groupOutC : (grp+1)*s.groupOutC]
				}
				k.runTiles(p, xg, yg, col, bg, pool)
				continue
			}
			gemm.Multiply(&p)
			for m := 0; m < s.groupOutC; m++ {
				ym := y[(n*s.outC+grp*s.groupOutC+m)*s.outSize : (n*s.outC+grp*s.groupOutC+m+1)*s.outSize]
				cm := col[m*s.taps*s.inSize : (m+1)*s.taps*s.inSize]
				for p := 0; p < s.inSize; p++ {
					if r := g.border[p]; r < 0 {
						base := g.origin[p]
						for t, off := range g.tapOffset {
							ym[base+off] += cm[t*s.inSize+p]
						}
					} else {
						for t, off := range g.borderTaps[int(r)*g.taps : int(r+1)*g.taps] {
							if off >= 0 {
								ym[off] += cm[t*s.inSize+p]
							}
						}
					}
				}
			}
		}
	}
}

// convTransposeDirect is the reference transposed convolution: every input cell scatters through the kernel,
//
//	Y[n, g*M/group + m, cell(p, t)] += X[n, g*C/group + c, p] · W[g*C/group + c, m, t]
//
// starting from the bias; contributions that land outside the output (cropped by pads) are dropped. Once
// done (nil for never) is closed it stops before the next input channel, leaving Y unfinished.
func convTransposeDirect[T ops.Float](s *convShape, g *gather, x, w, bias, y []T, done <-chan struct{}) {
	if cancelled(done) {
		return
	}
	fillBias(y, bias, s.batch, s.outC, s.outSize)
	for n := 0; n < s.batch; n++ {
		for c := 0; c < s.inC; c++ {
			if cancelled(done) {
				return
			}
			grp := c / s.groupInC
			xc := x[(n*s.inC+c)*s.inSize : (n*s.inC+c+1)*s.inSize]
			for m := 0; m < s.groupOutC; m++ {
				wcm := w[(c*s.groupOutC+m)*s.taps : (c*s.groupOutC+m+1)*s.taps]
				ym := y[(n*s.outC+grp*s.groupOutC+m)*s.outSize : (n*s.outC+grp*s.groupOutC+m+1)*s.outSize]
				for p, xv := range xc {
					if r := g.border[p]; r < 0 {
						base := g.origin[p]
						for t, off := range g.tapOffset {
							ym[base+off] += xv * wcm[t]
						}
					} else {
						for t, off := range g.borderTaps[int(r)*g.taps : int(r+1)*g.taps] {
							if off >= 0 {
								ym[off] += xv * wcm[t]
							}
						}
					}
				}
			}
		}
	}
}
