package elementwise

import (
	"math"
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
)

// Mod: https://onnx.ai/onnx/operators/onnx__Mod.html, opsets 10, 13 (13 added bfloat16).
//
// With fmod=0 the result takes the divisor's sign (Python's %); with fmod=1 the dividend's (C's fmod, and
// C's % for integers). The spec reserves fmod=0 for integers; for floats it is computed the Python way too,
// as numpy.mod and ONNX's reference implementation do. Integer x mod 0 is 0.
func init() {
	ops.Register("", "Mod", ops.SameBuilder(buildMod, 10, 13)...)
}

func buildMod(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	fmod := r.Int("fmod", 0)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if fmod != 0 && fmod != 1 {
		return nil, &ops.AttrError{Name: "fmod", Msg: "is " + strconv.FormatInt(fmod, 10) + ", want 0 or 1"}
	}
	types := typeSince{{10, numericNoBF}, {13, numeric}}.at(n.Opset)
	return newBinaryOp(n, 0, types, ops.Undefined, func(dt, _ ops.DType, plan *bcastPlan) ops.Kernel {
		return modKernel(dt, fmod == 1, plan)
	})
}

func modKernel(dt ops.DType, fmod bool, plan *bcastPlan) ops.Kernel {
	f := floatMod
	if fmod {
		f = math.Mod
	}
	switch dt {
	case ops.Float32:
		return newBinary(plan, floatBinaryFunc[float32](f))
	case ops.Float64:
		return newBinary(plan, f)
	case ops.Float16:
		return newBinary(plan, floatBinaryFunc[ops.Float16Bits](f))
	case ops.BFloat16:
		return newBinary(plan, floatBinaryFunc[ops.BFloat16Bits](f))
	case ops.Int8:
		return newBinary(plan, intMod[int8](fmod))
	case ops.Int16:
		return newBinary(plan, intMod[int16](fmod))
	case ops.Int32:
		return newBinary(plan, intMod[int32](fmod))
	case ops.Int64:
		return newBinary(plan, intMod[int64](fmod))
	case ops.Uint8:
		return newBinary(plan, intMod[uint8](fmod))
	case ops.Uint16:
		return newBinary(plan, intMod[uint16](fmod))
	case ops.Uint32:
		return newBinary(plan, intMod[uint32](fmod))
	case ops.Uint64:
		return newBinary(plan, intMod[uint64](fmod))
	}
	return nil
}

// floatMod is numpy.mod: fmod, moved into the divisor's sign.
func floatMod(a, b float64) float64 {
	r := math.Mod(a, b)
	if r != 0 && (r < 0) != (b < 0) {
		r += b
	}
	if r == 0 {
		r = math.Copysign(0, b)
	}
	return r
}

func intMod[T ops.Integer](truncated bool) func(a, b T) T {
	if truncated {
		return func(a, b T) T {
			if b == 0 {
				return 0
			}
			return a % b
		}
	}
	return func(a, b T) T {
		if b == 0 {
			return 0
		}
		r := a % b
		if r != 0 && (r < 0) != (b < 0) {
			r += b
		}
		return r
	}
}
