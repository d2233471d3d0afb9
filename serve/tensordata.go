package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
)

// This file converts the "data" of a protocol tensor to and from an ops.Tensor's slice. The data of a
// request is parsed by hand rather than through encoding/json's []any: that would make one interface value
// per element and then a second copy, for what is, for an image model, thousands of numbers per request.

// dataError is something wrong with a tensor's data: its shape, nesting or an element.
type dataError struct{ msg string }

func (e *dataError) Error() string { return e.msg }

func dataErrorf(format string, args ...any) error {
	return &dataError{msg: fmt.Sprintf(format, args...)}
}

// decodeData parses raw, a JSON array flat or nested as shape, into a new slice of shape.Size() elements of
// dt. The caller has checked shape (non-negative, no overflow) and that shape.Size() <= len(raw), so the
// slice allocated here is bounded by the request's size.
func decodeData(raw []byte, dt ops.DType, shape ops.Shape) (any, error) {
	n := shape.Size()
	switch dt {
	case ops.Float32:
		return decodeAs(raw, shape, make([]float32, n), parseFloat32)
	case ops.Float64:
		return decodeAs(raw, shape, make([]float64, n), parseFloat64)
	case ops.Float16:
		return decodeAs(raw, shape, make([]ops.Float16Bits, n), func(t token) (ops.Float16Bits, error) {
			f, err := parseFloat32(t)
			return ops.Float16FromFloat32(f), err
		})
	case ops.BFloat16:
		return decodeAs(raw, shape, make([]ops.BFloat16Bits, n), func(t token) (ops.BFloat16Bits, error) {
			f, err := parseFloat32(t)
			return ops.BFloat16FromFloat32(f), err
		})
	case ops.Int8:
		return decodeAs(raw, shape, make([]int8, n), parseSigned[int8])
	case ops.Int16:
		return decodeAs(raw, shape, make([]int16, n), parseSigned[int16])
	case ops.Int32:
		return decodeAs(raw, shape, make([]int32, n), parseSigned[int32])
	case ops.Int64:
		return decodeAs(raw, shape, make([]int64, n), parseSigned[int64])
	case ops.Uint8:
		return decodeAs(raw, shape, make([]uint8, n), parseUnsigned[uint8])
	case ops.Uint16:
		return decodeAs(raw, shape, make([]uint16, n), parseUnsigned[uint16])
	case ops.Uint32:
		return decodeAs(raw, shape, make([]uint32, n), parseUnsigned[uint32])
	case ops.Uint64:
		return decodeAs(raw, shape, make([]uint64, n), parseUnsigned[uint64])
	case ops.Bool:
		return decodeAs(raw, shape, make([]bool, n), parseBool)
	case ops.String:
		return decodeAs(raw, shape, make([]string, n), parseString)
	}
	return nil, dataErrorf("datatype %s cannot be sent as JSON", dt)
}

// token is one scalar of the data: its bytes (a string keeps its quotes) and its kind.
type token struct {
	b    []byte
	kind byte // 'n' number, 's' string, 't' true, 'f' false, 'z' null
}

func (t token) String() string { return string(t.b) }

// walker parses the array structure and stores each scalar through parse.
type walker[T any] struct {
	b     []byte
	pos   int
	shape ops.Shape
	dst   []T
	n     int // elements stored
	parse func(token) (T, error)
}

func decodeAs[T any](raw []byte, shape ops.Shape, dst []T, parse func(token) (T, error)) (any, error) {
	w := &walker[T]{b: raw, shape: shape, dst: dst, parse: parse}
	if err := w.top(); err != nil {
		return nil, err
	}
	return dst, nil
}

