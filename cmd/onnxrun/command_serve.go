package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/onnxrun/onnxrun/serve"
	"github.com/onnxrun/onnxrun/tensorio"
)

func serveCommand() *command {
	return &command{
		name:    "serve",
		summary: "serve models over HTTP with the Open Inference Protocol (KServe v2), with metrics",
		usage:   "serve [flags] [--model-dir DIR] [MODEL.onnx | NAME=MODEL.onnx]...",
		help: `Serve compiles the models given as files (named after the file: lenet.onnx is "lenet", or NAME=FILE) and
those found in --model-dir (each NAME.onnx, and each folder NAME/ holding model.onnx or one .onnx file),
then answers the Open Inference Protocol's REST API until it gets SIGINT or SIGTERM:

  GET  /v2/health/live, /v2/health/ready     liveness and readiness probes
  GET  /v2                                   server metadata
  GET  /v2/models/NAME                       inputs and outputs: name, datatype, shape (-1 = variable)
  GET  /v2/models/NAME/ready                 model readiness
  POST /v2/models/NAME/infer                 JSON tensors in, JSON tensors out
  GET  /metrics                              Prometheus metrics: requests, latency, batch sizes, memory, model loads
  GET  /                                     a page to try the models in a browser
  POST /v2/repository/index                  every model with its state (READY, UNAVAILABLE, LOADING) and reason
  POST /v2/repository/models/NAME/load       load or reload NAME from --model-dir (with --model-control)
  POST /v2/repository/models/NAME/unload     stop serving NAME (with --model-control)

--model-dir is a model repository: it is scanned again every --poll-interval (0: never), so that a new
model file loads, a changed one (replaced, rewritten, or its settings file changed) reloads and a removed one
unloads. Requests in flight finish on the model they started on; a file that fails to load leaves the
previous version serving and is reported in the log, the index and onnxrun_model_loads_total. Replace files
by renaming a finished copy over them. A model's settings go in NAME.json beside NAME.onnx, or settings.json
beside a NAME/ folder's model.onnx, and override the flags for that model:

  {"threads": 1, "sessions": 2, "max_batch": 8, "max_batch_delay": "2ms", "queue_size": 64,
   "max_queue_delay": "20ms", "shapes": {"input": [1, 1, 28, 28]},
   "preprocess": {"width": 28, "height": 28, "channels": 1, "scale": 0.0039215686, "mean": [0.1307],
                  "std": [0.3081], "invert": true, "labels": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]}}

The load and unload endpoints are off unless --model-control is given (they answer 403). With it they
need a bearer token: --auth-token-file names a file holding it (white space around it ignored; a missing or
empty file stops the start), and a request without "Authorization: Bearer TOKEN", or with another token,
gets 401 with a WWW-Authenticate: Bearer challenge. The file is re-read when it changes (checked at most
every second), so a rotated Kubernetes Secret takes effect without a restart; a replacement that is empty
or unreadable is logged and the previous token kept. --model-control without --auth-token-file is refused
unless --insecure-model-control says that whoever reaches the port may load and unload models.
--auth-infer extends the token to inference, metadata, the repository index, the try-it page's model list
and /metrics, over HTTP and gRPC (metadata "authorization: Bearer TOKEN", else UNAUTHENTICATED); health
(/v2/health/*, model readiness, ServerLive, ServerReady, ModelReady, grpc.health.v1) and the page itself
stay open, and the page asks for the token. A model name in a request is a plain name (no '/', '\', "..",
NUL or absolute path, escaped or not: 400); a file of --model-dir that is a symlink leading outside it is
refused like a broken model, and answers name files relative to --model-dir. With --model-name, --model-dir
must hold one model, served under that name and watched the same way (a folder that comes to hold two is
reported and the model loaded keeps serving); with --print-request, --model-dir is read once.

With --grpc-port, the same models are also served over gRPC: KServe's v2 GRPCInferenceService (ServerLive,
ServerReady, ModelReady, ServerMetadata, ModelMetadata, ModelInfer with typed or raw contents) and the
standard grpc.health.v1 service (SERVING for "" and each model name; NOT_SERVING while draining), for
grpc-health-probe. Both protocols share the sessions, batching, limits and timeout.

The page at / lists the models with their inputs and outputs and runs any of them from a JSON form. An
image model, one whose NAME.json beside NAME.onnx has "preprocess" (size, channels, scale, invert, mean,
std, layout, labels), also gets a canvas to draw on and a drop zone for an image, preprocessed in the
browser as the settings say, and shows the top classes. The shipped models/lenet/lenet.json makes
models/lenet/lenet.onnx such a model.

Each model gets --sessions sessions (default: one per CPU) of --threads threads each. With --max-batch
above 1, requests to a model with a variable first dimension that arrive within --max-batch-delay of each
other run as one batch. At most --queue-size requests wait for a model, and a request is admitted only
while the wait it faces (the requests ahead times the model's time per request, measured as it serves,
over its sessions) is within --max-queue-delay (by default two of the model's runs): past either, a
request gets 503 with Retry-After (gRPC RESOURCE_EXHAUSTED) at once, so that those admitted keep their
latency under overload, and onnxrun_queue_size in /metrics shows the queue for autoscaling. A client may shorten its deadline with the Request-Timeout header. On SIGTERM the server reports not ready, waits --drain-delay, stops accepting
connections and finishes the requests in flight (for up to --shutdown-timeout).

--memory-limit (or the GOMEMLIMIT environment variable, which the flag overrides) sets the Go runtime's soft
memory limit: the collector runs more often as the heap nears it, instead of letting the heap grow to
twice its live size. Set it to about 90% of the container's memory; see docs/memory.md.

With --tls-cert and --tls-key, HTTP and gRPC are served over TLS (1.2 or later); the files are re-read
when they change (checked at most every second, by inode and modification time), so a renewed certificate,
such as a Kubernetes Secret the kubelet swaps by renaming a symlink, is served without a restart; a
renewal that fails to load is logged and the previous certificate kept. With --tls-client-ca as well,
clients must present a certificate signed by one of its CAs (mutual TLS): a client without one is refused
during the handshake. The kubelet's probes have no client certificate: --health-port serves
/v2/health/live, /v2/health/ready and grpc.health.v1 alone, in plain text, for them.

Hostile clients are bounded: request bodies and gRPC messages by --max-body-bytes, the tensor elements of a
request by --max-elements (checked from the shapes before anything is allocated, so a shape such as
[4611686018427387904,4] is a 400 at once), headers to 64 KiB and --read-header-timeout, a whole request to
--read-timeout (a client trickling bytes is cut off and holds no session meanwhile), idle connections to
--idle-timeout, and calls per HTTP/2 or gRPC connection to 100.

--print-request FILE... writes the JSON of an inference request for the (single) model from .npy or .pb
tensor files, one per model input, and exits: a body for curl.`,
		examples: []string{
			"onnxrun serve models/lenet/lenet.onnx",
			"onnxrun serve --model-dir /mnt/models --model-name lenet --http-port 8080",
			"onnxrun serve --model-dir models/ --poll-interval 5s --model-control --auth-token-file /etc/onnxrun/token",
			"onnxrun serve --grpc-port 8081 models/lenet/lenet.onnx",
			"onnxrun serve --max-batch 32 --max-batch-delay 2ms lenet=model.onnx",
			"onnxrun serve --tls-cert tls.crt --tls-key tls.key --tls-client-ca ca.crt --health-port 8082 lenet.onnx",
			"onnxrun serve models/lenet/lenet.onnx --print-request models/lenet/digit_7.npy > digit.json",
		},
		define: func(fs *pflag.FlagSet) func(*env, []string) error {
			var o serveOptions
			fs.StringVar(&o.modelDir, "model-dir", "", "serve every model in this folder, a model repository rescanned every --poll-interval")
			fs.DurationVar(&o.cfg.PollInterval, "poll-interval", 10*time.Second, "rescan --model-dir this often: load new models, reload changed ones, unload removed ones (0: never)")
			fs.BoolVar(&o.cfg.ModelControl, "model-control", false, "turn on POST /v2/repository/models/NAME/load and /unload (needs --auth-token-file or --insecure-model-control)")
			fs.StringVar(&o.cfg.AuthTokenFile, "auth-token-file", "", "the bearer token that load and unload (and with --auth-infer, everything but health) require; re-read when it changes")
			fs.BoolVar(&o.cfg.AuthInfer, "auth-infer", false, "require the --auth-token-file token for inference, metadata, the index, the page's model list and /metrics too (HTTP and gRPC)")
			fs.BoolVar(&o.cfg.InsecureModelControl, "insecure-model-control", false, "allow --model-control without a token: anyone who reaches the port may load and unload models")
			fs.StringVar(&o.modelName, "model-name", "", "the name to serve the one model under (KServe passes the InferenceService's name)")
			fs.StringVar(&o.host, "host", "", "address to listen on (default: every interface)")
			fs.IntVar(&o.port, "http-port", 8080, "HTTP port (0: any free port)")
			fs.IntVar(&o.grpcPort, "grpc-port", -1, "also serve the Open Inference Protocol over gRPC, with grpc.health.v1, on this port (0: any free port; -1: no gRPC)")
			fs.IntVar(&o.cfg.Sessions, "sessions", 0, "sessions per model: how many requests run at once (0: one per CPU)")
			fs.IntVar(&o.cfg.Threads, "threads", 1, "threads per session inside operators")
			fs.StringArrayVar(&o.shapes, "shape", nil, shapeFlagHelp)
			fs.IntVar(&o.cfg.MaxBatch, "max-batch", 1, "most rows per dynamic batch (1: no batching)")
			fs.DurationVar(&o.cfg.MaxBatchDelay, "max-batch-delay", 2*time.Millisecond, "longest a request waits for its batch to fill")
			fs.IntVar(&o.cfg.QueueSize, "queue-size", 0, "requests that may wait for each model; past it, 503 with Retry-After (0: 2 x sessions x max batch)")
			fs.DurationVar(&o.cfg.MaxQueueDelay, "max-queue-delay", 0, "refuse with 503 a request that would wait longer for a session (requests ahead x the measured time per request / sessions; 0: two of the model's runs)")
			fs.DurationVar(&o.cfg.RequestTimeout, "request-timeout", 30*time.Second, "answer 504 to a request not done in this time")
			fs.Int64Var(&o.cfg.MaxBodyBytes, "max-body-bytes", 32<<20, "answer 413 to a request body larger than this")
			fs.DurationVar(&o.cfg.DrainDelay, "drain-delay", 0, "on SIGTERM, keep serving (not ready) this long before closing the listener")
			fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, wait this long for requests in flight")
			fs.Var(&o.memoryLimit, "memory-limit", "the Go runtime's soft memory limit (debug.SetMemoryLimit), e.g. 512MiB or 2GB: the collector works harder as the heap nears it (default: GOMEMLIMIT, else none)")
			fs.StringArrayVar(&o.printRequest, "print-request", nil, "write an inference request for these tensor files ([NAME=]FILE) and exit")
			fs.StringVar(&o.tls.CertFile, "tls-cert", "", "serve HTTP and gRPC over TLS with this PEM certificate chain (re-read when it changes)")
			fs.StringVar(&o.tls.KeyFile, "tls-key", "", "the PEM private key of --tls-cert")
			fs.StringVar(&o.tls.ClientCAFile, "tls-client-ca", "", "mutual TLS: require client certificates signed by a CA in this PEM file")
			fs.IntVar(&o.healthPort, "health-port", -1, "also serve the health probes alone, in plain text (HTTP and gRPC), on this port (0: any free port; -1: none)")
			fs.Int64Var(&o.cfg.MaxElements, "max-elements", 0, "answer 400 to a request whose tensors hold more elements in all (0: --max-body-bytes)")
			fs.DurationVar(&o.cfg.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "close a connection whose request headers take longer")
			fs.DurationVar(&o.cfg.ReadTimeout, "read-timeout", 0, "close a connection whose whole request, body included, takes longer (0: --request-timeout, at least 5s)")
			fs.DurationVar(&o.cfg.IdleTimeout, "idle-timeout", 2*time.Minute, "close a keep-alive or gRPC connection idle this long")
			o.quiet = switchFlag(fs, "quiet", "q", "log only errors")
			return o.run
		},
	}
}

