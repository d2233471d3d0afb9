package cnn

// The direct strategy for convolutions with few input channels (LeNet's first layer: one channel, 3x3; a
// CIFAR network's first: three). With K = C*taps of 9 or 27 a GEMM's tiles run nearly empty in K and the
// im2col buffer costs as much as the product. Instead each image is copied once into a zero-padded buffer,
// and tiles of 6 output channels x 16 output columns of one output row are summed straight from it: with
// unit strides, the 16 input cells one tap reads for 16 adjacent outputs are adjacent too, so the tile is
//
//	acc[i][j] = Σ_t w[m0+i, t] * xpad[off[t] + base + j]
//
// where t runs over (channel, kernel row, kernel column), off[t] is that tap's offset in the padded image
// and base the tile's first output cell. directTile computes one tile (AVX2+FMA assembly where the CPU has
// it, see conv_direct_amd64.go), with the epilogue: bias, the residual (read back from Y), the clamp.
//
// Units are images. An image with fewer images than threads (batch 1: U-Net's full-resolution layers, 9 of
// its 40 ms at one thread) is cut across the pool instead: its padded copy by channels, then its output
// rows in bands, each band with all its channel blocks, residual copy and post activation.

import (
	"math"
	"unsafe"

	"github.com/onnxrun/onnxrun/ops/internal/activation"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

const (
	directRows = 6  // output channels per tile
	directCols = 16 // output columns per tile
	// directMaxK is the largest C/group*taps the direct strategy takes.
	directMaxK = 64
)

// fewChannelsFits reports a 2-D convolution with unit strides, one group and few taps per output channel.
// The choice does not depend on the CPU or the build: directTile runs assembly where it can, else its Go
// twin, on the same tiles.
func fewChannelsFits(s *convShape) bool {
	k := s.groupInC * s.taps
	return directShapeFits(s) && k <= directMaxK
}

// fewOutputsFits reports a convolution the direct tiles run faster than Winograd or im2col whatever its
// K, because it has at most directMaxOutC output channels: Winograd's 36 products of M=16 rows and im2col's
// single 6-row-tile GEMM run nearly empty there, and their transforms or column buffer cost as much as the
// product. Measured on Zen 4 (BenchmarkConv, CPU time), U-Net's 3x3 convolutions at 256x256: 16 to 16
// channels 83 GFLOP/s direct against 62 Winograd and 34 im2col, 32 to 16 82 against 65; at 32 output
// channels Winograd wins (32 to 32 on 128x128: 124 against 84).
func fewOutputsFits(s *convShape) bool {
	return directShapeFits(s) && s.outC <= directMaxOutC
}

// directMaxOutC is the most output channels for which the direct tiles beat the GEMM strategies at any K.
const directMaxOutC = 16

// directShapeFits reports the geometry the direct tiles take: 2-D, one group, unit strides, and output rows
// of at least half a tile.
func directShapeFits(s *convShape) bool {
	w := &s.win
	return w.rank() == 2 && s.group == 1 && s.groupInC*s.taps > 0 &&
		w.stride[0] == 1 && w.stride[1] == 1 && w.out[1] >= 8
}

type convFewChannels struct {
	s                      *convShape
	hp, wp                 int                        // padded image
	offsets                []int32                    // per tap t = (c, i, j): c*hp*wp + i*dh*wp + j*dw
	packed                 *derivedWeights[[]float32] // W in tile order; nil when W is not constant
	ph, pw, ih, iw, oh, ow int
}

func newConvFewChannels(s *convShape, w convWeights) *convFewChannels {
	win := &s.win
	c := &convFewChannels{s: s, ih: win.in[0], iw: win.in[1], oh: win.out[0], ow: win.out[1],
		ph: win.padBegin[0], pw: win.padBegin[1]}
	c.hp = c.ih + win.padBegin[0] + win.padEnd[0]
	c.wp = c.iw + win.padBegin[1] + win.padEnd[1]
	for ch := 0; ch < s.inC; ch++ {
		for i := 0; i < win.kernel[0]; i++ {
			for j := 0; j < win.kernel[1]; j++ {
				c.offsets = append(c.offsets, int32(ch*c.hp*c.wp+i*win.dilation[0]*c.wp+j*win.dilation[1]))
			}
		}
	}
	n, outC, k := c.packedLen(), s.outC, s.inC*s.taps
	c.packed = newDerivedWeights(w, "direct", func(w []float32) []float32 {
		packed := make([]float32, n)
		packDirectWeights(packed, w, outC, k)
		return packed
	})
	return c
}

// packedLen is the size of the weights in tile order: for each block of 6 output channels, K groups of 6.
func (c *convFewChannels) packedLen() int {
	return ceilDiv(c.s.outC, directRows) * directRows * c.s.inC * c.s.taps
}

// packDirectWeights lays W (M x K) out as blocks of directRows channels, each K groups of directRows values
// (zero past M).
func packDirectWeights(dst, w []float32, m, k int) {
	for m0 := 0; m0 < m; m0 += directRows {
		blk := dst[m0*k : (m0+directRows)*k]
		for t := 0; t < k; t++ {
			for i := 0; i < directRows; i++ {
				v := float32(0)
				if m0+i < m {
					v = w[(m0+i)*k+t]
				}
				blk[t*directRows+i] = v
			}
		}
	}
}

func (c *convFewChannels) name() string { return "direct" }
func (c *convFewChannels) units() int   { return c.s.batch }

// unitOutput: run applies the post activation itself, band by band as the rows are done.
func (c *convFewChannels) unitOutput(int) (lo, hi int, ok bool) { return 0, 0, true }

func (c *convFewChannels) scratchShared() int {
	if c.packed != nil {
		return 0
	}
	return c.packedLen()
}

// paddedLen is the padded image with room for the last tile to read past it: a tile's 16 columns from its
// last cell, plus the kernel's width (in the wrapped layout below, the last tile starts up to a row's end).
func (c *convFewChannels) paddedLen() int {
	return c.s.inC*c.hp*c.wp + directCols + (c.s.win.kernel[1]-1)*c.s.win.dilation[1]
}

// wrapped reports whether run computes each image in the wrapped layout: output rows of the padded width
// wp, tiles running on from one row into the next, into a buffer that a copy then narrows to the output's
// width. It is for rows narrower than a tile (LeNet's second layer: 11), which would otherwise take one
// partial tile and a copy each; it does the columns ow..wp-1 of every row for nothing, but needs 18% fewer
// tiles there. A residual Z is first copied into the wrapped buffer, for the tiles to add. Below about 32
// multiply-adds per output a tile costs too little for that to pay for the copy (measured with
// BenchmarkConv's LeNet layers). Wider rows end with a tile moved back over the previous one instead (run).
func (c *convFewChannels) wrapped() bool {
	return c.ow < directCols && c.s.inC*c.s.taps >= directWrapMinK
}

// directWrapMinK is the smallest C*taps for which wrapped pays.
const directWrapMinK = 32

// wrappedStride is a channel's plane in the wrapped buffer: oh rows of wp, rounded up to whole tiles.
func (c *convFewChannels) wrappedStride() int { return ceilDiv(c.oh*c.wp, directCols) * directCols }

// scratchPerThread is the padded image and, in the wrapped layout, the wrapped output of each block of
// channels.
func (c *convFewChannels) scratchPerThread() int {
	n := c.paddedLen()
	if c.wrapped() {
		n += ceilDiv(c.s.outC, directRows) * directRows * c.wrappedStride()
	}
	return n
}

func (c *convFewChannels) setup(r *convRun) {
	if c.packed == nil {
		packDirectWeights(r.shared, r.w, c.s.outC, c.s.inC*c.s.taps)
	}
}

func (c *convFewChannels) run(r *convRun, lo, hi int, buf []float32, pool *parallel.Pool) {
	s := c.s
	k := s.inC * s.taps
	packed := r.shared
	if c.packed != nil {
		packed = c.packed.get()
	}
	e := &r.k.epi
	args := directArgs{lo: e.lo, hi: e.hi}
	if e.act == gemm.ActReLU {
		args.hi = posInf32
	}
	if e.act != gemm.ActNone {
		args.flags |= directClamp
	}
	if e.sum {
		args.flags |= directLoadC
	}
	padded := buf[:c.paddedLen()]
	for n := lo; n < hi; n++ {
		x := r.x[n*s.inC*s.inSize : (n+1)*s.inC*s.inSize]
		y := r.y[n*s.outC*s.outSize : (n+1)*s.outC*s.outSize]
		if c.wrapped() {
			c.pad(padded, x, 0, s.inC)
			var z []float32
			if e.sum {
				z = r.z[n*s.outC*s.outSize : (n+1)*s.outC*s.outSize]
			}
			if !c.runWrapped(r, k, packed, padded, buf[len(padded):], y, z, args) {
				return
			}
			if e.post.Kind != activation.None {
				e.post.Row(y, y)
			}
			continue
		}
		split := directSplit{c: c, r: r, n: n, x: x, y: y, padded: padded, packed: packed, args: args}
		if pool.Threads() > 1 && int64(s.outC)*int64(s.outSize)*int64(k) >= directSplitMinMACs {
			r.direct = split
			r.direct.padding = true
			pool.ForTask(s.inC, &r.direct)
			r.direct.padding = false
			pool.ForTask(c.oh, &r.direct)
			if cancelled(r.done) {
				return
			}
			continue
		}
		c.pad(padded, x, 0, s.inC)
		if !c.rows(&split, 0, c.oh) {
			return
		}
	}
}

// directSplitMinMACs is the fewest multiply-adds in an image for which cutting it across the pool pays:
// about 20 µs of the tiles' work, against a fork and join of a few µs.
const directSplitMinMACs = 1 << 20

// directSplit is one image of convFewChannels cut across a pool's threads: with padding set, Do copies
// channels [lo, hi) into the padded image; otherwise it computes output rows [lo, hi). It lives in the
// Run's convRun, so handing it to ForTask allocates nothing.
type directSplit struct {
	c                    *convFewChannels
	r                    *convRun
	n                    int // the image
	x, y, padded, packed []float32
	args                 directArgs
	padding              bool
}

func (t *directSplit) Do(lo, hi int) {
	if t.padding {
		t.c.pad(t.padded, t.x, lo, hi)
		return
	}
	t.c.rows(t, lo, hi)
}

// rows computes output rows [oyLo, oyHi) of every channel of t's image from its padded copy, with the
// epilogue: the residual copied into those rows first (the tiles add it), the clamp in the tiles, the post
// activation over the rows once done. It returns false when the run was cancelled.
func (c *convFewChannels) rows(t *directSplit, oyLo, oyHi int) bool {
	s, r := c.s, t.r
	e := &r.k.epi
	k := s.inC * s.taps
	y, args := t.y, t.args
	if e.sum {
		z := r.z[t.n*s.outC*s.outSize : (t.n+1)*s.outC*s.outSize]
		for m := range s.outC {
			at := m*s.outSize + oyLo*c.ow
			copy(y[at:at+(oyHi-oyLo)*c.ow], z[at:])
		}
	}
	var tmp [directRows * directCols]float32
	var biasPad [directRows]float32
	for m0 := 0; m0 < s.outC; m0 += directRows {
		if cancelled(r.done) { // one image of a large input is many milliseconds of work
			return false
		}
		rows := min(directRows, s.outC-m0)
		w := t.packed[m0*k : (m0+directRows)*k]
		args.bias = &biasPad[0]
		clear(biasPad[:])
		if r.bias != nil {
			copy(biasPad[:], r.bias[m0:m0+rows])
		}
		for oy := oyLo; oy < oyHi; oy++ {
			for ox := 0; ox < c.ow; ox += directCols {
				cols := min(directCols, c.ow-ox)
				if cols < directCols && c.ow >= directCols && !e.sum {
					// The row's last tile would be partial: move it back to end at the row's end, over
					// columns the previous tile wrote already. Writing them again with the same values
					// costs less than a partial tile's copy (not with a residual, which Y accumulates).
					ox, cols = c.ow-directCols, directCols
				}
				base := oy*c.wp + ox
				out := (m0*c.oh+oy)*c.ow + ox
				if rows == directRows && cols == directCols {
					directTile(k, t.padded[base:], c.offsets, w, y[out:], s.outSize, &args)
					continue
				}
				// Edge tile: compute in tmp, then copy the valid corner.
				if e.sum {
					for i := 0; i < rows; i++ {
						copy(tmp[i*directCols:i*directCols+cols], y[out+i*s.outSize:])
					}
				}
				directTile(k, t.padded[base:], c.offsets, w, tmp[:], directCols, &args)
				for i := 0; i < rows; i++ {
					copy(y[out+i*s.outSize:out+i*s.outSize+cols], tmp[i*directCols:])
				}
			}
		}
	}
	if e.post.Kind != activation.None {
		for m := range s.outC {
			band := y[m*s.outSize+oyLo*c.ow : m*s.outSize+oyHi*c.ow]
			e.post.Row(band, band)
		}
	}
	return true
}

// runWrapped computes one image in the wrapped layout (see wrapped): Y's channels as planes of oh rows of
// wp cells in yw, tiles of 16 cells one after the other with no regard to rows, then each row's first ow
// cells copied to Y. z, when not nil, is the image's residual, copied into yw first for the tiles to add.
// It returns false when the run was cancelled.
func (c *convFewChannels) runWrapped(r *convRun, k int, packed, padded, yw, y, z []float32, args directArgs) bool {
	s := c.s
	var biasPad [directRows]float32
	stride := c.wrappedStride()
	if z != nil {
		for m := 0; m < s.outC; m++ {
			for oy := 0; oy < c.oh; oy++ {
				copy(yw[m*stride+oy*c.wp:][:c.ow], z[m*s.outSize+oy*c.ow:][:c.ow])
			}
		}
	}
	for m0 := 0; m0 < s.outC; m0 += directRows {
		if cancelled(r.done) {
			return false
		}
		w := packed[m0*k : (m0+directRows)*k]
		args.bias = &biasPad[0]
		clear(biasPad[:])
		if r.bias != nil {
			copy(biasPad[:], r.bias[m0:min(m0+directRows, s.outC)])
		}
		out := yw[m0*stride:]
		for v := 0; v < stride; v += directCols {
			directTile(k, padded[v:], c.offsets, w, out[v:], stride, &args)
		}
	}
	for m := 0; m < s.outC; m++ {
		for oy := 0; oy < c.oh; oy++ {
			copy(y[m*s.outSize+oy*c.ow:][:c.ow], yw[m*stride+oy*c.wp:][:c.ow])
		}
	}
	return true
}

// pad copies channels [lo, hi) of one image's planes into dst, each inside a zero border of the padding's
// width; the call that copies the last channel also zeroes what the last tile reads past the planes.
func (c *convFewChannels) pad(dst, x []float32, lo, hi int) {
	plane := c.hp * c.wp
	if hi == c.s.inC {
		clear(dst[c.s.inC*plane:])
	}
	for ch := lo; ch < hi; ch++ {
		d := dst[ch*plane : (ch+1)*plane]
		xc := x[ch*c.ih*c.iw : (ch+1)*c.ih*c.iw]
		if c.hp == c.ih && c.wp == c.iw {
			copy(d, xc)
			continue
		}
		clear(d[:c.ph*c.wp])
		clear(d[(c.ph+c.ih)*c.wp:])
		for i := 0; i < c.ih; i++ {
			row := d[(c.ph+i)*c.wp : (c.ph+i+1)*c.wp]
			clear(row[:c.pw])
			copy(row[c.pw:], xc[i*c.iw:(i+1)*c.iw])
			clear(row[c.pw+c.iw:])
		}
	}
}

// directArgs is the tile kernel's epilogue; the assembly reads its layout (lo at 0, hi 4, flags 8, bias 16).
type directArgs struct {
	lo, hi float32
	flags  uintptr
	bias   *float32 // directRows values
}

var posInf32 = float32(math.Inf(1))

const (
	directLoadC = 1 << iota // add the tile's current contents (the residual Z copied into Y)
	directClamp             // clamp to [lo, hi]
)

// directTileGo is directTile in Go, the reference of the assembly and its stand-in without it:
//
//	v = bias[i] + Σ_t w[t*6+i] * x[off[t]+j]   (+ y[i*ldy+j] with directLoadC)
//	y[i*ldy+j] = clamp(v, lo, hi)              (with directClamp)
//
// for i < 6, j < 16.
func directTileGo(k int, x []float32, offsets []int32, w []float32, y []float32, ldy int, a *directArgs) {
	var acc [directRows][directCols]float32
	for t := 0; t < k; t++ {
		xr := x[offsets[t] : offsets[t]+directCols]
		wt := w[t*directRows : (t+1)*directRows]
		for i, wv := range wt {
			row := &acc[i]
			for j, xv := range xr {
				row[j] += wv * xv
			}
		}
	}
	bias := (*[directRows]float32)(unsafe.Pointer(a.bias))
	for i := 0; i < directRows; i++ {
		yr := y[i*ldy : i*ldy+directCols]
		for j := range yr {
			v := acc[i][j] + bias[i]
			if a.flags&directLoadC != 0 {
				v += yr[j]
			}
			if a.flags&directClamp != 0 {
				if v < a.lo {
					v = a.lo
				}
				if v > a.hi {
					v = a.hi
				}
			}
			yr[j] = v
		}
	}
}
