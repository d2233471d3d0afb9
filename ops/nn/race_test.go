//go:build race

package nn

// raceEnabled is true under -race, where sync.Pool drops items at random (so pooled GEMM buffers get
// reallocated) and allocation counts mean nothing.
const raceEnabled = true
