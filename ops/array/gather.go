package array

import "github.com/onnxrun/onnxrun/ops"

// Gather, GatherElements and GatherND select data by index tensors. Indices are data, usually not known at
// plan time, so the kernels check them as they read them and return an error naming the bad index.
//
// Gather: https://onnx.ai/onnx/operators/onnx__Gather.html — opsets 1, 11, 13.
// GatherElements: https://onnx.ai/onnx/operators/onnx__GatherElements.html — opsets 11, 13.
// GatherND: https://onnx.ai/onnx/operators/onnx__GatherND.html — opsets 11, 12, 13.
func init() {
	ops.Register("", "Gather",
		ops.Since(1, buildGather),
		ops.Since(11, buildGather), // opset 11: negative indices and axis (accepted at every opset here)
		ops.Since(13, buildGather), // opset 13: bfloat16
	)
	ops.Register("", "GatherElements",
		ops.Since(11, buildGatherElements),
		ops.Since(13, buildGatherElements), // opset 13: bfloat16
	)
	ops.Register("", "GatherND",
		ops.Since(11, buildGatherND(false)),
		ops.Since(12, buildGatherND(true)), // opset 12: batch_dims attribute
		ops.Since(13, buildGatherND(true)), // opset 13: bfloat16
	)
}

// checkIndices validates an index input's dtype.
func checkIndices(v ops.ValueInfo, name string) error {
	if !isIndexType(v.DType) {
		return ops.Invalidf("%s has dtype %s, want int64 or int32", name, v.DType)
	}
	return nil
}

// gatherKernel runs gatherCore from input 0 with the indices of input 1.
type gatherKernel struct {
	loc locator
	run func(loc locator, dst, src any, idx indexList) error
}

func newGatherKernel(dt ops.DType, loc locator) (ops.Kernel, error) {
	run, ok := gatherFuncs.of(dt)
	if !ok {
		return nil, unsupportedDType(dt)
	}
	return &gatherKernel{loc: loc, run: run}, nil
}

func (k *gatherKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	return k.run(k.loc, out[0].Data(), in[0].Data(), indexListOf(in[1]))
}

type gatherOp struct{ axis int64 }

func buildGather(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := &gatherOp{axis: r.Int("axis", 0)}
	return o, r.Err()
}

func (o *gatherOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	if err := checkIndices(in[1], "indices"); err != nil {
		return nil, err
	}
	d := in[0].Shape
	axis, err := normalizeAxis(o.axis, len(d), "attribute \"axis\"")
	if err != nil {
		return nil, err
	}
	if c := in[1].Const; c != nil {
		// Constant indices (the usual case in shape arithmetic) are checked now, so a bad model fails to
		// compile instead of failing at its first run.
		for i, v := range c.AsInt64s() {
			if _, err := checkIndex(v, i, axis, d[axis]); err != nil {
				return nil, err
			}
		}
	}
	out := append(append(append(ops.Shape{}, d[:axis]...), in[1].Shape...), d[axis+1:]...)
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

// gatherLoc: output block b is data block (b/count, index b%count) along axis, of inner elements.
type gatherLoc struct{ outer, count, n, inner, axis int }

func (l *gatherLoc) blocks() int   { return l.outer * l.count }
func (l *gatherLoc) blockLen() int { return l.inner }
func (l *gatherLoc) locate(b int, idx indexList) (int, error) {
	i := b % l.count
	v, err := checkIndex(idx.at(i), i, l.axis, l.n)
	return ((b/l.count)*l.n + v) * l.inner, err
}

func (o *gatherOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	d := in[0].Shape
	axis, err := normalizeAxis(o.axis, len(d), "attribute \"axis\"")
	if err != nil {
		return nil, err
	}
	return newGatherKernel(in[0].DType, &gatherLoc{outer: d[:axis].Size(), count: in[1].Shape.Size(), n: d[axis],
		inner: d[axis+1:].Size(), axis: axis})
}

type gatherElementsOp struct{ axis int64 }

func buildGatherElements(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := &gatherElementsOp{axis: r.Int("axis", 0)}
	return o, r.Err()
}

// elementsShapes checks data and indices for GatherElements and the Scatter(Elements) family: the same rank,
// and indices no larger than data outside the axis.
func elementsShapes(data, indices ops.Shape, axis int64) (int, error) {
	a, err := normalizeAxis(axis, len(data), "attribute \"axis\"")
	if err != nil {
		return 0, err
	}
	if len(indices) != len(data) {
		return 0, ops.Invalidf("indices have shape %v, data %v: the ranks differ", indices, data)
	}
	for i := range data {
		if i != a && indices[i] > data[i] {
			return 0, ops.Invalidf("indices have shape %v, larger than data %v in dimension %d", indices, data, i)
		}
	}
	return a, nil
}

func (o *gatherElementsOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	if err := checkIndices(in[1], "indices"); err != nil {
		return nil, err
	}
	if _, err := elementsShapes(in[0].Shape, in[1].Shape, o.axis); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[1].Shape.Clone()}}, nil
}

