package cnn

// Conv: https://onnx.ai/onnx/operators/onnx__Conv.html, opsets 1, 11 and 22.

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

func init() {
	ops.Register("", "Conv",
		ops.Since(1, buildConv),
		// opset 11: the spec defines SAME_* as output = ceil(in/stride) and documents the defaults of strides
		// and dilations; the computation is the same.
		ops.Since(11, buildConv),
		// opset 22: bfloat16 added to T.
		ops.Since(22, buildConv),
	)
}

type convOp struct {
	win   windowAttrs
	group int
	// weights keeps what the float32 strategies derive from constant weights, across plans (conv_fast.go).
	// weights keeps what kernels derive from a constant W when the runtime gives them no cache of its
	// own (ValueInfo.Packs): it lives as long as the node.
	weights *ops.PackCache
}

func buildConv(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	win, err := readWindowAttrs(r, false)
	if err != nil {
		return nil, err
	}
	group := r.Int("group", 1)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if group < 1 {
		return nil, &ops.AttrError{Name: "group", Msg: fmt.Sprintf("is %d, must be at least 1", group)}
	}
	return &convOp{win: win, group: int(group), weights: new(ops.PackCache)}, nil
}

// convShape is a convolution's or a transposed convolution's geometry for one set of input shapes.
type convShape struct {
	win                 window
	batch               int // N
	inC, outC           int // C and M
	group               int
	groupInC, groupOutC int // C/group and M/group
	inSize, outSize     int // spatial cells of one input and one output plane
	taps                int // spatial cells of the kernel
	outShape            ops.Shape
}

// shape checks X (N x C x D1...), W (M x C/group x k1...) and the optional B (M) and resolves the window.
func (op *convOp) shape(in []ops.ValueInfo) (convShape, error) {
	if err := ops.CheckInputCount(in, 2, 3); err != nil {
		return convShape{}, err
	}
	x, w, b := in[0], in[1], ops.Input(in, 2)
	if err := kernelutil.CheckFloat("X", x.DType); err != nil {
		return convShape{}, err
	}
	if w.DType != x.DType {
		return convShape{}, ops.Invalidf("W has dtype %s, X has %s", w.DType, x.DType)
	}
	s, err := op.geometry(x.Shape, w.Shape)
	if err != nil {
		return s, err
	}
	if b.Present() {
		if b.DType != x.DType {
			return s, ops.Invalidf("B has dtype %s, X has %s", b.DType, x.DType)
		}
		if len(b.Shape) != 1 || b.Shape[0] != s.outC {
			return s, ops.Invalidf("B has shape %v, want [%d] (W.shape[0])", b.Shape, s.outC)
		}
	}
	return s, nil
}

// geometry checks that X's and W's shapes fit together and with group, and resolves the window.
func (op *convOp) geometry(xShape, wShape ops.Shape) (convShape, error) {
	var s convShape
	if len(xShape) < 3 {
		return s, ops.Invalidf("X has shape %v, want rank >= 3 (N x C x D1 ...)", xShape)
	}
	if len(wShape) != len(xShape) {
		return s, ops.Invalidf("W has shape %v (rank %d), X has shape %v (rank %d): ranks must match", wShape, len(wShape), xShape, len(xShape))
	}
	s.batch, s.inC, s.outC, s.group = xShape[0], xShape[1], wShape[0], op.group
	if s.inC%s.group != 0 {
		return s, ops.Invalidf("group %d does not divide the %d input channels of X %v", s.group, s.inC, xShape)
	}
	if s.inC != wShape[1]*s.group {
		return s, ops.Invalidf("X has %d channels, W %v expects W.shape[1]*group = %d*%d = %d", s.inC, wShape, wShape[1], s.group, wShape[1]*s.group)
	}
	if s.outC%s.group != 0 {
		return s, ops.Invalidf("group %d does not divide the %d output channels (W.shape[0] of %v)", s.group, s.outC, wShape)
	}
	if op.win.kernel != nil && !ops.Shape(op.win.kernel).Equal(wShape[2:]) {
		return s, ops.Invalidf("kernel_shape %v does not match W's spatial dims %v (W %v)", op.win.kernel, wShape[2:], wShape)
	}
	win, err := op.win.resolve(xShape[2:], wShape[2:])
	if err != nil {
		return s, err
	}
	s.setWindow(win)
	return s, nil
}

func (op *convOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: s.outShape}}, nil
}

func (op *convOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	if in[0].DType == ops.Float32 {
		// float32 runs on the strategy chosen by shape (conv_fast.go); the rest on the loop below.
		return prepareFastConv(s, in[1].Const, op.packsFor(in[1]), convEpilogue{}), nil
	}
	g := s.win.gatherInput()
	k := &convKernel{s: s, g: g, dtype: in[0].DType, hasBias: ops.Input(in, 2).Present()}
	k.identity = g.isIdentity(s.inSize)
	if !k.identity {
		k.colSize = s.outSize * s.groupInC * s.taps
	}
	return k, nil
}

