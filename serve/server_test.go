package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/ops"
)

// The protocol's inference example (required_api.md, "Inference Request Examples"), with input1's data
// completed: the example gives one element, [true], for shape [3] (TestBadRequests checks that this is a 400).
const exampleRequest = `{
  "id" : "42",
  "inputs" : [
    { "name" : "input0", "shape" : [ 2, 2 ], "datatype" : "UINT32", "data" : [ 1, 2, 3, 4 ] },
    { "name" : "input1", "shape" : [ 3 ], "datatype" : "BOOL", "data" : [ true, false, true ] }
  ],
  "outputs" : [ { "name" : "output0" } ]
}`

// input0's column sums are [4, 6]; output0 adds input1 as 0/1 to them row by row.
const exampleResponse = `{"model_name":"mymodel","model_version":"1","id":"42",
  "outputs":[{"name":"output0","shape":[3,2],"datatype":"FP32","data":[5,7,4,6,5,7]}]}`

func exampleServer(t *testing.T, cfg Config) *testServer {
	return startServer(t, cfg, newModel(t, "mymodel", exampleGraph(), cfg), newModel(t, "linear", linearGraph(), cfg))
}

func TestEndpoints(t *testing.T) {
	ts := exampleServer(t, Config{})
	mymodelMeta := `{"name":"mymodel","versions":["1"],"platform":"onnx_onnxv1",
	  "inputs":[{"name":"input0","datatype":"UINT32","shape":[2,2]},{"name":"input1","datatype":"BOOL","shape":[3]}],
	  "outputs":[{"name":"output0","datatype":"FP32","shape":[3,2]},{"name":"output1","datatype":"FP32","shape":[2,2]}]}`
	tests := []struct {
		name         string
		method, path string
		body         string
		status       int
		want         string
	}{
		{"server live", "GET", "/v2/health/live", "", 200, `{"live":true}`},
		{"server ready", "GET", "/v2/health/ready", "", 200, `{"ready":true}`},
		{"server metadata", "GET", "/v2", "", 200, `{"name":"onnxrun","version":"test","extensions":["binary_tensor_data","model_repository"]}`},
		{"server metadata, trailing slash", "GET", "/v2/", "", 200, `{"name":"onnxrun","version":"test","extensions":["binary_tensor_data","model_repository"]}`},
		{"model metadata", "GET", "/v2/models/mymodel", "", 200, mymodelMeta},
		{"model metadata, version", "GET", "/v2/models/mymodel/versions/1", "", 200, mymodelMeta},
		{"model metadata, variable dims are -1", "GET", "/v2/models/linear", "", 200,
			`{"name":"linear","versions":["1"],"platform":"onnx_onnxv1",
			  "inputs":[{"name":"x","datatype":"FP32","shape":[-1,4]}],
			  "outputs":[{"name":"y","datatype":"FP32","shape":[-1,3]},{"name":"cls","datatype":"INT64","shape":[-1]}]}`},
		{"model ready", "GET", "/v2/models/mymodel/ready", "", 200, `{"name":"mymodel","ready":true}`},
		{"model ready, version", "GET", "/v2/models/mymodel/versions/1/ready", "", 200, `{"name":"mymodel","ready":true}`},
		{"infer: the protocol's example", "POST", "/v2/models/mymodel/infer", exampleRequest, 200, exampleResponse},
		{"infer: version in the path", "POST", "/v2/models/mymodel/versions/1/infer", exampleRequest, 200, exampleResponse},
		{"infer: nested data", "POST", "/v2/models/mymodel/infer",
			strings.Replace(exampleRequest, "[ 1, 2, 3, 4 ]", "[ [1, 2], [3, 4] ]", 1), 200, exampleResponse},
		{"infer: every output when none is asked for", "POST", "/v2/models/mymodel/infer",
			`{"inputs":[{"name":"input1","shape":[3],"datatype":"BOOL","data":[false,true,false]},
			            {"name":"input0","shape":[2,2],"datatype":"UINT32","data":[[0,1],[10,100]]}]}`, 200,
			`{"model_name":"mymodel","model_version":"1","outputs":[
			  {"name":"output0","shape":[3,2],"datatype":"FP32","data":[10,101,11,102,10,101]},
			  {"name":"output1","shape":[2,2],"datatype":"FP32","data":[0,1,10,100]}]}`},
		{"infer: outputs in the order asked", "POST", "/v2/models/linear/infer",
			`{"inputs":[{"name":"x","shape":[2,4],"datatype":"FP32","data":[[1,2,3,0],[0,0,0,1.5]]}],
			  "outputs":[{"name":"cls"},{"name":"y"}]}`, 200,
			`{"model_name":"linear","model_version":"1","outputs":[
			  {"name":"cls","shape":[2],"datatype":"INT64","data":[2,0]},
			  {"name":"y","shape":[2,3],"datatype":"FP32","data":[1.5,1.5,3,2,1,1.5]}]}`},
		{"infer: a parameters object is accepted", "POST", "/v2/models/linear/infer",
			`{"parameters":{"priority":1},"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","parameters":{"a":"b"},"data":[0,0,0,0]}],
			  "outputs":[{"name":"cls","parameters":{"x":true}}]}`, 200,
			`{"model_name":"linear","model_version":"1","outputs":[{"name":"cls","shape":[1],"datatype":"INT64","data":[0]}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, ctype, body := ts.do(t, tc.method, tc.path, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if ctype != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ctype)
			}
			if !sameJSON(t, body, tc.want) {
				t.Errorf("got  %s\nwant %s", compact(body), compact([]byte(tc.want)))
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	ts := exampleServer(t, Config{MaxBodyBytes: 64 << 10})
	infer := "/v2/models/mymodel/infer"
	// one builds a request for mymodel with input0 replaced by the given JSON object.
	one := func(input0 string) string {
		return `{"inputs":[` + input0 + `,{"name":"input1","shape":[3],"datatype":"BOOL","data":[true,true,true]}]}`
	}
	huge := `{"inputs":[{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[` + strings.Repeat("1,", 40<<10) + `1]}]}`
	tests := []struct {
		name         string
		method, path string
		body         string
		status       int
		want         string // a substring of the "error" message
	}{
		{"unknown model", "POST", "/v2/models/nope/infer", exampleRequest, 404, `unknown model "nope"; this server serves linear, mymodel`},
		{"unknown model metadata", "GET", "/v2/models/nope", "", 404, `unknown model "nope"`},
		{"unknown model ready", "GET", "/v2/models/nope/ready", "", 404, `unknown model "nope"`},
		{"unknown version", "GET", "/v2/models/mymodel/versions/7", "", 404, `model "mymodel" has no version "7"; its versions are 1`},
		{"unknown version infer", "POST", "/v2/models/mymodel/versions/7/infer", exampleRequest, 404, `has no version "7"`},
		{"unknown route", "GET", "/v1/models/mymodel", "", 404, "no route GET /v1/models/mymodel"},
		{"wrong method on infer", "GET", infer, "", 405, "method GET is not allowed on /v2/models/mymodel/infer; use POST"},
		{"wrong method on live", "POST", "/v2/health/live", "{}", 405, "use GET"},
		{"malformed JSON", "POST", infer, `{"inputs": [`, 400, "malformed JSON in the request body"},
		{"not an object", "POST", infer, `[1,2]`, 400, "malformed JSON"},
		{"empty body", "POST", infer, "", 400, "malformed JSON"},
		{"no inputs", "POST", infer, `{"inputs":[]}`, 400, "the request has no inputs; model \"mymodel\" takes input0 (UINT32 [2,2]), input1 (BOOL [3])"},
		{"unknown input", "POST", infer, one(`{"name":"in0","shape":[2,2],"datatype":"UINT32","data":[1,2,3,4]}`), 400, `unknown input "in0"`},
		{"missing input", "POST", infer, `{"inputs":[{"name":"input1","shape":[3],"datatype":"BOOL","data":[true,true,true]}]}`, 400, `missing input "input0" (UINT32 [2,2])`},
		{"input twice", "POST", infer, `{"inputs":[{"name":"input1","shape":[3],"datatype":"BOOL","data":[true,true,true]},{"name":"input1","shape":[3],"datatype":"BOOL","data":[true,true,true]}]}`, 400, `input "input1" is given twice`},
		{"wrong datatype", "POST", infer, one(`{"name":"input0","shape":[2,2],"datatype":"INT32","data":[1,2,3,4]}`), 400, `input "input0": datatype INT32, but the model takes UINT32`},
		{"unknown datatype", "POST", infer, one(`{"name":"input0","shape":[2,2],"datatype":"uint32","data":[1,2,3,4]}`), 400, `unknown datatype "uint32"; the protocol's datatypes are BF16, BOOL, BYTES`},
		{"wrong rank", "POST", infer, one(`{"name":"input0","shape":[4],"datatype":"UINT32","data":[1,2,3,4]}`), 400, `shape [4] does not fit the model's [2,2]: rank 1, want 2`},
		{"wrong dimension", "POST", infer, one(`{"name":"input0","shape":[1,4],"datatype":"UINT32","data":[1,2,3,4]}`), 400, `dimension 0 is 1, want 2`},
		{"negative dimension", "POST", infer, one(`{"name":"input0","shape":[-2,2],"datatype":"UINT32","data":[1,2,3,4]}`), 400, `dimension 0 of shape [-2,2] is -2, out of range`},
		{"no shape", "POST", infer, one(`{"name":"input0","datatype":"UINT32","data":[1,2,3,4]}`), 400, `input "input0" has no shape`},
		{"no data", "POST", infer, one(`{"name":"input0","shape":[2,2],"datatype":"UINT32"}`), 400, `input "input0" has no data`},
		{"too few elements", "POST", infer, one(`{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[1,2,3]}`), 400, `input "input0": data has 3 elements, shape [2,2] holds 4`},
		{"too many elements", "POST", infer, one(`{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[1,2,3,4,5]}`), 400, `more than the 4 elements`},
		{"nesting off the shape", "POST", infer, one(`{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[[1,2,3],[4]]}`), 400, `dimension 1 has more than 2 entries`},
		{"shape far beyond the data", "POST", infer, one(`{"name":"input0","shape":[2,2000000000],"datatype":"UINT32","data":[1]}`), 400, `dimension 1 is 2000000000, want 2`},
		{"the protocol's example verbatim: [true] for shape [3]", "POST", infer,
			strings.Replace(exampleRequest, "[ true, false, true ]", "[ true ]", 1), 400, `input "input1": data has 1 elements, shape [3] holds 3`},
		{"negative UINT32", "POST", infer, one(`{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[1,-2,3,4]}`), 400, `element 1: -2 is out of range for UINT32`},
		{"fraction for UINT32", "POST", infer, one(`{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[1,2.5,3,4]}`), 400, `element 1: 2.5 is not an integer`},
		{"number for BOOL", "POST", infer, `{"inputs":[{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[1,2,3,4]},{"name":"input1","shape":[3],"datatype":"BOOL","data":[1,0,1]}]}`, 400, `element 0: 1 is not a BOOL`},
		{"null element", "POST", "/v2/models/linear/infer", `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,null,3,4]}]}`, 400, `element 1: null is not a number`},
		{"unknown output", "POST", infer, `{"inputs":[{"name":"input0","shape":[2,2],"datatype":"UINT32","data":[1,2,3,4]},{"name":"input1","shape":[3],"datatype":"BOOL","data":[true,true,true]}],"outputs":[{"name":"logits"}]}`, 400, `unknown output "logits"; model "mymodel" produces output0 (FP32 [3,2]), output1 (FP32 [2,2])`},
		{"huge body", "POST", infer, huge, 413, "is over the limit of 65536 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, ctype, body := ts.do(t, tc.method, tc.path, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if ctype != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ctype)
			}
			var e ErrorResponse
			if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
				t.Fatalf("body is not {\"error\": ...}: %s", body)
			}
			if !strings.Contains(e.Error, tc.want) {
				t.Errorf("error %q does not contain %q", e.Error, tc.want)
			}
			if strings.Contains(e.Error, "goroutine") || strings.Contains(e.Error, ".go:") {
				t.Errorf("error leaks a trace: %q", e.Error)
			}
		})
	}
}

