package serve

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/serve/grpcpb"
)

// This file converts the tensors of the gRPC protocol, raw little-endian bytes or typed contents, to and
// from ops.Tensor slices. The caller has checked the datatype and the shape against the model; n is the
// shape's element count.

// elemSize is the byte size of one element of dt in raw contents, 0 for BYTES (length-prefixed).
func elemSize(dt ops.DType) int {
	switch dt {
	case ops.Bool, ops.Int8, ops.Uint8:
		return 1
	case ops.Int16, ops.Uint16, ops.Float16, ops.BFloat16:
		return 2
	case ops.Int32, ops.Uint32, ops.Float32:
		return 4
	case ops.Int64, ops.Uint64, ops.Float64:
		return 8
	}
	return 0
}

// decodeRaw reads n elements of dt from raw: row-major, little-endian, unpadded; BYTES elements are each a
// 4-byte little-endian length followed by that many bytes.
func decodeRaw(raw []byte, dt ops.DType, n int) (any, error) {
	if dt == ops.String {
		return decodeRawStrings(raw, n)
	}
	size := elemSize(dt)
	if size == 0 {
		return nil, dataErrorf("datatype %s cannot be sent as raw contents", dt)
	}
	if len(raw) != n*size {
		return nil, dataErrorf("raw contents hold %d bytes; %d elements of %s take %d", len(raw), n, Datatype(dt), n*size)
	}
	le := binary.LittleEndian
	switch dt {
	case ops.Bool:
		d := make([]bool, n)
		for i, b := range raw {
			if b > 1 {
				return nil, dataErrorf("raw BOOL element %d is %d, want 0 or 1", i, b)
			}
			d[i] = b == 1
		}
		return d, nil
	case ops.Int8:
		return fromRaw(raw, size, func(b []byte) int8 { return int8(b[0]) }), nil
	case ops.Uint8:
		return append([]uint8(nil), raw...), nil
	case ops.Int16:
		return fromRaw(raw, size, func(b []byte) int16 { return int16(le.Uint16(b)) }), nil
	case ops.Uint16:
		return fromRaw(raw, size, le.Uint16), nil
	case ops.Float16:
		return fromRaw(raw, size, func(b []byte) ops.Float16Bits { return ops.Float16Bits(le.Uint16(b)) }), nil
	case ops.BFloat16:
		return fromRaw(raw, size, func(b []byte) ops.BFloat16Bits { return ops.BFloat16Bits(le.Uint16(b)) }), nil
	case ops.Int32:
		return fromRaw(raw, size, func(b []byte) int32 { return int32(le.Uint32(b)) }), nil
	case ops.Uint32:
		return fromRaw(raw, size, le.Uint32), nil
	case ops.Float32:
		return fromRaw(raw, size, func(b []byte) float32 { return math.Float32frombits(le.Uint32(b)) }), nil
	case ops.Int64:
		return fromRaw(raw, size, func(b []byte) int64 { return int64(le.Uint64(b)) }), nil
	case ops.Uint64:
		return fromRaw(raw, size, le.Uint64), nil
	case ops.Float64:
		return fromRaw(raw, size, func(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) }), nil
	}
	return nil, dataErrorf("datatype %s cannot be sent as raw contents", dt)
}

func fromRaw[T any](raw []byte, size int, elem func([]byte) T) []T {
	d := make([]T, len(raw)/size)
	for i := range d {
		d[i] = elem(raw[i*size : i*size+size])
	}
	return d
}

func decodeRawStrings(raw []byte, n int) ([]string, error) {
	d := make([]string, 0, min(n, len(raw)/4))
	for len(raw) > 0 {
		if len(raw) < 4 {
			return nil, dataErrorf("raw BYTES element %d: %d bytes left, too few for its 4-byte length", len(d), len(raw))
		}
		size := binary.LittleEndian.Uint32(raw)
		if uint64(size) > uint64(len(raw)-4) {
			return nil, dataErrorf("raw BYTES element %d: length %d, but %d bytes are left", len(d), size, len(raw)-4)
		}
		d = append(d, string(raw[4:4+size]))
		raw = raw[4+size:]
	}
	if len(d) != n {
		return nil, dataErrorf("raw contents hold %d BYTES elements, the shape %d", len(d), n)
	}
	return d, nil
}

// encodeRaw appends the elements of t to b as raw contents.
func encodeRaw(b []byte, t *ops.Tensor) ([]byte, error) {
	le := binary.LittleEndian
	switch d := t.Data().(type) {
	case []bool:
		for _, v := range d {
			b = append(b, boolByte(v))
		}
	case []int8:
		for _, v := range d {
			b = append(b, byte(v))
		}
	case []uint8:
		b = append(b, d...)
	case []int16:
		b = appendRaw(b, d, func(b []byte, v int16) []byte { return le.AppendUint16(b, uint16(v)) })
	case []uint16:
		b = appendRaw(b, d, le.AppendUint16)
	case []ops.Float16Bits:
		b = appendRaw(b, d, func(b []byte, v ops.Float16Bits) []byte { return le.AppendUint16(b, uint16(v)) })
	case []ops.BFloat16Bits:
		b = appendRaw(b, d, func(b []byte, v ops.BFloat16Bits) []byte { return le.AppendUint16(b, uint16(v)) })
	case []int32:
		b = appendRaw(b, d, func(b []byte, v int32) []byte { return le.AppendUint32(b, uint32(v)) })
	case []uint32:
		b = appendRaw(b, d, le.AppendUint32)
	case []float32:
		b = appendRaw(b, d, func(b []byte, v float32) []byte { return le.AppendUint32(b, math.Float32bits(v)) })
	case []int64:
		b = appendRaw(b, d, func(b []byte, v int64) []byte { return le.AppendUint64(b, uint64(v)) })
	case []uint64:
		b = appendRaw(b, d, le.AppendUint64)
	case []float64:
		b = appendRaw(b, d, func(b []byte, v float64) []byte { return le.AppendUint64(b, math.Float64bits(v)) })
	case []string:
		for _, v := range d {
			b = le.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		}
	default:
		return nil, fmt.Errorf("dtype %s cannot be sent as raw contents", t.DType())
	}
	return b, nil
}

