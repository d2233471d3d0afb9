package igemm

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// microKernel computes one full mr×nr tile of raw products of a packed A panel (u8) and a packed B
// panel (s8), overwriting tile:
//
//	tile[r*nr+c] = Σ_{g<len(b)/(nr*kg)} Σ_{q<kg} a[(g*mr+r)*kg+q] * int8(b[(g*nr+c)*kg+q])
//
// len(a) is len(b)/nr*mr. Zero points, sums and the epilogue are the driver's.
type microKernel func(a, b []byte, tile *[mr * nr]int32)

// kernelGo is the pure-Go twin of the assembly kernels.
func kernelGo(a, b []byte, tile *[mr * nr]int32) {
	*tile = [mr * nr]int32{}
	groups := len(b) / (nr * kg)
	for g := 0; g < groups; g++ {
		ag := a[g*mr*kg : (g+1)*mr*kg]
		bg := b[g*nr*kg : (g+1)*nr*kg]
		for r := 0; r < mr; r++ {
			a0, a1, a2, a3 := int32(ag[r*kg]), int32(ag[r*kg+1]), int32(ag[r*kg+2]), int32(ag[r*kg+3])
			row := tile[r*nr : (r+1)*nr]
			for c := range row {
				bc := bg[c*kg : c*kg+kg]
				row[c] += a0*int32(int8(bc[0])) + a1*int32(int8(bc[1])) + a2*int32(int8(bc[2])) + a3*int32(int8(bc[3]))
			}
		}
	}
}

// kernelVariants are the micro-kernels by instruction-set level (kernel_amd64.go adds the assembly
// ones); defaultKernel is the one Multiply runs.
var (
	kernelVariants = append([]isa.Variant[microKernel]{{Level: isa.PureGo, Name: "pure Go 8x16", Fn: kernelGo}}, asmKernelVariants()...)
	defaultKernel  = isa.Pick(kernelVariants...)
)

func init() {
	ops.RegisterKernelVariant("igemm", defaultKernel.Level != isa.PureGo, defaultKernel.Name)
}
