package ops

import "github.com/onnxrun/onnxrun/ops/internal/parallel"

// Pool is the persistent set of worker threads a session lends its kernels (ExecContext.Pool). It lives
// in ops/internal/parallel, next to the GEMM that drives it; this alias lets the runtime, outside ops,
// create one. With one thread it runs everything inline: a single-threaded session pays
// nothing for it.
type Pool = parallel.Pool

// NewPool starts a pool of threads workers (the caller of For counts as one); threads <= 0 means GOMAXPROCS.
func NewPool(threads int) *Pool { return parallel.NewPool(threads) }
