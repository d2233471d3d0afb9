package cnn

// Taps that read the input for only part of the outputs. A dilated convolution on a map not much larger
// than its dilated kernel (DeepLabV3's ASPP: 3x3 at dilation 12 on a 16x16 map) has taps that fall in the
// padding for most output positions without doing so for all of them (conv_trim.go drops only those):
// there, tap (0, 0) reads the input for 16 of the 256 outputs, the centre tap for all of them, and im2col
// multiplies zeros for 75% of its multiply-adds. convTapRegions multiplies each tap over the outputs it
// reads the input for, a rectangle R_t, and sums the products:
//
//	Y[n][:, R_t] += W_t (M x C) · X[n][:, R_t shifted by the tap]
//
// with W_t the tap's weights, packed once per tap (as many values as W). Y starts as the bias (plus Z);
// the activation runs over it at the end. A rectangle that spans whole output rows is one contiguous run
// of every output plane, which the GEMM accumulates onto in place (Beta 1); when it also reads whole input
// rows at stride 1, its B operand is the input planes in place. Other rectangles are gathered into a
// column buffer and multiplied into a temporary that is added onto Y.

import (
	"github.com/onnxrun/onnxrun/ops/internal/activation"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// tapRegionsMaxLive is the largest share of im2col's multiply-adds that reads the input for which the
// per-tap products pay: each costs a GEMM call, a gather and an addition onto Y, which im2col's one GEMM
// does not pay, so a convolution whose taps are mostly live (ResNet-50's 3x3 on 7x7: 82% live) stays on
// im2col; DeepLabV3's ASPP at dilation 12 on 16x16 is 25% live.
const tapRegionsMaxLive = 0.5

// tapRegionsMinChannels is the fewest input channels (the per-tap products' K) for which per-tap GEMMs
// pay: below it their packing and calls cost more than the multiply-adds they save.
const tapRegionsMinChannels = 32

// tapRegion is one tap's live output rectangle, rows [oy0, oy1) and columns [ox0, ox1), and the input
// cell output (oy0, ox0) reads at that tap.
type tapRegion struct {
	tap                int
	oy0, oy1, ox0, ox1 int
	iy0, ix0           int
}

func (r *tapRegion) rows() int { return r.oy1 - r.oy0 }
func (r *tapRegion) cols() int { return r.ox1 - r.ox0 }
func (r *tapRegion) size() int { return r.rows() * r.cols() }

// liveTapRegions returns the live rectangle of each tap of a 2-D window that reads the input somewhere,
// and the share of the window's multiply-adds (taps x outputs) they cover.
func liveTapRegions(w *window) (regions []tapRegion, live float64) {
	if w.rank() != 2 {
		return nil, 1
	}
	liveCells := 0
	for ky := range w.kernel[0] {
		iy := ky*w.dilation[0] - w.padBegin[0]
		oy0, oy1 := colRange(iy, w.stride[0], w.in[0], w.out[0])
		for kx := range w.kernel[1] {
			ix := kx*w.dilation[1] - w.padBegin[1]
			ox0, ox1 := colRange(ix, w.stride[1], w.in[1], w.out[1])
			if oy0 >= oy1 || ox0 >= ox1 {
				continue
			}
			r := tapRegion{tap: ky*w.kernel[1] + kx, oy0: oy0, oy1: oy1, ox0: ox0, ox1: ox1,
				iy0: oy0*w.stride[0] + iy, ix0: ox0*w.stride[1] + ix}
			regions = append(regions, r)
			liveCells += r.size()
		}
	}
	all := w.kernel[0] * w.kernel[1] * w.out[0] * w.out[1]
	if all == 0 {
		return nil, 1
	}
	return regions, float64(liveCells) / float64(all)
}

// tapRegionsFits reports a plain (one group) 2-D convolution with enough input channels whose live taps
// cover at most tapRegionsMaxLive of its multiply-adds.
func tapRegionsFits(s *convShape) bool {
	if s.group != 1 || s.win.rank() != 2 || s.groupInC < tapRegionsMinChannels || s.taps < 2 {
		return false
	}
	_, live := liveTapRegions(&s.win)
	return live <= tapRegionsMaxLive
}

// convTapRegions is the strategy described at the top of this file. Units are images; at batch 1 the GEMMs
// thread themselves.
type convTapRegions struct {
	s       *convShape
	regions []tapRegion
	// inPlace[i] is set when region i's B operand is the input planes as they lie (whole input rows at
	// stride 1), accumulate[i] when the GEMM writes region i onto Y in place (whole output rows).
	inPlace, accumulate []bool
	// packed holds W_t for every tap when W is constant (nil: setup lays the taps out in shared scratch).
	packed *derivedWeights[[]*gemm.PackedA]
	// colLen and tempLen size the per-thread gather buffer (C x the largest gathered region) and product
	// (M x the largest region not accumulated in place).
	colLen, tempLen int
}

func newConvTapRegions(s *convShape, w convWeights) *convTapRegions {
	c := &convTapRegions{s: s}
	c.regions, _ = liveTapRegions(&s.win)
	win := &s.win
	for _, r := range c.regions {
		wholeOut := r.ox0 == 0 && r.ox1 == win.out[1]
		inPlace := wholeOut && win.stride[0] == 1 && win.stride[1] == 1 && r.ix0 == 0 && win.in[1] == win.out[1]
		c.inPlace = append(c.inPlace, inPlace)
		c.accumulate = append(c.accumulate, wholeOut)
		if !inPlace {
			c.colLen = max(c.colLen, s.inC*r.size())
		}
		if !wholeOut {
			c.tempLen = max(c.tempLen, s.outC*r.size())
		}
	}
	m, k, taps := s.outC, s.inC, s.taps
	c.packed = newDerivedWeights(w, "tap-regions", func(w []float32) []*gemm.PackedA {
		packed := gemm.NewPackedAs(taps, m, k)
		for t, pa := range packed {
			data := pa.Data()
			for i := range m {
				for p := range k {
					data[pa.Offset(i, p)] = w[(i*k+p)*taps+t]
				}
			}
		}
		return packed
	})
	return c
}

func (c *convTapRegions) name() string { return "tap-regions" }
func (c *convTapRegions) units() int   { return c.s.batch }
func (c *convTapRegions) scratchShared() int {
	if c.packed != nil {
		return 0
	}
	return c.s.taps * c.s.outC * c.s.inC
}
func (c *convTapRegions) scratchPerThread() int { return c.colLen + c.tempLen }

// setup lays run-time weights out tap by tap, W_t (M x C) at shared[t*M*C:].
func (c *convTapRegions) setup(r *convRun) {
	if c.packed != nil {
		return
	}
	m, k, taps := c.s.outC, c.s.inC, c.s.taps
	for t := range taps {
		wt := r.shared[t*m*k : (t+1)*m*k]
		for i := range m {
			for p := range k {
				wt[i*k+p] = r.w[(i*k+p)*taps+t]
			}
		}
	}
}

// unitOutput is image u's output, to which runConvUnits applies the post activation.
func (c *convTapRegions) unitOutput(u int) (lo, hi int, ok bool) {
	n := c.s.outC * c.s.outSize
	return u * n, (u + 1) * n, true
}

func (c *convTapRegions) run(r *convRun, lo, hi int, buf []float32, pool *parallel.Pool) {
	s := c.s
	col, temp := buf[:c.colLen], buf[c.colLen:c.colLen+c.tempLen]
	for n := lo; n < hi; n++ {
		x := r.x[n*s.inC*s.inSize : (n+1)*s.inC*s.inSize]
		y := r.y[n*s.outC*s.outSize : (n+1)*s.outC*s.outSize]
		c.startOutput(r, n, y)
		for i := range c.regions {
			if cancelled(r.done) {
				return
			}
			c.multiplyRegion(r, i, x, y, col, temp, pool)
		}
		// The clamp here; runConvUnits applies the post activation to the unit's output.
		if e := &r.k.epi; e.act != gemm.ActNone {
			clampOnly := *e
			clampOnly.post = activation.Func{}
			clampOnly.applyRow(y, y)
		}
	}
}

// startOutput sets image n's output planes to their bias, plus Z when the epilogue sums it.
func (c *convTapRegions) startOutput(r *convRun, n int, y []float32) {
	s := c.s
	for m := range s.outC {
		plane := y[m*s.outSize : (m+1)*s.outSize]
		var b float32
		if r.bias != nil {
			b = r.bias[m]
		}
		if r.z != nil {
			at := (n*s.outC + m) * s.outSize
			for i, v := range r.z[at : at+s.outSize] {
				plane[i] = v + b
			}
			continue
		}
		for i := range plane {
			plane[i] = b
		}
	}
}

// multiplyRegion adds W_t · X_shifted over region i onto image output y.
func (c *convTapRegions) multiplyRegion(r *convRun, i int, x, y, col, temp []float32, pool *parallel.Pool) {
	s, reg, win := c.s, &c.regions[i], &c.s.win
	size := reg.size()
	p := gemm.Params{M: s.outC, N: size, K: s.inC, Alpha: 1, Pool: pool, Done: r.done}
	if c.packed != nil {
		p.PackedA = c.packed.get()[reg.tap]
	} else {
		p.A, p.LDA = r.shared[reg.tap*s.outC*s.inC:(reg.tap+1)*s.outC*s.inC], s.inC
	}
	if c.inPlace[i] {
		p.B, p.LDB = x[reg.iy0*win.in[1]:], s.inSize
	} else {
		gatherTapRegion(col[:s.inC*size], x, reg, win, s.inC, s.inSize)
		p.B, p.LDB = col, size
	}
	if c.accumulate[i] {
		p.C, p.LDC, p.Beta = y[reg.oy0*win.out[1]:], s.outSize, 1
		gemm.Multiply(&p)
		return
	}
	p.C, p.LDC = temp[:s.outC*size], size
	gemm.Multiply(&p)
	cols := reg.cols()
	for m := range s.outC {
		src := temp[m*size : (m+1)*size]
		plane := y[m*s.outSize : (m+1)*s.outSize]
		for row := range reg.rows() {
			dst := plane[(reg.oy0+row)*win.out[1]+reg.ox0:][:cols]
			for j, v := range src[row*cols : (row+1)*cols] {
				dst[j] += v
			}
		}
	}
}

// gatherTapRegion writes, for each of the channels planes of x, the input cells region reg reads, row by
// row: col[c*size + row*cols + j] = x[c][iy0 + row*strideY][ix0 + j*strideX].
func gatherTapRegion(col, x []float32, reg *tapRegion, win *window, channels, inSize int) {
	rows, cols, size := reg.rows(), reg.cols(), reg.size()
	sy, sx, inW := win.stride[0], win.stride[1], win.in[1]
	for c := range channels {
		plane := x[c*inSize : (c+1)*inSize]
		dst := col[c*size : (c+1)*size]
		for row := range rows {
			src := plane[(reg.iy0+row*sy)*inW+reg.ix0:]
			out := dst[row*cols : (row+1)*cols]
			if sx == 1 {
				copy(out, src[:cols])
				continue
			}
			for j := range out {
				out[j] = src[j*sx]
			}
		}
	}
}
