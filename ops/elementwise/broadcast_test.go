package elementwise_test

import (
	"fmt"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

var broadcastPairs = []struct{ a, b ops.Shape }{
	{ops.Shape{}, ops.Shape{}},
	{ops.Shape{5}, ops.Shape{5}},
	{ops.Shape{2, 3, 4}, ops.Shape{2, 3, 4}},
	{ops.Shape{2, 3, 4}, ops.Shape{}},
	{ops.Shape{}, ops.Shape{2, 3, 4}},
	{ops.Shape{2, 3, 4}, ops.Shape{4}},
	{ops.Shape{4}, ops.Shape{2, 3, 4}},
	{ops.Shape{2, 3, 4}, ops.Shape{3, 1}},
	{ops.Shape{2, 1, 4}, ops.Shape{3, 1}},
	{ops.Shape{3, 1}, ops.Shape{1, 4}},
	{ops.Shape{1, 4}, ops.Shape{3, 1}},
	{ops.Shape{2, 3, 4, 5}, ops.Shape{1, 3, 1, 5}},
	{ops.Shape{2, 1, 4, 1}, ops.Shape{1, 3, 1, 5}},
	{ops.Shape{1, 1, 1}, ops.Shape{2, 1, 3}},
	{ops.Shape{2, 1}, ops.Shape{1}},
	{ops.Shape{0, 3}, ops.Shape{3}},
	{ops.Shape{2, 0}, ops.Shape{1}},
	{ops.Shape{6, 1, 1, 7}, ops.Shape{1, 5, 1, 1}},
	{ops.Shape{1, 2, 1, 2, 1, 2}, ops.Shape{2, 1, 2, 1, 2, 1}},
}

// TestBroadcastAgainstNaive runs Add on int64 tensors over many shape pairs and compares every element with
// a direct evaluation of numpy's broadcasting rule.
func TestBroadcastAgainstNaive(t *testing.T) {
	for _, p := range broadcastPairs {
		t.Run(fmt.Sprintf("%v+%v", p.a, p.b), func(t *testing.T) {
			a, b := iota64(p.a, 1), iota64(p.b, 1000)
			out, err := opstest.Run(opstest.Node{OpType: "Add", Opset: 14, Inputs: in(a, b)})
			if err != nil {
				t.Fatal(err)
			}
			shape, _ := ops.BroadcastShapes(p.a, p.b)
			want := ops.New(ops.Int64, shape)
			w := want.Int64s()
			for i := range w {
				w[i] = at(a, shape, i) + at(b, shape, i)
			}
			if err := opstest.Close(out[0], want, 0, 0); err != nil {
				t.Fatalf("%v\ngot  %v\nwant %v", err, out[0].Int64s(), w)
			}
		})
	}
}

// TestWhereAgainstNaive checks Where's three-way broadcasting the same way.
func TestWhereAgainstNaive(t *testing.T) {
	shapes := []struct{ c, x, y ops.Shape }{
		{ops.Shape{2, 3}, ops.Shape{2, 3}, ops.Shape{2, 3}},
		{ops.Shape{3}, ops.Shape{2, 1}, ops.Shape{}},
		{ops.Shape{2, 1, 4}, ops.Shape{3, 1}, ops.Shape{1, 4}},
		{ops.Shape{1}, ops.Shape{2, 2}, ops.Shape{2, 1}},
		{ops.Shape{4, 1, 1}, ops.Shape{1, 3, 1}, ops.Shape{1, 1, 2}},
	}
	for _, s := range shapes {
		t.Run(fmt.Sprintf("%v,%v,%v", s.c, s.x, s.y), func(t *testing.T) {
			x, y := iota64(s.x, 1), iota64(s.y, 1000)
			cond := ops.New(ops.Bool, s.c)
			for i := range cond.Bools() {
				cond.Bools()[i] = i%3 != 1
			}
			out, err := opstest.Run(opstest.Node{OpType: "Where", Opset: 16, Inputs: in(cond, x, y)})
			if err != nil {
				t.Fatal(err)
			}
			shape, _ := ops.BroadcastShapes(s.c, s.x, s.y)
			want := ops.New(ops.Int64, shape)
			for i := range want.Int64s() {
				v := at(y, shape, i)
				if cond.Bools()[index(s.c, shape, i)] {
					v = at(x, shape, i)
				}
				want.Int64s()[i] = v
			}
			if err := opstest.Close(out[0], want, 0, 0); err != nil {
				t.Fatalf("%v\ngot  %v\nwant %v", err, out[0].Int64s(), want.Int64s())
			}
		})
	}
}

func iota64(shape ops.Shape, start int64) *ops.Tensor {
	t := ops.New(ops.Int64, shape)
	for i := range t.Int64s() {
		t.Int64s()[i] = start + int64(i)
	}
	return t
}

// at returns the element of t that output element i (row-major in out) reads under broadcasting.
func at(t *ops.Tensor, out ops.Shape, i int) int64 { return t.Int64s()[index(t.Shape(), out, i)] }

func index(in, out ops.Shape, i int) int {
	coords := make([]int, len(out))
	for d := len(out) - 1; d >= 0; d-- {
		coords[d] = i % out[d]
		i /= out[d]
	}
	idx, off := 0, len(out)-len(in)
	for d, n := range in {
		c := coords[off+d]
		if n == 1 {
			c = 0
		}
		idx = idx*n + c
	}
	return idx
}
