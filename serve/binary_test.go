package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// stringsGraph passes a BYTES tensor [N] through Identity.
func stringsGraph() *exporter.Graph {
	b := exporter.NewGraph("strings")
	in := b.Input("text", onnxpb.TensorProto_STRING, "N")
	out := b.Node("Identity", []string{in}, nil)
	b.Rename(out, "echo")
	b.Output("echo", onnxpb.TensorProto_STRING, "N")
	return b
}

// postBinary posts a body of a JSON header and binary data, with Inference-Header-Content-Length set to
// headerLength unless it is "", and returns the answer's status, headers and body.
func (ts *testServer) postBinary(t *testing.T, path, header string, data []byte, headerLength string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", ts.url+path, bytes.NewReader(append([]byte(header), data...)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if headerLength != "" {
		req.Header.Set(HeaderContentLength, headerLength)
	}
	return send(t, req)
}

func le32[T uint32 | float32](vs ...T) []byte {
	var b []byte
	for _, v := range vs {
		b, _ = binary.Append(b, binary.LittleEndian, v)
	}
	return b
}

// Inputs in binary and in JSON mix in one request; outputs come back in binary where asked (per output, or
// for all with binary_data_output, which a per-output false overrides), with the JSON header's length in
// Inference-Header-Content-Length and the raw bytes after it.
func TestBinaryMixedInputsAndOutputs(t *testing.T) {
	ts := exampleServer(t, Config{})
	output0 := le32[float32](5, 7, 4, 6, 5, 7)
	tests := []struct {
		name        string
		header      string
		data        []byte
		wantOutputs string // the JSON header's outputs
		wantBinary  []byte
	}{
		{"input0 binary, output0 binary",
			`{"id":"7","inputs":[{"name":"input0","shape":[2,2],"datatype":"UINT32","parameters":{"binary_data_size":16}},
			  {"name":"input1","shape":[3],"datatype":"BOOL","data":[true,false,true]}],
			  "outputs":[{"name":"output0","parameters":{"binary_data":true}},{"name":"output1"}]}`,
			le32[uint32](1, 2, 3, 4),
			`[{"name":"output0","shape":[3,2],"datatype":"FP32","parameters":{"binary_data_size":24}},
			  {"name":"output1","shape":[2,2],"datatype":"FP32","data":[1,2,3,4]}]`,
			output0},
		{"both inputs binary, binary_data_output with output1 opting out",
			`{"id":"7","parameters":{"binary_data_output":true},
			  "inputs":[{"name":"input1","shape":[3],"datatype":"BOOL","parameters":{"binary_data_size":3}},
			  {"name":"input0","shape":[2,2],"datatype":"UINT32","parameters":{"binary_data_size":16}}],
			  "outputs":[{"name":"output0"},{"name":"output1","parameters":{"binary_data":false}}]}`,
			append([]byte{1, 0, 1}, le32[uint32](1, 2, 3, 4)...),
			`[{"name":"output0","shape":[3,2],"datatype":"FP32","parameters":{"binary_data_size":24}},
			  {"name":"output1","shape":[2,2],"datatype":"FP32","data":[1,2,3,4]}]`,
			output0},
		{"binary_data_output for every output",
			`{"id":"7","parameters":{"binary_data_output":true},
			  "inputs":[{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[1,2,3,4]},
			  {"name":"input1","shape":[3],"datatype":"BOOL","data":[true,false,true]}]}`,
			nil,
			`[{"name":"output0","shape":[3,2],"datatype":"FP32","parameters":{"binary_data_size":24}},
			  {"name":"output1","shape":[2,2],"datatype":"FP32","parameters":{"binary_data_size":16}}]`,
			append(output0, le32[float32](1, 2, 3, 4)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			headerLength := ""
			if tc.data != nil {
				headerLength = itoa(len(tc.header))
			}
			status, h, body := ts.postBinary(t, "/v2/models/mymodel/infer", tc.header, tc.data, headerLength)
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			if ct := h.Get("Content-Type"); ct != "application/octet-stream" {
				t.Errorf("Content-Type %q, want application/octet-stream", ct)
			}
			n, err := atoi(h.Get(HeaderContentLength))
			if err != nil || n > len(body) {
				t.Fatalf("%s %q for a %d-byte body", HeaderContentLength, h.Get(HeaderContentLength), len(body))
			}
			want := `{"model_name":"mymodel","model_version":"1","id":"7","outputs":` + tc.wantOutputs + `}`
			if !sameJSON(t, body[:n], want) {
				t.Errorf("header %s\nwant   %s", body[:n], compact([]byte(want)))
			}
			if !bytes.Equal(body[n:], tc.wantBinary) {
				t.Errorf("binary data % x\nwant        % x", body[n:], tc.wantBinary)
			}
		})
	}
}

