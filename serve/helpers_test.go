package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/runtime"
)

const (
	f32 = onnxpb.TensorProto_FLOAT
	i64 = onnxpb.TensorProto_INT64
)

// compileGraph exports b, decodes it back (what a file would give) and compiles it.
func compileGraph(t testing.TB, b *exporter.Graph) *runtime.Plan {
	t.Helper()
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dm, err := onnx.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	p, err := runtime.Compile(dm, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// linearGraph is x float32[N,4] → y = x·W + b float32[N,3] and cls = argmax(y) int64[N], with
// W = [I3; 1 1 1] and b = [0.5, -0.5, 0]: y = (x0+x3+0.5, x1+x3-0.5, x2+x3).
func linearGraph() *exporter.Graph {
	b := exporter.NewGraph("linear")
	x := b.Input("x", f32, "N", 4)
	w := b.Float32Initializer("W", []int{4, 3}, []float32{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1})
	bias := b.Float32Initializer("b", []int{3}, []float32{0.5, -0.5, 0})
	y := b.Node("Gemm", []string{x, w, bias}, nil)
	cls := b.Node("ArgMax", []string{y}, exporter.Attrs{"axis": 1, "keepdims": 0})
	b.Rename(y, "y")
	b.Rename(cls, "cls")
	b.Output("y", f32, "N", 3)
	b.Output("cls", i64, "N")
	return b
}

// linearRow is what linearGraph computes for one row.
func linearRow(x []float32) (y []float32, cls int64) {
	y = []float32{x[0] + x[3] + 0.5, x[1] + x[3] - 0.5, x[2] + x[3]}
	for i := range y {
		if y[i] > y[cls] {
			cls = int64(i)
		}
	}
	return y, cls
}

// exampleGraph has the tensors of the protocol's own inference example: input0 UINT32[2,2] and input1
// BOOL[3] give output0 FP32[3,2] = float(input1)[:,None] + column sums of input0, and output1 FP32[2,2]
// = float(input0).
func exampleGraph() *exporter.Graph {
	b := exporter.NewGraph("mymodel")
	in0 := b.Input("input0", onnxpb.TensorProto_UINT32, 2, 2)
	in1 := b.Input("input1", onnxpb.TensorProto_BOOL, 3)
	a := b.Node("Cast", []string{in0}, exporter.Attrs{"to": int(f32)})
	axes0 := b.Initializer("axes0", &onnx.Array{DataType: i64, Dims: []int64{1}, Data: []int64{0}})
	sums := b.Node("ReduceSum", []string{a, axes0}, exporter.Attrs{"keepdims": 1})
	m := b.Node("Cast", []string{in1}, exporter.Attrs{"to": int(f32)})
	axes1 := b.Initializer("axes1", &onnx.Array{DataType: i64, Dims: []int64{1}, Data: []int64{1}})
	col := b.Node("Unsqueeze", []string{m, axes1}, nil)
	out0 := b.Node("Add", []string{col, sums}, nil)
	out1 := b.Node("Identity", []string{a}, nil)
	b.Rename(out0, "output0")
	b.Rename(out1, "output1")
	b.Output("output0", f32, 3, 2)
	b.Output("output1", f32, 2, 2)
	return b
}

// dtypesGraph passes one [N,2] input of every protocol datatype through Neg or Not or Identity, so that a
// request round-trips each element type.
var dtypeCases = []struct {
	datatype string
	elem     onnxpb.TensorProto_DataType
}{
	{"FP32", onnxpb.TensorProto_FLOAT}, {"FP64", onnxpb.TensorProto_DOUBLE}, {"FP16", onnxpb.TensorProto_FLOAT16},
	{"INT8", onnxpb.TensorProto_INT8}, {"INT16", onnxpb.TensorProto_INT16}, {"INT32", onnxpb.TensorProto_INT32},
	{"INT64", onnxpb.TensorProto_INT64}, {"UINT8", onnxpb.TensorProto_UINT8}, {"UINT16", onnxpb.TensorProto_UINT16},
	{"UINT32", onnxpb.TensorProto_UINT32}, {"UINT64", onnxpb.TensorProto_UINT64}, {"BOOL", onnxpb.TensorProto_BOOL},
}

func dtypesGraph() *exporter.Graph {
	b := exporter.NewGraph("dtypes")
	for _, c := range dtypeCases {
		in := b.Input("in_"+c.datatype, c.elem, "N", 2)
		out := b.Node("Identity", []string{in}, nil)
		b.Rename(out, "out_"+c.datatype)
		b.Output("out_"+c.datatype, c.elem, "N", 2)
	}
	return b
}

func newModel(t testing.TB, name string, b *exporter.Graph, cfg Config) *Model {
	t.Helper()
	m, err := NewModel(name, compileGraph(t, b), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testServer serves models on 127.0.0.1 with Serve (so Shutdown is exercised as in production) and shuts
// the server down when the test ends.
type testServer struct {
	*Server
	url string
}

func startServer(t testing.TB, cfg Config, models ...*Model) *testServer {
	t.Helper()
	if cfg.Version == "" {
		cfg.Version = "test"
	}
	s, err := New(cfg, models...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &testServer{Server: s, url: "http://" + ln.Addr().String()}
}

// do sends a request and returns the status, Content-Type and body.
func (ts *testServer) do(t *testing.T, method, path, body string) (int, string, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	status, header, data := send(t, req)
	return status, header.Get("Content-Type"), data
}

// send makes req and returns the answer's status, headers and body.
func send(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

// sameJSON reports whether two JSON texts hold the same value (numbers compared as float64).
func sameJSON(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v: %s", err, want)
	}
	return reflect.DeepEqual(g, w)
}

func compact(b []byte) string {
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return string(b)
	}
	return out.String()
}

// lenetFiles finds ../shared's PyTorch LeNet, its [64,1,28,28] input digits and their expected [64,10]
// logits, or skips the test.
func lenetFiles(t testing.TB) (model, input, expected string) {
	t.Helper()
	dir := testenv.Shared(t, "models", "lenet_torch_opset13")
	return lenetIn(dir)
}

// sharedLenet is lenetFiles without the skip: the load test falls back to a small model without ../shared.
func sharedLenet() (model, input, expected string, err error) {
	shared, ok := testenv.SharedDir()
	if !ok {
		return "", "", "", errors.New("../shared not found")
	}
	dir := filepath.Join(shared, "models", "lenet_torch_opset13")
	if _, err := os.Stat(dir); err != nil {
		return "", "", "", err
	}
	model, input, expected = lenetIn(dir)
	return model, input, expected, nil
}

// lenetIn names the files of the LeNet reference model folder dir.
func lenetIn(dir string) (model, input, expected string) {
	return filepath.Join(dir, "model.onnx"), filepath.Join(dir, "input_0.npy"), filepath.Join(dir, "expected_0.npy")
}
