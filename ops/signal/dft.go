package signal

// DFT: the discrete Fourier transform along one axis, https://onnx.ai/onnx/operators/onnx__DFT.html,
// opsets 17 (axis attribute, default 1) and 20 (axis input, default -2).
//
// The last axis holds one real value or a (real, imaginary) pair. Along the transformed axis the signal
// is cut or zero-padded to dft_length N (by default its length, or 2·(length-1) for the inverse of a
// one-sided spectrum), then
//
//	y[k] = Σ_n x[n]·e^(-2πi·kn/N)            forward
//	x[n] = 1/N · Σ_k y[k]·e^(+2πi·kn/N)      inverse
//
// onesided keeps the first N/2+1 outputs of a forward transform (the rest mirror them), or, inverse,
// rebuilds the full spectrum from them by conjugate symmetry and returns the real signal. Each signal is
// transformed in float64 by an FFT planned at Prepare (fft.go): O(N log N) for every length, through
// Bluestein's algorithm for lengths with a large prime factor. dftDirect in the tests is the direct sum
// above, the reference the FFT is compared with.

import (
	"math"
	"math/cmplx"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "DFT", ops.Since(17, buildDFT), ops.Since(20, buildDFT))
}

type dftOp struct {
	opset             int
	axis              int64 // opset 17's attribute
	inverse, onesided bool
}

func buildDFT(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &dftOp{opset: n.Opset, inverse: r.Int("inverse", 0) != 0, onesided: r.Int("onesided", 0) != 0}
	if n.Opset < 20 {
		op.axis = r.Int("axis", 1)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return op, nil
}

// ShapeInputs: dft_length and (opset 20) axis shape the output.
func (op *dftOp) ShapeInputs() []int { return []int{1, 2} }

type dftShape struct {
	outer, dim, inner, complexIn int // input as [outer, dim, inner, 1 or 2]
	axis, n, outDim              int
	outShape                     ops.Shape
}

func (op *dftOp) shape(in []ops.ValueInfo) (dftShape, error) {
	maxIn := 2
	if op.opset >= 20 {
		maxIn = 3
	}
	if err := ops.CheckInputCount(in, 1, maxIn); err != nil {
		return dftShape{}, err
	}
	x := in[0]
	if err := kernelutil.CheckFloat("input", x.DType); err != nil {
		return dftShape{}, err
	}
	rank := len(x.Shape)
	if rank < 2 || (x.Shape[rank-1] != 1 && x.Shape[rank-1] != 2) {
		return dftShape{}, ops.Invalidf("input has shape %v, want [..., 1] (real) or [..., 2] (complex)", x.Shape)
	}
	axis := op.axis
	if op.opset >= 20 {
		axis = -2
		if a, ok, err := constInt(in, 2, "axis"); err != nil {
			return dftShape{}, err
		} else if ok {
			axis = a
		}
	}
	if axis < 0 {
		axis += int64(rank)
	}
	if axis < 0 || axis > int64(rank-2) {
		return dftShape{}, ops.Invalidf("axis %d is not a signal axis of input %v (the last axis holds the real and imaginary parts)", axis, x.Shape)
	}
	s := dftShape{axis: int(axis), dim: x.Shape[axis], outer: x.Shape[:axis].Size(), inner: x.Shape[axis+1 : rank-1].Size(), complexIn: x.Shape[rank-1]}
	s.n = s.dim
	if op.onesided && op.inverse {
		s.n = 2 * (s.dim - 1)
	}
	if l, ok, err := constInt(in, 1, "dft_length"); err != nil {
		return dftShape{}, err
	} else if ok {
		if l < 1 || l > math.MaxInt32 {
			return dftShape{}, ops.Invalidf("dft_length is %d, want at least 1", l)
		}
		s.n = int(l)
	}
	if s.n < 1 {
		return dftShape{}, ops.Invalidf("the signal along axis %d has length %d: nothing to transform", axis, s.dim)
	}
	s.outDim = s.n
	last := 2
	switch {
	case op.onesided && !op.inverse:
		s.outDim = s.n/2 + 1
	case op.onesided && op.inverse:
		last = 1
	}
	s.outShape = x.Shape.Clone()
	s.outShape[axis], s.outShape[rank-1] = s.outDim, last
	return s, nil
}

func (op *dftOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: s.outShape}}, nil
}

