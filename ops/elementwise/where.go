package elementwise

import (
	"github.com/onnxrun/onnxrun/ops"
)

// Where: https://onnx.ai/onnx/operators/onnx__Where.html, opsets 9 and 16 (16 added bfloat16).
// output = condition ? X : Y, the three inputs broadcast together numpy-style.
func init() {
	ops.Register("", "Where", ops.SameBuilder(buildWhere, 9, 16)...)
}

type whereOp struct {
	nodeMeta
	types typeSet
}

var whereNames = []string{"condition", "X", "Y"}

func buildWhere(n ops.NodeInfo) (ops.Op, error) {
	if err := checkArity(n, 3, 3); err != nil {
		return nil, err
	}
	if err := checkOutputs(n, 1); err != nil {
		return nil, err
	}
	types := typeSince{{9, allTypes &^ setOf(ops.BFloat16)}, {16, allTypes}}.at(n.Opset)
	return &whereOp{nodeMeta: metaOf(n), types: types}, nil
}

func (o *whereOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if len(in) < 3 || !in[0].Present() {
		return nil, ops.Invalidf("%s-%d needs inputs condition, X and Y", o.opType, o.opset)
	}
	if err := checkType(&o.nodeMeta, "condition", in[0].DType, bools); err != nil {
		return nil, err
	}
	dt, err := checkInputs(&o.nodeMeta, in[1:], 2, o.types, "X", "Y")
	if err != nil {
		return nil, err
	}
	out, err := broadcastShapes(&o.nodeMeta, whereNames, in[0].Shape, in[1].Shape, in[2].Shape)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: dt, Shape: out}}, nil
}

func (o *whereOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	out, err := broadcastShapes(&o.nodeMeta, whereNames, in[0].Shape, in[1].Shape, in[2].Shape)
	if err != nil {
		return nil, err
	}
	plan := newBcastPlan(out, in[0].Shape, in[1].Shape, in[2].Shape)
	switch in[1].DType {
	case ops.Float32:
		return whereKernel[float32]{plan}, nil
	case ops.Float64:
		return whereKernel[float64]{plan}, nil
	case ops.Int8:
		return whereKernel[int8]{plan}, nil
	case ops.Int16:
		return whereKernel[int16]{plan}, nil
	case ops.Int32:
		return whereKernel[int32]{plan}, nil
	case ops.Int64:
		return whereKernel[int64]{plan}, nil
	case ops.Uint8:
		return whereKernel[uint8]{plan}, nil
	case ops.Uint16:
		return whereKernel[uint16]{plan}, nil
	case ops.Uint32:
		return whereKernel[uint32]{plan}, nil
	case ops.Uint64:
		return whereKernel[uint64]{plan}, nil
	case ops.Bool:
		return whereKernel[bool]{plan}, nil
	case ops.String:
		return whereKernel[string]{plan}, nil
	case ops.Float16:
		return whereKernel[ops.Float16Bits]{plan}, nil
	case ops.BFloat16:
		return whereKernel[ops.BFloat16Bits]{plan}, nil
	case ops.Complex64:
		return whereKernel[complex64]{plan}, nil
	case ops.Complex128:
		return whereKernel[complex128]{plan}, nil
	}
	return nil, ops.Unsupportedf("%s-%d has no kernel for %s", o.opType, o.opset, in[1].DType)
}

type whereKernel[T ops.Elem] struct{ plan *bcastPlan }

func (k whereKernel[T]) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	if k.plan.size == 0 {
		return nil
	}
	walkWhere(k.plan, 0, ops.Data[T](out[0]), ops.Data[bool](in[0]), ops.Data[T](in[1]), ops.Data[T](in[2]))
	return nil
}
