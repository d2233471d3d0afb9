//go:build !noasm

package nn

import "golang.org/x/sys/cpu"

var havePoolAsm = cpu.X86.HasAVX2 && cpu.X86.HasAVX

//go:noescape
func pool2x2Asm(y *float32, r0 *float32, r1 *float32, n int, avg int, scale float32)

// pool2x2 computes the first n/8*8 outputs of a row of 2x2 stride-2 windows over input rows r0 and r1 (see
// pool2x2Asm) and returns how many it did; the caller does the rest.
func pool2x2(y, r0, r1 []float32, avg bool, scale float32) int {
	n := len(y) / 8 * 8
	if !havePoolAsm || n == 0 {
		return 0
	}
	_, _ = r0[2*n-1], r1[2*n-1]
	a := 0
	if avg {
		a = 1
	}
	pool2x2Asm(&y[0], &r0[0], &r1[0], n, a, scale)
	return n
}
