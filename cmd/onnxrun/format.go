package main

import (
	"math"
	"strconv"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// numpy's default print options, which formatArray follows so that onnxrun prints a tensor the way
// print(array) does in Python: what people compare against.
const (
	printThreshold = 1000 // more elements than this and each axis shows only its edges
	printEdgeItems = 3    // elements shown at each end of a summarised axis
	printLineWidth = 75
	printPrecision = 8 // at most this many fractional digits for floats
)

// formatArray renders t as numpy's str(array) does with the default print options: rows wrapped at 75
// columns with a one-space hanging indent, blank lines between blocks of higher axes, and "..." in place
// of all but the first and last 3 entries of each axis when the tensor has more than 1000 elements.
// The element format is chosen from the elements shown, as numpy does: floats positional with up to 8
// fractional digits (the shortest that identify each value, aligned on the point) unless their range
// calls for scientific notation; integers right-aligned; bools as True/False.
func formatArray(t *ops.Tensor) string {
	shape := t.Shape()
	if t.Len() == 0 {
		return "[]"
	}
	if len(shape) == 0 {
		return formatScalar(t)
	}
	summarize := t.Len() > printThreshold
	// The indices shown on each axis; the element format is fitted to these elements only.
	shownAxes := make([][]int, len(shape))
	for k, n := range shape {
		if summarize && n > 2*printEdgeItems {
			shownAxes[k] = []int{0, 1, 2, n - 3, n - 2, n - 1}
		} else {
			shownAxes[k] = make([]int, n)
			for i := range shownAxes[k] {
				shownAxes[k][i] = i
			}
		}
	}
	strides := shape.Strides()
	var shown []int
	var collect func(axis, offset int)
	collect = func(axis, offset int) {
		if axis == len(shape) {
			shown = append(shown, offset)
			return
		}
		for _, i := range shownAxes[axis] {
			collect(axis+1, offset+i*strides[axis])
		}
	}
	collect(0, 0)
	p := arrayPrinter{shape: shape, strides: strides, summarize: summarize, elem: newElemFormatter(t, shown)}
	return p.recurse(0, 0, " ", printLineWidth)
}

// arrayPrinter lays out elements as numpy's _formatArray does.
type arrayPrinter struct {
	shape     ops.Shape
	strides   []int
	summarize bool
	elem      func(flat int) string
}

// recurse renders the sub-array at axis whose first element is at flat offset, with hanging as the
// prefix of continuation lines and width the columns available.
func (p *arrayPrinter) recurse(axis, offset int, hanging string, width int) string {
	if axis == len(p.shape) {
		return p.elem(offset)
	}
	const separator = " "
	nextHanging := hanging + " "
	nextWidth := width - len("]")
	n := p.shape[axis]
	showSummary := p.summarize && 2*printEdgeItems < n
	leading, trailing := 0, n
	if showSummary {
		leading, trailing = printEdgeItems, printEdgeItems
	}
	child := func(i int) string {
		return p.recurse(axis+1, offset+i*p.strides[axis], nextHanging, nextWidth)
	}
	var s strings.Builder
	if axis == len(p.shape)-1 {
		// The last axis: elements on lines, wrapped before they would pass the width.
		elemWidth := width - max(len(strings.TrimRight(separator, " ")), len("]"))
		line := hanging
		add := func(word string) {
			// Wrapping does not help when the line holds nothing but the indent.
			if len(line)+len(word) > elemWidth && len(line) > len(hanging) {
				s.WriteString(strings.TrimRight(line, " "))
				s.WriteByte('\n')
				line = hanging
			}
			line += word
		}
		for i := range leading {
			add(child(i))
			line += separator
		}
		if showSummary {
			add("...")
			line += separator
		}
		for i := trailing; i > 1; i-- {
			add(child(n - i))
			line += separator
		}
		add(child(n - 1))
		s.WriteString(line)
	} else {
		// Higher axes: one sub-array per line, separated by as many newlines as axes remain below.
		lineSep := strings.TrimRight(separator, " ") + strings.Repeat("\n", len(p.shape)-axis-1)
		for i := range leading {
			s.WriteString(hanging + child(i) + lineSep)
		}
		if showSummary {
			s.WriteString(hanging + "..." + lineSep)
		}
		for i := trailing; i > 1; i-- {
			s.WriteString(hanging + child(n-i) + lineSep)
		}
		s.WriteString(hanging + child(n-1))
	}
	return "[" + s.String()[len(hanging):] + "]"
}

// newElemFormatter fits an element format to the elements at the flat indices shown and returns it.
func newElemFormatter(t *ops.Tensor, shown []int) func(int) string {
	switch d := t.Data().(type) {
	case []float32:
		return newFloatFormat(shown, func(i int) float64 { return float64(d[i]) }, 32).format
	case []float64:
		return newFloatFormat(shown, func(i int) float64 { return d[i] }, 64).format
	case []ops.Float16Bits:
		return newFloatFormat(shown, func(i int) float64 { return float64(d[i].Float32()) }, 16).format
	case []ops.BFloat16Bits:
		return newFloatFormat(shown, func(i int) float64 { return float64(d[i].Float32()) }, -16).format
	case []int8:
		return intFormat(shown, func(i int) string { return strconv.FormatInt(int64(d[i]), 10) })
	case []int16:
		return intFormat(shown, func(i int) string { return strconv.FormatInt(int64(d[i]), 10) })
	case []int32:
		return intFormat(shown, func(i int) string { return strconv.FormatInt(int64(d[i]), 10) })
	case []int64:
		return intFormat(shown, func(i int) string { return strconv.FormatInt(d[i], 10) })
	case []uint8:
		return intFormat(shown, func(i int) string { return strconv.FormatUint(uint64(d[i]), 10) })
	case []uint16:
		return intFormat(shown, func(i int) string { return strconv.FormatUint(uint64(d[i]), 10) })
	case []uint32:
		return intFormat(shown, func(i int) string { return strconv.FormatUint(uint64(d[i]), 10) })
	case []uint64:
		return intFormat(shown, func(i int) string { return strconv.FormatUint(d[i], 10) })
	case []bool:
		return func(i int) string {
			if d[i] {
				return " True"
			}
			return "False"
		}
	case []string:
		return intFormat(shown, func(i int) string { return "'" + strings.ReplaceAll(d[i], "'", `\'`) + "'" })
	case []complex64:
		return intFormat(shown, func(i int) string { return strconv.FormatComplex(complex128(d[i]), 'g', -1, 64) })
	case []complex128:
		return intFormat(shown, func(i int) string { return strconv.FormatComplex(d[i], 'g', -1, 128) })
	}
	return func(int) string { return "?" }
}

// intFormat right-aligns every element to the widest one shown (numpy's IntegerFormat).
func intFormat(shown []int, str func(int) string) func(int) string {
	width := 0
	for _, i := range shown {
		width = max(width, len(str(i)))
	}
	return func(i int) string {
		s := str(i)
		return strings.Repeat(" ", max(0, width-len(s))) + s
	}
}

// floatFormat is numpy's FloatingFormat in its default mode (floatmode "maxprec", sign "-").
type floatFormat struct {
	value    func(int) float64
	bits     int // 64, 32, 16 (IEEE half) or -16 (bfloat16): the precision whose shortest digits to print
	exp      bool
	frac     int // scientific: fractional digits of every mantissa
	padLeft  int // width of the integer part (with sign)
	padRight int // positional: width of the fractional part; scientific: of fraction and exponent
	expSize  int // digits of the exponent
}

// newFloatFormat makes numpy's two passes: decide between positional and scientific notation from the
// finite values shown, then measure the widest integer and fractional parts so that every element
// lines up.
func newFloatFormat(shown []int, value func(int) float64, bits int) *floatFormat {
	f := &floatFormat{value: value, bits: bits}
	var finite []float64
	minAbs, maxAbs := math.Inf(1), 0.0
	hasNegInf, hasNonFinite := false, false
	for _, i := range shown {
		v := value(i)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			hasNonFinite = true
			hasNegInf = hasNegInf || math.IsInf(v, -1)
			continue
		}
		finite = append(finite, v)
		if a := math.Abs(v); a != 0 {
			minAbs, maxAbs = min(minAbs, a), max(maxAbs, a)
		}
	}
	if maxAbs > 0 {
		f.exp = maxAbs >= 1e8 || minAbs < 1e-4 || maxAbs/minAbs > 1e3
	}
	for _, v := range finite {
		if f.exp {
			mant, expo := splitExp(f.shortestExp(v))
			intPart, frac, _ := strings.Cut(mant, ".")
			f.padLeft = max(f.padLeft, len(intPart))
			f.frac = max(f.frac, len(frac))
			f.expSize = max(f.expSize, len(expo)-1)
		} else {
			intPart, frac, _ := strings.Cut(f.shortestPos(v), ".")
			f.padLeft = max(f.padLeft, len(intPart))
			f.padRight = max(f.padRight, len(frac))
		}
	}
	if f.exp {
		f.padRight = f.expSize + 2 + f.frac
	}
	if hasNonFinite {
		infLen := len("inf")
		if hasNegInf {
			infLen++
		}
		offset := f.padRight + 1
		f.padLeft = max(f.padLeft, len("nan")-offset, infLen-offset)
	}
	return f
}

