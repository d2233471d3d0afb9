package array

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// isIndexType reports whether dt is one of the integer types ONNX allows for shape-like inputs.
func isIndexType(dt ops.DType) bool { return dt == ops.Int64 || dt == ops.Int32 }

// constScalarInt returns a scalar (or one-element) integer input known at plan time.
func constScalarInt(v ops.ValueInfo, name string) (int64, error) {
	if !v.DType.IsInteger() {
		return 0, ops.Invalidf("input %q has dtype %s, want an integer", name, v.DType)
	}
	if v.Const == nil {
		return 0, ops.Dynamicf("input %q is not a constant", name)
	}
	if v.Shape.Size() != 1 {
		return 0, ops.Invalidf("input %q has shape %v, want a scalar", name, v.Shape)
	}
	return v.Const.AsInt64s()[0], nil
}

// normalizeAxis is ops.NormalizeAxis with an error that wraps ops.ErrInvalid and names the attribute.
func normalizeAxis(axis int64, rank int, what string) (int, error) {
	a, err := ops.NormalizeAxis(int(axis), rank)
	if err != nil {
		return 0, ops.Invalidf("%s: %v", what, err)
	}
	return a, nil
}

// checkedShape validates dims computed from input values (no negatives, no overflow).
func checkedShape(s ops.Shape) (ops.Shape, error) {
	if _, err := s.CheckedSize(0); err != nil {
		return nil, ops.Invalidf("%v", err)
	}
	return s, nil
}

// aliasInput0 is embedded by ops whose output 0 is input 0's data with another shape.
type aliasInput0 struct{}

// AliasOf reports that output 0 aliases input 0.
func (aliasInput0) AliasOf(output int) (int, bool) { return 0, output == 0 }

// copyKernel copies input 0 into output 0 element for element: the kernel of every aliasing op, run when
// the runtime does not share the buffer.
var copyKernel = ops.KernelFunc(func(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	ops.CopyData(out[0], in[0])
	return nil
})

// unsupportedDType is the error for a dtype a data-movement engine cannot hold.
func unsupportedDType(dt ops.DType) error { return ops.Unsupportedf("dtype %s", dt) }

// shapeOf formats a shape for messages together with its element count.
func shapeOf(s ops.Shape) string { return fmt.Sprintf("%v (%d elements)", s, s.Size()) }

func itoa(v int64) string { return fmt.Sprint(v) }

func quote(s string) string { return fmt.Sprintf("%q", s) }

func joinQuoted(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += quote(n)
	}
	return s
}
