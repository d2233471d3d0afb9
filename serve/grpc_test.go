package serve

import (
	"context"
	"encoding/binary"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/serve/grpcpb"
	"github.com/onnxrun/onnxrun/tensorio"
)

// grpcTestServer serves models over gRPC on 127.0.0.1 and holds a client connected to it.
type grpcTestServer struct {
	*Server
	addr   string
	client grpcpb.GRPCInferenceServiceClient
	health healthpb.HealthClient
}

func startGRPC(t testing.TB, cfg Config, models ...*Model) *grpcTestServer {
	t.Helper()
	cfg.Version = "test"
	s, err := New(cfg, models...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeGRPC(ln) }()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve gRPC: %v", err)
		}
	})
	return &grpcTestServer{Server: s, addr: ln.Addr().String(),
		client: grpcpb.NewGRPCInferenceServiceClient(conn), health: healthpb.NewHealthClient(conn)}
}

func wantCode(t *testing.T, what string, err error, want codes.Code, msgPart string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != want || !strings.Contains(st.Message(), msgPart) {
		t.Errorf("%s: got %v %q, want %v with %q", what, st.Code(), st.Message(), want, msgPart)
	}
}

func TestGRPCHealthAndMetadata(t *testing.T) {
	ts := startGRPC(t, Config{Sessions: 1}, newModel(t, "linear", linearGraph(), Config{Sessions: 1}))
	ctx := context.Background()
	if r, err := ts.client.ServerLive(ctx, &grpcpb.ServerLiveRequest{}); err != nil || !r.GetLive() {
		t.Errorf("ServerLive: %v, %v", r, err)
	}
	if r, err := ts.client.ServerReady(ctx, &grpcpb.ServerReadyRequest{}); err != nil || !r.GetReady() {
		t.Errorf("ServerReady: %v, %v", r, err)
	}
	if r, err := ts.client.ModelReady(ctx, &grpcpb.ModelReadyRequest{Name: "linear", Version: "1"}); err != nil || !r.GetReady() {
		t.Errorf("ModelReady: %v, %v", r, err)
	}
	sm, err := ts.client.ServerMetadata(ctx, &grpcpb.ServerMetadataRequest{})
	if err != nil || sm.GetName() != ServerName || sm.GetVersion() != "test" {
		t.Errorf("ServerMetadata: %v, %v", sm, err)
	}
	md, err := ts.client.ModelMetadata(ctx, &grpcpb.ModelMetadataRequest{Name: "linear"})
	if err != nil {
		t.Fatal(err)
	}
	if md.GetPlatform() != Platform || !reflect.DeepEqual(md.GetVersions(), []string{"1"}) || len(md.GetInputs()) != 1 || len(md.GetOutputs()) != 2 {
		t.Errorf("ModelMetadata: %v", md)
	}
	if in := md.GetInputs()[0]; in.GetName() != "x" || in.GetDatatype() != "FP32" || !reflect.DeepEqual(in.GetShape(), []int64{-1, 4}) {
		t.Errorf("input metadata: %v", in)
	}
	_, err = ts.client.ModelMetadata(ctx, &grpcpb.ModelMetadataRequest{Name: "nope"})
	wantCode(t, "metadata of an unknown model", err, codes.NotFound, `unknown model "nope"`)
	_, err = ts.client.ModelReady(ctx, &grpcpb.ModelReadyRequest{Name: "linear", Version: "7"})
	wantCode(t, "an unknown version", err, codes.NotFound, `no version "7"`)

	for _, service := range []string{"", "linear"} {
		r, err := ts.health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health of %q: %v, %v", service, r, err)
		}
	}
	_, err = ts.health.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"})
	wantCode(t, "health of an unknown model", err, codes.NotFound, "")
}

func linearInput(rows [][]float32) (*grpcpb.ModelInferRequest_InferInputTensor, []float32) {
	var flat []float32
	for _, r := range rows {
		flat = append(flat, r...)
	}
	return &grpcpb.ModelInferRequest_InferInputTensor{Name: "x", Datatype: "FP32", Shape: []int64{int64(len(rows)), 4}}, flat
}

