package cnn

// The 8-bit MaxPool (uint8 and int8, opset 12 on), which QDQ graphs leave between their quantized convolutions
// (DQ → MaxPool → Q runs on the quantized tensor: runtime/pass_qdq_transparent.go). The maximum of bytes is
// exact, so the kernel pools the bytes themselves, separably: for each output row, a vertical pass takes each
// input column's maximum over the rows the row's windows cover, into a row buffer padded with the type's
// lowest value (which the maximum ignores, as the reference ignores padding), and a horizontal pass takes
// the maximum of kw taps dw apart along that row. Both passes are one routine, maxShifted: dst[i] is the
// maximum of count elements of src, step apart, from src[i], 32 bytes at a time with AVX2's VPMAXUB or
// VPMAXSB (pool_bytes_amd64.s). The horizontal pass computes every column; a stride along x then keeps
// every sw-th (at stride 2, the common case, with a vector routine of its own, evenBytes). Any window, stride, dilation, padding and ceil_mode over two spatial axes; Indices goes to
// the reference loop (pool.go). Widening each plane to float32 and running the float kernels is exact too,
// but converts every byte twice for a few comparisons each.

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// bytePoolWidth is the widest padded row the 8-bit pool takes: its two row buffers live on the goroutine's
// stack, so that Run allocates nothing.
const bytePoolWidth = 4096

// maxShiftedVariants say whether maxShifted runs in assembly (pool_bytes_amd64.s) or in Go.
var maxShiftedVariants = append([]isa.Variant[bool]{{Level: isa.PureGo, Name: "Go", Fn: false}}, maxShiftedAsmVariants...)

// maxShiftedAsm is true when maxShifted runs in assembly.
var maxShiftedAsm = isa.Pick(maxShiftedVariants...).Fn

// bytePoolKernel runs a 2-D MaxPool on uint8 or int8 without Indices.
type bytePoolKernel struct {
	ref                    *poolKernel // the reference kernel: the geometry, and the loop this one matches
	signed                 bool        // int8, else uint8
	lowest                 byte        // the type's least value as a byte: what padding and an empty window give
	ih, iw, oh, ow         int
	kh, kw, sh, sw, dh, dw int
	ph, pw                 int
	// rowWidth is the padded row the passes use: pw lowest values, the input's columns, lowest values up to
	// the last window's last tap.
	rowWidth int
}

// newBytePool returns the 8-bit kernel for k when it applies, else nil.
func newBytePool(k *poolKernel) *bytePoolKernel {
	w := &k.s.win
	if (k.dtype != ops.Uint8 && k.dtype != ops.Int8) || k.op.kind != poolMax || k.op.withIndices || w.rank() != 2 {
		return nil
	}
	b := &bytePoolKernel{ref: k, signed: k.dtype == ops.Int8,
		ih: w.in[0], iw: w.in[1], oh: w.out[0], ow: w.out[1],
		kh: w.kernel[0], kw: w.kernel[1], sh: w.stride[0], sw: w.stride[1], dh: w.dilation[0], dw: w.dilation[1],
		ph: w.padBegin[0], pw: w.padBegin[1]}
	if b.signed {
		b.lowest = 0x80 // -128
	}
	b.rowWidth = max((b.ow-1)*b.sw+(b.kw-1)*b.dw+1, b.pw+b.iw)
	// evenBytes reads one byte past the last window's start.
	if b.rowWidth+1 > bytePoolWidth || b.oh == 0 || b.ow == 0 {
		return nil
	}
	return b
}

// ScratchSize: none (the row buffers are on the stack).
func (b *bytePoolKernel) ScratchSize() int { return 0 }

func (b *bytePoolKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	runPlanesThreaded(ctx, b, ops.ByteData(in[0]), ops.ByteData(out[0]), b.ref.s.planes, b.ref.s.outSize, &bytePoolTasks)
	return nil
}

// planes pools planes [lo, hi).
func (b *bytePoolKernel) planes(x, y []byte, lo, hi int) {
	var colMax, rowMax [bytePoolWidth]byte
	padded := colMax[:b.rowWidth]
	for c := range padded {
		padded[c] = b.lowest
	}
	cols := padded[b.pw : b.pw+b.iw]
	// The horizontal pass covers every column a window starts at: (ow-1)*sw+1 of them.
	starts := (b.ow-1)*b.sw + 1
	inSize, outSize := b.ih*b.iw, b.oh*b.ow
	for p := lo; p < hi; p++ {
		xp := x[p*inSize : (p+1)*inSize]
		yp := y[p*outSize : (p+1)*outSize]
		for oy := 0; oy < b.oh; oy++ {
			top := oy*b.sh - b.ph
			first, rows := tapsInside(top, b.kh, b.dh, b.ih)
			if rows == 0 {
				for c := range cols {
					cols[c] = b.lowest
				}
			} else {
				maxShifted(cols, xp[(top+first*b.dh)*b.iw:], b.dh*b.iw, rows, b.signed)
			}
			yRow := yp[oy*b.ow : (oy+1)*b.ow]
			if b.sw == 1 {
				maxShifted(yRow, padded, b.dw, b.kw, b.signed)
				continue
			}
			maxShifted(rowMax[:starts], padded, b.dw, b.kw, b.signed)
			if b.sw == 2 {
				evenBytes(yRow, rowMax[:2*b.ow])
				continue
			}
			for ox := range yRow {
				yRow[ox] = rowMax[ox*b.sw]
			}
		}
	}
}

// tapsInside returns the window taps start + i*dil, i in [0, k), that lie in [0, in): the first such i and
// how many there are (they are consecutive).
func tapsInside(start, k, dil, in int) (first, count int) {
	if start < 0 {
		first = ceilDiv(-start, dil)
	}
	last := in - 1 - start // the taps at start + i*dil <= in-1
	if last < 0 {
		return first, 0
	}
	return first, max(min(k, last/dil+1)-first, 0)
}

// evenBytesGo is evenBytes in Go: dst[j] = src[2j] for j < len(dst).
func evenBytesGo(dst, src []byte) {
	src = src[:2*len(dst)]
	for j := range dst {
		dst[j] = src[2*j]
	}
}

// maxShiftedGo is maxShifted in Go: for each i < len(dst), with count >= 1,
//
//	dst[i] = max over t in [0, count) of src[i + t*step]
//
// comparing bytes as int8 when signed, else as uint8. dst and src do not overlap.
func maxShiftedGo(dst, src []byte, step, count int, signed bool) {
	if signed {
		maxShiftedOf(bytesAs[int8](dst), bytesAs[int8](src), step, count)
	} else {
		maxShiftedOf(dst, src, step, count)
	}
}

func maxShiftedOf[T int8 | uint8](dst, src []T, step, count int) {
	n := len(dst)
	copy(dst, src[:n])
	for t := 1; t < count; t++ {
		row := src[t*step : t*step+n : t*step+n]
		for i, v := range row {
			dst[i] = max(dst[i], v)
		}
	}
}
