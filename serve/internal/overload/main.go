// Command overload measures how `onnxrun serve` degrades under more load than it can serve, for the
// target of issue 18: with 4x the capacity offered, the requests admitted keep their p99 within 3x of the
// unloaded p99, the rest get 503 with Retry-After, and memory stays bounded. The server runs in a child
// process (serverproc: this command started again in server mode, with the calls `onnxrun serve`
// makes) on 127.0.0.1, so that the operating system schedules it apart from the load generator, and the
// generator can offer 4x what the server sustains without the two sharing one Go scheduler. Three phases
// of -duration each:
//
//  1. unloaded: one client, closed loop: the p99 of a server with nothing else to do;
//  2. capacity: -clients clients, closed loop: the requests per second the server sustains;
//  3. overload: -factor times that capacity offered open loop (requests arrive on schedule whatever the
//     answers, from -inflight worker goroutines over as many connections, opened before the phase, the
//     request body built once),
//     no retries: the admitted requests' p99 (timed from their sending; the generator's lateness against
//     the schedule is reported, and warned about when it passes the unloaded p99), the share
//     refused with 503, and the server process's resident memory: its peak (VmHWM in /proc/PID/status)
//     before the phase and at its end, and the largest VmRSS sampled during it.
//
// The load average is printed at the start and the end. Arrivals past -inflight are not sent, and the
// command warns that the load offered fell short.
//
// The model should cost milliseconds a request (make overload serves the ResNet-18-style CIFAR CNN that
// scripts/make-bench-models.sh builds): then 4x the capacity is a few hundred to a few thousand requests a
// second, which a generator sharing the cores can offer, and refusing a request (a 503 before its body is
// read) costs far less than serving one. With LeNet (about 100µs a request) the generator and the HTTP
// handling of the refusals take as much CPU as the model, and the run measures them instead.
//
// Run it on a quiet machine (the figures go to RELIABILITY.md):
//
//	make overload OUT=overload.txt
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/onnxrun/onnxrun/serve"
	"github.com/onnxrun/onnxrun/serve/internal/loadgen"
	"github.com/onnxrun/onnxrun/serve/internal/serverproc"
)

type options struct {
	model    string
	duration time.Duration
	clients  int
	inFlight int
	factor   float64
	server   serverproc.Spec // Models filled by run
}