// shortest returns v rounded to the element type and the bit size to give strconv: float16 and bfloat16
// values become the float64 of their shortest decimal, whose own shortest form has the same digits.
func (f *floatFormat) shortest(v float64) (float64, int) {
	switch f.bits {
	case 16, -16:
		for prec := 0; prec < 17; prec++ {
			s := strconv.FormatFloat(v, 'e', prec, 64)
			p, _ := strconv.ParseFloat(s, 64)
			if f.roundsTo(p, v) {
				return p, 64
			}
		}
		return v, 64
	}
	return v, f.bits
}

// roundsTo reports whether p, rounded to the element type, is v.
func (f *floatFormat) roundsTo(p, v float64) bool {
	if f.bits == 16 {
		return ops.Float16FromFloat32(float32(p)).Float32() == float32(v)
	}
	return ops.BFloat16FromFloat32(float32(p)).Float32() == float32(v)
}

// shortestPos is the positional form with the fewest digits that identify v, rounded to 8 fractional
// digits when it needs more.
func (f *floatFormat) shortestPos(v float64) string {
	sv, bits := f.shortest(v)
	s := strconv.FormatFloat(sv, 'f', -1, bits)
	if _, frac, _ := strings.Cut(s, "."); len(frac) > printPrecision {
		s = strings.TrimRight(strconv.FormatFloat(v, 'f', printPrecision, 64), "0")
	}
	return s
}