func (w *walker[T]) skipSpace() {
	for w.pos < len(w.b) {
		switch w.b[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

func (w *walker[T]) peek() byte {
	w.skipSpace()
	if w.pos >= len(w.b) {
		return 0
	}
	return w.b[w.pos]
}

func (w *walker[T]) top() error {
	switch c := w.peek(); {
	case c == 0:
		return dataErrorf("data is missing")
	case c != '[':
		if len(w.shape) != 0 {
			return dataErrorf("data must be a JSON array, got %s", w.snippet())
		}
		if err := w.element(); err != nil { // a scalar may stand alone
			return err
		}
	default:
		// Nested when the first entry is itself an array; flat otherwise (including []).
		save := w.pos
		w.pos++
		nested := w.peek() == '['
		w.pos = save
		var err error
		if nested {
			if len(w.shape) < 2 {
				return dataErrorf("data is nested deeper than shape %v (rank %d)", w.shape, len(w.shape))
			}
			err = w.nested(0)
		} else {
			err = w.flat()
		}
		if err != nil {
			return err
		}
	}
	if w.peek() != 0 {
		return dataErrorf("unexpected %s after the data", w.snippet())
	}
	if w.n != len(w.dst) {
		return dataErrorf("data has %d elements, shape %v holds %d", w.n, w.shape, len(w.dst))
	}
	return nil
}

// list walks the entries of the array at w.pos, calling entry for each.
func (w *walker[T]) list(entry func(i int) error) error {
	w.pos++ // '['
	if w.peek() == ']' {
		w.pos++
		return nil
	}
	for i := 0; ; i++ {
		if err := entry(i); err != nil {
			return err
		}
		switch w.peek() {
		case ',':
			w.pos++
		case ']':
			w.pos++
			return nil
		default:
			return dataErrorf("expected ',' or ']' in the data, got %s", w.snippet())
		}
	}
}

// flat reads a one-dimensional array of scalars: the whole tensor in row-major order.
func (w *walker[T]) flat() error {
	return w.list(func(int) error {
		if w.peek() == '[' {
			return dataErrorf("data mixes arrays and scalars at element %d", w.n)
		}
		if w.n == len(w.dst) {
			return dataErrorf("data has more than the %d elements shape %v holds", len(w.dst), w.shape)
		}
		return w.element()
	})
}

// nested reads the array for dimension d, which must have exactly shape[d] entries.
func (w *walker[T]) nested(d int) error {
	if w.peek() != '[' {
		return dataErrorf("data nesting does not match shape %v: dimension %d needs an array, got %s", w.shape, d, w.snippet())
	}
	count := 0
	err := w.list(func(i int) error {
		if i >= w.shape[d] {
			return dataErrorf("data nesting does not match shape %v: dimension %d has more than %d entries", w.shape, d, w.shape[d])
		}
		count++
		if d+1 < len(w.shape) {
			return w.nested(d + 1)
		}
		if w.peek() == '[' {
			return dataErrorf("data is nested deeper than shape %v (rank %d)", w.shape, len(w.shape))
		}
		return w.element()
	})
	if err != nil {
		return err
	}
	if count != w.shape[d] {
		return dataErrorf("data nesting does not match shape %v: dimension %d has %d entries", w.shape, d, count)
	}
	return nil
}

// element scans one scalar and stores it.
func (w *walker[T]) element() error {
	tok, err := w.scan()
	if err != nil {
		return err
	}
	if w.n >= len(w.dst) {
		return dataErrorf("data has more than the %d elements shape %v holds", len(w.dst), w.shape)
	}
	v, err := w.parse(tok)
	if err != nil {
		return dataErrorf("element %d: %v", w.n, err)
	}
	w.dst[w.n] = v
	w.n++
	return nil
}

// scan returns the scalar token at w.pos and moves past it.
func (w *walker[T]) scan() (token, error) {
	c := w.peek()
	start := w.pos
	switch {
	case c == '"':
		w.pos++
		for w.pos < len(w.b) {
			switch w.b[w.pos] {
			case '\\':
				w.pos += 2
				continue
			case '"':
				w.pos++
				return token{b: w.b[start:w.pos], kind: 's'}, nil
			}
			w.pos++
		}
		return token{}, dataErrorf("unterminated string in the data")
	case c == '-' || (c >= '0' && c <= '9'):
		for w.pos < len(w.b) && isNumberByte(w.b[w.pos]) {
			w.pos++
		}
		return token{b: w.b[start:w.pos], kind: 'n'}, nil
	case c == 't' || c == 'f' || c == 'n':
		for w.pos < len(w.b) && w.b[w.pos] >= 'a' && w.b[w.pos] <= 'z' {
			w.pos++
		}
		word := string(w.b[start:w.pos])
		switch word {
		case "true":
			return token{b: w.b[start:w.pos], kind: 't'}, nil
		case "false":
			return token{b: w.b[start:w.pos], kind: 'f'}, nil
		case "null":
			return token{b: w.b[start:w.pos], kind: 'z'}, nil
		}
	case c == 0:
		return token{}, dataErrorf("data ends early")
	}
	w.pos = start
	return token{}, dataErrorf("unexpected %s in the data", w.snippet())
}

func isNumberByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// snippet quotes a few bytes at w.pos for an error message.
func (w *walker[T]) snippet() string {
	if w.pos >= len(w.b) {
		return "the end of the data"
	}
	end := min(w.pos+12, len(w.b))
	return strconv.Quote(string(w.b[w.pos:end]))
}

// Element parsers. JSON has no NaN or infinity, so floats also accept the strings "NaN", "Infinity" and
// "-Infinity" (protobuf's JSON mapping spells them so), which is also how responses carry them.

var errNotNumber = errors.New("not a number")

func specialFloat(t token) (float64, bool) {
	switch string(t.b) {
	case `"NaN"`:
		return math.NaN(), true
	case `"Infinity"`, `"+Infinity"`, `"inf"`, `"+inf"`:
		return math.Inf(1), true
	case `"-Infinity"`, `"-inf"`:
		return math.Inf(-1), true
	}
	return 0, false
}

func parseFloat32(t token) (float32, error) {
	switch t.kind {
	case 'n':
		if f, ok := fastFloat32(t.b); ok {
			return f, nil
		}
		f, err := strconv.ParseFloat(string(t.b), 32)
		if err != nil {
			return 0, numberError(t, "FP32", err)
		}
		return float32(f), nil
	case 's':
		if f, ok := specialFloat(t); ok {
			return float32(f), nil
		}
	}
	return 0, fmt.Errorf("%s is not a number", t)
}

func parseFloat64(t token) (float64, error) {
	switch t.kind {
	case 'n':
		if f, ok := fastFloat64(t.b); ok {
			return f, nil
		}
		f, err := strconv.ParseFloat(string(t.b), 64)
		if err != nil {
			return 0, numberError(t, "FP64", err)
		}
		return f, nil
	case 's':
		if f, ok := specialFloat(t); ok {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%s is not a number", t)
}

func numberError(t token, datatype string, err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("%s is out of range for %s", t, datatype)
	}
	return fmt.Errorf("%s is not a number", t)
}

// signedInt and unsignedInt are the integer element types.
type signedInt interface{ int8 | int16 | int32 | int64 }
type unsignedInt interface {
	uint8 | uint16 | uint32 | uint64
}

// parseSigned reads an integer literal (no fraction, no exponent: 2.0 is refused rather than truncated)
// and checks that it fits T.
func parseSigned[T signedInt](t token) (T, error) {
	bits := int(8 * sizeOf[T]())
	if t.kind != 'n' {
		return 0, fmt.Errorf("%s is not an integer", t)
	}
	v, err := strconv.ParseInt(string(t.b), 10, bits)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("%s is out of range for INT%d", t, bits)
		}
		return 0, fmt.Errorf("%s is not an integer", t)
	}
	return T(v), nil
}

func parseUnsigned[T unsignedInt](t token) (T, error) {
	bits := int(8 * sizeOf[T]())
	if t.kind != 'n' {
		return 0, fmt.Errorf("%s is not an integer", t)
	}
	if len(t.b) > 0 && t.b[0] == '-' {
		return 0, fmt.Errorf("%s is out of range for UINT%d", t, bits)
	}
	v, err := strconv.ParseUint(string(t.b), 10, bits)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("%s is out of range for UINT%d", t, bits)
		}
		return 0, fmt.Errorf("%s is not an integer", t)
	}
	return T(v), nil
}

