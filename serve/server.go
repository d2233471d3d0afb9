package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/health"

	"github.com/onnxrun/onnxrun/ops"
)

// Config tunes a Server and its Models. The zero value serves with the defaults below.
type Config struct {
	// Sessions is the number of sessions per model, which bounds how many runs of it proceed at once
	// (default GOMAXPROCS: one per core the Go scheduler uses).
	Sessions int
	// Threads is the number of threads each session uses inside operators when Load compiles a model
	// (default 1: parallelism comes from serving Sessions requests at once, which scales better than
	// splitting small operators across cores).
	Threads int
	// MaxBatch, when above 1, turns dynamic batching on: requests to a model with a batch dimension that
	// arrive within MaxBatchDelay of each other run as one batch of up to MaxBatch rows.
	MaxBatch int
	// MaxBatchDelay is the longest a request waits for its batch to fill (default 2ms): the bound on the
	// latency batching adds.
	MaxBatchDelay time.Duration
	// QueueSize bounds how many requests may wait for a model's sessions or batches (per model): past it a
	// request is refused at once with 503 and Retry-After (gRPC RESOURCE_EXHAUSTED) instead of queueing
	// without bound. 0 means the default, DefaultQueueFactor × Sessions × max(MaxBatch, 1): two rounds of
	// what the sessions run at once, enough to absorb bursts without making anyone wait long.
	QueueSize int
	// MaxQueueDelay bounds the wait a request is admitted to: one that would wait longer for a session (the
	// requests ahead of it × the model's service time per request, measured as it serves ÷ Sessions) is
	// refused at once with 503 and Retry-After, as one past QueueSize is. 0 means DefaultQueueDelayFactor
	// of the model's runs, as measured (a batch counts as one run): the requests admitted then wait about
	// two runs at most, whatever the model. The queue's length is the only bound until the model has run.
	MaxQueueDelay time.Duration
	// RequestTimeout bounds each request from the start of its handler to the model's answer (default 30s);
	// a request over it gets 504.
	RequestTimeout time.Duration
	// MaxBodyBytes is the largest request body accepted (default 32 MiB); a larger one gets 413.
	MaxBodyBytes int64
	// DrainDelay is how long Shutdown keeps serving while reporting not ready before it stops accepting
	// connections, so that a load balancer sees the readiness change first (default 0).
	DrainDelay time.Duration
	// ModelVersion is the version every model is served as (default "1").
	ModelVersion string
	// Version is the server version GET /v2 reports (default: the module version from the build info).
	Version string
	// InputShapes pins inputs' shapes at Load, by input name, in every model served (runtime.Options.InputShapes,
	// the CLI's --shape): a model then plans for them once and refuses other shapes, and a pinned batch
	// dimension is no longer one that dynamic batching can grow. A pin that names no input of a model is an
	// error loading it.
	InputShapes map[string]ops.Shape
	// ModelDir is a model repository: New loads each model found in it (see ModelsInDir), with its settings
	// file applied over this Config, and Rescan brings the server up to date with it.
	ModelDir string
	// ModelName, with ModelDir, serves the folder's one model under this name (KServe's storage
	// initializer copies a model to /mnt/models and passes the InferenceService's name), whatever the
	// file is called, and keeps watching the folder: a replaced file reloads under the same name. A folder
	// holding more than one model is refused at start and, after a rescan, reported while the model
	// loaded keeps serving.
	ModelName string
	// PollInterval, when positive, rescans ModelDir that often: new models load, changed ones reload,
	// removed ones unload (0: no polling).
	PollInterval time.Duration
	// ModelControl turns on the repository's load and unload endpoints (POST
	// /v2/repository/models/NAME/load and /unload); off, they answer 403. The index is always on. They
	// change what the server runs, so New refuses ModelControl without AuthTokenFile unless
	// InsecureModelControl says that whoever reaches the port may load and unload models.
	ModelControl bool
	// InsecureModelControl lets ModelControl run without a token: for a port only trusted clients reach.
	InsecureModelControl bool
	// AuthTokenFile holds the bearer token (the file's content, white space trimmed) that load and unload
	// requests must send as "Authorization: Bearer TOKEN"; others get 401 (gRPC UNAUTHENTICATED). The file
	// is re-read when it changes (checked at most every second), as the TLS certificates are; a missing or
	// empty file fails New.
	AuthTokenFile string
	// AuthInfer extends the token to inference, model and server metadata, the repository index, the try-it
	// page's model list and /metrics, over HTTP and gRPC. Health (/v2/health/*, model readiness, the
	// protocol's ServerLive, ServerReady and ModelReady, grpc.health.v1) and the page's own files stay open.
	AuthInfer bool
	// Logf receives one line per notable event (server errors, panics, shutdown); nil discards them.
	Logf func(format string, args ...any)

	// TLS, when set, serves HTTP and gRPC over TLS 1.2 or later (and mutual TLS with a client CA), with
	// certificates re-read when their files change (see TLSFiles). ServeHealth stays plain text.
	TLS *TLSFiles
	// MaxElements bounds the tensor elements of one request, all inputs together, checked from the shapes
	// before anything is allocated (HTTP JSON and binary, gRPC); a request over it gets 400 (gRPC
	// INVALID_ARGUMENT). 0 means MaxBodyBytes: every encoding takes at least a byte per element, so that
	// default refuses nothing the body limit lets through, and a lower value bounds the memory a request
	// can make the server allocate (up to 16 bytes an element for strings).
	MaxElements int64
	// ReadHeaderTimeout bounds reading a request's headers (default 10s), ReadTimeout reading the whole
	// request, body included (default RequestTimeout, at least 5s): a client that trickles its headers or
	// body is cut off then, holding no session in the meantime (the body is read before a session is taken).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	// IdleTimeout closes a keep-alive connection (HTTP) or a gRPC connection with no call for this long
	// (default 2m).
	IdleTimeout time.Duration
	// MaxConcurrentStreams caps the calls in flight on one HTTP/2 or gRPC connection (default 100); further
	// streams wait for one to end.
	MaxConcurrentStreams uint32
}

