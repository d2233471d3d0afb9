package reduce

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// TopK returns the k largest (or smallest) elements along an axis and their int64 indices:
// https://onnx.ai/onnx/operators/onnx__TopK.html. Opsets 1, 10, 11 and 24.
//
// Equal values come out in index order (the lower index first). NaN counts as larger than every number, as
// numpy's sort has it. Results are always sorted, which sorted=0 ("order undefined") permits. Each line
// along the axis keeps its best k in a heap of indices, O(n log k).
func init() {
	ops.Register("", "TopK",
		// opset 1: k is an attribute; float types only.
		ops.Since(1, buildTopK(floatTypes, false, false)),
		// opset 10: k moves to input K.
		ops.Since(10, buildTopK(floatTypes, true, false)),
		// opset 11: largest and sorted attributes, negative axis, integer types.
		ops.Since(11, buildTopK(allNumbers, true, true)),
		// opset 24: bfloat16.
		ops.Since(24, buildTopK(allNumbers.With(ops.BFloat16), true, true)),
	)
}

func buildTopK(types ops.DTypeSet, kInput, hasLargest bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &topKOp{opset: n.Opset, types: types, kInput: kInput, axis: int(r.Int("axis", -1)), largest: true}
		if hasLargest {
			o.largest = r.Int("largest", 1) != 0
			_ = r.Int("sorted", 1) // results are always sorted
		}
		if !kInput {
			if !r.Has("k") {
				return nil, &ops.AttrError{Name: "k", Msg: "is required before opset 10"}
			}
			o.kAttr = r.Int("k", 0)
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		wantIn := 1
		if kInput {
			wantIn = 2
		}
		if n.NumInputs != wantIn {
			return nil, ops.Invalidf("TopK at opset %d takes %d inputs, the node has %d", n.Opset, wantIn, n.NumInputs)
		}
		if n.NumOutputs != 2 {
			return nil, ops.Invalidf("TopK has 2 outputs (Values, Indices), the node declares %d", n.NumOutputs)
		}
		return o, nil
	}
}

type topKOp struct {
	opset   int
	types   ops.DTypeSet
	kInput  bool
	kAttr   int64
	axis    int
	largest bool
}

// ShapeInputs: from opset 10 the output shape depends on K's value.
func (o *topKOp) ShapeInputs() []int {
	if o.kInput {
		return []int{1}
	}
	return nil
}

// resolve returns the non-negative axis and k, checking them against the input.
func (o *topKOp) resolve(in []ops.ValueInfo) (axis, k int, err error) {
	if err := o.types.Check("TopK", o.opset, "X", in[0].DType); err != nil {
		return 0, 0, err
	}
	s := in[0].Shape
	axis, err = ops.NormalizeAxis(o.axis, len(s))
	if err != nil {
		return 0, 0, ops.Invalidf("TopK of an input of shape %v: %v", s, err)
	}
	kv := o.kAttr
	if o.kInput {
		kin := in[1]
		if kin.DType != ops.Int64 {
			return 0, 0, ops.Invalidf("TopK input K has dtype %s, want int64", kin.DType)
		}
		if kin.Shape.Size() != 1 || len(kin.Shape) > 1 {
			return 0, 0, ops.Invalidf("TopK input K has shape %v, want one element ([1])", kin.Shape)
		}
		if kin.Const == nil {
			return 0, 0, ops.Dynamicf("TopK K is a runtime input")
		}
		kv = kin.Const.AsInt64s()[0]
	}
	if kv < 0 || kv > int64(s[axis]) {
		return 0, 0, ops.Invalidf("TopK k=%d is outside [0, %d], the size of axis %d of shape %v", kv, s[axis], o.axis, s)
	}
	if s[axis] > math.MaxInt32 {
		return 0, 0, ops.Unsupportedf("TopK along an axis of %d elements (at most %d)", s[axis], math.MaxInt32)
	}
	return axis, int(kv), nil
}

func (o *topKOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	axis, k, err := o.resolve(in)
	if err != nil {
		return nil, err
	}
	out := in[0].Shape.Clone()
	out[axis] = k
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}, {DType: ops.Int64, Shape: out.Clone()}}, nil
}

