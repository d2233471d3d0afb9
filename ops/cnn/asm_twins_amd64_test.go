//go:build !noasm

package cnn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

// The assembly routines and their Go twins must compute the same thing on the same tiles: the pure-Go
// build (-tags noasm, other GOARCHes) runs the twins on the strategies the assembly build picks. These
// tests call both on random data. The assembly fuses multiply-adds, so products compare within a few
// ulps; maxima compare exactly.

func randFloats(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*4 - 2
	}
	return s
}

func closeFloats(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(w) != math.IsNaN(g) || math.Abs(g-w) > tol*(1+math.Abs(w)) {
			t.Fatalf("%s: [%d] assembly %v, Go %v", what, i, g, w)
		}
	}
}

func TestDirectTileAssemblyMatchesGo(t *testing.T) {
	if !haveDirectTileAsm {
		testenv.Missing(t, "a CPU with AVX2+FMA", "directTile runs directTileGo here; run on an AVX2 machine to compare the assembly")
	}
	r := rand.New(rand.NewPCG(1, 2))
	const ldy = directCols + 5
	for _, k := range []int{1, 9, 27, directMaxK} {
		for _, flags := range []uintptr{0, directLoadC, directClamp, directLoadC | directClamp} {
			x := randFloats(r, 200+directCols)
			offsets := make([]int32, k)
			for i := range offsets {
				offsets[i] = int32(r.IntN(200))
			}
			w := randFloats(r, k*directRows)
			bias := randFloats(r, directRows)
			a := directArgs{lo: -1, hi: 1.5, flags: flags, bias: &bias[0]}
			y0 := randFloats(r, (directRows-1)*ldy+directCols)
			yAsm, yGo := append([]float32(nil), y0...), append([]float32(nil), y0...)
			directTileFMA(k, &x[0], &offsets[0], &w[0], &yAsm[0], ldy*4, &a)
			directTileGo(k, x, offsets, w, yGo, ldy, &a)
			closeFloats(t, "directTile", yAsm, yGo, 1e-5)
		}
	}
}

func TestWinogradTransformsAssemblyMatchGo(t *testing.T) {
	if !haveWinogradAsm {
		t.Skip("no AVX2+FMA: the transforms run in Go")
	}
	r := rand.New(rand.NewPCG(3, 4))
	const stride = 11 // lanes 0-7 of each ξ row, then a gap the routines must leave alone
	var d, dCopy [wgXi * 8]float32
	copy(d[:], randFloats(r, len(d)))
	dCopy = d
	vAsm, vGo := make([]float32, wgXi*stride), make([]float32, wgXi*stride)
	winogradInput8Asm(&d, &vAsm[0], stride*4)
	winogradInput8Go(&dCopy, vGo, stride)
	closeFloats(t, "winogradInput8", vAsm, vGo, 1e-5)

	mx := randFloats(r, wgXi*stride)
	for _, a := range []winogradOutArgs{{bias: 0.5}, {bias: -0.25, lo: -0.5, hi: 0.75, flags: 1}} {
		var tmp [24 * 8]float32
		var outAsm, outGo [16 * 8]float32
		winogradOutput8Asm(&mx[0], stride*4, &tmp, &outAsm, &a)
		winogradOutput8Go(mx, stride, &outGo, &a)
		closeFloats(t, "winogradOutput8", outAsm[:], outGo[:], 1e-5)
	}
}

func TestPoolRowsAssemblyMatchGo(t *testing.T) {
	if !havePoolAsm {
		t.Skip("no AVX2: the pool rows run in Go")
	}
	r := rand.New(rand.NewPCG(5, 6))
	nan := float32(math.NaN())
	for _, n := range []int{1, 7, 8, 9, 23} {
		iw := 2*n + 3
		x := randFloats(r, 3*iw)
		x[1], x[iw+4] = nan, nan // maxima skip NaN taps the way maxTap does
		for _, avg := range []bool{false, true} {
			yAsm, yGo := make([]float32, n), make([]float32, n)
			pool2x2Asm(&yAsm[0], &x[0], 1, 0, iw, 1, n, boolToInt(avg), 0.25)
			pool2x2RowGo(yGo, x, iw, avg, 0.25)
			closeFloats(t, "pool2x2Row", yAsm, yGo, 0)
		}
		yAsm, yGo := make([]float32, n), make([]float32, n)
		maxPool3x3s2Row(yAsm, x, x[iw:], x[2*iw:]) // the assembly: havePoolAsm is true here
		maxPool3x3s2RowGo(yGo, x, x[iw:], x[2*iw:])
		closeFloats(t, "maxPool3x3s2Row", yAsm, yGo, 0)
	}

	// Whole planes: 3 planes of 6x10 into 3x5.
	f := &fastPoolKernel{max: true, ih: 6, iw: 10, oh: 3, ow: 5}
	x := randFloats(r, 3*6*10)
	for _, isMax := range []bool{true, false} {
		f.max, f.scale = isMax, 0.25
		yAsm, yGo := make([]float32, 3*15), make([]float32, 3*15)
		f.pool2x2Planes(x, yAsm, 0, 3)
		f.pool2x2PlanesGo(x, yGo, 0, 3)
		closeFloats(t, "pool2x2Planes", yAsm, yGo, 0)
	}
}

func TestMaxShiftedAssemblyMatchesGo(t *testing.T) {
	if !maxShiftedAsm {
		testenv.Missing(t, "a CPU with AVX2", "maxShifted runs maxShiftedGo here; run on an AVX2 machine to compare the assembly")
	}
	r := rand.New(rand.NewPCG(8, 8))
	for _, n := range []int{32, 33, 63, 64, 65, 96, 112, 130} {
		for _, step := range []int{1, 2, 3, 150} {
			for _, count := range []int{1, 2, 3, 7} {
				src := make([]byte, n+(count-1)*step)
				for i := range src {
					src[i] = byte(r.IntN(256))
				}
				for _, signed := range []bool{false, true} {
					asm, twin := make([]byte, n+1), make([]byte, n+1) // a guard byte past the end
					asm[n], twin[n] = 0xa5, 0xa5
					maxShifted(asm[:n], src, step, count, signed)
					maxShiftedGo(twin[:n], src, step, count, signed)
					if i := firstDifference(asm, twin); i >= 0 {
						t.Fatalf("n=%d step=%d count=%d signed=%v: byte %d is %#x in assembly, %#x in Go", n, step, count, signed, i, asm[i], twin[i])
					}
				}
			}
		}
	}
}

func TestEvenBytesAssemblyMatchesGo(t *testing.T) {
	if !maxShiftedAsm {
		testenv.Missing(t, "a CPU with AVX2", "evenBytes runs evenBytesGo here; run on an AVX2 machine to compare the assembly")
	}
	r := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{32, 33, 56, 64, 95, 200} {
		src := make([]byte, 2*n)
		for i := range src {
			src[i] = byte(r.IntN(256))
		}
		asm, twin := make([]byte, n+1), make([]byte, n+1) // a guard byte past the end
		asm[n], twin[n] = 0xa5, 0xa5
		evenBytes(asm[:n], src)
		evenBytesGo(twin[:n], src)
		if i := firstDifference(asm, twin); i >= 0 {
			t.Fatalf("n=%d: byte %d is %#x in assembly, %#x in Go", n, i, asm[i], twin[i])
		}
	}
}
