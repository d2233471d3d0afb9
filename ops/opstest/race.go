//go:build race

package opstest

// RaceEnabled is true under -race, where sync.Pool drops items at random (so pooled GEMM buffers get
// reallocated) and allocation counts mean nothing.
const RaceEnabled = true
