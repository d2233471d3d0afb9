package array

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// prepared builds, infers and prepares a node the way opstest does, returning its kernel with inputs and
// preallocated outputs, so that Run can be called repeatedly.
func prepared(t *testing.T, n opstest.Node) (ops.Kernel, []*ops.Tensor, []*ops.Tensor) {
	t.Helper()
	build, _, ok := ops.Lookup("", n.OpType, n.Opset)
	if !ok {
		t.Fatalf("%s-%d not registered", n.OpType, n.Opset)
	}
	nout := max(1, n.NumOutputs)
	op, err := build(ops.NodeInfo{OpType: n.OpType, Opset: n.Opset, Attrs: n.Attrs, NumInputs: len(n.Inputs), NumOutputs: nout})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]ops.ValueInfo, len(n.Inputs))
	for i, x := range n.Inputs {
		if x != nil {
			in[i] = ops.ValueInfo{DType: x.DType(), Shape: x.Shape(), Const: x}
		}
	}
	outInfo, err := op.InferShapes(in)
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.Prepare(in, outInfo[:nout])
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]*ops.Tensor, nout)
	for i, v := range outInfo[:nout] {
		outs[i] = ops.New(v.DType, v.Shape)
	}
	return k, n.Inputs, outs
}

// Run allocates nothing: every plan, table and dispatch is made in Prepare.
func TestRunDoesNotAllocate(t *testing.T) {
	split := node("Split", 18, ops.AttrMap{"num_outputs": ops.IntAttr(2)}, arange(4, 6))
	split.NumOutputs = 2
	for _, n := range []opstest.Node{
		node("Reshape", 14, nil, arange(2, 6), vec(3, 4)),
		node("Transpose", 13, nil, arange(2, 3, 4)),
		node("Concat", 13, ops.AttrMap{"axis": ops.IntAttr(1)}, arange(2, 3), arange(2, 2)),
		split,
		node("Slice", 13, nil, arange(4, 5), vec(3, -4), vec(0, 100), vec(0, 1), vec(-2, 2)),
		node("Pad", 19, ops.AttrMap{"mode": ops.StringAttr("reflect")}, arange(3, 4), vec(1, 2, 1, 2)),
		node("Pad", 11, nil, arange(3, 4), vec(1, 2, 1, 2), f32(ops.Shape{}, 3)),
		node("Expand", 13, nil, arange(3, 1), vec(2, 3, 4)),
		node("Tile", 13, nil, arange(2, 3), vec(2, 2)),
		node("Gather", 13, ops.AttrMap{"axis": ops.IntAttr(1)}, arange(3, 4), vec(1, -1, 0)),
		node("GatherElements", 13, nil, arange(3, 3), i64(ops.Shape{1, 3}, 2, 1, 0)),
		node("GatherND", 13, nil, arange(2, 3, 4), i64(ops.Shape{2, 2}, 1, 2, 0, 1)),
		node("ScatterElements", 18, ops.AttrMap{"reduction": ops.StringAttr("add")}, arange(3, 3), i64(ops.Shape{1, 3}, 2, 1, 0), arange(1, 3)),
		node("ScatterND", 18, nil, arange(3, 2), i64(ops.Shape{1, 1}, 2), arange(1, 2)),
		node("Trilu", 14, nil, arange(3, 4), ops.Scalar(int64(1))),
		node("OneHot", 11, nil, vec(1, 2), ops.Scalar(int64(3)), f32(ops.Shape{2}, 0, 1)),
		node("NonZero", 13, nil, vec(0, 1, 2, 0)),
		node("Compress", 11, ops.AttrMap{"axis": ops.IntAttr(0)}, arange(3, 2), bools(ops.Shape{3}, true, false, true)),
		node("DepthToSpace", 13, ops.AttrMap{"blocksize": ops.IntAttr(2)}, arange(1, 8, 2, 3)),
		node("Range", 11, nil, ops.Scalar(float32(0)), ops.Scalar(float32(5)), ops.Scalar(float32(1))),
		node("ConstantOfShape", 9, nil, vec(3, 3)),
		node("Shape", 15, nil, arange(2, 3)),
	} {
		t.Run(n.OpType, func(t *testing.T) {
			k, in, out := prepared(t, n)
			ctx := ops.SerialContext()
			allocs := testing.AllocsPerRun(20, func() {
				if err := k.Run(ctx, in, out); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("Run allocates %v times", allocs)
			}
		})
	}
}
