//go:build noasm || !amd64

package gemm

// asmImpls lists the assembly variants this CPU can run: none on this build.
func asmImpls() []*impl { return nil }