// shortestExp is the scientific form with the fewest digits that identify v (at most 8 after the point).
func (f *floatFormat) shortestExp(v float64) string {
	sv, bits := f.shortest(v)
	s := strconv.FormatFloat(sv, 'e', -1, bits)
	mant, expo := splitExp(s)
	if _, frac, _ := strings.Cut(mant, "."); len(frac) > printPrecision {
		mant, expo = splitExp(strconv.FormatFloat(v, 'e', printPrecision, 64))
		mant = strings.TrimRight(mant, "0")
	}
	return mant + "e" + expo
}

// splitExp splits "1.5e-05" into "1.5" and "-05".
func splitExp(s string) (mant, expo string) {
	mant, expo, _ = strings.Cut(s, "e")
	return mant, expo
}

func (f *floatFormat) format(i int) string {
	v := f.value(i)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		s := "nan"
		if math.IsInf(v, 1) {
			s = "inf"
		} else if math.IsInf(v, -1) {
			s = "-inf"
		}
		return strings.Repeat(" ", max(0, f.padLeft+f.padRight+1-len(s))) + s
	}
	if f.exp {
		s := f.shortestExp(v)
		mant, expo := splitExp(s)
		if _, frac, _ := strings.Cut(mant, "."); len(frac) < f.frac {
			// Further digits come from the value itself, as numpy's min_digits gives them.
			mant, expo = splitExp(strconv.FormatFloat(v, 'e', f.frac, 64))
		}
		intPart, frac, _ := strings.Cut(mant, ".")
		sign, digits := expo[:1], expo[1:]
		digits = strings.Repeat("0", max(0, f.expSize-len(digits))) + digits
		return pad(intPart, f.padLeft) + "." + frac + "e" + sign + digits
	}
	intPart, frac, _ := strings.Cut(f.shortestPos(v), ".")
	return pad(intPart, f.padLeft) + "." + frac + strings.Repeat(" ", max(0, f.padRight-len(frac)))
}

func pad(s string, width int) string {
	return strings.Repeat(" ", max(0, width-len(s))) + s
}

// formatScalar renders a rank-0 tensor as numpy's str does for a 0-d array: the value alone, floats in
// their shortest form ("3.25", "1.0", "1e-05").
func formatScalar(t *ops.Tensor) string {
	if !t.DType().IsFloat() {
		return strings.TrimLeft(newElemFormatter(t, []int{0})(0), " ")
	}
	v := t.AsFloat64s()[0]
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	bits := map[ops.DType]int{ops.Float32: 32, ops.Float64: 64, ops.Float16: 16, ops.BFloat16: -16}[t.DType()]
	f := &floatFormat{bits: bits}
	sv, b := f.shortest(v)
	if a := math.Abs(v); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(sv, 'e', -1, b)
	}
	s := strconv.FormatFloat(sv, 'f', -1, b)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