// convKernel runs one float64, float16 or bfloat16 convolution (float32 has its own strategies,
// conv_fast.go): float64 on the direct loop, the 16-bit floats through float32 scratch on the GEMM. Its
// fields are read-only during Run.
type convKernel struct {
	s        convShape
	g        *gather
	dtype    ops.DType
	hasBias  bool
	identity bool // 1x1 kernel, stride 1, no padding: each group's input planes are already the GEMM operand
	colSize  int  // float32 elements of the im2col buffer (0 when identity)
}

// ScratchSize is, for 16-bit floats, room for float32 copies of X, W, B and Y and the im2col buffer.
func (k *convKernel) ScratchSize() int {
	s := &k.s
	return convHalfScratch(k.dtype, s.batch*s.inC*s.inSize, s.outC*s.groupInC*s.taps, s.outC, k.hasBias,
		s.batch*s.outC*s.outSize, k.colSize)
}

// FLOPs counts multiply-adds.
func (k *convKernel) FLOPs() int64 {
	return k.s.multiplyAdds()
}

func (k *convKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	runConvByDType(ctx, k, k.colSize, in, out)
	return nil
}

func (k *convKernel) runFloat64(x, w, bias, y []float64, done <-chan struct{}) {
	convDirect(&k.s, k.g, x, w, bias, y, done)
}

// convRoutines is what Conv and ConvTranspose differ in once their dtype is known: the float32 GEMM
// lowering and the float64 direct loop.
type convRoutines interface {
	runGemm(x, w, bias, y, col []float32, pool *parallel.Pool, done <-chan struct{})
	runFloat64(x, w, bias, y []float64, done <-chan struct{})
}

// runConvByDType runs Conv or ConvTranspose on inputs X, W and the optional B: float32 on the GEMM with
// colSize elements of scratch, float64 on the direct loop, float16 and bfloat16 widened to float32.
func runConvByDType(ctx *ops.ExecContext, k convRoutines, colSize int, in, out []*ops.Tensor) {
	b := ops.TensorAt(in, 2)
	pool, done := poolOf(ctx), doneOf(ctx)
	switch x := in[0].Data().(type) {
	case []float32:
		k.runGemm(x, in[1].Float32s(), optional[float32](b), out[0].Float32s(), ctx.Scratch[:colSize], pool, done)
	case []float64:
		k.runFloat64(x, in[1].Float64s(), optional[float64](b), out[0].Float64s(), done)
	default: // float16, bfloat16: computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		k.runGemm(w.In(in[0]), w.In(in[1]), w.In(b), w.Out(out[0]), w.Scratch(colSize), pool, done)
		if !cancelled(done) { // Y is unfinished; the runtime discards it
			w.Narrow()
		}
	}
}

// convHalfScratch is runConvByDType's scratch: the column buffer for float32, plus float32 copies of X, W,
// B (when present) and Y for the 16-bit floats.
func convHalfScratch(dt ops.DType, xLen, wLen, bLen int, hasBias bool, yLen, colSize int) int {
	if !hasBias {
		bLen = 0
	}
	if dt == ops.Float32 {
		return colSize
	}
	if half := ops.HalfScratch(dt, xLen, wLen, bLen, yLen); half > 0 {
		return half + colSize
	}
	return 0
}

// runGemm computes the convolution as, for each image n and group g,
//
//	Y[n, g] (M/group x outSize) = W[g] (M/group x C/group*taps) · im2col(X[n, g])ᵀ + B[g]
//
// where row p of im2col (outSize x C/group*taps) holds the input cells output position p reads.
//
// The bias is the GEMM's per-row epilogue; pool, when non-nil, splits each product across threads. Once
// done is closed it stops between products (the GEMM itself stops between tiles), leaving Y unfinished.
func (k *convKernel) runGemm(x, w, bias, y, col []float32, pool *parallel.Pool, done <-chan struct{}) {
	s := &k.s
	kc := s.groupInC * s.taps
	for n := 0; n < s.batch; n++ {
		for g := 0; g < s.group; g++ {
			if cancelled(done) {
				return
			}
			xg := x[(n*s.inC+g*s.groupInC)*s.inSize : (n*s.inC+(g+1)*s.groupInC)*s.inSize]
			p := gemm.Params{
				M: s.groupOutC, N: s.outSize, K: kc, Alpha: 1,
				C: y[(n*s.outC+g*s.groupOutC)*s.outSize : (n*s.outC+(g+1)*s.groupOutC)*s.outSize], LDC: s.outSize,
				Pool: pool, Done: done,
			}
			p.A, p.LDA = w[g*s.groupOutC*kc:(g+1)*s.groupOutC*kc], kc
			if bias != nil {
				p.Epilogue = gemm.Epilogue{Bias: bias[g*s.groupOutC : (g+1)*s.groupOutC], BiasMode: gemm.BiasPerRow}
			}
			if k.identity {
				p.B, p.LDB = xg, s.inSize
			} else {
				im2col(col, xg, k.g, s.groupInC, s.inSize, 0)
				p.B, p.LDB, p.TransB = col, kc, true
			}
			gemm.Multiply(&p)
		}
	}
}

