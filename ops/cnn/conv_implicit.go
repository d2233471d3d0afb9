package cnn

// convImplicit, the implicit-GEMM strategy of the float32 convolution (see conv_fast.go): convIm2col's
// product with its columns packed by the GEMM straight from the image, block by block, so that the column
// buffer disappears.

import (
	"sync"

	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// convImplicit computes, for each image n and group g,
//
//	Y[n, g] (M/group x outSize) = W[g] (M/group x C/group*taps) · col (C/group*taps x outSize)
//
// as convIm2col does, but col is never stored: the GEMM asks implicitColumns for each block of it in its
// packed-panel layout, and that reads the windows from X (from a copy of X with its padding written out,
// when it has padding). im2col wrote the whole col (9 times the input for a 3x3 window: 3.6 MB for
// ResNet-50's 128-channel stride-2 layer) after deinterleaving a strided input into its phases, and the
// GEMM then read col back.
type convImplicit struct {
	s    *convShape
	w    convGemmWeights
	taps *implicitTaps
}

// implicitMaxOutputs is the largest output map convImplicit takes. Measured on Zen 5 (BenchmarkConvLayers,
// thread CPU time, one thread, implicit against im2col in the same run on a busy machine): ResNet-50's and
// YOLO's stride-2 layers with 10x10 to 28x28 outputs ran 6-31% faster (3x3: 128 channels from 56x56 +13%,
// 128 from 40x40 +28%, 256 from 28x28 +10%; 1x1: 256 channels from 56x56 +30%), those with 40x40 outputs
// and more 16-55% slower (YOLO's stem and its first two stride-2 3x3s): there the GEMM's B block (up to
// 3072 columns) outgrows the L2, where im2col's column blocks are cut to fit it (im2colBlockFloats).
const implicitMaxOutputs = 32 * 32

// implicitFits reports the convolutions convImplicit takes: 2-D windows with a column stride above 1 (the
// strided layers where im2col's deinterleave and copies cost most: ResNet's and YOLO's downsampling 3x3
// and 1x1 layers) on maps up to implicitMaxOutputs, with output channels enough for the GEMM to pack B
// rather than read it in place (it does for up to 24 rows, gemm's directBMaxRows).
func implicitFits(s *convShape) bool {
	return s.win.rank() == 2 && s.win.stride[1] > 1 && s.groupOutC > 24 && s.outSize <= implicitMaxOutputs
}
func newConvImplicit(s *convShape, w convWeights) *convImplicit {
	return &convImplicit{s: s, w: newConvGemmWeights(s, w), taps: newImplicitTaps(&s.win, s.groupInC)}
}

func (c *convImplicit) name() string          { return "implicit" }
func (c *convImplicit) units() int            { return c.s.batch * c.s.group }
func (c *convImplicit) scratchShared() int    { return 0 }
func (c *convImplicit) scratchPerThread() int { return c.taps.paddedLen() }
func (c *convImplicit) setup(*convRun)        {}

// unitOutput: the GEMM applies the post activation itself, as for convPointwise.
func (c *convImplicit) unitOutput(int) (lo, hi int, ok bool) { return 0, 0, true }

func (c *convImplicit) run(r *convRun, lo, hi int, buf []float32, pool *parallel.Pool) {
	s := c.s
	// The packer lives in a pool: handed to the GEMM as an interface, one on the stack would escape and
	// every Run allocate; the strategy itself is shared by concurrent runs and cannot hold X.
	cols := implicitColumnsPool.Get().(*implicitColumns)
	defer implicitColumnsPool.Put(cols)
	for u := lo; u < hi; u++ {
		n, g := u/s.group, u%s.group
		x := groupInput(r, n, g)
		if c.taps.copies {
			c.taps.pad(buf, x)
			x = buf
		}
		*cols = implicitColumns{w: &s.win, taps: c.taps, padded: x}
		c.w.multiplyFrom(r, g, nil, 0, cols, groupOutput(r, n, g), s.outSize, s.outSize, pool)
	}
	*cols = implicitColumns{}
}

var implicitColumnsPool = sync.Pool{New: func() any { return new(implicitColumns) }}

// implicitColumns is the im2col matrix of one image's group of channels over a 2-D window, as a
// gemm.BPacker: row c*taps + t, column oy*ow + ox holds x[c, oy*sh + dy[t] - ph, ox*sw + dx[t] - pw] (dy, dx
// the tap's dilated offsets), or 0 where that is padding (im2colGather's col). x is read from padded, the
// channels with their padding written out (implicitTaps.pad), so that no load tests for it.
type implicitColumns struct {
	w      *window
	taps   *implicitTaps
	padded []float32
}

// implicitTaps is the layout of the padded input and each tap's offset in it, computed at Prepare.
type implicitTaps struct {
	offset []int // tap t's cell relative to the window's corner: dy*pw + dx
	// ph x pw is a padded plane: every window of the output lies inside it. The input's cell (iy, ix) is
	// at (iy+padTop, ix+padLeft). copies is false when the input needs no padding and is read as it lies.
	ph, pw           int
	padTop, padLeft  int
	copies           bool
	inH, inW, planes int
}

func newImplicitTaps(w *window, channels int) *implicitTaps {
	ih, iw := w.in[0], w.in[1]
	t := &implicitTaps{inH: ih, inW: iw, planes: channels, padTop: w.padBegin[0], padLeft: w.padBegin[1]}
	// The last window's far edge, in padded coordinates.
	t.ph = max(ih+t.padTop, (w.out[0]-1)*w.stride[0]+w.effectiveKernel(0))
	t.pw = max(iw+t.padLeft, (w.out[1]-1)*w.stride[1]+w.effectiveKernel(1))
	t.copies = t.padTop != 0 || t.padLeft != 0 || t.ph != ih || t.pw != iw
	if !t.copies {
		t.ph, t.pw = ih, iw
	}
	for i := range w.kernel[0] {
		for j := range w.kernel[1] {
			t.offset = append(t.offset, i*w.dilation[0]*t.pw+j*w.dilation[1])
		}
	}
	return t
}

// paddedLen is the scratch the padded channels take (0 when the input is read as it lies).
func (t *implicitTaps) paddedLen() int {
	if !t.copies {
		return 0
	}
	return t.planes * t.ph * t.pw
}

// pad writes x's channels into dst with their padding (zeros) around them.
func (t *implicitTaps) pad(dst, x []float32) {
	for c := range t.planes {
		xc, dc := x[c*t.inH*t.inW:(c+1)*t.inH*t.inW], dst[c*t.ph*t.pw:(c+1)*t.ph*t.pw]
		clear(dc[:t.padTop*t.pw])
		for iy := range t.inH {
			row := dc[(iy+t.padTop)*t.pw : (iy+t.padTop+1)*t.pw]
			clear(row[:t.padLeft])
			copy(row[t.padLeft:], xc[iy*t.inW:(iy+1)*t.inW])
			clear(row[t.padLeft+t.inW:])
		}
		clear(dc[(t.inH+t.padTop)*t.pw:])
	}
}

// PackB writes rows [p0, p0+kc) and columns [j0, j0+n) of the im2col matrix into dst in the GEMM's panel
// layout, a panel (16 output positions) at a time: each position's window corner in the padded planes is
// computed once, then every row of the panel is 16 loads at those offsets from the row's channel and tap.
func (cols *implicitColumns) PackB(dst []float32, p0, kc, j0, n int) {
	const nr = gemm.PanelWidth
	w, tp, x := cols.w, cols.taps, cols.padded
	ow, sh, sw := w.out[1], w.stride[0], w.stride[1]
	plane, taps := tp.ph*tp.pw, len(tp.offset)
	var corner [nr]int // each lane's window corner in a padded plane
	for q0 := 0; q0 < n; q0 += nr {
		width := min(nr, n-q0)
		panel := dst[q0*kc : q0*kc+nr*kc]
		for l := range width {
			pos := j0 + q0 + l
			corner[l] = pos/ow*sh*tp.pw + pos%ow*sw
		}
		for l := width; l < nr; l++ {
			corner[l] = corner[0] // read anything valid, cleared below
		}
		c, t := p0/taps, p0%taps
		for p := range kc {
			g := (*[nr]float32)(panel[p*nr:])
			src := x[c*plane+tp.offset[t]:]
			for l := range g {
				g[l] = src[corner[l]]
			}
			clear(g[width:])
			if t++; t == taps {
				c, t = c+1, 0
			}
		}
	}
}