// A body without Content-Length (chunked) is cut at the limit too.
func TestHugeChunkedBody(t *testing.T) {
	ts := exampleServer(t, Config{MaxBodyBytes: 1 << 10})
	pr, pw := io.Pipe()
	go func() {
		for range 64 {
			if _, err := pw.Write(bytes.Repeat([]byte(" "), 1<<10)); err != nil {
				break
			}
		}
		pw.Close()
	}()
	req, err := http.NewRequest("POST", ts.url+"/v2/models/mymodel/infer", pr)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	pr.Close()
}

// Every datatype the issue lists (and the rest) goes through a request and back unchanged.
func TestDatatypesRoundTrip(t *testing.T) {
	ts := startServer(t, Config{}, newModel(t, "dtypes", dtypesGraph(), Config{}))
	data := map[string]string{
		"FP32": `[[1.5,-2],[0.00325,1e+30]]`, "FP64": `[[1.5,-2],[0.1,1e+300]]`, "FP16": `[[1.5,-2],[0.25,65504]]`,
		"INT8": `[[-128,127],[0,1]]`, "INT16": `[[-32768,32767],[0,1]]`, "INT32": `[[-2147483648,2147483647],[0,1]]`,
		"INT64": `[[-9223372036854775808,9223372036854775807],[0,1]]`, "UINT8": `[[0,255],[1,2]]`,
		"UINT16": `[[0,65535],[1,2]]`, "UINT32": `[[0,4294967295],[1,2]]`, "UINT64": `[[0,18446744073709551615],[1,2]]`,
		"BOOL": `[[true,false],[false,true]]`,
	}
	var inputs, outputs []string
	for _, c := range dtypeCases {
		inputs = append(inputs, fmt.Sprintf(`{"name":"in_%s","shape":[2,2],"datatype":%q,"data":%s}`, c.datatype, c.datatype, data[c.datatype]))
	}
	status, _, body := ts.do(t, "POST", "/v2/models/dtypes/infer", `{"inputs":[`+strings.Join(inputs, ",")+`]}`)
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	for _, c := range dtypeCases {
		flat := strings.NewReplacer("[[", "[", "]]", "]", "],[", ",").Replace(data[c.datatype])
		outputs = append(outputs, fmt.Sprintf(`{"name":"out_%s","shape":[2,2],"datatype":%q,"data":%s}`, c.datatype, c.datatype, flat))
	}
	want := `{"model_name":"dtypes","model_version":"1","outputs":[` + strings.Join(outputs, ",") + `]}`
	// Compare the text: float64 comparison in sameJSON would hide an INT64 or UINT64 off by one.
	if got := compact(body); got != compact([]byte(want)) {
		t.Errorf("got  %s\nwant %s", got, compact([]byte(want)))
	}
}

