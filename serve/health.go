package serve

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// ServeHealth answers the health probes alone, in plain text, on a listener of its own until Shutdown: GET
// /v2/health/live and /v2/health/ready over HTTP, and grpc.health.v1 Check over unencrypted HTTP/2
// (h2c, what the kubelet's gRPC probe speaks). Everything else is 404. It is the probe port for a server
// whose main port asks for client certificates the kubelet does not have; it serves no model and no
// metadata, so it can stay reachable where the main port is not.
func (s *Server) ServeHealth(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errShuttingDown
	}
	if s.healthHS == nil {
		s.healthHS = s.httpServer(s.healthRoutes())
		s.healthHS.WriteTimeout = s.cfg.ReadTimeout
		var protocols http.Protocols
		protocols.SetHTTP1(true)
		protocols.SetUnencryptedHTTP2(true)
		s.healthHS.Protocols = &protocols
	}
	hs := s.healthHS
	s.mu.Unlock()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// healthRoutes is the health port's handler: the two probe routes with the main port's handlers (and
// metrics), and gRPC calls to a server that holds only the health service.
func (s *Server) healthRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v2/health/live", s.wrap("server_live", s.live))
	mux.Handle("GET /v2/health/ready", s.wrap("server_ready", s.ready))
	mux.Handle("/", s.wrap("unknown", func(c *call) error {
		return notFoundf("no route %s %s on the health port; it answers GET /v2/health/live and /v2/health/ready, and grpc.health.v1", c.r.Method, c.r.URL.Path)
	}))
	probes := grpc.NewServer(grpc.MaxRecvMsgSize(4<<10), grpc.MaxConcurrentStreams(s.cfg.MaxConcurrentStreams))
	healthpb.RegisterHealthServer(probes, s.health)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			probes.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// logWriter sends what net/http logs (TLS handshake errors, malformed requests) to Config.Logf.
type logWriter func(format string, args ...any)

func (f logWriter) Write(p []byte) (int, error) {
	f("%s", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