func (op *dftOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	k := &dftKernel{op: op, s: s}
	// A real signal's forward transform and the one-sided inverse (a real result) take FFTPACK's real
	// transforms, about twice as fast; the rest are complex.
	k.realForward = s.complexIn == 1 && !op.inverse
	k.realInverse = op.onesided && op.inverse
	plan, err := newFFTPlan(s.n, !k.realForward && !k.realInverse, k.realForward || k.realInverse)
	if err != nil {
		return nil, err
	}
	k.plans = newFFTPlans(plan)
	return k, nil
}

type dftKernel struct {
	op                       *dftOp
	s                        dftShape
	realForward, realInverse bool
	plans                    *fftPlans
}

// FLOPs counts one complex FFT of length N per signal (fftFLOPs), whichever algorithm runs it.
func (k *dftKernel) FLOPs() int64 {
	return int64(k.s.outer) * int64(k.s.inner) * fftFLOPs(k.s.n)
}

// fftFLOPs is the usual 5·N·log2(N)/2 multiply-adds of a radix-2 complex FFT of length n.
func fftFLOPs(n int) int64 {
	return int64(5 * float64(n) * math.Log2(float64(max(n, 2))) / 2)
}

func (k *dftKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	s, op := &k.s, k.op
	p := k.plans.get()
	defer k.plans.put(p)
	x, y := in[0], out[0]
	n, half := s.n, s.n/2+1
	used := min(s.dim, n)
	scale := 1.0
	if op.inverse {
		scale = 1 / float64(n)
	}
	done := kernelutil.DoneOf(ctx)
	for o := 0; o < s.outer; o++ {
		if kernelutil.Cancelled(done) {
			return nil // the output is unfinished; the runtime reports the context's error
		}
		for i := 0; i < s.inner; i++ {
			// The signal, cut or zero-padded to n; a one-sided inverse input is completed by symmetry.
			first, stride := (o*s.dim*s.inner+i)*s.complexIn, s.inner*s.complexIn
			firstOut := o*s.outDim*s.inner + i
			switch {
			case k.realForward && p.real != nil:
				readReal(p.samples[:used], x, first, stride)
				clear(p.samples[used:])
				p.forwardReal(s.outDim > half)
				writeComplex(y, firstOut*2, s.inner*2, p.signal[:s.outDim], scale)
			case k.realInverse && p.real != nil:
				readComplex(p.signal[:min(used, half)], x, first, stride, s.complexIn)
				clear(p.signal[min(used, half):half])
				p.inverseReal()
				writeReal(y, firstOut, s.inner, p.samples, scale)
			default:
				readComplex(p.signal[:used], x, first, stride, s.complexIn)
				clear(p.signal[used:])
				if k.realInverse {
					for t := half; t < n; t++ {
						p.signal[t] = cmplx.Conj(p.signal[n-t])
					}
				}
				p.transform(op.inverse)
				if k.realInverse {
					writeRealParts(y, firstOut, s.inner, p.signal, scale)
				} else {
					writeComplex(y, firstOut*2, s.inner*2, p.signal[:s.outDim], scale)
				}
			}
		}
	}
	return nil
}

// STFT: the short-time Fourier transform, https://onnx.ai/onnx/operators/onnx__STFT.html, opset 17. Frame
// f of a [batch, length, 1 or 2] signal is its frame_length samples from f·frame_step, times the window,
// transformed like DFT's signals; there are 1 + (length - frame_length)/frame_step frames, and onesided (the
// default) keeps frame_length/2 + 1 frequencies of each.
func init() {
	ops.Register("", "STFT", ops.Since(17, buildSTFT))
}

type stftOp struct{ onesided bool }

func buildSTFT(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &stftOp{onesided: r.Int("onesided", 1) != 0}
	return op, r.Err()
}

// ShapeInputs: frame_step, the window's length and frame_length shape the output.
func (op *stftOp) ShapeInputs() []int { return []int{1, 3} }

