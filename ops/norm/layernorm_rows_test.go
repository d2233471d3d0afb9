package norm

import (
	"fmt"
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// layerNormReference is LayerNormalization over the last axis in plain float64 loops, with Scale and B of
// one value per column.
func layerNormReference(x, scale, bias []float32, inner int, epsilon float64) (y, mean, invStd []float64) {
	rows := len(x) / inner
	y, mean, invStd = make([]float64, len(x)), make([]float64, rows), make([]float64, rows)
	for r := 0; r < rows; r++ {
		row := x[r*inner : (r+1)*inner]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mean[r] = sum / float64(inner)
		var sq float64
		for _, v := range row {
			sq += (float64(v) - mean[r]) * (float64(v) - mean[r])
		}
		invStd[r] = 1 / math.Sqrt(sq/float64(inner)+epsilon)
		for i, v := range row {
			y[r*inner+i] = (float64(v)-mean[r])*invStd[r]*float64(scale[i]) + float64(bias[i])
		}
	}
	return y, mean, invStd
}

// The float32 per-column path (layerNormRows), on one thread and split over two, matches the float64
// reference on odd row lengths, on few rows and on enough rows to run threaded.
func TestLayerNormRowsMatchesReference(t *testing.T) {
	pool := ops.NewPool(2)
	defer pool.Close()
	for _, shape := range [][]int{{1, 1, 7}, {3, 5, 13}, {2, 129, 768}, {1, 197, 31}} {
		for _, threads := range []int{1, 2} {
			t.Run(fmt.Sprintf("%v/threads%d", shape, threads), func(t *testing.T) {
				inner := shape[len(shape)-1]
				x := opstest.RandF32(int64(inner), shape...)
				for i, v := range x.Float32s() {
					x.Float32s()[i] = 3*v + float32(i%inner)*0.01 + 5 // an offset mean, so a one-pass variance would lose digits
				}
				scale, bias := opstest.RandF32(2, inner), opstest.RandF32(3, inner)
				p := opstest.MustPrepare(t, opstest.Node{OpType: "LayerNormalization", Opset: 17,
					Attrs: ops.AttrMap{"epsilon": ops.FloatAttr(1e-5)}, Inputs: []*ops.Tensor{x, scale, bias}, NumOutputs: 3})
				if !p.Kernel.(*layerNormKernel).perColumn {
					t.Fatal("per-column Scale and B did not select layerNormRows")
				}
				if threads > 1 {
					p.Ctx.Pool = pool
					p.Ctx.Threads = threads
				}
				if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
					t.Fatal(err)
				}
				y, mean, invStd := layerNormReference(x.Float32s(), scale.Float32s(), bias.Float32s(), inner, 1e-5)
				for name, pair := range map[string][2][]float64{
					"Y": {opstest.Float64s(p.Out[0].Float32s()), y}, "Mean": {opstest.Float64s(p.Out[1].Float32s()), mean},
					"InvStdDev": {opstest.Float64s(p.Out[2].Float32s()), invStd}} {
					for i, want := range pair[1] {
						if got := pair[0][i]; math.Abs(got-want) > 1e-5+1e-5*math.Abs(want) {
							t.Fatalf("%s[%d] = %g, want %g", name, i, got, want)
						}
					}
				}
			})
		}
	}
}

