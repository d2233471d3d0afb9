package serve

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/onnxrun/onnxrun/runtime"
)

// sessionPool lends a model's Sessions to requests, one goroutine each at a time. Its size bounds how many
// runs of the model proceed at once (by default one per core, each session single-threaded, so a busy
// server keeps every core on its own request with no contention inside operators).
//
// A Session re-plans and re-binds its buffers whenever its input shapes change, so acquire prefers an idle
// session that last ran the same shapes: with dynamic batching the few padded batch sizes then each settle
// on sessions that run them without allocating.
type sessionPool struct {
	slots chan struct{} // one token per session; holding one entitles you to a session from idle
	// waiters counts the callers of acquire waiting for a session (a diagnostic, read by tests to know
	// that a run has reached the pool).
	waiters atomic.Int64

	mu   sync.Mutex
	idle []*pooledSession
	all  []*pooledSession
}

type pooledSession struct {
	sess    *runtime.Session
	lastKey string // the shapes it last ran, see shapeKey
	// arena and scratch are the session's memory (Session.MemoryBytes) as release found it, read by
	// memory under the pool's lock: the session itself may be running on another goroutine meanwhile.
	arena, scratch int64
}

func newSessionPool(plan *runtime.Plan, size int) *sessionPool {
	p := &sessionPool{slots: make(chan struct{}, size)}
	for range size {
		ps := &pooledSession{sess: plan.NewSession()}
		p.idle = append(p.idle, ps)
		p.all = append(p.all, ps)
		p.slots <- struct{}{}
	}
	return p
}

// acquire waits for an idle session, or for ctx to end.
func (p *sessionPool) acquire(ctx context.Context, key string) (*pooledSession, error) {
	p.waiters.Add(1)
	select {
	case <-p.slots:
		p.waiters.Add(-1)
	case <-ctx.Done():
		p.waiters.Add(-1)
		return nil, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pick := len(p.idle) - 1
	for i, ps := range p.idle {
		if ps.lastKey == key {
			pick = i
			break
		}
	}
	ps := p.idle[pick]
	p.idle[pick] = p.idle[len(p.idle)-1]
	p.idle = p.idle[:len(p.idle)-1]
	return ps, nil
}

// release returns a session that has just run inputs of shapes key. The outputs of its last Run become
// invalid as soon as another request takes it: callers copy them first.
func (p *sessionPool) release(ps *pooledSession, key string) {
	ps.lastKey = key
	arena, scratch := ps.sess.MemoryBytes()
	p.mu.Lock()
	ps.arena, ps.scratch = arena, scratch
	p.idle = append(p.idle, ps)
	p.mu.Unlock()
	p.slots <- struct{}{}
}

// close stops every session's worker threads; the pool must be idle.
func (p *sessionPool) close() {
	for _, ps := range p.all {
		ps.sess.Close()
	}
}

// poolMemory is what a pool's sessions hold, as each was when last released.
type poolMemory struct {
	sessions  int // sessions that have run, and so hold their buffers
	arena     int64
	scratch   int64
	available int // sessions in the pool
}

func (p *sessionPool) memory() poolMemory {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := poolMemory{available: len(p.all)}
	for _, ps := range p.all {
		if ps.arena+ps.scratch > 0 {
			m.sessions++
		}
		m.arena += ps.arena
		m.scratch += ps.scratch
	}
	return m
}
