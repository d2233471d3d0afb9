//go:build race

package linalg

// raceEnabled: the race detector makes sync.Pool drop items at random, so the GEMM's pooled buffers are
// reallocated now and then and allocation counts mean nothing.
const raceEnabled = true
