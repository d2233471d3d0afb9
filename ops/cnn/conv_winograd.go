package cnn

// Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016) for 3x3 stride-1 convolutions. Each 4x4 block of output cells (a tile) is computed from
// the 6x6 input patch around it as
//
//	Y_tile = Aᵀ [ Σ_c (G g_{m,c} Gᵀ) ⊙ (Bᵀ d_{c,tile} B) ] A
//
// so the 36 element-wise products, summed over the input channels, are 36 independent matrix products:
//
//	M[ξ] (M x tiles) = U[ξ] (M x C) · V[ξ] (C x tiles),   ξ = 0..35
//
// with U = G g Gᵀ the transformed weights (packed once for the GEMM when W is constant) and V = Bᵀ d B the
// transformed input patches. That is 36 multiply-adds per tile, channel pair where the direct form needs
// 4*4*9 = 144: four times fewer, for transforms that cost O(C + M) per tile instead of O(C*M).
//
// Tiles are taken in blocks (over all images of the batch, so small images still make wide products); a
// block's V and M stay in the per-thread scratch, and blocks are what threads split. Patches are gathered
// without a test per cell: in place inside the input, through zero-padded bands for the rows of tiles at
// the top and bottom, by their inside columns for the first and last tile of a row. The interpolation
// points are 0, ±1, ±2 and ∞: float32 results differ from the direct sum by a few units of 1e-6 relative
// to the size of the operands, well inside ONNX's rtol 1e-3.

