//go:build !amd64 || noasm

package cnn

// haveDirectTileAsm is false in this build: directTile run in Go (onnxrun --version reports it).
const haveDirectTileAsm = false

// directTile computes one 6x16 tile (the formula is on directTileGo): without assembly the direct
// strategy runs its Go routine, on the same tiles as the assembly build.
func directTile(k int, x []float32, offsets []int32, w []float32, y []float32, ldy int, a *directArgs) {
	directTileGo(k, x, offsets, w, y, ldy, a)
}
