package tensorio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/onnxrun/onnxrun/internal/atomicfile"
	"github.com/onnxrun/onnxrun/ops"
)

const npyMagic = "\x93NUMPY"

// DefaultMaxBytes is the largest tensor data a reader accepts when Limits.MaxBytes is zero: 4 GiB, the
// runtime's default per-tensor cap.
const DefaultMaxBytes int64 = 4 << 30

// maxHeaderLen bounds the .npy header. numpy's own reader refuses headers over 10000 bytes unless told
// otherwise; a header is a short dict, so 1 MiB leaves room for any real file while keeping a hostile
// length field from costing memory.
const maxHeaderLen = 1 << 20

// Limits bounds what reading one tensor may allocate. All checks run before the data is allocated.
type Limits struct {
	// MaxBytes caps the size of the tensor's data. Zero means DefaultMaxBytes; negative means no limit.
	MaxBytes int64
}

func (l Limits) maxBytes() int64 {
	switch {
	case l.MaxBytes == 0:
		return DefaultMaxBytes
	case l.MaxBytes < 0:
		return math.MaxInt64
	}
	return l.MaxBytes
}

// ReadNPY reads one array in .npy format from r under the default Limits. See Limits.ReadNPY.
func ReadNPY(r io.Reader) (*ops.Tensor, error) { return Limits{}.ReadNPY(r) }

// ReadNPYFile reads a .npy file under the default Limits. See Limits.ReadNPYFile.
func ReadNPYFile(path string) (*ops.Tensor, error) { return Limits{}.ReadNPYFile(path) }

// ReadNPY reads one array in .npy format (versions 1.0, 2.0 and 3.0) from r and converts it to a
// row-major, native tensor: big-endian data is byte-swapped and Fortran-ordered data is transposed into C
// order. It reads exactly the array's bytes and no further, so several arrays written one after another
// to one stream can be read in turn, as numpy's load does with an open file.
//
// The header is checked before the data is allocated: the shape must be a tuple of non-negative
// integers whose size, times the item size, does not overflow and fits l. When r reports how many bytes
// it holds (a Len method, as bytes.Reader has), a declared size larger than that is refused up front;
// otherwise the buffer grows with the bytes actually read, so a short stream cannot force a large
// allocation.
func (l Limits) ReadNPY(r io.Reader) (*ops.Tensor, error) {
	return l.readNPY(r, "", -1)
}

// ReadNPYFile reads a .npy file. Beyond ReadNPY's checks, the file must hold exactly the bytes its header
// declares: nothing missing and nothing after the data.
func (l Limits) ReadNPYFile(path string) (*ops.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return l.readNPY(f, path, size)
}

// npyHeader is a parsed and validated .npy header.
type npyHeader struct {
	major, minor byte
	headerBytes  int64 // magic, version, length field and header text: where the data starts
	descr        string
	dtype        ops.DType
	stringKind   byte // 'U' or 'S' (or 'a') for a string array, else 0
	itemSize     int  // may be 0 for a string array of width 0
	bigEndian    bool
	fortran      bool
	shape        ops.Shape
	count        int   // elements
	dataBytes    int64 // count * itemSize
}

// shapeString renders the header's shape as numpy writes it, for messages.
func (h *npyHeader) shapeString() string { return pyShape(h.shape) }

