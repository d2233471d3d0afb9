package cnn

// The GEMM strategies of the float32 convolution (see conv_fast.go): convPointwise multiplies the weights by
// the input planes as they are, convIm2col first unrolls each window into a column buffer.

import (
	"encoding/binary"
	"sync/atomic"

	"github.com/onnxrun/onnxrun/ops/internal/activation"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// convGemmWeights is the A operand of every group's GEMM: packed once when W is constant, else read from
// W at run time.
type convGemmWeights struct {
	packed *derivedWeights[[]*gemm.PackedA] // one per group; nil when W is not constant
	m, k   int                              // rows (M/group) and columns (C/group*taps) of one group's A
}

func newConvGemmWeights(s *convShape, w convWeights) convGemmWeights {
	m, k, groups := s.groupOutC, s.groupInC*s.taps, s.group
	return convGemmWeights{m: m, k: k, packed: newDerivedWeights(w, "gemm", func(w []float32) []*gemm.PackedA {
		packed := make([]*gemm.PackedA, groups)
		for g := range packed {
			packed[g] = gemm.PackA(false, m, k, w[g*m*k:(g+1)*m*k], k)
		}
		return packed
	})}
}

// multiply computes one image's group g: Y_g (M/group x outSize, row stride ldy) = act(A_g · B + bias_g
// [+ Y_g]), B being K x outSize with row stride ldb.
func (cw *convGemmWeights) multiply(r *convRun, g int, b []float32, ldb int, y []float32, ldy, outSize int, pool *parallel.Pool) {
	cw.multiplyFrom(r, g, b, ldb, nil, y, ldy, outSize, pool)
}

// multiplyFrom is multiply with B given either as a matrix (b, ldb) or, when packer is not nil, by a
// producer of its packed blocks (convImplicit).
func (cw *convGemmWeights) multiplyFrom(r *convRun, g int, b []float32, ldb int, packer gemm.BPacker, y []float32, ldy, outSize int, pool *parallel.Pool) {
	k := r.k
	var bias []float32
	if r.bias != nil {
		bias = r.bias[g*cw.m : (g+1)*cw.m]
	}
	p := gemm.Params{
		M: cw.m, N: outSize, K: cw.k, Alpha: 1,
		B: b, LDB: ldb, BPacker: packer,
		Beta: beta(&k.epi), C: y, LDC: ldy,
		Epilogue: k.epi.gemmEpilogue(bias),
		Pool:     pool,
		Done:     r.done,
	}
	if k.epi.post.Kind != activation.None {
		p.Epilogue.Finish = &k.postStep
	}
	if cw.packed != nil {
		p.PackedA = cw.packed.get()[g]
	} else {
		p.A, p.LDA = r.w[g*cw.m*cw.k:(g+1)*cw.m*cw.k], cw.k
	}
	gemm.Multiply(&p)
}

// groupOutput returns Y's part for image n, group g, with Z's part copied in when the epilogue sums it.
func groupOutput(r *convRun, n, g int) []float32 {
	s := &r.k.s
	lo := (n*s.outC + g*s.groupOutC) * s.outSize
	hi := lo + s.groupOutC*s.outSize
	y := r.y[lo:hi]
	if r.k.epi.sum {
		copy(y, r.z[lo:hi])
	}
	return y
}

// groupInput returns X's channels of image n, group g.
func groupInput(r *convRun, n, g int) []float32 {
	s := &r.k.s
	lo := (n*s.inC + g*s.groupInC) * s.inSize
	return r.x[lo : lo+s.groupInC*s.inSize]
}

// isPointwise reports a 1x1 kernel with unit strides and no padding: output cell p reads input cell p.
func isPointwise(s *convShape) bool {
	if s.taps != 1 || s.inSize != s.outSize {
		return false
	}
	for i := range s.win.in {
		if s.win.stride[i] != 1 || s.win.padBegin[i] != 0 || s.win.padEnd[i] != 0 {
			return false
		}
	}
	return true
}

// convPointwise is a 1x1 convolution as one GEMM per image and group, with X's planes as B in place:
//
//	Y[n, g] (M/group x HW) = W[g] (M/group x C/group) · X[n, g] (C/group x HW)
type convPointwise struct {
	s *convShape
	w convGemmWeights
}

func newConvPointwise(s *convShape, w convWeights) *convPointwise {
	return &convPointwise{s: s, w: newConvGemmWeights(s, w)}
}

func (c *convPointwise) name() string          { return "pointwise" }
func (c *convPointwise) units() int            { return c.s.batch * c.s.group }
func (c *convPointwise) scratchShared() int    { return 0 }
func (c *convPointwise) scratchPerThread() int { return 0 }
func (c *convPointwise) setup(*convRun)        {}

// unitOutput: the GEMM applies the post activation itself (fastConvKernel.postStep), each thread to what it
// computed inside the product's parallel section; at batch 1 one GEMM is the whole layer, and the
// activation ran after it on one thread (EfficientNet-B0's first 1x1 expansion: SiLU over 1.2M elements).
func (c *convPointwise) unitOutput(int) (lo, hi int, ok bool) { return 0, 0, true }

func (c *convIm2col) unitOutput(int) (lo, hi int, ok bool) { return 0, 0, true }

// groupOutputRange is the part of Y unit u = (image, group) writes, for the strategies with those units.
func groupOutputRange(s *convShape, u int) (lo, hi int, ok bool) {
	n, g := u/s.group, u%s.group
	lo = (n*s.outC + g*s.groupOutC) * s.outSize
	return lo, lo + s.groupOutC*s.outSize, true
}
func (c *convPointwise) run(r *convRun, lo, hi int, _ []float32, pool *parallel.Pool) {
	s := c.s
	for u := lo; u < hi; u++ {
		n, g := u/s.group, u%s.group
		c.w.multiply(r, g, groupInput(r, n, g), s.inSize, groupOutput(r, n, g), s.outSize, s.outSize, pool)
	}
}

// convIm2col unrolls each image's group into col (C/group*taps rows of outSize: row c*taps+t holds the
// input cell every output position reads at channel c, tap t, or 0 for padding), then multiplies:
//
//	Y[n, g] (M/group x outSize) = W[g] (M/group x C/group*taps) · col (C/group*taps x outSize)
//
// col is the GEMM's B as it lies, read in place or packed as the GEMM prefers.
type convIm2col struct {
	s *convShape
	g *gather // for windows of rank other than 2
	w convGemmWeights
	// blockRows is how many output rows one column block holds (2-D windows): a large map is unrolled and
	// multiplied a block at a time, so that the columns the GEMM reads are still in the L2 that im2col
	// wrote them to (ResNet-50's stem: 147 rows of 12544 columns are 7.4 MB at once).
	blockRows int
	// blockThreads is the most pool threads a unit's blocks may be shared across (im2colBlocks), each
	// with its own column buffer; 0 when there are enough units to share out or one block.
	blockThreads int
}

// im2colBlockFloats is the size a column block is cut to: half of a 1 MiB L2, the rest being the GEMM's
// packed panels and the output rows. It also bounds the scratch: ResNet-50's stem needed 7.4 MB of
// columns per thread, now 0.5 MB. Measured on Zen 4 (CPU time, a busy machine): YOLO's 6x6 stride-2 stem
// 2.9-4.1 ms blocked against 3.6 unblocked, ResNet-50's 2.3-3.5 against 2.6: a tie within the noise.
const im2colBlockFloats = 128 << 10

// im2colBlockMinCols is the fewest columns a block is cut to, for the GEMM to run on long rows.
const im2colBlockMinCols = 256

// colStride is the row stride of a column buffer with n columns: n rounded up to whole 64-byte lines, and
// to an odd number of them. The GEMM may read such a B in place, 16 columns of up to 256 rows at a time; at
// a stride of an even number of lines (n = 64, 128, ...) those rows would map to a fraction of the L1's sets
// and evict each other (the GEMM itself only avoids strides that are multiples of 1 KiB).
func colStride(n int) int {
	ld := (n + 15) / 16 * 16
	if (ld/16)%2 == 0 {
		ld += 16
	}
	return ld
}

func newConvIm2col(s *convShape, w convWeights) *convIm2col {
	c := &convIm2col{s: s, w: newConvGemmWeights(s, w)}
	if s.win.rank() != 2 {
		c.g = s.win.gatherInput()
		return c
	}
	oh, ow, k := s.win.out[0], s.win.out[1], s.groupInC*s.taps
	c.blockRows = oh
	if k > 0 && ow > 0 {
		c.blockRows = min(oh, max(1, im2colBlockFloats/(k*ow), ceilDiv(im2colBlockMinCols, ow)))
	}
	if t := maxConvThreads(); s.batch*s.group < t && c.blockRows < oh {
		c.blockThreads = t
	}
	return c
}

func (c *convIm2col) name() string { return "im2col" }

func (c *convIm2col) units() int { return c.s.batch * c.s.group }

func (c *convIm2col) scratchShared() int { return 0 }

// scratchPerThread is one image's column buffer, or one block's.
func (c *convIm2col) scratchPerThread() int {
	s := c.s
	if c.g == nil {
		return max(1, c.blockThreads)*c.colBlockLen() + phasedLen(&s.win, s.groupInC)
	}
	return s.groupInC * s.taps * s.outSize
}

// colBlockLen is one block's column buffer.
func (c *convIm2col) colBlockLen() int {
	return c.s.groupInC * c.s.taps * colStride(c.blockRows*c.s.win.out[1])
}

func (c *convIm2col) setup(*convRun) {}

func (c *convIm2col) run(r *convRun, lo, hi int, buf []float32, pool *parallel.Pool) {
	s := c.s
	col := buf
	var phased []float32
	if c.g == nil {
		n := phasedLen(&s.win, s.groupInC)
		phased, col = buf[:n], buf[n:]
	}
	for u := lo; u < hi; u++ {
		n, g := u/s.group, u%s.group
		x, y := groupInput(r, n, g), groupOutput(r, n, g)
		if c.g != nil {
			im2colGather(col, x, c.g, s.groupInC, s.inSize)
			c.w.multiply(r, g, col, s.outSize, y, s.outSize, s.outSize, pool)
			continue
		}
		if len(phased) > 0 {
			split := im2colSplit{w: &s.win, channels: s.groupInC, phase: true, phased: phased, x: x}
			split.run(r, len(phased), s.groupInC*s.win.in[0], pool)
			x = phased
		}
		oh, ow := s.win.out[0], s.win.out[1]
		if pool.Threads() > 1 && pool.Threads() <= c.blockThreads {
			// Fewer units than threads: the blocks go to the threads, each unrolling and multiplying its
			// own, rather than every block's product forking and joining on the pool.
			bt := &r.im2colBlocks
			*bt = im2colBlocks{c: c, r: r, g: g, x: x, y: y, cols: col}
			pool.ForTask(ceilDiv(oh, c.blockRows), bt)
			*bt = im2colBlocks{}
			continue
		}
		for oy0 := 0; oy0 < oh; oy0 += c.blockRows {
			oy1 := min(oh, oy0+c.blockRows)
			cols := (oy1 - oy0) * ow
			ld := colStride(cols)
			split := im2colSplit{w: &s.win, channels: s.groupInC, col: col, x: x, ld: ld, oy0: oy0}
			split.run(r, s.groupInC*s.taps*cols, oy1-oy0, pool)
			c.w.multiply(r, g, col, ld, y[oy0*ow:], s.outSize, cols, pool)
		}
	}
}

// im2colBlocks runs blocks [lo, hi) of one unit on one of a pool's threads: the i-th call to claim
// unrolls into the i-th column buffer of cols and multiplies without the pool. It lives in the Run's
// convRun, so ForTask allocates nothing.
type im2colBlocks struct {
	c     *convIm2col
	r     *convRun
	g     int
	x, y  []float32
	cols  []float32
	claim atomic.Int32
}

func (t *im2colBlocks) Do(lo, hi int) {
	c, s := t.c, t.c.s
	n := c.colBlockLen()
	i := int(t.claim.Add(1) - 1)
	col := t.cols[i*n : (i+1)*n]
	oh, ow := s.win.out[0], s.win.out[1]
	for b := lo; b < hi && !cancelled(t.r.done); b++ {
		oy0 := b * c.blockRows
		oy1 := min(oh, oy0+c.blockRows)
		cols := (oy1 - oy0) * ow
		ld := colStride(cols)
		im2colRowRange(col, t.x, &s.win, s.groupInC, ld, oy0, oy1, 0)
		c.w.multiply(t.r, t.g, col, ld, t.y[oy0*ow:], s.outSize, cols, nil)
	}
}

// im2colSplit is phaseRows or im2colRowRange cut across a pool's threads: a batch-1 convolution has one
// unit, so without it the copies run on one thread while the others wait for the GEMM (ResNet-50's stem
// writes 1.8M column floats). It lives in the Run's convRun, so handing it to ForTask allocates nothing.
type im2colSplit struct {
	w        *window
	channels int
	// phase: Do deinterleaves input rows [lo, hi) of x into phased; else it writes the columns of output
	// rows [oy0+lo, oy0+hi) into col (row stride ld, column 0 being output row oy0).
	phase   bool
	phased  []float32
	x, col  []float32
	ld, oy0 int
}

// im2colSplitMinFloats is the fewest floats written that are worth splitting across threads: below it
// the fork and join cost about as much as the copy.
const im2colSplitMinFloats = 64 << 10

// run does rows [0, rows) of the copy, writing about floats floats, on pool's threads when that pays. The
// split is then copied into r, the one place a Task can live without allocating; a nil pool means the
// Run's units are on several threads sharing r, and t stays on the caller's stack.
func (t im2colSplit) run(r *convRun, floats, rows int, pool *parallel.Pool) {
	if pool.Threads() > 1 && floats >= im2colSplitMinFloats && rows > 1 {
		r.im2col = t
		pool.ForTask(rows, &r.im2col)
		return
	}
	t.Do(0, rows)
}

func (t *im2colSplit) Do(lo, hi int) {
	w := t.w
	if t.phase {
		width, stride := w.in[1], w.stride[1]
		rowLen := stride * ceilDiv(width, stride)
		phaseRows(t.phased[lo*rowLen:], t.x[lo*width:], hi-lo, width, stride)
		return
	}
	im2colRowRange(t.col[lo*w.out[1]:], t.x, w, t.channels, t.ld, t.oy0+lo, t.oy0+hi, 0)
}

// phasedLen is the length of the channels' planes in the phased layout (0 when the column stride is 1 and
// X is read as it lies, or the window is not 2-D).
func phasedLen(w *window, channels int) int {
	if w.rank() != 2 || w.stride[1] == 1 {
		return 0
	}
	return channels * w.in[0] * w.stride[1] * ceilDiv(w.in[1], w.stride[1])
}

// phaseRows writes the rows of x (rows of width cells) into dst deinterleaved by stride: each row becomes
// stride phases of ceil(width/stride) cells, phase q holding cells q, q+stride, q+2*stride... A strided
// convolution's tap then reads a contiguous run of one phase for a row of outputs: im2col copies it instead
// of gathering every stride-th cell (ResNet-50's 7x7 stride-2 stem spent as long in that gather as in its
// GEMM).
func phaseRows[T float32 | byte](dst, x []T, rows, width, stride int) {
	pw := ceilDiv(width, stride)
	for r := range rows {
		src, d := x[r*width:(r+1)*width], dst[r*stride*pw:(r+1)*stride*pw]
		for q := range stride {
			dq := d[q*pw : (q+1)*pw]
			n := 0
			for ix := q; ix < width; ix += stride {
				dq[n] = src[ix]
				n++
			}
		}
	}
}

// phaseBytes is phaseRows for 8-bit data. At stride 2 (ResNet's strided layers) it splits eight cells at a
// time: a 64-bit load, masks and shifts gather its four even cells into one 32-bit store and its four odd
// ones into another (splitPairs), where the cell loop moves one byte at a time. Portable Go: the wasm and
// noasm builds get it too.
func phaseBytes(dst, x []byte, rows, width, stride int) {
	if stride != 2 {
		phaseRows(dst, x, rows, width, stride)
		return
	}
	pw := ceilDiv(width, 2)
	for r := range rows {
		splitRow(dst[2*r*pw:(2*r+1)*pw], dst[(2*r+1)*pw:(2*r+2)*pw], x[r*width:(r+1)*width])
	}
}

// splitRow writes src's cells at even positions to even (ceil(len(src)/2) of them) and, unless odd is nil,
// those at odd positions to odd (len(src)/2): even[j] = src[2j], odd[j] = src[2j+1].
func splitRow(even, odd, src []byte) {
	width := len(src)
	pairs := width / 2
	if pairs < 4 {
		for j := range pairs {
			even[j] = src[2*j]
			if odd != nil {
				odd[j] = src[2*j+1]
			}
		}
	} else {
		// Four pairs at a time; the last four end at the last pair, redoing a few (dst and src are apart).
		for j := 0; ; j = min(j+4, pairs-4) {
			e, o := splitPairs(binary.LittleEndian.Uint64(src[2*j:]))
			binary.LittleEndian.PutUint32(even[j:], e)
			if odd != nil {
				binary.LittleEndian.PutUint32(odd[j:], o)
			}
			if j == pairs-4 {
				break
			}
		}
	}
	if width%2 == 1 {
		even[pairs] = src[width-1]
	}
}

// subsampleBytes writes the 8-bit im2col operand of a 1x1 window without padding at column stride 2 (the
// strided shortcuts of ResNet's stages): col[(c*oh+oy)*ow+ox] = x[c*ih*iw + oy*sh*iw + 2*ox], the even cells
// of the rows the outputs read, taken straight from X where the general path would split every row into
// phases and then copy the even ones.
func subsampleBytes(col, x []byte, channels int, w *window) {
	ih, iw, oh, ow, sh := w.in[0], w.in[1], w.out[0], w.out[1], w.stride[0]
	for c := range channels {
		xc := x[c*ih*iw : (c+1)*ih*iw]
		for oy := range oh {
			splitRow(col[(c*oh+oy)*ow:(c*oh+oy+1)*ow], nil, xc[oy*sh*iw:(oy*sh+1)*iw])
		}
	}
}

// splitPairs returns the even bytes 0, 2, 4, 6 of v (little endian) as the bytes of e and the odd ones as o.
func splitPairs(v uint64) (e, o uint32) {
	const lowBytes = 0x00ff00ff00ff00ff
	a, b := v&lowBytes, (v>>8)&lowBytes                             // in bytes 0, 2, 4, 6
	a, b = (a|a>>8)&0x0000ffff0000ffff, (b|b>>8)&0x0000ffff0000ffff // in bytes 0, 1, 4, 5
	return uint32(a | a>>16), uint32(b | b>>16)
}

// im2colRowRange is im2colGather for a 2-D window and the output rows [oy0, oy1), a row of output cells at
// a time: an input row read with unit stride is one copy, and padding is cleared in runs instead of being
// tested cell by cell. Row r of the result starts at col[r*ld] and holds the (oy1-oy0)*ow columns (ld >=
// that). x is in the phased layout of phaseRows when the window's column stride is above 1 (the caller
// deinterleaves it into scratch), else as it lies. Padding cells hold pad: 0 for floats, x's zero point
// for 8-bit integer data (the quantized convolution, which takes col as its GEMM's K x N operand).
func im2colRowRange[T float32 | byte](col, x []T, w *window, channels, ld, oy0, oy1 int, pad T) {
	ih, iw := w.in[0], w.in[1]
	ow := w.out[1]
	kh, kw := w.kernel[0], w.kernel[1]
	sh, sw := w.stride[0], w.stride[1]
	dh, dw := w.dilation[0], w.dilation[1]
	ph, pw := w.padBegin[0], w.padBegin[1]
	phaseWidth := ceilDiv(iw, sw) // iw when sw is 1
	rowLen := sw * phaseWidth
	outSize := (oy1 - oy0) * ow
	row := 0
	for c := 0; c < channels; c++ {
		xc := x[c*ih*rowLen : (c+1)*ih*rowLen]
		for i := 0; i < kh; i++ {
			for j := 0; j < kw; j++ {
				dst := col[row*ld : row*ld+outSize]
				row++
				// Output columns [lo, hi) read input columns ox*sw + ix0, inside [0, iw): in the phased
				// layout, consecutive cells of phase (ix0+lo*sw) % sw.
				ix0 := j*dw - pw
				lo, hi := colRange(ix0, sw, iw, ow)
				first := ix0 + lo*sw
				if lo < hi {
					first = first%sw*phaseWidth + first/sw
				}
				if sh == 1 && sw == 1 && ow == iw {
					im2colTapPlane(dst, xc, ow, ih, i*dh-ph, ix0, lo, hi, oy0, oy1, pad)
					continue
				}
				for oy := oy0; oy < oy1; oy++ {
					d := dst[(oy-oy0)*ow : (oy-oy0+1)*ow]
					iy := oy*sh + i*dh - ph
					if iy < 0 || iy >= ih {
						for ox := range d {
							d[ox] = pad
						}
						continue
					}
					// Rows are short (LeNet's are 11 to 26 cells): plain loops beat copy's and clear's calls.
					for ox := 0; ox < lo; ox++ {
						d[ox] = pad
					}
					for ox := hi; ox < ow; ox++ {
						d[ox] = pad
					}
					if lo == hi {
						continue // the tap reads only padding in this row (a dilation wider than the map)
					}
					src := xc[iy*rowLen+first : iy*rowLen+first+hi-lo]
					dd := d[lo:hi]
					if len(dd) >= 32 { // ResNet's 56-cell rows of bytes: copy's vector moves win
						copy(dd, src)
						continue
					}
					for k := range dd {
						dd[k] = src[k]
					}
				}
			}
		}
	}
}

// im2colTapPlane is im2colRowRange's row loop for one tap when the window's strides are 1 and the output
// rows are as wide as the input's (a "same" convolution, ResNet's 3x3 layers): output row oy then reads
// input row oy+iy0 at columns ox+ix0, so the rows inside the input are one contiguous run of x, copied at
// once, and only the lo cells before and the w-hi cells after each row's window are overwritten with pad
// afterwards (the copy put the neighbouring rows' cells there). On 14- and 7-cell rows the per-row loop
// cost more than the bytes it moved.
func im2colTapPlane[T float32 | byte](dst, xc []T, w, ih, iy0, ix0, lo, hi, oy0, oy1 int, pad T) {
	// Output rows [in0, in1) read input rows inside [0, ih).
	in0 := min(max(oy0, -iy0), oy1)
	in1 := max(min(oy1, ih-iy0), in0)
	fill(dst[:(in0-oy0)*w], pad)
	fill(dst[(in1-oy0)*w:(oy1-oy0)*w], pad)
	if in0 == in1 {
		return
	}
	if lo < hi {
		start, end := (in0-oy0)*w+lo, (in1-1-oy0)*w+hi
		from := (in0+iy0)*w + ix0 + lo
		copy(dst[start:end], xc[from:from+end-start])
	}
	for oy := in0; oy < in1; oy++ {
		d := dst[(oy-oy0)*w : (oy-oy0+1)*w]
		fill(d[:lo], pad)
		fill(d[hi:], pad)
	}
}

// fill sets every element of s to v; short spans (a row's padding) stay in a plain loop.
func fill[T float32 | byte](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

// colRange returns the output columns [lo, hi) whose input column ox*stride + ix0 lies in [0, in), for out
// output columns.
func colRange(ix0, stride, in, out int) (lo, hi int) {
	if ix0 < 0 {
		lo = ceilDiv(-ix0, stride)
	}
	if last := in - 1 - ix0; last >= 0 {
		hi = min(out, last/stride+1)
	}
	lo = min(lo, out)
	hi = max(hi, lo)
	return lo, hi
}

// im2colGather writes, for channel c and tap t, row c*taps+t of col: the input cell each output position
// reads there (0 for padding), over a window of any rank.
func im2colGather(col, x []float32, g *gather, channels, inSize int) {
	n := g.positions
	for c := 0; c < channels; c++ {
		xc := x[c*inSize : (c+1)*inSize]
		for t := 0; t < g.taps; t++ {
			dst := col[(c*g.taps+t)*n : (c*g.taps+t+1)*n]
			off := g.tapOffset[t]
			for p := range dst {
				if r := g.border[p]; r < 0 {
					dst[p] = xc[g.origin[p]+off]
				} else if o := g.borderTaps[int(r)*g.taps+t]; o >= 0 {
					dst[p] = xc[o]
				} else {
					dst[p] = 0
				}
			}
		}
	}
}
