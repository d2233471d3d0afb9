package serve

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/ops"
)

// identityImageGraph is y = Identity(x) for an image batch x FP32 [N,3,224,224]: the model does no work, so
// what a benchmark of it measures is the protocol's cost, JSON against binary.
func identityImageGraph() *exporter.Graph {
	b := exporter.NewGraph("identity")
	x := b.Input("x", f32, "N", 3, 224, 224)
	y := b.Node("Identity", []string{x}, nil)
	b.Rename(y, "y")
	b.Output("y", f32, "N", 3, 224, 224)
	return b
}

// countingTransport counts the bytes of request and response bodies that go through it.
type countingTransport struct {
	http.RoundTripper
	bytes atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.ContentLength > 0 {
		c.bytes.Add(req.ContentLength)
	}
	resp, err := c.RoundTripper.RoundTrip(req)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.bytes}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// BenchmarkInferJSONvsBinary posts one 1x3x224x224 FP32 image per request to an Identity model on loopback,
// from GOMAXPROCS concurrent keep-alive clients, with the tensors as JSON numbers both ways and then as raw
// bytes both ways (the binary tensor data extension). It reports requests per second, the bytes of body sent
// and received per request, and the process's CPU time per request (client and server share the process:
// the cost of one request end to end).
func BenchmarkInferJSONvsBinary(b *testing.B) {
	ts := startServer(b, Config{}, newModel(b, "identity", identityImageGraph(), Config{}))
	shape := ops.Shape{1, 3, 224, 224}
	pixels := make([]float32, shape.Size())
	for i := range pixels {
		pixels[i] = float32(i%255)/127.5 - 1 // a normalised image's range, with as many digits as one has
	}
	x := ops.FromSlice(shape, pixels)
	for _, mode := range []struct {
		name   string
		binary bool
		input  func(string, *ops.Tensor) (RequestInput, error)
	}{{"JSON", false, NewInput}, {"binary", true, NewBinaryInput}} {
		b.Run(mode.name, func(b *testing.B) {
			in, err := mode.input("x", x)
			if err != nil {
				b.Fatal(err)
			}
			req := &InferRequest{Inputs: []RequestInput{in}}
			transport := &countingTransport{RoundTripper: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
			client := &Client{BaseURL: ts.url, HTTP: &http.Client{Transport: transport}, BinaryOutputs: mode.binary}
			checkIdentityAnswer(b, client, req, x)
			transport.bytes.Store(0)
			cpuBefore, cpuOK := processCPUTime()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := client.Infer(context.Background(), "identity", req); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(transport.bytes.Load())/float64(b.N), "bytes/req")
			if cpuAfter, ok := processCPUTime(); ok && cpuOK {
				b.ReportMetric(float64((cpuAfter-cpuBefore)/time.Microsecond)/float64(b.N), "cpu-µs/req")
			}
		})
	}
}

// checkIdentityAnswer makes one request and checks that the answer is x, in the form asked for.
func checkIdentityAnswer(b *testing.B, client *Client, req *InferRequest, x *ops.Tensor) {
	resp, err := client.Infer(context.Background(), "identity", req)
	if err != nil {
		b.Fatal(err)
	}
	if len(resp.Outputs) != 1 || (resp.Outputs[0].BinaryData != nil) != client.BinaryOutputs {
		b.Fatalf("the answer is not one output in the form asked for (binary %v): %+v", client.BinaryOutputs, resp.Outputs)
	}
	y, err := resp.Outputs[0].Tensor()
	if err != nil {
		b.Fatal(err)
	}
	want := ops.Data[float32](x)
	for i, v := range ops.Data[float32](y) {
		if v != want[i] {
			b.Fatalf("element %d is %v, want %v", i, v, want[i])
		}
	}
}
