package array

import (
	"unsafe"

	"github.com/onnxrun/onnxrun/ops"
)

// rawElem is the set of element types data-movement kernels are instantiated for: one per element size,
// plus string, which must stay a string so the garbage collector sees its pointer. The complex types get
// arrays of words so that their alignment (4 for complex64) is never overstated.
type rawElem interface {
	uint8 | uint16 | uint32 | uint64 | [2]uint32 | [2]uint64 | string
}

// rawAs reinterprets an Elem slice (as held by a Tensor) as a []E of the same length and byte size. It
// panics, as an internal invariant, when the element sizes differ or when a string slice would be viewed
// as words or the reverse: rawSet.of picks E from the dtype, so that never happens with valid tensors.
func rawAs[E rawElem](data any) []E {
	if d, ok := data.([]E); ok {
		return d
	}
	var p unsafe.Pointer
	var n int
	var size uintptr
	switch d := data.(type) {
	case []float32:
		p, n, size = header(d)
	case []float64:
		p, n, size = header(d)
	case []int8:
		p, n, size = header(d)
	case []int16:
		p, n, size = header(d)
	case []int32:
		p, n, size = header(d)
	case []int64:
		p, n, size = header(d)
	case []uint8:
		p, n, size = header(d)
	case []uint16:
		p, n, size = header(d)
	case []uint32:
		p, n, size = header(d)
	case []uint64:
		p, n, size = header(d)
	case []bool:
		p, n, size = header(d)
	case []ops.Float16Bits:
		p, n, size = header(d)
	case []ops.BFloat16Bits:
		p, n, size = header(d)
	case []complex64:
		p, n, size = header(d)
	case []complex128:
		p, n, size = header(d)
	default: // []string viewed as words, or an unknown slice type
		panic(errRawKind)
	}
	var zero E
	if _, isString := any(zero).(string); isString || unsafe.Sizeof(zero) != size {
		panic(errRawKind)
	}
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*E)(p), n)
}

func header[T any](d []T) (unsafe.Pointer, int, uintptr) {
	var zero T
	return unsafe.Pointer(unsafe.SliceData(d)), len(d), unsafe.Sizeof(zero)
}

// rawSet holds one instantiation of a generic data-movement function per rawElem type; of picks the one
// that fits a dtype. Declaring a rawSet per engine keeps the per-size dispatch in one line.
type rawSet[F any] struct {
	u8, u16, u32, u64, c64, c128, str F
}

// of returns the instantiation for dt, or ok=false for a dtype the engine cannot hold.
func (s rawSet[F]) of(dt ops.DType) (f F, ok bool) {
	switch dt {
	case ops.Uint8, ops.Int8, ops.Bool:
		return s.u8, true
	case ops.Uint16, ops.Int16, ops.Float16, ops.BFloat16:
		return s.u16, true
	case ops.Float32, ops.Int32, ops.Uint32:
		return s.u32, true
	case ops.Float64, ops.Int64, ops.Uint64:
		return s.u64, true
	case ops.Complex64:
		return s.c64, true
	case ops.Complex128:
		return s.c128, true
	case ops.String:
		return s.str, true
	}
	return f, false
}

// Internal invariants (see ops/errors.go): these panic only on programming errors in this package.
const (
	errRawKind = "tensor: raw element view does not match the slice's element type"
)