func sizeOf[T signedInt | unsignedInt]() uintptr {
	var v T
	switch any(v).(type) {
	case int8, uint8:
		return 1
	case int16, uint16:
		return 2
	case int32, uint32:
		return 4
	}
	return 8
}

func parseBool(t token) (bool, error) {
	switch t.kind {
	case 't':
		return true, nil
	case 'f':
		return false, nil
	}
	return false, fmt.Errorf("%s is not a BOOL (true or false)", t)
}

func parseString(t token) (string, error) {
	if t.kind != 's' {
		return "", fmt.Errorf("%s is not a string", t)
	}
	var s string
	if err := json.Unmarshal(t.b, &s); err != nil {
		return "", fmt.Errorf("%s is not a valid JSON string", t)
	}
	return s, nil
}

// Fast decimal conversion. A number with at most 19 significant digits is m × 10^e with an integer m. When
// m and 10^|e| are both exact in the target type, one multiplication or division rounds once, correctly
// (Clinger's fast path); this covers the pixel values and weights clients send, and strconv handles the
// rest. float32 gets its own path: rounding to float64 and then to float32 could round twice.

var pow10f32 = [...]float32{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10}

var pow10f64 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
	1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// decimal splits a JSON number into its sign, significant digits m and exponent e; ok is false when the