import (
	"math"
	"sync/atomic"

	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

const (
	wgOut = 4           // output tile side
	wgIn  = 6           // input patch side: wgOut + 3 - 1
	wgXi  = wgIn * wgIn // transformed elements per tile: one GEMM each
)

// winogradFits reports a 2-D 3x3 convolution with unit strides and dilations and no groups, with channels
// and output enough for the transforms to pay (measured: below 16 channels on either side im2col wins), and
// at least 16 tiles over the batch: with fewer, each of the 36 products is narrower than one 16-column GEMM
// panel, and the transformed weights (4 times W) would cost more memory than the time they save.
func winogradFits(s *convShape) bool {
	w := &s.win
	if w.rank() != 2 || s.group != 1 || w.kernel[0] != 3 || w.kernel[1] != 3 {
		return false
	}
	if w.stride[0] != 1 || w.stride[1] != 1 || w.dilation[0] != 1 || w.dilation[1] != 1 {
		return false
	}
	tiles := s.batch * ceilDiv(w.out[0], wgOut) * ceilDiv(w.out[1], wgOut)
	return s.inC >= 16 && s.outC >= 16 && w.out[0] >= 3 && w.out[1] >= 3 && tiles >= 16
}

type convWinograd struct {
	s                     *convShape
	packed                *derivedWeights[[]*gemm.PackedA] // U[ξ] packed; nil when W is not constant
	tilesH, tilesW, tiles int                              // tiles per output plane (rows, columns) and over the batch
	block, blocks         int                              // tiles per block, and blocks, balanced for maxConvThreads
	serialBlock           int                              // tiles per block when one thread runs them all
	// phaseThreads is the most threads a block's phases may be cut across (winogradPhases): the pool
	// threads the per-thread buffer has band buffers for; 0 when there are enough blocks to share out.
	phaseThreads           int
	ih, iw, oh, ow, ph, pw int
}

func newConvWinograd(s *convShape, w convWeights) *convWinograd {
	c := &convWinograd{s: s,
		ih: s.win.in[0], iw: s.win.in[1], oh: s.win.out[0], ow: s.win.out[1],
		ph: s.win.padBegin[0], pw: s.win.padBegin[1]}
	c.tilesH, c.tilesW = ceilDiv(c.oh, wgOut), ceilDiv(c.ow, wgOut)
	c.tiles = s.batch * c.tilesH * c.tilesW
	// A block's V and M (36*(C+M) floats per tile) should stay near the L2 cache, but the GEMMs want at
	// least a few 16-column panels: aim at 2 MiB, between 32 and 96 tiles.
	block := (2 << 20) / 4 / (wgXi * (s.inC + s.outC))
	block = max(32, min(96, block/16*16))
	// One thread: blocks balanced, then widened to a multiple of 32 tiles, the AVX-512 GEMM's two-panel
	// width (two of the AVX2 kernel's), so that no product ends in a partial panel run through the edge
	// kernel (measured: 5-9% of VGG CIFAR's Winograd layers with 86- and 43-tile blocks).
	c.serialBlock = min(c.tiles, ceilDiv(ceilDiv(c.tiles, ceilDiv(c.tiles, block)), wgPanelTiles)*wgPanelTiles)
	c.blocks = ceilDiv(c.tiles, block)
	if t := maxConvThreads(); c.blocks < 4*t && c.tiles >= 16*t {
		// Few blocks: make their count a multiple of the threads so that none waits for another. A
		// one-thread run keeps serialBlock: the narrower products would only cost it (half as wide at
		// GOMAXPROCS=2 for ResNet-18 CIFAR's 8x8 layers), whatever GOMAXPROCS is.
		c.blocks = ceilDiv(c.blocks, t) * t
	}
	c.block = ceilDiv(c.tiles, c.blocks)
	c.blocks = ceilDiv(c.tiles, c.block)
	if t := maxConvThreads(); c.blocks < t {
		c.phaseThreads = t
	}
	outC, inC := s.outC, s.inC
	c.packed = newDerivedWeights(w, "winograd", func(w []float32) []*gemm.PackedA {
		return winogradPacked(w, outC, inC)
	})
	return c
}

func (c *convWinograd) name() string { return "winograd" }
func (c *convWinograd) units() int   { return c.blocks }

// unitOutput: a block's tiles are scattered over Y's planes, so the post activation runs over Y after.
func (c *convWinograd) unitOutput(int) (lo, hi int, ok bool) { return 0, 0, false }

func (c *convWinograd) scratchShared() int {
	if c.packed != nil {
		return 0
	}
	return wgXi * c.s.outC * c.s.inC
}

// scratchPerThread is a block's buffers, and with phaseThreads a band buffer for each thread.
func (c *convWinograd) scratchPerThread() int {
	return c.blockScratch(c.block) + c.phaseThreads*c.bandScratch(c.block)
}

func (c *convWinograd) serialUnits() int { return ceilDiv(c.tiles, c.serialBlock) }

func (c *convWinograd) serialScratch() int { return c.blockScratch(c.serialBlock) }

// setup transforms W when it is not a constant.
func (c *convWinograd) setup(r *convRun) {
	if c.packed == nil {
		winogradWeights(r.shared, r.w, c.s.outC, c.s.inC)
	}
}

func (c *convWinograd) run(r *convRun, lo, hi int, buf []float32, pool *parallel.Pool) {
	s := c.s
	var packed []*gemm.PackedA
	if c.packed != nil {
		packed = c.packed.get()
	}
	block := c.block
	if r.serial {
		block = c.serialBlock
	}
	for b := lo; b < hi; b++ {
		t0 := b * block
		nt := min(block, c.tiles-t0)
		v, m, bands := c.blockBuffers(buf, block, nt)
		if pool.Threads() > 1 && pool.Threads() <= c.phaseThreads {
			// Fewer blocks than threads: each phase of the block is cut across the pool instead.
			ph := &r.winograd
			*ph = winogradPhases{c: c, r: r, packed: packed, v: v, m: m, bands: buf[c.blockScratch(c.block):], t0: t0, nt: nt}
			for _, phase := range [...]struct{ which, n int }{{wgPhaseInput, s.inC}, {wgPhaseProducts, wgXi}, {wgPhaseOutput, s.outC}} {
				ph.phase = phase.which
				ph.claim.Store(0)
				pool.ForTask(phase.n, ph)
			}
			*ph = winogradPhases{}
			continue
		}
		c.inputTransform(v, r.x, bands, t0, nt, 0, s.inC)
		c.products(r, packed, v, m, nt, 0, wgXi, pool)
		c.outputTransform(r, m, t0, nt, 0, s.outC)
	}
}

// products computes M[ξ] = U[ξ] · V[ξ] for ξ in [xi0, xi1).
func (c *convWinograd) products(r *convRun, packed []*gemm.PackedA, v, m []float32, nt, xi0, xi1 int, pool *parallel.Pool) {
	s := c.s
	for xi := xi0; xi < xi1; xi++ {
		p := gemm.Params{M: s.outC, N: nt, K: s.inC, Alpha: 1,
			B: v[xi*xiStride(s.inC, nt):], LDB: nt, C: m[xi*xiStride(s.outC, nt):], LDC: nt, Pool: pool, Done: r.done}
		if packed != nil {
			p.PackedA = packed[xi]
		} else {
			p.A, p.LDA = r.shared[xi*s.outC*s.inC:], s.inC
		}
		gemm.Multiply(&p)
	}
}

// The phases of a block that winogradPhases cuts across a pool: the input transform by input channels,
// the 36 products by ξ, the output transform by output channels.
const (
	wgPhaseInput = iota
	wgPhaseProducts
	wgPhaseOutput
)

// winogradPhases runs one phase of one block over a range of its channels or ξ, for a pool with more
// threads than there are blocks (ResNet-50's 14x14 layers at batch 1 are 16 tiles, one block: cut into
// two blocks of 8 tiles, each thread's products would be half as wide and no faster in all). It lives in
// the Run's convRun, so ForTask allocates nothing. The input transform's bands are per thread: thread i
// (in the order the calls claim) uses the i-th band buffer of bands, which follows the block's own buffer.
type winogradPhases struct {
	c           *convWinograd
	r           *convRun
	packed      []*gemm.PackedA
	v, m, bands []float32
	t0, nt      int
	phase       int
	claim       atomic.Int32
}

func (p *winogradPhases) Do(lo, hi int) {
	c := p.c
	switch p.phase {
	case wgPhaseInput:
		n := c.bandScratch(c.block)
		i := int(p.claim.Add(1) - 1)
		c.inputTransform(p.v, p.r.x, p.bands[i*n:(i+1)*n], p.t0, p.nt, lo, hi)
	case wgPhaseProducts:
		c.products(p.r, p.packed, p.v, p.m, p.nt, lo, hi, nil)
	case wgPhaseOutput:
		c.outputTransform(p.r, p.m, p.t0, p.nt, lo, hi)
	}
}

// wgXiPad is added to the distance between V[ξ] and V[ξ+1] (and M's): with blocks a multiple of 32 tiles
// that distance, C*nt floats, is often a multiple of 4 KiB, and the 36 rows a transform reads or writes
// for 8 tiles would fall in the same L1 sets (measured: the input transform 40% slower at 32x32x64).
const wgXiPad = 16

// xiStride is the distance between V[ξ] and V[ξ+1] (rows C, the channels, of nt tiles), or M's (rows M).
func xiStride(rows, nt int) int { return rows*nt + wgXiPad }

// blockBuffers cuts a block's V (C x nt for each ξ), M (M x nt for each ξ) and bands out of a thread's
// buffer of blockScratch(block) floats.
func (c *convWinograd) blockBuffers(buf []float32, block, nt int) (v, m, bands []float32) {
	vLen, mLen := wgXi*xiStride(c.s.inC, block), wgXi*xiStride(c.s.outC, block)
	return buf[:wgXi*xiStride(c.s.inC, nt)], buf[vLen:][:wgXi*xiStride(c.s.outC, nt)], buf[vLen+mLen:]
}

// blockScratch is a thread's buffer for blocks of block tiles: V, M and the bands.
func (c *convWinograd) blockScratch(block int) int {
	return wgXi*(xiStride(c.s.inC, block)+xiStride(c.s.outC, block)) + c.bandScratch(block)
}

// wgPanelTiles is the tile count one-thread blocks are a multiple of: two 16-column GEMM panels.
const wgPanelTiles = 32

// wgMaxBlock bounds a block's tiles (newConvWinograd keeps block <= 96), so per-block tables fit the stack.
const wgMaxBlock = 128

// wgTile is one tile of a block: its image, the input cell (possibly in the padding) at its patch's top
// left, whose output cell is that plus the begin padding, and where inputTransform reads its patch.
type wgTile struct {
	n, iy, ix int32
	at        int32    // wgFromInput, wgFromEdge: offset of the patch's top left in its plane; wgFromBand: in the bands
	from      wgSource // where the patch is read
	c0, c1    int8     // wgFromEdge: the patch's columns [c0, c1) that lie inside the input
}

// wgSource is where inputTransform gathers a tile's patch from.
type wgSource uint8

const (
	// wgFromInput: the patch lies inside the input, read in place.
	wgFromInput wgSource = iota
	// wgFromBand: the patch's rows reach into the top or bottom padding; its row of tiles is copied,
	// zero-padded, into a band first (the same rows serve every tile of the row).
	wgFromBand
	// wgFromEdge: the patch's rows lie inside the input, its columns reach into the left or right
	// padding: the columns inside are copied, the rest zeroed (the first and last tile of a row).
	wgFromEdge
)

// wgBand is one row of tiles of a block that reaches into the top or bottom padding: its image and the
// input row of its patches' top.
type wgBand struct {
	n, iy int32
}

// bandWidth is a band buffer row: the columns of every patch of a row of tiles, padding included.
func (c *convWinograd) bandWidth() int { return c.tilesW*wgOut + wgIn - wgOut }

// bandScratch is the band buffer of a block of block tiles: at most (block-1)/tilesW + 2 rows of tiles
// (a block starting at the end of one), six input rows each.
func (c *convWinograd) bandScratch(block int) int {
	return ((block-1)/c.tilesW + 2) * wgIn * c.bandWidth()
}

// blockTiles fills tiles[:nt] for the tiles from t0 (along a row of tiles, then down, then to the next
// image) and bands with the rows of tiles that need one, returning how many bands there are.
func (c *convWinograd) blockTiles(tiles *[wgMaxBlock]wgTile, bands *[wgMaxBlock + 1]wgBand, t0, nt int) int {
	per := c.tilesH * c.tilesW
	n, r := t0/per, t0%per
	ty, tx := r/c.tilesW, r%c.tilesW
	bandLen := wgIn * c.bandWidth()
	nb, lastBand := 0, -1 // lastBand: the row of tiles (over the batch) of bands[nb-1]
	for t := 0; t < nt; t++ {
		iy, ix := ty*wgOut-c.ph, tx*wgOut-c.pw
		tl := wgTile{n: int32(n), iy: int32(iy), ix: int32(ix), at: int32(iy*c.iw + ix)}
		switch c0, c1 := min(max(0, -ix), wgIn), max(0, min(wgIn, c.iw-ix)); {
		case iy < 0 || iy+wgIn > c.ih || c0 >= c1: // (c0 >= c1: wholly in a wide padding)
			if row := n*c.tilesH + ty; row != lastBand {
				bands[nb] = wgBand{n: int32(n), iy: int32(iy)}
				nb, lastBand = nb+1, row
			}
			tl.from, tl.at = wgFromBand, int32((nb-1)*bandLen+tx*wgOut)
		case c0 > 0 || c1 < wgIn:
			tl.from, tl.c0, tl.c1 = wgFromEdge, int8(c0), int8(c1)
		}
		tiles[t] = tl
		if tx++; tx == c.tilesW {
			tx = 0
			if ty++; ty == c.tilesH {
				ty, n = 0, n+1
			}
		}
	}
	return nb
}

// fillBand copies the six input rows from iy of plane xc into band (rows of bandWidth): band column j holds
// input column j - pw. With clearPadding it also zeroes what lies outside the input, which is the same cells
// for every channel: the block's first channel clears them and the others leave them be.
func (c *convWinograd) fillBand(band, xc []float32, iy int, clearPadding bool) {
	wp := c.bandWidth()
	lo := min(c.pw, wp)
	hi := max(lo, min(wp, c.pw+c.iw))
	for i := 0; i < wgIn; i++ {
		row := band[i*wp : (i+1)*wp]
		y := iy + i
		if y < 0 || y >= c.ih {
			if clearPadding {
				clear(row)
			}
			continue
		}
		if clearPadding {
			clear(row[:lo])
			clear(row[hi:])
		}
		copy(row[lo:hi], xc[y*c.iw:])
	}
}

// inputTransform writes V[ξ][c][t] = (Bᵀ d B)[ξ] for the nt tiles from t0, d being channel c's 6x6 patch
// (zero outside the input); V[ξ] is C x nt, row stride nt, at v[ξ*xiStride(C, nt)]. For each channel the block's bands are filled,
// then the tiles go 8 at a time through winogradInput8, the rest one by one.
func (c *convWinograd) inputTransform(v, x, bandBuf []float32, t0, nt, c0, c1 int) {
	s := c.s
	plane := c.ih * c.iw
	stride := xiStride(s.inC, nt)
	bandLen := wgIn * c.bandWidth()
	var tiles [wgMaxBlock]wgTile
	var bands [wgMaxBlock + 1]wgBand
	nb := c.blockTiles(&tiles, &bands, t0, nt)
	bandBuf = bandBuf[:nb*bandLen]
	var d8 [wgXi * 8]float32
	var d [wgXi]float32
	for ch := c0; ch < c1; ch++ {
		for b := 0; b < nb; b++ {
			xc := x[(int(bands[b].n)*s.inC+ch)*plane:][:plane]
			c.fillBand(bandBuf[b*bandLen:][:bandLen], xc, int(bands[b].iy), ch == c0)
		}
		t := 0
		for ; t+8 <= nt; t += 8 {
			for q := 0; q < 8; q++ {
				tl := &tiles[t+q]
				xc := x[(int(tl.n)*s.inC+ch)*plane:][:plane]
				if tl.from == wgFromEdge {
					// Lane q cleared, then the columns inside the input copied.
					for k := q; k < len(d8); k += 8 {
						d8[k] = 0
					}
					c0, c1 := int(tl.c0), int(tl.c1)
					for i := 0; i < wgIn; i++ {
						src := xc[int(tl.at)+i*c.iw+c0 : int(tl.at)+i*c.iw+c1]
						dst := d8[(i*wgIn+c0)*8+q:]
						for j, val := range src {
							dst[j*8] = val
						}
					}
					continue
				}
				// Straight into lane q: 36 loads and stores, no bounds test per cell.
				src, rowStride := c.patchRows(tl, xc, bandBuf)
				for i := 0; i < wgIn; i++ {
					row := (*[wgIn]float32)(src[i*rowStride:])
					dst := (*[wgIn * 8]float32)(d8[i*wgIn*8:])
					dst[q], dst[8+q], dst[16+q], dst[24+q], dst[32+q], dst[40+q] = row[0], row[1], row[2], row[3], row[4], row[5]
				}
			}
			winogradInput8(&d8, v[ch*nt+t:], stride)
		}
		for ; t < nt; t++ {
			tl := &tiles[t]
			xc := x[(int(tl.n)*s.inC+ch)*plane:][:plane]
			if tl.from == wgFromEdge {
				clear(d[:])
				c0, c1 := int(tl.c0), int(tl.c1)
				for i := 0; i < wgIn; i++ {
					copy(d[i*wgIn+c0:i*wgIn+c1], xc[int(tl.at)+i*c.iw+c0:])
				}
			} else {
				src, rowStride := c.patchRows(tl, xc, bandBuf)
				for i := 0; i < wgIn; i++ {
					*(*[wgIn]float32)(d[i*wgIn:]) = *(*[wgIn]float32)(src[i*rowStride:])
				}
			}
			winogradInputTile(&d, v[ch*nt+t:], stride)
		}
	}
}

// patchRows is where a wgFromInput or wgFromBand tile's patch starts, in its plane xc or in the bands,
// and the distance between its rows there.
func (c *convWinograd) patchRows(tl *wgTile, xc, bandBuf []float32) ([]float32, int) {
	if tl.from == wgFromBand {
		return bandBuf[tl.at:], c.bandWidth()
	}
	return xc[tl.at:], c.iw
}

// winogradInput8Go is winogradInputTile on 8 tiles at once, lane q of d8 (d8[k*8+q] is element k of tile q's
// patch) going to v[ξ*stride+q]. d8 is overwritten, as the assembly does.
func winogradInput8Go(d8 *[wgXi * 8]float32, v []float32, stride int) {
	var d [wgXi]float32
	var out [wgXi]float32
	for q := 0; q < 8; q++ {
		for k := range d {
			d[k] = d8[k*8+q]
		}
		winogradInputTile(&d, out[:], 1)
		for k, val := range out {
			v[k*stride+q] = val
		}
	}
}

// winogradInputTile writes (Bᵀ d B)[ξ] to v[ξ*stride], with
//
//	Bᵀ = [4  0 -5  0 1 0]
//	     [0 -4 -4  1 1 0]
//	     [0  4 -4 -1 1 0]
//	     [0 -2 -1  2 1 0]
//	     [0  2 -1 -2 1 0]
//	     [0  4  0 -5 0 1]
func winogradInputTile(d *[wgXi]float32, v []float32, stride int) {
	var t [wgXi]float32
	for j := 0; j < wgIn; j++ { // columns: t = Bᵀ d
		d0, d1, d2, d3, d4, d5 := d[j], d[6+j], d[12+j], d[18+j], d[24+j], d[30+j]
		t[j] = 4*d0 - 5*d2 + d4
		t[6+j] = (d3 + d4) - 4*(d1+d2)
		t[12+j] = (d4 - d3) + 4*(d1-d2)
		t[18+j] = (d4 - d2) + 2*(d3-d1)
		t[24+j] = (d4 - d2) - 2*(d3-d1)
		t[30+j] = 4*d1 - 5*d3 + d5
	}
	_ = v[35*stride]
	for i := 0; i < wgIn; i++ { // rows: (Bᵀ d) B
		r := t[i*6 : i*6+6 : i*6+6]
		d0, d1, d2, d3, d4, d5 := r[0], r[1], r[2], r[3], r[4], r[5]
		o := i * 6 * stride
		v[o] = 4*d0 - 5*d2 + d4
		v[o+stride] = (d3 + d4) - 4*(d1+d2)
		v[o+2*stride] = (d4 - d3) + 4*(d1-d2)
		v[o+3*stride] = (d4 - d2) + 2*(d3-d1)
		v[o+4*stride] = (d4 - d2) - 2*(d3-d1)
		v[o+5*stride] = 4*d1 - 5*d3 + d5
	}
}

// winogradOutArgs is winogradOutput8's epilogue; the assembly reads bias at 0, lo 4, hi 8, flags 16.
type winogradOutArgs struct {
	bias, lo, hi float32
	flags        uintptr // 1: clamp to [lo, hi]
}

// winogradOutput8Go is winogradOutputTile on 8 tiles at once: lane q reads M[ξ] at mx[ξ*stride+q] and
// writes out[(i*4+j)*8+q] = clamp(O[i][j] + bias).
func winogradOutput8Go(mx []float32, stride int, out *[16 * 8]float32, a *winogradOutArgs) {
	var m [wgXi]float32
	var o [wgOut * wgOut]float32
	for q := 0; q < 8; q++ {
		for k := range m {
			m[k] = mx[k*stride+q]
		}
		winogradOutputTile(m[:], 1, &o)
		for k, v := range o {
			v += a.bias
			if a.flags&1 != 0 {
				if v < a.lo {
					v = a.lo
				}
				if v > a.hi {
					v = a.hi
				}
			}
			out[k*8+q] = v
		}
	}
}

// outputTransform turns M[ξ][m][t] (M[ξ] is M x nt, row stride nt, at mx[ξ*xiStride(M, nt)]) into the output tiles, adding the bias
// and Z and applying the activation, and writes the part of each tile inside the output. Tiles go 8 at a
// time through winogradOutput8 (which also adds the bias and, without Z, applies the activation), the rest
// one by one.
func (c *convWinograd) outputTransform(r *convRun, mx []float32, t0, nt, m0, m1 int) {
	s := c.s
	e := &r.k.epi
	plane := c.oh * c.ow
	stride := xiStride(s.outC, nt)
	var tiles [wgMaxBlock]wgTile
	var bands [wgMaxBlock + 1]wgBand
	c.blockTiles(&tiles, &bands, t0, nt)
	var tmp [24 * 8]float32
	var out8 [16 * 8]float32
	var o [wgOut * wgOut]float32
	args := winogradOutArgs{lo: e.lo, hi: e.hi}
	// The activation after the residual as a clamp to [zlo, zhi] with the min and max builtins, which
	// compile without branches (a Relu's test mispredicts on every other value) and keep NaN as e.apply.
	zlo, zhi := float32(math.Inf(-1)), float32(math.Inf(1))
	switch e.act {
	case gemm.ActReLU:
		zlo = 0
	case gemm.ActClip:
		zlo, zhi = e.lo, e.hi
	}
	if e.act != gemm.ActNone && r.z == nil {
		args.flags = 1
	}
	for m := m0; m < m1; m++ {
		var b float32
		if r.bias != nil {
			b = r.bias[m]
		}
		args.bias = b
		t := 0
		for ; t+8 <= nt; t += 8 {
			winogradOutput8(mx[m*nt+t:], stride, &tmp, &out8, &args)
			for q := 0; q < 8; q++ {
				tl := &tiles[t+q]
				ty, tx := int(tl.iy)+c.ph, int(tl.ix)+c.pw
				if ty+wgOut <= c.oh && tx+wgOut <= c.ow {
					at := (int(tl.n)*s.outC+m)*plane + ty*c.ow + tx
					if r.z == nil {
						// A whole tile, bias and activation applied: four rows of four straight from lane q.
						for i := 0; i < wgOut; i++ {
							yr := (*[wgOut]float32)(r.y[at+i*c.ow:])
							src := (*[wgOut * 8]float32)(out8[i*wgOut*8:])
							yr[0], yr[1], yr[2], yr[3] = src[q], src[8+q], src[16+q], src[24+q]
						}
						continue
					}
					// A whole tile with the residual: Z added and the activation applied in the same pass.
					for i := 0; i < wgOut; i++ {
						yr := (*[wgOut]float32)(r.y[at+i*c.ow:])
						zr := (*[wgOut]float32)(r.z[at+i*c.ow:])
						src := (*[wgOut * 8]float32)(out8[i*wgOut*8:])
						yr[0] = min(max(src[q]+zr[0], zlo), zhi)
						yr[1] = min(max(src[8+q]+zr[1], zlo), zhi)
						yr[2] = min(max(src[16+q]+zr[2], zlo), zhi)
						yr[3] = min(max(src[24+q]+zr[3], zlo), zhi)
					}
					continue
				}
				for k := range o {
					o[k] = out8[k*8+q]
				}
				c.storeTile(r, &o, tl, m, plane, 0, args.flags != 0)
			}
		}
		for ; t < nt; t++ {
			winogradOutputTile(mx[m*nt+t:], stride, &o)
			c.storeTile(r, &o, &tiles[t], m, plane, b, false)
		}
	}
}

// storeTile writes the part of tile o (plus b) inside output plane m of the tile's image, adding Z and
// applying the activation unless done (the activation was applied already).
func (c *convWinograd) storeTile(r *convRun, o *[wgOut * wgOut]float32, tl *wgTile, m, plane int, b float32, done bool) {
	e := &r.k.epi
	ty, tx := int(tl.iy)+c.ph, int(tl.ix)+c.pw
	base := (int(tl.n)*c.s.outC + m) * plane
	rows, cols := min(wgOut, c.oh-ty), min(wgOut, c.ow-tx)
	for i := 0; i < rows; i++ {
		at := base + (ty+i)*c.ow + tx
		yr := r.y[at : at+cols]
		or := o[i*wgOut : i*wgOut+cols]
		if r.z != nil {
			zr := r.z[at : at+cols]
			for j := range yr {
				yr[j] = or[j] + b + zr[j]
			}
		} else {
			for j := range yr {
				yr[j] = or[j] + b
			}
		}
		if done {
			continue
		}
		switch e.act {
		case gemm.ActReLU:
			for j, v := range yr {
				if v < 0 {
					yr[j] = 0
				}
			}
		case gemm.ActClip:
			for j, v := range yr {
				yr[j] = min(max(v, e.lo), e.hi)
			}
		}
	}
}

// winogradOutputTile computes the 4x4 tile Aᵀ M A from M[ξ] = mx[ξ*stride], with
//
//	Aᵀ = [1 1  1 1  1 0]
//	     [0 1 -1 2 -2 0]
//	     [0 1  1 4  4 0]
//	     [0 1 -1 8 -8 1]
func winogradOutputTile(mx []float32, stride int, o *[wgOut * wgOut]float32) {
	var t [wgOut * wgIn]float32
	_ = mx[35*stride]
	for j := 0; j < wgIn; j++ { // columns: t = Aᵀ M
		m0, m1, m2 := mx[j*stride], mx[(6+j)*stride], mx[(12+j)*stride]
		m3, m4, m5 := mx[(18+j)*stride], mx[(24+j)*stride], mx[(30+j)*stride]
		a, b, c, d := m1+m2, m1-m2, m3+m4, m3-m4
		t[j] = m0 + a + c
		t[6+j] = b + 2*d
		t[12+j] = a + 4*c
		t[18+j] = b + 8*d + m5
	}
	for i := 0; i < wgOut; i++ { // rows: (Aᵀ M) A
		r := t[i*6 : i*6+6 : i*6+6]
		a, b, c, d := r[1]+r[2], r[1]-r[2], r[3]+r[4], r[3]-r[4]
		o[i*4] = r[0] + a + c
		o[i*4+1] = b + 2*d
		o[i*4+2] = a + 4*c
		o[i*4+3] = b + 8*d + r[5]
	}
}

// winogradWeights writes U[ξ][m][c] = (G g Gᵀ)[ξ] for each 3x3 kernel g = W[m, c] (U[ξ] is M x C), with
//
//	G = [ 1/4     0    0 ]
//	    [-1/6  -1/6 -1/6 ]
//	    [-1/6   1/6 -1/6 ]
//	    [1/24  1/12  1/6 ]
//	    [1/24 -1/12  1/6 ]
//	    [   0     0    1 ]
//
// computed in float64.
func winogradWeights(u, w []float32, outC, inC int) {
	var ut [wgXi]float32
	for m := 0; m < outC; m++ {
		for ch := 0; ch < inC; ch++ {
			winogradKernel(&ut, w[(m*inC+ch)*9:][:9])
			for xi, v := range ut {
				u[(xi*outC+m)*inC+ch] = v
			}
		}
	}
}

// winogradPacked is winogradWeights for a constant W, written straight into the GEMM's packed operands
// U[ξ] (one per ξ): no U to build and then pack, which for a VGG's 12 MB of weights was 48 MB of memory
// touched once and the larger part of its first Run.
func winogradPacked(w []float32, outC, inC int) []*gemm.PackedA {
	packed := gemm.NewPackedAs(wgXi, outC, inC)
	data := make([][]float32, wgXi)
	for xi := range packed {
		data[xi] = packed[xi].Data()
	}
	var ut [wgXi]float32
	for m := 0; m < outC; m++ {
		for ch := 0; ch < inC; ch++ {
			winogradKernel(&ut, w[(m*inC+ch)*9:][:9])
			off := packed[0].Offset(m, ch) // the same in every U[ξ]: they have one shape
			for xi, v := range ut {
				data[xi][off] = v
			}
		}
	}
	return packed
}

// winogradKernel computes u = G g Gᵀ for one 3x3 kernel g (row-major), u indexed by ξ = 6*row + column:
// G applied to g's columns, then to the rows of the result.
func winogradKernel(u *[wgXi]float32, g []float32) {
	var t [wgIn][3]float64 // G g
	for j := 0; j < 3; j++ {
		col := applyG(float64(g[j]), float64(g[3+j]), float64(g[6+j]))
		for i := range col {
			t[i][j] = col[i]
		}
	}
	for i := range t { // (G g) Gᵀ
		row := applyG(t[i][0], t[i][1], t[i][2])
		for j, v := range row {
			u[i*wgIn+j] = float32(v)
		}
	}
}

// applyG multiplies the vector (a0, a1, a2) by G, written out: most of G's entries are 0 or shared.
func applyG(a0, a1, a2 float64) [wgIn]float64 {
	outer := a0 + a2
	return [wgIn]float64{
		a0 / 4,
		-(outer + a1) / 6,
		-(outer - a1) / 6,
		a0/24 + a1/12 + a2/6,
		a0/24 - a1/12 + a2/6,
		a2,
	}
}