type serveOptions struct {
	modelDir        string
	modelName       string
	host            string
	port            int
	grpcPort        int // -1: no gRPC
	cfg             serve.Config
	shapes          []string
	shutdownTimeout time.Duration
	printRequest    []string
	memoryLimit     byteSize // 0: leave the Go runtime's limit (GOMEMLIMIT) as it is
	quiet           *bool
	tls             serve.TLSFiles
	healthPort      int // -1: no health port
}

func (o *serveOptions) run(e *env, args []string) error {
	cmd := findCommand("serve")
	if err := o.check(cmd); err != nil {
		return err
	}
	pins, err := parsePins(cmd, o.shapes)
	if err != nil {
		return err
	}
	o.cfg.InputShapes = pins
	if o.tls.CertFile != "" || o.tls.KeyFile != "" {
		o.cfg.TLS = &o.tls
	}
	var sources []serve.ModelSource
	// --print-request takes the directory's one model as it is now; else the server owns the directory
	// as a model repository and watches it, serving its one model under --model-name if given.
	watchDir := o.modelDir != "" && len(o.printRequest) == 0
	if watchDir {
		o.cfg.ModelDir = o.modelDir
		if o.modelName != "" {
			if len(args) > 0 {
				return usagef(cmd, "--model-name names --model-dir's one model; give no model files with it (got %s)", strings.Join(args, " "))
			}
			o.cfg.ModelName = o.modelName
		}
	} else if o.modelDir != "" {
		found, err := serve.ModelsInDir(o.modelDir)
		if err != nil {
			return err
		}
		sources = append(sources, found...)
	}
	for _, arg := range args {
		src, err := serve.ParseModelSource(arg)
		if err != nil {
			return usagef(cmd, "%v", err)
		}
		sources = append(sources, src)
	}
	if len(sources) == 0 && !watchDir {
		return usagef(cmd, "no models: give model files or --model-dir")
	}
	if o.modelName != "" && !watchDir {
		if len(sources) != 1 {
			return usagef(cmd, "--model-name names one model, but there are %d (%s)", len(sources), serve.SourceNames(sources))
		}
		sources[0].Name = o.modelName
	}
	if len(o.printRequest) > 0 {
		if len(sources) != 1 {
			return usagef(cmd, "--print-request needs exactly one model, got %d (%s)", len(sources), serve.SourceNames(sources))
		}
		return o.writeRequest(e, sources[0])
	}

	logger := log.New(e.stderr, "", log.LstdFlags)
	info := logger.Printf
	if *o.quiet {
		info = func(string, ...any) {}
	}
	o.cfg.Logf = logger.Printf
	if o.memoryLimit > 0 {
		// Before the models load, so that loading too collects against the limit; restored on return for
		// a caller that goes on (the tests run the command in their own process).
		previous := debug.SetMemoryLimit(int64(o.memoryLimit))
		defer debug.SetMemoryLimit(previous)
		info("memory limit %d bytes (debug.SetMemoryLimit)", int64(o.memoryLimit))
	}
	var models []*serve.Model
	closeAll := func() {
		for _, m := range models {
			m.Close()
		}
	}
	for _, src := range sources {
		start := time.Now()
		m, err := serve.Load(src, o.cfg)
		if err != nil {
			closeAll()
			return fmt.Errorf("%s: %w", src.Path, err)
		}
		models = append(models, m)
		info("model %q from %s in %v: %s", src.Name, src.Path, time.Since(start).Round(time.Millisecond), describeModel(m))
	}
	srv, err := serve.New(o.cfg, models...)
	if err != nil {
		closeAll()
		return err
	}
	if watchDir {
		for _, m := range srv.Models() {
			if !isSource(sources, m.Name()) {
				info("model %q from %s: %s", m.Name(), o.modelDir, describeModel(m))
			}
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(o.host, strconv.Itoa(o.port)))
	if err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	scheme := "http"
	if o.cfg.TLS != nil {
		scheme = "https"
	}
	fmt.Fprintf(e.stdout, "onnxrun serve: listening on %s://%s (models: %s)\n", scheme, ln.Addr(), servedNames(srv))
	fmt.Fprintf(e.stdout, "onnxrun serve: try the models at %s://%s/\n", scheme, ln.Addr())

	served := make(chan error, 2)
	listeners := 1
	if o.grpcPort >= 0 {
		gln, err := net.Listen("tcp", net.JoinHostPort(o.host, strconv.Itoa(o.grpcPort)))
		if err != nil {
			ln.Close()
			srv.Shutdown(context.Background())
			return fmt.Errorf("--grpc-port: %w", err)
		}
		fmt.Fprintf(e.stdout, "onnxrun serve: gRPC (KServe v2, grpc.health.v1) on %s\n", gln.Addr())
		listeners++
		go func() { served <- srv.ServeGRPC(gln) }()
	}
	if o.healthPort >= 0 {
		hln, err := net.Listen("tcp", net.JoinHostPort(o.host, strconv.Itoa(o.healthPort)))
		if err != nil {
			srv.Shutdown(context.Background())
			for range listeners - 1 {
				<-served
			}
			ln.Close()
			return fmt.Errorf("--health-port: %w", err)
		}
		fmt.Fprintf(e.stdout, "onnxrun serve: health probes (plain text) on http://%s\n", hln.Addr())
		listeners++
		go func() { served <- srv.ServeHealth(hln) }()
	}

	ctx, stop := signal.NotifyContext(e.ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served: // a listener failed
		srv.Shutdown(context.Background())
		for range listeners - 1 {
			<-served
		}
		return err
	case <-ctx.Done():
	}
	stop() // a second signal now kills the process the default way
	info("shutting down: finishing the requests in flight (up to %v)", o.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout+o.cfg.DrainDelay)
	defer cancel()
	err = srv.Shutdown(sctx)
	for range listeners {
		if serr := <-served; serr != nil && err == nil {
			err = serr
		}
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	info("stopped")
	return nil
}

func (o *serveOptions) check(cmd *command) error {
	switch {
	case o.port < 0 || o.port > 65535:
		return usagef(cmd, "--http-port must be 0 to 65535, got %d", o.port)
	case o.grpcPort < -1 || o.grpcPort > 65535:
		return usagef(cmd, "--grpc-port must be 0 to 65535 (or -1 for no gRPC), got %d", o.grpcPort)
	case o.cfg.Sessions < 0:
		return usagef(cmd, "--sessions must be 0 or more, got %d", o.cfg.Sessions)
	case o.cfg.Threads < 1:
		return usagef(cmd, "--threads must be 1 or more, got %d", o.cfg.Threads)
	case o.cfg.MaxBatch < 1:
		return usagef(cmd, "--max-batch must be 1 or more, got %d", o.cfg.MaxBatch)
	case o.cfg.MaxBatchDelay <= 0:
		return usagef(cmd, "--max-batch-delay must be positive, got %v", o.cfg.MaxBatchDelay)
	case o.cfg.QueueSize < 0:
		return usagef(cmd, "--queue-size must be 0 or more, got %d", o.cfg.QueueSize)
	case o.cfg.MaxQueueDelay < 0:
		return usagef(cmd, "--max-queue-delay must be 0 (two of the model's runs) or more, got %v", o.cfg.MaxQueueDelay)
	case o.cfg.RequestTimeout <= 0:
		return usagef(cmd, "--request-timeout must be positive, got %v", o.cfg.RequestTimeout)
	case o.cfg.MaxBodyBytes <= 0:
		return usagef(cmd, "--max-body-bytes must be positive, got %d", o.cfg.MaxBodyBytes)
	case o.cfg.DrainDelay < 0:
		return usagef(cmd, "--drain-delay must be 0 or more, got %v", o.cfg.DrainDelay)
	case o.cfg.PollInterval < 0:
		return usagef(cmd, "--poll-interval must be 0 (no rescans) or more, got %v", o.cfg.PollInterval)
	case o.healthPort < -1 || o.healthPort > 65535:
		return usagef(cmd, "--health-port must be 0 to 65535 (or -1 for none), got %d", o.healthPort)
	case o.tls.ClientCAFile != "" && o.tls.CertFile == "":
		return usagef(cmd, "--tls-client-ca needs --tls-cert and --tls-key: client certificates are asked for over TLS")
	case (o.tls.CertFile == "") != (o.tls.KeyFile == ""):
		return usagef(cmd, "--tls-cert and --tls-key go together (got only one)")
	case o.cfg.AuthInfer && o.cfg.AuthTokenFile == "":
		return usagef(cmd, "--auth-infer needs --auth-token-file: the file holds the token clients must send")
	case o.cfg.ModelControl && o.cfg.AuthTokenFile == "" && !o.cfg.InsecureModelControl:
		return usagef(cmd, "--model-control lets clients load and unload models: give it --auth-token-file, or --insecure-model-control for a port only trusted clients reach")
	case o.cfg.InsecureModelControl && !o.cfg.ModelControl:
		return usagef(cmd, "--insecure-model-control applies to --model-control, which is not given")
	case o.cfg.MaxElements < 0:
		return usagef(cmd, "--max-elements must be 0 or more, got %d", o.cfg.MaxElements)
	case o.cfg.ReadHeaderTimeout <= 0 || o.cfg.ReadTimeout < 0 || o.cfg.IdleTimeout <= 0:
		return usagef(cmd, "--read-header-timeout and --idle-timeout must be positive, --read-timeout 0 or more")
	case o.shutdownTimeout <= 0:
		return usagef(cmd, "--shutdown-timeout must be positive, got %v", o.shutdownTimeout)
	}
	return nil
}

func isSource(sources []serve.ModelSource, name string) bool {
	for _, s := range sources {
		if s.Name == name {
			return true
		}
	}
	return false
}

// servedNames lists the models a server serves now.
func servedNames(srv *serve.Server) string {
	var names []string
	for _, m := range srv.Models() {
		names = append(names, m.Name())
	}
	if len(names) == 0 {
		return "none yet"
	}
	return strings.Join(names, ", ")
}

// describeModel is the start-up line for a model: its tensors and whether it batches.
func describeModel(m *serve.Model) string {
	md := m.Metadata()
	var b strings.Builder
	for i, t := range md.Inputs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s%s", t.Name, t.Datatype, dimsString(t.Shape))
	}
	b.WriteString(" -> ")
	for i, t := range md.Outputs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s%s", t.Name, t.Datatype, dimsString(t.Shape))
	}
	if on, why := m.Batching(); on {
		b.WriteString("; dynamic batching on")
	} else if why != "" {
		b.WriteString("; dynamic batching off: " + why)
	}
	return b.String()
}

