//go:build !amd64 || noasm

package nn

// haveDirectTileAsm is false without assembly: the few-channel strategy is then never chosen (im2col with
// the pure-Go GEMM serves those shapes), though tests still run it.
var haveDirectTileAsm = false

func directTile(k int, x []float32, offsets []int32, w []float32, y []float32, ldy int, a *directArgs) {
	directTileGo(k, x, offsets, w, y, ldy, a)
}
