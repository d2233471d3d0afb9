package array

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// The Concat kernel skips an input only when its data is the output's block itself.
func TestConcatStartsAt(t *testing.T) {
	out := make([]float32, 10)
	block := out[4:7]
	copyOfBlock := append([]float32(nil), block...)
	f, _ := startsAtFuncs.of(ops.Float32)
	switch {
	case !f(out, block, 4):
		t.Error("a view of the block at offset 4 was not recognised")
	case f(out, block, 3):
		t.Error("a view at offset 4 was taken for the block at offset 3")
	case f(out, copyOfBlock, 4):
		t.Error("a separate slice with the same values was taken for the block")
	case f(out, []float32{}, 10):
		t.Error("an empty input was taken for a block past the end")
	}
	strs := []string{"a", "b", "c"}
	if g, _ := startsAtFuncs.of(ops.String); !g(strs, strs[1:], 1) || g(strs, []string{"b"}, 1) {
		t.Error("string blocks: wrong answer")
	}
}
