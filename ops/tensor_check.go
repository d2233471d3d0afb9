package ops

import "fmt"

// CheckData reports a tensor whose data does not back its dtype and shape: one made with Wrap from
// mismatched parts, which kernels (trusting their inputs) would fail to type-assert or index past the end
// of. A sound tensor costs a type switch and a size computation, and no allocation.
func (t *Tensor) CheckData() error {
	if got := sliceDType(t.data); got != t.dtype {
		if t.data == nil {
			return fmt.Errorf("holds no data for dtype %s", t.dtype)
		}
		return fmt.Errorf("holds %T data for dtype %s", t.data, t.dtype)
	}
	elems, err := t.shape.CheckedSize(0)
	if err != nil {
		return err
	}
	if n := sliceLen(t.data); n != elems {
		return fmt.Errorf("holds %d elements for shape %v (%d elements)", n, t.shape, elems)
	}
	return nil
}
