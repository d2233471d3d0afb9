//go:build !amd64 || noasm

package vecmath

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// asmVariants has no assembly variants on this build.
var asmVariants = map[string][]isa.Variant[Kernel]{}

var expShiftStore = expShiftStoreGo
