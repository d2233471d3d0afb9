package onnx

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"unsafe"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// Array is a tensor's value as a plain Go slice: DataType says what the elements are, Dims the shape
// (row-major, [] for a scalar) and Data holds the product(Dims) elements as one typed slice:
//
//	FLOAT []float32            DOUBLE []float64          COMPLEX64 []complex64   COMPLEX128 []complex128
//	INT8 []int8    INT16 []int16    INT32 []int32    INT64 []int64
//	UINT8 []uint8  UINT16 []uint16  UINT32 []uint32  UINT64 []uint64
//	BOOL []bool    STRING []string  FLOAT16, BFLOAT16 []uint16 (the IEEE / bfloat16 bit patterns)
//	FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ, FLOAT8E8M0, FLOAT4E2M1,
//	UINT4, INT4, UINT2, INT2 []uint8 (one element per byte: its bit pattern in the low bits)
//
// The 4-bit and 2-bit types are unpacked: Data holds one element per byte, the 4 or 2 bits the file
// stores (INT4 -1 is 0x0F, not sign-extended), and NewTensorProto packs them again, ignoring the
// higher bits. Data never aliases the TensorProto it came from. BOOL reads any non-zero byte or entry
// as true; NewTensorProto writes 0 and 1.
type Array struct {
	DataType onnxpb.TensorProto_DataType
	Dims     []int64
	Data     any
}

// Len is the number of elements in a.Data (0 when Data is not one of the slice types above).
func (a *Array) Len() int {
	switch d := a.Data.(type) {
	case []float32:
		return len(d)
	case []float64:
		return len(d)
	case []complex64:
		return len(d)
	case []complex128:
		return len(d)
	case []int8:
		return len(d)
	case []int16:
		return len(d)
	case []int32:
		return len(d)
	case []int64:
		return len(d)
	case []uint8:
		return len(d)
	case []uint16:
		return len(d)
	case []uint32:
		return len(d)
	case []uint64:
		return len(d)
	case []bool:
		return len(d)
	case []string:
		return len(d)
	}
	return 0
}

// DefaultMaxTensorBytes is the per-tensor allocation cap used when Limits.MaxTensorBytes is zero.
const DefaultMaxTensorBytes = 4 << 30

// Limits bounds what reading one tensor may allocate, so that a small hostile file (dims [1<<40] with an
// external data reference, say) cannot make the decoder reserve huge amounts of memory. All checks run
// before anything is allocated.
type Limits struct {
	// MaxTensorBytes caps the in-memory size of one Array.Data (strings count their bytes plus a 16-byte
	// header each). Zero means DefaultMaxTensorBytes; negative means no limit.
	MaxTensorBytes int64
}

func (l Limits) maxTensorBytes() int64 {
	switch {
	case l.MaxTensorBytes == 0:
		return DefaultMaxTensorBytes
	case l.MaxTensorBytes < 0:
		return math.MaxInt64
	}
	return l.MaxTensorBytes
}

// TensorArray reads t, which belongs to m, resolving external data against m.Dir under m.Limits.
func (m *Model) TensorArray(t *onnxpb.TensorProto) (*Array, error) {
	return ReadTensor(t, m.Dir, m.Limits)
}

// ReadTensor converts t to an Array. Elements come from raw_data (little-endian), from the typed field
// that data_type selects (float_data, int32_data, ...), or, when data_location is EXTERNAL, from the file
// named by external_data, resolved inside dir (see the package documentation). dir may be "" when t has
// no external data.
//
// Before allocating, ReadTensor checks that dims are non-negative, that their product does not overflow,
// that the data present has exactly the size the dims need, and that the result fits limits. A malformed
// tensor yields a *FormatError, an element type without an Array form an *UnsupportedError.
func ReadTensor(t *onnxpb.TensorProto, dir string, limits Limits) (*Array, error) {
	return readTensor(t, dir, limits, false, nil)
}

