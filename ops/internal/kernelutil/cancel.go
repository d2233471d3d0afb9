package kernelutil

import "github.com/onnxrun/onnxrun/ops"

// DoneOf is the run's cancellation channel for gemm.Params.Done, nil without a context. A GEMM that sees
// it closed returns early; the runtime then discards the outputs and reports the context's error.
func DoneOf(ctx *ops.ExecContext) <-chan struct{} {
	if ctx.Context == nil {
		return nil
	}
	return ctx.Context.Done()
}

// Cancelled reports whether done (a run's DoneOf) is closed; a nil done never is. It does not block.
func Cancelled(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}
