// Command protobench measures what issue 18 asks of the serving protocols, in one run on loopback:
//
//  1. LeNet at batch 1 from -clients concurrent closed-loop clients: JSON over HTTP, binary tensors over
//     HTTP (the binary tensor data extension, inputs and outputs raw) and gRPC with raw_input_contents;
//     requests per second and p50/p99 latency per protocol, the ratios to JSON, and the targets (each at
//     least 1.3x JSON's requests per second, its p99 no higher than JSON's) met or not.
//  2. An Identity model with a 1x3x224x224 FP32 input (built here with the exporter): JSON against binary,
//     requests per second, request and response body bytes, and the CPU time per request of the server
//     process and of the generator.
//
// The server runs in a child process (serverproc: this command started again in server mode), so that
// the operating system, not one Go scheduler, shares the cores between it and the load generator; the
// server's CPU time comes from /proc/PID/stat. Each protocol runs -duration per round, -rounds rounds,
// in alternating order (A B C, C B A, ...), so that a drift of the machine's load falls on each alike;
// the figures merge the rounds. The load average is printed at the start and the end: figures taken
// with it well above zero are not worth keeping.
//
// Run it on a quiet machine (the figures go to BENCHMARKS.md, "Serving protocols"):
//
//	go run ./serve/internal/protobench -out protocols.md
//	make bench-protocols OUT=protocols.md
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/serve"
	"github.com/onnxrun/onnxrun/serve/grpcpb"
	"github.com/onnxrun/onnxrun/serve/internal/loadgen"
	"github.com/onnxrun/onnxrun/serve/internal/serverproc"
)

// The targets of issue 18 for binary HTTP and gRPC against JSON HTTP.
const (
	targetThroughputRatio = 1.3 // requests per second, at least this many times JSON's
	targetP99Ratio        = 1.0 // p99, at most this many times JSON's
)

type options struct {
	model            string
	duration         time.Duration // per protocol per round
	rounds           int
	clients          int
	grpcConns        int // 0: one per client
	identityClients  int
	identityDuration time.Duration // per encoding per round
}

func main() {
	serverproc.ServeIfChild()
	var o options
	flag.StringVar(&o.model, "model", "models/lenet/lenet.onnx", "the model of the protocol comparison (FP32 inputs, served at batch 1)")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "how long each protocol runs in each round")
	flag.IntVar(&o.rounds, "rounds", 4, "rounds, each running every protocol once, in alternating order")
	flag.IntVar(&o.clients, "clients", 32, "concurrent closed-loop clients of the protocol comparison")
	flag.IntVar(&o.grpcConns, "grpc-conns", 0, "gRPC connections the clients share (0: one per client, as HTTP's keep-alive connections)")
	flag.IntVar(&o.identityClients, "identity-clients", 8, "concurrent clients of the Identity 1x3x224x224 comparison")
	flag.DurationVar(&o.identityDuration, "identity-duration", 3*time.Second, "how long each encoding runs in each round of the Identity comparison")
	out := flag.String("out", "", "also write the markdown tables to this file")
	flag.Parse()
	loadgen.Main("protobench", *out, func(w io.Writer) error {
		_, err := run(o, w)
		return err
	})
}

// measured is one protocol's figures over every round.
type measured struct {
	name      string
	result    *loadgen.Result
	serverCPU time.Duration // the server process's CPU time over its slots
	clientCPU time.Duration // this process's
}

func (m *measured) cpuPerRequest(cpu time.Duration) time.Duration {
	return cpu / time.Duration(max(m.result.OK, 1))
}

// report is what a run measured, for the tests.
type report struct {
	protocols, encodings []*measured
	serverPID            int // the child process that served
}

// workload is one protocol's or encoding's load: what loadgen sends and, for a first request, how to
// check the answer.
type workload struct {
	name    string
	options loadgen.Options
	// answer decodes a 200 answer's body into the first output's float32 values.
	answer func(body []byte) ([]float32, error)
}

