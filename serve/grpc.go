package serve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/serve/grpcpb"
)

// The Open Inference Protocol over gRPC (KServe's v2 GRPCInferenceService) and the standard
// grpc.health.v1 service, on a listener of their own (ServeGRPC). A gRPC request becomes the same internal
// request an HTTP one does (Model.assemble), and runs on the same session pools and batcher under the same
// timeout; only the tensor encoding and the error form differ.

// trailerRetryAfter is the trailer metadata key of a RESOURCE_EXHAUSTED answer's retry hint, in seconds
// (the HTTP Retry-After header's value).
const trailerRetryAfter = "retry-after"

// grpcServer holds the gRPC side of a Server, made on the first ServeGRPC.
type grpcServer struct {
	grpcpb.UnimplementedGRPCInferenceServiceServer
	s      *Server
	srv    *grpc.Server
	health *health.Server
}

// ServeGRPC accepts gRPC connections on ln until Shutdown; it then returns nil. It may run beside Serve.
func (s *Server) ServeGRPC(ln net.Listener) error {
	s.mu.Lock()
	if s.closed { // Shutdown came first (a signal during start-up): nothing to serve, and no error
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	if s.grpc == nil {
		s.grpc = newGRPCServer(s)
	}
	gs := s.grpc
	s.mu.Unlock()
	if err := gs.srv.Serve(ln); !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

func newGRPCServer(s *Server) *grpcServer {
	gs := &grpcServer{s: s, health: s.health}
	opts := []grpc.ServerOption{
		// A message over the body limit is refused by gRPC itself with RESOURCE_EXHAUSTED.
		grpc.MaxRecvMsgSize(int(min(s.cfg.MaxBodyBytes, int64(^uint32(0)>>1)))),
		grpc.MaxHeaderListSize(maxHeaderBytes),
		grpc.MaxConcurrentStreams(s.cfg.MaxConcurrentStreams),
		// A connection that does not finish its handshake (TLS included) in time is closed, as a
		// trickled HTTP header is.
		grpc.ConnectionTimeout(s.cfg.ReadHeaderTimeout),
		// An idle connection is closed (gracefully, with GOAWAY), and a client pinging more often than
		// every 10s is cut off (ENHANCE_YOUR_CALM) instead of keeping the server busy.
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: s.cfg.IdleTimeout}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.UnaryInterceptor(gs.intercept),
		grpc.StreamInterceptor(gs.streamAuth),
	}
	if s.tls != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.tls.config([]string{"h2"}))))
	}
	gs.srv = grpc.NewServer(opts...)
	grpcpb.RegisterGRPCInferenceServiceServer(gs.srv, gs)
	healthpb.RegisterHealthServer(gs.srv, gs.health)
	return gs
}

// newHealthStatuses is the grpc.health.v1 service of a server, for ServeGRPC and ServeHealth: SERVING for ""
// (the whole server, what probes ask by default); each model is a service of its own name, which
// Server.modelServing sets as the repository loads and unloads it.
func newHealthStatuses() *health.Server {
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	return hs
}

// stop lets the calls in flight finish until ctx ends, then cuts the connections (cancelling the calls'
// contexts, which stops their runs between operators).
func (gs *grpcServer) stop(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		gs.srv.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		gs.srv.Stop()
		<-done
	}
}

