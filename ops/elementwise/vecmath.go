package elementwise

import (
	"sync"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecmath"
)

// The float32 kernels of Exp, Log, Erf, Sigmoid, Tanh, Gelu and Swish (alpha 1) run package vecmath's
// vectorised functions over the tensor's contiguous data instead of the float64 map of the other types.

const (
	// vecParallelMin is the size from which a vecmath kernel splits over the session's threads: below,
	// the whole tensor takes a few microseconds and the handoff would cost more than it saves.
	vecParallelMin = 16 << 10
	// vecChunkMin is the least each thread gets, so that every part streams whole pages.
	vecChunkMin = 4 << 10
)

// vecKernel applies f (a vecmath function) to a float32 tensor.
type vecKernel struct{ f vecmath.Kernel }

func (k vecKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	runVec(ctx, k.f, out[0].Float32s(), in[0].Float32s())
	return nil
}

// runVec sets dst[i] = f(src[i]), over the pool's threads in contiguous parts of at least vecChunkMin
// elements when src has vecParallelMin or more.
func runVec(ctx *ops.ExecContext, f vecmath.Kernel, dst, src []float32) {
	parts := min(ctx.Pool.Threads(), len(src)/vecChunkMin)
	if len(src) < vecParallelMin || parts < 2 {
		f(dst, src)
		return
	}
	t := vecTasks.Get().(*vecTask)
	// Parts start on 16-element (64-byte) boundaries, so that no cache line is written by two threads.
	*t = vecTask{f: f, dst: dst, src: src, parts: parts, part: (len(src)/parts + 15) &^ 15}
	ctx.Pool.ForTask(parts, t)
	*t = vecTask{}
	vecTasks.Put(t)
}

// vecTask is one threaded runVec; Do runs parts [lo, hi).
type vecTask struct {
	f           vecmath.Kernel
	dst, src    []float32
	parts, part int // how many parts, and the elements in each but the last
}

func (t *vecTask) Do(lo, hi int) {
	start, end := min(lo*t.part, len(t.src)), min(hi*t.part, len(t.src))
	if hi == t.parts { // the last part takes the remainder
		end = len(t.src)
	}
	t.f(t.dst[start:end], t.src[start:end])
}

var vecTasks = sync.Pool{New: func() any { return new(vecTask) }}

// withVec returns the float32 kernel of f where f is set, and the float64-map kernel of kernel otherwise.
func withVec(f vecmath.Kernel, kernel func(ops.DType) ops.Kernel) func(ops.DType) ops.Kernel {
	if f == nil {
		return kernel
	}
	return func(dt ops.DType) ops.Kernel {
		if dt == ops.Float32 {
			return vecKernel{f}
		}
		return kernel(dt)
	}
}

// activationVec gives the float32 kernel of the activations vecmath computes, from the node's attributes.
var activationVec = map[string]func(r *ops.AttrReader) vecmath.Kernel{
	"Sigmoid": func(*ops.AttrReader) vecmath.Kernel { return vecmath.Sigmoid },
	"Tanh":    func(*ops.AttrReader) vecmath.Kernel { return vecmath.Tanh },
	// Gelu's approximate attribute was checked by makeGelu.
	"Gelu": func(r *ops.AttrReader) vecmath.Kernel {
		if r.String("approximate", "none") == "tanh" {
			return vecmath.GeluTanh
		}
		return vecmath.GeluErf
	},
}
