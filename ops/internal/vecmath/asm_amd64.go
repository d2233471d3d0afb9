//go:build amd64 && !noasm

package vecmath

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// asmVariants lists the assembly variants of each family by family name.
var asmVariants = map[string][]isa.Variant[Kernel]{}

var expShiftStore = expShiftStoreGo
