package cnn

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// doneOf and cancelled are kernelutil's DoneOf and Cancelled under the names the convolution files used
// before the package split, so that those files kept their text (and in-flight changes to them merge).
func doneOf(ctx *ops.ExecContext) <-chan struct{} { return kernelutil.DoneOf(ctx) }
func cancelled(done <-chan struct{}) bool         { return kernelutil.Cancelled(done) }

// poolOf returns the session's worker pool for GEMM, or nil (run on the calling goroutine).
func poolOf(ctx *ops.ExecContext) *parallel.Pool {
	return ctx.Pool
}