// BenchmarkLayerNorm times LayerNormalization on BERT-base's rows (128 x 768) and on a 4M-element tensor,
// on one and two threads.
func BenchmarkLayerNorm(b *testing.B) {
	pool := ops.NewPool(2)
	defer pool.Close()
	for _, shape := range [][]int{{1, 128, 768}, {4096, 1024}} {
		inner := shape[len(shape)-1]
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%v/threads%d", shape, threads), func(b *testing.B) {
				x := opstest.RandF32(1, shape...)
				p := opstest.MustPrepare(b, opstest.NewNode("LayerNormalization", 17, nil, x, opstest.RandF32(2, inner), opstest.RandF32(3, inner)))
				if threads > 1 {
					p.Ctx.Pool, p.Ctx.Threads = pool, threads
				}
				b.SetBytes(int64(8 * x.Len()))
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// Rows far from zero with a small spread (1e4 ± 1, as an unnormalised residual stream can be) keep their
// digits: the float32 sums are of x minus the row's first value, not of x.
func TestLayerNormRowsLargeOffset(t *testing.T) {
	const inner = 768
	x := opstest.RandF32(7, 4, inner)
	for i, v := range x.Float32s() {
		x.Float32s()[i] = 1e4 + v
	}
	scale, bias := opstest.RandF32(2, inner), opstest.RandF32(3, inner)
	p := runLayerNormAllOutputs(t, x, scale, bias)
	y, mean, _ := layerNormReference(x.Float32s(), scale.Float32s(), bias.Float32s(), inner, 1e-5)
	for i, want := range y {
		if got := float64(p.Out[0].Float32s()[i]); math.Abs(got-want) > 1e-4 {
			t.Fatalf("Y[%d] = %g, want %g (row mean %g, got %g)", i, got, want, mean[i/inner], p.Out[1].Float32s()[i/inner])
		}
	}
}

// A row whose first value is its one outlier (1e3 among values of spread 1) is the worst case of the
// one-pass variance summed around x0: the sums carry (mean - x0)² ≈ inner times the variance. The result
// still holds to about 1e-3 of the row's standard deviation, as layernorm_rows.go says.
func TestLayerNormRowsOutlierFirst(t *testing.T) {
	const inner = 768
	x := opstest.RandF32(8, 3, inner)
	for r := range 3 {
		x.Float32s()[r*inner] = 1e3
	}
	scale, bias := opstest.RandF32(2, inner), opstest.RandF32(3, inner)
	p := runLayerNormAllOutputs(t, x, scale, bias)
	y, _, invStd := layerNormReference(x.Float32s(), scale.Float32s(), bias.Float32s(), inner, 1e-5)
	worst := 0.0
	for i, want := range y {
		worst = max(worst, math.Abs(float64(p.Out[0].Float32s()[i])-want))
	}
	for r, want := range invStd {
		if got := float64(p.Out[2].Float32s()[r]); math.Abs(got-want) > 1e-3*want {
			t.Errorf("InvStdDev[%d] = %g, want %g", r, got, want)
		}
	}
	if worst > 1e-3 {
		t.Errorf("max |Y - reference| = %g, want ≤ 1e-3", worst)
	}
	t.Logf("max |Y - reference| = %g", worst)
}

// runLayerNormAllOutputs runs LayerNormalization-17 (epsilon 1e-5, the last axis) with its three outputs.
func runLayerNormAllOutputs(t *testing.T, x, scale, bias *ops.Tensor) *opstest.Prepared {
	t.Helper()
	p := opstest.MustPrepare(t, opstest.Node{OpType: "LayerNormalization", Opset: 17,
		Attrs: ops.AttrMap{"epsilon": ops.FloatAttr(1e-5)}, Inputs: []*ops.Tensor{x, scale, bias}, NumOutputs: 3})
	if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
		t.Fatal(err)
	}
	return p
}

// Each thread of a threaded Run normalises one contiguous range of rows (the hardware prefetchers follow
// one stream per thread): part p's share alone writes exactly rows [p·rows/parts, (p+1)·rows/parts) and
// leaves the others untouched. Claiming 4 rows at a time from a shared counter, as Run did before,
// interleaved the threads' rows.
func TestLayerNormThreadSharesAreContiguous(t *testing.T) {
	const rows, inner, parts = 43, 24, 3
	x, scale := opstest.RandF32(5, rows, inner).Float32s(), opstest.RandF32(6, inner).Float32s()
	for part := range parts {
		y := make([]float32, rows*inner)
		for i := range y {
			y[i] = float32(math.NaN())
		}
		task := &layerNormTask{x: x, scale: scale, y: y, rows: rows, inner: inner, parts: parts, epsilon: 1e-5}
		task.Do(part, part+1)
		first, end := part*rows/parts, (part+1)*rows/parts
		for i, v := range y {
			if written, want := !math.IsNaN(float64(v)), i/inner >= first && i/inner < end; written != want {
				t.Fatalf("part %d of %d: y[%d] (row %d) written=%v, want only rows [%d, %d)", part, parts, i, i/inner, written, first, end)
			}
		}
	}
}

// The node runtime's fuseLayerNorm writes for a decomposed LayerNorm (BERT's and ViT's exports before
// opset 17) takes gamma and beta as they were, of shape [C], [1, C] or [1, 1, C] (perColumnConstant):
// every one of them selects the row kernel, so those models run the same kernel as LayerNormalization-17.
func TestLayerNormFusedShapesSelectRowKernel(t *testing.T) {
	const columns = 24
	for _, shapes := range [][2][]int{{{columns}, {1, columns}}, {{1, columns}, {1, 1, columns}}, {{1, 1, columns}, {columns}}} {
		x := opstest.RandF32(7, 2, 5, columns)
		scale, bias := opstest.RandF32(8, shapes[0]...), opstest.RandF32(9, shapes[1]...)
		p := opstest.MustPrepare(t, opstest.NewNode("LayerNormalization", 17, nil, x, scale, bias))
		if !p.Kernel.(*layerNormKernel).perColumn {
			t.Errorf("Scale %v, B %v: not the row kernel", shapes[0], shapes[1])
		}
	}
}
