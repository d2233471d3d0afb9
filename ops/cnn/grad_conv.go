package cnn

// ConvGrad(dY, X, W) -> (dX, dW, dB): the gradients of Conv (conv.go) with respect to its input, weights and
// bias, given the gradient dY of its output. Attributes are Conv's.

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() { ops.Register(ops.TrainingDomain, "ConvGrad", ops.Since(1, buildConvGrad)) }

type convGradOp struct{ conv *convOp }

func buildConvGrad(n ops.NodeInfo) (ops.Op, error) {
	if err := checkNumOutputs("ConvGrad", n, 3); err != nil {
		return nil, err
	}
	op, err := buildConv(n)
	if err != nil {
		return nil, err
	}
	return &convGradOp{conv: op.(*convOp)}, nil
}

// shape checks dY, X and W and returns the convolution's geometry.
func (op *convGradOp) shape(in []ops.ValueInfo) (convShape, error) {
	if err := ops.CheckInputCount(in, 3, 3); err != nil {
		return convShape{}, err
	}
	for i, name := range []string{"dY", "X", "W"} {
		if err := checkGradDType(name, in[i].DType); err != nil {
			return convShape{}, err
		}
	}
	s, err := op.conv.shape(in[1:3])
	if err != nil {
		return s, err
	}
	if in[0].DType != in[1].DType {
		return s, ops.Invalidf("dY has dtype %s, X has %s", in[0].DType, in[1].DType)
	}
	if !in[0].Shape.Equal(s.outShape) {
		return s, ops.Invalidf("dY has shape %v, the convolution of X %v by W %v gives %v", in[0].Shape, in[1].Shape, in[2].Shape, s.outShape)
	}
	return s, nil
}

func (op *convGradOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	dt := in[0].DType
	return []ops.ValueInfo{{DType: dt, Shape: in[1].Shape}, {DType: dt, Shape: in[2].Shape}, {DType: dt, Shape: ops.Shape{s.outC}}}, nil
}

func (op *convGradOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return &convGradKernel{s: s, taps: tapTable(&s.win), dtype: in[0].DType}, nil
}

// tapTable lists, for kernel tap t and output position p (both flat, row-major), the flat offset of the
// input cell the convolution reads there, or -1 for padding: taps x outSize entries, built from the
// window alone so the gradient does not depend on how the forward kernel lowers its loops.
func tapTable(w *window) []int32 {
	rank := len(w.in)
	taps, outSize := ops.Shape(w.kernel).Size(), ops.Shape(w.out).Size()
	inStrides := ops.Shape(w.in).Strides()
	table := make([]int32, taps*outSize)
	k := make([]int, rank)
	o := make([]int, rank)
	for t := 0; t < taps; t++ {
		clear(o)
		for p := 0; p < outSize; p++ {
			off := 0
			for a := 0; a < rank && off >= 0; a++ {
				c := o[a]*w.stride[a] + k[a]*w.dilation[a] - w.padBegin[a]
				if c < 0 || c >= w.in[a] {
					off = -1
				} else {
					off += c * inStrides[a]
				}
			}
			table[t*outSize+p] = int32(off)
			kernelutil.NextIndex(o, w.out)
		}
		kernelutil.NextIndex(k, w.kernel)
	}
	return table
}

// convGradKernel computes the three gradients for one batch, one group at a time, with the whole batch in
// each GEMM (the per-image products of a small convolution are too small to run well):
//
//	dYg  (M/group x N*outSize)        dY of the group's output channels, images side by side
//	cols (C/group*taps x N*outSize)   im2col of every image: row (c, t) holds the cell each output
//	                                  position reads at tap t of channel c (0 for padding)
//	dW[g] = dYg · colsᵀ
//	dB[m] = Σ_{n,p} dY[n, m, p]
//	dcols = W[g]ᵀ · dYg               then col2im adds each entry back onto the input cell it was read from
//
// dcols overwrites cols once dW is done, so the scratch holds cols and dYg only.
type convGradKernel struct {
	s     convShape
	taps  []int32 // tapTable
	dtype ops.DType
}

func (k *convGradKernel) colLen() int { return k.s.batch * k.s.outSize * k.s.groupInC * k.s.taps }
func (k *convGradKernel) dyLen() int  { return k.s.groupOutC * k.s.batch * k.s.outSize }

// ScratchSize is cols plus dYg, in float32 elements (float64, for tests, allocates its own).
func (k *convGradKernel) ScratchSize() int {
	if k.dtype == ops.Float64 {
		return 0
	}
	return k.colLen() + k.dyLen()
}

