package runtime

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// Checks on sizes that come from outside (a model's declarations, a caller's tensors) before anything is
// planned or read with them. Planning itself bounds every inferred tensor (Options.MaxTensorBytes) and the
// whole arena (Options.MaxPlanBytes); the decoder bounds initializers (onnx.Limits).

// checkDeclaredInputs rejects graph inputs whose fixed dimensions alone cannot be a tensor: dimensions
// whose product overflows int, which no kernel's shape arithmetic should see, or a tensor over
// Options.MaxTensorBytes. A symbolic dimension counts as 1 here, its least useful size: this is a bound on
// the declaration, not a plan (planning never takes a symbol as 1; see probeInputs).
func checkDeclaredInputs(g *Graph, opts Options) error {
	for _, in := range g.Inputs {
		if !in.HasShape {
			continue
		}
		shape := make(ops.Shape, len(in.Dims))
		for i, d := range in.Dims {
			shape[i] = 1
			if !d.Symbolic() {
				shape[i] = int(d.Value)
			}
		}
		elems, err := shape.CheckedSize(0)
		if err != nil {
			return modelErrorf("graph input %q declares shape %s: %v", in.Name, in.ShapeString(), err)
		}
		if size := int64(max(1, in.DType.Size())); int64(elems) > opts.MaxTensorBytes/size {
			return fmt.Errorf("%w: graph input %q declares shape %s of %s: %d elements of %d bytes, over the limit of %d bytes (Options.MaxTensorBytes)",
				ErrUnsupported, in.Name, in.ShapeString(), in.DType, elems, size, opts.MaxTensorBytes)
		}
	}
	return nil
}