// intercept is what every gRPC call shares with the HTTP routes (Server.wrap): in-flight accounting,
// metrics (endpoint grpc_METHOD, the HTTP-equivalent code), error statuses and panic recovery.
func (gs *grpcServer) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	s := gs.s
	start := time.Now()
	s.active.Add(1)
	s.stats.inFlight.Add(1)
	method := info.FullMethod[strings.LastIndexByte(info.FullMethod, '/')+1:]
	model := ""
	if named, ok := req.(interface{ GetModelName() string }); ok {
		model = named.GetModelName()
	} else if named, ok := req.(interface{ GetName() string }); ok {
		model = named.GetName()
	}
	if !s.reg.isServing(model) {
		model = "" // unknown names must not grow the metrics' series
	}
	defer func() {
		code := http.StatusOK
		if p := recover(); p != nil {
			s.cfg.Logf("panic serving gRPC %s: %v\n%s", info.FullMethod, p, debug.Stack())
			resp, err, code = nil, status.Error(codes.Internal, "internal server error"), http.StatusInternalServerError
		} else if st, ok := status.FromError(err); ok && err != nil {
			code = httpStatusOf(st.Code()) // already a gRPC status: the health service's NOT_FOUND
		} else if err != nil {
			var msg string
			code, msg = statusOf(err)
			if code >= 500 && code != http.StatusServiceUnavailable && code != http.StatusGatewayTimeout {
				s.cfg.Logf("gRPC %s: %d %s", info.FullMethod, code, msg)
			}
			var refused *Error
			if errors.As(err, &refused) && refused.RetryAfter > 0 {
				// A full queue: the client should retry, later or elsewhere, which is what
				// RESOURCE_EXHAUSTED tells it (UNAVAILABLE would mean the server is going away).
				grpc.SetTrailer(ctx, metadata.Pairs(trailerRetryAfter, strconv.Itoa(refused.RetryAfter)))
				err = status.Errorf(codes.ResourceExhausted, "%s (retry after %d s)", msg, refused.RetryAfter)
			} else {
				err = status.Error(grpcCode(code), msg)
			}
		}
		s.stats.observeRequest("grpc_"+method, model, code, time.Since(start))
		s.stats.inFlight.Add(-1)
		s.active.Done()
	}()
	if err := s.authorizeGRPC(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// grpcCodes pairs the HTTP statuses statusOf gives errors with the gRPC codes that mean the same; any
// other status is INTERNAL.
var grpcCodes = []struct {
	http int
	grpc codes.Code
}{
	{http.StatusOK, codes.OK},
	{http.StatusBadRequest, codes.InvalidArgument},
	{http.StatusUnauthorized, codes.Unauthenticated},
	{http.StatusForbidden, codes.PermissionDenied},
	{http.StatusNotFound, codes.NotFound},
	{http.StatusRequestEntityTooLarge, codes.ResourceExhausted},
	{http.StatusTooManyRequests, codes.ResourceExhausted},
	{http.StatusServiceUnavailable, codes.Unavailable},
	{http.StatusGatewayTimeout, codes.DeadlineExceeded},
	{statusClientClosed, codes.Canceled},
}

func grpcCode(httpStatus int) codes.Code {
	for _, c := range grpcCodes {
		if c.http == httpStatus {
			return c.grpc
		}
	}
	return codes.Internal
}

// httpStatusOf is grpcCode inverted, for the metrics of calls that fail with a gRPC status already (the
// health service's).
func httpStatusOf(code codes.Code) int {
	for _, c := range grpcCodes {
		if c.grpc == code {
			return c.http
		}
	}
	return http.StatusInternalServerError
}

func (gs *grpcServer) ServerLive(context.Context, *grpcpb.ServerLiveRequest) (*grpcpb.ServerLiveResponse, error) {
	return &grpcpb.ServerLiveResponse{Live: true}, nil
}

func (gs *grpcServer) ServerReady(context.Context, *grpcpb.ServerReadyRequest) (*grpcpb.ServerReadyResponse, error) {
	return &grpcpb.ServerReadyResponse{Ready: !gs.s.draining.Load()}, nil
}

func (gs *grpcServer) ServerMetadata(context.Context, *grpcpb.ServerMetadataRequest) (*grpcpb.ServerMetadataResponse, error) {
	return &grpcpb.ServerMetadataResponse{Name: ServerName, Version: gs.s.cfg.Version, Extensions: []string{}}, nil
}

func (gs *grpcServer) ModelReady(_ context.Context, req *grpcpb.ModelReadyRequest) (*grpcpb.ModelReadyResponse, error) {
	_, release, err := gs.s.acquire(req.GetName(), req.GetVersion())
	if err != nil {
		return nil, err
	}
	release()
	return &grpcpb.ModelReadyResponse{Ready: !gs.s.draining.Load()}, nil
}

func (gs *grpcServer) ModelMetadata(_ context.Context, req *grpcpb.ModelMetadataRequest) (*grpcpb.ModelMetadataResponse, error) {
	m, release, err := gs.s.acquire(req.GetName(), req.GetVersion())
	if err != nil {
		return nil, err
	}
	defer release()
	resp := &grpcpb.ModelMetadataResponse{Name: m.meta.Name, Versions: m.meta.Versions, Platform: m.meta.Platform}
	for _, t := range m.meta.Inputs {
		resp.Inputs = append(resp.Inputs, &grpcpb.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape})
	}
	for _, t := range m.meta.Outputs {
		resp.Outputs = append(resp.Outputs, &grpcpb.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape})
	}
	return resp, nil
}

