//go:build !amd64 || noasm

package cnn

// haveWinogradAsm is false in this build: the Winograd transforms run in Go (onnxrun --version reports it).
const haveWinogradAsm = false

// Without assembly the Winograd strategy runs the Go routines of its 8-tile transforms (conv_winograd.go),
// on the same tiles as the assembly build.

// winogradInput8 is winogradInput8Go: Bᵀ d B for 8 tiles, lane q of d to v[ξ*vstride+q].
func winogradInput8(d *[wgXi * 8]float32, v []float32, vstride int) { winogradInput8Go(d, v, vstride) }

// winogradOutput8 is winogradOutput8Go: clamp(Aᵀ M A + bias) for 8 tiles.
func winogradOutput8(mx []float32, mstride int, _ *[24 * 8]float32, out *[16 * 8]float32, a *winogradOutArgs) {
	winogradOutput8Go(mx, mstride, out, a)
}
