// Package serve serves compiled models over HTTP with the Open Inference Protocol (KServe's "v2" REST
// API, also spoken by Triton and MLServer), so that onnxrun runs behind KServe or any Kubernetes Service
// and scales out with replicas.
//
// # Routes
//
//	GET  /v2/health/live                                  {"live": true}
//	GET  /v2/health/ready                                 {"ready": true}; 503 while shutting down
//	GET  /v2                                              server metadata: name, version, extensions
//	GET  /v2/models/NAME[/versions/V]                     inputs and outputs: name, datatype, shape (-1 = variable)
//	GET  /v2/models/NAME[/versions/V]/ready               {"name": NAME, "ready": true}
//	POST /v2/models/NAME[/versions/V]/infer               JSON or binary tensors in, JSON or binary out
//	GET  /metrics                                         Prometheus text format (see metrics.go)
//	POST /v2/repository/index                             [{"name", "version", "state", "reason"}]; body {"ready": true} filters
//	POST /v2/repository/models/NAME/load                  load or reload NAME from Config.ModelDir (Config.ModelControl)
//	POST /v2/repository/models/NAME/unload                stop serving NAME (Config.ModelControl)
//	GET  /                                                the try-it page (page.go), with /try/page.js and /try/page.css
//	GET  /try/models.json                                 the page's model list: names and image preprocessing
//
// Tensor data is JSON, flat or nested as the shape; the datatypes are BOOL, UINT8..UINT64, INT8..INT64,
// FP16, FP32, FP64, BF16 and BYTES (strings). A request's datatype must be the model's (no silent
// conversion) and its shape must fit the declared one. A request may list the outputs it wants.
// Responses carry data flat, floats in their shortest round-tripping form, NaN and infinities as the
// strings "NaN", "Infinity" and "-Infinity".
//
// # The try-it page
//
// GET / serves a page to try the models from a browser (page.go; the files in page/ are embedded in the
// binary). It lists the models from GET /try/models.json and GET /v2/models/NAME, runs any of them from a
// JSON form, and for a model whose settings (NAME.json, ModelSettings.Preprocess) describe an image input,
// turns a drawing or a dropped image into the input tensor in the browser, as ImagePreprocess says, and
// shows the top classes. The page refers to nothing outside the server and its Content-Security-Policy
// keeps it so; a bearer token typed into it goes out as Authorization on every request it makes. Load
// reads a model's settings file (ModelSource.SettingsFile) and Model.Settings returns them.
//
// # Binary tensors
//
// The binary tensor data extension (binary.go; "binary_tensor_data" in GET /v2) sends tensors as raw bytes
// after the JSON: the request's Inference-Header-Content-Length header gives the JSON's length, each input
// with "parameters": {"binary_data_size": N} takes the next N bytes, little-endian and row-major (BOOL one
// byte, 0 or 1; BYTES a 4-byte little-endian length then the bytes), and the bytes must be used exactly.
// Sizes are checked against the shape and datatype before anything is allocated. An output asked for with
// "binary_data": true, or every output with the request's "binary_data_output": true, comes back the same
// way, with binary_data_size in its parameters and the header set on the response.
//
// # gRPC
//
// ServeGRPC serves the same models over gRPC on a listener of its own (grpc.go): KServe's v2
// GRPCInferenceService from the schema in grpcpb (the protocol's names and field numbers), with typed
// contents or raw_input_contents, and grpc.health.v1 (SERVING for "" and each model name, NOT_SERVING once
// Shutdown starts). A ModelInfer call becomes the same internal request an HTTP one does and runs on the
// same pools and batcher under the same timeout, and the client's deadline; errors are the HTTP ones as gRPC
// codes (400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 404 NOT_FOUND, 413 RESOURCE_EXHAUSTED, 503 UNAVAILABLE, 504
// DEADLINE_EXCEEDED, 500 INTERNAL). Metrics count gRPC calls as endpoint grpc_METHOD with the HTTP code.
//
// # Model repository
//
// The models a Server serves change at run time (registry.go, repository.go). With Config.ModelDir, New
// loads each model ModelsInDir finds there, and Rescan, which runs every Config.PollInterval, loads a new
// file, reloads a changed one (another inode, size or modification time, for the model file or its
// settings file) and unloads one that is gone. A request looks its model up once and holds it until it
// has answered, over HTTP and gRPC alike: a reload swaps the Model atomically, the requests in flight
// finish on the old one, and the old one is closed once the last of them lets go. A file that fails to load
// leaves the previous version serving; the failure is logged, counted in onnxrun_model_loads_total and
// shown in the index (READY with the failure as the reason, or UNAVAILABLE for a model that never loaded),
// and the file is tried again only once it changes. Deploy a file by renaming a finished copy over the old
// one, so that no scan sees it half written.
//
// A model's own settings (ModelSettings: threads, sessions, batching, queue size, shape pins, image
// preprocessing) are in NAME.json beside NAME.onnx, or settings.json beside a folder's model.onnx
// (ModelSource.SettingsFile). They apply over Config when the model loads; changing the file reloads the
// model; a bad file is reported like a broken model. Model.Settings gives them back, for clients that need
// the preprocessing.
//
// The repository extension's index (Triton's, which KServe's REST protocol shares; "model_repository" in
// GET /v2) lists every model with its state: READY, UNAVAILABLE or LOADING. Load and unload answer 403
// unless Config.ModelControl is set (and need the bearer token: see below). A model unloaded by request
// stays unloaded until a load request, whatever the scans see.
//
// # Confined model names
//
// A name in a load or unload request is a plain file name: one with a '/', '\', NUL, "..", or an absolute
// path is refused with 400 before the directory is touched. Names arrive percent-decoded (net/http's mux
// matches {name} on the escaped path, so %2F stays inside the name and is refused here); a literal or
// %2e%2e "../" segment is cleaned by the mux first (a redirect, or 404 for no route), and never reaches a
// handler. Inference and metadata look names up among the models served, never on disk. A file of the
// model folder (NAME.onnx, a folder NAME/, its model file, NAME.json or settings.json) may be a symlink
// only to somewhere inside the folder, symlinks resolved (Kubernetes' ConfigMap and Secret volumes are made
// of such links): one leading outside is refused when it would load (confine.go), as a broken model is
// (a start-up error, a failed load in the index and the metrics, 400 to a load request). External data
// stays inside the model file's own folder (onnx/external.go). Answers (load errors, index reasons) name
// files relative to the model folder and the folder as "the model folder"; the log keeps full paths. KServe's gRPC API has no repository calls; gRPC's health
// service follows loads (SERVING) and unloads (NOT_SERVING).
//
// # Concurrency
//
// Each Model has a pool of Sessions over one immutable Plan (Config.Sessions, by default one per core,
// each single-threaded). A session's outputs are copied before it goes back to the pool. With
// Config.MaxBatch > 1, requests to a model whose inputs and outputs have a variable first dimension are
// batched dynamically (batcher.go): requests that arrive within Config.MaxBatchDelay of each other run as
// one batch, padded to a power of two.
//
// # Limits and shutdown
//
// Request bodies over Config.MaxBodyBytes get 413; a request that takes longer than Config.RequestTimeout
// gets 504. A client may shorten that deadline with the Request-Timeout header ("250ms", "2s" or plain
// seconds), Triton's "timeout" request parameter (microseconds) or its gRPC deadline; the run is then
// cancelled between operators (or inside a long GEMM).
//
// Each model admits at most Config.QueueSize waiting requests (admission.go; by default 2 × Sessions ×
// max(MaxBatch, 1)), counted from the moment the request arrives, before its body is read, until a
// session or a batch starts running it, and only while the wait a newcomer faces (the requests ahead ×
// the model's service time per request, a moving average of its runs, ÷ Sessions) is within
// Config.MaxQueueDelay (by default DefaultQueueDelayFactor = 2 of its runs, as measured): the length
// bounds memory, the delay bounds the latency of those admitted, whatever the model's speed. A request
// past either is refused at once with 503 and a Retry-After header (seconds, at least 1, the queue's
// expected wait); over
// gRPC with RESOURCE_EXHAUSTED and the same hint in the message and the "retry-after" trailer. Memory thus
// stays bounded whatever the load offered, and onnxrun_queue_size{model} in /metrics is the signal to
// autoscale on. A request whose client disconnects or times out leaves the queue; in a dynamic batch, its
// rows are dropped when the batch gets its session, and the others' batch runs without them.
//
// Shutdown turns readiness off, stops accepting connections, lets the requests in flight (and
// the batches holding them) finish, then closes the models.
//
// # TLS, probes and hostile clients
//
// With Config.TLS (tls.go), Serve and ServeGRPC speak TLS 1.2 or later with Go's default ciphers, HTTP/2
// and HTTP/1.1 on the HTTP port. TLSFiles.ClientCAFile turns on mutual TLS: a client must present a
// certificate chaining to one of those CAs, or its handshake fails (plain text to a TLS port gets Go's
// 400 on HTTP, a failed connection on gRPC). Each handshake takes the certificate through
// GetConfigForClient from a reloader that stats the files at most every TLSFiles.CheckInterval (1s) and
// re-reads them when a device, inode, size or modification time changed: os.Stat follows symlinks, so
// the kubelet's swap of a Secret volume (a new ..data symlink renamed over the old) shows as a new inode.
// A reload that fails keeps the previous certificate and logs why, once per change.
//
// The kubelet's probes carry no client certificate, so ServeHealth serves them alone on a port of their
// own in plain text (health.go): GET /v2/health/live and /v2/health/ready, and grpc.health.v1 over h2c
// for gRPC probes; everything else is 404 there, and the port holds no model data.
//
// Limits every listener shares (Config): request bodies and gRPC messages up to MaxBodyBytes (413,
// RESOURCE_EXHAUSTED); up to MaxElements tensor elements per request, all inputs together, counted from
// the shapes before anything is allocated, for JSON, binary and gRPC alike (400, INVALID_ARGUMENT; a
// dimension over 2^31-1 or a product that overflows is refused the same way); headers up to 64 KiB (431)
// read within ReadHeaderTimeout, the whole request within ReadTimeout, so a client trickling bytes is cut
// off (the body is read before a session is taken, so it holds none); IdleTimeout closes idle HTTP and
// gRPC connections; MaxConcurrentStreams caps calls per HTTP/2 or gRPC connection; gRPC handshakes end
// within ReadHeaderTimeout and clients pinging more often than every 10s are cut off. Idle connections
// cost a parked goroutine and a descriptor each, and Go raises RLIMIT_NOFILE's soft limit to the hard one
// at start, so thousands of them neither exhaust descriptors nor slow the others
// (TestIdleConnectionsDoNotStopService). RELIABILITY.md lists each hostile request with its answer, and
// TestValidRequestsAreServedWhileHostileOnesArrive sends them all while valid requests are answered.
//
// # Bearer tokens
//
// Config.AuthTokenFile (auth.go) names a file holding a bearer token, its surrounding white space ignored;
// a missing or empty file fails New. Load and unload then need "Authorization: Bearer TOKEN", and with
// Config.AuthInfer so do inference, model and server metadata, the repository index, /try/models.json and
// /metrics; over gRPC, the metadata "authorization" with the same value for ModelInfer, ModelMetadata and
// ServerMetadata. Health stays open, for probes carry no token: /v2/health/live and ready, model readiness
// (a health call in the protocol), ServerLive, ServerReady, ModelReady and grpc.health.v1; so do the try-it
// page's own files, and the page asks for the token and sends it on each of its calls. A request without
// the token, with another one or with another scheme gets 401 with "WWW-Authenticate: Bearer
// realm="onnxrun"" (and error="invalid_token" when it sent a credential), over gRPC UNAUTHENTICATED; the
// message says what is missing, never the token. Tokens are compared through their SHA-256 digests with
// crypto/subtle, so the time taken tells neither where they differ nor the token's length. The file is
// re-read when it changes, as the certificates are (another inode, size or modification time, checked at
// most every second): a rotated Secret takes effect without a restart, and a replacement that is empty or
// unreadable is logged and the previous token kept.
//
// ModelControl changes what the server runs, and the issue asks for it to require a token: New refuses
// ModelControl without AuthTokenFile unless Config.InsecureModelControl (--insecure-model-control) says
// that whoever reaches the port may load and unload models, for a port only trusted clients reach.
//
// # Errors
//
// Every failure is an HTTP 4xx or 5xx status with the body {"error": "..."}: 400 for a malformed or
// mismatched request (binary data included) or a model that fails to load, 401 without the bearer token
// where one is needed, 403 for load and unload without model control, 404 for an unknown model, version or route, 405 for a wrong method, 413 for a body
// too large, 500 when the model fails, 503 while shutting down or when a model's queue is full (with
// Retry-After), 504 on timeout. Messages name what is
// wrong and the values; a panic in a handler is logged with its stack and answered with a bare 500.
//
// The protocol has tensors only: a model with a sequence, optional or map input or output is refused by
// Load and NewModel with an error naming that input or output (`onnxrun serve` then exits with it, and the
// repository reports it), so no request ever reaches a model the protocol cannot describe.
package serve