// readNPY reads the header and data. fileSize is the whole file's size when known (a regular file), in
// which case the data must fill the rest of it exactly; -1 otherwise.
func (l Limits) readNPY(r io.Reader, file string, fileSize int64) (*ops.Tensor, error) {
	h, err := l.readNPYHeader(r, file)
	if err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) error {
		return &FormatError{File: file, Format: "npy", What: fmt.Sprintf(format, args...)}
	}
	need := fmt.Sprintf("shape %s of %s (%s) needs %d data bytes", h.shapeString(), h.dtype, quoteDescr(h.descr), h.dataBytes)
	known := false
	switch {
	case fileSize >= 0:
		have := fileSize - h.headerBytes
		if have < h.dataBytes {
			return nil, fail("%s, the file has %d after its %d-byte header", need, have, h.headerBytes)
		}
		if have > h.dataBytes {
			return nil, fail("%s, the file has %d more after them", need, have-h.dataBytes)
		}
		known = true
	default:
		if lr, ok := r.(interface{ Len() int }); ok {
			if have := int64(lr.Len()); have < h.dataBytes {
				return nil, fail("%s, only %d remain", need, have)
			}
			known = true
		}
	}
	var raw []byte
	if known {
		raw = make([]byte, h.dataBytes)
		if n, err := io.ReadFull(r, raw); err != nil {
			return nil, dataReadError(file, need, int64(n), err)
		}
	} else {
		raw, err = io.ReadAll(io.LimitReader(r, h.dataBytes))
		if err != nil {
			return nil, dataReadError(file, need, int64(len(raw)), err)
		}
		if int64(len(raw)) < h.dataBytes {
			return nil, dataReadError(file, need, int64(len(raw)), io.ErrUnexpectedEOF)
		}
	}
	var data any
	if h.dtype == ops.String {
		if data, err = decodeNPYStrings(raw, h); err != nil {
			return nil, fail("%v", err)
		}
	} else {
		data = decodeNPYData(raw, h)
	}
	if h.fortran && len(h.shape) > 1 {
		data = fortranToC(data, h.shape)
	}
	t, err := ops.FromData(h.dtype, h.shape, data)
	if err != nil { // cannot happen: the header checks sized data for this dtype and shape
		return nil, fail("%v", err)
	}
	return t, nil
}

func dataReadError(file, need string, got int64, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &FormatError{File: file, Format: "npy", What: fmt.Sprintf("truncated: %s, the data ends after %d", need, got)}
	}
	return &FormatError{File: file, Format: "npy", What: "reading the data", Err: err}
}

// readNPYHeader reads and validates everything before the data.
func (l Limits) readNPYHeader(r io.Reader, file string) (*npyHeader, error) {
	fail := func(format string, args ...any) error {
		return &FormatError{File: file, Format: "npy", What: fmt.Sprintf(format, args...)}
	}
	var prefix [8]byte
	if n, err := io.ReadFull(r, prefix[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fail("%d bytes, too short to hold the .npy magic and version", n)
		}
		return nil, &FormatError{File: file, Format: "npy", What: "reading the magic", Err: err}
	}
	if string(prefix[:6]) != npyMagic {
		return nil, fail("does not start with the .npy magic %q (found %q)", npyMagic, prefix[:6])
	}
	h := &npyHeader{major: prefix[6], minor: prefix[7]}
	var lenField int
	switch {
	case h.major == 1 && h.minor == 0:
		lenField = 2
	case (h.major == 2 || h.major == 3) && h.minor == 0:
		lenField = 4
	default:
		return nil, &UnsupportedError{File: file, What: fmt.Sprintf(".npy format version %d.%d (onnxrun reads 1.0, 2.0 and 3.0)", h.major, h.minor)}
	}
	var lenBytes [4]byte
	if _, err := io.ReadFull(r, lenBytes[:lenField]); err != nil {
		return nil, fail("file ends inside the header length field")
	}
	headerLen := int64(binary.LittleEndian.Uint16(lenBytes[:2]))
	if lenField == 4 {
		headerLen = int64(binary.LittleEndian.Uint32(lenBytes[:]))
	}
	if headerLen > maxHeaderLen {
		return nil, fail("header length %d is over the limit of %d bytes", headerLen, maxHeaderLen)
	}
	text := make([]byte, headerLen)
	if n, err := io.ReadFull(r, text); err != nil {
		return nil, fail("file ends after %d of the %d header bytes", n, headerLen)
	}
	h.headerBytes = int64(len(prefix)+lenField) + headerLen
	// Versions 1 and 2 are latin-1, 3 is UTF-8. The only non-ASCII text a header can hold is a field name
	// of a structured dtype, which is refused anyway, so latin-1 bytes can go to the parser as they are.
	if h.major == 3 && !utf8.Valid(text) {
		return nil, fail("version 3.0 header is not valid UTF-8")
	}
	if err := h.parse(string(text)); err != nil {
		var unsupported *UnsupportedError
		if errors.As(err, &unsupported) {
			unsupported.File = file
			return nil, unsupported
		}
		return nil, fail("header %s: %v", excerpt(string(text)), err)
	}
	if err := h.size(l.maxBytes()); err != nil {
		var unsupported *UnsupportedError
		if errors.As(err, &unsupported) {
			unsupported.File = file
			return nil, unsupported
		}
		return nil, fail("%v", err)
	}
	return h, nil
}

