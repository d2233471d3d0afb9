package cnn

// The transposed GEMM strategy of the float32 convolution (see conv_fast.go), for small output maps.
//
// convIm2col multiplies W (M x K) by the columns (K x outSize): the output positions are the GEMM's N, cut
// into the micro-kernel's 32-column tiles (16 on AVX2). ResNet-50's layer4 has 7x7 = 49 output positions:
// two 32-column tiles compute 64 columns for 49, a quarter of the work wasted, for each of up to 2048
// output channels. Transposed, the same product is
//
//	Yᵀ (outSize x M) = colᵀ (outSize x K) · Wᵀ (K x M)
//
// with the output channels as N (whole tiles: channel counts are multiples of 32 in such layers) and the
// 49 positions as M, cut into 6-row tiles (54 rows for 49). colᵀ is the column buffer read transposed (the
// GEMM packs its A, and the columns are small here), Wᵀ is packed once as the GEMM's B, and Yᵀ is written
// into scratch, then transposed into Y with the residual and the clamp. chooseConvStrategy takes it when
// the tile counts say it wastes less (gemmTPays).

import (
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// convGemmT computes each image's group as Yᵀ = colᵀ · Wᵀ (see the top of this file); col is the im2col
// buffer, or X's planes themselves for a pointwise convolution.
type convGemmT struct {
	s         *convShape
	g         *gather // for windows of rank other than 2
	pointwise bool    // 1x1, stride 1, no padding: X's planes are col
	packed    *derivedWeights[[]*gemm.PackedB]
	m, k      int // rows of one group's W (M/group) and its columns (C/group*taps)
	ldt       int // row stride of Yᵀ in scratch
}

func newConvGemmT(s *convShape, w convWeights) *convGemmT {
	m, k, groups := s.groupOutC, s.groupInC*s.taps, s.group
	c := &convGemmT{s: s, pointwise: isPointwise(s), m: m, k: k, ldt: colStride(m)}
	if s.win.rank() != 2 {
		c.g = s.win.gatherInput()
	}
	c.packed = newDerivedWeights(w, "gemm-t", func(w []float32) []*gemm.PackedB {
		packed := make([]*gemm.PackedB, groups)
		for g := range packed {
			packed[g] = gemm.PackB(true, k, m, w[g*m*k:(g+1)*m*k], k)
		}
		return packed
	})
	return c
}

func (c *convGemmT) name() string       { return "gemm-t" }
func (c *convGemmT) units() int         { return c.s.batch * c.s.group }
func (c *convGemmT) scratchShared() int { return 0 }
func (c *convGemmT) setup(*convRun)     {}

func (c *convGemmT) unitOutput(u int) (lo, hi int, ok bool) { return groupOutputRange(c.s, u) }

// colSize is the column buffer's length (none for a pointwise convolution).
func (c *convGemmT) colSize() int {
	if c.pointwise {
		return 0
	}
	return c.k*colStride(c.s.outSize) + phasedLen(&c.s.win, c.s.groupInC)
}

// scratchPerThread is one image's column buffer and its Yᵀ.
func (c *convGemmT) scratchPerThread() int { return c.colSize() + c.s.outSize*c.ldt }

func (c *convGemmT) run(r *convRun, lo, hi int, buf []float32, pool *parallel.Pool) {
	s := c.s
	col, yt := buf[:c.colSize()], buf[c.colSize():c.colSize()+s.outSize*c.ldt]
	for u := lo; u < hi; u++ {
		n, g := u/s.group, u%s.group
		x := groupInput(r, n, g)
		a, lda := x, s.inSize
		switch {
		case c.pointwise:
		case c.g == nil:
			lda = colStride(s.outSize)
			if phased := col[c.k*lda:]; len(phased) > 0 {
				split := im2colSplit{w: &s.win, channels: s.groupInC, phase: true, phased: phased, x: x}
				split.run(r, len(phased), s.groupInC*s.win.in[0], pool)
				x = phased
			}
			split := im2colSplit{w: &s.win, channels: s.groupInC, col: col, x: x, ld: lda}
			split.run(r, c.k*s.outSize, s.win.out[0], pool)
			a = col
		default:
			im2colGather(col, x, c.g, s.groupInC, s.inSize)
			a, lda = col, s.outSize
		}
		c.multiply(r, g, a, lda, yt, pool)
		c.store(r, n, g, yt)
	}
}

// multiply writes Yᵀ (outSize x M/group, row stride ldt) = colᵀ · W[g]ᵀ + bias_g, clamped when the
// epilogue is a clamp alone (a residual must be added before it, in store).
func (c *convGemmT) multiply(r *convRun, g int, col []float32, ldCol int, yt []float32, pool *parallel.Pool) {
	e := &r.k.epi
	p := gemm.Params{
		TransA: true, M: c.s.outSize, N: c.m, K: c.k, Alpha: 1,
		A: col, LDA: ldCol,
		C: yt, LDC: c.ldt,
		Pool: pool,
		Done: r.done,
	}
	if !e.sum {
		p.Epilogue = gemm.Epilogue{Act: e.act, Min: e.lo, Max: e.hi}
	}
	if r.bias != nil {
		p.Epilogue.Bias, p.Epilogue.BiasMode = r.bias[g*c.m:(g+1)*c.m], gemm.BiasPerCol
	}
	if c.packed != nil {
		p.PackedB = c.packed.get()[g]
	} else {
		p.TransB, p.B, p.LDB = true, r.w[g*c.m*c.k:(g+1)*c.m*c.k], c.k
	}
	gemm.Multiply(&p)
}

// store transposes Yᵀ into image n's group g of Y, adding Z and clamping when the epilogue sums (the
// post activation, if any, runs after the unit, in runConvUnits).
func (c *convGemmT) store(r *convRun, n, g int, yt []float32) {
	s, e := c.s, &r.k.epi
	lo := (n*s.outC + g*s.groupOutC) * s.outSize
	y := r.y[lo : lo+c.m*s.outSize]
	if !e.sum {
		transposeInto(y, yt, c.m, s.outSize, c.ldt)
		return
	}
	z := r.z[lo : lo+c.m*s.outSize]
	for m := range c.m {
		ym, zm := y[m*s.outSize:(m+1)*s.outSize], z[m*s.outSize:(m+1)*s.outSize]
		for p := range ym {
			ym[p] = e.apply(yt[p*c.ldt+m] + zm[p])
		}
	}
}

// transposeInto writes y[m*cols+p] = t[p*ldt+m] for m < rows, p < cols, eight rows of y at a time so that
// each line of t read serves eight stores.
func transposeInto(y, t []float32, rows, cols, ldt int) {
	m := 0
	for ; m+8 <= rows; m += 8 {
		y0 := y[m*cols : (m+8)*cols]
		for p := range cols {
			v := (*[8]float32)(t[p*ldt+m:])
			y0[p], y0[cols+p], y0[2*cols+p], y0[3*cols+p] = v[0], v[1], v[2], v[3]
			y0[4*cols+p], y0[5*cols+p], y0[6*cols+p], y0[7*cols+p] = v[4], v[5], v[6], v[7]
		}
	}
	for ; m < rows; m++ {
		ym := y[m*cols : (m+1)*cols]
		for p := range ym {
			ym[p] = t[p*ldt+m]
		}
	}
}
