package cnn

// ConvGrad(dY, X, W) -> (dX, dW, dB): the gradients of Conv (conv.go) with respect to its input, weights and
// bias, given the gradient dY of its output. Attributes are Conv's.

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/vecarith"
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
	taps := tapTable(&s.win)
	runs, runsAt := tapRuns(taps, s.taps)
	return &convGradKernel{s: s, taps: taps, runs: runs, runsAt: runsAt, dtype: in[0].DType}, nil
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

// tapRun is a stretch of one tap's row of the tap table: output positions p0..p0+n-1 read input cells
// src0, src0+step, ... (a row of a stride-1 convolution reads a contiguous stretch: step 1), or padding
// when src0 < 0. Gathering and scattering a run at a time turns the table's per-cell branch and lookup
// into copies and vector adds.
type tapRun struct{ p0, n, src0, step int32 }

// tapRuns splits each of the taps rows of table into maximal runs: runs[runsAt[t]:runsAt[t+1]] cover
// tap t's output positions in order.
func tapRuns(table []int32, taps int) (runs []tapRun, runsAt []int32) {
	runsAt = make([]int32, taps+1)
	outSize := 0
	if taps > 0 {
		outSize = len(table) / taps
	}
	for t := 0; t < taps; t++ {
		row := table[t*outSize : (t+1)*outSize]
		for p := 0; p < len(row); {
			r := tapRun{p0: int32(p), n: 1, src0: row[p], step: 1}
			switch {
			case row[p] < 0:
				for p+int(r.n) < len(row) && row[p+int(r.n)] < 0 {
					r.n++
				}
			case p+1 < len(row) && row[p+1] > row[p]:
				r.step = row[p+1] - row[p]
				for p+int(r.n) < len(row) && row[p+int(r.n)] == r.src0+r.n*r.step {
					r.n++
				}
			}
			runs = append(runs, r)
			p += int(r.n)
		}
		runsAt[t+1] = int32(len(runs))
	}
	return runs, runsAt
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
	s      convShape
	taps   []int32 // tapTable
	runs   []tapRun
	runsAt []int32 // tapRuns: tap t's runs are runs[runsAt[t]:runsAt[t+1]]
	dtype  ops.DType
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
// image n, channel g*C/group + c that output position p reads at tap t, or 0 for padding. It gathers a
// tapRun at a time; gradIm2colReference (in the tests) is the same cell by cell from the tap table:
//
//	for p, off := range tapTable row t { d[p] = off >= 0 ? xc[off] : 0 }
func gradIm2col[T ops.Float](k *convGradKernel, cols, x []T, g int) {
	s := &k.s
	rows := s.batch * s.outSize
	for c := 0; c < s.groupInC; c++ {
		for t := 0; t < s.taps; t++ {
			dst := cols[(c*s.taps+t)*rows : (c*s.taps+t+1)*rows]
			runs := k.runs[k.runsAt[t]:k.runsAt[t+1]]
			for n := 0; n < s.batch; n++ {
				xc := x[(n*s.inC+g*s.groupInC+c)*s.inSize : (n*s.inC+g*s.groupInC+c+1)*s.inSize]
				d := dst[n*s.outSize : (n+1)*s.outSize]
				for _, r := range runs {
					seg := d[r.p0 : r.p0+r.n]
					switch {
					case r.src0 < 0:
						clear(seg)
					case r.step == 1:
						copy(seg, xc[r.src0:r.src0+r.n])
					default:
						src := xc[r.src0 : r.src0+(r.n-1)*r.step+1]
						for i := range seg {
							seg[i] = src[i*int(r.step)]
						}
					}
				}
			}
		}
	}
}

// gradCol2im is gradIm2col's adjoint: it adds each entry of cols onto the input cell gradIm2col read it
// from, dropping padding, a tapRun at a time (float32 contiguous runs through the vector add);
// gradCol2imReference (in the tests) is the same cell by cell:
//
//	for p, off := range tapTable row t { if off >= 0 { dxc[off] += sp[p] } }
func gradCol2im[T ops.Float](k *convGradKernel, dx, cols []T, g int) {
	s := &k.s
	rows := s.batch * s.outSize
	for c := 0; c < s.groupInC; c++ {
		for t := 0; t < s.taps; t++ {
			src := cols[(c*s.taps+t)*rows : (c*s.taps+t+1)*rows]
			runs := k.runs[k.runsAt[t]:k.runsAt[t+1]]
			for n := 0; n < s.batch; n++ {
				dxc := dx[(n*s.inC+g*s.groupInC+c)*s.inSize : (n*s.inC+g*s.groupInC+c+1)*s.inSize]
				sp := src[n*s.outSize : (n+1)*s.outSize]
				for _, r := range runs {
					if r.src0 < 0 {
						continue
					}
					seg := sp[r.p0 : r.p0+r.n]
					if r.step == 1 {
						addInto(dxc[r.src0:r.src0+r.n], seg)
						continue
					}
					d := dxc[r.src0 : r.src0+(r.n-1)*r.step+1]
					for i, v := range seg {
						d[i*int(r.step)] += v
					}
				}
			}
		}
	}
}

// addInto adds src to dst element by element, through the vector add for float32.
func addInto[T ops.Float](dst, src []T) {
	if d, ok := any(dst).([]float32); ok {
		vecarith.VV(vecarith.Add, d, d, any(src).([]float32))
		return
	}
	for i, v := range src {
		dst[i] += v
	}
}
