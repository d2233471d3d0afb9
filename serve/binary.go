package serve

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
)

// The binary tensor data extension of the protocol's REST API (KServe's and Triton's "binary_tensor_data"):
// a body is a JSON header of Inference-Header-Content-Length bytes followed by the raw bytes of the tensors
// whose parameters give "binary_data_size", in the order the header lists them. Raw bytes are little-endian
// and row-major; a BOOL is one byte (0 or 1); a BYTES element is a 4-byte little-endian length and then
// that many bytes. Parsing raw bytes costs a copy where JSON costs a decimal conversion per element, and a
// float32 takes 4 bytes instead of up to 15.

const (
	// HeaderContentLength is the HTTP header giving the length of the JSON part of a body that carries
	// binary tensor data after it, in a request and in a response.
	HeaderContentLength = "Inference-Header-Content-Length"
	// ExtensionBinaryData is the extension's name in the server metadata.
	ExtensionBinaryData = "binary_tensor_data"

	paramBinaryDataSize   = "binary_data_size"   // input or response output: the tensor's raw bytes
	paramBinaryData       = "binary_data"        // requested output: send it as raw bytes
	paramBinaryDataOutput = "binary_data_output" // request: send every output as raw bytes
)

// splitBody separates a request body into its JSON header and its binary part, as the
// Inference-Header-Content-Length header (value) says; without the header the whole body is JSON.
func splitBody(body []byte, value string) (header, rest []byte, err error) {
	if value == "" {
		return body, nil, nil
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n < 0 {
		return nil, nil, badRequestf("%s %q is not a byte count", HeaderContentLength, value)
	}
	if n > int64(len(body)) {
		return nil, nil, badRequestf("%s %d is past the end of the %d-byte body", HeaderContentLength, n, len(body))
	}
	return body[:n], body[n:], nil
}

// attachBinary hands each input that declares "binary_data_size" its bytes from rest, in order, and checks
// that rest holds exactly the bytes declared: no fewer, no more.
func attachBinary(inputs []RequestInput, rest []byte, haveHeader bool) error {
	off := int64(0)
	for i := range inputs {
		in := &inputs[i]
		size, ok, err := binarySize(in.Parameters)
		if err != nil {
			return badRequestf("input %q: %v", in.Name, err)
		}
		if !ok {
			continue
		}
		if !haveHeader {
			return badRequestf("input %q gives %s but the request has no %s header to say where its binary data starts", in.Name, paramBinaryDataSize, HeaderContentLength)
		}
		if len(in.Data) != 0 {
			return badRequestf("input %q has both \"data\" and %s; send one", in.Name, paramBinaryDataSize)
		}
		if size > int64(len(rest))-off {
			return badRequestf("input %q: %s is %d but only %d bytes of binary data remain in the body", in.Name, paramBinaryDataSize, size, int64(len(rest))-off)
		}
		in.BinaryData = rest[off : off+size : off+size]
		off += size
	}
	if extra := int64(len(rest)) - off; extra > 0 {
		return badRequestf("the body has %d bytes of binary data after the %d that the inputs' %s account for", extra, off, paramBinaryDataSize)
	}
	return nil
}

// binarySize reads the "binary_data_size" parameter; ok is false without one.
func binarySize(params map[string]any) (size int64, ok bool, err error) {
	v, ok := params[paramBinaryDataSize]
	if !ok {
		return 0, false, nil
	}
	var n float64
	switch x := v.(type) {
	case float64: // what encoding/json makes of every JSON number
		n = x
	case int: // set by Go code
		n = float64(x)
	case int64:
		n = float64(x)
	default:
		return 0, false, fmt.Errorf("%s is %v, not a number", paramBinaryDataSize, v)
	}
	// Past 2^53 a float64 no longer counts bytes exactly; no body is that large anyway.
	if n < 0 || n != math.Trunc(n) || n > 1<<53 {
		return 0, false, fmt.Errorf("%s %v is not a byte count", paramBinaryDataSize, n)
	}
	return int64(n), true, nil
}

// boolParam reads a boolean parameter such as "binary_data"; a value that is not a boolean is an error.
func boolParam(params map[string]any, name string) (bool, error) {
	v, ok := params[name]
	if !ok {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("parameter %s is %v, not true or false", name, v)
	}
	return b, nil
}

// elemBytes is the size of one element of dt as raw data; 0 for BYTES, whose elements vary.
func elemBytes(dt ops.DType) int {
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

// decodeBinary converts an input's raw bytes into a new slice of shape.Size() elements of dt. The sizes are
// checked before anything is allocated: a fixed-size datatype needs exactly shape.Size() × its size, and a
// BYTES element takes at least its 4-byte length, so what the shape makes us allocate is bounded by the
// body, itself bounded by Config.MaxBodyBytes.
func decodeBinary(raw []byte, dt ops.DType, shape ops.Shape) (any, error) {
	if dt == ops.String {
		return decodeBinaryStrings(raw, shape)
	}
	size := elemBytes(dt)
	if size == 0 {
		return nil, dataErrorf("datatype %s has no binary form", Datatype(dt))
	}
	n, err := shape.CheckedSize(int64(len(raw) / size))
	if err != nil || int64(n)*int64(size) != int64(len(raw)) {
		return nil, dataErrorf("%s is %d bytes, but shape %v of %s needs %s", paramBinaryDataSize, len(raw), shape, Datatype(dt), neededBytes(shape, size))
	}
	data := ops.MakeSlice(dt, n)
	if dt == ops.Bool {
		// encoding/binary reads any non-zero byte as true; the extension allows only 0 and 1.
		for i, b := range raw {
			if b > 1 {
				return nil, dataErrorf("element %d: byte %d is not a BOOL (0 or 1)", i, b)
			}
		}
	}
	if _, err := binary.Decode(raw, binary.LittleEndian, data); err != nil {
		return nil, dataErrorf("decoding %d bytes of %s: %v", len(raw), Datatype(dt), err)
	}
	return data, nil
}

// neededBytes names the byte count a shape needs, or says it overflows.
func neededBytes(shape ops.Shape, size int) string {
	if n, err := shape.CheckedSize(math.MaxInt64 / int64(size)); err == nil {
		return strconv.FormatInt(int64(n)*int64(size), 10) + " bytes"
	}
	return "more bytes than fit in memory"
}

// decodeBinaryStrings reads shape.Size() BYTES elements, each a 4-byte little-endian length and its bytes,
// which must use raw exactly.
func decodeBinaryStrings(raw []byte, shape ops.Shape) (any, error) {
	n, err := shape.CheckedSize(int64(len(raw) / 4))
	if err != nil {
		return nil, dataErrorf("%s is %d bytes, too few for the %s elements of shape %v, each at least 4 bytes", paramBinaryDataSize, len(raw), elementCount(shape), shape)
	}
	out := make([]string, n)
	pos := 0
	for i := range out {
		if len(raw)-pos < 4 {
			return nil, dataErrorf("element %d: the binary data ends before its 4-byte length", i)
		}
		length := binary.LittleEndian.Uint32(raw[pos:])
		pos += 4
		if uint64(length) > uint64(len(raw)-pos) {
			return nil, dataErrorf("element %d: length %d is past the end of the binary data (%d bytes left)", i, length, len(raw)-pos)
		}
		out[i] = string(raw[pos : pos+int(length)])
		pos += int(length)
	}
	if pos != len(raw) {
		return nil, dataErrorf("%d bytes of binary data follow the %d elements of shape %v", len(raw)-pos, n, shape)
	}
	return out, nil
}

func elementCount(shape ops.Shape) string {
	if n, err := shape.CheckedSize(math.MaxInt64); err == nil {
		return strconv.Itoa(n)
	}
	return "overflowing"
}

// appendBinary appends t's elements as raw data.
func appendBinary(b []byte, t *ops.Tensor) ([]byte, error) {
	if d, ok := t.Data().([]string); ok {
		for _, s := range d {
			if uint64(len(s)) > math.MaxUint32 {
				return nil, fmt.Errorf("a BYTES element of %d bytes is over the 4 GiB the binary form can carry", len(s))
			}
			b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
		}
		return b, nil
	}
	if elemBytes(t.DType()) == 0 {
		return nil, fmt.Errorf("datatype %s has no binary form", t.DType())
	}
	return binary.Append(b, binary.LittleEndian, t.Data())
}

// wantsBinary reports, for each output the response lists (want, indices into the model's outputs),
// whether the request asks for it as raw bytes: "binary_data" on the output, else the request's
// "binary_data_output".
func (m *Model) wantsBinary(req *InferRequest, want []int) ([]bool, error) {
	all, err := boolParam(req.Parameters, paramBinaryDataOutput)
	if err != nil {
		return nil, badRequestf("%v", err)
	}
	res := make([]bool, len(want))
	for i := range res {
		res[i] = all
	}
	for _, out := range req.Outputs {
		on, err := boolParam(out.Parameters, paramBinaryData)
		if err != nil {
			return nil, badRequestf("output %q: %v", out.Name, err)
		}
		if _, set := out.Parameters[paramBinaryData]; !set {
			continue
		}
		k := m.outIdx[out.Name] // decode checked the names
		for i, w := range want {
			if w == k {
				res[i] = on
			}
		}
	}
	return res, nil
}

// writeInferResponse writes resp as JSON, followed by the outputs' binary data when any has some.
func writeInferResponse(w http.ResponseWriter, resp *InferResponse) error {
	size, binaryOut := 0, false
	for _, o := range resp.Outputs {
		size += len(o.BinaryData)
		binaryOut = binaryOut || o.BinaryData != nil
	}
	if !binaryOut {
		writeJSON(w, http.StatusOK, resp)
		return nil
	}
	header, err := json.Marshal(resp)
	if err != nil {
		return &Error{Status: http.StatusInternalServerError, Msg: "encoding the response: " + err.Error()}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set(HeaderContentLength, strconv.Itoa(len(header)))
	w.Header().Set("Content-Length", strconv.Itoa(len(header)+size))
	w.WriteHeader(http.StatusOK)
	w.Write(header)
	for _, o := range resp.Outputs {
		w.Write(o.BinaryData)
	}
	return nil
}