// im2col writes, for each output position p, the cells its window reads from each of the channels planes of
// x (channel-major, then tap) into row p of col; padding cells hold pad: zero for floats, x's zero point
// for 8-bit integer data (so that x - x_zero_point is zero there).
func im2col[T ops.Float | byte](col, x []T, g *gather, channels, inSize int, pad T) {
	kc := channels * g.taps
	for p := 0; p < g.positions; p++ {
		dst := col[p*kc : (p+1)*kc]
		if r := g.border[p]; r < 0 {
			base := int(g.origin[p])
			for c := 0; c < channels; c++ {
				xc := x[c*inSize+base:]
				d := dst[c*g.taps : (c+1)*g.taps]
				for t, off := range g.tapOffset {
					d[t] = xc[off]
				}
			}
			continue
		}
		row := g.borderTaps[int(g.border[p])*g.taps : int(g.border[p]+1)*g.taps]
		for c := 0; c < channels; c++ {
			xc := x[c*inSize : (c+1)*inSize]
			d := dst[c*g.taps : (c+1)*g.taps]
			for t, off := range row {
				if off >= 0 {
					d[t] = xc[off]
				} else {
					d[t] = pad
				}
			}
		}
	}
}

// convDirect is the reference convolution, a plain sum per output cell:
//
//	Y[n, m, p] = B[m] + Σ_c Σ_t W[m, c, t] · X[n, g*C/group + c, cell(p, t)]
//
// over the input channels c of m's group g and the kernel taps t whose cell is inside the input (padding
// contributes zero). It is a cross-correlation: the kernel is not flipped. Once done (nil for never) is
// closed it stops before the next output plane, leaving Y unfinished.
func convDirect[T ops.Float](s *convShape, g *gather, x, w, bias, y []T, done <-chan struct{}) {
	kc := s.groupInC * s.taps
	for n := 0; n < s.batch; n++ {
		for m := 0; m < s.outC; m++ {
			if cancelled(done) {
				return
			}
			grp := m / s.groupOutC
			xg := x[(n*s.inC+grp*s.groupInC)*s.inSize:]
			wm := w[m*kc : (m+1)*kc]
			ym := y[(n*s.outC+m)*s.outSize : (n*s.outC+m+1)*s.outSize]
			var b0 T
			if bias != nil {
				b0 = bias[m]
			}
			for p := range ym {
				sum := b0
				if r := g.border[p]; r < 0 {
					base := int(g.origin[p])
					for c := 0; c < s.groupInC; c++ {
						xc := xg[c*s.inSize+base:]
						wc := wm[c*s.taps : (c+1)*s.taps]
						for t, off := range g.tapOffset {
							sum += wc[t] * xc[off]
						}
					}
				} else {
					row := g.borderTaps[int(r)*g.taps : int(r+1)*g.taps]
					for c := 0; c < s.groupInC; c++ {
						xc := xg[c*s.inSize : (c+1)*s.inSize]
						wc := wm[c*s.taps : (c+1)*s.taps]
						for t, off := range row {
							if off >= 0 {
								sum += wc[t] * xc[off]
							}
						}
					}
				}
				ym[p] = sum
			}
		}
	}
}

// multiplyAdds is the number of multiply-adds the convolution does, its Coster FLOPs.
func (s *convShape) multiplyAdds() int64 {
	return int64(s.batch) * int64(s.outC) * int64(s.outSize) * int64(s.groupInC*s.taps)
}

// setWindow records a resolved window and what follows from it and the channel counts: the per-group
// channels, the spatial sizes, the taps and the output shape. Conv and ConvTranspose share it.
func (s *convShape) setWindow(win window) {
	s.win = win
	s.groupInC, s.groupOutC = s.inC/s.group, s.outC/s.group
	s.inSize = ops.Shape(win.in).Size()
	s.outSize = ops.Shape(win.out).Size()
	s.taps = ops.Shape(win.kernel).Size()
	s.outShape = append(ops.Shape{s.batch, s.outC}, win.out...)
}

// packsFor is where kernels keep what they derive from W: the runtime's cache, shared by every node
// reading the same constant, else the op's own.
func (op *convOp) packsFor(w ops.ValueInfo) *ops.PackCache {
	if w.Packs != nil {
		return w.Packs
	}
	return op.weights
}
