package norm

// MeanVarianceNormalization: https://onnx.ai/onnx/operators/onnx__MeanVarianceNormalization.html, opsets 9
// and 13 (a function in ONNX; implemented directly here).

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "MeanVarianceNormalization",
		ops.Since(9, buildMVN),
		// opset 13: bfloat16; negative axes allowed.
		ops.Since(13, buildMVN),
	)
}

// mvnEpsilon is the constant ONNX's function body adds to the standard deviation.
const mvnEpsilon = 1e-9

type mvnOp struct{ axes []int }

func buildMVN(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	axes := kernelutil.IntsToInt(r.Ints("axes", []int64{0, 2, 3}))
	if err := r.Err(); err != nil {
		return nil, err
	}
	return &mvnOp{axes: axes}, nil
}

// normalizedAxes resolves negative axes against rank and checks for repeats, returning a sorted set.
func (op *mvnOp) normalizedAxes(rank int) ([]int, error) {
	seen := make([]bool, rank)
	for _, a := range op.axes {
		na, err := ops.NormalizeAxis(a, rank)
		if err != nil {
			return nil, ops.Invalidf("attribute axes %v: %v", op.axes, err)
		}
		if seen[na] {
			return nil, ops.Invalidf("attribute axes %v names axis %d twice", op.axes, na)
		}
		seen[na] = true
	}
	var out []int
	for a, s := range seen {
		if s {
			out = append(out, a)
		}
	}
	return out, nil
}

func (op *mvnOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	if err := kernelutil.CheckFloat("X", x.DType); err != nil {
		return nil, err
	}
	if _, err := op.normalizedAxes(len(x.Shape)); err != nil {
		return nil, fmt.Errorf("%w (X has shape %v)", err, x.Shape)
	}
	return []ops.ValueInfo{{DType: x.DType, Shape: x.Shape}}, nil
}

func (op *mvnOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	x := in[0]
	reduced, _ := op.normalizedAxes(len(x.Shape))
	var kept []int
	for a := 0; a < len(x.Shape); a++ {
		isReduced := false
		for _, r := range reduced {
			isReduced = isReduced || r == a
		}
		if !isReduced {
			kept = append(kept, a)
		}
	}
	strides := x.Shape.Strides()
	return &mvnKernel{
		kept:    axisOffsets(x.Shape, strides, kept),
		reduced: axisOffsets(x.Shape, strides, reduced),
		size:    x.Shape.Size(),
		dtype:   x.DType,
	}, nil
}

// mvnKernel normalises X over the reduced axes. Element (group i, member j) is at kept[i] + reduced[j].
type mvnKernel struct {
	kept, reduced []int
	size          int
	dtype         ops.DType
}

// ScratchSize is room for float32 copies of X and Y when they are 16-bit floats.
func (k *mvnKernel) ScratchSize() int {
	return ops.HalfScratch(k.dtype, k.size, k.size)
}

func (k *mvnKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	switch x := in[0].Data().(type) {
	case []float32:
		mvn(k, x, out[0].Float32s())
	case []float64:
		mvn(k, x, out[0].Float64s())
	default: // float16, bfloat16: computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		mvn(k, w.In(in[0]), w.Out(out[0]))
		w.Narrow()
	}
	return nil
}

// mvn computes Y = (X - E[X]) / (sqrt(E[(X - E[X])²]) + 1e-9) with the expectations over the reduced axes, as
// ONNX's function body does (it writes the variance as E[X²] - E[X]², which is the same quantity).
func mvn[T ops.Float](k *mvnKernel, x, y []T) {
	count := float64(len(k.reduced))
	for _, base := range k.kept {
		mean := 0.0
		for _, off := range k.reduced {
			mean += float64(x[base+off])
		}
		mean /= count
		variance := 0.0
		for _, off := range k.reduced {
			d := float64(x[base+off]) - mean
			variance += d * d
		}
		std := math.Sqrt(variance/count) + mvnEpsilon
		for _, off := range k.reduced {
			y[base+off] = T((float64(x[base+off]) - mean) / std)
		}
	}
}
