package array

import (
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// newOpCase is one node run through opstest with every output (or an error substring) expected.
type newOpCase struct {
	name string
	node opstest.Node
	want []*ops.Tensor
	err  string
}

func runNewOpCases(t *testing.T, cases []newOpCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := opstest.Run(c.node)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range c.want {
				if err := ops.AllClose(got[i], w, 0, 0); err != nil {
					t.Fatalf("output %d: %v", i, err)
				}
			}
		})
	}
}

func TestEyeLike(t *testing.T) {
	node := func(opset int, attrs ops.AttrMap, x *ops.Tensor) opstest.Node {
		return opstest.Node{OpType: "EyeLike", Opset: opset, Attrs: attrs, Inputs: []*ops.Tensor{x}}
	}
	runNewOpCases(t, []newOpCase{
		{name: "float32 main diagonal", node: node(9, nil, opstest.F32(ops.Shape{2, 3}, 9, 9, 9, 9, 9, 9)),
			want: []*ops.Tensor{opstest.F32(ops.Shape{2, 3}, 1, 0, 0, 0, 1, 0)}},
		// numpy: np.eye(3, 4, k=1, dtype=np.int32)
		{name: "k=1 to int32", node: node(22, ops.AttrMap{"k": ops.IntAttr(1), "dtype": ops.IntAttr(int64(ops.Int32))}, opstest.F32(ops.Shape{3, 4}, make([]float32, 12)...)),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{3, 4}, []int32{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1})}},
		{name: "k=-1 float64", node: node(9, ops.AttrMap{"k": ops.IntAttr(-1), "dtype": ops.IntAttr(int64(ops.Float64))}, opstest.I64(ops.Shape{2, 2}, 0, 0, 0, 0)),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{2, 2}, []float64{0, 0, 1, 0})}},
		{name: "k past the edge", node: node(9, ops.AttrMap{"k": ops.IntAttr(5)}, opstest.I64(ops.Shape{2, 2}, 3, 3, 3, 3)),
			want: []*ops.Tensor{opstest.I64(ops.Shape{2, 2}, 0, 0, 0, 0)}},
		{name: "bool and float16", node: node(9, ops.AttrMap{"dtype": ops.IntAttr(int64(ops.Float16))}, ops.FromSlice(ops.Shape{1, 2}, []bool{false, false})),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{1, 2}, []ops.Float16Bits{0x3c00, 0})}},
		{name: "bfloat16 output", node: node(22, ops.AttrMap{"dtype": ops.IntAttr(int64(ops.BFloat16))}, opstest.F32(ops.Shape{1, 1}, 0)),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{1, 1}, []ops.BFloat16Bits{0x3f80})}},
		{name: "bfloat16 before opset 22", node: node(9, ops.AttrMap{"dtype": ops.IntAttr(int64(ops.BFloat16))}, opstest.F32(ops.Shape{1, 1}, 0)),
			err: "dtype"},
		{name: "rank 3 rejected", node: node(9, nil, opstest.F32(ops.Shape{1, 1, 1}, 0)), err: "want rank 2"},
		{name: "string rejected", node: node(22, nil, ops.FromSlice(ops.Shape{1, 1}, []string{"a"})), err: "string"},
	})
}

func TestReverseSequence(t *testing.T) {
	x := make([]float32, 16)
	for i := range x {
		x[i] = float32(i)
	}
	node := func(batchAxis, timeAxis int64, x, lens *ops.Tensor) opstest.Node {
		return opstest.Node{OpType: "ReverseSequence", Opset: 10, Inputs: []*ops.Tensor{x, lens},
			Attrs: ops.AttrMap{"batch_axis": ops.IntAttr(batchAxis), "time_axis": ops.IntAttr(timeAxis)}}
	}
	runNewOpCases(t, []newOpCase{
		// The spec's example 2: batch_axis 0, time_axis 1.
		{name: "batch major", node: node(0, 1, opstest.F32(ops.Shape{4, 4}, x...), opstest.I64(ops.Shape{4}, 1, 2, 3, 4)),
			want: []*ops.Tensor{opstest.F32(ops.Shape{4, 4}, 0, 1, 2, 3, 5, 4, 6, 7, 10, 9, 8, 11, 15, 14, 13, 12)}},
		// Time major with an inner dimension: input [time=3, batch=2, 2].
		{name: "time major 3-D", node: node(1, 0, ops.FromSlice(ops.Shape{3, 2, 2}, []string{"a0", "a1", "b0", "b1", "c0", "c1", "d0", "d1", "e0", "e1", "f0", "f1"}),
			opstest.I64(ops.Shape{2}, 3, 2)),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{3, 2, 2}, []string{"e0", "e1", "d0", "d1", "c0", "c1", "b0", "b1", "a0", "a1", "f0", "f1"})}},
		{name: "length 0 copies", node: node(1, 0, opstest.I64(ops.Shape{2, 1}, 7, 8), opstest.I64(ops.Shape{1}, 0)),
			want: []*ops.Tensor{opstest.I64(ops.Shape{2, 1}, 7, 8)}},
		{name: "length too long", node: node(1, 0, opstest.I64(ops.Shape{2, 1}, 7, 8), opstest.I64(ops.Shape{1}, 3)), err: "sequence_lens[0] = 3 is out of range [0, 2]"},
		{name: "lens shape", node: node(1, 0, opstest.I64(ops.Shape{2, 1}, 7, 8), opstest.I64(ops.Shape{2}, 1, 1)), err: "want [1]"},
		{name: "same axes", node: node(0, 0, opstest.I64(ops.Shape{2, 1}, 7, 8), opstest.I64(ops.Shape{2}, 1, 1)), err: "time_axis"},
		{name: "rank 1", node: node(1, 0, opstest.I64(ops.Shape{2}, 7, 8), opstest.I64(ops.Shape{1}, 1)), err: "rank 2 or more"},
	})
}

