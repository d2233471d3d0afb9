package array

import (
	"cmp"
	"sort"

	"github.com/onnxrun/onnxrun/ops"
)

// Unique finds the distinct elements of a tensor, or the distinct slices along an axis:
// https://onnx.ai/onnx/operators/onnx__Unique.html. Opset 11.
//
// Outputs: Y (the unique values or slices), indices (where each first occurs in X), inverse_indices (for
// each element or slice of X, its position in Y) and counts; the last three are optional. sorted=1 orders Y
// ascending (slices lexicographically, as numpy.unique does, NaN last); sorted=0 keeps first-occurrence
// order. Y's size depends on the values, so InferShapes needs X to be a constant; otherwise it returns a
// dynamic-shape error and the runtime plans at each Run with the actual X.
func init() {
	ops.Register("", "Unique",
		// opset 11: the only version.
		ops.Since(11, buildUnique),
	)
}

var uniqueTypes = ops.DTypes(ops.Uint8, ops.Uint16, ops.Uint32, ops.Uint64, ops.Int8, ops.Int16, ops.Int32,
	ops.Int64, ops.Float16, ops.Float32, ops.Float64, ops.String, ops.Bool, ops.Complex64, ops.Complex128)

type uniqueOp struct {
	opset   int
	hasAxis bool
	axis    int64
	sorted  bool
	nout    int
}

func buildUnique(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := &uniqueOp{opset: n.Opset, hasAxis: r.Has("axis"), axis: r.Int("axis", 0), nout: n.NumOutputs}
	s := r.Int("sorted", 1)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if s != 0 && s != 1 {
		return nil, &ops.AttrError{Name: "sorted", Msg: "must be 0 or 1, is " + itoa(s)}
	}
	if n.NumOutputs < 1 || n.NumOutputs > 4 {
		return nil, ops.Invalidf("Unique has 1 to 4 outputs, the node declares %d", n.NumOutputs)
	}
	o.sorted = s == 1
	return o, nil
}

// uniqueGeometry splits X's shape around the axis: outer × n × inner, n being the count of items (elements
// or slices) compared.
func (o *uniqueOp) geometry(shape ops.Shape) (axis, outer, n, inner int, err error) {
	if !o.hasAxis {
		return -1, 1, shape.Size(), 1, nil
	}
	axis, err = ops.NormalizeAxis(int(o.axis), len(shape))
	if err != nil {
		return 0, 0, 0, 0, ops.Invalidf("Unique of an input of shape %v: %v", shape, err)
	}
	return axis, shape[:axis].Size(), shape[axis], shape[axis+1:].Size(), nil
}

func (o *uniqueOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if err := uniqueTypes.Check("Unique", o.opset, "X", in[0].DType); err != nil {
		return nil, err
	}
	axis, _, _, _, err := o.geometry(in[0].Shape)
	if err != nil {
		return nil, err
	}
	if in[0].Const == nil {
		return nil, ops.Dynamicf("Unique output size depends on the values of X, which is not a constant")
	}
	res := o.compute(in[0].Const)
	u := len(res.first)
	var yShape ops.Shape
	if axis < 0 {
		yShape = ops.Shape{u}
	} else {
		yShape = in[0].Shape.Clone()
		yShape[axis] = u
	}
	outs := []ops.ValueInfo{
		{DType: in[0].DType, Shape: yShape},
		{DType: ops.Int64, Shape: ops.Shape{u}},
		{DType: ops.Int64, Shape: ops.Shape{len(res.inverse)}},
		{DType: ops.Int64, Shape: ops.Shape{u}},
	}
	return outs[:o.nout], nil
}

func (o *uniqueOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := o.InferShapes(in); err != nil {
		return nil, err
	}
	return o, nil
}

// Run recomputes the result from X: plans are specialised on X's value, so it matches what InferShapes
// sized the outputs for.
func (o *uniqueOp) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	res := o.compute(in[0])
	_, outer, n, inner, _ := o.geometry(in[0].Shape())
	gatherUnique(in[0].DType(), out[0].Data(), in[0].Data(), res.first, outer, n, inner)
	if len(out) > 1 && out[1] != nil {
		idx := out[1].Int64s()
		for i, f := range res.first {
			idx[i] = int64(f)
		}
	}
	if len(out) > 2 && out[2] != nil {
		copy(out[2].Int64s(), res.inverse)
	}
	if len(out) > 3 && out[3] != nil {
		copy(out[3].Int64s(), res.counts)
	}
	return nil
}

type uniqueResult struct {
	first   []int   // per unique item, in output order: the item's first position in X
	inverse []int64 // per item of X: its unique's position in the output
	counts  []int64 // per unique item: how many times it occurs
}

