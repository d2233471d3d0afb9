//go:build !amd64 || noasm

package cnn

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// dwAsmVariants: no assembly here, the pure-Go twin runs.
func dwAsmVariants() []isa.Variant[dwKernelFn] { return nil }

// dwSplitAsmVariants: no assembly here, the pure-Go twin runs.
func dwSplitAsmVariants() []isa.Variant[dwSplitFn] { return nil }

// dwCopyRowsAsmVariants: no assembly here, the pure-Go twin runs.
func dwCopyRowsAsmVariants() []isa.Variant[dwCopyRowsFn] { return nil }

// dwciPackAsmVariants: no assembly here, the pure-Go twin runs.
func dwciPackAsmVariants() []isa.Variant[dwciPackFn] { return nil }

// dwciUnpackAsmVariants: no assembly here, the pure-Go twin runs.
func dwciUnpackAsmVariants() []isa.Variant[dwciUnpackFn] { return nil }

// dwciTapsAsmVariants: no assembly here, the pure-Go twin runs.
func dwciTapsAsmVariants() []isa.Variant[dwciTapsFn] { return nil }

// dwciPackToAsmVariants: no assembly here, the pure-Go twin runs.
func dwciPackToAsmVariants() []isa.Variant[dwciPackToFn] { return nil }
