package random

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/mt19937"
)

// seedAttr is a node's seed attribute: whether it has one, and the generator seed it stands for.
type seedAttr struct {
	fixed bool
	value uint32
}

// readSeed reads the optional float seed. NaN is "no seed", as in ONNX's reference implementation;
// infinities have no integer value and are refused.
func readSeed(r *ops.AttrReader) (seedAttr, error) {
	if !r.Has("seed") {
		return seedAttr{}, nil
	}
	s := float64(r.Float("seed", 0))
	if err := r.Err(); err != nil {
		return seedAttr{}, err
	}
	switch {
	case math.IsNaN(s):
		return seedAttr{}, nil
	case math.IsInf(s, 0):
		return seedAttr{}, &ops.AttrError{Name: "seed", Msg: fmt.Sprintf("is %g, want a finite number", s)}
	}
	// Truncate toward zero, then wrap to 32 bits; floats beyond int64 saturate first.
	t := math.Trunc(s)
	var wide int64
	switch {
	case t >= math.MaxInt64:
		wide = math.MaxInt64
	case t <= math.MinInt64:
		wide = math.MinInt64
	default:
		wide = int64(t)
	}
	return seedAttr{fixed: true, value: uint32(wide)}, nil
}

// start seeds g for one Run.
func (s seedAttr) start(g *mt19937.Generator) {
	if s.fixed {
		g.Seed(s.value)
		return
	}
	g.Seed(rand.Uint32())
}

// outputDType reads the optional dtype attribute, checked against allowed.
func outputDType(r *ops.AttrReader, opType string, opset int, allowed ops.DTypeSet) (ops.DType, error) {
	if !r.Has("dtype") {
		return ops.Undefined, r.Err()
	}
	dt := r.Int("dtype", 0)
	if err := r.Err(); err != nil {
		return ops.Undefined, err
	}
	if dt <= 0 || dt > 255 || !allowed.Has(ops.DType(dt)) {
		return ops.Undefined, &ops.AttrError{Name: "dtype", Msg: fmt.Sprintf("is %d, %s opset %d allows %s", dt, opType, opset, allowed)}
	}
	return ops.DType(dt), nil
}
