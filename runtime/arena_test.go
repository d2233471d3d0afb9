package runtime

import (
	"testing"
	"unsafe"

	"github.com/onnxrun/onnxrun/ops"
)

// TestAllocArenaCarvesOneSlab: the float32 buffers and the scratch come from one allocation, each of its
// own length and capacity (so an append cannot run into a neighbour), on 64-byte steps, without overlap;
// other dtypes get their own slices.
func TestAllocArenaCarvesOneSlab(t *testing.T) {
	mp := &memoryPlan{scratch: 5, buffers: []bufferSpec{{dtype: ops.Float32, elems: 17}, {dtype: ops.Int64, elems: 3}, {dtype: ops.Float32, elems: 1}}}
	arena := make([]any, len(mp.buffers))
	scratch := allocArena(mp, arena)
	a, b := arena[0].([]float32), arena[2].([]float32)
	if len(scratch) != 5 || cap(scratch) != 5 || len(a) != 17 || cap(a) != 17 || len(b) != 1 || cap(b) != 1 {
		t.Fatalf("scratch %d/%d, buffers %d/%d and %d/%d (len/cap), want 5/5, 17/17, 1/1", len(scratch), cap(scratch), len(a), cap(a), len(b), cap(b))
	}
	if n := len(arena[1].([]int64)); n != 3 {
		t.Errorf("int64 buffer has %d elements, want 3", n)
	}
	base := uintptr(unsafe.Pointer(&scratch[0]))
	offA, offB := uintptr(unsafe.Pointer(&a[0]))-base, uintptr(unsafe.Pointer(&b[0]))-base
	if offA != 64 || offB != 64+128 {
		t.Errorf("buffers at bytes %d and %d of the slab, want 64 and 192 (one slab, cache-line steps)", offA, offB)
	}
}
