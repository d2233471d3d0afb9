//go:build !noasm

package cnn

import "golang.org/x/sys/cpu"

// haveWinogradAsm says whether the 8-tile transforms run in assembly (conv_winograd_amd64.s) rather than
// their Go routines; the strategy and its tiles are the same either way.
var haveWinogradAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX

// winogradInput8 is winogradInput8Go in AVX2+FMA assembly; vstride is in bytes.
//
//go:noescape
func winogradInput8Asm(d *[wgXi * 8]float32, v *float32, vstride int)

// winogradOutput8 is winogradOutput8Go in AVX2+FMA assembly; mstride is in bytes.
//
//go:noescape
func winogradOutput8Asm(mx *float32, mstride int, tmp *[24 * 8]float32, out *[16 * 8]float32, a *winogradOutArgs)

// winogradInput8 writes Bᵀ d B for 8 tiles at once, lane q of d (d[k*8+q] is element k of tile q's 6x6
// patch) to v[ξ*vstride+q]; winogradInput8Go is the reference. d is overwritten.
func winogradInput8(d *[wgXi * 8]float32, v []float32, vstride int) {
	if haveWinogradAsm {
		_ = v[35*vstride+7]
		winogradInput8Asm(d, &v[0], vstride*4)
		return
	}
	winogradInput8Go(d, v, vstride)
}

// winogradOutput8 writes out[(i*4+j)*8+q] = clamp((Aᵀ M A)[i][j] + bias) for 8 tiles at once, lane q
// reading M[ξ] at mx[ξ*mstride+q]; winogradOutput8Go is the reference.
func winogradOutput8(mx []float32, mstride int, tmp *[24 * 8]float32, out *[16 * 8]float32, a *winogradOutArgs) {
	if haveWinogradAsm {
		_ = mx[35*mstride+7]
		winogradOutput8Asm(&mx[0], mstride*4, tmp, out, a)
		return
	}
	winogradOutput8Go(mx, mstride, out, a)
}