// maxHeaderBytes bounds a request's headers (HTTP and gRPC metadata). The protocol's requests carry a
// handful of short headers; Go's 1 MiB default would let each idle connection pin far more memory.
const maxHeaderBytes = 64 << 10

func (c Config) withDefaults() Config {
	if c.Sessions <= 0 {
		c.Sessions = goruntime.GOMAXPROCS(0)
	}
	if c.Threads <= 0 {
		c.Threads = 1
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueFactor * c.Sessions * max(c.MaxBatch, 1)
	}
	if c.MaxBatchDelay <= 0 {
		c.MaxBatchDelay = 2 * time.Millisecond
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 32 << 20
	}
	if c.ModelVersion == "" {
		c.ModelVersion = "1"
	}
	if c.Version == "" {
		c.Version = buildVersion()
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	if c.MaxElements <= 0 {
		c.MaxElements = c.MaxBodyBytes
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = 10 * time.Second
	}
	if c.ReadTimeout <= 0 {
		// Not below a few seconds, whatever the request timeout, so that a large body on a slow link
		// still arrives.
		c.ReadTimeout = max(c.RequestTimeout, 5*time.Second)
	}
	c.ReadHeaderTimeout = min(c.ReadHeaderTimeout, c.ReadTimeout)
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 2 * time.Minute
	}
	if c.MaxConcurrentStreams == 0 {
		c.MaxConcurrentStreams = 100
	}
	return c
}

func buildVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

// DefaultQueueFactor sets the default Config.QueueSize: this many times the requests a model's sessions
// run at once. An admitted request then waits at most two rounds of runs before its own, so its latency
// stays within about three times an unloaded request's (issue 18's overload target), while a burst of
// twice the server's parallelism still queues instead of being refused.
const DefaultQueueFactor = 2