// TakeTensor is ReadTensor for a caller that owns t and spends it (runtime.Load, which decoded the
// model itself): the array takes t's raw_data bytes (or the bytes read from external data) as its own
// memory where their layout allows, instead of copying them, and t's raw_data is dropped. t must not be
// used for its data afterwards.
func TakeTensor(t *onnxpb.TensorProto, dir string, limits Limits) (*Array, error) {
	return takeTensor(t, dir, limits, nil)
}

// TakeTensor is the function TakeTensor for a tensor of m (resolving external data against m.Dir), which
// also uses m's memory-mapped files in place (DecodeOptions.Mmap): an initializer's raw_data, or an
// external data file, mapped read-only and aligned for the element type on a little-endian host becomes
// the array's Data without a copy (Mapping.Holds reports it); anything else is copied once. Such an array
// is valid while m.Mapping() is: the caller keeps a reference (Mapping.Acquire) as long as it keeps the
// array, and never writes into it.
func (m *Model) TakeTensor(t *onnxpb.TensorProto, limits Limits) (*Array, error) {
	return takeTensor(t, m.Dir, limits, m.mapping)
}

func takeTensor(t *onnxpb.TensorProto, dir string, limits Limits, mapping *Mapping) (*Array, error) {
	a, err := readTensor(t, dir, limits, true, mapping)
	if t != nil {
		t.RawData = nil
	}
	return a, err
}

