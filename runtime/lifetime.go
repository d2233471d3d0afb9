package runtime

import (
	"errors"
	goruntime "runtime"
	"sync"

	"github.com/onnxrun/onnxrun/onnx"
)

// ErrClosed is Session.Run's error on a closed session, or on one made from a closed plan.
var ErrClosed = errors.New("runtime: the session or its plan is closed")

// The lifetime of a memory-mapped model. A plan made by Load may have constants whose data lies in the
// model file's read-only mapped pages (onnx.Mapping), memory the collector does not track: a slice into
// it does not keep it mapped. So the plan and each of its sessions hold a reference to the mapping, given
// back by Plan.Close and Session.Close, and the file is unmapped only when the last of them is closed,
// whatever the order (serve's hot reload closes the old plan while requests still run on its sessions).
// A plan or session that is dropped without Close gives its reference back when the collector finds it
// unreachable (runtime.AddCleanup), which is a backstop for callers that never close, not the mechanism:
// Run keeps its session (and through it the plan) reachable until it returns, so the cleanup cannot
// unmap under a running kernel.
//
// No output of Run points into the mapping (bindMemory copies a constant output into the session's own
// memory, runDynamic clones its outputs), so nothing a caller holds outlives it, and no caller writes
// into read-only pages.

// planLifetime is a plan's reference to its mapping, and whether the plan is closed.
type planLifetime struct {
	mu      sync.Mutex
	closed  bool
	mapping *onnx.Mapping // nil when the plan holds none (Compile, NoMmap, a platform without mmap)
	cleanup goruntime.Cleanup
}

// hold takes a reference to mapping (which may be nil) for the plan p, released by Close or, if p is
// never closed, once p is unreachable.
func (l *planLifetime) hold(p *Plan, mapping *onnx.Mapping) {
	if mapping == nil || !mapping.Acquire() {
		return
	}
	l.mapping = mapping
	l.cleanup = goruntime.AddCleanup(p, releaseMapping, mapping)
}

func releaseMapping(m *onnx.Mapping) { _ = m.Release() }

// Close releases what the plan holds outside Go memory: its reference to the memory-mapped model file
// (see Load), unmapped once the sessions made from the plan are closed too. Sessions made before Close
// keep running until they are closed; a session made after it fails every Run with ErrClosed, and the
// plan must not be used otherwise. Closing twice does nothing.
func (p *Plan) Close() error {
	l := &p.lifetime
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.mapping == nil {
		return nil
	}
	l.cleanup.Stop()
	return l.mapping.Release()
}

// trim takes the mapped model file's pages out of the resident set (onnx.Mapping.Trim), after the plan
// dropped weights that lay in them; what the runs read comes back from the file.
func (l *planLifetime) trim() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed && l.mapping != nil {
		l.mapping.Trim()
	}
}

// sessionReference takes a reference to the plan's mapping for a new session s. ok is false when the plan
// is closed: the session must not run.
func (l *planLifetime) sessionReference(s *Session) (ref sessionLifetime, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ref, false
	}
	if l.mapping != nil && l.mapping.Acquire() { // the plan's own reference keeps it acquirable
		ref.mapping = l.mapping
		ref.cleanup = goruntime.AddCleanup(s, releaseMapping, l.mapping)
	}
	return ref, true
}

// sessionLifetime is a session's reference to its plan's mapping.
type sessionLifetime struct {
	mapping *onnx.Mapping
	cleanup goruntime.Cleanup
}

// release gives the reference back; it is called once, by Session.Close.
func (r *sessionLifetime) release() {
	if r.mapping == nil {
		return
	}
	r.cleanup.Stop()
	_ = r.mapping.Release()
	r.mapping = nil
}