// token is not a plain JSON number or has more than 19 significant digits.
func decimal(b []byte) (neg bool, m uint64, e int, ok bool) {
	i := 0
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	digits, sawDigit := 0, false
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		sawDigit = true
		if m == 0 && b[i] == '0' {
			continue
		}
		if digits == 19 {
			return false, 0, 0, false
		}
		m = m*10 + uint64(b[i]-'0')
		digits++
	}
	if i < len(b) && b[i] == '.' {
		i++
		frac := false
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			frac = true
			e--
			if m == 0 && b[i] == '0' {
				continue
			}
			if digits == 19 {
				return false, 0, 0, false
			}
			m = m*10 + uint64(b[i]-'0')
			digits++
		}
		if !frac {
			return false, 0, 0, false
		}
	}
	if !sawDigit {
		return false, 0, 0, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		expNeg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			expNeg = b[i] == '-'
			i++
		}
		x, sawExp := 0, false
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			sawExp = true
			if x < 10000 {
				x = x*10 + int(b[i]-'0')
			}
		}
		if !sawExp {
			return false, 0, 0, false
		}
		if expNeg {
			x = -x
		}
		e += x
	}
	return neg, m, e, i == len(b)
}

func fastFloat32(b []byte) (float32, bool) {
	neg, m, e, ok := decimal(b)
	if !ok || m > 1<<24 || e < -10 || e > 10 {
		if ok && m == 0 {
			return signed32(0, neg), true
		}
		return 0, false
	}
	f := float32(m)
	if e < 0 {
		f /= pow10f32[-e]
	} else {
		f *= pow10f32[e]
	}
	return signed32(f, neg), true
}

func signed32(f float32, neg bool) float32 {
	if neg {
		return -f
	}
	return f
}

func fastFloat64(b []byte) (float64, bool) {
	neg, m, e, ok := decimal(b)
	if !ok || m > 1<<53 || e < -22 || e > 22 {
		if ok && m == 0 {
			return math.Copysign(0, boolSign(neg)), true
		}
		return 0, false
	}
	f := float64(m)
	if e < 0 {
		f /= pow10f64[-e]
	} else {
		f *= pow10f64[e]
	}
	if neg {
		f = -f
	}
	return f, true
}

func boolSign(neg bool) float64 {
	if neg {
		return -1
	}
	return 1
}

// appendData writes t's elements as a flat JSON array: floats in their shortest round-tripping form, NaN
// and infinities as strings.
func appendData(b []byte, t *ops.Tensor) ([]byte, error) {
	b = append(b, '[')
	switch d := t.Data().(type) {
	case []float32:
		for i, v := range d {
			b = appendFloat(comma(b, i), float64(v), 32)
		}
	case []float64:
		for i, v := range d {
			b = appendFloat(comma(b, i), v, 64)
		}
	case []ops.Float16Bits:
		for i, v := range d {
			b = appendFloat(comma(b, i), float64(v.Float32()), 32)
		}
	case []ops.BFloat16Bits:
		for i, v := range d {
			b = appendFloat(comma(b, i), float64(v.Float32()), 32)
		}
	case []int8:
		b = appendInts(b, d)
	case []int16:
		b = appendInts(b, d)
	case []int32:
		b = appendInts(b, d)
	case []int64:
		b = appendInts(b, d)
	case []uint8:
		b = appendUints(b, d)
	case []uint16:
		b = appendUints(b, d)
	case []uint32:
		b = appendUints(b, d)
	case []uint64:
		b = appendUints(b, d)
	case []bool:
		for i, v := range d {
			b = strconv.AppendBool(comma(b, i), v)
		}
	case []string:
		for i, v := range d {
			q, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			b = append(comma(b, i), q...)
		}
	default:
		return nil, fmt.Errorf("datatype %s cannot be sent as JSON", t.DType())
	}
	return append(b, ']'), nil
}

func comma(b []byte, i int) []byte {
	if i > 0 {
		return append(b, ',')
	}
	return b
}

func appendFloat(b []byte, v float64, bits int) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Infinity"`...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, bits)
}

func appendInts[T signedInt](b []byte, d []T) []byte {
	for i, v := range d {
		b = strconv.AppendInt(comma(b, i), int64(v), 10)
	}
	return b
}

func appendUints[T unsignedInt](b []byte, d []T) []byte {
	for i, v := range d {
		b = strconv.AppendUint(comma(b, i), uint64(v), 10)
	}
	return b
}
