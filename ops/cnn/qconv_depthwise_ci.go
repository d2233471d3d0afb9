package cnn

// The integer depthwise convolution on the channel-interleaved float32 stencil (conv_depthwise_ci.go), for
// output maps up to 56x56 (qdwciMaxOutputs). The plane path (qconv_depthwise.go) pays per plane for
// converting the plane row by row into its padded buffer, one kernel call and one requantisation per
// output row: on small maps that dominates, and MobileNetV2 int8 spent most of its time there.
// Here a work unit is 16 channels of one image:
//
//  1. their 16 planes are converted to x - x_zero_point by vector calls, a strip of rows at a time
//     (qdwciStripCells: the strip stays in cache on MobileNetV2's 112x112 maps);
//  2. each strip is transposed to [row][column][16 channels] pixels (dwciPack), a row at a time straight
//     into the zero-padded block where the block holds the whole input (else through the stage);
//  3. the taps' w - w_zero_point are laid out [tap][16 channels];
//  4. the interleaved stencil computes all 16 channels of a pixel per multiply-add, bias 0, no clamp;
//  5. the accumulators are transposed back to 16 output planes (dwciUnpack), and each plane is
//     requantised in one call (QLinearConv) or converted to int32 (ConvInteger).
//
// Exactness is the plane path's argument: every operand is an integer of at most 255 in magnitude, every
// product below 2^16 and every partial sum of at most 25 of them (the plan takes 3x3 and 5x5 windows)
// below 2^24, so float32 holds
// each exactly in any order of summation and the result is the int32 accumulator. The bias is added in
// int32 by the requantisation, as on the other paths.