func readTensor(t *onnxpb.TensorProto, dir string, limits Limits, take bool, mapping *Mapping) (*Array, error) {
	where := tensorWhere(t)
	if t == nil {
		return nil, formatErr(where, "nil TensorProto")
	}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	info, n, src, err := checkTensor(where, t)
	if err != nil {
		return nil, err
	}
	if info.goSize == 0 {
		return nil, unsupportedErr(where, fmt.Sprintf("element type %s has no Array form", dtypeName(dt)))
	}
	if err := checkAlloc(where, t, info, n, limits); err != nil {
		return nil, err
	}
	a := &Array{DataType: dt, Dims: slices.Clone(t.GetDims())}
	if a.Dims == nil {
		a.Dims = []int64{}
	}
	switch src {
	case fromExternal:
		ref, err := parseExternal(where, t)
		if err != nil {
			return nil, err
		}
		want, _ := info.rawBytes(n)
		var readMapping *Mapping
		if take {
			readMapping = mapping
		}
		raw, _, err := readExternal(where, ref, dir, want, readMapping)
		if err != nil {
			return nil, err
		}
		// raw was read for this array alone, or is mapped pages the caller takes a reference to.
		a.Data = decodeElems(dt, raw, n, littleEndian, true)
		dropIfCopied(mapping, raw, a)
	case fromRaw:
		a.Data = decodeElems(dt, t.GetRawData(), n, littleEndian, take)
		if take {
			dropIfCopied(mapping, t.GetRawData(), a)
		}
	case fromTyped:
		if a.Data, err = decodeTyped(where, dt, t, n); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// dropIfCopied gives back the resident pages of mapped raw bytes that a's elements were copied out of.
func dropIfCopied(mapping *Mapping, raw []byte, a *Array) {
	if mapping != nil && !mapping.Holds(a) {
		mapping.dropCopied(raw)
	}
}

// checkAlloc compares the in-memory size of the result with the limit (and with what an int can index).
func checkAlloc(where string, t *onnxpb.TensorProto, info dtypeInfo, n int64, limits Limits) error {
	size, ok := mulCeilDiv(n, info.goSize, 1)
	if ok && info.field == stringData {
		for _, s := range t.GetStringData() {
			size += int64(len(s))
		}
	}
	limit := min(limits.maxTensorBytes(), math.MaxInt)
	if !ok || size > limit {
		return unsupportedErr(where, fmt.Sprintf("dims %v need %s bytes in memory, over the limit of %d (Limits.MaxTensorBytes)",
			t.GetDims(), sizeString(size, ok), limit))
	}
	return nil
}

func sizeString(size int64, ok bool) string {
	if !ok {
		return "more than 2^63"
	}
	return fmt.Sprint(size)
}

// source says where a tensor's elements are.
type source int

const (
	fromTyped source = iota
	fromRaw
	fromExternal
)

// checkTensor validates t's layout without allocating or touching the file system: known data type,
// non-negative dims with a product that fits in int64, exactly one place holding the data, and (for
// inline data) exactly the size the dims need. It returns the element count and the data's source.
func checkTensor(where string, t *onnxpb.TensorProto) (dtypeInfo, int64, source, error) {
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	info, known := dtypes[dt]
	switch {
	case dt == onnxpb.TensorProto_UNDEFINED:
		return info, 0, 0, formatErr(where, "data_type is UNDEFINED (0)")
	case !known:
		return info, 0, 0, unsupportedErr(where, fmt.Sprintf("data_type %d is not a type this build knows", int32(dt)))
	case t.Segment != nil:
		return info, 0, 0, unsupportedErr(where, fmt.Sprintf("segmented tensor (segment [%d, %d))",
			t.GetSegment().GetBegin(), t.GetSegment().GetEnd()))
	}
	n, err := numElements(where, t.GetDims())
	if err != nil {
		return info, 0, 0, err
	}
	typed := typedFields(t)
	for _, f := range typed {
		if f != info.field {
			return info, 0, 0, formatErr(where, fmt.Sprintf("data_type %s but %s is set", dtypeName(dt), f))
		}
	}
	external := t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL
	switch {
	case external:
		if t.RawData != nil || len(typed) > 0 {
			return info, 0, 0, formatErr(where, fmt.Sprintf("data_location EXTERNAL but the data is also inline (%s)", inlineName(t, typed)))
		}
		if dt == onnxpb.TensorProto_STRING {
			return info, 0, 0, formatErr(where, "STRING tensors cannot use external data (strings live in string_data)")
		}
		ref, err := parseExternal(where, t)
		if err != nil {
			return info, 0, 0, err
		}
		want, ok := info.rawBytes(n)
		if !ok {
			return info, 0, 0, formatErr(where, fmt.Sprintf("dims %v: byte size overflows int64", t.GetDims()))
		}
		if ref.hasLength && ref.length != want {
			return info, 0, 0, formatErr(where, fmt.Sprintf("dims %v need %d bytes, external_data length is %d", t.GetDims(), want, ref.length))
		}
		return info, n, fromExternal, nil
	case len(t.GetExternalData()) > 0:
		return info, 0, 0, formatErr(where, "external_data is set but data_location is not EXTERNAL")
	case t.RawData != nil:
		if dt == onnxpb.TensorProto_STRING {
			return info, 0, 0, formatErr(where, "STRING tensor uses raw_data (strings must be in string_data)")
		}
		if len(typed) > 0 {
			return info, 0, 0, formatErr(where, fmt.Sprintf("both raw_data and %s are set", typed[0]))
		}
		want, ok := info.rawBytes(n)
		if !ok {
			return info, 0, 0, formatErr(where, fmt.Sprintf("dims %v: byte size overflows int64", t.GetDims()))
		}
		if have := int64(len(t.GetRawData())); have != want {
			return info, 0, 0, formatErr(where, fmt.Sprintf("dims %v need %d bytes, raw_data has %d", t.GetDims(), want, have))
		}
		return info, n, fromRaw, nil
	}
	want, ok := info.entries(n)
	if !ok {
		return info, 0, 0, formatErr(where, fmt.Sprintf("dims %v: entry count overflows int64", t.GetDims()))
	}
	if have := fieldLen(t, info.field); have != want {
		return info, 0, 0, formatErr(where, fmt.Sprintf("dims %v need %d %s entries, %s has %d (and there is no raw_data)",
			t.GetDims(), want, dtypeName(dt), info.field, have))
	}
	return info, n, fromTyped, nil
}

// typedFields lists the non-empty typed data fields of t.
func typedFields(t *onnxpb.TensorProto) []field {
	var fs []field
	for f := floatData; f <= stringData; f++ {
		if fieldLen(t, f) > 0 {
			fs = append(fs, f)
		}
	}
	return fs
}

func fieldLen(t *onnxpb.TensorProto, f field) int64 {
	switch f {
	case floatData:
		return int64(len(t.GetFloatData()))
	case doubleData:
		return int64(len(t.GetDoubleData()))
	case int32Data:
		return int64(len(t.GetInt32Data()))
	case int64Data:
		return int64(len(t.GetInt64Data()))
	case uint64Data:
		return int64(len(t.GetUint64Data()))
	case stringData:
		return int64(len(t.GetStringData()))
	}
	return 0
}

func inlineName(t *onnxpb.TensorProto, typed []field) string {
	if t.RawData != nil {
		return "raw_data"
	}
	return typed[0].String()
}

// tensorWhere names a tensor for error messages.
func tensorWhere(t *onnxpb.TensorProto) string {
	if t.GetName() == "" {
		return "unnamed tensor"
	}
	return fmt.Sprintf("tensor %q", t.GetName())
}

// littleEndian is true on hosts whose memory order matches raw_data's, where decoding is a plain copy.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// fixed is every element type with a fixed-width in-memory layout that Array uses.
type fixed interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 |
		~float32 | ~float64 | ~complex64 | ~complex128
}

// bytesOf views a slice's memory as bytes.
func bytesOf[T fixed](s []T) []byte {
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}

// swapEach reverses every width-byte group of b, converting between little- and big-endian scalars.
func swapEach(b []byte, width int) {
	for i := 0; i+width <= len(b); i += width {
		slices.Reverse(b[i : i+width])
	}
}

// scalarWidth is the byte width of the scalar parts of T (a complex number swaps each half separately).
func scalarWidth[T fixed]() int {
	var zero T
	switch any(zero).(type) {
	case complex64:
		return 4
	case complex128:
		return 8
	}
	return int(unsafe.Sizeof(zero))
}

// fromLE decodes little-endian bytes (whose length is a multiple of T's size) into a new []T. With take
// (raw is the caller's to give away), on a little-endian host and when raw is aligned for T, the result
// is raw's own memory seen as []T: no allocation, no copy. A weight's bytes are then read once, from
// the file into the protobuf, instead of being copied a second time.
func fromLE[T fixed](raw []byte, little, take bool) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if take && little && len(raw) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%unsafe.Alignof(zero) == 0 {
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(raw))), len(raw)/size)
	}
	out := make([]T, len(raw)/size)
	b := bytesOf(out)
	copy(b, raw)
	if !little {
		swapEach(b, scalarWidth[T]())
	}
	return out
}