// ServerName is the name GET /v2 reports.
const ServerName = "onnxrun"

// Server answers the Open Inference Protocol's REST API for its models, plus /metrics. Its models change
// at run time with a model repository (Config.ModelDir; see registry.go and repository.go).
type Server struct {
	cfg     Config
	reg     *registry
	loadMu  sync.Mutex // one model load, reload or unload at a time
	stats   *metrics
	handler http.Handler

	draining atomic.Bool
	active   sync.WaitGroup // handlers running
	mu       sync.Mutex
	http     *http.Server
	grpc     *grpcServer  // made by the first ServeGRPC
	healthHS *http.Server // made by the first ServeHealth
	closed   bool

	pollStop chan struct{} // nil without polling
	pollDone chan struct{}
	pollOnce sync.Once

	tls  *certReloader // nil without Config.TLS
	auth *tokenFile    // nil without Config.AuthTokenFile

	dirForms []string       // the model folder's absolute paths, which hidePaths keeps out of answers
	health   *health.Server // grpc.health.v1 statuses, for ServeGRPC and ServeHealth
}

// New makes a server for models, which it owns from now on: Shutdown closes them, and with
// cfg.ModelDir for the models of that directory too, which it loads now (failing if one fails).
func New(cfg Config, models ...*Model) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.ModelName != "" {
		if cfg.ModelDir == "" {
			return nil, errors.New("serve: a model name (--model-name) for the model folder, but no model folder (--model-dir)")
		}
		if err := checkModelName(cfg.ModelName); err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
	}
	if len(models) == 0 && cfg.ModelDir == "" {
		return nil, errors.New("serve: no models to serve")
	}
	s := &Server{cfg: cfg, reg: newRegistry(), stats: newMetrics(), dirForms: modelDirForms(cfg.ModelDir)}
	seen := map[string]bool{}
	// Before the models are adopted, so that a failure leaves them usable.
	if cfg.TLS.enabled() {
		r, err := newCertReloader(*cfg.TLS, cfg.Logf)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		s.tls = r
	}
	if err := s.setUpAuth(); err != nil {
		return nil, err
	}
	for _, m := range models {
		if seen[m.name] {
			return nil, fmt.Errorf("serve: two models are named %q", m.name)
		}
		if m.stats != nil {
			return nil, fmt.Errorf("serve: model %q already belongs to a server", m.name)
		}
		seen[m.name] = true
	}
	s.health = newHealthStatuses()
	for _, m := range models {
		m.stats = s.stats
		s.reg.install(m, false, ModelSource{}, fileStamp{})
		s.modelServing(m.name, true)
	}
	if cfg.ModelDir != "" {
		if err := s.loadModelDir(); err != nil {
			s.reg.closeAll()
			return nil, err
		}
		if cfg.PollInterval > 0 {
			s.pollStop, s.pollDone = make(chan struct{}), make(chan struct{})
			go s.poll(cfg.PollInterval, s.pollStop)
		}
	}
	s.handler = s.routes()
	return s, nil
}

// Handler is the server's HTTP handler, for tests and for mounting in another server.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve accepts connections on ln until Shutdown; it then returns nil.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed { // Shutdown came first (a signal during start-up): nothing to serve, and no error
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	if s.http == nil {
		s.http = s.httpServer(s.handler)
		// The handler answers within RequestTimeout; the margin lets it write a 504 instead of having
		// the connection cut.
		s.http.WriteTimeout = s.cfg.RequestTimeout + 10*time.Second
		if s.tls != nil {
			s.http.TLSConfig = s.tls.config([]string{"h2", "http/1.1"})
		}
	}
	hs := s.http
	s.mu.Unlock()
	var err error
	if hs.TLSConfig != nil {
		err = hs.ServeTLS(ln, "", "") // the certificate comes from TLSConfig, reloaded as it changes
	} else {
		err = hs.Serve(ln)
	}
	if !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// httpServer is an http.Server for h with the limits every listener shares: header size, the header and
