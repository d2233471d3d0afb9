package array

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

var allDTypes = []ops.DType{ops.Float32, ops.Float64, ops.Float16, ops.BFloat16, ops.Int8, ops.Int16, ops.Int32, ops.Int64,
	ops.Uint8, ops.Uint16, ops.Uint32, ops.Uint64, ops.Bool, ops.String, ops.Complex64, ops.Complex128}

// filled returns a tensor of dtype dt whose element i holds values[i] (bools: odd values are true).
func filled(t *testing.T, dt ops.DType, shape ops.Shape, values ...int) *ops.Tensor {
	t.Helper()
	res := ops.New(dt, shape)
	for i, v := range values {
		var one any
		if dt == ops.String {
			one = []string{fmt.Sprint(v)}
		} else {
			x := float64(v)
			if dt == ops.Bool {
				x = float64(v % 2)
			}
			var err error
			if one, err = scalarSlice(dt, x); err != nil {
				t.Fatal(err)
			}
		}
		src, _ := ops.FromData(dt, ops.Shape{1}, one)
		dst, _ := ops.FromData(dt, ops.Shape{1}, ops.Slice(res.Data(), i, i+1))
		ops.CopyData(dst, src)
	}
	return res
}

// Every data-movement op handles every dtype the same way: the element-size views must not mix bytes.
func TestAllDTypes(t *testing.T) {
	for _, dt := range allDTypes {
		t.Run(dt.String(), func(t *testing.T) {
			x := filled(t, dt, ops.Shape{2, 3}, 1, 2, 3, 4, 5, 6)
			for _, c := range []struct {
				node opstest.Node
				want *ops.Tensor
			}{
				{node("Transpose", 13, nil, x), filled(t, dt, ops.Shape{3, 2}, 1, 4, 2, 5, 3, 6)},
				{node("Gather", 13, ops.AttrMap{"axis": ops.IntAttr(1)}, x, vec(2, 0)), filled(t, dt, ops.Shape{2, 2}, 3, 1, 6, 4)},
				{node("Pad", 13, ops.AttrMap{"mode": ops.StringAttr("edge")}, x, vec(0, 1, 0, 0)), filled(t, dt, ops.Shape{2, 4}, 1, 1, 2, 3, 4, 4, 5, 6)},
				{node("Pad", 13, nil, x, vec(0, 0, 0, 1), filled(t, dt, ops.Shape{}, 9)), filled(t, dt, ops.Shape{2, 4}, 1, 2, 3, 9, 4, 5, 6, 9)},
				{node("Concat", 13, ops.AttrMap{"axis": ops.IntAttr(0)}, x, x), filled(t, dt, ops.Shape{4, 3}, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6)},
				{node("Slice", 13, nil, x, vec(-1), vec(0), vec(1), vec(-2)), filled(t, dt, ops.Shape{2, 1}, 3, 6)},
				{node("ScatterND", 13, nil, x, i64(ops.Shape{1, 2}, 1, 1), filled(t, dt, ops.Shape{1}, 7)), filled(t, dt, ops.Shape{2, 3}, 1, 2, 3, 4, 7, 6)},
				{node("Trilu", 14, nil, x), zeroAt(filled(t, dt, ops.Shape{2, 3}, 1, 2, 3, 1, 5, 6), 3)},
				{node("Reshape", 14, nil, x, vec(3, 2)), filled(t, dt, ops.Shape{3, 2}, 1, 2, 3, 4, 5, 6)},
			} {
				got, err := opstest.Run(c.node)
				if err != nil {
					t.Fatalf("%s: %v", c.node.OpType, err)
				}
				// DeepEqual rather than opstest.Close, which cannot compare complex values.
				if !got[0].Shape().Equal(c.want.Shape()) || !reflect.DeepEqual(got[0].Data(), c.want.Data()) {
					t.Errorf("%s: got %v %v, want %v %v", c.node.OpType, got[0].Shape(), got[0].Data(), c.want.Shape(), c.want.Data())
				}
			}
		})
	}
}

// zeroAt sets element i of t to its dtype's zero (0, false, "") and returns t.
func zeroAt(t *ops.Tensor, i int) *ops.Tensor {
	zero := ops.New(t.DType(), ops.Shape{1})
	dst, _ := ops.FromData(t.DType(), ops.Shape{1}, ops.Slice(t.Data(), i, i+1))
	ops.CopyData(dst, zero)
	return t
}