func appendRaw[T any](b []byte, d []T, put func([]byte, T) []byte) []byte {
	for _, v := range d {
		b = put(b, v)
	}
	return b
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// hasTypedContents reports whether dt has a field of its own in InferTensorContents; FP16 and BF16 travel
// only as raw contents.
func hasTypedContents(dt ops.DType) bool {
	return dt != ops.Float16 && dt != ops.BFloat16 && elemSize(dt) > 0 || dt == ops.String
}

// decodeContents reads n elements of dt from the field of c that the protocol assigns to dt.
func decodeContents(c *grpcpb.InferTensorContents, dt ops.DType, n int) (any, error) {
	switch dt {
	case ops.Bool:
		return sameCount(c.GetBoolContents(), n, "bool_contents")
	case ops.Int8:
		return narrowContents[int32, int8](c.GetIntContents(), n, "int_contents", math.MinInt8, math.MaxInt8)
	case ops.Int16:
		return narrowContents[int32, int16](c.GetIntContents(), n, "int_contents", math.MinInt16, math.MaxInt16)
	case ops.Int32:
		return sameCount(c.GetIntContents(), n, "int_contents")
	case ops.Int64:
		return sameCount(c.GetInt64Contents(), n, "int64_contents")
	case ops.Uint8:
		return narrowContents[uint32, uint8](c.GetUintContents(), n, "uint_contents", 0, math.MaxUint8)
	case ops.Uint16:
		return narrowContents[uint32, uint16](c.GetUintContents(), n, "uint_contents", 0, math.MaxUint16)
	case ops.Uint32:
		return sameCount(c.GetUintContents(), n, "uint_contents")
	case ops.Uint64:
		return sameCount(c.GetUint64Contents(), n, "uint64_contents")
	case ops.Float32:
		return sameCount(c.GetFp32Contents(), n, "fp32_contents")
	case ops.Float64:
		return sameCount(c.GetFp64Contents(), n, "fp64_contents")
	case ops.String:
		b, err := sameCount(c.GetBytesContents(), n, "bytes_contents")
		if err != nil {
			return nil, err
		}
		s := make([]string, n)
		for i, v := range b {
			s[i] = string(v)
		}
		return s, nil
	}
	return nil, dataErrorf("datatype %s has no typed contents; send it in raw_input_contents", Datatype(dt))
}

// sameCount checks the element count; the slice is the request's own, which the server may keep.
func sameCount[T any](d []T, n int, field string) ([]T, error) {
	if len(d) != n {
		return nil, dataErrorf("%s holds %d elements; the shape holds %d", field, len(d), n)
	}
	return d, nil
}

func narrowContents[W int32 | uint32, T int8 | int16 | uint8 | uint16](d []W, n int, field string, lo, hi int64) ([]T, error) {
	if _, err := sameCount(d, n, field); err != nil {
		return nil, err
	}
	out := make([]T, n)
	for i, v := range d {
		if int64(v) < lo || int64(v) > hi {
			return nil, dataErrorf("%s element %d is %d, out of range [%d, %d]", field, i, v, lo, hi)
		}
		out[i] = T(v)
	}
	return out, nil
}

// encodeContents puts the elements of t in the field of InferTensorContents its dtype has.
func encodeContents(t *ops.Tensor) (*grpcpb.InferTensorContents, error) {
	c := &grpcpb.InferTensorContents{}
	switch d := t.Data().(type) {
	case []bool:
		c.BoolContents = d
	case []int8:
		c.IntContents = widen[int8, int32](d)
	case []int16:
		c.IntContents = widen[int16, int32](d)
	case []int32:
		c.IntContents = d
	case []int64:
		c.Int64Contents = d
	case []uint8:
		c.UintContents = widen[uint8, uint32](d)
	case []uint16:
		c.UintContents = widen[uint16, uint32](d)
	case []uint32:
		c.UintContents = d
	case []uint64:
		c.Uint64Contents = d
	case []float32:
		c.Fp32Contents = d
	case []float64:
		c.Fp64Contents = d
	case []string:
		c.BytesContents = make([][]byte, len(d))
		for i, s := range d {
			c.BytesContents[i] = []byte(s)
		}
	default:
		return nil, fmt.Errorf("dtype %s has no typed contents", t.DType())
	}
	return c, nil
}

func widen[T int8 | int16 | uint8 | uint16, W int32 | uint32](d []T) []W {
	out := make([]W, len(d))
	for i, v := range d {
		out[i] = W(v)
	}
	return out
}
