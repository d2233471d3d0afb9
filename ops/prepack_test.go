package ops_test

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// Once a constant's data is dropped, Prepack still returns the forms packed before, and packs no new one
// (it would read data that is gone): a layout never packed comes back as the zero value, pack uncalled.
func TestPrepackAfterDropData(t *testing.T) {
	w := ops.FromSlice(ops.Shape{2, 2}, []float32{1, 2, 3, 4})
	cache := new(ops.PackCache)
	packed := ops.Prepack(cache, w, "sum", func() []float32 { return []float32{10} })
	w.DropData()
	if !w.Dropped() || w.Data() != nil || w.Len() != 0 || !w.Shape().Equal(ops.Shape{2, 2}) {
		t.Fatalf("after DropData: Dropped %t, Data %v, Len %d, Shape %v; want true, nil, 0, [2 2]", w.Dropped(), w.Data(), w.Len(), w.Shape())
	}
	again := ops.Prepack(cache, w, "sum", func() []float32 { t.Error("packed the same layout again"); return nil })
	if len(again) != 1 || &again[0] != &packed[0] {
		t.Errorf("the form packed before the drop: got %v, want the cached %v", again, packed)
	}
	fresh := ops.Prepack(cache, w, "other", func() []float32 { t.Error("packed a new layout from dropped data"); return []float32{0} })
	if fresh != nil {
		t.Errorf("a new layout of dropped data = %v, want nil", fresh)
	}
	derived := ops.PrepackFromPacked(cache, w, "from sum", func() []float32 { return []float32{again[0] + 1} })
	if len(derived) != 1 || derived[0] != 11 {
		t.Errorf("a form derived from the packed one after the drop = %v, want [11]", derived)
	}
	if got := cache.Stats().Packs; got != 2 {
		t.Errorf("%d packs, want 2", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Clone of a dropped tensor did not panic")
		}
	}()
	w.Clone()
}
