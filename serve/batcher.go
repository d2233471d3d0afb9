package serve

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/onnxrun/onnxrun/ops"
)

// batcher runs requests that arrive close together as one batch: a model with a batch dimension does far
// more work per call when it gets 16 rows at once than 16 times one row (one GEMM instead of sixteen
// GEMVs, one pass over the weights), and the pool's sessions serve more clients.
//
// Requests join a group by their inputs' shapes past the first dimension. A group is run when it holds
// maxRows rows, or when its first request has waited delay: the bound on the latency batching adds. The
// stacked batch is padded up to a power of two (capped at maxRows) by repeating its last row, so that a
// session sees only a handful of batch sizes and runs each one allocation-free after its first time, instead
// of re-planning for every size from 2 to maxRows (the runtime caches only a few shapes per plan). The
// padding rows are real data, so they cannot raise a numerical error the real rows would not.
type batcher struct {
	m       *Model
	maxRows int
	delay   time.Duration
	buckets []int

	jobs      chan *job
	mu        sync.RWMutex // held for reading while sending on jobs, for writing to close it
	closed    bool
	drain     chan struct{} // closed when the server starts shutting down: stop waiting for batches to fill
	drainOnce sync.Once
	loopDone  chan struct{}
	running   sync.WaitGroup
}

type job struct {
	ctx  context.Context
	r    *request
	rows int
	key  string // shapes without the first dimension
	done chan jobResult
}

type jobResult struct {
	outs []*ops.Tensor
	err  error
}

// group is the jobs waiting to run together.
type group struct {
	key      string
	jobs     []*job
	rows     int
	deadline time.Time
}

func newBatcher(m *Model, maxRows int, delay time.Duration) *batcher {
	b := &batcher{m: m, maxRows: maxRows, delay: delay, jobs: make(chan *job),
		drain: make(chan struct{}), loopDone: make(chan struct{})}
	for n := 1; n < maxRows; n *= 2 {
		b.buckets = append(b.buckets, n)
	}
	b.buckets = append(b.buckets, maxRows)
	go b.loop()
	return b
}

// submit queues a request of the given rows and waits for its outputs.
func (b *batcher) submit(ctx context.Context, r *request, rows int) ([]*ops.Tensor, error) {
	j := &job{ctx: ctx, r: r, rows: rows, key: rowKey(r.inputs), done: make(chan jobResult, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return nil, errShuttingDown
	}
	select {
	case b.jobs <- j:
	case <-ctx.Done():
		b.mu.RUnlock()
		return nil, ctx.Err()
	}
	b.mu.RUnlock()
	select {
	case res := <-j.done:
		return res.outs, res.err
	case <-ctx.Done():
		return nil, ctx.Err() // the batch drops or discards this job; done is buffered
	}
}

// startDrain runs the groups waiting now, and every request from now on as soon as it arrives: during a
// shutdown, the requests in flight should finish without waiting for company that will not come.
func (b *batcher) startDrain() { b.drainOnce.Do(func() { close(b.drain) }) }

// close runs the groups still waiting, waits for every batch in flight and stops the loop.
func (b *batcher) close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	close(b.jobs)
	b.mu.Unlock()
	<-b.loopDone
	b.running.Wait()
}

func (b *batcher) loop() {
	defer close(b.loopDone)
	pending := map[string]*group{}
	var order []*group // by deadline: all groups wait the same delay, so this is arrival order
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	drain, draining := b.drain, false
	take := func(g *group) {
		delete(pending, g.key)
		for i, o := range order {
			if o == g {
				order = append(order[:i], order[i+1:]...)
				break
			}
		}
		b.dispatch(g)
	}
	for {
		var wake <-chan time.Time
		if len(order) > 0 {
			timer.Reset(time.Until(order[0].deadline))
			wake = timer.C
		}
		select {
		case j, ok := <-b.jobs:
			if !ok {
				for _, g := range order {
					b.dispatch(g)
				}
				return
			}
			g := pending[j.key]
			if g != nil && g.rows+j.rows > b.maxRows {
				take(g)
				g = nil
			}
			if g == nil {
				g = &group{key: j.key, deadline: time.Now().Add(b.delay)}
				pending[j.key] = g
				order = append(order, g)
			}
			g.jobs = append(g.jobs, j)
			g.rows += j.rows
			if g.rows >= b.maxRows || draining {
				take(g)
			}
		case <-drain:
			drain, draining = nil, true
			for len(order) > 0 {
				take(order[0])
			}
		case <-wake:
			now := time.Now()
			for len(order) > 0 && !order[0].deadline.After(now) {
				take(order[0])
			}
		}
		timer.Stop()
	}
}

func (b *batcher) dispatch(g *group) {
	b.running.Add(1)
	go func() {
		defer b.running.Done()
		b.runGroup(g.jobs)
	}()
}