func (o *topKOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	axis, k, err := o.resolve(in)
	if err != nil {
		return nil, err
	}
	kern := &topKKernel{k: k, largest: o.largest, scratch: k}
	kern.outer, kern.n, kern.inner = axisExtents(in[0].Shape, axis)
	if widensToFloat32(in[0].DType) {
		kern.scratch += in[0].Shape.Size() + kern.outer*k*kern.inner
	}
	return kern, nil
}

type topKKernel struct {
	k, outer, n, inner int
	largest            bool
	scratch            int // k int32 heap slots, then widened input and values for 16-bit floats
}

func (t *topKKernel) ScratchSize() int { return t.scratch }

func (t *topKKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	heap := int32View(ctx.Scratch, t.k)
	idx := out[1].Int64s()
	switch x := in[0].Data().(type) {
	case []float32:
		topKRun(t, x, out[0].Float32s(), idx, heap)
	case []float64:
		topKRun(t, x, out[0].Float64s(), idx, heap)
	case []int8:
		topKRun(t, x, ops.Data[int8](out[0]), idx, heap)
	case []int16:
		topKRun(t, x, ops.Data[int16](out[0]), idx, heap)
	case []int32:
		topKRun(t, x, ops.Data[int32](out[0]), idx, heap)
	case []int64:
		topKRun(t, x, ops.Data[int64](out[0]), idx, heap)
	case []uint8:
		topKRun(t, x, ops.Data[uint8](out[0]), idx, heap)
	case []uint16:
		topKRun(t, x, ops.Data[uint16](out[0]), idx, heap)
	case []uint32:
		topKRun(t, x, ops.Data[uint32](out[0]), idx, heap)
	case []uint64:
		topKRun(t, x, ops.Data[uint64](out[0]), idx, heap)
	default: // float16, bfloat16
		s := ctx.Scratch[t.k:]
		nx, ny := in[0].Len(), out[0].Len()
		xf, yf := s[:nx], s[nx:nx+ny]
		ops.WidenToFloat32(xf, in[0].Data())
		topKRun(t, xf, yf, idx, heap)
		ops.NarrowFromFloat32(out[0].Data(), yf)
	}
	return nil
}

// topKLine is one line along the axis: element i is x[base+i*stride].
type topKLine[T ops.Number] struct {
	x            []T
	base, stride int
	largest      bool
}

// better reports whether element i ranks before element j: a larger value (smaller when !largest), and
// the lower index among equals. NaN is above every number, so the order is total.
func (l *topKLine[T]) better(i, j int32) bool {
	a, b := l.x[l.base+int(i)*l.stride], l.x[l.base+int(j)*l.stride]
	if a != b && !(isNaN(a) && isNaN(b)) {
		if l.largest {
			return a > b || isNaN(a)
		}
		return a < b || isNaN(b)
	}
	return i < j
}

// siftDown restores the heap property below slot i of h, a heap whose root is the worst element kept.
func (l *topKLine[T]) siftDown(h []int32, i int) {
	for {
		worst := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(h) && l.better(h[worst], h[c]) {
				worst = c
			}
		}
		if worst == i {
			return
		}
		h[i], h[worst] = h[worst], h[i]
		i = worst
	}
}

func topKRun[T ops.Number](t *topKKernel, x, y []T, idx []int64, heap []int32) {
	if t.k == 0 {
		return
	}
	for o := 0; o < t.outer; o++ {
		for j := 0; j < t.inner; j++ {
			line := topKLine[T]{x: x, base: o*t.n*t.inner + j, stride: t.inner, largest: t.largest}
			// Keep the best k seen so far, the worst of them at the root.
			h := heap[:0]
			for i := 0; i < t.n; i++ {
				switch {
				case len(h) < t.k:
					h = append(h, int32(i))
					for c := len(h) - 1; c > 0; { // sift up
						parent := (c - 1) / 2
						if !line.better(h[parent], h[c]) {
							break
						}
						h[parent], h[c] = h[c], h[parent]
						c = parent
					}
				case line.better(int32(i), h[0]):
					h[0] = int32(i)
					line.siftDown(h, 0)
				}
			}
			// Heap sort: moving the worst to the end each time leaves h ordered best first.
			for end := len(h) - 1; end > 0; end-- {
				h[0], h[end] = h[end], h[0]
				line.siftDown(h[:end], 0)
			}
			outBase := o*t.k*t.inner + j
			for r, i := range h {
				y[outBase+r*t.inner] = x[line.base+int(i)*line.stride]
				idx[outBase+r*t.inner] = int64(i)
			}
		}
	}
}
