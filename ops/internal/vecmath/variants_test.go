package vecmath

import "github.com/onnxrun/onnxrun/ops/internal/isa"

func runnable(f *family) []isa.Variant[Kernel] { return isa.Runnable(f.variants...) }