// Requests stacked into one batch get the same answers as alone, and the batch is one run.
func TestDynamicBatching(t *testing.T) {
	// A delay far longer than the test: a batch runs because it is full, so which requests share it is
	// certain. Rows 3+3+2 fill 8 exactly.
	cfg := Config{MaxBatch: 8, MaxBatchDelay: time.Hour, Sessions: 1}
	m := newModel(t, "linear", linearGraph(), cfg)
	if on, why := m.Batching(); !on {
		t.Fatalf("batching is off: %s", why)
	}
	ts := startServer(t, cfg, m)
	rows := []int{3, 3, 2}
	var wg sync.WaitGroup
	errs := make([]error, len(rows))
	for i, n := range rows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = checkLinear(ts, n, float32(10*i))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	metrics := ts.scrape(t)
	for _, line := range []string{
		`onnxrun_batch_size_count{model="linear"} 1`,
		`onnxrun_batch_size_sum{model="linear"} 8`,
		`onnxrun_requests_total{endpoint="infer",model="linear",code="200"} 3`,
	} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, metrics)
		}
	}
}

// checkLinear sends rows rows of x (starting at base) to the linear model and checks y and cls.
func checkLinear(ts *testServer, rows int, base float32) error {
	x := make([][]float32, rows)
	for r := range x {
		x[r] = []float32{base + float32(r), base - float32(r), 2 * float32(r), 0.5}
	}
	body, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "x", "shape": []int{rows, 4}, "datatype": "FP32", "data": x}}})
	resp, err := http.Post(ts.url+"/v2/models/linear/infer", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out InferResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err
	}
	if resp.StatusCode != 200 || len(out.Outputs) != 2 {
		return fmt.Errorf("status %d, %d outputs", resp.StatusCode, len(out.Outputs))
	}
	y, err := out.Outputs[0].Tensor()
	if err != nil {
		return err
	}
	cls, err := out.Outputs[1].Tensor()
	if err != nil {
		return err
	}
	if !y.Shape().Equal(ops.Shape{rows, 3}) || !cls.Shape().Equal(ops.Shape{rows}) {
		return fmt.Errorf("shapes %v and %v for %d rows", y.Shape(), cls.Shape(), rows)
	}
	for r := range rows {
		wantY, wantCls := linearRow(x[r])
		if got := y.Float32s()[3*r : 3*r+3]; fmt.Sprint(got) != fmt.Sprint(wantY) {
			return fmt.Errorf("row %d: y = %v, want %v", r, got, wantY)
		}
		if got := cls.Int64s()[r]; got != wantCls {
			return fmt.Errorf("row %d: cls = %d, want %d", r, got, wantCls)
		}
	}
	return nil
}

