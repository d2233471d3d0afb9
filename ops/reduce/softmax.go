package reduce

import (
	"math"
	"sync"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecmath"
)

// Softmax, LogSoftmax and Hardmax normalise along an axis: https://onnx.ai/onnx/operators/onnx__Softmax.html,
// https://onnx.ai/onnx/operators/onnx__LogSoftmax.html, https://onnx.ai/onnx/operators/onnx__Hardmax.html.
// Opsets 1, 11 and 13.
//
// Before opset 13 the input is coerced to 2-D at axis (default 1): dimensions before it form the rows and
// everything from it on forms one row to normalise. From opset 13 (default axis -1) only the axis itself is
// normalised. Both come down to lines of n elements with stride inner (inner = 1 for the old form).
// Softmax and LogSoftmax subtract the line's maximum before exp, so large inputs do not overflow, and sum
// in float64; float32 lines that are contiguous (the last axis, or the coerced 2-D form) go through
// vecmath's vectorised rows instead, split over the pool by rows from 16K elements. Hardmax puts 1 at the first maximum of each line and 0 elsewhere.
func init() {
	for _, k := range []softmaxKind{softmax, logSoftmax, hardmax} {
		name := softmaxNames[k]
		ops.Register("", name,
			// opset 1: float16, float32, float64; coerce to 2-D at axis (default 1).
			ops.Since(1, buildSoftmax(k, floatTypes, false)),
			// opset 11: negative axis allowed.
			ops.Since(11, buildSoftmax(k, floatTypes, false)),
			// opset 13: normalise along the axis alone (default -1); bfloat16.
			ops.Since(13, buildSoftmax(k, floatTypes.With(ops.BFloat16), true)),
		)
	}
}

type softmaxKind int

const (
	softmax softmaxKind = iota
	logSoftmax
	hardmax
)

var softmaxNames = [...]string{"Softmax", "LogSoftmax", "Hardmax"}

func buildSoftmax(kind softmaxKind, types ops.DTypeSet, singleAxis bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		def := int64(1)
		if singleAxis {
			def = -1
		}
		r := ops.NewAttrReader(n.Attrs)
		o := &softmaxOp{kind: kind, opset: n.Opset, types: types, singleAxis: singleAxis, axis: int(r.Int("axis", def))}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if n.NumInputs != 1 {
			return nil, ops.Invalidf("%s takes 1 input, the node has %d", softmaxNames[kind], n.NumInputs)
		}
		return o, nil
	}
}

type softmaxOp struct {
	kind       softmaxKind
	opset      int
	types      ops.DTypeSet
	singleAxis bool
	axis       int
}

func (o *softmaxOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if _, err := o.extents(in); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape.Clone()}}, nil
}

// extents checks the input and returns the kernel with its line layout.
func (o *softmaxOp) extents(in []ops.ValueInfo) (*softmaxKernel, error) {
	name := softmaxNames[o.kind]
	if err := o.types.Check(name, o.opset, "input", in[0].DType); err != nil {
		return nil, err
	}
	s := in[0].Shape
	axis, err := ops.NormalizeAxis(o.axis, len(s))
	if err != nil {
		return nil, ops.Invalidf("%s of an input of shape %v: %v", name, s, err)
	}
	k := &softmaxKernel{kind: o.kind}
	if o.singleAxis {
		k.outer, k.n, k.inner = axisExtents(s, axis)
	} else {
		k.outer, k.n, k.inner = s[:axis].Size(), s[axis:].Size(), 1
	}
	return k, nil
}

func (o *softmaxOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	k, err := o.extents(in)
	if err != nil {
		return nil, err
	}
	if widensToFloat32(in[0].DType) {
		k.scratch = 2 * in[0].Shape.Size()
	}
	return k, nil
}

type softmaxKernel struct {
	kind            softmaxKind
	outer, n, inner int
	scratch         int
}

func (k *softmaxKernel) ScratchSize() int { return k.scratch }

