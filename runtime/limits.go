package runtime

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/onnxrun/onnxrun/ops"
)

// Checks on sizes that come from outside (a model's declarations, a caller's tensors) before anything is
// planned or read with them. Planning itself bounds every inferred tensor (Options.MaxTensorBytes) and the
// whole arena (Options.MaxPlanBytes); the decoder bounds initializers (onnx.Limits).

// checkDeclaredInputs rejects graph inputs whose declared shape (symbolic dimensions taken as 1, as
// planning at Compile takes them) cannot be a tensor: dimensions whose product overflows int, which no
// kernel's shape arithmetic should see, or a tensor over Options.MaxTensorBytes.
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

// checkTensorData reports a caller's tensor whose data does not back its dtype and shape (made with
// Tensor.Wrap from mismatched parts): kernels index the data by the shape and assert its type, so such a
// tensor would make them panic. It does not allocate.
func checkTensorData(t *ops.Tensor) string {
	if want, ok := sliceTypeOf(t.DType()); ok && reflect.TypeOf(t.Data()) != want {
		return fmt.Sprintf("holds %s data for dtype %s", sliceTypeName(t.Data()), t.DType())
	}
	elems, err := t.Shape().CheckedSize(0)
	if err != nil {
		return err.Error()
	}
	if n := t.Len(); n != elems {
		return fmt.Sprintf("holds %d elements for shape %v (%d elements)", n, t.Shape(), elems)
	}
	return ""
}

func sliceTypeName(data any) string {
	if data == nil {
		return "no"
	}
	return fmt.Sprintf("%T", data)
}

// sliceTypes caches, by dtype, the Go slice type ops keeps its elements in (ops.MakeSlice's), so that the
// check above follows ops' own table without a copy of it and without allocating after the first look.
var sliceTypes sync.Map // ops.DType → reflect.Type

func sliceTypeOf(dt ops.DType) (reflect.Type, bool) {
	if v, ok := sliceTypes.Load(dt); ok {
		return v.(reflect.Type), true
	}
	if dt.Size() == 0 {
		return nil, false // a dtype ops cannot hold: the dtype check against the model refuses it first
	}
	typ := reflect.TypeOf(ops.MakeSlice(dt, 0))
	sliceTypes.Store(dt, typ)
	return typ, true
}
