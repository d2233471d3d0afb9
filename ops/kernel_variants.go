package ops

import (
	"slices"
	"strings"
	"sync"
)

// PureGo is the variant of a kernel family that runs the portable Go loops: on a CPU without the
// features its assembly needs, on a non-amd64 GOARCH, or in a build with -tags noasm.
const PureGo = "pure Go"

// KernelVariant is the implementation one family of fast kernels runs in this process, chosen once at
// init from the CPU's features and the build tags: Family "gemm", Variant "AVX2+FMA 6x16" or PureGo.
type KernelVariant struct {
	Family  string
	Variant string
}

var kernelVariants struct {
	sync.Mutex
	list []KernelVariant
}

// RegisterKernelVariant records which implementation family runs, from the init of the package that
// chooses it, so that tools (onnxrun --version) can say what this CPU gets without reaching into the
// kernel packages: asm, the assembly variant's description (e.g. "AVX2+FMA 6x16"), when hasAsm, else
// PureGo. Registering a family again replaces its variant.
func RegisterKernelVariant(family string, hasAsm bool, asm string) {
	variant := PureGo
	if hasAsm {
		variant = asm
	}
	kernelVariants.Lock()
	defer kernelVariants.Unlock()
	for i, kv := range kernelVariants.list {
		if kv.Family == family {
			kernelVariants.list[i].Variant = variant
			return
		}
	}
	kernelVariants.list = append(kernelVariants.list, KernelVariant{Family: family, Variant: variant})
}

// KernelVariants lists the registered kernel families, sorted by family. Only the kernel packages linked
// into the program have registered (runtime links them all).
func KernelVariants() []KernelVariant {
	kernelVariants.Lock()
	defer kernelVariants.Unlock()
	out := slices.Clone(kernelVariants.list)
	slices.SortFunc(out, func(a, b KernelVariant) int { return strings.Compare(a.Family, b.Family) })
	return out
}
