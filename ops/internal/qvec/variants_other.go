//go:build !amd64 || noasm

package qvec

import "github.com/onnxrun/onnxrun/ops/internal/isa"

func variants() []isa.Variant[*impl] {
	return []isa.Variant[*impl]{{Level: isa.PureGo, Name: "pure Go", Fn: twin}}
}