// toLE encodes s as little-endian bytes.
func toLE[T fixed](s []T, little bool) []byte {
	out := slices.Clone(bytesOf(s))
	if out == nil {
		out = []byte{}
	}
	if !little {
		swapEach(out, scalarWidth[T]())
	}
	return out
}

// decodeElems converts the n elements of raw_data bytes, already checked to have the right length, to dt's
// slice type, unpacking the 4-bit and 2-bit types.
func decodeElems(dt onnxpb.TensorProto_DataType, raw []byte, n int64, little, take bool) any {
	if bits := packedBits(dt); bits != 0 {
		return unpack(raw, bits, n)
	}
	return decodeRaw(dt, raw, little, take)
}

// packedBits is the width of the types stored several to a byte, 0 for the others.
func packedBits(dt onnxpb.TensorProto_DataType) int {
	switch dt {
	case onnxpb.TensorProto_UINT4, onnxpb.TensorProto_INT4, onnxpb.TensorProto_FLOAT4E2M1:
		return 4
	case onnxpb.TensorProto_UINT2, onnxpb.TensorProto_INT2:
		return 2
	}
	return 0
}

// unpack splits n elements of the given width out of packed bytes, lowest bits first; the caller checked
// that packed holds ceil(n*bits/8) bytes.
func unpack(packed []byte, bits int, n int64) []uint8 {
	perByte := 8 / bits
	mask := uint8(1)<<bits - 1
	out := make([]uint8, n)
	for i := range out {
		out[i] = packed[i/perByte] >> (bits * (i % perByte)) & mask
	}
	return out
}

