//go:build !amd64 || noasm

package nn

// haveWinogradAsm is false without assembly: the 8-tile transforms run in Go.
var haveWinogradAsm = false

func winogradInput8(d *[wgXi * 8]float32, v []float32, vstride int) { winogradInput8Go(d, v, vstride) }

func winogradOutput8(mx []float32, mstride int, _ *[24 * 8]float32, out *[16 * 8]float32, a *winogradOutArgs) {
	winogradOutput8Go(mx, mstride, out, a)
}