// Every datatype round-trips through the client in binary both ways, bit for bit (NaN, -0 and the extremes
// included), and so do strings, empty and with zero bytes.
func TestBinaryDatatypesRoundTrip(t *testing.T) {
	ts := startServer(t, Config{}, newModel(t, "dtypes", dtypesGraph(), Config{}), newModel(t, "strings", stringsGraph(), Config{}))
	client := &Client{BaseURL: ts.url, BinaryOutputs: true}
	values := map[string]string{
		"FP32": `[1.5,"NaN",-0.0,3.4028235e38]`, "FP64": `[1.5,"-Infinity",-0.0,1e-320]`, "FP16": `[1.5,-2,0.25,65504]`,
		"INT8": `[-128,127,0,1]`, "INT16": `[-32768,32767,0,1]`, "INT32": `[-2147483648,2147483647,0,1]`,
		"INT64": `[-9223372036854775808,9223372036854775807,0,1]`, "UINT8": `[0,255,1,2]`,
		"UINT16": `[0,65535,1,2]`, "UINT32": `[0,4294967295,1,2]`, "UINT64": `[0,18446744073709551615,1,2]`,
		"BOOL": `[true,false,false,true]`,
	}
	req := &InferRequest{}
	sent := map[string]*ops.Tensor{}
	for _, c := range dtypeCases {
		dt, _ := DTypeOf(c.datatype)
		data, err := decodeData([]byte(values[c.datatype]), dt, ops.Shape{2, 2})
		if err != nil {
			t.Fatalf("%s: %v", c.datatype, err)
		}
		x, _ := ops.FromData(dt, ops.Shape{2, 2}, data)
		in, err := NewBinaryInput("in_"+c.datatype, x)
		if err != nil {
			t.Fatal(err)
		}
		req.Inputs = append(req.Inputs, in)
		sent["out_"+c.datatype] = x
	}
	fp32 := sent["out_FP32"]
	text := ops.FromSlice(ops.Shape{4}, []string{"", "héllo", "a\x00b", strings.Repeat("z", 300)})
	in, err := NewBinaryInput("text", text)
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []struct {
		model string
		req   *InferRequest
	}{{"dtypes", req}, {"strings", &InferRequest{Inputs: []RequestInput{in}}}} {
		resp, err := client.Infer(context.Background(), call.model, call.req)
		if err != nil {
			t.Fatalf("%s: %v", call.model, err)
		}
		if call.model == "strings" {
			sent = map[string]*ops.Tensor{"echo": text}
		}
		if len(resp.Outputs) != len(sent) {
			t.Fatalf("%s: %d outputs, want %d", call.model, len(resp.Outputs), len(sent))
		}
		for _, o := range resp.Outputs {
			if o.BinaryData == nil || o.Data != nil {
				t.Errorf("output %q came as JSON, not binary", o.Name)
			}
			got, err := o.Tensor()
			if err != nil {
				t.Fatalf("output %q: %v", o.Name, err)
			}
			gotBytes, _ := appendBinary(nil, got)
			wantBytes, _ := appendBinary(nil, sent[o.Name])
			if got.DType() != sent[o.Name].DType() || !got.Shape().Equal(sent[o.Name].Shape()) || !bytes.Equal(gotBytes, wantBytes) {
				t.Errorf("output %q: got %v, want %v", o.Name, got, sent[o.Name])
			}
		}
	}
	if math.Float32bits(ops.Data[float32](fp32)[2]) != 1<<31 {
		t.Fatal("the FP32 case lost its -0: the round trip checks less than it claims")
	}
}