// pack is unpack's inverse; it ignores the bits of each element above the width.
func pack(elems []uint8, bits int) []byte {
	perByte := 8 / bits
	mask := uint8(1)<<bits - 1
	out := make([]byte, (len(elems)+perByte-1)/perByte)
	for i, v := range elems {
		out[i/perByte] |= (v & mask) << (bits * (i % perByte))
	}
	return out
}

// decodeRaw converts raw_data bytes, already checked to have the right length, to dt's slice type (the
// 8-bit narrow types as bytes; the packed ones go through decodeElems). With take, the result may be raw
// itself (see fromLE).
func decodeRaw(dt onnxpb.TensorProto_DataType, raw []byte, little, take bool) any {
	switch dt {
	case onnxpb.TensorProto_FLOAT:
		return fromLE[float32](raw, little, take)
	case onnxpb.TensorProto_DOUBLE:
		return fromLE[float64](raw, little, take)
	case onnxpb.TensorProto_COMPLEX64:
		return fromLE[complex64](raw, little, take)
	case onnxpb.TensorProto_COMPLEX128:
		return fromLE[complex128](raw, little, take)
	case onnxpb.TensorProto_INT8:
		return fromLE[int8](raw, little, take)
	case onnxpb.TensorProto_INT16:
		return fromLE[int16](raw, little, take)
	case onnxpb.TensorProto_INT32:
		return fromLE[int32](raw, little, take)
	case onnxpb.TensorProto_INT64:
		return fromLE[int64](raw, little, take)
	case onnxpb.TensorProto_UINT8, onnxpb.TensorProto_FLOAT8E4M3FN, onnxpb.TensorProto_FLOAT8E4M3FNUZ,
		onnxpb.TensorProto_FLOAT8E5M2, onnxpb.TensorProto_FLOAT8E5M2FNUZ, onnxpb.TensorProto_FLOAT8E8M0:
		return fromLE[uint8](raw, little, take)
	case onnxpb.TensorProto_UINT16, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		return fromLE[uint16](raw, little, take)
	case onnxpb.TensorProto_UINT32:
		return fromLE[uint32](raw, little, take)
	case onnxpb.TensorProto_UINT64:
		return fromLE[uint64](raw, little, take)
	case onnxpb.TensorProto_BOOL:
		// The spec writes true as 1; like other runtimes we read any non-zero byte as true.
		out := make([]bool, len(raw))
		for i, v := range raw {
			out[i] = v != 0
		}
		return out
	}
	panic(errNoArrayForm)
}

// integer is every integer type a typed field narrows into.
type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// narrow converts a typed field's entries to T, rejecting entries that T cannot represent exactly.
func narrow[T, S integer](where string, dt onnxpb.TensorProto_DataType, f field, src []S) ([]T, error) {
	out := make([]T, len(src))
	for i, v := range src {
		out[i] = T(v)
		if S(out[i]) != v {
			return nil, formatErr(where, fmt.Sprintf("%s[%d]=%d is out of range for %s", f, i, v, dtypeName(dt)))
		}
	}
	return out, nil
}

// pairs joins interleaved (real, imaginary) entries into complex numbers.
func pairs[C complex64 | complex128, F float32 | float64](src []F) []C {
	out := make([]C, len(src)/2)
	for i := range out {
		out[i] = C(complex(float64(src[2*i]), float64(src[2*i+1])))
	}
	return out
}

