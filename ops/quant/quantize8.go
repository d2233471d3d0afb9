package quant

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
	"github.com/onnxrun/onnxrun/ops/internal/qvec"
)

// The float32 ↔ uint8/int8 cases of QuantizeLinear and DequantizeLinear, per tensor or per axis, are the
// ones QDQ graphs run around every quantized operator: they go through ops/internal/qvec's vectorised
// spans, one span per scale (the whole tensor, or each run of inner elements sharing an axis index), split
// across the threads when the tensor is large. The results are the reference kernels', bit for bit (the
// same float32 division or product, the same rounding); every other type, blocked scales and float16
// precision keep the reference path.

// convert8Kernel converts float32 to 8-bit (quantize) or back (dequantize) with per-tensor or per-axis
// scales.
type convert8Kernel struct {
	g        *granularity // perTensor or perAxis
	quantize bool
	signed   bool
	tasks    parallel.TaskSlot[convert8Task]
}

// fast8 reports whether the float32 and 8-bit types and the granularity allow the vectorised path.
func fast8(floatType, scaleType, quantType ops.DType, g *granularity) bool {
	return floatType == ops.Float32 && scaleType == ops.Float32 && (quantType == ops.Uint8 || quantType == ops.Int8) &&
		g.mode != blocked
}

func (k *convert8Kernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	t := k.tasks.Get()
	defer k.tasks.Put(t)
	t.k, t.scales = k, in[1].Float32s()
	if zp := ops.TensorAt(in, 2); zp != nil {
		t.zp = zp.Data()
	}
	if k.quantize {
		t.floats, t.quants = in[0].Float32s(), out[0].Data()
	} else {
		t.floats, t.quants = out[0].Float32s(), in[0].Data()
	}
	g := k.g
	units := g.outer * g.dim // one unit per scale run
	if g.mode == perTensor {
		units = len(t.floats)
	}
	if len(t.floats) < qvec.ParallelMin || ctx.Pool == nil || ctx.Threads <= 1 {
		t.Do(0, units)
		return nil
	}
	ctx.Pool.ForTask(units, t)
	return nil
}

// convert8Task converts a range of units: elements for a per-tensor scale, runs of inner elements
// sharing one scale for a per-axis one.
type convert8Task struct {
	k      *convert8Kernel
	scales []float32
	zp     any // []uint8, []int8 or nil
	floats []float32
	quants any // []uint8 or []int8
}

func (t *convert8Task) Do(lo, hi int) {
	g := t.k.g
	if g.mode == perTensor {
		t.span(lo, hi, 0)
		return
	}
	for u := lo; u < hi; u++ {
		t.span(u*g.inner, (u+1)*g.inner, u%g.dim)
	}
}

// span converts elements [lo, hi) with scale and zero point s.
func (t *convert8Task) span(lo, hi, s int) {
	scale := t.scales[s]
	if t.k.signed {
		q := t.quants.([]int8)[lo:hi]
		var zp int8
		if z, ok := t.zp.([]int8); ok {
			zp = z[s]
		}
		if t.k.quantize {
			qvec.QuantizeS8(q, t.floats[lo:hi], scale, zp)
		} else {
			qvec.DequantizeS8(t.floats[lo:hi], q, scale, zp)
		}
		return
	}
	q := t.quants.([]uint8)[lo:hi]
	var zp uint8
	if z, ok := t.zp.([]uint8); ok {
		zp = z[s]
	}
	if t.k.quantize {
		qvec.QuantizeU8(q, t.floats[lo:hi], scale, zp)
	} else {
		qvec.DequantizeU8(t.floats[lo:hi], q, scale, zp)
	}
}
