package igemm

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// microKernel computes the first rows (1..mr) rows of the mr×nr tiles of raw products of a packed A
// panel (u8) and panels (1 or maxPanels) consecutive packed B panels (s8) held in b, overwriting them
// (the other rows are left undefined): for q < panels, with kb = len(b)/panels the bytes of a panel,
//
//	tile[q*mr*nr+r*nr+c] = Σ_{g<kb/(nr*kg)} Σ_{q'<kg} a[(g*mr+r)*kg+q'] * int8(b[q*kb+(g*nr+c)*kg+q'])
//
// len(a) is kb/nr*mr. rows lets a short last panel (M = 1 in a batch-1 MatMul) skip the padding
// rows' work where the kernel can (a kernel may compute more rows). Two B panels at once let a kernel
// reuse each broadcast of A twice (the VNNI kernel's one-panel loop is bound by its loads). Zero
// points, sums and the epilogue are the driver's.
type microKernel func(a, b []byte, panels int, tile *[maxPanels * mr * nr]int32, rows int)

// maxPanels is the most B panels a micro-kernel call takes.
const maxPanels = 2

// kernelGo is the pure-Go twin of the assembly kernels.
func kernelGo(a, b []byte, panels int, tile *[maxPanels * mr * nr]int32, rows int) {
	*tile = [maxPanels * mr * nr]int32{}
	kb := len(b) / panels
	groups := kb / (nr * kg)
	for q := 0; q < panels; q++ {
		bq := b[q*kb : (q+1)*kb]
		for g := 0; g < groups; g++ {
			ag := a[g*mr*kg : (g+1)*mr*kg]
			bg := bq[g*nr*kg : (g+1)*nr*kg]
			for r := 0; r < rows; r++ {
				a0, a1, a2, a3 := int32(ag[r*kg]), int32(ag[r*kg+1]), int32(ag[r*kg+2]), int32(ag[r*kg+3])
				row := tile[q*mr*nr+r*nr : q*mr*nr+(r+1)*nr]
				for c := range row {
					bc := bg[c*kg : c*kg+kg]
					row[c] += a0*int32(int8(bc[0])) + a1*int32(int8(bc[1])) + a2*int32(int8(bc[2])) + a3*int32(int8(bc[3]))
				}
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