// ModelInfer runs one request. Its outputs come back as raw_output_contents when the request sent raw
// inputs or an output has no typed field (FP16, BF16), else as typed contents. The client's deadline
// (grpc-timeout) and Config.RequestTimeout both bound the run.
func (gs *grpcServer) ModelInfer(ctx context.Context, req *grpcpb.ModelInferRequest) (*grpcpb.ModelInferResponse, error) {
	if gs.s.draining.Load() {
		return nil, errShuttingDown
	}
	m, release, err := gs.s.acquire(req.GetModelName(), req.GetModelVersion()) // held until the answer is made
	if err != nil {
		return nil, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, gs.s.cfg.RequestTimeout)
	defer cancel()
	ctx, leave, err := m.admit(ctx)
	if err != nil {
		return nil, err
	}
	defer leave()
	r, err := m.decodeGRPC(req, gs.s.cfg.MaxElements)
	if err != nil {
		return nil, err
	}
	outs, err := m.run(ctx, r)
	if err != nil {
		return nil, err
	}
	return m.encodeGRPC(req, r.want, outs)
}

// decodeGRPC checks a gRPC request against the model and turns it into the internal request, of up to
// maxElements elements in all (Config.MaxElements).
func (m *Model) decodeGRPC(req *grpcpb.ModelInferRequest, maxElements int64) (*request, error) {
	ins, raw := req.GetInputs(), req.GetRawInputContents()
	if len(raw) > 0 && len(raw) != len(ins) {
		return nil, badRequestf("raw_input_contents has %d entries for %d inputs; it needs one per input, in order", len(raw), len(ins))
	}
	inNames := make([]string, len(ins))
	for k, in := range ins {
		inNames[k] = in.GetName()
	}
	outNames := make([]string, len(req.GetOutputs()))
	for k, out := range req.GetOutputs() {
		outNames[k] = out.GetName()
	}
	elements := &elementBudget{limit: maxElements, left: maxElements}
	return m.assemble(inNames, outNames, func(k, i int) (*ops.Tensor, error) {
		in := ins[k]
		dt, shape, err := m.checkInput(i, in.GetName(), in.GetDatatype(), in.GetShape(), elements)
		if err != nil {
			return nil, err
		}
		var data any
		if len(raw) > 0 {
			if in.GetContents() != nil {
				return nil, badRequestf("input %q sets contents in a request that uses raw_input_contents; the protocol allows one or the other", in.GetName())
			}
			// Every element takes at least one byte, which bounds what the shape may make us allocate.
			n, err := shape.CheckedSize(int64(len(raw[k])) + 1)
			if err != nil {
				return nil, badRequestf("input %q: shape %s holds more elements than its %d raw bytes can hold", in.GetName(), shapeString(in.GetShape()), len(raw[k]))
			}
			data, err = decodeRaw(raw[k], dt, n)
			if err != nil {
				return nil, badRequestf("input %q: %v", in.GetName(), err)
			}
		} else {
			if in.GetContents() == nil {
				return nil, badRequestf("input %q has no contents and the request no raw_input_contents", in.GetName())
			}
			n, err := shape.CheckedSize(0)
			if err != nil {
				return nil, badRequestf("input %q: shape %s holds more elements than fit in memory", in.GetName(), shapeString(in.GetShape()))
			}
			data, err = decodeContents(in.GetContents(), dt, n)
			if err != nil {
				return nil, badRequestf("input %q: %v", in.GetName(), err)
			}
		}
		t, err := ops.FromData(dt, shape, data)
		if err != nil {
			return nil, badRequestf("input %q: %v", in.GetName(), err)
		}
		return t, nil
	})
}

// encodeGRPC makes the response for the computed outputs.
func (m *Model) encodeGRPC(req *grpcpb.ModelInferRequest, want []int, outs []*ops.Tensor) (*grpcpb.ModelInferResponse, error) {
	resp := &grpcpb.ModelInferResponse{ModelName: m.name, ModelVersion: m.version, Id: req.GetId()}
	raw := len(req.GetRawInputContents()) > 0
	for _, t := range outs {
		raw = raw || !hasTypedContents(t.DType())
	}
	for i, k := range want {
		t := outs[i]
		shape := make([]int64, t.Rank())
		for j, d := range t.Shape() {
			shape[j] = int64(d)
		}
		out := &grpcpb.ModelInferResponse_InferOutputTensor{Name: m.outputs[k].Name, Datatype: Datatype(t.DType()), Shape: shape}
		if raw {
			b, err := encodeRaw(make([]byte, 0, t.Len()*max(elemSize(t.DType()), 1)), t)
			if err != nil {
				return nil, &Error{Status: http.StatusInternalServerError, Msg: "output " + out.Name + ": " + err.Error()}
			}
			resp.RawOutputContents = append(resp.RawOutputContents, b)
		} else {
			c, err := encodeContents(t)
			if err != nil {
				return nil, &Error{Status: http.StatusInternalServerError, Msg: "output " + out.Name + ": " + err.Error()}
			}
			out.Contents = c
		}
		resp.Outputs = append(resp.Outputs, out)
	}
	return resp, nil
}
