package array

import "github.com/onnxrun/onnxrun/ops"

// indexList reads an int32 or int64 index tensor as int64 without copying it.
type indexList struct {
	i32 []int32
	i64 []int64
	n   int
}

func indexListOf(t *ops.Tensor) indexList {
	switch d := t.Data().(type) {
	case []int64:
		return indexList{i64: d, n: len(d)}
	case []int32:
		return indexList{i32: d, n: len(d)}
	}
	panic(errIndexDType) // InferShapes admits only int32 and int64
}

func (l indexList) at(i int) int64 {
	if l.i64 != nil {
		return l.i64[i]
	}
	return int64(l.i32[i])
}

// checkIndex maps a possibly negative index into [0, dim), or returns an error naming the index, where it
// was found and the dimension it indexes.
func checkIndex(v int64, pos int, axis, dim int) (int, error) {
	if v < -int64(dim) || v >= int64(dim) {
		return 0, ops.Invalidf("index %d (element %d of indices) is out of range for axis %d of size %d", v, pos, axis, dim)
	}
	if v < 0 {
		v += int64(dim)
	}
	return int(v), nil
}

// locator is the part of a gather or scatter that depends on the op: the work is blocks() contiguous
// blocks of blockLen() elements, block b being element b*blockLen() of the output (gather) or updates
// (scatter) and element locate(b) of the data. locate reads the indices and checks them.
type locator interface {
	blocks() int
	blockLen() int
	locate(b int, idx indexList) (int, error)
}

// gatherFuncs copies each located data block into the output.
var gatherFuncs = rawSet[func(loc locator, dst, src any, idx indexList) error]{
	gatherCore[uint8], gatherCore[uint16], gatherCore[uint32], gatherCore[uint64], gatherCore[[2]uint32],
	gatherCore[[2]uint64], gatherCore[string],
}

func gatherCore[E rawElem](loc locator, dstData, srcData any, idx indexList) error {
	dst, src := rawAs[E](dstData), rawAs[E](srcData)
	n, l := loc.blocks(), loc.blockLen()
	if l == 0 {
		return nil
	}
	for b := 0; b < n; b++ {
		off, err := loc.locate(b, idx)
		if err != nil {
			return err
		}
		if l == 1 {
			dst[b] = src[off]
		} else {
			copy(dst[b*l:(b+1)*l], src[off:off+l])
		}
	}
	return nil
}

// reduction is how a scatter combines an update with the value already there.
type reduction int

const (
	reduceNone reduction = iota
	reduceAdd
	reduceMul
	reduceMax
	reduceMin
)

var reductionNames = map[string]reduction{"none": reduceNone, "add": reduceAdd, "mul": reduceMul, "max": reduceMax, "min": reduceMin}

// parseReduction reads the reduction attribute, accepting the values the op's opset defines.
func parseReduction(r *ops.AttrReader, allowed ...string) (reduction, error) {
	name := r.String("reduction", "none")
	for _, a := range allowed {
		if a == name {
			return reductionNames[name], nil
		}
	}
	return 0, &ops.AttrError{Name: "reduction", Msg: "is " + quote(name) + ", want one of " + joinQuoted(allowed)}
}

// scatterFunc writes every update block into the located place of dst (which already holds data).
type scatterFunc func(loc locator, dst, upd any, idx indexList) error

var scatterAssignFuncs = rawSet[scatterFunc]{
	scatterAssign[uint8], scatterAssign[uint16], scatterAssign[uint32], scatterAssign[uint64],
	scatterAssign[[2]uint32], scatterAssign[[2]uint64], scatterAssign[string],
}

func scatterAssign[E rawElem](loc locator, dstData, updData any, idx indexList) error {
	return scatterCore(loc, rawAs[E](dstData), rawAs[E](updData), idx, nil)
}

func scatterCore[E any](loc locator, dst, upd []E, idx indexList, combine func(a, b E) E) error {
	n, l := loc.blocks(), loc.blockLen()
	if l == 0 {
		return nil
	}
	for b := 0; b < n; b++ {
		off, err := loc.locate(b, idx)
		if err != nil {
			return err
		}
		d, u := dst[off:off+l], upd[b*l:(b+1)*l]
		if combine == nil {
			copy(d, u)
			continue
		}
		for i := range d {
			d[i] = combine(d[i], u[i])
		}
	}
	return nil
}

// scatterFuncFor returns the scatter for dtype dt and reduction r.
func scatterFuncFor(dt ops.DType, r reduction) (scatterFunc, error) {
	if r == reduceNone {
		f, ok := scatterAssignFuncs.of(dt)
		if !ok {
			return nil, unsupportedDType(dt)
		}
		return f, nil
	}
	switch dt {
	case ops.Float32:
		return scatterReduced(numReduce[float32](r)), nil
	case ops.Float64:
		return scatterReduced(numReduce[float64](r)), nil
	case ops.Int8:
		return scatterReduced(numReduce[int8](r)), nil
	case ops.Int16:
		return scatterReduced(numReduce[int16](r)), nil
	case ops.Int32:
		return scatterReduced(numReduce[int32](r)), nil
	case ops.Int64:
		return scatterReduced(numReduce[int64](r)), nil
	case ops.Uint8:
		return scatterReduced(numReduce[uint8](r)), nil
	case ops.Uint16:
		return scatterReduced(numReduce[uint16](r)), nil
	case ops.Uint32:
		return scatterReduced(numReduce[uint32](r)), nil
	case ops.Uint64:
		return scatterReduced(numReduce[uint64](r)), nil
	case ops.Float16:
		return scatterReduced(halfReduce(r, ops.Float16Bits.Float32, ops.Float16FromFloat32)), nil
	case ops.BFloat16:
		return scatterReduced(halfReduce(r, ops.BFloat16Bits.Float32, ops.BFloat16FromFloat32)), nil
	}
	return nil, ops.Unsupportedf("a scatter reduction on dtype %s", dt)
}

func scatterReduced[T any](combine func(a, b T) T) scatterFunc {
	return func(loc locator, dst, upd any, idx indexList) error {
		return scatterCore(loc, dst.([]T), upd.([]T), idx, combine)
	}
}

func numReduce[T ops.Number](r reduction) func(a, b T) T {
	switch r {
	case reduceAdd:
		return func(a, b T) T { return a + b }
	case reduceMul:
		return func(a, b T) T { return a * b }
	case reduceMax:
		return func(a, b T) T { return max(a, b) }
	default:
		return func(a, b T) T { return min(a, b) }
	}
}

// halfReduce combines 16-bit floats in float32 and rounds the result back.
func halfReduce[H ~uint16](r reduction, widen func(H) float32, narrow func(float32) H) func(a, b H) H {
	f := numReduce[float32](r)
	return func(a, b H) H { return narrow(f(widen(a), widen(b))) }
}

const errIndexDType = "tensor: index tensor is neither int32 nor int64"
