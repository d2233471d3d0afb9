package vision

import (
	"math"
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
)

// isFinite reports whether v is neither infinite nor NaN.
func isFinite(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }

func quote(s string) string { return strconv.Quote(s) }

// codec converts one float dtype's elements to and from float64, for kernels that compute in float64.
type codec[T any] struct {
	load  func(T) float64
	store func(float64) T
}

var (
	codecFloat32 = codec[float32]{
		load:  func(v float32) float64 { return float64(v) },
		store: func(v float64) float32 { return float32(v) },
	}
	codecFloat64 = codec[float64]{
		load:  func(v float64) float64 { return v },
		store: func(v float64) float64 { return v },
	}
	codecFloat16 = codec[ops.Float16Bits]{
		load:  func(v ops.Float16Bits) float64 { return float64(v.Float32()) },
		store: func(v float64) ops.Float16Bits { return ops.Float16FromFloat32(float32(v)) },
	}
	codecBFloat16 = codec[ops.BFloat16Bits]{
		load:  func(v ops.BFloat16Bits) float64 { return float64(v.Float32()) },
		store: func(v float64) ops.BFloat16Bits { return ops.BFloat16FromFloat32(float32(v)) },
	}
)
