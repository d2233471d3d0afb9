package norm

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

// channelPlanes is an N x C x D1 ... input seen as batch*channels planes of inner cells, with its dtype:
// the geometry of the kernels that work channel by channel (GroupNorm, LRN, InstanceNorm).
type channelPlanes struct {
	batch, channels, inner int
	dtype                  ops.DType
}

// checkChannelPlanes checks that x is a float tensor of rank >= 2 (N x C x D1 ...) and returns its planes.
func checkChannelPlanes(name string, x ops.ValueInfo) (channelPlanes, error) {
	if err := kernelutil.CheckFloat(name, x.DType); err != nil {
		return channelPlanes{}, err
	}
	if len(x.Shape) < 2 {
		return channelPlanes{}, ops.Invalidf("%s has shape %v, want rank >= 2 (N x C x D1 ...)", name, x.Shape)
	}
	return channelPlanes{batch: x.Shape[0], channels: x.Shape[1], inner: kernelutil.DimsProduct(x.Shape, 2, len(x.Shape)), dtype: x.DType}, nil
}

// ScratchSize is room for float32 copies of X and Y when they are 16-bit floats.
func (p channelPlanes) ScratchSize() int {
	n := p.batch * p.channels * p.inner
	return ops.HalfScratch(p.dtype, n, n)
}

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
		kernelutil.NextIndex(idx, sub)
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
