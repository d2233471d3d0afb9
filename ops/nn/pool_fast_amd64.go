//go:build !noasm

package nn

import "golang.org/x/sys/cpu"

var havePoolAsm = cpu.X86.HasAVX2 && cpu.X86.HasAVX

//go:noescape
func pool2x2Asm(y *float32, x *float32, planes int, inSize int, iw int, oh int, ow int, avg int, scale float32)

// pool2x2Row pools one row of 2x2 stride-2 windows, input rows x[0:] and x[iw:], into y, and reports
// whether it could (false without AVX2: the caller's Go loop does it).
func pool2x2Row(y, x []float32, iw int, avg bool, scale float32) bool {
	if !havePoolAsm {
		return false
	}
	if len(y) == 0 {
		return true
	}
	_ = x[iw+2*len(y)-1]
	a := 0
	if avg {
		a = 1
	}
	pool2x2Asm(&y[0], &x[0], 1, 0, iw, 1, len(y), a, scale)
	return true
}

// pool2x2Planes pools planes [lo, hi) of X (planes of ih x iw) into Y (oh x ow) when every window is a 2x2
// stride-2 window inside the input, with no padding (f.whole2x2), and reports whether it could: false when
// the CPU lacks AVX2, and the caller pools row by row.
func (f *fastPoolKernel) pool2x2Planes(x, y []float32, lo, hi int) bool {
	if !havePoolAsm || lo >= hi {
		return false
	}
	inSize, outSize := f.ih*f.iw, f.oh*f.ow
	_, _ = x[hi*inSize-1], y[hi*outSize-1]
	a := 0
	if !f.max {
		a = 1
	}
	pool2x2Asm(&y[lo*outSize], &x[lo*inSize], hi-lo, inSize, f.iw, f.oh, f.ow, a, f.scale)
	return true
}

//go:noescape
func maxPool3x3s2Asm(y *float32, r0 *float32, r1 *float32, r2 *float32, n int, tail int)

// maxPool3x3s2Row computes a row of 3x3 stride-2 max windows over input rows r0, r1, r2 (each at least
// 2*len(y)+1 long) and reports whether it could (false without AVX2: the caller's Go loop does it).
func maxPool3x3s2Row(y, r0, r1, r2 []float32) bool {
	if !havePoolAsm {
		return false
	}
	m := len(y)
	if m == 0 {
		return true
	}
	_, _, _ = r0[2*m], r1[2*m], r2[2*m]
	n := (m - 1) / 8 * 8 // eight at a time read column 2n+1: only up to the last output's window
	if len(r0) > 2*m+1 && len(r1) > 2*m+1 && len(r2) > 2*m+1 {
		n = m / 8 * 8 // the rows go on past the last window
	}
	maxPool3x3s2Asm(&y[0], &r0[0], &r1[0], &r2[0], n, m-n)
	return true
}