// elementsLoc: element b of indices (and of the output or updates) maps to the data element with the same
// coordinates except along axis, where the index value is used.
type elementsLoc struct {
	shape    ops.Shape // of indices
	dStrides []int     // of data
	axis, n  int
	size     int
}

func newElementsLoc(data, indices ops.Shape, axis int) *elementsLoc {
	return &elementsLoc{shape: indices.Clone(), dStrides: data.Strides(), axis: axis, n: data[axis], size: indices.Size()}
}

func (l *elementsLoc) blocks() int   { return l.size }
func (l *elementsLoc) blockLen() int { return 1 }
func (l *elementsLoc) locate(b int, idx indexList) (int, error) {
	v, err := checkIndex(idx.at(b), b, l.axis, l.n)
	if err != nil {
		return 0, err
	}
	off := v * l.dStrides[l.axis]
	for d, rem := len(l.shape)-1, b; d >= 0; d-- {
		if d != l.axis {
			off += (rem % l.shape[d]) * l.dStrides[d]
		}
		rem /= l.shape[d]
	}
	return off, nil
}

func (o *gatherElementsOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	axis, err := elementsShapes(in[0].Shape, in[1].Shape, o.axis)
	if err != nil {
		return nil, err
	}
	return newGatherKernel(in[0].DType, newElementsLoc(in[0].Shape, in[1].Shape, axis))
}

type gatherNDOp struct{ batchDims int64 }

func buildGatherND(hasBatchDims bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		o := &gatherNDOp{}
		if hasBatchDims {
			r := ops.NewAttrReader(n.Attrs)
			o.batchDims = r.Int("batch_dims", 0)
			if err := r.Err(); err != nil {
				return nil, err
			}
			if o.batchDims < 0 {
				return nil, &ops.AttrError{Name: "batch_dims", Msg: "is " + itoa(o.batchDims) + ", must not be negative"}
			}
		}
		return o, nil
	}
}

// ndLoc is GatherND's and ScatterND's indexing: indices hold tuples of k coordinates into data dimensions
// [b, b+k) after b batch dimensions that data and indices share; each tuple selects a contiguous slice of
// sliceLen elements.
type ndLoc struct {
	batchDims     int
	batches, per  int // batch count, and tuples per batch
	k             int
	dims, strides []int // of data dimensions [b, b+k)
	batchStride   int   // data elements per batch
	sliceLen      int
}

// newNDLoc checks the shapes and returns the locator and the shape indices.shape[:-1] ++ data.shape[b+k:]
// (the output of GatherND, the updates of ScatterND).
func newNDLoc(data, indices ops.Shape, b int) (*ndLoc, ops.Shape, error) {
	r, q := len(data), len(indices)
	if r < 1 || q < 1 {
		return nil, nil, ops.Invalidf("data %v and indices %v must both have rank 1 or more", data, indices)
	}
	if b >= min(q, r) {
		return nil, nil, ops.Invalidf("batch_dims %d must be less than the ranks of data %v and indices %v", b, data, indices)
	}
	for i := 0; i < b; i++ {
		if data[i] != indices[i] {
			return nil, nil, ops.Invalidf("batch dimension %d differs: data %v, indices %v", i, data, indices)
		}
	}
	k := indices[q-1]
	if k > r-b {
		return nil, nil, ops.Invalidf("indices %v hold tuples of %d coordinates, more than the %d dimensions of data %v after %d batch dimensions", indices, k, r-b, data, b)
	}
	strides := data.Strides()
	l := &ndLoc{batchDims: b, batches: data[:b].Size(), per: indices[b : q-1].Size(), k: k,
		dims: append([]int(nil), data[b:b+k]...), strides: append([]int(nil), strides[b:b+k]...),
		batchStride: data[b:].Size(), sliceLen: data[b+k:].Size()}
	shape := append(append(ops.Shape{}, indices[:q-1]...), data[b+k:]...)
	return l, shape, nil
}

func (l *ndLoc) blocks() int   { return l.batches * l.per }
func (l *ndLoc) blockLen() int { return l.sliceLen }
func (l *ndLoc) locate(blk int, idx indexList) (int, error) {
	off := (blk / l.per) * l.batchStride
	for j := 0; j < l.k; j++ {
		pos := blk*l.k + j
		v, err := checkIndex(idx.at(pos), pos, l.batchDims+j, l.dims[j])
		if err != nil {
			return 0, err
		}
		off += v * l.strides[j]
	}
	return off, nil
}

func (o *gatherNDOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	if err := checkIndices(in[1], "indices"); err != nil {
		return nil, err
	}
	_, shape, err := newNDLoc(in[0].Shape, in[1].Shape, int(o.batchDims))
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: shape}}, nil
}

func (o *gatherNDOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	loc, _, err := newNDLoc(in[0].Shape, in[1].Shape, int(o.batchDims))
	if err != nil {
		return nil, err
	}
	return newGatherKernel(in[0].DType, loc)
}