type stftShape struct {
	batch, length, complexIn, step, frameLen, frames, bins int
	window                                                 bool
}

func (op *stftOp) shape(in []ops.ValueInfo) (stftShape, error) {
	if err := ops.CheckInputCount(in, 2, 4); err != nil {
		return stftShape{}, err
	}
	x := in[0]
	if err := kernelutil.CheckFloat("signal", x.DType); err != nil {
		return stftShape{}, err
	}
	if len(x.Shape) != 3 || (x.Shape[2] != 1 && x.Shape[2] != 2) {
		return stftShape{}, ops.Invalidf("signal has shape %v, want [batch, length, 1 or 2]", x.Shape)
	}
	s := stftShape{batch: x.Shape[0], length: x.Shape[1], complexIn: x.Shape[2]}
	step, _, err := constInt(in, 1, "frame_step")
	if err != nil {
		return s, err
	}
	frameLen, hasLen, err := constInt(in, 3, "frame_length")
	if err != nil {
		return s, err
	}
	if w := ops.Input(in, 2); w.Present() {
		if w.DType != x.DType || len(w.Shape) != 1 {
			return s, ops.Invalidf("window is %s%v, want a vector of %s", w.DType, w.Shape, x.DType)
		}
		if hasLen && int64(w.Shape[0]) != frameLen {
			return s, ops.Invalidf("window has %d values, frame_length is %d", w.Shape[0], frameLen)
		}
		frameLen, hasLen, s.window = int64(w.Shape[0]), true, true
	}
	if !hasLen {
		return s, ops.Invalidf("STFT needs a window or a frame_length")
	}
	if step < 1 || frameLen < 1 || frameLen > int64(s.length) {
		return s, ops.Invalidf("frame_step %d and frame_length %d do not fit a signal of %d samples", step, frameLen, s.length)
	}
	if op.onesided && s.complexIn == 2 {
		return s, ops.Invalidf("a onesided STFT takes a real signal, not a complex one")
	}
	s.step, s.frameLen = int(step), int(frameLen)
	s.frames = 1 + (s.length-s.frameLen)/s.step
	s.bins = s.frameLen
	if op.onesided {
		s.bins = s.frameLen/2 + 1
	}
	return s, nil
}

func (op *stftOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: ops.Shape{s.batch, s.frames, s.bins, 2}}}, nil
}

func (op *stftOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	realSignal := s.complexIn == 1
	plan, err := newFFTPlan(s.frameLen, !realSignal, realSignal)
	if err != nil {
		return nil, err
	}
	k := &stftKernel{s: s, plans: newFFTPlans(plan)}
	if w := ops.Input(in, 2); s.window && w.Const != nil {
		k.window = w.Const.AsFloat64s()
	}
	return k, nil
}

type stftKernel struct {
	s     stftShape
	plans *fftPlans
	// window is the window input in float64 when it is a constant, read once at Prepare; nil otherwise.
	window []float64
}

// ScratchSize: the window in float64 when it is not a constant.
func (k *stftKernel) ScratchSize() int {
	if k.s.window && k.window == nil {
		return ops.Float64ScratchLen(k.s.frameLen)
	}
	return 0
}

func (k *stftKernel) FLOPs() int64 {
	return int64(k.s.batch) * int64(k.s.frames) * fftFLOPs(k.s.frameLen)
}

func (k *stftKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	s := &k.s
	n := s.frameLen
	p := k.plans.get()
	defer k.plans.put(p)
	x, y := in[0], out[0]
	window := k.window
	if s.window && window == nil {
		window = ops.Float64View(ctx.Scratch, n)
		readReal(window, in[2], 0, 1)
	}
	done := kernelutil.DoneOf(ctx)
	for b := 0; b < s.batch; b++ {
		for f := 0; f < s.frames; f++ {
			if kernelutil.Cancelled(done) {
				return nil // the output is unfinished; the runtime reports the context's error
			}
			first := (b*s.length + f*s.step) * s.complexIn
			if p.real != nil {
				readReal(p.samples, x, first, 1)
				if window != nil {
					for t, w := range window {
						p.samples[t] *= w
					}
				}
				p.forwardReal(s.bins > n/2+1)
			} else {
				readComplex(p.signal, x, first, s.complexIn, s.complexIn)
				if window != nil {
					for t, w := range window {
						p.signal[t] *= complex(w, 0)
					}
				}
				p.transform(false)
			}
			writeComplex(y, (b*s.frames+f)*s.bins*2, 2, p.signal[:s.bins], 1)
		}
	}
	return nil
}

