package nn

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
// rebuilds the full spectrum from them by conjugate symmetry and returns the real signal. It is the
// direct O(N²) sum per signal, in float64, with the twiddle factors computed exactly for each k·n mod N.

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
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
	if err := requireInputs(in, 1, maxIn); err != nil {
		return dftShape{}, err
	}
	x := in[0]
	if err := checkFloat("input", x.DType); err != nil {
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
	return &dftKernel{op: op, s: s}, nil
}

type dftKernel struct {
	op *dftOp
	s  dftShape
}

// ScratchSize: one signal's full spectrum (or samples), complex, in float64.
func (k *dftKernel) ScratchSize() int { return ops.Float64ScratchLen(4 * k.s.n) }

// FLOPs counts the complex multiply-adds.
func (k *dftKernel) FLOPs() int64 {
	return int64(k.s.outer) * int64(k.s.inner) * int64(k.s.n) * int64(k.s.outDim)
}

func (k *dftKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	s, op := &k.s, k.op
	buf := ops.Float64View(ctx.Scratch, 4*s.n)
	re, im, outRe, outIm := buf[:s.n], buf[s.n:2*s.n], buf[2*s.n:3*s.n], buf[3*s.n:]
	x, y := in[0], out[0]
	outLast := 2
	if op.onesided && op.inverse {
		outLast = 1
	}
	done := doneOf(ctx)
	for o := 0; o < s.outer; o++ {
		if cancelled(done) {
			return nil // the output is unfinished; the runtime reports the context's error
		}
		for i := 0; i < s.inner; i++ {
			// The signal, cut or zero-padded to n; a one-sided inverse input is completed by symmetry.
			clear(re)
			clear(im)
			for t := 0; t < min(s.dim, s.n); t++ {
				at := ((o*s.dim+t)*s.inner + i) * s.complexIn
				re[t] = valueAt(x, at)
				if s.complexIn == 2 {
					im[t] = valueAt(x, at+1)
				}
			}
			if op.onesided && op.inverse {
				for t := s.n/2 + 1; t < s.n; t++ {
					re[t], im[t] = re[s.n-t], -im[s.n-t]
				}
			}
			dftSignal(re, im, s.outDim, op.inverse, outRe, outIm)
			for f := 0; f < s.outDim; f++ {
				at := ((o*s.outDim+f)*s.inner + i) * outLast
				setValue(y, at, outRe[f])
				if outLast == 2 {
					setValue(y, at+1, outIm[f])
				}
			}
		}
	}
	return nil
}

// dftSignal writes the first len(outRe) frequencies (samples, inverse) of the transform of the signal
// (re, im), whose length is the transform's N, to (outRe, outIm).
func dftSignal(re, im []float64, outDim int, inverse bool, outRe, outIm []float64) {
	n := len(re)
	sign := -1.0
	if inverse {
		sign = 1
	}
	for f := 0; f < outDim; f++ {
		var sr, si float64
		for t := 0; t < n; t++ {
			// e^(±2πi·ft/N), with f·t reduced mod N so the angle stays small and exact.
			angle := sign * 2 * math.Pi * float64((f*t)%n) / float64(n)
			c, sn := math.Cos(angle), math.Sin(angle)
			sr += re[t]*c - im[t]*sn
			si += re[t]*sn + im[t]*c
		}
		if inverse {
			sr /= float64(n)
			si /= float64(n)
		}
		outRe[f], outIm[f] = sr, si
	}
}

// STFT: the short-time Fourier transform, https://onnx.ai/onnx/operators/onnx__STFT.html, opset 17. Frame
// f of a [batch, length, 1 or 2] signal is its frame_length samples from f·frame_step, times the window,
// transformed by dftSignal; there are 1 + (length - frame_length)/frame_step frames, and onesided (the
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
	if err := requireInputs(in, 2, 4); err != nil {
		return stftShape{}, err
	}
	x := in[0]
	if err := checkFloat("signal", x.DType); err != nil {
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
	if w := input(in, 2); w.Present() {
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
	return &stftKernel{s: s}, nil
}

type stftKernel struct{ s stftShape }

func (k *stftKernel) ScratchSize() int { return ops.Float64ScratchLen(4 * k.s.frameLen) }

func (k *stftKernel) FLOPs() int64 {
	return int64(k.s.batch) * int64(k.s.frames) * int64(k.s.bins) * int64(k.s.frameLen)
}

func (k *stftKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	s := &k.s
	n := s.frameLen
	buf := ops.Float64View(ctx.Scratch, 4*n)
	re, im, outRe, outIm := buf[:n], buf[n:2*n], buf[2*n:3*n], buf[3*n:]
	x, y := in[0], out[0]
	window := tensorAt(in, 2)
	done := doneOf(ctx)
	for b := 0; b < s.batch; b++ {
		for f := 0; f < s.frames; f++ {
			if cancelled(done) {
				return nil // the output is unfinished; the runtime reports the context's error
			}
			for t := 0; t < n; t++ {
				at := (b*s.length + f*s.step + t) * s.complexIn
				w := 1.0
				if s.window && window != nil {
					w = valueAt(window, t)
				}
				re[t] = w * valueAt(x, at)
				im[t] = 0
				if s.complexIn == 2 {
					im[t] = w * valueAt(x, at+1)
				}
			}
			dftSignal(re, im, s.bins, false, outRe, outIm)
			for q := 0; q < s.bins; q++ {
				at := ((b*s.frames+f)*s.bins + q) * 2
				setValue(y, at, outRe[q])
				setValue(y, at+1, outIm[q])
			}
		}
	}
	return nil
}

// constInt reads optional input i, a one-element integer tensor, whose value must be known to plan: ok is
// false when the input is absent, and the error wraps ops.ErrDynamicShape when it is not a constant.
func constInt(in []ops.ValueInfo, i int, name string) (v int64, ok bool, err error) {
	vi := input(in, i)
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