func (o *uniqueOp) compute(x *ops.Tensor) uniqueResult {
	_, outer, n, inner, _ := o.geometry(x.Shape())
	switch d := x.Data().(type) {
	case []float32:
		return uniqueOf(d, outer, n, inner, o.sorted, compareFloat[float32])
	case []float64:
		return uniqueOf(d, outer, n, inner, o.sorted, compareFloat[float64])
	case []ops.Float16Bits:
		return uniqueOf(d, outer, n, inner, o.sorted, func(a, b ops.Float16Bits) int { return compareFloat(a.Float32(), b.Float32()) })
	case []int8:
		return uniqueOf(d, outer, n, inner, o.sorted, cmp.Compare[int8])
	case []int16:
		return uniqueOf(d, outer, n, inner, o.sorted, cmp.Compare[int16])
	case []int32:
		return uniqueOf(d, outer, n, inner, o.sorted, cmp.Compare[int32])
	case []int64:
		return uniqueOf(d, outer, n, inner, o.sorted, cmp.Compare[int64])
	case []uint8:
		return uniqueOf(d, outer, n, inner, o.sorted, cmp.Compare[uint8])
	case []uint16:
		return uniqueOf(d, outer, n, inner, o.sorted, cmp.Compare[uint16])
	case []uint32:
		return uniqueOf(d, outer, n, inner, o.sorted, cmp.Compare[uint32])
	case []uint64:
		return uniqueOf(d, outer, n, inner, o.sorted, cmp.Compare[uint64])
	case []string:
		return uniqueOf(d, outer, n, inner, o.sorted, cmp.Compare[string])
	case []bool:
		return uniqueOf(d, outer, n, inner, o.sorted, compareBool)
	case []complex64:
		return uniqueOf(d, outer, n, inner, o.sorted, func(a, b complex64) int {
			return compareComplex(complex128(a), complex128(b))
		})
	case []complex128:
		return uniqueOf(d, outer, n, inner, o.sorted, compareComplex)
	}
	return uniqueResult{}
}

// compareFloat orders floats ascending with NaN last and all NaNs equal, as numpy.unique does.
func compareFloat[F ops.Float](a, b F) int {
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(a, b)
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// compareComplex orders by real part, then imaginary part (numpy's order for complex numbers).
func compareComplex(a, b complex128) int {
	if c := compareFloat(real(a), real(b)); c != 0 {
		return c
	}
	return compareFloat(imag(a), imag(b))
}

// uniqueOf finds the distinct items of x viewed as outer × n × inner, comparing item j (the elements
// x[o, j, i] in (o, i) order) lexicographically.
func uniqueOf[T any](x []T, outer, n, inner int, sorted bool, compare func(a, b T) int) uniqueResult {
	compareItems := func(a, b int) int {
		for o := 0; o < outer; o++ {
			base := o * n * inner
			for i := 0; i < inner; i++ {
				if c := compare(x[base+a*inner+i], x[base+b*inner+i]); c != 0 {
					return c
				}
			}
		}
		return 0
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	// A stable sort keeps equal items in position order, so each group starts with its first occurrence.
	sort.SliceStable(order, func(i, j int) bool { return compareItems(order[i], order[j]) < 0 })
	groupOf := make([]int, n) // item -> group index in sorted order
	var groupFirst []int
	var groupCount []int64
	for k, item := range order {
		if k == 0 || compareItems(order[k-1], item) != 0 {
			groupFirst = append(groupFirst, item)
			groupCount = append(groupCount, 0)
		}
		g := len(groupFirst) - 1
		groupOf[item] = g
		groupCount[g]++
	}
	// rank maps a sorted group to its output position.
	rank := make([]int, len(groupFirst))
	if sorted {
		for g := range rank {
			rank[g] = g
		}
	} else {
		byFirst := make([]int, len(groupFirst))
		for g := range byFirst {
			byFirst[g] = g
		}
		sort.Slice(byFirst, func(i, j int) bool { return groupFirst[byFirst[i]] < groupFirst[byFirst[j]] })
		for pos, g := range byFirst {
			rank[g] = pos
		}
	}
	res := uniqueResult{first: make([]int, len(groupFirst)), inverse: make([]int64, n), counts: make([]int64, len(groupFirst))}
	for g, f := range groupFirst {
		res.first[rank[g]] = f
		res.counts[rank[g]] = groupCount[g]
	}
	for item, g := range groupOf {
		res.inverse[item] = int64(rank[g])
	}
	return res
}

var gatherUniqueFuncs = rawSet[func(dst, src any, first []int, outer, n, inner int)]{
	gatherUniqueRaw[uint8], gatherUniqueRaw[uint16], gatherUniqueRaw[uint32], gatherUniqueRaw[uint64],
	gatherUniqueRaw[[2]uint32], gatherUniqueRaw[[2]uint64], gatherUniqueRaw[string],
}

// gatherUnique copies item first[u] of src (outer × n × inner) to position u of dst (outer × U × inner).
func gatherUnique(dt ops.DType, dst, src any, first []int, outer, n, inner int) {
	f, _ := gatherUniqueFuncs.of(dt)
	f(dst, src, first, outer, n, inner)
}

func gatherUniqueRaw[E rawElem](dstData, srcData any, first []int, outer, n, inner int) {
	dst, src := rawAs[E](dstData), rawAs[E](srcData)
	u := len(first)
	for o := 0; o < outer; o++ {
		for k, j := range first {
			copy(dst[(o*u+k)*inner:(o*u+k+1)*inner], src[(o*n+j)*inner:(o*n+j+1)*inner])
		}
	}
}