func TestUnique(t *testing.T) {
	x := opstest.I64(ops.Shape{6}, 2, 1, 1, 3, 4, 3)
	node := func(attrs ops.AttrMap, x *ops.Tensor, nout int) opstest.Node {
		return opstest.Node{OpType: "Unique", Opset: 11, Attrs: attrs, Inputs: []*ops.Tensor{x}, NumOutputs: nout}
	}
	i64 := func(v ...int64) *ops.Tensor { return opstest.I64(ops.Shape{len(v)}, v...) }
	runNewOpCases(t, []newOpCase{
		// numpy: np.unique(x, return_index=True, return_inverse=True, return_counts=True)
		{name: "sorted", node: node(nil, x, 4),
			want: []*ops.Tensor{i64(1, 2, 3, 4), i64(1, 0, 3, 4), i64(1, 0, 0, 2, 3, 2), i64(2, 1, 2, 1)}},
		{name: "unsorted", node: node(ops.AttrMap{"sorted": ops.IntAttr(0)}, x, 4),
			want: []*ops.Tensor{i64(2, 1, 3, 4), i64(0, 1, 3, 4), i64(0, 1, 1, 2, 3, 2), i64(1, 2, 2, 1)}},
		{name: "Y only", node: node(nil, ops.FromSlice(ops.Shape{2, 2}, []string{"b", "a", "b", "c"}), 1),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{3}, []string{"a", "b", "c"})}},
		// numpy: np.unique(x, axis=0, ...) on [[1,0,0],[1,0,0],[2,3,4]]
		{name: "axis 0", node: node(ops.AttrMap{"axis": ops.IntAttr(0)}, opstest.F32(ops.Shape{3, 3}, 1, 0, 0, 1, 0, 0, 2, 3, 4), 4),
			want: []*ops.Tensor{opstest.F32(ops.Shape{2, 3}, 1, 0, 0, 2, 3, 4), i64(0, 2), i64(0, 0, 1), i64(2, 1)}},
		// Columns of [[2,1,2],[0,5,0]]: (2,0), (1,5), (2,0) -> sorted (1,5), (2,0).
		{name: "axis -1", node: node(ops.AttrMap{"axis": ops.IntAttr(-1)}, opstest.I64(ops.Shape{2, 3}, 2, 1, 2, 0, 5, 0), 4),
			want: []*ops.Tensor{opstest.I64(ops.Shape{2, 2}, 1, 2, 5, 0), i64(1, 0), i64(1, 0, 1), i64(1, 2)}},
		{name: "bool", node: node(nil, ops.FromSlice(ops.Shape{3}, []bool{true, false, true}), 1),
			want: []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []bool{false, true})}},
		{name: "axis out of range", node: node(ops.AttrMap{"axis": ops.IntAttr(2)}, x, 1), err: "axis 2 is out of range"},
		{name: "bad sorted", node: node(ops.AttrMap{"sorted": ops.IntAttr(2)}, x, 1), err: "sorted"},
	})
	n := node(nil, x, 1)
	n.NonConstInputs = []int{0}
	if _, err := opstest.Run(n); err == nil || !strings.Contains(err.Error(), ops.ErrDynamicShape.Error()) {
		t.Fatalf("non-constant X gave %v, want a dynamic-shape error", err)
	}
}