func run(o options, w io.Writer) (rep *report, err error) {
	if o.duration <= 0 || o.identityDuration <= 0 || o.rounds < 1 || o.clients < 1 || o.identityClients < 1 || o.grpcConns < 0 {
		return nil, errors.New("-duration, -identity-duration, -rounds, -clients and -identity-clients must be positive, -grpc-conns not negative")
	}
	fmt.Fprintf(w, "load average at start: %s\n\n", loadgen.LoadAverage())
	dir, err := os.MkdirTemp("", "protobench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	identityPath := filepath.Join(dir, "identity.onnx")
	if err := writeIdentityModel(identityPath); err != nil {
		return nil, err
	}
	// The queue holds every client's request and the delay budget lets them wait, so that none is
	// refused: this compares protocols, not admission (serve/internal/overload measures that).
	queue := max(o.clients, o.identityClients)
	server, err := serverproc.Start(serverproc.Spec{GRPC: true, QueueSize: queue, MaxQueueDelay: time.Minute, Models: []serverproc.Model{{Name: "model", Path: o.model}, {Name: "identity", Path: identityPath}}})
	if err != nil {
		return nil, err
	}
	defer func() {
		// A server that crashed or would not stop makes the figures suspect: report it.
		if stopErr := server.Stop(); stopErr != nil && err == nil {
			rep, err = nil, stopErr
		}
	}()
	base := "http://" + server.HTTPAddr

	inputName, input, err := server.SampleInput(context.Background(), "model")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.model, err)
	}
	grpcWork, closeGRPC, err := grpcWorkload(server.GRPCAddr, max(o.grpcConns, 0), o.clients, inputName, input)
	if err != nil {
		return nil, err
	}
	defer closeGRPC()
	jsonWork, err := jsonWorkload(base+"/v2/models/model/infer", inputName, input)
	if err != nil {
		return nil, err
	}
	binaryWork, err := binaryWorkload(base+"/v2/models/model/infer", inputName, input)
	if err != nil {
		return nil, err
	}
	rep = &report{serverPID: server.PID()}
	rep.protocols, err = interleave(server, []workload{jsonWork, binaryWork, grpcWork}, o.rounds, o.clients, o.duration)
	if err != nil {
		return nil, err
	}

	image := identityImage()
	jsonImage, err := jsonWorkload(base+"/v2/models/identity/infer", "x", image)
	if err != nil {
		return nil, err
	}
	binaryImage, err := binaryWorkload(base+"/v2/models/identity/infer", "x", image)
	if err != nil {
		return nil, err
	}
	jsonImage.name, binaryImage.name = "JSON", "binary"
	rep.encodings, err = interleave(server, []workload{jsonImage, binaryImage}, o.rounds, o.identityClients, o.identityDuration)
	if err != nil {
		return nil, err
	}

	writeProtocolTable(w, o, rep.protocols)
	writeEncodingTable(w, o, rep.encodings)
	fmt.Fprintf(w, "\nload average at end: %s\n", loadgen.LoadAverage())
	return rep, nil
}

// interleave checks one answer of each workload against the first's (the same model answers each
// protocol alike), then runs them round by round, in alternating order, each for duration with clients
// closed-loop clients.
func interleave(server *serverproc.Process, works []workload, rounds, clients int, duration time.Duration) ([]*measured, error) {
	var want []float32
	for i, wk := range works {
		got, err := firstAnswer(wk)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", wk.name, err)
		}
		if i == 0 {
			want = got
		} else if err := sameValues(got, want); err != nil {
			return nil, fmt.Errorf("%s answers otherwise than %s: %w", wk.name, works[0].name, err)
		}
	}
	results := make([]*measured, len(works))
	for i, wk := range works {
		results[i] = &measured{name: wk.name, result: &loadgen.Result{}}
	}
	for round := range rounds {
		for k := range works {
			i := k
			if round%2 == 1 {
				i = len(works) - 1 - k
			}
			opts := works[i].options
			opts.Clients, opts.Total, opts.Duration = clients, math.MaxInt32, duration
			serverBefore, okServer := loadgen.ReadProcessCPU(server.PID())
			clientBefore, okClient := loadgen.ReadProcessCPU(0)
			res := loadgen.Run(context.Background(), opts)
			serverAfter, _ := loadgen.ReadProcessCPU(server.PID())
			clientAfter, _ := loadgen.ReadProcessCPU(0)
			if okServer && okClient {
				results[i].serverCPU += serverAfter - serverBefore
				results[i].clientCPU += clientAfter - clientBefore
			}
			if res.Failures > 0 || res.OK != res.Sent {
				return nil, fmt.Errorf("%s, round %d: not every request answered 200: %s %s", works[i].name, round+1, res, res.FirstFailure)
			}
			results[i].result.Merge(res)
		}
	}
	return results, nil
}

// firstAnswer sends one request of the workload and decodes its answer.
func firstAnswer(wk workload) ([]float32, error) {
	var values []float32
	opts := wk.options
	opts.Clients, opts.Total = 1, 1
	opts.Requests = []loadgen.Request{opts.Requests[0]}
	opts.Requests[0].Check = func(body []byte) (err error) {
		values, err = wk.answer(body)
		return err
	}
	res := loadgen.Run(context.Background(), opts)
	if res.OK != 1 {
		return nil, fmt.Errorf("the first request was not answered 200: %s", res)
	}
	return values, nil
}