// Every malformed binary request is a 400 (or 413 past the body limit) naming what is wrong, refused before
// the server allocates for the declared shape.
func TestBinaryMalformed(t *testing.T) {
	cfg := Config{MaxBodyBytes: 64 << 10}
	ts := startServer(t, cfg, newModel(t, "mymodel", exampleGraph(), cfg), newModel(t, "linear", linearGraph(), cfg),
		newModel(t, "strings", stringsGraph(), cfg))
	// one builds a mymodel request with input0 as given and input1 in JSON.
	one := func(input0 string) string {
		return `{"inputs":[` + input0 + `,{"name":"input1","shape":[3],"datatype":"BOOL","data":[true,true,true]}]}`
	}
	withSize := func(size string) string {
		return one(`{"name":"input0","shape":[2,2],"datatype":"UINT32","parameters":{"binary_data_size":` + size + `}}`)
	}
	four := le32[uint32](1, 2, 3, 4)
	text := func(size int) string {
		return `{"inputs":[{"name":"text","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":` + itoa(size) + `}}]}`
	}
	tests := []struct {
		name         string
		model        string
		header       string
		data         []byte
		headerLength string // "" means the header's length; "none" sends no header
		status       int
		want         string
	}{
		{"header length past the body", "mymodel", withSize("16"), four, "9999", 400, "Inference-Header-Content-Length 9999 is past the end of the"},
		{"header length not a number", "mymodel", withSize("16"), four, "12x", 400, `Inference-Header-Content-Length "12x" is not a byte count`},
		{"negative header length", "mymodel", withSize("16"), four, "-5", 400, `Inference-Header-Content-Length "-5" is not a byte count`},
		{"header length inside the JSON", "mymodel", withSize("16"), four, "10", 400, "malformed JSON"},
		{"binary_data_size off the shape", "mymodel", withSize("12"), four[:12], "", 400, `input "input0": binary_data_size is 12 bytes, but shape [2,2] of UINT32 needs 16 bytes`},
		{"missing bytes", "mymodel", withSize("16"), four[:8], "", 400, `input "input0": binary_data_size is 16 but only 8 bytes of binary data remain in the body`},
		{"extra bytes", "mymodel", withSize("16"), append(four, 9, 9, 9, 9), "", 400, "the body has 4 bytes of binary data after the 16 that the inputs' binary_data_size account for"},
		{"binary data nobody declares", "mymodel", one(`{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[1,2,3,4]}`), four, "", 400, "the body has 16 bytes of binary data after the 0"},
		{"negative binary_data_size", "mymodel", withSize("-16"), four, "", 400, `input "input0": binary_data_size -16 is not a byte count`},
		{"fractional binary_data_size", "mymodel", withSize("15.5"), four, "", 400, `input "input0": binary_data_size 15.5 is not a byte count`},
		{"binary_data_size a string", "mymodel", withSize(`"16"`), four, "", 400, `input "input0": binary_data_size is 16, not a number`},
		{"binary_data_size without the header", "mymodel", withSize("16"), nil, "none", 400, `input "input0" gives binary_data_size but the request has no Inference-Header-Content-Length header`},
		{"data and binary_data_size", "mymodel", one(`{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[1,2,3,4],"parameters":{"binary_data_size":16}}`), four, "", 400, `input "input0" has both "data" and binary_data_size`},
		{"BOOL byte other than 0 or 1", "mymodel", `{"inputs":[{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[1,2,3,4]},{"name":"input1","shape":[3],"datatype":"BOOL","parameters":{"binary_data_size":3}}]}`, []byte{1, 2, 0}, "", 400, `input "input1": element 1: byte 2 is not a BOOL (0 or 1)`},
		{"binary_data not a boolean", "mymodel", `{"inputs":[{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[1,2,3,4]},{"name":"input1","shape":[3],"datatype":"BOOL","data":[true,true,true]}],"outputs":[{"name":"output0","parameters":{"binary_data":"yes"}}]}`, nil, "none", 400, `output "output0": parameter binary_data is yes, not true or false`},
		{"binary_data_output not a boolean", "mymodel", `{"parameters":{"binary_data_output":1},"inputs":[{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[1,2,3,4]},{"name":"input1","shape":[3],"datatype":"BOOL","data":[true,true,true]}]}`, nil, "none", 400, `parameter binary_data_output is 1, not true or false`},
		{"shape far beyond the bytes", "linear", `{"inputs":[{"name":"x","shape":[10000,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}`, make([]byte, 16), "", 400, `input "x": binary_data_size is 16 bytes, but shape [10000,4] of FP32 needs 160000 bytes`},
		{"shape over the element limit", "linear", `{"inputs":[{"name":"x","shape":[2000000000,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}`, make([]byte, 16), "", 400, `input "x": shape [2000000000,4] holds more elements than the request's limit of 65536 allows`},
		{"body over the limit", "linear", `{"inputs":[{"name":"x","shape":[5000,4],"datatype":"FP32","parameters":{"binary_data_size":80000}}]}`, make([]byte, 80000), "", 413, "over the limit of 65536 bytes"},
		{"BYTES length past the end", "strings", text(9), []byte{1, 0, 0, 0, 'a', 9, 0, 0, 0}, "", 400, `input "text": element 1: length 9 is past the end of the binary data (0 bytes left)`},
		{"BYTES with bytes after the last element", "strings", text(11), []byte{1, 0, 0, 0, 'a', 1, 0, 0, 0, 'b', 'c'}, "", 400, `input "text": 1 bytes of binary data follow the 2 elements of shape [2]`},
		{"BYTES too short for the shape", "strings", text(4), []byte{0, 0, 0, 0}, "", 400, `input "text": binary_data_size is 4 bytes, too few for the 2 elements of shape [2]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			headerLength := tc.headerLength
			switch headerLength {
			case "":
				headerLength = itoa(len(tc.header))
			case "none":
				headerLength = ""
			}
			status, h, body := ts.postBinary(t, "/v2/models/"+tc.model+"/infer", tc.header, tc.data, headerLength)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			var e ErrorResponse
			if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error, tc.want) {
				t.Errorf("error %q does not contain %q", body, tc.want)
			}
		})
	}
}

func itoa(n int) string          { return strconv.Itoa(n) }
func atoi(s string) (int, error) { return strconv.Atoi(s) }

// FuzzBinaryRequest sends arbitrary JSON headers, binary data and header lengths: the server answers 200,
// 400 or 413, never a 500 or a panic, whatever the sizes claim.
func FuzzBinaryRequest(f *testing.F) {
	f.Add(`{"inputs":[{"name":"input0","shape":[2,2],"datatype":"UINT32","parameters":{"binary_data_size":16}},{"name":"input1","shape":[3],"datatype":"BOOL","parameters":{"binary_data_size":3}}],"outputs":[{"name":"output0","parameters":{"binary_data":true}}]}`,
		append(le32[uint32](1, 2, 3, 4), 1, 0, 1), int64(-1))
	f.Add(`{"inputs":[{"name":"text","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":10}}]}`, []byte{1, 0, 0, 0, 'a', 1, 0, 0, 0, 'b'}, int64(-1))
	f.Add(`{"inputs":[{"name":"x","shape":[2000000000,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}`, make([]byte, 16), int64(-1))
	f.Add(`{"inputs":[{"name":"input0","shape":[2,2],"datatype":"UINT32","parameters":{"binary_data_size":16}}]}`, []byte{1, 2}, int64(5))
	cfg := Config{MaxBodyBytes: 1 << 16, Logf: f.Logf}
	s, err := New(cfg, newModel(f, "mymodel", exampleGraph(), cfg), newModel(f, "linear", linearGraph(), cfg),
		newModel(f, "strings", stringsGraph(), cfg))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Shutdown(context.Background()) })
	f.Fuzz(func(t *testing.T, header string, data []byte, headerLength int64) {
		for _, model := range []string{"mymodel", "linear", "strings"} {
			req := httptest.NewRequest("POST", "/v2/models/"+model+"/infer", bytes.NewReader(append([]byte(header), data...)))
			if headerLength < 0 { // the seeds' "the JSON's own length"
				headerLength = int64(len(header))
			}
			req.Header.Set(HeaderContentLength, strconv.FormatInt(headerLength, 10))
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, req)
			if w.Code != 200 && w.Code != 400 && w.Code != 413 {
				t.Fatalf("%s: status %d: %s", model, w.Code, w.Body.Bytes())
			}
		}
	})
}

// The client leaves the caller's request as it was (the binary_data_size it adds goes into copies), and a
// request's own binary_data_output=false wins over Client.BinaryOutputs.
func TestClientBinaryLeavesRequestAlone(t *testing.T) {
	ts := startServer(t, Config{}, newModel(t, "linear", linearGraph(), Config{}))
	client := &Client{BaseURL: ts.url, BinaryOutputs: true}
	in, err := NewBinaryInput("x", ops.FromSlice(ops.Shape{1, 4}, []float32{1, 2, 3, 4}))
	if err != nil {
		t.Fatal(err)
	}
	req := &InferRequest{Inputs: []RequestInput{in}, Parameters: map[string]any{paramBinaryDataOutput: false}}
	resp, err := client.Infer(context.Background(), "linear", req)
	if err != nil {
		t.Fatal(err)
	}
	if req.Inputs[0].Parameters != nil || len(req.Parameters) != 1 {
		t.Errorf("the request was changed: %+v", req)
	}
	for _, o := range resp.Outputs {
		if o.BinaryData != nil || o.Data == nil {
			t.Errorf("output %q came in binary although the request said binary_data_output=false", o.Name)
		}
	}
	y, err := resp.Outputs[0].Tensor()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := linearRow([]float32{1, 2, 3, 4})
	for i, v := range y.Float32s() {
		if v != want[i] {
			t.Errorf("y[%d] = %v, want %v", i, v, want[i])
		}
	}
}