// excerpt quotes a header for an error message, cut short if long.
func excerpt(s string) string {
	s = strings.TrimRight(s, " \n")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return strconv.Quote(s)
}

// parse interprets the header dict. Like numpy's reader it wants exactly the keys descr, fortran_order
// and shape.
func (h *npyHeader) parse(text string) error {
	v, err := parsePyLiteral(text)
	if err != nil {
		return err
	}
	d, ok := v.(pyDict)
	if !ok {
		return fmt.Errorf("is a %s, not a dict", pyTypeName(v))
	}
	var extra []string
	for k := range d {
		if k != "descr" && k != "fortran_order" && k != "shape" {
			extra = append(extra, strconv.Quote(k))
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("unexpected keys %s (a .npy header has exactly 'descr', 'fortran_order' and 'shape')", strings.Join(extra, ", "))
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if _, ok := d[k]; !ok {
			return fmt.Errorf("no %q key", k)
		}
	}
	switch descr := d["descr"].(type) {
	case string:
		h.descr = descr
		if err := h.parseDescr(); err != nil {
			return err
		}
	case pyList:
		return &UnsupportedError{What: "structured dtype (descr is a list of fields): onnxrun reads plain numeric and bool arrays"}
	default:
		return fmt.Errorf("descr is a %s, not a string", pyTypeName(d["descr"]))
	}
	fortran, ok := d["fortran_order"].(bool)
	if !ok {
		return fmt.Errorf("fortran_order is a %s, not True or False", pyTypeName(d["fortran_order"]))
	}
	h.fortran = fortran
	dims, ok := d["shape"].(pyTuple)
	if !ok {
		return fmt.Errorf("shape is a %s, not a tuple", pyTypeName(d["shape"]))
	}
	h.shape = make(ops.Shape, len(dims))
	for i, dv := range dims {
		n, ok := dv.(int64)
		if !ok {
			return fmt.Errorf("shape dimension %d is a %s, not an integer", i, pyTypeName(dv))
		}
		if n < 0 {
			return fmt.Errorf("shape dimension %d is negative (%d)", i, n)
		}
		if n > math.MaxInt {
			return fmt.Errorf("shape dimension %d (%d) does not fit in an int", i, n)
		}
		h.shape[i] = int(n)
	}
	return nil
}

// size computes the element count and byte size, refusing overflow and sizes over maxBytes.
func (h *npyHeader) size(maxBytes int64) error {
	count := int64(1)
	for _, d := range h.shape {
		if d != 0 && count > math.MaxInt64/int64(d) {
			return fmt.Errorf("shape %s has more elements than fit in 64 bits", h.shapeString())
		}
		count *= int64(d)
	}
	if h.itemSize > 0 && count > math.MaxInt64/int64(h.itemSize) {
		return fmt.Errorf("shape %s of %s has more bytes than fit in 64 bits", h.shapeString(), h.dtype)
	}
	h.dataBytes = count * int64(h.itemSize)
	if h.dtype == ops.String && count > maxBytes/int64(ops.String.Size()) {
		// Each element becomes a Go string header, even one of width 0 that takes no file bytes.
		return &UnsupportedError{What: fmt.Sprintf("shape %s of strings has %d elements, over the limit of %d bytes of string headers", h.shapeString(), count, maxBytes)}
	}
	if h.dataBytes > maxBytes {
		return &UnsupportedError{What: fmt.Sprintf("shape %s of %s needs %d bytes, over the limit of %d", h.shapeString(), h.dtype, h.dataBytes, maxBytes)}
	}
	h.count = int(count)
	return nil
}

// npyKinds maps a typestr kind and item size to a dtype (numpy's array-interface type strings: "<f4").
var npyKinds = map[byte]map[int]ops.DType{
	'f': {2: ops.Float16, 4: ops.Float32, 8: ops.Float64},
	'i': {1: ops.Int8, 2: ops.Int16, 4: ops.Int32, 8: ops.Int64},
	'u': {1: ops.Uint8, 2: ops.Uint16, 4: ops.Uint32, 8: ops.Uint64},
	'b': {1: ops.Bool},
}

// npyUnsupportedKinds names the kinds that are valid numpy but have no onnxrun tensor form.
var npyUnsupportedKinds = map[byte]string{
	'c': "complex", 'O': "Python objects",
	'V': "raw bytes or a structured type", 'M': "datetime64", 'm': "timedelta64",
}

const npySupportedList = "bool, int8/16/32/64, uint8/16/32/64, float16, float32, float64 and strings ('<U', '|S')"

// npyStringKinds are numpy's fixed-width string kinds: 'U' holds UTF-32 code points (4 bytes each) and
// 'S' (or its old name 'a') bytes, each element padded with NULs to the width the descr gives.
var npyStringKinds = map[byte]int{'U': 4, 'S': 1, 'a': 1}

// parseDescr decodes a typestr such as "<f4", ">i8" or "|b1". A byte-order mark of "|" or "=" (or none)
// on a multi-byte type means native order; numpy writes "<" or ">" for those, so such files come from
// other writers, which today are little-endian machines.
func (h *npyHeader) parseDescr() error {
	s := h.descr
	order := byte('=')
	if s != "" && strings.IndexByte("<>|=", s[0]) >= 0 {
		order, s = s[0], s[1:]
	}
	if s == "?" {
		s = "b1"
	}
	if s == "" {
		return fmt.Errorf("descr %s has no type", quoteDescr(h.descr))
	}
	kind, sizeText := s[0], s[1:]
	if unit, ok := npyStringKinds[kind]; ok {
		width, err := strconv.Atoi(sizeText)
		if err != nil || width < 0 || width > math.MaxInt32/unit {
			return fmt.Errorf("descr %s: the string width %q is not a size", quoteDescr(h.descr), sizeText)
		}
		h.dtype, h.stringKind, h.itemSize = ops.String, kind, width*unit
		h.bigEndian = order == '>'
		return nil
	}
	if what, ok := npyUnsupportedKinds[kind]; ok {
		return &UnsupportedError{What: fmt.Sprintf("descr %s (%s): onnxrun reads %s", quoteDescr(h.descr), what, npySupportedList)}
	}
	sizes, ok := npyKinds[kind]
	size, err := strconv.Atoi(sizeText)
	if !ok || err != nil {
		return &UnsupportedError{What: fmt.Sprintf("descr %s is not a type onnxrun knows: it reads %s", quoteDescr(h.descr), npySupportedList)}
	}
	dt, ok := sizes[size]
	if !ok {
		return &UnsupportedError{What: fmt.Sprintf("descr %s (%d-byte %s): onnxrun reads %s", quoteDescr(h.descr), size, map[byte]string{'f': "float", 'i': "int", 'u': "uint", 'b': "bool"}[kind], npySupportedList)}
	}
	h.dtype, h.itemSize = dt, size
	h.bigEndian = order == '>' && size > 1
	return nil
}

func quoteDescr(d string) string { return "'" + d + "'" }

func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case string:
		return "str"
	case pyTuple:
		return "tuple"
	case pyList:
		return "list"
	case pyDict:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// pyShape renders a shape as Python writes a tuple: (), (5,), (1, 28, 28).
func pyShape(s ops.Shape) string {
	switch len(s) {
	case 0:
		return "()"
	case 1:
		return "(" + strconv.Itoa(s[0]) + ",)"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// decodeNPYData converts raw file bytes (already checked to be h.dataBytes long) to the dtype's slice.
func decodeNPYData(b []byte, h *npyHeader) any {
	var ord binary.ByteOrder = binary.LittleEndian
	if h.bigEndian {
		ord = binary.BigEndian
	}
	switch h.dtype {
	case ops.Bool:
		return decodeWords(b, 1, func(p []byte) bool { return p[0] != 0 })
	case ops.Int8:
		return decodeWords(b, 1, func(p []byte) int8 { return int8(p[0]) })
	case ops.Uint8:
		return decodeWords(b, 1, func(p []byte) uint8 { return p[0] })
	case ops.Int16:
		return decodeWords(b, 2, func(p []byte) int16 { return int16(ord.Uint16(p)) })
	case ops.Uint16:
		return decodeWords(b, 2, ord.Uint16)
	case ops.Float16:
		return decodeWords(b, 2, func(p []byte) ops.Float16Bits { return ops.Float16Bits(ord.Uint16(p)) })
	case ops.Int32:
		return decodeWords(b, 4, func(p []byte) int32 { return int32(ord.Uint32(p)) })
	case ops.Uint32:
		return decodeWords(b, 4, ord.Uint32)
	case ops.Float32:
		return decodeWords(b, 4, func(p []byte) float32 { return math.Float32frombits(ord.Uint32(p)) })
	case ops.Int64:
		return decodeWords(b, 8, func(p []byte) int64 { return int64(ord.Uint64(p)) })
	case ops.Uint64:
		return decodeWords(b, 8, ord.Uint64)
	case ops.Float64:
		return decodeWords(b, 8, func(p []byte) float64 { return math.Float64frombits(ord.Uint64(p)) })
	}
	panic(errUnhandledDType)
}

// decodeNPYStrings converts fixed-width string elements to Go strings: 'U' elements from UTF-32 to UTF-8,
// 'S' elements byte for byte. Trailing NULs are padding and are dropped, as numpy drops them.
func decodeNPYStrings(b []byte, h *npyHeader) ([]string, error) {
	out := make([]string, h.count)
	if h.itemSize == 0 {
		return out, nil
	}
	var ord binary.ByteOrder = binary.LittleEndian
	if h.bigEndian {
		ord = binary.BigEndian
	}
	var buf []byte
	for i := range out {
		item := b[i*h.itemSize : (i+1)*h.itemSize]
		if h.stringKind != 'U' {
			out[i] = string(bytes.TrimRight(item, "\x00"))
			continue
		}
		buf = buf[:0]
		end := len(item)
		for end >= 4 && ord.Uint32(item[end-4:end]) == 0 {
			end -= 4
		}
		for j := 0; j < end; j += 4 {
			r := ord.Uint32(item[j:])
			if r > unicode.MaxRune || (r >= 0xD800 && r <= 0xDFFF) {
				return nil, fmt.Errorf("element %d holds %#x, not a Unicode code point", i, r)
			}
			buf = utf8.AppendRune(buf, rune(r))
		}
		out[i] = string(buf)
	}
	return out, nil
}

func decodeWords[T any](b []byte, size int, get func([]byte) T) []T {
	out := make([]T, len(b)/size)
	for i := range out {
		out[i] = get(b[i*size : i*size+size])
	}
	return out
}

// fortranToC reorders column-major data of the given shape into row-major order.
func fortranToC(data any, shape ops.Shape) any {
	switch d := data.(type) {
	case []bool:
		return transposeFortran(d, shape)
	case []int8:
		return transposeFortran(d, shape)
	case []uint8:
		return transposeFortran(d, shape)
	case []int16:
		return transposeFortran(d, shape)
	case []uint16:
		return transposeFortran(d, shape)
	case []ops.Float16Bits:
		return transposeFortran(d, shape)
	case []int32:
		return transposeFortran(d, shape)
	case []uint32:
		return transposeFortran(d, shape)
	case []float32:
		return transposeFortran(d, shape)
	case []int64:
		return transposeFortran(d, shape)
	case []uint64:
		return transposeFortran(d, shape)
	case []float64:
		return transposeFortran(d, shape)
	case []string:
		return transposeFortran(d, shape)
	}
	panic(errUnhandledDType)
}

// transposeFortran walks the output in row-major order with an odometer over the indices, keeping the
// matching column-major offset up to date: element (i0, ..., ik) sits at sum(ij * prod(shape[:j])) in src.
func transposeFortran[T any](src []T, shape ops.Shape) []T {
	dst := make([]T, len(src))
	if len(src) == 0 {
		return dst
	}
	rank := len(shape)
	fStride := make([]int, rank)
	acc := 1
	for j, d := range shape {
		fStride[j] = acc
		acc *= d
	}
	idx := make([]int, rank)
	off := 0
	for i := range dst {
		dst[i] = src[off]
		for j := rank - 1; j >= 0; j-- {
			idx[j]++
			off += fStride[j]
			if idx[j] < shape[j] {
				break
			}
			off -= idx[j] * fStride[j]
			idx[j] = 0
		}
	}
	return dst
}

// npyDescr gives the typestr WriteNPY uses for each dtype it can write.
var npyDescr = map[ops.DType]string{
	ops.Bool: "|b1", ops.Int8: "|i1", ops.Uint8: "|u1",
	ops.Int16: "<i2", ops.Uint16: "<u2", ops.Float16: "<f2",
	ops.Int32: "<i4", ops.Uint32: "<u4", ops.Float32: "<f4",
	ops.Int64: "<i8", ops.Uint64: "<u8", ops.Float64: "<f8",
}

// WriteNPY writes t to w in .npy format: version 1.0 (2.0 if the header would not fit, which takes a
// shape of thousands of dimensions), little-endian, C order, the header padded so the data starts at a
// multiple of 64 bytes, as numpy does.
func WriteNPY(w io.Writer, t *ops.Tensor) error {
	return writeNPY(w, t, "")
}

// WriteNPYFile writes t to a .npy file atomically (a failure leaves an existing file as it was).
func WriteNPYFile(path string, t *ops.Tensor) error {
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error { return writeNPY(w, t, path) })
}

// CheckNPYDType reports whether WriteNPY and WriteNPZ can write tensors of dtype dt, so that a caller can
// refuse a destination before computing what goes there. The error is an *UnsupportedError naming dt.
func CheckNPYDType(dt ops.DType) error {
	if _, ok := npyDescr[dt]; ok || dt == ops.String {
		return nil
	}
	return &UnsupportedError{What: fmt.Sprintf("dtype %s has no .npy form onnxrun writes (it writes %s)", dt, npySupportedList)}
}

func writeNPY(w io.Writer, t *ops.Tensor, file string) error {
	if err := CheckNPYDType(t.DType()); err != nil {
		err.(*UnsupportedError).File = file
		return err
	}
	descr := npyDescr[t.DType()]
	var strs npyStrings
	if t.DType() == ops.String {
		strs = newNPYStrings(t.Data().([]string))
		descr = strs.descr()
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, pyShape(t.Shape()))
	// Pad with spaces and end in a newline so that magic + version + length + header is a multiple of 64.
	prefixLen, major := 10, byte(1)
	if len(header)+1+prefixLen+63 > math.MaxUint16 {
		prefixLen, major = 12, 2
	}
	total := (prefixLen + len(header) + 1 + 63) / 64 * 64
	headerLen := total - prefixLen
	buf := make([]byte, 0, total)
	buf = append(buf, npyMagic...)
	buf = append(buf, major, 0)
	if major == 1 {
		buf = binary.LittleEndian.AppendUint16(buf, uint16(headerLen))
	} else {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(headerLen))
	}
	buf = append(buf, header...)
	for len(buf) < total-1 {
		buf = append(buf, ' ')
	}
	buf = append(buf, '\n')
	if _, err := w.Write(buf); err != nil {
		return err
	}
	if t.DType() == ops.String {
		return strs.write(w)
	}
	return writeNPYData(w, t.Data())
}

// npyStrings is a string tensor's data as numpy holds it: fixed-width elements, as wide as the longest
// string. Valid UTF-8 (the usual case) becomes a unicode array, '<U' with the width in code points, which
// numpy reads as str; if any element is not valid UTF-8 the whole array is written as bytes, '|S' with the
// width in bytes, so that no byte is lost to a replacement character. Either way numpy drops the trailing
// NULs of each element on reading, so a string that ends in NUL does not round-trip.
type npyStrings struct {
	data    []string
	unicode bool
	width   int // code points for unicode, else bytes
}

func newNPYStrings(data []string) npyStrings {
	s := npyStrings{data: data, unicode: true}
	for _, v := range data {
		if !utf8.ValidString(v) {
			s.unicode = false
			break
		}
	}
	for _, v := range data {
		n := len(v)
		if s.unicode {
			n = utf8.RuneCountInString(v)
		}
		s.width = max(s.width, n)
	}
	// numpy never makes a string dtype of width 0 (np.array(['']) is '<U1'), so neither does this.
	s.width = max(s.width, 1)
	return s
}

func (s npyStrings) descr() string {
	if s.unicode {
		return "<U" + strconv.Itoa(s.width)
	}
	return "|S" + strconv.Itoa(s.width)
}

func (s npyStrings) write(w io.Writer) error {
	if !s.unicode {
		return writeWords(w, s.data, s.width, func(p []byte, v string) { clear(p[copy(p, v):s.width]) })
	}
	return writeWords(w, s.data, 4*s.width, func(p []byte, v string) {
		p = p[:4*s.width]
		i := 0
		for _, r := range v {
			binary.LittleEndian.PutUint32(p[i:], uint32(r))
			i += 4
		}
		clear(p[i:])
	})
}

func writeNPYData(w io.Writer, data any) error {
	le := binary.LittleEndian
	switch d := data.(type) {
	case []bool:
		return writeWords(w, d, 1, func(p []byte, v bool) {
			p[0] = 0
			if v {
				p[0] = 1
			}
		})
	case []int8:
		return writeWords(w, d, 1, func(p []byte, v int8) { p[0] = byte(v) })
	case []uint8:
		_, err := w.Write(d)
		return err
	case []int16:
		return writeWords(w, d, 2, func(p []byte, v int16) { le.PutUint16(p, uint16(v)) })
	case []uint16:
		return writeWords(w, d, 2, le.PutUint16)
	case []ops.Float16Bits:
		return writeWords(w, d, 2, func(p []byte, v ops.Float16Bits) { le.PutUint16(p, uint16(v)) })
	case []int32:
		return writeWords(w, d, 4, func(p []byte, v int32) { le.PutUint32(p, uint32(v)) })
	case []uint32:
		return writeWords(w, d, 4, le.PutUint32)
	case []float32:
		return writeWords(w, d, 4, func(p []byte, v float32) { le.PutUint32(p, math.Float32bits(v)) })
	case []int64:
		return writeWords(w, d, 8, func(p []byte, v int64) { le.PutUint64(p, uint64(v)) })
	case []uint64:
		return writeWords(w, d, 8, le.PutUint64)
	case []float64:
		return writeWords(w, d, 8, func(p []byte, v float64) { le.PutUint64(p, math.Float64bits(v)) })
	}
	panic(errUnhandledDType)
}

// writeWords encodes through a fixed-size buffer so that writing a tensor costs no second copy of it.
func writeWords[T any](w io.Writer, data []T, size int, put func([]byte, T)) error {
	const chunk = 64 << 10
	perChunk := max(1, chunk/size) // a wide string element may be over a chunk by itself
	buf := make([]byte, min(perChunk, len(data))*size)
	for len(data) > 0 {
		n := min(len(data), perChunk)
		for i, v := range data[:n] {
			put(buf[i*size:], v)
		}
		if _, err := w.Write(buf[:n*size]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// Internal invariants: panics with these mean a bug in this package, never bad input.
const errUnhandledDType = "tensorio: dtype passed the header checks but has no decoder"
