package cnn

// Depthwise convolution: every group has one input channel (group == C), so each output plane is a 2-D
// stencil over one input plane and a GEMM would multiply 1-row matrices. The kernel walks output planes
// directly: interior cells, whose window lies inside the input, use the shared tap offsets with no test,
// border cells their own row of the gather table.

import (
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
}

func newConvDepthwise(s *convShape, _ convWeights) *convDepthwise {
	w := &s.win
	return &convDepthwise{s: s, g: w.gatherInput(),
		interior3x3: w.kernel[0] == 3 && w.kernel[1] == 3 && w.stride[0] == 1 && w.stride[1] == 1 && w.dilation[0] == 1 && w.dilation[1] == 1}
}

func (c *convDepthwise) name() string          { return "depthwise" }
func (c *convDepthwise) units() int            { return c.s.batch * c.s.outC }
func (c *convDepthwise) scratchShared() int    { return 0 }
func (c *convDepthwise) scratchPerThread() int { return 0 }
func (c *convDepthwise) setup(*convRun)        {}

// run computes output planes [lo, hi) (image n, channel m reads input channel m / (M/C)).
func (c *convDepthwise) run(r *convRun, lo, hi int, _ []float32, _ *parallel.Pool) {
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
	}
}
