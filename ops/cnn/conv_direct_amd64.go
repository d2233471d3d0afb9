//go:build !noasm

package cnn

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// haveDirectTileAsm says whether directTile runs the AVX2+FMA kernel (conv_direct_amd64.s) rather than
// directTileGo; the strategy is the same either way.
var haveDirectTileAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX

// directTileFMA is directTileGo in assembly: 12 YMM accumulators (6 rows x 16 columns), per tap two
// unaligned loads of x and six broadcast weights. ldy is in bytes.
//
//go:noescape
func directTileFMA(k int, x *float32, offsets *int32, w *float32, y *float32, ldy int, a *directArgs)

// directTile computes one 6x16 tile:
//
//	v = bias[i] + Σ_t w[t*6+i] * x[off[t]+j]   (+ y[i*ldy+j] with directLoadC)
//	y[i*ldy+j] = clamp(v, lo, hi)              (with directClamp)
//
// for i < 6, j < 16, in assembly with fused multiply-adds where the CPU has them, else as directTileGo.
// x must hold offsets[t]+16 values past its start for every tap t, y 5*ldy+16.
func directTile(k int, x []float32, offsets []int32, w []float32, y []float32, ldy int, a *directArgs) {
	if haveDirectTileAsm {
		_ = w[k*directRows-1]
		_ = y[(directRows-1)*ldy+directCols-1]
		_ = offsets[k-1]
		directTileFMA(k, unsafe.SliceData(x), unsafe.SliceData(offsets), unsafe.SliceData(w), unsafe.SliceData(y), ldy*4, a)
		return
	}
	directTileGo(k, x, offsets, w, y, ldy, a)
}