func sameValues(got, want []float32) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
			return fmt.Errorf("value %d is %v, want %v", i, got[i], want[i])
		}
	}
	return nil
}

// identityImage is one 1x3x224x224 image in a normalised image's range, with as many digits as one has in
// JSON.
func identityImage() *ops.Tensor {
	shape := ops.Shape{1, 3, 224, 224}
	pixels := make([]float32, shape.Size())
	for i := range pixels {
		pixels[i] = float32(i%255)/127.5 - 1
	}
	return ops.FromSlice(shape, pixels)
}

// writeIdentityModel writes y = Identity(x), x FP32 [N,3,224,224]: a model that does no work, so that what
// is measured is the protocol's cost.
func writeIdentityModel(path string) error {
	// Written with the protobuf types, not package exporter, which the server's packages may not import
	// (internal/layering).
	valueInfo := func(name string) *onnxpb.ValueInfoProto {
		shape := &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{
			{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}}}
		for _, d := range []int64{3, 224, 224} {
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
		}
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: shape}}}}
	}
	m := &onnx.Model{Proto: &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph: &onnxpb.GraphProto{
			Name:   proto.String("identity"),
			Node:   []*onnxpb.NodeProto{{Name: proto.String("identity"), OpType: proto.String("Identity"), Input: []string{"x"}, Output: []string{"y"}}},
			Input:  []*onnxpb.ValueInfoProto{valueInfo("x")},
			Output: []*onnxpb.ValueInfoProto{valueInfo("y")},
		},
	}}
	return m.Save(path)
}

// jsonWorkload posts x as JSON numbers; the answer comes back as JSON.
func jsonWorkload(url, name string, x *ops.Tensor) (workload, error) {
	in, err := serve.NewInput(name, x)
	if err != nil {
		return workload{}, err
	}
	body, err := json.Marshal(serve.InferRequest{Inputs: []serve.RequestInput{in}})
	if err != nil {
		return workload{}, err
	}
	return workload{name: "JSON HTTP",
		options: loadgen.Options{URL: url, Requests: []loadgen.Request{{Body: body, Valid: true}}},
		answer: func(body []byte) ([]float32, error) {
			var resp serve.InferResponse
			if err := json.Unmarshal(body, &resp); err != nil {
				return nil, err
			}
			return firstOutput(&resp)
		}}, nil
}

// binaryWorkload posts x as raw bytes after the JSON header (the binary tensor data extension) and asks
// for every output the same way.
func binaryWorkload(url, name string, x *ops.Tensor) (workload, error) {
	in, err := serve.NewBinaryInput(name, x)
	if err != nil {
		return workload{}, err
	}
	in.Parameters = map[string]any{"binary_data_size": len(in.BinaryData)}
	header, err := json.Marshal(serve.InferRequest{Inputs: []serve.RequestInput{in}, Parameters: map[string]any{"binary_data_output": true}})
	if err != nil {
		return workload{}, err
	}
	body := append(header, in.BinaryData...)
	h := http.Header{}
	h.Set("Content-Type", "application/octet-stream")
	h.Set(serve.HeaderContentLength, strconv.Itoa(len(header)))
	return workload{name: "binary HTTP",
		options: loadgen.Options{URL: url, Requests: []loadgen.Request{{Body: body, Header: h, Valid: true}}},
		answer: func(body []byte) ([]float32, error) {
			// The JSON header is the body's first value; the outputs' bytes follow it in order.
			dec := json.NewDecoder(bytes.NewReader(body))
			var resp serve.InferResponse
			if err := dec.Decode(&resp); err != nil {
				return nil, err
			}
			rest := body[dec.InputOffset():]
			for i := range resp.Outputs {
				size, ok := resp.Outputs[i].Parameters["binary_data_size"].(float64)
				if !ok || size < 0 || int(size) > len(rest) {
					return nil, fmt.Errorf("output %q: binary_data_size %v with %d bytes left", resp.Outputs[i].Name, resp.Outputs[i].Parameters["binary_data_size"], len(rest))
				}
				resp.Outputs[i].BinaryData, rest = rest[:int(size)], rest[int(size):]
			}
			return firstOutput(&resp)
		}}, nil
}

func firstOutput(resp *serve.InferResponse) ([]float32, error) {
	if len(resp.Outputs) == 0 {
		return nil, errors.New("the answer has no output")
	}
	t, err := resp.Outputs[0].Tensor()
	if err != nil {
		return nil, err
	}
	if t.DType() != ops.Float32 {
		return nil, fmt.Errorf("output %q is %s, want FP32", resp.Outputs[0].Name, resp.Outputs[0].Datatype)
	}
	return append([]float32(nil), ops.Data[float32](t)...), nil
}

