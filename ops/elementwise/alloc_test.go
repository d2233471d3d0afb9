package elementwise_test

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// prepared builds a node the way the runtime does and returns its kernel and preallocated outputs.
func prepared(tb testing.TB, op string, opset int, attrs ops.AttrMap, inputs ...*ops.Tensor) (ops.Kernel, []*ops.Tensor) {
	tb.Helper()
	build, _, ok := ops.Lookup("", op, opset)
	if !ok {
		tb.Fatalf("%s-%d not registered", op, opset)
	}
	present := make([]bool, len(inputs))
	info := make([]ops.ValueInfo, len(inputs))
	for i, t := range inputs {
		if t != nil {
			present[i] = true
			info[i] = ops.ValueInfo{DType: t.DType(), Shape: t.Shape()}
		}
	}
	o, err := build(ops.NodeInfo{OpType: op, Opset: opset, Attrs: attrs, NumInputs: len(inputs), NumOutputs: 1, InputPresent: present})
	if err != nil {
		tb.Fatal(err)
	}
	outInfo, err := o.InferShapes(info)
	if err != nil {
		tb.Fatal(err)
	}
	k, err := o.Prepare(info, outInfo)
	if err != nil {
		tb.Fatal(err)
	}
	return k, []*ops.Tensor{ops.New(outInfo[0].DType, outInfo[0].Shape)}
}

// TestRunDoesNotAllocate checks the kernel contract: Run does no allocation.
func TestRunDoesNotAllocate(t *testing.T) {
	x := ops.New(ops.Float32, ops.Shape{2, 3, 4, 5})
	row := ops.New(ops.Float32, ops.Shape{5})
	col := ops.New(ops.Float32, ops.Shape{3, 1, 1})
	cond := ops.New(ops.Bool, ops.Shape{4, 1})
	h := ops.New(ops.Float16, ops.Shape{2, 3, 4, 5})
	cases := []struct {
		name   string
		op     string
		opset  int
		attrs  ops.AttrMap
		inputs []*ops.Tensor
	}{
		{"Add same", "Add", 14, nil, in(x, x)},
		{"Mul row", "Mul", 14, nil, in(x, row)},
		{"Sub channel", "Sub", 14, nil, in(x, col)},
		{"Pow mixed", "Pow", 15, nil, in(x, ops.New(ops.Int64, ops.Shape{}))},
		{"Relu", "Relu", 14, nil, in(x)},
		{"Clip", "Clip", 13, nil, in(x, ops.New(ops.Float32, ops.Shape{}), nil)},
		{"Sigmoid float16", "Sigmoid", 13, nil, in(h)},
		{"Where", "Where", 16, nil, in(cond, x, row)},
		{"Sum", "Sum", 13, nil, in(x, row, col)},
		{"Equal", "Equal", 19, nil, in(x, row)},
		{"Cast", "Cast", 13, ops.AttrMap{"to": attr(int64(ops.Int64))}, in(x)},
		{"Cast float16", "Cast", 13, ops.AttrMap{"to": attr(int64(ops.Float16))}, in(x)},
	}
	ctx := ops.SerialContext()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, out := prepared(t, c.op, c.opset, c.attrs, c.inputs...)
			if n := testing.AllocsPerRun(10, func() {
				if err := k.Run(ctx, c.inputs, out); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("Run allocates %v times", n)
			}
		})
	}
}