// request read timeouts that cut off a client trickling bytes, the idle timeout and, for HTTP/2, the cap
// on streams per connection.
func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: int(s.cfg.MaxConcurrentStreams)},
		ErrorLog:          log.New(logWriter(s.cfg.Logf), "", 0),
	}
}

// Shutdown stops the server gracefully: readiness turns false; after Config.DrainDelay the listeners
// close; requests in flight finish (batches included) until ctx ends, after which connections are cut;
// then the models close. It returns ctx's error if requests had to be cut.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	hs, gs, health := s.http, s.grpc, s.healthHS
	s.mu.Unlock()
	s.stopPolling()
	// Every grpc.health.v1 status turns NOT_SERVING for good, so that probes take the server out of
	// rotation while requests in flight finish.
	s.health.Shutdown()
	if s.cfg.DrainDelay > 0 {
		select {
		case <-time.After(s.cfg.DrainDelay):
		case <-ctx.Done():
		}
	}
	for _, m := range s.reg.serving() {
		m.drain()
	}
	var err error
	if hs != nil {
		if err = hs.Shutdown(ctx); err != nil {
			s.cfg.Logf("shutdown: %v; closing the remaining connections", err)
			hs.Close() // cancels the requests' contexts; Run stops between operators
		}
	}
	if gs != nil {
		gs.stop(ctx)
	}
	if health != nil {
		// Probes are answered until the end, so that a liveness probe does not restart a draining server.
		health.Close()
	}
	s.active.Wait() // also handlers called through Handler() without Serve
	s.reg.closeAll()
	return err
}

// Models lists the models serving now, by name. A model may be replaced or unloaded (and closed) at any
// time after: read its name, metadata and settings, and send it requests through the server.
func (s *Server) Models() []*Model { return s.reg.serving() }

// call is one request being handled: the model label for metrics is set once the model is known.
type call struct {
	w       *statusWriter
	r       *http.Request
	model   string
	release func() // lets the model go (see registry.acquire); nil when the request holds none
}

type handlerFunc func(c *call) error

// routes builds the mux. Every route answers other methods with 405 and every unknown path with 404, both
// as {"error": ...} like the protocol's own errors.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	type route struct {
		method, path, endpoint string
		access                 access // who may call it (auth.go)
		h                      handlerFunc
	}
	open, data, control := accessOpen, accessData, accessControl
	table := []route{
		{"GET", "/v2/health/live", "server_live", open, s.live},
		{"GET", "/v2/health/ready", "server_ready", open, s.ready},
		{"GET", "/v2", "server_metadata", data, s.serverMetadata},
		{"GET", "/v2/{$}", "server_metadata", data, s.serverMetadata},
		{"GET", "/v2/models/{name}", "model_metadata", data, s.modelMetadata},
		{"GET", "/v2/models/{name}/versions/{version}", "model_metadata", data, s.modelMetadata},
		// Model readiness is one of the protocol's health calls: probes use it, and carry no token.
		{"GET", "/v2/models/{name}/ready", "model_ready", open, s.modelReady},
		{"GET", "/v2/models/{name}/versions/{version}/ready", "model_ready", open, s.modelReady},
		{"POST", "/v2/models/{name}/infer", "infer", data, s.infer},
		{"POST", "/v2/models/{name}/versions/{version}/infer", "infer", data, s.infer},
		{"GET", "/metrics", "metrics", data, s.metrics},
		{"POST", "/v2/repository/index", "repository_index", data, s.repositoryIndex},
		{"POST", "/v2/repository/models/{name}/load", "repository_load", control, s.loadModel},
		{"POST", "/v2/repository/models/{name}/unload", "repository_unload", control, s.unloadModel},
		// The page itself is open: it is what asks for the token, and holds no model data.
		{"GET", "/{$}", "page", open, pageFile("index.html")},
		{"GET", "/try/page.css", "page", open, pageFile("page.css")},
		{"GET", "/try/page.js", "page", open, pageFile("page.js")},
		{"GET", "/try/models.json", "page", data, s.pageModels},
	}
	for _, rt := range table {
		mux.Handle(rt.method+" "+rt.path, s.wrap(rt.endpoint, s.guard(rt.access, rt.h)))
		allow := rt.method
		if allow == "GET" {
			allow = "GET, HEAD"
		}
		mux.Handle(rt.path, s.wrap(rt.endpoint, func(c *call) error {
			c.w.Header().Set("Allow", allow)
			return &Error{Status: http.StatusMethodNotAllowed, Msg: fmt.Sprintf("method %s is not allowed on %s; use %s", c.r.Method, c.r.URL.Path, rt.method)}
		}))
	}
	mux.Handle("/", s.wrap("unknown", func(c *call) error {
		return notFoundf("no route %s %s; the Open Inference Protocol's routes are under /v2 (see GET /v2), metrics at /metrics, a page to try the models at /", c.r.Method, c.r.URL.Path)
	}))
	return mux
}