import (
	"math"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// qdwciMaxOutputs is the largest output plane (outH*outW) that takes the interleaved path, higher than
// the float path's dwciMaxOutputs because the integer plane path also converts every row and requantises
// every output row in calls of their own. Measured with BenchmarkQLinearConv (ops/cnn, one thread, busy
// machine, AVX-512): the interleaved path takes 0.1-0.7x the plane path's time on MobileNetV2's 56x56
// outputs (stride 1, and stride 2 from 112x112), 28x28 and 14x14, and is no faster on 112x112 outputs.
const qdwciMaxOutputs = 56 * 56

// newQdwciPlan returns the interleaved plan when the shape takes it: a depthwise multiplier of 1, a window
// the vector path takes, an output plane of at most qdwciMaxOutputs and a CPU with the interleaved
// assembly (its pure-Go twins are the reference, slower than the plane path).
func newQdwciPlan(s *convShape, vec *dwVectorPlan) *dwciPlan {
	if vec == nil || s.groupOutC != 1 || vec.outH*vec.outW > qdwciMaxOutputs || dwciTaps.Level == isa.PureGo {
		return nil
	}
	return newDwciPlanFor(s, vec)
}

// qdwciScratch is the layout of one thread's scratch on the interleaved path.
type qdwciScratch struct {
	padded  []float32 // the zero-padded interleaved input block
	stage   []float32 // the interleaved input, then the interleaved accumulators
	weights []float32 // [tap][16 channels] of w - w_zero_point, zero past the last channel
	bias    []float32 // 16 zeros: the bias is added in int32 when requantising
	planes  []float32 // 16 strips of x - x_zero_point, then the 16 planes of accumulators
}

// qdwciStripCells bounds the cells of a channel's strip of input rows (at least one row): 16 strips of
// 1024 float32 are 64 KiB, converted, transposed and copied while they are in cache.
const qdwciStripCells = 1024

// qdwciStripRows is how many input rows a strip holds.
func (k *qconvKernel) qdwciStripRows() int {
	return min(k.dwci.inH, max(1, qdwciStripCells/k.dwci.inW))
}

// qdwciPlanesLen is the planar buffer's length: 16 strips or 16 output planes, whichever is larger.
func (k *qconvKernel) qdwciPlanesLen() int {
	return dwciLanes * max(k.qdwciStripRows()*k.dwci.inW, k.s.outSize)
}

// qdwciScratchPerThread is the float32 length of one thread's scratch on the interleaved path.
func (k *qconvKernel) qdwciScratchPerThread() int {
	p := k.dwci
	return p.padLen + p.stageLen + k.s.taps*dwciLanes + dwciLanes + k.qdwciPlanesLen()
}

// qdwciScratchOf splits a thread's scratch.
func (k *qconvKernel) qdwciScratchOf(buf []float32) qdwciScratch {
	p := k.dwci
	var s qdwciScratch
	s.padded, buf = buf[:p.padLen], buf[p.padLen:]
	s.stage, buf = buf[:p.stageLen], buf[p.stageLen:]
	s.weights, buf = buf[:k.s.taps*dwciLanes], buf[k.s.taps*dwciLanes:]
	s.bias, buf = buf[:dwciLanes], buf[dwciLanes:]
	s.planes = buf[:k.qdwciPlanesLen()]
	return s
}

// depthwiseInterleavedUnits computes units [u0, u1) (unit u: image u / blocks, channels 16·(u % blocks)
// on) with buf a thread's scratch.
func depthwiseInterleavedUnits[X, W int8 | uint8](k *qconvKernel, io *qconvIO, x []X, w []W, u0, u1 int, buf []float32) {
	s, p := &k.s, k.dwci
	sc := k.qdwciScratchOf(buf)
	clear(sc.padded) // the padding cells stay zero: every unit writes the same interior cells
	clear(sc.bias)
	xz := X(io.xZero[0])
	cols, rows := min(p.inW, p.padW-p.padLeft), min(p.inH, p.padH-p.padTop)
	bases := p.bases[:ceilDiv(p.outPixels, dwciGroup)*dwciGroup]
	stripRows := k.qdwciStripRows()
	// direct: each input row is transposed straight into its place in the padded block, with no copy
	// through the stage. The transpose writes whole blocks of 16 pixels, zeros past the row's end: those
	// land in the right and left padding (zero anyway) and, on narrow maps, the start of the next rows,
	// which are transposed after it; it needs the whole input inside the block and the last row's zeros
	// inside the buffer.
	direct := cols == p.inW && rows == p.inH &&
		((p.padTop+rows-1)*p.padW+p.padLeft+ceilDiv(p.inW, dwciLanes)*dwciLanes)*dwciLanes <= len(sc.padded)
	inf := float32(math.Inf(1))
	for u := u0; u < u1; u++ {
		if cancelled(io.done) {
			return // Y is unfinished; the runtime discards it
		}
		n, c0 := u/p.blocks, u%p.blocks*dwciLanes
		lanes := min(dwciLanes, s.inC-c0)
		for r0 := 0; r0 < rows && cols > 0; r0 += stripRows {
			r1 := min(rows, r0+stripRows)
			cells := (r1 - r0) * p.inW
			for ch := 0; ch < lanes; ch++ {
				plane := x[(n*s.inC+c0+ch)*s.inSize : (n*s.inC+c0+ch+1)*s.inSize]
				dequantizeShifted(sc.planes[ch*cells:(ch+1)*cells], plane[r0*p.inW:r1*p.inW], xz)
			}
			if direct {
				for i := r0; i < r1; i++ {
					at := ((i+p.padTop)*p.padW + p.padLeft) * dwciLanes
					dwciPack.Fn(sc.padded[at:], sc.planes[(i-r0)*p.inW:], cells, lanes, p.inW)
				}
				continue
			}
			dwciPack.Fn(sc.stage, sc.planes, cells, lanes, cells)
			for i := r0; i < r1; i++ {
				at := ((i+p.padTop)*p.padW + p.padLeft) * dwciLanes
				copy(sc.padded[at:at+cols*dwciLanes], sc.stage[(i-r0)*p.inW*dwciLanes:])
			}
		}
		packShiftedDepthwiseWeights(sc.weights, io, w, c0, lanes, s.taps)
		dwciTaps.Fn(sc.stage, sc.padded, p.offsets, bases, sc.weights, sc.bias, -inf, inf)
		dwciUnpack.Fn(sc.planes, s.outSize, sc.stage, lanes, p.outPixels)
		for ch := 0; ch < lanes; ch++ {
			plane, acc := n*s.outC+c0+ch, sc.planes[ch*s.outSize:(ch+1)*s.outSize]
			if k.requant {
				requantizeDepthwiseF32(k, io, plane, 0, acc)
				continue
			}
			for i, f := range acc {
				io.y32[plane*s.outSize+i] = int32(f)
			}
		}
	}
}

// packShiftedDepthwiseWeights lays out channels [c0, c0+lanes) of W [C][taps] as dst[t·16 + lane] =
// w[c0+lane][t] - w_zero_point[c0+lane], zero for lane >= lanes.
func packShiftedDepthwiseWeights[W int8 | uint8](dst []float32, io *qconvIO, w []W, c0, lanes, taps int) {
	clear(dst)
	for lane := 0; lane < lanes; lane++ {
		c := c0 + lane
		wzp := depthwiseWeightZero[W](io, c)
		for t, v := range w[c*taps : (c+1)*taps] {
			dst[t*dwciLanes+lane] = float32(int32(v) - wzp)
		}
	}
}