// grpcWorkload calls ModelInfer with the input in raw_input_contents, over conns connections (0: one
// per client) that the calls take in turn.
func grpcWorkload(addr string, conns, clients int, name string, x *ops.Tensor) (workload, func(), error) {
	if conns == 0 {
		conns = clients
	}
	var (
		stubs   []grpcpb.GRPCInferenceServiceClient
		closers []*grpc.ClientConn
	)
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	for range conns {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			closeAll()
			return workload{}, nil, err
		}
		closers = append(closers, conn)
		stubs = append(stubs, grpcpb.NewGRPCInferenceServiceClient(conn))
	}
	raw := make([]byte, 0, 4*x.Shape().Size())
	for _, v := range ops.Data[float32](x) {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	shape := make([]int64, len(x.Shape()))
	for i, d := range x.Shape() {
		shape[i] = int64(d)
	}
	req := &grpcpb.ModelInferRequest{ModelName: "model",
		Inputs:           []*grpcpb.ModelInferRequest_InferInputTensor{{Name: name, Datatype: "FP32", Shape: shape}},
		RawInputContents: [][]byte{raw}}
	var turn atomic.Uint64
	send := func(ctx context.Context, _ loadgen.Request) (int, []byte, error) {
		resp, err := stubs[turn.Add(1)%uint64(len(stubs))].ModelInfer(ctx, req)
		switch status.Code(err) {
		case codes.OK:
		case codes.ResourceExhausted, codes.Unavailable:
			return http.StatusServiceUnavailable, nil, nil
		default:
			return 0, nil, err
		}
		if len(resp.RawOutputContents) == 0 {
			return 0, nil, errors.New("the answer has no raw_output_contents")
		}
		return http.StatusOK, resp.RawOutputContents[0], nil
	}
	return workload{name: "gRPC (raw contents)",
		options: loadgen.Options{Send: send, Requests: []loadgen.Request{{Valid: true}}},
		answer: func(body []byte) ([]float32, error) {
			if len(body)%4 != 0 {
				return nil, fmt.Errorf("raw output of %d bytes, not whole float32s", len(body))
			}
			values := make([]float32, len(body)/4)
			for i := range values {
				values[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
			}
			return values, nil
		}}, closeAll, nil
}

// ratio is a/b, or NaN when b is 0 (printed as such, never a made-up figure).
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

func writeProtocolTable(w io.Writer, o options, ms []*measured) {
	fmt.Fprintf(w, "### Serving protocols: %s at batch 1, %d clients on loopback, %d rounds of %v per protocol, interleaved\n\n",
		o.model, o.clients, o.rounds, o.duration)
	fmt.Fprintln(w, "| Protocol | Requests | Requests/s | p50 | p99 | Requests/s vs JSON | p99 vs JSON | Server CPU/request | Target (≥ 1.3× JSON's requests/s, p99 ≤ JSON's) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	json := ms[0].result
	for i, m := range ms {
		r := m.result
		throughput := ratio(r.Throughput(), json.Throughput())
		p99 := ratio(float64(r.Percentile(0.99)), float64(json.Percentile(0.99)))
		target := "(the baseline)"
		if i > 0 {
			target = "not met"
			if throughput >= targetThroughputRatio && p99 <= targetP99Ratio {
				target = "met"
			}
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %v | %v | %.2f× | %.2f× | %v | %s |\n", m.name, r.OK, r.Throughput(),
			r.Percentile(0.5).Round(time.Microsecond), r.Percentile(0.99).Round(time.Microsecond), throughput, p99,
			m.cpuPerRequest(m.serverCPU).Round(time.Microsecond), target)
	}
}

func writeEncodingTable(w io.Writer, o options, ms []*measured) {
	fmt.Fprintf(w, "\n### JSON against binary tensors: Identity, FP32 1x3x224x224 in and out, %d clients, %d rounds of %v per encoding, interleaved\n\n",
		o.identityClients, o.rounds, o.identityDuration)
	fmt.Fprintln(w, "| Encoding | Requests | Requests/s | p50 | p99 | Request bytes | Response bytes | Server CPU/request | Client CPU/request |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, m := range ms {
		r := m.result
		perRequest := func(total int64) int64 { return total / int64(max(r.Sent, 1)) }
		fmt.Fprintf(w, "| %s | %d | %.0f | %v | %v | %d | %d | %v | %v |\n", m.name, r.OK, r.Throughput(),
			r.Percentile(0.5).Round(time.Microsecond), r.Percentile(0.99).Round(time.Microsecond),
			perRequest(r.RequestBytes), perRequest(r.ResponseBytes),
			m.cpuPerRequest(m.serverCPU).Round(time.Microsecond), m.cpuPerRequest(m.clientCPU).Round(time.Microsecond))
	}
}