func (k *softmaxKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	switch x := in[0].Data().(type) {
	case []float32:
		if k.inner == 1 && k.kind != hardmax {
			softmaxRowsFloat32(ctx, k, x, out[0].Float32s())
			break
		}
		softmaxRun(k, x, out[0].Float32s())
	case []float64:
		softmaxRun(k, x, out[0].Float64s())
	default: // float16, bfloat16
		size := in[0].Len()
		xf, yf := ctx.Scratch[:size], ctx.Scratch[size:2*size]
		ops.WidenToFloat32(xf, in[0].Data())
		softmaxRun(k, xf, yf)
		ops.NarrowFromFloat32(out[0].Data(), yf)
	}
	return nil
}

func softmaxRun[T ops.Float](k *softmaxKernel, x, y []T) {
	n, inner := k.n, k.inner
	for o := 0; o < k.outer; o++ {
		for j := 0; j < inner; j++ {
			base := o*n*inner + j
			if k.kind == hardmax {
				for i := 0; i < n; i++ {
					y[base+i*inner] = 0
				}
				if n > 0 { // an empty axis has no extreme to mark
					y[base+extremeIndex(x, base, inner, n, true, false)*inner] = 1
				}
				continue
			}
			mx := math.Inf(-1)
			for i := 0; i < n; i++ {
				mx = max(mx, float64(x[base+i*inner]))
			}
			sum := 0.0
			for i := 0; i < n; i++ {
				e := math.Exp(float64(x[base+i*inner]) - mx)
				sum += e
				if k.kind == softmax {
					y[base+i*inner] = T(e)
				}
			}
			if k.kind == softmax {
				for i := 0; i < n; i++ {
					at := base + i*inner
					y[at] = T(float64(y[at]) / sum)
				}
				continue
			}
			logSum := mx + math.Log(sum)
			for i := 0; i < n; i++ {
				at := base + i*inner
				y[at] = T(float64(x[at]) - logSum)
			}
		}
	}
}

// softmaxParallelMin is the tensor size from which float32 rows are split over the pool's threads, and
// softmaxPartMin the least (in elements) each thread gets.
const (
	softmaxParallelMin = 16 << 10
	softmaxPartMin     = 4 << 10
)

// softmaxRowsFloat32 runs Softmax or LogSoftmax over the contiguous rows of x (k.inner == 1) through
// vecmath, in parallel over rows when the tensor is large enough.
func softmaxRowsFloat32(ctx *ops.ExecContext, k *softmaxKernel, x, y []float32) {
	rows := k.outer
	parts := min(ctx.Pool.Threads(), rows, rows*k.n/softmaxPartMin)
	t := softmaxRowsTask{kind: k.kind, n: k.n, rows: rows, x: x, y: y, rowsPerPart: rows}
	if rows*k.n < softmaxParallelMin || parts < 2 {
		t.Do(0, 1)
		return
	}
	t.rowsPerPart = (rows + parts - 1) / parts
	shared := softmaxTasks.Get().(*softmaxRowsTask)
	*shared = t
	ctx.Pool.ForTask(parts, shared)
	*shared = softmaxRowsTask{}
	softmaxTasks.Put(shared)
}

// softmaxRowsTask normalises the rows of parts [lo, hi), rowsPerPart rows of n elements each.
type softmaxRowsTask struct {
	kind        softmaxKind
	n, rows     int
	rowsPerPart int
	x, y        []float32
}

func (t *softmaxRowsTask) Do(lo, hi int) {
	for r := lo * t.rowsPerPart; r < min(hi*t.rowsPerPart, t.rows); r++ {
		row := t.x[r*t.n : (r+1)*t.n]
		if t.kind == softmax {
			vecmath.Softmax(t.y[r*t.n:], row)
		} else {
			vecmath.LogSoftmax(t.y[r*t.n:], row)
		}
	}
}

var softmaxTasks = sync.Pool{New: func() any { return new(softmaxRowsTask) }}
