// Package parallel provides the persistent worker pool that onnxrun's hot
// kernels (GEMM, convolution) use to split work across cores.
//
// # Model
//
// A Pool owns threads-1 long-lived goroutines; the goroutine calling For is the
// remaining worker, so a 1-thread Pool (or a nil *Pool) runs everything inline
// with no goroutine, channel or allocation cost. For splits [0, n) into at most
// Threads() contiguous, near-equal ranges and returns when all are done.
//
// # Handoff
//
// An idle worker polls for its next range for up to 100 µs (yielding with
// runtime.Gosched) before it blocks on a channel, and so does a caller
// waiting for its workers: a session's kernels come back to back, and a
// blocked goroutine takes the scheduler tens of microseconds to wake on
// another core, more than a small kernel's whole parallel section.
//
// # Concurrency
//
// A Pool may be shared by goroutines. It runs one For at a time: a For that
// finds the pool busy (another goroutine's For, or a nested For from inside a
// task) runs its whole range inline on the caller. That is always correct and
// never deadlocks; it only gives up parallelism for the overlapping call.
//
// # Allocation
//
// For and ForTask do not allocate. A func literal that captures variables and
// is passed to For may itself be heap-allocated by the Go compiler because it
// escapes to the workers; hot callers that must stay at zero allocations pass a
// pointer to a long-lived value implementing Task to ForTask instead.
package parallel
