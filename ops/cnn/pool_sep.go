package cnn

// The separable pools: a k×k maximum is the maximum over kw columns of the maxima over kh rows (and a sum
// the sum of the column sums, divided by the window's count as the reference does), so each
// output row costs one vertical pass over the input rows its windows cover (kh loads a column, vectorised
// along x) and one horizontal pass of kw taps an output, kh+kw operations where the direct walk takes
// kh*kw (25 → 10 for SPPF's 5x5). The padding is handled outside the inner loops: rows are clipped to the
// input, and the vertical maxima are laid in a row padded with -Inf on both sides, so every output column,
// border or not, runs the same horizontal loop. Any kernel size, strides 1 and 2 along x, any stride
// along y, ceil_mode (clipped like the padding); dilations go to the general path.
//
// AveragePool sums each column's rows, then each window's columns: another order than the reference's
// row-major walk, so results differ from it by rounding (within 1e-6 relative in the tests), never by
// more. The count comes from the geometry, with or without count_include_pad (windowCount).
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

// separableFits says whether the separable pool covers f: MaxPool or AveragePool, no dilation, stride 1
// or 2 along x, and a padded row that fits poolSepWidth.
func (f *fastPoolKernel) separableFits() bool {
	return f.dh == 1 && f.dw == 1 && (f.sw == 1 || f.sw == 2) && f.sepRowWidth() <= poolSepWidth
}

// sepRowWidth is the padded row length the horizontal pass reads: the last window's end plus the 16
// elements an 8-output stride-2 block may read past its last tap.
func (f *fastPoolKernel) sepRowWidth() int { return (f.ow-1)*f.sw + f.kw + 16 }

// windowCount is the taps AveragePool divides by along one axis for output o: those inside the input, or
// with count_include_pad inside the padded input (never the cells only ceil_mode adds), as the reference.
func windowCount(o, stride, k, padBegin, in, padEnd int, includePad bool) int {
	lo, hi := o*stride-padBegin, o*stride-padBegin+k
	if includePad {
		return min(hi, in+padEnd) - max(lo, -padBegin)
	}
	return min(hi, in) - max(lo, 0)
}

// separablePlanes pools planes [lo, hi) with the separable passes.
func (f *fastPoolKernel) separablePlanes(x, y []float32, lo, hi int) {
	var colAcc, first [poolSepWidth]float32
	width := f.sepRowWidth()
	sum := !f.max
	// colAcc[pw+c] is column c's maximum (sum) over the window's rows, the padding around it -Inf (0). For
	// MaxPool first[pw+c] is the window's first tap when the window starts at column c, or at column 0 for
	// a window starting in the left padding, -Inf outside the input; for AveragePool first[ox*sw] is the
	// count output column ox divides by.
	pad := negInf32
	if sum {
		pad = 0
	}
	for c := 0; c < width; c++ {
		colAcc[c], first[c] = pad, negInf32
	}
	w := &f.ref.s.win
	includePad := f.ref.op.countIncludePad
	inSize, outSize := f.ih*f.iw, f.oh*f.ow
	acc, tap0 := colAcc[f.pw:f.pw+f.iw], first[f.pw:f.pw+f.iw]
	countY := -1
	for p := lo; p < hi; p++ {
		xp := x[p*inSize : (p+1)*inSize]
		yp := y[p*outSize : (p+1)*outSize]
		for oy := 0; oy < f.oh; oy++ {
			top := oy*f.sh - f.ph
			r0, r1 := max(top, 0), min(top+f.kh, f.ih)
			rows := xp[r0*f.iw:]
			poolColPass(acc, rows, f.iw, r1-r0, sum)
			if !sum {
				copy(tap0, rows[:f.iw])
				for c := 0; c < f.pw; c++ {
					first[c] = rows[0]
				}
			} else if cy := windowCount(oy, f.sh, f.kh, f.ph, f.ih, w.padEnd[0], includePad); cy != countY {
				countY = cy
				for ox := 0; ox < f.ow; ox++ {
					first[ox*f.sw] = float32(cy * windowCount(ox, f.sw, f.kw, f.pw, f.iw, w.padEnd[1], includePad))
				}
			}
			poolRowPass(yp[oy*f.ow:(oy+1)*f.ow], colAcc[:width], first[:width], f.sw, f.kw, sum)
		}
	}
}

// poolColPassGo is poolColPass in Go: for each column c of dst, with max
//
//	dst[c] = -Inf; for r in [0, rows): if x[r*rowStride+c] > dst[c] { dst[c] = x[r*rowStride+c] }
//
// the maximum of the column's non-NaN values (-Inf when there is none), or with sum
//
//	dst[c] = 0; for r in [0, rows): dst[c] = x[r*rowStride+c] + dst[c]
//
// rows >= 1.
func poolColPassGo(dst, x []float32, rowStride, rows int, sum bool) {
	n := len(dst)
	for c := range dst {
		if sum {
			dst[c] = 0
		} else {
			dst[c] = negInf32
		}
	}
	for r := 0; r < rows; r++ {
		row := x[r*rowStride : r*rowStride+n : r*rowStride+n]
		for c, w := range row {
			switch {
			case sum:
				dst[c] = w + dst[c]
			case w > dst[c]:
				dst[c] = w
			}
		}
	}
}

// poolRowPassGo is poolRowPass in Go: with v free of NaN for max,
//
//	acc = v[j*stride]; for i in [1, k): acc = v[j*stride+i] > acc ? v[j*stride+i] : acc   (max)
//	                                    acc = v[j*stride+i] + acc                           (sum)
//	y[j] = acc > first[j*stride] ? acc : first[j*stride]    (max: the window's first tap wins if NaN or equal)
//	y[j] = acc / first[j*stride]                            (sum: first holds the count)
func poolRowPassGo(y, v, first []float32, stride, k int, sum bool) {
	for j := range y {
		at := j * stride
		taps := v[at : at+k : at+k]
		acc := taps[0]
		for _, w := range taps[1:] {
			switch {
			case sum:
				acc = w + acc
			case w > acc:
				acc = w
			}
		}
		f := first[at]
		switch {
		case sum:
			acc /= f
		case !(acc > f):
			acc = f
		}
		y[j] = acc
	}
}