func rawFloat32s(d []float32) []byte {
	b := make([]byte, 0, 4*len(d))
	for _, v := range d {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func TestGRPCInferTypedAndRaw(t *testing.T) {
	ts := startGRPC(t, Config{Sessions: 1}, newModel(t, "linear", linearGraph(), Config{Sessions: 1}))
	ctx := context.Background()
	rows := [][]float32{{1, 2, 3, 4}, {0, 5, -1, 0.25}}
	var wantY []float32
	var wantCls []int64
	for _, r := range rows {
		y, cls := linearRow(r)
		wantY, wantCls = append(wantY, y...), append(wantCls, cls)
	}

	in, flat := linearInput(rows)
	in.Contents = &grpcpb.InferTensorContents{Fp32Contents: flat}
	resp, err := ts.client.ModelInfer(ctx, &grpcpb.ModelInferRequest{ModelName: "linear", Id: "typed", Inputs: []*grpcpb.ModelInferRequest_InferInputTensor{in}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetId() != "typed" || resp.GetModelName() != "linear" || resp.GetModelVersion() != "1" || len(resp.GetOutputs()) != 2 || len(resp.GetRawOutputContents()) != 0 {
		t.Fatalf("typed response: %v", resp)
	}
	y, cls := resp.GetOutputs()[0], resp.GetOutputs()[1]
	if y.GetName() != "y" || y.GetDatatype() != "FP32" || !reflect.DeepEqual(y.GetShape(), []int64{2, 3}) || !reflect.DeepEqual(y.GetContents().GetFp32Contents(), wantY) {
		t.Errorf("y: %v, want %v", y, wantY)
	}
	if cls.GetName() != "cls" || cls.GetDatatype() != "INT64" || !reflect.DeepEqual(cls.GetContents().GetInt64Contents(), wantCls) {
		t.Errorf("cls: %v, want %v", cls, wantCls)
	}

	// Raw contents in, raw contents out; only the output asked for.
	in, flat = linearInput(rows)
	resp, err = ts.client.ModelInfer(ctx, &grpcpb.ModelInferRequest{ModelName: "linear", Inputs: []*grpcpb.ModelInferRequest_InferInputTensor{in},
		Outputs:          []*grpcpb.ModelInferRequest_InferRequestedOutputTensor{{Name: "y"}},
		RawInputContents: [][]byte{rawFloat32s(flat)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetOutputs()) != 1 || resp.GetOutputs()[0].GetName() != "y" || resp.GetOutputs()[0].GetContents() != nil || len(resp.GetRawOutputContents()) != 1 {
		t.Fatalf("raw response: %v", resp)
	}
	if got := resp.GetRawOutputContents()[0]; string(got) != string(rawFloat32s(wantY)) {
		t.Errorf("raw y: % x, want % x", got, rawFloat32s(wantY))
	}
}

// Every datatype round-trips through Identity as raw contents, byte for byte (typed contents are covered
// by TestGRPCInferTypedAndRaw and TestGRPCInferTypedNarrowInts).
func TestGRPCInferEveryDatatype(t *testing.T) {
	ts := startGRPC(t, Config{Sessions: 1}, newModel(t, "dtypes", dtypesGraph(), Config{Sessions: 1}))
	ctx := context.Background()
	for _, c := range dtypeCases {
		dt, _ := DTypeOf(c.datatype)
		size := elemSize(dt)
		raw := make([]byte, 4*size) // [2,2]
		for i := range raw {
			raw[i] = byte(i%2) * byte(i/size%2) // 0/1 bytes: valid for BOOL too
		}
		req := &grpcpb.ModelInferRequest{ModelName: "dtypes", Outputs: []*grpcpb.ModelInferRequest_InferRequestedOutputTensor{{Name: "out_" + c.datatype}}}
		for _, other := range dtypeCases { // every input is required; only this one is checked
			odt, _ := DTypeOf(other.datatype)
			in := &grpcpb.ModelInferRequest_InferInputTensor{Name: "in_" + other.datatype, Datatype: other.datatype, Shape: []int64{2, 2}}
			req.Inputs = append(req.Inputs, in)
			if other.datatype == c.datatype {
				req.RawInputContents = append(req.RawInputContents, raw)
			} else {
				req.RawInputContents = append(req.RawInputContents, make([]byte, 4*elemSize(odt)))
			}
		}
		resp, err := ts.client.ModelInfer(ctx, req)
		if err != nil {
			t.Errorf("%s raw: %v", c.datatype, err)
			continue
		}
		if got := resp.GetRawOutputContents(); len(got) != 1 || string(got[0]) != string(raw) || resp.GetOutputs()[0].GetDatatype() != c.datatype {
			t.Errorf("%s raw: got %v, want % x", c.datatype, resp, raw)
		}
	}
}

func TestGRPCInferTypedNarrowInts(t *testing.T) {
	b := exporter.NewGraph("narrow")
	in := b.Input("x", onnxpb.TensorProto_INT8, 3)
	out := b.Node("Identity", []string{in}, nil)
	b.Rename(out, "y")
	b.Output("y", onnxpb.TensorProto_INT8, 3)
	ts := startGRPC(t, Config{Sessions: 1}, newModel(t, "narrow", b, Config{Sessions: 1}))
	req := func(v ...int32) *grpcpb.ModelInferRequest {
		return &grpcpb.ModelInferRequest{ModelName: "narrow", Inputs: []*grpcpb.ModelInferRequest_InferInputTensor{{
			Name: "x", Datatype: "INT8", Shape: []int64{3}, Contents: &grpcpb.InferTensorContents{IntContents: v}}}}
	}
	resp, err := ts.client.ModelInfer(context.Background(), req(-128, 0, 127))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetOutputs()[0].GetContents().GetIntContents(); !reflect.DeepEqual(got, []int32{-128, 0, 127}) {
		t.Errorf("INT8 typed round trip: %v", got)
	}
	_, err = ts.client.ModelInfer(context.Background(), req(1, 128, 0))
	wantCode(t, "an INT8 out of range", err, codes.InvalidArgument, "element 1 is 128")
}

func TestGRPCBadRequests(t *testing.T) {
	ts := startGRPC(t, Config{Sessions: 1}, newModel(t, "linear", linearGraph(), Config{Sessions: 1}))
	good := func() *grpcpb.ModelInferRequest {
		return &grpcpb.ModelInferRequest{ModelName: "linear", Inputs: []*grpcpb.ModelInferRequest_InferInputTensor{{
			Name: "x", Datatype: "FP32", Shape: []int64{1, 4}, Contents: &grpcpb.InferTensorContents{Fp32Contents: []float32{1, 2, 3, 4}}}}}
	}
	cases := []struct {
		name   string
		change func(r *grpcpb.ModelInferRequest)
		code   codes.Code
		msg    string
	}{
		{"unknown model", func(r *grpcpb.ModelInferRequest) { r.ModelName = "nope" }, codes.NotFound, `unknown model "nope"`},
		{"unknown version", func(r *grpcpb.ModelInferRequest) { r.ModelVersion = "2" }, codes.NotFound, `no version "2"`},
		{"wrong datatype", func(r *grpcpb.ModelInferRequest) { r.Inputs[0].Datatype = "FP64" }, codes.InvalidArgument, "datatype FP64, but the model takes FP32"},
		{"wrong shape", func(r *grpcpb.ModelInferRequest) { r.Inputs[0].Shape = []int64{1, 5} }, codes.InvalidArgument, "dimension 1 is 5, want 4"},
		{"unknown input", func(r *grpcpb.ModelInferRequest) { r.Inputs[0].Name = "z" }, codes.InvalidArgument, `unknown input "z"`},
		{"no contents", func(r *grpcpb.ModelInferRequest) { r.Inputs[0].Contents = nil }, codes.InvalidArgument, "no contents"},
		{"too few elements", func(r *grpcpb.ModelInferRequest) { r.Inputs[0].Contents.Fp32Contents = []float32{1} }, codes.InvalidArgument, "fp32_contents holds 1 elements; the shape holds 4"},
		{"wrong contents field", func(r *grpcpb.ModelInferRequest) {
			r.Inputs[0].Contents = &grpcpb.InferTensorContents{Fp64Contents: []float64{1, 2, 3, 4}}
		}, codes.InvalidArgument, "fp32_contents holds 0 elements"},
		{"raw of the wrong length", func(r *grpcpb.ModelInferRequest) {
			r.Inputs[0].Contents = nil
			r.RawInputContents = [][]byte{make([]byte, 15)}
		}, codes.InvalidArgument, "raw contents hold 15 bytes; 4 elements of FP32 take 16"},
		{"raw and contents", func(r *grpcpb.ModelInferRequest) { r.RawInputContents = [][]byte{make([]byte, 16)} }, codes.InvalidArgument, "one or the other"},
		{"raw entries", func(r *grpcpb.ModelInferRequest) {
			r.Inputs[0].Contents = nil
			r.RawInputContents = [][]byte{make([]byte, 16), nil}
		}, codes.InvalidArgument, "2 entries for 1 inputs"},
		{"unknown output", func(r *grpcpb.ModelInferRequest) {
			r.Outputs = []*grpcpb.ModelInferRequest_InferRequestedOutputTensor{{Name: "q"}}
		}, codes.InvalidArgument, `unknown output "q"`},
	}
	for _, c := range cases {
		r := good()
		c.change(r)
		_, err := ts.client.ModelInfer(context.Background(), r)
		wantCode(t, c.name, err, c.code, c.msg)
	}
	if _, err := ts.client.ModelInfer(context.Background(), good()); err != nil {
		t.Errorf("the good request: %v", err)
	}
}

// A message over Config.MaxBodyBytes is refused with RESOURCE_EXHAUSTED before it is decoded.
func TestGRPCMessageOverLimit(t *testing.T) {
	ts := startGRPC(t, Config{Sessions: 1, MaxBodyBytes: 1024}, newModel(t, "linear", linearGraph(), Config{Sessions: 1}))
	in, flat := linearInput(make([][]float32, 100))
	_, err := ts.client.ModelInfer(context.Background(), &grpcpb.ModelInferRequest{ModelName: "linear",
		Inputs: []*grpcpb.ModelInferRequest_InferInputTensor{in}, RawInputContents: [][]byte{rawFloat32s(append(flat, make([]float32, 400)...))}})
	wantCode(t, "a message over the limit", err, codes.ResourceExhausted, "")
}

// slowGraph tiles an [N,slowWidth] input to 64N rows and chains MatMuls of it with a square matrix:
// seconds of work for a small request (which arrives well within a short deadline), in few nodes, so that
// planning for a new shape stays quick (planning does not poll the context).
func slowGraph(steps int) *exporter.Graph {
	b := exporter.NewGraph("slow")
	x := b.Input("x", f32, "N", slowWidth)
	repeats := b.Initializer("repeats", &onnx.Array{DataType: i64, Dims: []int64{2}, Data: []int64{64, 1}})
	x = b.Node("Tile", []string{x, repeats}, nil)
	weights := make([]float32, slowWidth*slowWidth)
	for i := range weights {
		weights[i] = 1.0 / slowWidth
	}
	w := b.Float32Initializer("W", []int{slowWidth, slowWidth}, weights)
	for range steps {
		x = b.Node("MatMul", []string{x, w}, nil)
	}
	b.Rename(x, "y")
	b.Output("y", f32, "M", slowWidth)
	return b
}

const slowWidth = 1024

// The client's deadline reaches the run: the call ends DEADLINE_EXCEEDED and the model's only session is
// free again soon after, instead of finishing 80 MatMuls of 4096x1024 by 1024x1024 (690 GFLOP, many seconds).
// The request (64 rows, 256 KiB) reaches the server well before its deadline.
func TestGRPCClientDeadlineCancelsTheRun(t *testing.T) {
	ts := startGRPC(t, Config{Sessions: 1}, newModel(t, "slow", slowGraph(80), Config{Sessions: 1}))
	call := func(ctx context.Context, rows int) error {
		_, err := ts.client.ModelInfer(ctx, &grpcpb.ModelInferRequest{ModelName: "slow",
			Inputs:           []*grpcpb.ModelInferRequest_InferInputTensor{{Name: "x", Datatype: "FP32", Shape: []int64{int64(rows), slowWidth}}},
			RawInputContents: [][]byte{make([]byte, rows*slowWidth*4)}})
		return err
	}
	if err := call(context.Background(), 1); err != nil { // plans for one row, so the timed calls below need not
		t.Fatal(err)
	}
	// Plans for 64 rows too (planning a new shape does not poll the context, and takes seconds under the
	// race detector): the first call past its deadline leaves the plan behind, the next one waits for it.
	early, cancelEarly := context.WithTimeout(context.Background(), 100*time.Millisecond)
	wantCode(t, "a first call past its deadline", call(early, 64), codes.DeadlineExceeded, "")
	cancelEarly()
	if err := call(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	// A one-row call's own time on this machine, as built (the race detector and a busy CI machine slow it
	// down many times): the big call is 64 of them.
	start := time.Now()
	if err := call(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	oneRow := time.Since(start)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	wantCode(t, "a call past its deadline", call(ctx, 64), codes.DeadlineExceeded, "")
	// Once the session is free a one-row call takes oneRow again; it waits for the rest of the big run
	// (about 64 oneRow) if the deadline did not stop it. 16 oneRow separates the two at any speed.
	start = time.Now()
	if err := call(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	d, limit := time.Since(start), 16*oneRow+200*time.Millisecond
	t.Logf("one row alone %v, after the cancelled call %v (limit %v)", oneRow, d, limit)
	if d > limit {
		t.Errorf("a one-row call took %v after the big call's deadline (one alone: %v; limit %v): the big run went on", d, oneRow, limit)
	}
}

// While the server drains, health answers NOT_SERVING for the server and each model, and readiness false.
func TestGRPCHealthWhileDraining(t *testing.T) {
	ts := startGRPC(t, Config{Sessions: 1}, newModel(t, "linear", linearGraph(), Config{Sessions: 1}))
	ts.cfg.DrainDelay = time.Second
	ctx := context.Background()
	if r, err := ts.health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health before draining: %v, %v", r, err) // also makes sure ServeGRPC runs before Shutdown
	}
	shut := make(chan error, 1)
	go func() { shut <- ts.Shutdown(context.Background()) }()
	deadline := time.Now().Add(900 * time.Millisecond)
	for _, service := range []string{"", "linear"} {
		for {
			r, err := ts.health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
			if err != nil {
				t.Fatalf("health of %q while draining: %v", service, err)
			}
			if r.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("health of %q is still %v while draining", service, r.GetStatus())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if r, err := ts.client.ServerReady(ctx, &grpcpb.ServerReadyRequest{}); err != nil || r.GetReady() {
		t.Errorf("ServerReady while draining: %v, %v", r, err)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
}

// grpc-health-probe, the probe Kubernetes users run, reports the server and a model SERVING.
func TestGRPCHealthProbe(t *testing.T) {
	if testing.Short() {
		testenv.Missing(t, "a run without -short", "this test builds grpc-health-probe")
	}
	bin := t.TempDir()
	install := exec.Command("go", "install", "github.com/grpc-ecosystem/grpc-health-probe@v0.4.63")
	install.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := install.CombinedOutput(); err != nil {
		testenv.Missing(t, "grpc-health-probe (go install github.com/grpc-ecosystem/grpc-health-probe@v0.4.63: "+strings.TrimSpace(string(out))+")", "reach the Go module proxy")
	}
	ts := startGRPC(t, Config{Sessions: 1}, newModel(t, "linear", linearGraph(), Config{Sessions: 1}))
	for _, service := range []string{"", "linear"} {
		out, err := exec.Command(filepath.Join(bin, "grpc-health-probe"), "-addr="+ts.addr, "-service="+service).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SERVING") {
			t.Errorf("grpc-health-probe -service=%q: %v: %s", service, err, out)
		}
	}
	out, err := exec.Command(filepath.Join(bin, "grpc-health-probe"), "-addr="+ts.addr, "-service=nope").CombinedOutput()
	if err == nil {
		t.Errorf("grpc-health-probe passes for an unknown model: %s", out)
	}
}

// BenchmarkGRPCInfer sends LeNet one digit per call with raw contents, over loopback.
func BenchmarkGRPCInfer(b *testing.B) {
	model, input, _ := lenetFiles(b)
	m, err := Load(ModelSource{Name: "lenet", Path: model}, Config{})
	if err != nil {
		b.Fatal(err)
	}
	ts := startGRPC(b, Config{}, m)
	digits, err := tensorio.ReadNPYFile(input)
	if err != nil {
		b.Fatal(err)
	}
	flat := digits.Float32s()[:28*28]
	req := &grpcpb.ModelInferRequest{ModelName: "lenet",
		Inputs:           []*grpcpb.ModelInferRequest_InferInputTensor{{Name: m.meta.Inputs[0].Name, Datatype: "FP32", Shape: []int64{1, 1, 28, 28}}},
		RawInputContents: [][]byte{rawFloat32s(flat)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ts.client.ModelInfer(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