// runGroup stacks the jobs' inputs, runs them on one session and hands each job its rows of the outputs.
func (b *batcher) runGroup(jobs []*job) {
	live := dropCancelled(jobs)
	switch len(live) {
	case 0:
		return
	case 1:
		j := live[0]
		outs, err := b.m.runAlone(j.ctx, j.r.inputs, j.r.want)
		j.done <- jobResult{outs: outs, err: err}
		return
	}
	padded := b.bucket(sumRows(live))
	inputs := stackRows(live, padded)
	key := shapeKey(inputs)
	// The batch serves several callers, so no single caller's context may cancel it; it is short (at most
	// maxRows rows) and a caller that times out meanwhile just stops waiting.
	ctx := context.Background()
	ps, err := b.m.pool.acquire(ctx, key)
	if err != nil {
		b.fail(live, err)
		return
	}
	// Callers that gave up while the batch waited for the session leave it now: their rows are not
	// computed, and the others' batch runs without them.
	stacked := len(live)
	if live = dropCancelled(live); len(live) == 0 {
		b.m.pool.release(ps, key)
		return
	}
	rows := sumRows(live)
	if len(live) != stacked {
		padded = b.bucket(rows)
		inputs = stackRows(live, padded)
		key = shapeKey(inputs) // the shapes the session runs, which release records
	}
	for _, j := range live {
		markStarted(j.ctx)
	}
	start := time.Now()
	outs, err := ps.sess.Run(ctx, inputs)
	if err != nil {
		b.m.pool.release(ps, key)
		b.fail(live, runError(err))
		return
	}
	for _, t := range outs {
		if t.Rank() == 0 || t.Shape()[0] != padded {
			// An output that does not follow the batch dimension (declared [N,...] but computed otherwise):
			// splitting it would be wrong, so each request runs on its own.
			b.m.pool.release(ps, key)
			for _, j := range live {
				outs, err := b.m.runAlone(j.ctx, j.r.inputs, j.r.want)
				j.done <- jobResult{outs: outs, err: err}
			}
			return
		}
	}
	took := time.Since(start)
	b.m.stats.observeRun(b.m.name, rows, took)
	b.m.queue.observeRun(took, len(live))
	offset := 0
	for _, j := range live {
		res := make([]*ops.Tensor, len(j.r.want))
		for i, k := range j.r.want {
			res[i] = takeRows(outs[k], offset, j.rows)
		}
		offset += j.rows
		j.done <- jobResult{outs: res}
	}
	b.m.pool.release(ps, key)
}

// dropCancelled answers the jobs whose callers gave up with their context's error and returns the others,
// in place.
func dropCancelled(jobs []*job) []*job {
	live := jobs[:0]
	for _, j := range jobs {
		if err := j.ctx.Err(); err != nil {
			j.done <- jobResult{err: err}
			continue
		}
		live = append(live, j)
	}
	return live
}

func sumRows(jobs []*job) int {
	rows := 0
	for _, j := range jobs {
		rows += j.rows
	}
	return rows
}

func (b *batcher) fail(jobs []*job, err error) {
	for _, j := range jobs {
		j.done <- jobResult{err: err}
	}
}

// bucket is the batch size a batch of rows is padded to.
func (b *batcher) bucket(rows int) int {
	for _, n := range b.buckets {
		if n >= rows {
			return n
		}
	}
	return rows
}

// stackRows concatenates each model input of the jobs along the first dimension and pads the result to
// padded rows with copies of the last row.
func stackRows(jobs []*job, padded int) []*ops.Tensor {
	first := jobs[0].r.inputs
	stacked := make([]*ops.Tensor, len(first))
	for i, proto := range first {
		shape := append(ops.Shape{padded}, proto.Shape()[1:]...)
		dst := ops.New(proto.DType(), shape)
		inner := shape.Size() / padded
		off := 0
		for _, j := range jobs {
			src := j.r.inputs[i]
			copyElems(dst, off, src.Data(), src.Len())
			off += src.Len()
		}
		last := ops.Slice(dst.Data(), off-inner, off)
		for ; off < dst.Len(); off += inner {
			copyElems(dst, off, last, inner)
		}
		stacked[i] = dst
	}
	return stacked
}

// copyElems copies n elements of src (a slice of dst's element type) into dst at element offset off.
func copyElems(dst *ops.Tensor, off int, src any, n int) {
	to, err := ops.FromData(dst.DType(), ops.Shape{n}, ops.Slice(dst.Data(), off, off+n))
	if err != nil {
		panic(errStackMismatch)
	}
	from, err := ops.FromData(dst.DType(), ops.Shape{n}, src)
	if err != nil {
		panic(errStackMismatch)
	}
	ops.CopyData(to, from)
}

// takeRows copies rows [off, off+n) of t into a new tensor.
func takeRows(t *ops.Tensor, off, n int) *ops.Tensor {
	inner := t.Len() / t.Shape()[0]
	shape := append(ops.Shape{n}, t.Shape()[1:]...)
	view, err := ops.FromData(t.DType(), shape, ops.Slice(t.Data(), off*inner, (off+n)*inner))
	if err != nil {
		panic(errStackMismatch)
	}
	return view.Clone()
}

// rowKey identifies inputs' dtypes and shapes past the first dimension: requests with equal keys stack.
func rowKey(inputs []*ops.Tensor) string {
	var b []byte
	for _, t := range inputs {
		b = append(b, byte(t.DType()))
		for _, d := range t.Shape()[1:] {
			b = fmt.Appendf(b, "%d,", d)
		}
		b = append(b, ';')
	}
	return string(b)
}