// decodeTyped converts the typed field that carries dt's n elements, already checked to have the right
// length. The packed types hold two or four elements in the low byte of each int32_data entry.
func decodeTyped(where string, dt onnxpb.TensorProto_DataType, t *onnxpb.TensorProto, n int64) (any, error) {
	i32 := t.GetInt32Data()
	if bits := packedBits(dt); bits != 0 {
		packed, err := narrow[uint8](where, dt, int32Data, i32)
		if err != nil {
			return nil, err
		}
		return unpack(packed, bits, n), nil
	}
	switch dt {
	case onnxpb.TensorProto_FLOAT:
		return cloneNonNil(t.GetFloatData()), nil
	case onnxpb.TensorProto_DOUBLE:
		return cloneNonNil(t.GetDoubleData()), nil
	case onnxpb.TensorProto_COMPLEX64:
		return pairs[complex64](t.GetFloatData()), nil
	case onnxpb.TensorProto_COMPLEX128:
		return pairs[complex128](t.GetDoubleData()), nil
	case onnxpb.TensorProto_INT64:
		return cloneNonNil(t.GetInt64Data()), nil
	case onnxpb.TensorProto_UINT64:
		return cloneNonNil(t.GetUint64Data()), nil
	case onnxpb.TensorProto_UINT32:
		return narrow[uint32](where, dt, uint64Data, t.GetUint64Data())
	case onnxpb.TensorProto_INT32:
		return cloneNonNil(i32), nil
	case onnxpb.TensorProto_INT8:
		return narrow[int8](where, dt, int32Data, i32)
	case onnxpb.TensorProto_INT16:
		return narrow[int16](where, dt, int32Data, i32)
	case onnxpb.TensorProto_UINT8, onnxpb.TensorProto_FLOAT8E4M3FN, onnxpb.TensorProto_FLOAT8E4M3FNUZ,
		onnxpb.TensorProto_FLOAT8E5M2, onnxpb.TensorProto_FLOAT8E5M2FNUZ, onnxpb.TensorProto_FLOAT8E8M0:
		return narrow[uint8](where, dt, int32Data, i32)
	case onnxpb.TensorProto_UINT16, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		return narrow[uint16](where, dt, int32Data, i32)
	case onnxpb.TensorProto_BOOL:
		out := make([]bool, len(i32))
		for i, v := range i32 {
			out[i] = v != 0
		}
		return out, nil
	case onnxpb.TensorProto_STRING:
		out := make([]string, len(t.GetStringData()))
		for i, s := range t.GetStringData() {
			out[i] = string(s)
		}
		return out, nil
	}
	panic(errNoArrayForm)
}

func cloneNonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return slices.Clone(s)
}

// NewTensorProto encodes a as a TensorProto named name, the way the exporter writes initializers:
// numeric and boolean elements go to raw_data (little-endian, one byte per bool), strings to
// string_data. It checks that a.Data is the slice type a.DataType calls for and holds product(a.Dims)
// elements.
func NewTensorProto(name string, a *Array) (*onnxpb.TensorProto, error) {
	where := fmt.Sprintf("tensor %q", name)
	if a == nil {
		return nil, formatErr(where, "nil Array")
	}
	info, known := dtypes[a.DataType]
	if !known || info.goSize == 0 {
		return nil, unsupportedErr(where, fmt.Sprintf("element type %s has no Array form", dtypeName(a.DataType)))
	}
	n, err := numElements(where, a.Dims)
	if err != nil {
		return nil, err
	}
	if !arrayTypeMatches(a.DataType, a.Data) {
		return nil, formatErr(where, fmt.Sprintf("data_type %s needs %s, Data is %T", dtypeName(a.DataType), goTypeName(a.DataType), a.Data))
	}
	if have := int64(a.Len()); have != n {
		return nil, formatErr(where, fmt.Sprintf("dims %v need %d elements, Data has %d", a.Dims, n, have))
	}
	t := &onnxpb.TensorProto{
		Name:     proto.String(name),
		DataType: proto.Int32(int32(a.DataType)),
		Dims:     slices.Clone(a.Dims),
	}
	switch d := a.Data.(type) {
	case []string:
		t.StringData = make([][]byte, len(d))
		for i, s := range d {
			t.StringData[i] = []byte(s)
		}
	case []bool:
		t.RawData = make([]byte, len(d))
		for i, v := range d {
			if v {
				t.RawData[i] = 1
			}
		}
	case []uint8:
		if bits := packedBits(a.DataType); bits != 0 {
			t.RawData = pack(d, bits)
		} else {
			t.RawData = encodeRaw(a.Data, littleEndian)
		}
	default:
		t.RawData = encodeRaw(a.Data, littleEndian)
	}
	return t, nil
}

