//go:build !amd64 || noasm

package nn

// havePoolAsm is false without assembly: the Go loops pool every row.
const havePoolAsm = false

// pool2x2Row has no assembly here: the Go loop does every output.
func pool2x2Row(y, x []float32, iw int, avg bool, scale float32) bool { return false }

// pool2x2Planes has no assembly here: planes pools row by row.
func (f *fastPoolKernel) pool2x2Planes(x, y []float32, lo, hi int) bool { return false }

// maxPool3x3s2Row has no assembly here: the Go loop does every output.
func maxPool3x3s2Row(y, r0, r1, r2 []float32) bool { return false }
