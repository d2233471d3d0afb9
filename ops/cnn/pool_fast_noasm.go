//go:build !amd64 || noasm

package cnn

// havePoolAsm is false in this build: the pool routines run in Go (onnxrun --version reports it).
const havePoolAsm = false

// Without assembly the fast pool kernel keeps its strategy and runs the Go routines the assembly is
// checked against (pool_fast.go).

// pool2x2Row pools one row of 2x2 stride-2 windows (see pool2x2RowGo).
func pool2x2Row(y, x []float32, iw int, avg bool, scale float32) { pool2x2RowGo(y, x, iw, avg, scale) }

// pool2x2Planes pools whole planes of 2x2 stride-2 windows (see pool2x2PlanesGo).
func (f *fastPoolKernel) pool2x2Planes(x, y []float32, lo, hi int) { f.pool2x2PlanesGo(x, y, lo, hi) }

// maxPool3x3s2Row computes a row of 3x3 stride-2 max windows (see maxPool3x3s2RowGo).
func maxPool3x3s2Row(y, r0, r1, r2 []float32) { maxPool3x3s2RowGo(y, r0, r1, r2) }
