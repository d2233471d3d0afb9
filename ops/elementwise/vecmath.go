package elementwise

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecmath"
)

// The float32 kernels of Exp, Log, Erf, Sigmoid, Tanh, Gelu, Softplus and Swish run package vecmath's
// vectorised functions over the tensor's contiguous data instead of the float64 map of the other types.

// vecSpan is f in the form of the package's span loops, so that vecmath kernels split over the threads
// the way every other float32 elementwise kernel does (runSpans, parallel.go).
func vecSpan(f vecmath.Kernel) span32 {
	return span32{f: func(dst, src []float32, _, _ float32) { f(dst, src) }}
}

// withVec returns the float32 kernel of f where f is set, and the float64-map kernel of kernel otherwise.
func withVec(f vecmath.Kernel, kernel func(ops.DType) ops.Kernel) func(ops.DType) ops.Kernel {
	if f == nil {
		return kernel
	}
	return func(dt ops.DType) ops.Kernel {
		if dt == ops.Float32 {
			return newSpanKernel(vecSpan(f))
		}
		return kernel(dt)
	}
}

// activationVec gives the float32 kernel of the activations vecmath computes, from the node's attributes.
var activationVec = map[string]func(r *ops.AttrReader) vecmath.Kernel{
	"Sigmoid":  func(*ops.AttrReader) vecmath.Kernel { return vecmath.Sigmoid },
	"Tanh":     func(*ops.AttrReader) vecmath.Kernel { return vecmath.Tanh },
	"Softplus": func(*ops.AttrReader) vecmath.Kernel { return vecmath.Softplus },
	// Gelu's approximate attribute was checked by makeGelu.
	"Gelu": func(r *ops.AttrReader) vecmath.Kernel {
		if r.String("approximate", "none") == "tanh" {
			return vecmath.GeluTanh
		}
		return vecmath.GeluErf
	},
}
