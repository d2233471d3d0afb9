package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/onnxrun/onnxrun/serve/grpcpb"
)

// Bearer tokens (Config.AuthTokenFile): the repository's load and unload endpoints need one whenever a
// token file is set, and with Config.AuthInfer so do inference, metadata, the index, the page's API calls
// and /metrics, over HTTP and gRPC. Health never does: probes carry no token.

// access is what a route or gRPC method asks of its caller.
type access int

const (
	accessOpen    access = iota // health probes and the try-it page's own files
	accessData                  // models and their data: a token with Config.AuthInfer
	accessControl               // load and unload: a token whenever a token file is set
)

// grpcOpenMethods are the gRPC methods that stay open whatever Config.AuthInfer says: the protocol's health
// calls and grpc.health.v1. Every other method is accessData, so that a method added later fails closed.
var grpcOpenMethods = map[string]bool{
	grpcpb.GRPCInferenceService_ServerLive_FullMethodName:  true,
	grpcpb.GRPCInferenceService_ServerReady_FullMethodName: true,
	grpcpb.GRPCInferenceService_ModelReady_FullMethodName:  true,
	healthpb.Health_Check_FullMethodName:                   true,
	healthpb.Health_Watch_FullMethodName:                   true,
	healthpb.Health_List_FullMethodName:                    true,
}

// tokenCheckInterval is how often, at most, a request checks the token file for a change: one stat, so
// that requests stay cheap, and a rotated token is in force within a second.
const tokenCheckInterval = time.Second

// tokenFile holds the digest of the token in a file, re-read when the file changes (another inode, size or
// modification time, as the TLS certificates are), so that a Kubernetes Secret rotated by a symlink swap
// takes effect without a restart. A re-read that fails (the file gone, or empty) keeps the previous token
// and logs why, once per change.
//
// With Config.AuthInfer every request checks the token, from every core at once, so requests take no lock:
// they load the digest through an atomic pointer, and the one request that finds the check interval past
// (and wins the reload lock without waiting for it) stats the file and stores the new digest.
type tokenFile struct {
	path     string
	interval time.Duration
	logf     func(format string, args ...any)
	now      func() time.Time

	digest    atomic.Pointer[[sha256.Size]byte]
	nextCheck atomic.Int64 // Unix nanoseconds: when a request should next stat the file

	reload sync.Mutex  // held by the request that re-checks the file; the others never wait for it
	stamp  os.FileInfo // of the last read attempt; guarded by reload
}

func newTokenFile(path string, logf func(string, ...any)) (*tokenFile, error) {
	f := &tokenFile{path: path, interval: tokenCheckInterval, logf: logf, now: time.Now}
	digest, stamp, err := readToken(path)
	if err != nil {
		return nil, err
	}
	f.digest.Store(&digest)
	f.stamp = stamp
	f.nextCheck.Store(f.now().Add(f.interval).UnixNano())
	return f, nil
}

