// Package layering holds only a test: it checks the project's import graph against the layering that
// STYLE.md sets out (onnx and ops are leaves that never meet; runtime joins them; kernels stay free of
// protobuf; each kernel package under ops imports only ops and ops/internal), with `go list -deps`, so a
// stray import fails the build instead of eroding the design.
package layering