// wrap adds what every route shares: in-flight accounting, metrics, error bodies and panic recovery (a
// panic is logged with its stack and answered with a bare 500: no trace ever reaches a client).
func (s *Server) wrap(endpoint string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.active.Add(1)
		s.stats.inFlight.Add(1)
		c := &call{w: &statusWriter{ResponseWriter: w}, r: r}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.cfg.Logf("panic serving %s %s: %v\n%s", r.Method, r.URL.Path, p, debug.Stack())
				if !c.w.wrote {
					writeError(c.w, http.StatusInternalServerError, "internal server error")
				}
			}
			if c.release != nil {
				c.release()
			}
			s.stats.observeRequest(endpoint, c.model, c.w.code(), time.Since(start))
			s.stats.inFlight.Add(-1)
			s.active.Done()
		}()
		if err := h(c); err != nil {
			code, msg := statusOf(err)
			if e := (*Error)(nil); errors.As(err, &e) && e.RetryAfter > 0 {
				c.w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
			}
			if code >= 500 && code != http.StatusServiceUnavailable && code != http.StatusGatewayTimeout {
				s.cfg.Logf("%s %s: %d %s", r.Method, r.URL.Path, code, msg)
			}
			writeError(c.w, code, msg)
		}
	})
}

// statusWriter remembers the status written, for metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) code() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.status
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		body, _ = json.Marshal(ErrorResponse{Error: "encoding the response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(body, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, ErrorResponse{Error: msg})
}

func (s *Server) live(c *call) error {
	writeJSON(c.w, http.StatusOK, LiveResponse{Live: true})
	return nil
}

// notReady is a health answer that is both the protocol's {"ready": false} and an error body.
type notReady struct {
	Name  string `json:"name,omitempty"`
	Ready bool   `json:"ready"`
	Error string `json:"error"`
}

func (s *Server) ready(c *call) error {
	if s.draining.Load() {
		writeJSON(c.w, http.StatusServiceUnavailable, notReady{Error: errShuttingDown.Msg})
		return nil
	}
	writeJSON(c.w, http.StatusOK, ReadyResponse{Ready: true})
	return nil
}

func (s *Server) serverMetadata(c *call) error {
	writeJSON(c.w, http.StatusOK, ServerMetadata{Name: ServerName, Version: s.cfg.Version, Extensions: []string{ExtensionBinaryData, ExtensionModelRepository}})
	return nil
}

// lookup finds the model (and checks the version) a /v2/models/... path names, and holds it for the
// rest of the request: a reload meanwhile does not close it under the request.
func (s *Server) lookup(c *call) (*Model, error) {
	m, release, err := s.acquire(c.r.PathValue("name"), c.r.PathValue("version"))
	if err != nil {
		return nil, err
	}
	c.model, c.release = m.name, release
	return m, nil
}

// acquire finds a model by name and version (any version when ""), held until release is called.
func (s *Server) acquire(name, version string) (m *Model, release func(), err error) {
	m, release, ok := s.reg.acquire(name)
	if !ok {
		return nil, nil, notFoundf("unknown model %q; this server serves %s", name, s.reg.servingNames())
	}
	if version != "" && version != m.version {
		release()
		return nil, nil, notFoundf("model %q has no version %q; its versions are %s", name, version, strings.Join(m.meta.Versions, ", "))
	}
	return m, release, nil
}

func (s *Server) modelMetadata(c *call) error {
	m, err := s.lookup(c)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, m.meta)
	return nil
}

