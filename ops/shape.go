package ops

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Shape is a tensor's concrete dimensions, outermost first. A scalar has an empty Shape.
type Shape []int

// Size is the number of elements: the product of the dimensions (1 for a scalar).
// It assumes the shape was validated (see CheckedSize); use that on untrusted dims.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// CheckedSize returns the element count, or an error if a dimension is negative or the product overflows int
// or exceeds maxElems (<= 0 means no limit beyond int overflow).
func (s Shape) CheckedSize(maxElems int64) (int, error) {
	n := int64(1)
	for i, d := range s {
		if d < 0 {
			return 0, fmt.Errorf("dimension %d of shape %v is negative", i, s)
		}
		if d != 0 && n > math.MaxInt64/int64(d) {
			return 0, fmt.Errorf("shape %v has more elements than fit in an int", s)
		}
		n *= int64(d)
	}
	if n > math.MaxInt || (maxElems > 0 && n > maxElems) {
		return 0, fmt.Errorf("shape %v has %d elements, over the limit of %d", s, n, maxElems)
	}
	return int(n), nil
}

// Rank is the number of dimensions.
func (s Shape) Rank() int { return len(s) }

// Clone returns a copy that does not share memory with s.
func (s Shape) Clone() Shape {
	if s == nil {
		return Shape{}
	}
	return append(Shape{}, s...)
}

// Equal reports whether s and o have the same dimensions.
func (s Shape) Equal(o Shape) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if s[i] != o[i] {
			return false
		}
	}
	return true
}

// Strides returns the row-major element strides of s.
func (s Shape) Strides() []int {
	st := make([]int, len(s))
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= s[i]
	}
	return st
}

func (s Shape) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(']')
	return b.String()
}

// NormalizeAxis maps a possibly negative axis into [0, rank) and errors when it is out of range,
// naming the accepted range as ONNX states it ([-rank, rank-1]).
func NormalizeAxis(axis, rank int) (int, error) {
	if axis < -rank || axis >= rank {
		if rank == 0 {
			return 0, fmt.Errorf("axis %d is out of range for a scalar", axis)
		}
		return 0, fmt.Errorf("axis %d is out of range [%d, %d]", axis, -rank, rank-1)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}

// BroadcastShapes returns the numpy-style (multidirectional) broadcast of the given shapes, as ONNX's
// Broadcasting.md defines it, or an error naming the dimensions that disagree.
func BroadcastShapes(shapes ...Shape) (Shape, error) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make(Shape, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			o := &out[off+i]
			switch {
			case d == *o || d == 1:
			case *o == 1:
				*o = d
			default:
				return nil, fmt.Errorf("shapes %v cannot broadcast: dimension %d is %d in one and %d in another",
					shapes, off+i-rank, *o, d)
			}
		}
	}
	return out, nil
}
