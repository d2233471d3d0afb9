package array

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// Plans above copyParallelMin split over their outermost axis on a pool of two give what runCopy gives:
// several affine axes (a Slice-like box), one affine axis, one table axis (a Compress-like selection), a
// table outer axis over a contiguous inner one (Tile-like), and an outer axis of odd length.
func TestParallelCopyMatchesSerial(t *testing.T) {
	pool := ops.NewPool(2)
	defer pool.Close()
	const n = copyParallelMin + 37
	table := make([]int, n)
	for i := range table {
		table[i] = (i * 7) % n
	}
	outerTable := make([]int, 301)
	for i := range outerTable {
		outerTable[i] = (i % 5) * 300
	}
	plans := map[string]*copyPlan{
		"box":         {axes: []planAxis{{n: 257, dstStride: 300, srcStride: 310}, {n: 300, dstStride: 1, srcStride: 1}}, srcOff: 3},
		"one axis":    {axes: []planAxis{{n: n, dstStride: 1, srcStride: 1}}, dstOff: 5},
		"table":       {axes: []planAxis{{n: n, dstStride: 1, table: table}}},
		"outer table": {axes: []planAxis{{n: 301, dstStride: 300, table: outerTable}, {n: 300, dstStride: 1, srcStride: 1}}},
	}
	for name, p := range plans {
		for _, dt := range []ops.DType{ops.Float32, ops.Uint8, ops.String} {
			t.Run(fmt.Sprintf("%s/%s", name, dt), func(t *testing.T) {
				src := ops.New(dt, ops.Shape{n + 100000})
				fillDistinct(src)
				want, have := ops.New(dt, ops.Shape{n + 100000}), ops.New(dt, ops.Shape{n + 100000})
				run, _ := copyFuncs.of(dt)
				runRange, _ := copyRangeFuncs.of(dt)
				run(p, want.Data(), src.Data())
				ctx := ops.SerialContext()
				ctx.Pool = pool
				parallelCopy(ctx, run, runRange, p, have.Data(), src.Data())
				if !reflect.DeepEqual(have.Data(), want.Data()) {
					t.Fatal("the parallel copy differs from runCopy")
				}
			})
		}
	}
}
