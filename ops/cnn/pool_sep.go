package cnn

// The separable MaxPool: a k×k maximum is the maximum over kw columns of the maxima over kh rows, so each
// output row costs one vertical pass over the input rows its windows cover (kh loads a column, vectorised
// along x) and one horizontal pass of kw taps an output, kh+kw operations where the direct walk takes
// kh*kw (25 → 10 for SPPF's 5x5). The padding is handled outside the inner loops: rows are clipped to the
// input, and the vertical maxima are laid in a row padded with -Inf on both sides, so every output column,
// border or not, runs the same horizontal loop. Any kernel size, strides 1 and 2 along x, any stride
// along y, ceil_mode (clipped like the padding); dilations go to the general path.
//
// NaN: the reference (pool.go) starts each window at its first real tap in row-major order and keeps a
// later tap only if it is larger, so a window is NaN exactly when that first tap is NaN, and otherwise
// the largest of its non-NaN taps. The passes skip NaN (a running maximum from -Inf that keeps a tap only
// if it is larger), and the last step compares with the window's first tap the same way (firstTap below):
// a NaN first tap wins, any other gives the maximum it is part of. Only the sign of a zero maximum may
// differ from the reference when +0 and -0 both occur in a window.

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// poolSepWidth is the widest padded row (pads, input width, the horizontal pass's overrun) the separable
// pool takes: its two rows live on the goroutine's stack, so that Run allocates nothing.
const poolSepWidth = 1024

// poolSepVariants say whether the separable passes run in assembly (pool_sep_amd64.s) or in Go.
var poolSepVariants = append([]isa.Variant[bool]{{Level: isa.PureGo, Name: "Go", Fn: false}}, poolSepAsmVariants...)

// poolSepAsm is true when the passes run in assembly.
var poolSepAsm = isa.Pick(poolSepVariants...).Fn

// separableMaxFits says whether the separable pool covers f: MaxPool, no dilation, stride 1 or 2 along x,
// and a padded row that fits poolSepWidth.
func (f *fastPoolKernel) separableMaxFits() bool {
	return f.max && f.dh == 1 && f.dw == 1 && (f.sw == 1 || f.sw == 2) && f.sepRowWidth() <= poolSepWidth
}

// sepRowWidth is the padded row length the horizontal pass reads: the last window's end plus the 16
// elements an 8-output stride-2 block may read past its last tap.
func (f *fastPoolKernel) sepRowWidth() int { return (f.ow-1)*f.sw + f.kw + 16 }

// separableMaxPlanes max-pools planes [lo, hi) with the separable passes.
func (f *fastPoolKernel) separableMaxPlanes(x, y []float32, lo, hi int) {
	var colMax, first [poolSepWidth]float32
	width := f.sepRowWidth()
	// colMax[pw+c] is column c's maximum over the window's rows; first[pw+c] the window's first tap when the
	// window starts at column c, or at column 0 for a window starting in the left padding. Outside the input
	// both stay -Inf (set once here), which no comparison keeps over a real tap.
	for c := 0; c < width; c++ {
		colMax[c], first[c] = negInf32, negInf32
	}
	inSize, outSize := f.ih*f.iw, f.oh*f.ow
	vmax, tap0 := colMax[f.pw:f.pw+f.iw], first[f.pw:f.pw+f.iw]
	for p := lo; p < hi; p++ {
		xp := x[p*inSize : (p+1)*inSize]
		yp := y[p*outSize : (p+1)*outSize]
		for oy := 0; oy < f.oh; oy++ {
			top := oy*f.sh - f.ph
			r0, r1 := max(top, 0), min(top+f.kh, f.ih)
			rows := xp[r0*f.iw:]
			poolColMax(vmax, rows, f.iw, r1-r0)
			copy(tap0, rows[:f.iw])
			for c := 0; c < f.pw; c++ {
				first[c] = rows[0]
			}
			poolRowMax(yp[oy*f.ow:(oy+1)*f.ow], colMax[:width], first[:width], f.sw, f.kw)
		}
	}
}

// poolColMaxGo is poolColMax in Go: for each column c of dst,
//
//	dst[c] = -Inf; for r in [0, rows): if x[r*rowStride+c] > dst[c] { dst[c] = x[r*rowStride+c] }
//
// the maximum of the column's non-NaN values (-Inf when there is none). rows >= 1.
func poolColMaxGo(dst, x []float32, rowStride, rows int) {
	n := len(dst)
	row := x[:n:n]
	for c := range dst {
		best := negInf32
		if w := row[c]; w > best {
			best = w
		}
		dst[c] = best
	}
	for r := 1; r < rows; r++ {
		row = x[r*rowStride : r*rowStride+n : r*rowStride+n]
		for c, w := range row {
			if w > dst[c] {
				dst[c] = w
			}
		}
	}
}

// poolRowMaxGo is poolRowMax in Go: with v free of NaN,
//
//	best = v[j*stride]; for i in [1, k): if v[j*stride+i] > best { best = v[j*stride+i] }
//	y[j] = best > first[j*stride] ? best : first[j*stride]
//
// the window maximum, unless the window's first tap is NaN (or an equal value), which then wins.
func poolRowMaxGo(y, v, first []float32, stride, k int) {
	for j := range y {
		at := j * stride
		taps := v[at : at+k : at+k]
		best := taps[0]
		for _, w := range taps[1:] {
			if w > best {
				best = w
			}
		}
		if f := first[at]; !(best > f) {
			best = f
		}
		y[j] = best
	}
}
