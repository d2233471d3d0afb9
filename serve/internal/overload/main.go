// Command overload measures how `onnxrun serve` degrades under more load than it can serve, for the
// target of issue 18: with 4x the capacity offered, the requests admitted keep their p99 within 3x of the
// unloaded p99, the rest get 503 with Retry-After, and memory stays bounded. It serves a model in process
// on 127.0.0.1 and runs three phases of -duration each:
//
//  1. unloaded: one client, closed loop: the p99 of a server with nothing else to do;
//  2. capacity: -clients clients, closed loop: the requests per second the server sustains;
//  3. overload: -factor times that capacity offered open loop (requests arrive on schedule whatever the
//     answers), no retries: the admitted requests' p99, the share refused with 503, and the resident
//     memory (VmRSS, VmHWM of this process, client and server together) before and after.
//
// The generator runs in the same process as the server and takes CPU from it: on a small machine the
// figures are pessimistic (pin the server's sessions below the core count, e.g. -sessions 2 on 4 cores, to
// leave the generator room). Arrivals past -inflight are not sent and are reported.
//
// Run it on a quiet machine (the figures go to RELIABILITY.md):
//
//	go run ./serve/internal/overload -model ../shared/models/lenet_torch_opset13/model.onnx
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"time"

	"github.com/onnxrun/onnxrun/serve"
	"github.com/onnxrun/onnxrun/serve/internal/loadgen"
)

func main() {
	model := flag.String("model", "../shared/models/lenet_torch_opset13/model.onnx", "the model to serve; its inputs must be FP32 with a batch of one")
	duration := flag.Duration("duration", 10*time.Second, "the length of each phase")
	clients := flag.Int("clients", 64, "closed-loop clients for the capacity phase")
	factor := flag.Float64("factor", 4, "the offered load of the overload phase, in multiples of the capacity measured")
	sessions := flag.Int("sessions", 0, "sessions (0: one per core)")
	maxBatch := flag.Int("max-batch", 0, "dynamic batching's largest batch (0 or 1: off)")
	inFlight := flag.Int("inflight", 1024, "the generator's bound on requests in flight in the overload phase; arrivals past it are not sent, and reported")
	queueSize := flag.Int("queue-size", 0, "requests that may wait for the model (0: the default, 2 x sessions x max batch)")
	flag.Parse()
	if err := run(*model, *duration, *clients, *inFlight, *factor, serve.Config{Sessions: *sessions, MaxBatch: *maxBatch, QueueSize: *queueSize}); err != nil {
		fmt.Fprintln(os.Stderr, "overload:", err)
		os.Exit(1)
	}
}

func run(path string, duration time.Duration, clients, inFlight int, factor float64, cfg serve.Config) error {
	if clients < 1 || inFlight < 1 || factor <= 0 || duration <= 0 {
		return errors.New("-clients, -inflight, -factor and -duration must be positive")
	}
	m, err := serve.Load(serve.ModelSource{Name: "model", Path: path}, cfg)
	if err != nil {
		return err
	}
	body, err := requestBody(m.Metadata())
	if err != nil {
		return err
	}
	srv, err := serve.New(cfg, m)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	ctx := context.Background()
	opts := loadgen.Options{URL: "http://" + ln.Addr().String() + "/v2/models/model/infer",
		Requests: []loadgen.Request{{Body: body, Valid: true}}, Total: 1 << 30, Duration: duration}
	fmt.Printf("model %s, queue size %d, phases of %v\n", path, m.QueueSize(), duration)

	opts.Clients = 1
	unloaded := loadgen.Run(ctx, opts)
	fmt.Printf("unloaded (1 client):      %s\n", unloaded)

	opts.Clients = clients
	capacity := loadgen.Run(ctx, opts)
	fmt.Printf("capacity (%d clients):    %s\n", clients, capacity)
	if unloaded.Failures+capacity.Failures > 0 || capacity.OK == 0 {
		return fmt.Errorf("failures before the overload phase: %s%s", unloaded.FirstFailure, capacity.FirstFailure)
	}

	debug.FreeOSMemory()
	before, haveMemory := loadgen.ReadMemory()
	rate := factor * capacity.Throughput()
	opts.Rate, opts.Total, opts.Duration = rate, int(rate*duration.Seconds()), 0
	opts.Clients = inFlight
	over := loadgen.Run(ctx, opts)
	debug.FreeOSMemory()
	after, _ := loadgen.ReadMemory()
	fmt.Printf("overload (%.0f/s offered): %s\n", rate, over)

	ratio := float64(over.Percentile(0.99)) / float64(unloaded.Percentile(0.99))
	fmt.Printf("\nadmitted p99 / unloaded p99 = %v / %v = %.2fx (target <= 3x)\n",
		over.Percentile(0.99).Round(time.Microsecond), unloaded.Percentile(0.99).Round(time.Microsecond), ratio)
	if over.OpenLoopDropped > 0 {
		fmt.Printf("WARNING: %d arrivals were not sent (-inflight %d reached): the load offered was below %.0f/s; "+
			"raise -inflight, or the generator, in the same process, is starving the server of CPU\n", over.OpenLoopDropped, inFlight, rate)
	}
	fmt.Printf("refused with 503: %d of %d (%.0f%%); failures: %d %s\n", over.Refused, over.Sent,
		100*float64(over.Refused)/float64(max(over.Sent, 1)), over.Failures, over.FirstFailure)
	if haveMemory {
		fmt.Printf("resident memory: %s before the overload phase, %s after, peak %s\n",
			loadgen.MiB(before.RSS), loadgen.MiB(after.RSS), loadgen.MiB(after.HWM))
	}
	fmt.Printf("\n| %s | %.0f | %v | %.0f | %v | %.2fx | %.0f%% | %s | %s |\n", m.Name(), capacity.Throughput(),
		unloaded.Percentile(0.99).Round(time.Microsecond), rate, over.Percentile(0.99).Round(time.Microsecond), ratio,
		100*float64(over.Refused)/float64(max(over.Sent, 1)), loadgen.MiB(before.RSS), loadgen.MiB(after.HWM))
	return nil
}

// requestBody is a JSON request with every input at a batch of one (symbolic dimensions taken as 1),
// filled with 0.5.
func requestBody(md serve.ModelMetadata) ([]byte, error) {
	var req serve.InferRequest
	for _, in := range md.Inputs {
		if in.Datatype != "FP32" {
			return nil, fmt.Errorf("input %q is %s; this command sends FP32 inputs only", in.Name, in.Datatype)
		}
		shape := make([]int64, len(in.Shape))
		n := 1
		for i, d := range in.Shape {
			shape[i] = max(d, 1)
			n *= int(shape[i])
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = 0.5
		}
		raw, err := json.Marshal(data)
		if err != nil {
			return nil, err
		}
		req.Inputs = append(req.Inputs, serve.RequestInput{Name: in.Name, Shape: shape, Datatype: "FP32", Data: raw})
	}
	return json.Marshal(req)
}
