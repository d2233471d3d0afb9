package nn

import (
	"fmt"
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

// dft.go reads its inputs under these short names; the aliases go when the FFT rewrite of dft.go lands
// (issue 13: one home for the input helpers, in ops).
var (
	input         = ops.Input
	tensorAt      = ops.TensorAt
	requireInputs = ops.CheckInputCount
)

// channelPlanes is an N x C x D1 ... input seen as batch*channels planes of inner cells, with its dtype:
// the geometry of the kernels that work channel by channel (GroupNorm, LRN, InstanceNorm).
type channelPlanes struct {
	batch, channels, inner int
	dtype                  ops.DType
}

// checkChannelPlanes checks that x is a float tensor of rank >= 2 (N x C x D1 ...) and returns its planes.
func checkChannelPlanes(name string, x ops.ValueInfo) (channelPlanes, error) {
	if err := checkFloat(name, x.DType); err != nil {
		return channelPlanes{}, err
	}
	if len(x.Shape) < 2 {
		return channelPlanes{}, ops.Invalidf("%s has shape %v, want rank >= 2 (N x C x D1 ...)", name, x.Shape)
	}
	return channelPlanes{batch: x.Shape[0], channels: x.Shape[1], inner: dimsProduct(x.Shape, 2, len(x.Shape)), dtype: x.DType}, nil
}

// ScratchSize is room for float32 copies of X and Y when they are 16-bit floats.
func (p channelPlanes) ScratchSize() int {
	n := p.batch * p.channels * p.inner
	return ops.HalfScratch(p.dtype, n, n)
}

// isFloat reports whether dt is one of the floating-point types every kernel of this package takes.
func isFloat(dt ops.DType) bool {
	return dt == ops.Float32 || dt == ops.Float64 || dt == ops.Float16 || dt == ops.BFloat16
}

// isHalf reports whether dt is a 16-bit float, which kernels compute in float32 through scratch memory.
func isHalf(dt ops.DType) bool { return dt == ops.Float16 || dt == ops.BFloat16 }

// checkEpsilon checks a normalisation's epsilon attribute.
func checkEpsilon(epsilon float64) error {
	if epsilon < 0 || math.IsNaN(epsilon) {
		return &ops.AttrError{Name: "epsilon", Msg: fmt.Sprintf("is %g, want >= 0", epsilon)}
	}
	return nil
}

// checkStashType accepts stash_type 1, the float32 statistics every normalisation here computes.
func checkStashType(stash int64) error {
	if stash != int64(ops.Float32) {
		return ops.Unsupportedf("stash_type %d: only 1 (float32 statistics) is implemented", stash)
	}
	return nil
}

// normAxisAttrs are the attributes LayerNormalization and RMSNormalization share: the first normalised
// axis and epsilon (stash_type is checked and dropped).
type normAxisAttrs struct {
	axis    int
	epsilon float64
}

func readNormAxisAttrs(n ops.NodeInfo) (normAxisAttrs, error) {
	r := ops.NewAttrReader(n.Attrs)
	a := normAxisAttrs{axis: int(r.Int("axis", -1)), epsilon: float64(r.Float("epsilon", 1e-5))}
	stash := r.Int("stash_type", 1)
	if err := r.Err(); err != nil {
		return a, err
	}
	if err := checkStashType(stash); err != nil {
		return a, err
	}
	return a, checkEpsilon(a.epsilon)
}

// checkFloat returns an error naming the input when dt is not a float type.
func checkFloat(name string, dt ops.DType) error {
	if !isFloat(dt) {
		return ops.Invalidf("input %s has dtype %s, want float32, float64, float16 or bfloat16", name, dt)
	}
	return nil
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
