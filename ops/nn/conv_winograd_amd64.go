//go:build !noasm

package nn

import "golang.org/x/sys/cpu"

// haveWinogradAsm says whether the 8-tile transforms run in assembly (conv_winograd_amd64.s).
var haveWinogradAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX

// winogradInput8 is winogradInput8Go in AVX2+FMA assembly; vstride is in bytes.
//
//go:noescape
func winogradInput8Asm(d *[wgXi * 8]float32, v *float32, vstride int)

// winogradOutput8 is winogradOutput8Go in AVX2+FMA assembly; mstride is in bytes.
//
//go:noescape
func winogradOutput8Asm(mx *float32, mstride int, tmp *[24 * 8]float32, out *[16 * 8]float32, a *winogradOutArgs)

func winogradInput8(d *[wgXi * 8]float32, v []float32, vstride int) {
	if haveWinogradAsm {
		_ = v[35*vstride+7]
		winogradInput8Asm(d, &v[0], vstride*4)
		return
	}
	winogradInput8Go(d, v, vstride)
}

func winogradOutput8(mx []float32, mstride int, tmp *[24 * 8]float32, out *[16 * 8]float32, a *winogradOutArgs) {
	if haveWinogradAsm {
		_ = mx[35*mstride+7]
		winogradOutput8Asm(&mx[0], mstride*4, tmp, out, a)
		return
	}
	winogradOutput8Go(mx, mstride, out, a)
}