// constInt reads optional input i, a one-element integer tensor, whose value must be known to plan: ok is
// false when the input is absent, and the error wraps ops.ErrDynamicShape when it is not a constant.
func constInt(in []ops.ValueInfo, i int, name string) (v int64, ok bool, err error) {
	vi := ops.Input(in, i)
	if !vi.Present() {
		return 0, false, nil
	}
	if (vi.DType != ops.Int64 && vi.DType != ops.Int32) || vi.Shape.Size() != 1 || len(vi.Shape) > 1 {
		return 0, false, ops.Invalidf("%s is %s%v, want one integer", name, vi.DType, vi.Shape)
	}
	if vi.Const == nil {
		return 0, false, ops.Dynamicf("the output's shape depends on the value of %s", name)
	}
	return vi.Const.AsInt64s()[0], true, nil
}

// readReal reads len(dst) values of the float tensor x, from element first on, stride elements apart.
func readReal(dst []float64, x *ops.Tensor, first, stride int) {
	switch d := x.Data().(type) {
	case []float32:
		for t := range dst {
			dst[t] = float64(d[first+t*stride])
		}
	case []float64:
		for t := range dst {
			dst[t] = d[first+t*stride]
		}
	default:
		for t := range dst {
			dst[t] = kernelutil.ValueAt(x, first+t*stride)
		}
	}
}

// readComplex reads len(dst) values of the float tensor x, from element first on, stride elements apart:
// (real, imaginary) pairs when complexIn is 2, real values when it is 1.
func readComplex(dst []complex128, x *ops.Tensor, first, stride, complexIn int) {
	switch d := x.Data().(type) {
	case []float32:
		readComplexOf(dst, d, first, stride, complexIn)
	case []float64:
		readComplexOf(dst, d, first, stride, complexIn)
	default:
		for t := range dst {
			at := first + t*stride
			im := 0.0
			if complexIn == 2 {
				im = kernelutil.ValueAt(x, at+1)
			}
			dst[t] = complex(kernelutil.ValueAt(x, at), im)
		}
	}
}

func readComplexOf[T float32 | float64](dst []complex128, d []T, first, stride, complexIn int) {
	for t := range dst {
		at := first + t*stride
		if complexIn == 2 {
			dst[t] = complex(float64(d[at]), float64(d[at+1]))
		} else {
			dst[t] = complex(float64(d[at]), 0)
		}
	}
}

// writeComplex writes src·scale to the float tensor y as (real, imaginary) pairs, the first at element
// first, stride elements apart.
func writeComplex(y *ops.Tensor, first, stride int, src []complex128, scale float64) {
	switch d := y.Data().(type) {
	case []float32:
		writeComplexOf(d, first, stride, src, scale)
	case []float64:
		writeComplexOf(d, first, stride, src, scale)
	default:
		for f, v := range src {
			kernelutil.SetValue(y, first+f*stride, real(v)*scale)
			kernelutil.SetValue(y, first+f*stride+1, imag(v)*scale)
		}
	}
}

func writeComplexOf[T float32 | float64](d []T, first, stride int, src []complex128, scale float64) {
	for f, v := range src {
		d[first+f*stride] = T(real(v) * scale)
		d[first+f*stride+1] = T(imag(v) * scale)
	}
}

// writeReal writes src·scale to the float tensor y, from element first on, stride elements apart.
func writeReal(y *ops.Tensor, first, stride int, src []float64, scale float64) {
	for f, v := range src {
		kernelutil.SetValue(y, first+f*stride, v*scale)
	}
}

// writeRealParts writes the real parts of src·scale to the float tensor y like writeReal.
func writeRealParts(y *ops.Tensor, first, stride int, src []complex128, scale float64) {
	for f, v := range src {
		kernelutil.SetValue(y, first+f*stride, real(v)*scale)
	}
}
