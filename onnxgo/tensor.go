package onnxgo

import (
	"errors"
	"fmt"
	"math"

	"gorgonia.org/tensor"

	"github.com/onnxrun/onnxrun/ops"
)

// fromGorgonia converts a Gorgonia tensor to an ops.Tensor in row-major order. Slices of the element
// types both sides share are used as they are (the runtime never writes to its inputs); Go int becomes
// int64. Shape () is a rank-0 tensor, (1) a rank-1 one.
func fromGorgonia(t tensor.Tensor) (*ops.Tensor, error) {
	if t == nil {
		return nil, fmt.Errorf("no tensor")
	}
	if t.RequiresIterator() {
		// A view or a transposed tensor: copy it into plain row-major order.
		t = tensor.Materialize(t)
	}
	// Gorgonia calls a shape of () or (1) "scalar" and then hands out the value rather than a slice; the
	// shape itself says which rank it is.
	shape := make(ops.Shape, len(t.Shape()))
	copy(shape, t.Shape())
	data := t.Data()
	if t.IsScalar() {
		data = scalarSlice(t.ScalarValue())
	}
	switch d := data.(type) {
	case []float32, []float64, []int8, []int16, []int32, []int64, []uint8, []uint16, []uint32, []uint64, []bool,
		[]string, []complex64, []complex128:
		return fromData(shape, d)
	case []int:
		out := make([]int64, len(d))
		for i, v := range d {
			out[i] = int64(v)
		}
		return fromData(shape, out)
	case []uint:
		out := make([]uint64, len(d))
		for i, v := range d {
			out[i] = uint64(v)
		}
		return fromData(shape, out)
	}
	return nil, fmt.Errorf("the Gorgonia dtype %v has no ONNX counterpart", t.Dtype())
}

func fromData(shape ops.Shape, data any) (*ops.Tensor, error) {
	var dt ops.DType
	switch data.(type) {
	case []float32:
		dt = ops.Float32
	case []float64:
		dt = ops.Float64
	case []int8:
		dt = ops.Int8
	case []int16:
		dt = ops.Int16
	case []int32:
		dt = ops.Int32
	case []int64:
		dt = ops.Int64
	case []uint8:
		dt = ops.Uint8
	case []uint16:
		dt = ops.Uint16
	case []uint32:
		dt = ops.Uint32
	case []uint64:
		dt = ops.Uint64
	case []bool:
		dt = ops.Bool
	case []string:
		dt = ops.String
	case []complex64:
		dt = ops.Complex64
	case []complex128:
		dt = ops.Complex128
	}
	return ops.FromData(dt, shape, data)
}

// scalarSlice makes a one-element slice of a scalar's value.
func scalarSlice(v interface{}) interface{} {
	switch x := v.(type) {
	case float32:
		return []float32{x}
	case float64:
		return []float64{x}
	case int8:
		return []int8{x}
	case int16:
		return []int16{x}
	case int32:
		return []int32{x}
	case int64:
		return []int64{x}
	case int:
		return []int{x}
	case uint8:
		return []uint8{x}
	case uint16:
		return []uint16{x}
	case uint32:
		return []uint32{x}
	case uint64:
		return []uint64{x}
	case uint:
		return []uint{x}
	case bool:
		return []bool{x}
	case string:
		return []string{x}
	case complex64:
		return []complex64{x}
	case complex128:
		return []complex128{x}
	}
	return v
}

// toGorgonia copies an output into a new Gorgonia dense tensor (the session reuses its buffers at the
// next Run). Float16 and bfloat16, which Gorgonia lacks, become float32; a rank-0 tensor a scalar.
func toGorgonia(t *ops.Tensor) (out tensor.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil { // Gorgonia panics on shapes it cannot hold (a zero dimension)
			out, err = nil, fmt.Errorf("a Gorgonia tensor cannot hold %s%v: %v", t.DType(), t.Shape(), r)
		}
	}()
	var data any
	switch t.DType() {
	case ops.Float16, ops.BFloat16:
		f := make([]float32, t.Len())
		for i, v := range t.AsFloat64s() {
			f[i] = float32(v)
		}
		data = f
	default:
		data = t.Clone().Data()
	}
	if t.Rank() == 0 {
		return tensor.New(tensor.FromScalar(firstElem(data))), nil
	}
	return tensor.New(tensor.WithShape([]int(t.Shape())...), tensor.WithBacking(data)), nil
}

