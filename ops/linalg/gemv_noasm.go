//go:build !amd64 || noasm

package linalg

// haveGemvAsm is false without assembly; the GEMV path is then not taken (the GEMM serves M = 1).
var haveGemvAsm = false

func gemv32(k int, x, w []float32, ldw int, y *[32]float32) { gemv32Go(k, x, w, ldw, y) }