// readToken reads the token in path: the file's content with surrounding white space trimmed (a trailing
// newline from echo or an editor is not part of it). An empty token is an error: it would let anyone in.
func readToken(path string) (digest [sha256.Size]byte, stamp os.FileInfo, err error) {
	stamp, err = os.Stat(path)
	if err != nil {
		return digest, nil, fmt.Errorf("auth token file: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return digest, stamp, fmt.Errorf("auth token file: %w", err)
	}
	token := bytes.TrimSpace(data)
	if len(token) == 0 {
		return digest, stamp, fmt.Errorf("auth token file %s is empty: it must hold the bearer token clients send", path)
	}
	return sha256.Sum256(token), stamp, nil
}

// current returns the digest of the token in force, first re-reading the file if the interval passed and
// the file changed. Requests meanwhile keep the digest in force: none waits for the file.
func (f *tokenFile) current() *[sha256.Size]byte {
	if now := f.now().UnixNano(); now >= f.nextCheck.Load() && f.reload.TryLock() {
		if now >= f.nextCheck.Load() { // another request may have checked between the two loads
			f.nextCheck.Store(now + f.interval.Nanoseconds())
			f.recheck()
		}
		f.reload.Unlock()
	}
	return f.digest.Load()
}

// recheck stats the token file and re-reads it when it changed. The caller holds f.reload.
func (f *tokenFile) recheck() {
	stamp, err := os.Stat(f.path)
	switch {
	case err != nil:
		if f.stamp != nil {
			f.logf("auth token file: %v; still accepting the previous token", err)
		}
		f.stamp = nil
	case !sameVersion(stamp, f.stamp):
		digest, stamp, err := readToken(f.path)
		f.stamp = stamp
		if err != nil {
			f.logf("reloading the %v; still accepting the previous token", err)
		} else {
			f.digest.Store(&digest)
			f.logf("auth token file %s: reloaded", f.path)
		}
	}
}

// accepts reports whether token is the one in force. Both sides are hashed first, so that the comparison
// takes the same time whatever the token's length and wherever it differs (subtle.ConstantTimeCompare
// returns early on a length mismatch, which would tell the length).
func (f *tokenFile) accepts(token string) bool {
	want := f.current()
	got := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// bearerToken is the token of an "Authorization: Bearer TOKEN" value (the scheme case-insensitive, as RFC
// 7235 says); ok is false when the value is not a bearer credential.
func bearerToken(authorization string) (token string, ok bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(authorization), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// needsToken reports whether a caller of level must present the token.
func (s *Server) needsToken(level access) bool {
	if s.auth == nil {
		return false
	}
	return level == accessControl || (level == accessData && s.cfg.AuthInfer)
}

// authorize checks the caller's Authorization value for level; the error is a 401 that says what is
// missing or wrong, never what the token is.
func (s *Server) authorize(level access, authorization string) error {
	if !s.needsToken(level) {
		return nil
	}
	if authorization == "" {
		return &Error{Status: http.StatusUnauthorized, Msg: "this endpoint needs a bearer token: send the header Authorization: Bearer TOKEN (gRPC: the metadata authorization)"}
	}
	token, ok := bearerToken(authorization)
	if !ok {
		return &Error{Status: http.StatusUnauthorized, Msg: "the Authorization header is not a bearer token: send Authorization: Bearer TOKEN"}
	}
	if !s.auth.accepts(token) {
		return &Error{Status: http.StatusUnauthorized, Msg: "the bearer token is not the server's"}
	}
	return nil
}

// guard makes h answer 401, with the WWW-Authenticate challenge RFC 6750 asks for, unless the caller
// presents the token that level needs.
func (s *Server) guard(level access, h handlerFunc) handlerFunc {
	if level == accessOpen {
		return h
	}
	return func(c *call) error {
		authorization := c.r.Header.Get("Authorization")
		if err := s.authorize(level, authorization); err != nil {
			challenge := `Bearer realm="onnxrun"`
			if authorization != "" {
				challenge += `, error="invalid_token"`
			}
			c.w.Header().Set("WWW-Authenticate", challenge)
			return err
		}
		return h(c)
	}
}

// authorizeGRPC checks the "authorization" metadata of a gRPC call to method; the error is a 401, which the
// interceptor turns into UNAUTHENTICATED.
func (s *Server) authorizeGRPC(ctx context.Context, method string) error {
	if grpcOpenMethods[method] {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get("authorization")
	if len(values) > 1 {
		return &Error{Status: http.StatusUnauthorized, Msg: "the call carries more than one authorization value"}
	}
	authorization := ""
	if len(values) == 1 {
		authorization = values[0]
	}
	return s.authorize(accessData, authorization)
}

// streamAuth is the gRPC stream interceptor: the only streaming method served is grpc.health.v1's Watch,
// which stays open; any other needs the token as unary calls do.
func (gs *grpcServer) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := gs.s.authorizeGRPC(ss.Context(), info.FullMethod); err != nil {
		return grpcStatus(err)
	}
	return handler(srv, ss)
}

// setUpAuth reads Config.AuthTokenFile and refuses the configurations that would leave the control plane
// or the data open by mistake.
func (s *Server) setUpAuth() error {
	cfg := s.cfg
	switch {
	case cfg.AuthTokenFile == "" && cfg.AuthInfer:
		return fmt.Errorf("serve: AuthInfer (--auth-infer) needs a token file (--auth-token-file)")
	case cfg.AuthTokenFile == "" && cfg.ModelControl && !cfg.InsecureModelControl:
		return fmt.Errorf("serve: model control (--model-control) loads and unloads models for whoever asks: give it a bearer token file (--auth-token-file), or say --insecure-model-control for a port only trusted clients reach")
	case cfg.AuthTokenFile == "":
		return nil
	}
	f, err := newTokenFile(cfg.AuthTokenFile, cfg.Logf)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	s.auth = f
	return nil
}

// grpcStatus is err as the gRPC status a client sees (the HTTP status's gRPC code and the message).
func grpcStatus(err error) error {
	code, msg := statusOf(err)
	return status.Error(grpcCode(code), msg)
}