// encodeRaw is decodeRaw's inverse for the fixed-width slice types.
func encodeRaw(data any, little bool) []byte {
	switch d := data.(type) {
	case []float32:
		return toLE(d, little)
	case []float64:
		return toLE(d, little)
	case []complex64:
		return toLE(d, little)
	case []complex128:
		return toLE(d, little)
	case []int8:
		return toLE(d, little)
	case []int16:
		return toLE(d, little)
	case []int32:
		return toLE(d, little)
	case []int64:
		return toLE(d, little)
	case []uint8:
		return toLE(d, little)
	case []uint16:
		return toLE(d, little)
	case []uint32:
		return toLE(d, little)
	case []uint64:
		return toLE(d, little)
	}
	panic(errNoArrayForm)
}

// arrayTypeMatches reports whether data is the slice type Array uses for dt.
func arrayTypeMatches(dt onnxpb.TensorProto_DataType, data any) bool {
	switch data.(type) {
	case []float32:
		return dt == onnxpb.TensorProto_FLOAT
	case []float64:
		return dt == onnxpb.TensorProto_DOUBLE
	case []complex64:
		return dt == onnxpb.TensorProto_COMPLEX64
	case []complex128:
		return dt == onnxpb.TensorProto_COMPLEX128
	case []int8:
		return dt == onnxpb.TensorProto_INT8
	case []int16:
		return dt == onnxpb.TensorProto_INT16
	case []int32:
		return dt == onnxpb.TensorProto_INT32
	case []int64:
		return dt == onnxpb.TensorProto_INT64
	case []uint8:
		switch dt {
		case onnxpb.TensorProto_UINT8, onnxpb.TensorProto_FLOAT8E4M3FN, onnxpb.TensorProto_FLOAT8E4M3FNUZ,
			onnxpb.TensorProto_FLOAT8E5M2, onnxpb.TensorProto_FLOAT8E5M2FNUZ, onnxpb.TensorProto_FLOAT8E8M0,
			onnxpb.TensorProto_UINT4, onnxpb.TensorProto_INT4, onnxpb.TensorProto_FLOAT4E2M1,
			onnxpb.TensorProto_UINT2, onnxpb.TensorProto_INT2:
			return true
		}
		return false
	case []uint16:
		return dt == onnxpb.TensorProto_UINT16 || dt == onnxpb.TensorProto_FLOAT16 || dt == onnxpb.TensorProto_BFLOAT16
	case []uint32:
		return dt == onnxpb.TensorProto_UINT32
	case []uint64:
		return dt == onnxpb.TensorProto_UINT64
	case []bool:
		return dt == onnxpb.TensorProto_BOOL
	case []string:
		return dt == onnxpb.TensorProto_STRING
	}
	return false
}

// goTypeName names the slice type Array uses for dt, for error messages.
func goTypeName(dt onnxpb.TensorProto_DataType) string {
	switch dt {
	case onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		return "[]uint16 (bit patterns)"
	case onnxpb.TensorProto_STRING:
		return "[]string"
	}
	if packedBits(dt) != 0 {
		return "[]uint8 (one element per byte)"
	}
	return fmt.Sprintf("%T", decodeRaw(dt, nil, true, false))
}

// ReadTensorFile reads a file holding one serialized TensorProto, such as the input_K.pb and output_K.pb
// files of the ONNX backend tests, and converts it. External data, if any, resolves against the file's
// folder. It returns the decoded message too, for its name.
func ReadTensorFile(path string) (*onnxpb.TensorProto, *Array, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	t := &onnxpb.TensorProto{}
	if err := (proto.UnmarshalOptions{RecursionLimit: defaultMaxDepth}).Unmarshal(b, t); err != nil {
		return nil, nil, &FormatError{Where: path, What: "not a TensorProto", Err: err}
	}
	a, err := ReadTensor(t, filepath.Dir(path), Limits{})
	if err != nil {
		return nil, nil, err
	}
	return t, a, nil
}