// FLOPs counts multiply-adds: two GEMMs of the forward convolution's size.
func (k *convGradKernel) FLOPs() int64 {
	s := &k.s
	return 2 * int64(s.batch) * int64(s.outC) * int64(s.outSize) * int64(s.groupInC*s.taps)
}

func (k *convGradKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	dx, dw, db := outputAt(out, 0), outputAt(out, 1), outputAt(out, 2)
	if k.dtype == ops.Float64 {
		buf := make([]float64, k.colLen()+k.dyLen()) // float64 is for tests; it may allocate
		convGrad(k, in[0].Float64s(), in[1].Float64s(), in[2].Float64s(), dx, dw, db, buf[:k.colLen()], buf[k.colLen():])
		return nil
	}
	convGrad(k, in[0].Float32s(), in[1].Float32s(), in[2].Float32s(), dx, dw, db, ctx.Scratch[:k.colLen()], ctx.Scratch[k.colLen():k.colLen()+k.dyLen()])
	return nil
}

func convGrad[T ops.Float](k *convGradKernel, dy, x, w []T, dxT, dwT, dbT *ops.Tensor, cols, dyg []T) {
	s := &k.s
	kc := s.groupInC * s.taps
	rows := s.batch * s.outSize
	var dx, dw, db []T
	if dxT != nil {
		dx = ops.Data[T](dxT)
		zero(dx)
	}
	if dwT != nil {
		dw = ops.Data[T](dwT)
	}
	if dbT != nil {
		db = ops.Data[T](dbT)
	}
	for g := 0; g < s.group; g++ {
		// dYg: row m holds dY[n, g*M/group + m, :] for n = 0..N-1.
		for m := 0; m < s.groupOutC; m++ {
			oc := g*s.groupOutC + m
			var sum T
			for n := 0; n < s.batch; n++ {
				src := dy[(n*s.outC+oc)*s.outSize : (n*s.outC+oc+1)*s.outSize]
				copy(dyg[m*rows+n*s.outSize:], src)
				if db != nil {
					for _, v := range src {
						sum += v
					}
				}
			}
			if db != nil {
				db[oc] = sum
			}
		}
		if dw != nil {
			gradIm2col(k, cols, x, g)
			matmul(false, true, s.groupOutC, kc, rows, 1, dyg, rows, cols, rows, 0, dw[g*s.groupOutC*kc:(g+1)*s.groupOutC*kc], kc)
		}
		if dx != nil {
			wg := w[g*s.groupOutC*kc : (g+1)*s.groupOutC*kc]
			matmul(true, false, kc, rows, s.groupOutC, 1, wg, kc, dyg, rows, 0, cols, rows)
			gradCol2im(k, dx, cols, g)
		}
	}
}

// gradIm2col fills cols (C/group*taps x N*outSize) for group g: entry ((c, t), (n, p)) is the input cell of
// image n, channel g*C/group + c that output position p reads at tap t, or 0 for padding.
func gradIm2col[T ops.Float](k *convGradKernel, cols, x []T, g int) {
	s := &k.s
	rows := s.batch * s.outSize
	for c := 0; c < s.groupInC; c++ {
		for t := 0; t < s.taps; t++ {
			dst := cols[(c*s.taps+t)*rows : (c*s.taps+t+1)*rows]
			tab := k.taps[t*s.outSize : (t+1)*s.outSize]
			for n := 0; n < s.batch; n++ {
				xc := x[(n*s.inC+g*s.groupInC+c)*s.inSize : (n*s.inC+g*s.groupInC+c+1)*s.inSize]
				d := dst[n*s.outSize : (n+1)*s.outSize]
				for p, off := range tab {
					if off >= 0 {
						d[p] = xc[off]
					} else {
						d[p] = 0
					}
				}
			}
		}
	}
}

// gradCol2im is gradIm2col's adjoint: it adds each entry of cols onto the input cell gradIm2col read it
// from, dropping padding.
func gradCol2im[T ops.Float](k *convGradKernel, dx, cols []T, g int) {
	s := &k.s
	rows := s.batch * s.outSize
	for c := 0; c < s.groupInC; c++ {
		for t := 0; t < s.taps; t++ {
			src := cols[(c*s.taps+t)*rows : (c*s.taps+t+1)*rows]
			tab := k.taps[t*s.outSize : (t+1)*s.outSize]
			for n := 0; n < s.batch; n++ {
				dxc := dx[(n*s.inC+g*s.groupInC+c)*s.inSize : (n*s.inC+g*s.groupInC+c+1)*s.inSize]
				sp := src[n*s.outSize : (n+1)*s.outSize]
				for p, off := range tab {
					if off >= 0 {
						dxc[off] += sp[p]
					}
				}
			}
		}
	}
}
