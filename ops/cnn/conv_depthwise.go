package cnn

// Depthwise convolution: every group has one input channel (group == C), so each output plane is a 2-D
// stencil over one input plane and a GEMM would multiply 1-row matrices. The kernel walks output planes
// directly: interior cells, whose window lies inside the input, use the shared tap offsets with no test,
// border cells their own row of the gather table.
//
// Square 3x3 and 5x5 windows with stride 1 or 2, dilated or not (MobileNet's, EfficientNet's, and
// DeepLabV3's dilated 5x5 in its backbone's last stage), take a vector path instead. On output planes of at most dwciMaxOutputs cells it is channel-interleaved, 16
// channels a unit (conv_depthwise_ci.go); on larger ones it is the plane path (conv_depthwise_kernel.go):
// each plane is copied into a zero-padded per-thread
// buffer (for stride 2, split into its four row and column phases), the vector kernel computes the whole
// plane from it in one call with no border test, and the residual and the activation are applied as the
// rows are copied out, while they are in L1.

import (
	"github.com/onnxrun/onnxrun/ops/internal/activation"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// isDepthwise reports one input channel per group, with more than one group.
func isDepthwise(s *convShape) bool {
	return s.win.rank() == 2 && s.group > 1 && s.groupInC == 1 && s.group == s.inC
}

type convDepthwise struct {
	s *convShape
	g *gather
	// interior3x3 is set for 3x3 windows with unit strides and dilations, whose interior runs unrolled.
	interior3x3 bool
	// vec is the padded-plane geometry of the vector path, nil when the window does not fit it.
	vec *dwVectorPlan
	// ci is the channel-interleaved path's plan (conv_depthwise_ci.go), nil when the shape does not take
	// it; packed holds its weights when W is constant (nil: setup packs them into the shared scratch).
	ci     *dwciPlan
	packed *derivedWeights[[]float32]
	// planesPerUnit is the output planes one work unit computes (dwPlanesPerUnit).
	planesPerUnit int
}

// dwUnitOutputs and dwMaxPlanesPerUnit size a work unit: small planes (7x7, 14x14) are grouped so that
// what a unit pays once (claiming it, zeroing the padded buffer's border, the post activation's call)
// is spread over about dwUnitOutputs outputs, while a unit's output (at most 8 KB) stays in L1 for the
// post activation; large planes are one unit each.
const (
	dwUnitOutputs      = 2048
	dwMaxPlanesPerUnit = 32
)

// dwPlanesPerUnit is the planes of outSize outputs one work unit computes.
func dwPlanesPerUnit(outSize int) int {
	return min(max(dwUnitOutputs/max(outSize, 1), 1), dwMaxPlanesPerUnit)
}

// dwVectorPlan is the geometry of the vector path for one shape: the padded plane (stride 1) or its
// four phases (stride 2), each phRows x rowStride, and the kernel's tap offsets into them.
type dwVectorPlan struct {
	k, stride       int
	dilH, dilW      int // the window's dilations: tap (ky, kx) reads padded row stride*oy + ky*dilH
	padTop, padLeft int
	inH, inW        int
	outH, outW      int
	rowStride       int // the row length of the padded plane or of a phase
	phRows          int // the rows of the padded plane or of a phase that some output reads
	phSize          int // phRows * rowStride
	offsets         []int
	// cols is where a stride-2 input row goes: its even columns (2q) to column phase cols[0].phase from
	// column cols[0].first on, cols[0].count of them, its odd columns (2q+1) as cols[1] says.
	cols [2]struct{ phase, first, count int }
	// evenAt and oddAt are, for each input row a stride-2 output reads, where its even and its odd
	// columns go in the buffer (dwSplitFn); pairs is how many of each dwSplit writes.
	evenAt, oddAt   []int
	pairs           int
	blocks          int // kernel blocks per plane
	padLen, tempLen int // the per-thread buffers
	kernel          dwKernelFn
}

// newDwVectorPlan returns the vector path's plan, or nil when the window is not a square 3x3 or 5x5 with
// stride 1 or 2. Any dilation fits: the kernels read their taps at the offsets the plan gives them, so a
// dilated window only spreads the offsets and widens the padded plane (before, DeepLabV3's dilated 5x5
// layers ran on the scalar gather loop at about 2 GFLOP/s, 37% of the model's time at one thread).
func newDwVectorPlan(s *convShape) *dwVectorPlan {
	w := &s.win
	k, stride := w.kernel[0], w.stride[0]
	if w.kernel[1] != k || (k != 3 && k != 5) || w.stride[1] != stride || (stride != 1 && stride != 2) ||
		w.out[0] < 1 || w.out[1] < 1 {
		return nil
	}
	p := &dwVectorPlan{k: k, stride: stride, dilH: w.dilation[0], dilW: w.dilation[1], padTop: w.padBegin[0],
		padLeft: w.padBegin[1], inH: w.in[0], inW: w.in[1], outH: w.out[0], outW: w.out[1], kernel: dwKernel.Fn}
	// Output (oy, ox) reads padded rows stride*oy + ky*dilH, columns stride*ox + kx*dilW: in phase
	// (ky*dilH%stride, kx*dilW%stride), row oy + ky*dilH/stride and column ox + kx*dilW/stride.
	p.phRows = p.outH + (k-1)*p.dilH/stride
	p.rowStride = p.outW + (k-1)*p.dilW/stride
	p.phSize = p.phRows * p.rowStride
	for ky := 0; ky < k; ky++ {
		for kx := 0; kx < k; kx++ {
			dy, dx := ky*p.dilH, kx*p.dilW
			phase := (dy%stride)*stride + dx%stride
			p.offsets = append(p.offsets, phase*p.phSize+(dy/stride)*p.rowStride+dx/stride)
		}
	}
	for r := range p.cols {
		// Input column 2q + r is padded column j = 2q + r + padLeft: phase j%2, column j/2.
		col := &p.cols[r]
		col.phase, col.first = (r+p.padLeft)%2, (r+p.padLeft)/2
		col.count = max(0, min((p.inW+1-r)/2, p.rowStride-col.first))
	}
	if stride == 2 {
		p.pairs = min(p.cols[0].count, p.cols[1].count)
		for xi := 0; xi < p.inH && (xi+p.padTop)/2 < p.phRows; xi++ {
			i := xi + p.padTop
			row := (i%2)*2*p.phSize + (i/2)*p.rowStride
			p.evenAt = append(p.evenAt, row+p.cols[0].phase*p.phSize+p.cols[0].first)
			p.oddAt = append(p.oddAt, row+p.cols[1].phase*p.phSize+p.cols[1].first)
		}
	}
	p.blocks = (p.outH*p.rowStride + dwBlock - 1) / dwBlock
	p.tempLen = p.blocks * dwBlock
	p.padLen = max(stride*stride*p.phSize, dwSrcExtent(p.offsets, p.blocks))
	return p
}

func newConvDepthwise(s *convShape, weights convWeights) *convDepthwise {
	w := &s.win
	c := &convDepthwise{s: s, g: w.gatherInput(), vec: newDwVectorPlan(s), planesPerUnit: dwPlanesPerUnit(s.outSize),
		interior3x3: w.kernel[0] == 3 && w.kernel[1] == 3 && w.stride[0] == 1 && w.stride[1] == 1 && w.dilation[0] == 1 && w.dilation[1] == 1}
	c.useInterleaved(newDwciPlan(s, c.vec), weights)
	return c
}

// useInterleaved sets the channel-interleaved plan p (nil: the plane paths), with W's packing.
func (c *convDepthwise) useInterleaved(p *dwciPlan, weights convWeights) {
	c.ci, c.packed = p, nil
	if p != nil {
		c.packed = newDerivedWeights(weights, "depthwise-interleaved", func(w []float32) []float32 {
			packed := make([]float32, p.blocks*c.s.taps*dwciLanes)
			p.packWeights(packed, w, c.s.inC, c.s.taps)
			return packed
		})
	}
}

func (c *convDepthwise) name() string {
	if c.ci != nil {
		return "depthwise-interleaved"
	}
	return "depthwise"
}

// gemmMACsPerMAC: the depthwise kernels run 6-13 multiply-adds a ns on one core of the Zen 4 machine
// (MobileNetV2's layers, bench -p at one thread, 7x7 to 56x56 maps) against the GEMM's 50-80, so a
// depthwise multiply-add counts as five of the GEMM's; with the GEMM's threshold its 7x7x576 stride-2
// layer (254K multiply-adds, about 30 µs) stayed on one thread.
func (c *convDepthwise) gemmMACsPerMAC() int64 { return 5 }
func (c *convDepthwise) units() int {
	if c.ci != nil {
		return c.s.batch * c.ci.blocks
	}
	return (c.s.batch*c.s.outC + c.planesPerUnit - 1) / c.planesPerUnit
}
func (c *convDepthwise) scratchShared() int {
	if c.ci != nil && c.packed == nil {
		return c.ci.blocks * c.s.taps * dwciLanes
	}
	return 0
}
func (c *convDepthwise) scratchPerThread() int {
	if c.ci != nil {
		return c.ci.scratchPerThread()
	}
	if c.vec == nil {
		return 0
	}
	return c.vec.padLen + c.vec.tempLen
}
func (c *convDepthwise) setup(r *convRun) {
	if c.ci != nil && c.packed == nil {
		c.ci.packWeights(r.shared, r.w, c.s.inC, c.s.taps)
	}
}

// unitOutput: both paths apply the post activation themselves, row by row or plane by plane.
func (c *convDepthwise) unitOutput(int) (lo, hi int, ok bool) { return 0, 0, true }

// run computes the output planes of units [lo, hi) (plane u is image n = u / M, channel m = u % M, which
// reads input channel m / (M/C)).
func (c *convDepthwise) run(r *convRun, lo, hi int, buf []float32, _ *parallel.Pool) {
	if c.ci != nil {
		packed := r.shared
		if c.packed != nil {
			packed = c.packed.get()
		}
		c.runInterleaved(r, lo, hi, buf, packed)
		return
	}
	lo, hi = lo*c.planesPerUnit, min(hi*c.planesPerUnit, c.s.batch*c.s.outC)
	if c.vec != nil {
		c.runVector(r, lo, hi, buf)
		return
	}
	s, g := c.s, c.g
	e := &r.k.epi
	taps := s.taps
	for u := lo; u < hi; u++ {
		n, m := u/s.outC, u%s.outC
		ch := m / s.groupOutC
		xp := r.x[(n*s.inC+ch)*s.inSize : (n*s.inC+ch+1)*s.inSize]
		yp := r.y[u*s.outSize : (u+1)*s.outSize]
		var zp []float32
		if r.z != nil {
			zp = r.z[u*s.outSize : (u+1)*s.outSize]
		}
		wm := r.w[m*taps : (m+1)*taps]
		var b float32
		if r.bias != nil {
			b = r.bias[m]
		}
		var w0, w1, w2, w3, w4, w5, w6, w7, w8 float32
		var o1, o2, o3, o4, o5, o6, o7, o8 int32
		if c.interior3x3 {
			w0, w1, w2, w3, w4, w5, w6, w7, w8 = wm[0], wm[1], wm[2], wm[3], wm[4], wm[5], wm[6], wm[7], wm[8]
			to := g.tapOffset
			o1, o2, o3, o4, o5, o6, o7, o8 = to[1], to[2], to[3], to[4], to[5], to[6], to[7], to[8]
		}
		for p := range yp {
			sum := b
			if row := g.border[p]; row < 0 {
				base := g.origin[p]
				if c.interior3x3 {
					x := xp[base : base+o8+1]
					sum += w0*x[0] + w1*x[o1] + w2*x[o2] + w3*x[o3] + w4*x[o4] + w5*x[o5] + w6*x[o6] + w7*x[o7] + w8*x[o8]
				} else {
					for t, off := range g.tapOffset {
						sum += wm[t] * xp[base+off]
					}
				}
			} else {
				for t, off := range g.borderTaps[int(row)*taps : int(row+1)*taps] {
					if off >= 0 {
						sum += wm[t] * xp[off]
					}
				}
			}
			if zp != nil {
				sum += zp[p]
			}
			yp[p] = e.apply(sum)
		}
		e.post.Row(yp, yp)
	}
}

// runVector computes output planes [lo, hi) on the vector path, with buf the per-thread buffers. The
// padded buffer is zeroed once: every plane has the same geometry, so each fill rewrites the same
// interior cells and the padding stays zero. A clamp epilogue is applied by the kernel as it stores;
// a residual is added row by row as the rows are copied out, and a post activation (HardSwish, SiLU...)
// runs once over the planes' outputs, which are contiguous and still in L1.
func (c *convDepthwise) runVector(r *convRun, lo, hi int, buf []float32) {
	s, p := c.s, c.vec
	padded, temp := buf[:p.padLen], buf[p.padLen:p.padLen+p.tempLen]
	clear(padded)
	e := &r.k.epi
	clampOnly := *e
	clampOnly.post = activation.Func{}
	clampLo, clampHi, inKernel := e.clampBounds()
	// The rows are copied out as they are when the kernel applied the whole clamp, or when there is no
	// clamp and no residual (a post activation alone: MobileNetV3's HardSwish, EfficientNet's SiLU).
	plainRows := inKernel || (r.z == nil && e.act == gemm.ActNone)
	for u := lo; u < hi; u++ {
		n, m := u/s.outC, u%s.outC
		ch := m / s.groupOutC
		p.fillInterior(padded, r.x[(n*s.inC+ch)*s.inSize:(n*s.inC+ch+1)*s.inSize])
		wm := r.w[m*s.taps : (m+1)*s.taps]
		var b float32
		if r.bias != nil {
			b = r.bias[m]
		}
		yp := r.y[u*s.outSize : (u+1)*s.outSize]
		var zp []float32
		if r.z != nil {
			zp = r.z[u*s.outSize : (u+1)*s.outSize]
		}
		p.kernel(temp, padded, p.offsets, wm, p.blocks, b, clampLo, clampHi)
		if plainRows {
			dwCopyRows.Fn(yp, p.outW, temp, p.rowStride, p.outH, p.outW)
			continue
		}
		for oy := 0; oy < p.outH; oy++ {
			row := temp[oy*p.rowStride:]
			out := yp[oy*p.outW : (oy+1)*p.outW]
			switch {
			case zp != nil:
				clampOnly.applyRowSum(out, row[:p.outW], zp[oy*p.outW:(oy+1)*p.outW])
			default:
				clampOnly.applyRow(out, row[:p.outW])
			}
		}
	}
	if e.post.Kind != activation.None {
		ys := r.y[lo*s.outSize : hi*s.outSize]
		e.post.Row(ys, ys)
	}
}

// fillInterior copies plane x (inH x inW) into the zero-padded buffer: padded row i, column j, which
// holds x[i-padTop][j-padLeft], is row i/stride, column j/stride of phase (i%stride, j%stride), for the
// rows and columns an output reads. It writes the same cells for every plane; the others (the padding)
// are left as they are, zero.
func (p *dwVectorPlan) fillInterior(padded, x []float32) {
	if p.stride == 1 {
		if p.padLeft >= p.rowStride {
			return
		}
		rows := min(p.phRows-p.padTop, p.inH)
		if rows <= 0 {
			return
		}
		dwCopyRows.Fn(padded[p.padTop*p.rowStride+p.padLeft:], p.rowStride, x, p.inW, rows, min(p.inW, p.rowStride-p.padLeft))
		return
	}
	dwSplit.Fn(padded, x, p.evenAt, p.oddAt, p.inW, p.pairs)
	// An odd inW leaves one even column per row (or a cut at rowStride, one odd one) to copy here.
	for r := range p.evenAt {
		src := x[r*p.inW : (r+1)*p.inW]
		for q := p.pairs; q < p.cols[0].count; q++ {
			padded[p.evenAt[r]+q] = src[2*q]
		}
		for q := p.pairs; q < p.cols[1].count; q++ {
			padded[p.oddAt[r]+q] = src[2*q+1]
		}
	}
}
