package nn

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// poolOf returns the session's worker pool for GEMM, or nil (run on the calling goroutine).
func poolOf(ctx *ops.ExecContext) *parallel.Pool {
	return ctx.Pool
}

// doneOf is the run's cancellation channel for gemm.Params.Done, nil without a context. A GEMM that sees
// it closed returns early; the runtime then discards the outputs and reports the context's error.
func doneOf(ctx *ops.ExecContext) <-chan struct{} {
	if ctx.Context == nil {
		return nil
	}
	return ctx.Context.Done()
}

// cancelled reports whether done (a run's doneOf) is closed; a nil done never is. It does not block.
func cancelled(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// since is one entry of an operator's version history: the builder that implements it from opset version v
// up to the version before the next entry (or ops.MaxOpset for the last one).
type since struct {
	v     int
	build ops.Builder
}

// register records opType's history in the default domain, one closed range per ONNX version listed in
// Operators.md, so the registry shows exactly the versions the spec has. Entries must be in increasing order.
func register(opType string, history ...since) {
	for i, h := range history {
		if h.v > ops.MaxOpset {
			continue
		}
		hi := ops.MaxOpset
		if i+1 < len(history) {
			hi = min(history[i+1].v-1, ops.MaxOpset)
		}
		ops.Register("", opType, ops.Opsets(h.v, hi), h.build)
	}
}

// input returns in[i], or an absent ValueInfo when the node has fewer inputs.
func input(in []ops.ValueInfo, i int) ops.ValueInfo {
	if i < len(in) {
		return in[i]
	}
	return ops.ValueInfo{}
}

// tensorAt returns in[i] at run time, or nil for an absent optional input.
func tensorAt(in []*ops.Tensor, i int) *ops.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// requireInputs checks that inputs [0, required) are present and there are at most maxIn.
func requireInputs(in []ops.ValueInfo, required, maxIn int) error {
	if len(in) > maxIn {
		return ops.Invalidf("%d inputs, at most %d allowed", len(in), maxIn)
	}
	for i := 0; i < required; i++ {
		if !input(in, i).Present() {
			return ops.Invalidf("input %d is required but missing", i)
		}
	}
	return nil
}

// isFloat reports whether dt is one of the floating-point types every kernel of this package takes.
func isFloat(dt ops.DType) bool {
	return dt == ops.Float32 || dt == ops.Float64 || dt == ops.Float16 || dt == ops.BFloat16
}

// isHalf reports whether dt is a 16-bit float, which kernels compute in float32 through scratch memory.
func isHalf(dt ops.DType) bool { return dt == ops.Float16 || dt == ops.BFloat16 }

// checkFloat returns an error naming the input when dt is not a float type.
func checkFloat(name string, dt ops.DType) error {
	if !isFloat(dt) {
		return ops.Invalidf("input %s has dtype %s, want float32, float64, float16 or bfloat16", name, dt)
	}
	return nil
}

// widen copies a float16 or bfloat16 tensor's values into dst as float32 (len(dst) == t.Len()).
func widen(dst []float32, t *ops.Tensor) {
	switch d := t.Data().(type) {
	case []ops.Float16Bits:
		for i, v := range d {
			dst[i] = v.Float32()
		}
	case []ops.BFloat16Bits:
		for i, v := range d {
			dst[i] = v.Float32()
		}
	case []float32:
		copy(dst, d)
	}
}

// narrow rounds src into a float16 or bfloat16 tensor (len(src) == t.Len()).
func narrow(t *ops.Tensor, src []float32) {
	switch d := t.Data().(type) {
	case []ops.Float16Bits:
		for i, v := range src {
			d[i] = ops.Float16FromFloat32(v)
		}
	case []ops.BFloat16Bits:
		for i, v := range src {
			d[i] = ops.BFloat16FromFloat32(v)
		}
	case []float32:
		copy(d, src)
	}
}

// valueAt reads element i of a float tensor as float64. Kernels use it for per-channel parameters (scale,
// mean, a ratio), where one type switch per channel costs nothing; element loops are typed instead.
func valueAt(t *ops.Tensor, i int) float64 {
	switch d := t.Data().(type) {
	case []float32:
		return float64(d[i])
	case []float64:
		return d[i]
	case []ops.Float16Bits:
		return float64(d[i].Float32())
	case []ops.BFloat16Bits:
		return float64(d[i].Float32())
	}
	return math.NaN()
}

// setValue writes v into element i of a float tensor, rounding to its dtype.
func setValue(t *ops.Tensor, i int, v float64) {
	switch d := t.Data().(type) {
	case []float32:
		d[i] = float32(v)
	case []float64:
		d[i] = v
	case []ops.Float16Bits:
		d[i] = ops.Float16FromFloat32(float32(v))
	case []ops.BFloat16Bits:
		d[i] = ops.BFloat16FromFloat32(float32(v))
	}
}

// scratchSlices cuts ctx.Scratch into consecutive float32 slices of the given lengths, writing them to dst
// (a caller's stack array) so Run does not allocate.
func scratchSlices(scratch []float32, dst [][]float32, lens ...int) {
	off := 0
	for i, n := range lens {
		dst[i] = scratch[off : off+n : off+n]
		off += n
	}
}

// intsToInt converts an attribute's []int64 to []int.
func intsToInt(v []int64) []int {
	if v == nil {
		return nil
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// dimsProduct is the product of shape[from:to].
func dimsProduct(shape ops.Shape, from, to int) int {
	n := 1
	for _, d := range shape[from:to] {
		n *= d
	}
	return n
}

// axisOffsets lists, row-major over the given axes of a tensor of shape dims, the offsets sum(idx[a] *
// strides[a]) of every multi-index over those axes (the other axes held at 0). With axes split into two
// groups A and B, the offset of any element is offsets(A)[i] + offsets(B)[j]: the tables let a kernel walk
// arbitrary reduction axes as two flat loops.
func axisOffsets(dims, strides, axes []int) []int {
	sub := make([]int, len(axes))
	for i, a := range axes {
		sub[i] = dims[a]
	}
	n := ops.Shape(sub).Size()
	out := make([]int, n)
	idx := make([]int, len(axes))
	for j := 0; j < n; j++ {
		off := 0
		for i, a := range axes {
			off += idx[i] * strides[a]
		}
		out[j] = off
		nextIndex(idx, sub)
	}
	return out
}

// broadcastStrides returns the element strides with which a tensor of shape small, broadcast
// unidirectionally (numpy rules, right-aligned) to shape big, is read: 0 along the axes it repeats over. ok
// is false when small does not broadcast to big.
func broadcastStrides(small, big ops.Shape) (strides []int, ok bool) {
	if len(small) > len(big) {
		return nil, false
	}
	strides = make([]int, len(big))
	own := small.Strides()
	off := len(big) - len(small)
	for i, d := range small {
		switch {
		case d == big[off+i]:
			strides[off+i] = own[i]
		case d == 1:
			strides[off+i] = 0
		default:
			return nil, false
		}
	}
	return strides, true
}

// span returns the integers [from, to).
func span(from, to int) []int {
	out := make([]int, 0, max(0, to-from))
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// meanVariance is the mean and population variance of xs, in two passes for accuracy.
func meanVariance[T ops.Float](xs []T) (mean, variance float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, v := range xs {
		mean += float64(v)
	}
	mean /= float64(len(xs))
	for _, v := range xs {
		d := float64(v) - mean
		variance += d * d
	}
	return mean, variance / float64(len(xs))
}
