//go:build !noasm

package cnn

import "golang.org/x/sys/cpu"

// havePoolAsm says whether the pool routines run in assembly (pool_fast_amd64.s); without AVX2 they run
// the Go routines they are checked against (pool_fast.go), on the same strategy.
var havePoolAsm = cpu.X86.HasAVX2 && cpu.X86.HasAVX

//go:noescape
func pool2x2Asm(y *float32, x *float32, planes int, inSize int, iw int, oh int, ow int, avg int, scale float32)

// pool2x2Row pools one row of 2x2 stride-2 windows, input rows x[0:] and x[iw:], into y:
//
//	y[j] = max(x[2j], x[2j+1], x[iw+2j], x[iw+2j+1])                  (max, NaN-skipping)
//	y[j] = ((x[2j] + x[2j+1]) + x[iw+2j] + x[iw+2j+1]) * scale        (avg)
//
// The assembly does eight outputs at a time; pool2x2RowGo is the reference.
func pool2x2Row(y, x []float32, iw int, avg bool, scale float32) {
	if !havePoolAsm {
		pool2x2RowGo(y, x, iw, avg, scale)
		return
	}
	if len(y) == 0 {
		return
	}
	_ = x[iw+2*len(y)-1]
	pool2x2Asm(&y[0], &x[0], 1, 0, iw, 1, len(y), boolToInt(avg), scale)
}

// pool2x2Planes pools planes [lo, hi) of X (planes of ih x iw) into Y (oh x ow) when every window is a 2x2
// stride-2 window inside the input, with no padding (f.whole2x2): pool2x2Row over every output row, which
// pool2x2PlanesGo is in Go.
func (f *fastPoolKernel) pool2x2Planes(x, y []float32, lo, hi int) {
	if !havePoolAsm {
		f.pool2x2PlanesGo(x, y, lo, hi)
		return
	}
	if lo >= hi {
		return
	}
	inSize, outSize := f.ih*f.iw, f.oh*f.ow
	_, _ = x[hi*inSize-1], y[hi*outSize-1]
	pool2x2Asm(&y[lo*outSize], &x[lo*inSize], hi-lo, inSize, f.iw, f.oh, f.ow, boolToInt(!f.max), f.scale)
}

//go:noescape
func maxPool3x3s2Asm(y *float32, r0 *float32, r1 *float32, r2 *float32, n int, tail int)

// maxPool3x3s2Row computes a row of 3x3 stride-2 max windows over input rows r0, r1, r2 (each at least
// 2*len(y)+1 long):
//
//	y[j] = max over r ∈ {r0, r1, r2}, i ∈ {0, 1, 2} of r[2j+i]   (NaN-skipping)
//
// The assembly does eight outputs at a time; maxPool3x3s2RowGo is the reference.
func maxPool3x3s2Row(y, r0, r1, r2 []float32) {
	if !havePoolAsm {
		maxPool3x3s2RowGo(y, r0, r1, r2)
		return
	}
	m := len(y)
	if m == 0 {
		return
	}
	_, _, _ = r0[2*m], r1[2*m], r2[2*m]
	n := (m - 1) / 8 * 8 // eight at a time read column 2n+1: only up to the last output's window
	if len(r0) > 2*m+1 && len(r1) > 2*m+1 && len(r2) > 2*m+1 {
		n = m / 8 * 8 // the rows go on past the last window
	}
	maxPool3x3s2Asm(&y[0], &r0[0], &r1[0], &r2[0], n, m-n)
}

// boolToInt is the 0 or 1 the assembly takes for a flag.
func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