func (ts *testServer) scrape(t *testing.T) string {
	t.Helper()
	status, ctype, body := ts.do(t, "GET", "/metrics", "")
	if status != 200 || !strings.HasPrefix(ctype, "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: status %d, Content-Type %q", status, ctype)
	}
	return string(body)
}

// Padding: a batch of 5 rows runs as 8 (the next bucket), and each job still gets exactly its rows. This
// drives runGroup directly, with no timing involved.
func TestBatchPadding(t *testing.T) {
	cfg := Config{MaxBatch: 8, MaxBatchDelay: time.Hour, Sessions: 1}
	m := newModel(t, "linear", linearGraph(), cfg)
	defer m.Close()
	m.stats = newMetrics()
	var jobs []*job
	var xs [][][]float32
	for i, rows := range []int{2, 3} {
		x := make([][]float32, rows)
		flat := []float32{}
		for r := range x {
			x[r] = []float32{float32(i), float32(r), -1, 0.25}
			flat = append(flat, x[r]...)
		}
		xs = append(xs, x)
		in, err := NewInput("x", ops.FromSlice(ops.Shape{rows, 4}, flat))
		if err != nil {
			t.Fatal(err)
		}
		r, err := m.decode(&InferRequest{Inputs: []RequestInput{in}}, math.MaxInt64)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, &job{ctx: context.Background(), r: r, rows: rows, key: rowKey(r.inputs), done: make(chan jobResult, 1)})
	}
	if got := m.batch.bucket(5); got != 8 {
		t.Fatalf("bucket(5) = %d, want 8", got)
	}
	m.batch.runGroup(jobs)
	for i, j := range jobs {
		res := <-j.done
		if res.err != nil {
			t.Fatalf("job %d: %v", i, res.err)
		}
		y, cls := res.outs[0], res.outs[1]
		if y.Shape()[0] != j.rows || cls.Shape()[0] != j.rows {
			t.Fatalf("job %d: shapes %v, %v, want %d rows", i, y.Shape(), cls.Shape(), j.rows)
		}
		for r, x := range xs[i] {
			wantY, wantCls := linearRow(x)
			if got := y.Float32s()[3*r : 3*r+3]; fmt.Sprint(got) != fmt.Sprint(wantY) || cls.Int64s()[r] != wantCls {
				t.Errorf("job %d row %d: y = %v cls = %d, want %v %d", i, r, got, cls.Int64s()[r], wantY, wantCls)
			}
		}
	}
	var buf bytes.Buffer
	m.stats.write(&buf)
	if !strings.Contains(buf.String(), `onnxrun_batch_size_sum{model="linear"} 5`+"\n") {
		t.Errorf("batch size should count the 5 real rows, not the padding:\n%s", buf.String())
	}
}