func firstElem(data any) any {
	switch d := data.(type) {
	case []float32:
		return d[0]
	case []float64:
		return d[0]
	case []int8:
		return d[0]
	case []int16:
		return d[0]
	case []int32:
		return d[0]
	case []int64:
		return d[0]
	case []uint8:
		return d[0]
	case []uint16:
		return d[0]
	case []uint32:
		return d[0]
	case []uint64:
		return d[0]
	case []bool:
		return d[0]
	case []string:
		return d[0]
	case []complex64:
		return d[0]
	case []complex128:
		return d[0]
	}
	return nil
}

// opsDType is the ops element type of a Gorgonia dtype; ok is false for types ONNX lacks.
func opsDType(dt tensor.Dtype) (ops.DType, bool) {
	switch dt {
	case tensor.Float32:
		return ops.Float32, true
	case tensor.Float64:
		return ops.Float64, true
	case tensor.Int8:
		return ops.Int8, true
	case tensor.Int16:
		return ops.Int16, true
	case tensor.Int32:
		return ops.Int32, true
	case tensor.Int64, tensor.Int:
		return ops.Int64, true
	case tensor.Uint8:
		return ops.Uint8, true
	case tensor.Uint16:
		return ops.Uint16, true
	case tensor.Uint32:
		return ops.Uint32, true
	case tensor.Uint64, tensor.Uint:
		return ops.Uint64, true
	case tensor.Bool:
		return ops.Bool, true
	case tensor.String:
		return ops.String, true
	}
	return ops.Undefined, false
}

// toDeclared converts an input to the dtype the model declares for it when the caller's tensor has
// another numeric type whose values it holds exactly: onnx-go's generated tests feed float32 tensors to
// int64 inputs (Slice's starts, TopK's k), and gorgonnx accepts them. A value that would change (2.5 as
// an integer) is an error naming both types.
func toDeclared(t *ops.Tensor, declared tensor.Dtype) (*ops.Tensor, error) {
	want, ok := opsDType(declared)
	if !ok || want == t.DType() {
		return t, nil
	}
	numeric := func(d ops.DType) bool { return d.IsFloat() || d.IsInteger() }
	if !numeric(want) || !numeric(t.DType()) {
		return nil, fmt.Errorf("the model declares %s, got %s", want, t.DType())
	}
	out := ops.New(want, t.Shape())
	vals := t.AsFloat64s()
	for i, v := range vals {
		if err := setExact(out, i, v); err != nil {
			return nil, fmt.Errorf("the model declares %s, got %s holding %v, which %s cannot hold exactly", want, t.DType(), v, want)
		}
	}
	return out, nil
}

// setExact stores v at index i of out, failing when out's type cannot hold it exactly.
func setExact(out *ops.Tensor, i int, v float64) error {
	bad := errors.New("inexact")
	isInt := v == math.Trunc(v) && !math.IsInf(v, 0)
	switch d := out.Data().(type) {
	case []float32:
		if float64(float32(v)) != v && !math.IsNaN(v) {
			return bad
		}
		d[i] = float32(v)
	case []float64:
		d[i] = v
	case []int8:
		if !isInt || v < math.MinInt8 || v > math.MaxInt8 {
			return bad
		}
		d[i] = int8(v)
	case []int16:
		if !isInt || v < math.MinInt16 || v > math.MaxInt16 {
			return bad
		}
		d[i] = int16(v)
	case []int32:
		if !isInt || v < math.MinInt32 || v > math.MaxInt32 {
			return bad
		}
		d[i] = int32(v)
	case []int64:
		if !isInt || v < -(1<<63) || v >= 1<<63 {
			return bad
		}
		d[i] = int64(v)
	case []uint8:
		if !isInt || v < 0 || v > math.MaxUint8 {
			return bad
		}
		d[i] = uint8(v)
	case []uint16:
		if !isInt || v < 0 || v > math.MaxUint16 {
			return bad
		}
		d[i] = uint16(v)
	case []uint32:
		if !isInt || v < 0 || v > math.MaxUint32 {
			return bad
		}
		d[i] = uint32(v)
	case []uint64:
		if !isInt || v < 0 || v >= 1<<64 {
			return bad
		}
		d[i] = uint64(v)
	default:
		return bad
	}
	return nil
}
