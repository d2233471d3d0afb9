package ops

// Kernels compute float16 and bfloat16 with their float32 code: widen the operands into float32 scratch,
// run the float32 routine, round the results once. Widener is that adapter, so each kernel only says which
// tensors go in and out; HalfScratch sizes the scratch for it.

// maxWidenedOutputs bounds the outputs one Widener narrows (CausalConv has the most: Y and present state).
const maxWidenedOutputs = 4

// HalfScratch is the float32 scratch a kernel over dtype dt needs for a Widener holding operands of the
// given element counts: their sum for Float16 and BFloat16, 0 for every other dtype (computed in place).
func HalfScratch(dt DType, lens ...int) int {
	if dt != Float16 && dt != BFloat16 {
		return 0
	}
	n := 0
	for _, l := range lens {
		n += l
	}
	return n
}

// Widener cuts float32 copies of a 16-bit float kernel's operands from scratch memory (ctx.Scratch, sized
// with HalfScratch): In widens an input, Out reserves a result, Narrow rounds every result into its
// tensor. It lives on the caller's stack, so a Run through it does not allocate:
//
//	w := ops.NewWidener(ctx.Scratch)
//	lrn(k, w.In(in[0]), w.Out(out[0]))
//	w.Narrow()
type Widener struct {
	free []float32
	outs [maxWidenedOutputs]widenedOutput
	n    int
}

type widenedOutput struct {
	t *Tensor
	f []float32
}

// NewWidener starts cutting buffers from the front of scratch.
func NewWidener(scratch []float32) Widener { return Widener{free: scratch} }

// take cuts the next n elements of scratch, capped so that a routine cannot write past them.
func (w *Widener) take(n int) []float32 {
	b := w.free[:n:n]
	w.free = w.free[n:]
	return b
}

// Scratch returns the next n elements of scratch for the float32 routine's own use (an im2col buffer).
func (w *Widener) Scratch(n int) []float32 { return w.take(n) }

// In returns t's values widened to float32 in the next scratch buffer, or nil for an absent (nil) input,
// which then takes no scratch.
func (w *Widener) In(t *Tensor) []float32 {
	if t == nil {
		return nil
	}
	b := w.take(t.Len())
	WidenToFloat32(b, t.Data())
	return b
}

// Out returns a scratch buffer for t's values, which Narrow rounds into t; nil for an absent output.
func (w *Widener) Out(t *Tensor) []float32 {
	if t == nil {
		return nil
	}
	if w.n == maxWidenedOutputs {
		panic(errTooManyWidened)
	}
	b := w.take(t.Len())
	w.outs[w.n] = widenedOutput{t, b}
	w.n++
	return b
}

// Narrow rounds every Out buffer into its tensor (ties to even), once, after the float32 routine ran.
func (w *Widener) Narrow() {
	for _, o := range w.outs[:w.n] {
		NarrowFromFloat32(o.t.Data(), o.f)
	}
	w.n = 0
}