// A request over its timeout gets 504, not a hang.
func TestRequestTimeout(t *testing.T) {
	cfg := Config{RequestTimeout: time.Nanosecond}
	ts := startServer(t, cfg, newModel(t, "linear", linearGraph(), cfg))
	status, _, body := ts.do(t, "POST", "/v2/models/linear/infer", `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`)
	if status != http.StatusGatewayTimeout || !strings.Contains(string(body), "timed out") {
		t.Fatalf("status %d: %s, want 504", status, body)
	}
}

// Shutdown finishes a request that is waiting in a batch (the batcher stops waiting for it to fill) and
// readiness turns false.
func TestGracefulShutdown(t *testing.T) {
	cfg := Config{MaxBatch: 8, MaxBatchDelay: time.Hour, Version: "test"}
	m := newModel(t, "linear", linearGraph(), cfg)
	s, err := New(cfg, m)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	result := make(chan error, 1)
	go func() { result <- checkLinear(&testServer{Server: s, url: ts.URL}, 1, 3) }()
	// Wait until the request is inside the handler (it will sit in the batcher: one row of eight, an hour's delay).
	for s.stats.inFlight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-result; err != nil {
		t.Fatalf("the request in flight failed: %v", err)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/v2/health/ready", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"ready":false`) {
		t.Fatalf("ready after shutdown: %d %s, want 503 and ready false", rec.Code, rec.Body)
	}
}

