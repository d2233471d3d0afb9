package array

import "github.com/onnxrun/onnxrun/ops"

// scalarSlice returns a one-element slice of dt's Go type holding v, converted as a C cast would: how an
// attribute given as a float (Pad's value before opset 11) becomes a value of the data's type.
func scalarSlice(dt ops.DType, v float64) (any, error) {
	switch dt {
	case ops.Float32:
		return []float32{float32(v)}, nil
	case ops.Float64:
		return []float64{v}, nil
	case ops.Int8:
		return []int8{int8(v)}, nil
	case ops.Int16:
		return []int16{int16(v)}, nil
	case ops.Int32:
		return []int32{int32(v)}, nil
	case ops.Int64:
		return []int64{int64(v)}, nil
	case ops.Uint8:
		return []uint8{uint8(v)}, nil
	case ops.Uint16:
		return []uint16{uint16(v)}, nil
	case ops.Uint32:
		return []uint32{uint32(v)}, nil
	case ops.Uint64:
		return []uint64{uint64(v)}, nil
	case ops.Bool:
		return []bool{v != 0}, nil
	case ops.Float16:
		return []ops.Float16Bits{ops.Float16FromFloat32(float32(v))}, nil
	case ops.BFloat16:
		return []ops.BFloat16Bits{ops.BFloat16FromFloat32(float32(v))}, nil
	case ops.Complex64:
		return []complex64{complex(float32(v), 0)}, nil
	case ops.Complex128:
		return []complex128{complex(v, 0)}, nil
	}
	return nil, ops.Unsupportedf("a numeric value for dtype %s", dt)
}