func main() {
	serverproc.ServeIfChild()
	var o options
	flag.StringVar(&o.model, "model", ".cache/models/resnet18_cifar.onnx", "the model to serve; one FP32 input, sent at a batch of one (scripts/make-bench-models.sh makes the default)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "the length of each phase")
	flag.IntVar(&o.clients, "clients", 64, "closed-loop clients for the capacity phase")
	flag.Float64Var(&o.factor, "factor", 4, "the offered load of the overload phase, in multiples of the capacity measured")
	flag.IntVar(&o.server.Sessions, "sessions", 0, "sessions (0: one per core)")
	flag.IntVar(&o.server.MaxBatch, "max-batch", 0, "dynamic batching's largest batch (0 or 1: off)")
	flag.IntVar(&o.inFlight, "inflight", 1024, "the generator's bound on requests in flight (and connections) in the overload phase; arrivals past it are not sent, and reported")
	flag.IntVar(&o.server.QueueSize, "queue-size", 0, "requests that may wait for the model (0: the default, 2 x sessions x max batch)")
	flag.DurationVar(&o.server.MaxQueueDelay, "max-queue-delay", 0, "the server's delay budget (0: the default, two of the model's runs)")
	out := flag.String("out", "", "also write the output, its table last, to this file")
	flag.Parse()
	loadgen.Main("overload", *out, func(w io.Writer) error {
		_, err := run(o, w)
		return err
	})
}

// report is what a run measured, for the tests.
type report struct {
	unloaded, capacity, overload *loadgen.Result
	serverPID                    int     // the child process that served
	offered                      float64 // requests per second
	// Server memory: VmHWM before the overload phase and after it, and the largest VmRSS sampled during it.
	hwmBefore, hwmAfter, rssDuring int64
	haveMemory                     bool
}

// memorySamplePeriod is how often the overload phase samples the server's VmRSS.
const memorySamplePeriod = 50 * time.Millisecond

func run(o options, w io.Writer) (rep *report, err error) {
	if o.clients < 1 || o.inFlight < 1 || o.factor <= 0 || o.duration <= 0 {
		return nil, errors.New("-clients, -inflight, -factor and -duration must be positive")
	}
	fmt.Fprintf(w, "load average at start: %s\n", loadgen.LoadAverage())
	spec := o.server
	spec.Models = []serverproc.Model{{Name: "model", Path: o.model}}
	server, err := serverproc.Start(spec)
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
	in, err := serve.NewInput(inputName, input)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(serve.InferRequest{Inputs: []serve.RequestInput{in}})
	if err != nil {
		return nil, err
	}

	ctx := context.Background()
	opts := loadgen.Options{URL: base + "/v2/models/model/infer",
		Requests: []loadgen.Request{{Body: body, Valid: true}}, Total: 1 << 30, Duration: o.duration}
	fmt.Fprintf(w, "model %s, server process %d, queue size %d, queue delay budget %s, phases of %v\n", o.model, server.PID(),
		server.QueueSizes["model"], delayBudgetText(o.server.MaxQueueDelay), o.duration)
	rep = &report{serverPID: server.PID()}

	opts.Clients = 1
	rep.unloaded = loadgen.Run(ctx, opts)
	fmt.Fprintf(w, "unloaded (1 client):      %s\n", rep.unloaded)

	opts.Clients = o.clients
	rep.capacity = loadgen.Run(ctx, opts)
	fmt.Fprintf(w, "capacity (%d clients):    %s\n", o.clients, rep.capacity)
	if rep.unloaded.Failures+rep.capacity.Failures > 0 || rep.capacity.OK == 0 || rep.unloaded.OK == 0 {
		return nil, fmt.Errorf("failures before the overload phase: %s%s", rep.unloaded.FirstFailure, rep.capacity.FirstFailure)
	}

	// Open the overload phase's connections first, so that it measures requests, not TCP handshakes: one
	// request from each of -inflight clients at once (a burst the queue mostly refuses; the 503s keep
	// their connections alive).
	client := loadgen.NewHTTPClient(o.inFlight)
	defer client.CloseIdleConnections()
	opts.HTTPClient, opts.Clients, opts.Total = client, o.inFlight, o.inFlight
	warm := loadgen.Run(ctx, opts)
	if warm.Failures > 0 {
		return nil, fmt.Errorf("opening %d connections: %s", o.inFlight, warm.FirstFailure)
	}

	before, haveMemory := loadgen.ReadProcessMemory(server.PID())
	rep.offered = o.factor * rep.capacity.Throughput()
	opts.Rate, opts.Total, opts.Duration = rep.offered, max(int(rep.offered*o.duration.Seconds()), 1), 0
	opts.Clients = o.inFlight
	stopSampling := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		tick := time.NewTicker(memorySamplePeriod)
		defer tick.Stop()
		for {
			if m, ok := loadgen.ReadProcessMemory(server.PID()); ok {
				rep.rssDuring = max(rep.rssDuring, m.RSS)
			}
			select {
			case <-tick.C:
			case <-stopSampling:
				return
			}
		}
	}()
	rep.overload = loadgen.Run(ctx, opts)
	close(stopSampling)
	sampling.Wait()
	after, haveAfter := loadgen.ReadProcessMemory(server.PID())
	rep.haveMemory = haveMemory && haveAfter
	// The kernel's RSS counters are per-CPU caches: a VmRSS sample may pass the VmHWM read after it by a
	// few pages, so the peak during the phase is the larger of the two.
	rep.hwmBefore, rep.hwmAfter = before.HWM, max(after.HWM, rep.rssDuring)
	over := rep.overload
	fmt.Fprintf(w, "overload (%.0f/s offered): %s\n", rep.offered, over)

	unloadedP99, admittedP99 := rep.unloaded.Percentile(0.99), over.Percentile(0.99)
	ratio := float64(admittedP99) / float64(unloadedP99)
	verdict := "not met"
	if ratio <= 3 {
		verdict = "met"
	}
	fmt.Fprintf(w, "\nadmitted p99 / unloaded p99 = %v / %v = %.2fx (target <= 3x: %s)\n",
		admittedP99.Round(time.Microsecond), unloadedP99.Round(time.Microsecond), ratio, verdict)
	keptUp := over.OpenLoopDropped == 0 && over.SendLag(0.99) <= unloadedP99
	fmt.Fprintf(w, "generator kept up: %v\n", map[bool]string{true: "yes", false: "no (see the warnings: the run does not measure the target)"}[keptUp])
	if over.OpenLoopDropped > 0 {
		fmt.Fprintf(w, "WARNING: %d arrivals were not sent (-inflight %d reached): the load offered was below %.0f/s; "+
			"raise -inflight, or the generator is short of CPU\n", over.OpenLoopDropped, o.inFlight, rep.offered)
	}
	if lag := over.SendLag(0.99); lag > unloadedP99 {
		fmt.Fprintf(w, "WARNING: the generator sent 1%% of its requests more than %v after their scheduled arrival (more than "+
			"the unloaded p99): it was short of CPU, and the server was offered less than %.0f/s in bursts\n", lag.Round(time.Microsecond), rep.offered)
	}
	refused := 100 * float64(over.Refused) / float64(max(over.Sent, 1))
	fmt.Fprintf(w, "refused with 503: %d of %d (%.0f%%); failures: %d %s\n", over.Refused, over.Sent, refused, over.Failures, over.FirstFailure)
	hwmBefore, hwmAfter, rssDuring := "unknown", "unknown", "unknown"
	if rep.haveMemory {
		hwmBefore, hwmAfter, rssDuring = loadgen.MiB(rep.hwmBefore), loadgen.MiB(rep.hwmAfter), loadgen.MiB(rep.rssDuring)
		fmt.Fprintf(w, "server resident memory: peak %s before the overload phase, peak %s after it; largest VmRSS sampled during it %s\n",
			hwmBefore, hwmAfter, rssDuring)
	}
	fmt.Fprintf(w, "load average at end: %s\n", loadgen.LoadAverage())
	fmt.Fprintln(w, "\n| Model | Capacity (req/s) | Unloaded p99 | Offered (req/s) | Admitted p99 | Ratio (target ≤ 3×) | Refused (503) | Server peak RSS before | Server peak RSS during |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	fmt.Fprintf(w, "| %s | %.0f | %v | %.0f | %v | %.2f× (%s) | %.0f%% | %s | %s |\n", o.model, rep.capacity.Throughput(),
		unloadedP99.Round(time.Microsecond), rep.offered, admittedP99.Round(time.Microsecond), ratio, verdict,
		refused, hwmBefore, hwmAfter)
	return rep, nil
}

func delayBudgetText(d time.Duration) string {
	if d > 0 {
		return d.String()
	}
	return "two runs (the default)"
}