// A panic in a handler is a bare 500, logged with its stack, and the server keeps serving.
func TestPanicIsA500WithoutTrace(t *testing.T) {
	var logged strings.Builder
	var mu sync.Mutex
	cfg := Config{Logf: func(format string, args ...any) { mu.Lock(); fmt.Fprintf(&logged, format, args...); mu.Unlock() }}
	s, err := New(cfg, newModel(t, "linear", linearGraph(), cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	h := s.wrap("test", func(*call) error { panic("kernel exploded") })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if rec.Code != 500 || strings.TrimSpace(rec.Body.String()) != `{"error":"internal server error"}` {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logged.String(), "kernel exploded") || !strings.Contains(logged.String(), "goroutine") {
		t.Errorf("the log lacks the panic and its stack: %q", logged.String())
	}
}

func TestMetricsFormat(t *testing.T) {
	m := newMetrics()
	m.observeRequest("infer", `we"ird\name`+"\n", 200, 3*time.Millisecond)
	m.observeRequest("infer", "a", 400, 500*time.Millisecond)
	m.observeRequest("infer", "a", 400, 2*time.Minute)
	m.observeRun("a", 4, time.Millisecond)
	var b bytes.Buffer
	if err := m.write(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{
		"# HELP onnxrun_requests_total HTTP requests handled, by endpoint, model and status code.\n# TYPE onnxrun_requests_total counter\n",
		`onnxrun_requests_total{endpoint="infer",model="a",code="400"} 2` + "\n",
		`onnxrun_requests_total{endpoint="infer",model="we\"ird\\name\n",code="200"} 1` + "\n",
		"# TYPE onnxrun_request_duration_seconds histogram\n",
		`onnxrun_request_duration_seconds_bucket{endpoint="infer",model="a",le="0.25"} 0` + "\n",
		`onnxrun_request_duration_seconds_bucket{endpoint="infer",model="a",le="0.5"} 1` + "\n",
		`onnxrun_request_duration_seconds_bucket{endpoint="infer",model="a",le="30"} 1` + "\n",
		`onnxrun_request_duration_seconds_bucket{endpoint="infer",model="a",le="+Inf"} 2` + "\n",
		`onnxrun_request_duration_seconds_sum{endpoint="infer",model="a"} 120.5` + "\n",
		`onnxrun_request_duration_seconds_count{endpoint="infer",model="a"} 2` + "\n",
		`onnxrun_batch_size_bucket{model="a",le="2"} 0` + "\n",
		`onnxrun_batch_size_bucket{model="a",le="4"} 1` + "\n",
		"# TYPE onnxrun_in_flight_requests gauge\nonnxrun_in_flight_requests 0\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Every line is a comment or "name{labels} value".
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE ") {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i <= 0 || !strings.HasPrefix(line, "onnxrun_") {
			t.Errorf("malformed line %q", line)
		}
	}
}

// A Serve or ServeGRPC that starts after Shutdown (a SIGTERM during start-up) returns nil, as a Serve that
// Shutdown stops does, and closes its listener, rather than failing the command with "shutting down".
func TestServeAfterShutdownClosesItsListener(t *testing.T) {
	s, err := New(Config{}, newModel(t, "linear", linearGraph(), Config{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, serve := range map[string]func(net.Listener) error{"Serve": s.Serve, "ServeGRPC": s.ServeGRPC} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := serve(ln); err != nil {
			t.Errorf("%s after Shutdown: %v, want nil", name, err)
		}
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
			t.Errorf("%s after Shutdown left its listener open", name)
		}
	}
}
