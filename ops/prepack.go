package ops

import (
	"reflect"
	"sync"
)

// PackCache shares the prepacked forms of constant tensors (a GEMM's B panels, a convolution's Winograd
// transform, a GEMV's padded rows) between every kernel that packs the same constant the same way. A weight
// that N nodes read (a model whose layers share one set of weights, a tied embedding) is then packed once,
// not N times, and a model planned at several input shapes packs it once, not once per shape.
//
// The runtime gives each constant input's ValueInfo a cache (ValueInfo.Packs): one per plan for the
// initializers, whose identity lasts as long as the plan. A kernel that prepacks a constant asks through
// Prepack with a layout string naming the packing and every parameter it depends on; with no cache (a
// kernel prepared outside the runtime) it packs on its own. A PackCache is safe for concurrent use.
type PackCache struct {
	mu      sync.Mutex
	entries map[packKey]*packEntry
	packs   int   // forms computed, not found
	bytes   int64 // what those forms hold
}

// packKey identifies a packed form: the constant it comes from (by identity) and how it is packed.
type packKey struct {
	src    *Tensor
	layout string
}

// packEntry is one form, computed once: concurrent askers for the same key wait for the first.
type packEntry struct {
	once   sync.Once
	packed any
}

// PackedOnly is a Kernel that reads some of its constant inputs only through the packed forms it took from
// their PackCache (Prepack), never their elements, neither in Run nor in a later Prepare of the same node
// at other input shapes: the form's layout depends only on the constant and the node's attributes (a
// GEMM's packed B on K and N, not on M), or the kernel falls back to one that does when a form cannot be
// packed any more. PackedInputs lists those inputs by index. When every node reading a weight lists it,
// the runtime drops the weight's elements (Tensor.DropData) and keeps only the packed forms.
type PackedOnly interface {
	PackedInputs() []int
}

// PackedSizer is a packed form that reports the bytes it holds, for PackCache's statistics.
type PackedSizer interface {
	PackedBytes() int64
}

// Prepack returns pack(), computed once per (src, layout) in c and shared by every caller that asks for
// the same; with a nil c it calls pack. layout must name every parameter the packed form depends on (a
// transpose flag, the dimensions, a tile size), since two callers with equal keys get the same form.
//
// Once src's data is dropped (Tensor.DropData) Prepack returns the forms computed before and, for a layout
// never packed, the zero T without calling pack: the kernel then has no packed form, does not list src
// among its PackedOnly inputs, and the runtime reports that the node needs the dropped data.
func Prepack[T any](c *PackCache, src *Tensor, layout string, pack func() T) T {
	return prepack(c, src, layout, pack, false)
}

// PrepackFromPacked is Prepack for a form that pack derives from another packed form of src, never from
// src's elements (a GEMV layout unpacked from GEMM panels): it is made after src's data was dropped too.
func PrepackFromPacked[T any](c *PackCache, src *Tensor, layout string, pack func() T) T {
	return prepack(c, src, layout, pack, true)
}

func prepack[T any](c *PackCache, src *Tensor, layout string, pack func() T, fromPacked bool) T {
	if src != nil && src.Dropped() && !fromPacked {
		var zero T
		if c == nil {
			return zero
		}
		c.mu.Lock()
		e, ok := c.entries[packKey{src: src, layout: layout}]
		c.mu.Unlock()
		if !ok {
			return zero
		}
		e.once.Do(func() {}) // wait for a form being packed when the data was dropped (none can be)
		v, _ := e.packed.(T)
		return v
	}
	if c == nil || src == nil {
		return pack()
	}
	key := packKey{src: src, layout: layout}
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		if c.entries == nil {
			c.entries = map[packKey]*packEntry{}
		}
		e = &packEntry{}
		c.entries[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		v := pack()
		e.packed = v
		c.mu.Lock()
		c.packs++
		c.bytes += packedBytes(v)
		c.mu.Unlock()
	})
	v, ok := e.packed.(T)
	if !ok {
		// Two callers asked for one key with different types: a layout string that is not unique.
		panic(errPackLayoutReused)
	}
	return v
}

// packedBytes is the size of a packed form: its own report, or that of a plain slice or tensor.
func packedBytes(v any) int64 {
	switch v := v.(type) {
	case PackedSizer:
		return v.PackedBytes()
	case *Tensor:
		return int64(v.Len()) * int64(v.DType().Size())
	case []float32:
		return int64(len(v)) * 4
	case []int8:
		return int64(len(v))
	case []uint8:
		return int64(len(v))
	case []int32:
		return int64(len(v)) * 4
	}
	// A slice of packed forms (one per group or batch).
	var n int64
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
		for i := range rv.Len() {
			if s, ok := rv.Index(i).Interface().(PackedSizer); ok {
				n += s.PackedBytes()
			}
		}
	}
	return n
}

// PackStats is what a PackCache holds: how many packed forms it computed and their bytes.
type PackStats struct {
	Packs int
	Bytes int64
}

// Stats reports the forms computed so far (a form found in the cache is not counted again).
func (c *PackCache) Stats() PackStats {
	if c == nil {
		return PackStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return PackStats{Packs: c.packs, Bytes: c.bytes}
}