// dimsString writes a protocol shape as [-1,1,28,28].
func dimsString(dims []int64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// writeRequest prints the JSON inference request for src's model made of the --print-request files.
func (o *serveOptions) writeRequest(e *env, src serve.ModelSource) error {
	cfg := o.cfg
	cfg.Sessions = 1
	cfg.MaxBatch = 1
	m, err := serve.Load(src, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", src.Path, err)
	}
	defer m.Close()
	specs := m.Metadata().Inputs
	var req serve.InferRequest
	next := 0
	for _, arg := range o.printRequest {
		name, path, named := strings.Cut(arg, "=")
		if !named || !hasInput(specs, name) {
			if next >= len(specs) {
				return usagef(findCommand("serve"), "--print-request: %d files for a model with %d inputs", len(o.printRequest), len(specs))
			}
			name, path = specs[next].Name, arg
			next++
		}
		t, err := tensorio.ReadFile(path)
		if err != nil {
			return err
		}
		in, err := serve.NewInput(name, t)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		req.Inputs = append(req.Inputs, in)
	}
	out, err := json.Marshal(&req)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", out)
	return err
}

func hasInput(specs []serve.TensorMetadata, name string) bool {
	for _, s := range specs {
		if s.Name == name {
			return true
		}
	}
	return false
}