func (s *Server) modelReady(c *call) error {
	m, err := s.lookup(c)
	if err != nil {
		return err
	}
	if s.draining.Load() {
		writeJSON(c.w, http.StatusServiceUnavailable, notReady{Name: m.name, Error: errShuttingDown.Msg})
		return nil
	}
	writeJSON(c.w, http.StatusOK, ModelReadyResponse{Name: m.name, Ready: true})
	return nil
}

func (s *Server) metrics(c *call) error {
	c.w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if err := s.stats.write(c.w); err != nil {
		return err
	}
	var b bytes.Buffer
	models := s.Models()
	writeQueues(&b, models)
	writeModelMemory(&b, models)
	_, err := c.w.Write(b.Bytes())
	return err
}

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (s *Server) infer(c *call) error {
	m, err := s.lookup(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	if v := c.r.Header.Get(HeaderRequestTimeout); v != "" {
		timeout, err := parseRequestTimeout(v)
		if err != nil {
			return err
		}
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	// Admission comes before the body is read: a refused request costs no memory, whatever its size.
	ctx, leave, err := m.admit(ctx)
	if err != nil {
		return err
	}
	defer leave()

	buf := bodyBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer bodyBuffers.Put(buf)
	if err := s.readBody(c, buf); err != nil {
		return err
	}
	headerLength := c.r.Header.Get(HeaderContentLength)
	header, rest, err := splitBody(buf.Bytes(), headerLength)
	if err != nil {
		return err
	}
	var req InferRequest
	if err := json.Unmarshal(header, &req); err != nil {
		return badRequestf("malformed JSON in the request body: %v", err)
	}
	if timeout, ok, err := timeoutParameter(req.Parameters); err != nil {
		return err
	} else if ok {
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if err := attachBinary(req.Inputs, rest, headerLength != ""); err != nil {
		return err
	}
	r, err := m.decode(&req, s.cfg.MaxElements)
	if err != nil {
		return err
	}
	binary, err := m.wantsBinary(&req, r.want)
	if err != nil {
		return err
	}
	outs, err := m.run(ctx, r)
	if err != nil {
		return err
	}
	resp := InferResponse{ModelName: m.name, ModelVersion: m.version, ID: req.ID}
	if resp.Outputs, err = m.encodeOutputs(r.want, outs, binary); err != nil {
		return err
	}
	return writeInferResponse(c.w, &resp)
}

// readBody reads the request body into buf, refusing one over MaxBodyBytes with 413: up front when
// Content-Length says so, else as soon as the limit is passed.
func (s *Server) readBody(c *call, buf *bytes.Buffer) error {
	limit := s.cfg.MaxBodyBytes
	tooLarge := &Error{Status: http.StatusRequestEntityTooLarge,
		Msg: fmt.Sprintf("the request body is over the limit of %d bytes", limit)}
	if c.r.ContentLength > limit {
		tooLarge.Msg = fmt.Sprintf("the request body of %d bytes is over the limit of %d bytes", c.r.ContentLength, limit)
		return tooLarge
	}
	if c.r.ContentLength > 0 {
		buf.Grow(int(c.r.ContentLength))
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(c.w, c.r.Body, limit))
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return tooLarge
	case err != nil:
		return badRequestf("reading the request body: %v", err)
	}
	return nil
}
