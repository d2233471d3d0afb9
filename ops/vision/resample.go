package vision

import (
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// interpMode is Resize's mode attribute.
type interpMode int

const (
	modeNearest interpMode = iota
	modeLinear
	modeCubic
)

var interpModes = map[string]interpMode{"nearest": modeNearest, "linear": modeLinear, "cubic": modeCubic}

// coordMode is Resize's coordinate_transformation_mode: how an output coordinate maps to an input one.
type coordMode int

const (
	coordHalfPixel coordMode = iota
	coordHalfPixelSymmetric
	coordPytorchHalfPixel
	coordAlignCorners
	coordAsymmetric
	coordTFHalfPixelForNN
	coordTFCropAndResize
)

var coordModes = map[string]coordMode{
	"half_pixel": coordHalfPixel, "half_pixel_symmetric": coordHalfPixelSymmetric,
	"pytorch_half_pixel": coordPytorchHalfPixel, "align_corners": coordAlignCorners, "asymmetric": coordAsymmetric,
	"tf_half_pixel_for_nn": coordTFHalfPixelForNN, "tf_crop_and_resize": coordTFCropAndResize,
}

// nearestMode is Resize's nearest_mode: how a fractional input coordinate picks one element.
type nearestMode int

const (
	nearestRoundPreferFloor nearestMode = iota
	nearestRoundPreferCeil
	nearestFloor
	nearestCeil
	// nearestLegacy is what Upsample and Resize-10, which have no nearest_mode attribute, do: truncate when
	// the axis grows and round up when it shrinks. It is ONNX Runtime's rule for those opsets; ONNX's old
	// Resize-10 test (scales 0.6 on [1 2 3 4] giving [1 3]) agrees with it.
	nearestLegacy
)

var nearestModes = map[string]nearestMode{
	"round_prefer_floor": nearestRoundPreferFloor, "round_prefer_ceil": nearestRoundPreferCeil,
	"floor": nearestFloor, "ceil": nearestCeil,
}

// sampling is what an axis's tap table depends on besides the axis's own geometry.
type sampling struct {
	mode           interpMode
	coord          coordMode
	nearest        nearestMode
	cubicA         float64
	excludeOutside bool
	antialias      bool
}

// axisGeom is one axis of a resize.
type axisGeom struct {
	in, out int
	// scale is output/input as the op defines it: the scales entry, sizes/input, or the common scale of
	// keep_aspect_ratio_policy.
	scale float64
	// outF is the fractional output length scale×in that ONNX's coordinate formulas use (it differs from
	// out when floor(scale×in) dropped a fraction).
	outF             float64
	roiStart, roiEnd float64
}

// identity reports whether the axis is copied unchanged.
func (g axisGeom) identity(s *sampling) bool {
	if g.in != g.out || g.scale != 1 {
		return false
	}
	return s.coord != coordTFCropAndResize || (g.roiStart == 0 && g.roiEnd == 1)
}

// axisTable holds, for each of n output coordinates, k taps: an input index along the axis (already
// clamped to the axis) and its weight. An output coordinate that tf_crop_and_resize maps outside the input
// has idx -1 in all its taps: the output element takes the extrapolation value.
type axisTable struct {
	n, k int
	idx  []int
	w    []float64
}

// original maps output coordinate x to the input axis; inside is false when tf_crop_and_resize lands
// outside [0, in-1].
func (s *sampling) original(x float64, g axisGeom) (xo float64, inside bool) {
	in := float64(g.in)
	switch s.coord {
	case coordHalfPixelSymmetric:
		// Centre the sampled region when floor() dropped part of the fractional output length.
		adjustment := float64(g.out) / g.outF
		offset := in / 2 * (1 - adjustment)
		return offset + (x+0.5)/g.scale - 0.5, true
	case coordPytorchHalfPixel:
		if g.outF <= 1 {
			return 0, true
		}
		return (x+0.5)/g.scale - 0.5, true
	case coordAlignCorners:
		if g.outF == 1 {
			return 0, true
		}
		return x * (in - 1) / (g.outF - 1), true
	case coordAsymmetric:
		return x / g.scale, true
	case coordTFHalfPixelForNN:
		return (x + 0.5) / g.scale, true
	case coordTFCropAndResize:
		if g.outF == 1 {
			xo = 0.5 * (g.roiStart + g.roiEnd) * (in - 1)
		} else {
			xo = g.roiStart*(in-1) + x*(g.roiEnd-g.roiStart)*(in-1)/(g.outF-1)
		}
		return xo, xo >= 0 && xo <= in-1
	}
	return (x+0.5)/g.scale - 0.5, true // half_pixel
}

// nearestIndex picks the input element for coordinate xo.
func (s *sampling) nearestIndex(xo float64, g axisGeom) int {
	base := math.Floor(xo)
	ratio := xo - base
	i := base
	switch {
	case ratio == 0:
	case s.nearest == nearestRoundPreferFloor:
		if ratio > 0.5 {
			i++
		}
	case s.nearest == nearestRoundPreferCeil:
		if ratio >= 0.5 {
			i++
		}
	case s.nearest == nearestCeil:
		i++
	case s.nearest == nearestLegacy:
		if g.scale < 1 {
			i++
		}
	}
	return clampIndex(i, g.in)
}

func clampIndex(i float64, n int) int {
	switch {
	case i < 0:
		return 0
	case i > float64(n-1):
		return n - 1
	}
	return int(i)
}

// filter returns the weights of the taps around a coordinate whose floor is base and whose fraction is
// ratio in (0, 1]; tap j reads input element base+first+j. coeffs is reused as the result's storage.
func (s *sampling) filter(ratio, scale float64, coeffs []float64) (first int, w []float64) {
	w = coeffs[:0]
	if s.antialias && s.mode != modeNearest {
		// Antialiasing stretches the filter by 1/scale when shrinking, so every input element contributes.
		sc := math.Min(scale, 1)
		support := 1.0 // linear: the triangle [-1, 1]
		if s.mode == modeCubic {
			support = 2
		}
		first = int(math.Floor(-support/sc) + 1)
		last := 1 - first // the taps are symmetric around the coordinate: first..1-first
		sum := 0.0
		for i := first; i <= last; i++ {
			c := s.kernel(sc * (float64(i) - ratio))
			w = append(w, c)
			sum += c
		}
		for j := range w {
			w[j] /= sum
		}
		return first, w
	}
	switch s.mode {
	case modeLinear:
		return 0, append(w, 1-ratio, ratio)
	case modeCubic:
		// Keys' cubic convolution at distances 1+ratio, ratio, 1-ratio, 2-ratio.
		a := s.cubicA
		r1, r2 := ratio+1, 2-ratio
		return -1, append(w,
			((a*r1-5*a)*r1+8*a)*r1-4*a,
			((a+2)*ratio-(a+3))*ratio*ratio+1,
			((a+2)*(1-ratio)-(a+3))*(1-ratio)*(1-ratio)+1,
			((a*r2-5*a)*r2+8*a)*r2-4*a)
	}
	return 0, nil
}

// kernel is the continuous filter the antialiased modes sample: a triangle for linear, Keys' cubic for
// cubic.
func (s *sampling) kernel(x float64) float64 {
	x = math.Abs(x)
	if s.mode == modeLinear {
		return math.Max(0, 1-x)
	}
	a := s.cubicA
	switch {
	case x <= 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return ((a*x-5*a)*x+8*a)*x - 4*a
	}
	return 0
}

// tapCount is the number of taps per output coordinate for an axis of this scale.
func (s *sampling) tapCount(scale float64) int {
	if s.mode == modeNearest {
		return 1
	}
	if s.antialias {
		sc := math.Min(scale, 1)
		support := 1.0
		if s.mode == modeCubic {
			support = 2
		}
		first := math.Floor(-support/sc) + 1
		if first < -maxTaps { // a tiny scale: report "too many" without overflowing int
			return maxTaps + 1
		}
		return 2 - 2*int(first)
	}
	if s.mode == modeLinear {
		return 2
	}
	return 4
}

// maxTaps bounds the filter length so a tiny scale cannot ask for an absurd table; antialiasing a 1/4096
// downscale with the cubic filter needs 16384 taps.
const maxTaps = 1 << 14

// buildAxisTable computes an axis's taps.
func buildAxisTable(s *sampling, g axisGeom) axisTable {
	k := s.tapCount(g.scale)
	if g.out == 0 {
		return axisTable{k: 1}
	}
	t := axisTable{n: g.out, k: k, idx: make([]int, g.out*k), w: make([]float64, g.out*k)}
	coeffs := make([]float64, 0, k)
	for o := 0; o < g.out; o++ {
		idx, w := t.idx[o*k:(o+1)*k], t.w[o*k:(o+1)*k]
		xo, inside := s.original(float64(o), g)
		if !inside {
			for j := range idx {
				idx[j] = -1
			}
			continue
		}
		if s.mode == modeNearest {
			idx[0], w[0] = s.nearestIndex(xo, g), 1
			continue
		}
		// At an exact integer the filter is centred one step to the left with ratio 1, so all the weight
		// falls on element xo itself: ONNX's reference picks neighbours preferring the lower index.
		base := math.Floor(xo)
		ratio := xo - base
		if ratio == 0 {
			base--
			ratio = 1
		}
		first, c := s.filter(ratio, g.scale, coeffs)
		sum := 0.0
		for j, cj := range c {
			pos := base + float64(first+j)
			if s.excludeOutside && (pos < 0 || pos > float64(g.in-1)) {
				cj = 0
			}
			idx[j], w[j] = clampIndex(pos, g.in), cj
			sum += cj
		}
		if s.excludeOutside && sum != 0 {
			for j := range w {
				w[j] /= sum
			}
		}
	}
	return t.compact()
}

// compact reduces the table to one tap per coordinate when every coordinate has a single tap of weight 1
// (nearest, or linear and cubic sampling at integer positions, as on axes that do not change).
func (t axisTable) compact() axisTable {
	if t.k == 1 {
		return t
	}
	one := axisTable{n: t.n, k: 1, idx: make([]int, t.n), w: make([]float64, t.n)}
	for o := 0; o < t.n; o++ {
		found := -1
		for j := 0; j < t.k; j++ {
			i, w := t.idx[o*t.k+j], t.w[o*t.k+j]
			switch {
			case i < 0:
				found = j // extrapolated: every tap is -1
			case w == 0:
				continue
			case w != 1 || found >= 0:
				return t
			default:
				found = j
			}
		}
		if found < 0 {
			return t
		}
		one.idx[o], one.w[o] = t.idx[o*t.k+found], 1
	}
	return one
}

// isIdentity reports whether a compacted table maps every coordinate to itself.
func (t axisTable) isIdentity(in int) bool {
	if t.k != 1 || t.n != in {
		return false
	}
	for o, i := range t.idx {
		if i != o {
			return false
		}
	}
	return true
}

// maxResampledAxes bounds the axes that are actually resampled, so Run can keep the output coordinates in
// a fixed array on the stack.
const maxResampledAxes = 16

// resampleKernel is Resize and Upsample at run time. The leading axes that are copied unchanged form
// planes×inPlane input and planes×outPlane output elements; axes describes the others, with idx already
// multiplied by the axis's input stride inside a plane (-1 stays -1: extrapolate).
type resampleKernel struct {
	planes            int
	inPlane, outPlane int
	axes              []axisTable
	gather            bool // every axis has one tap of weight 1: a pure copy, for any dtype
	extrapolation     float64
	dtype             ops.DType
	intLo, intHi      float64 // the range an integer output saturates to
	scratch           int
	fast              *planes2D // float32 on the last two axes (resize_fast.go), or nil
}

// newResampleKernel builds the tables for input shape in and the given per-axis geometry.
func newResampleKernel(s *sampling, dt ops.DType, in ops.Shape, geom []axisGeom, extrapolation float64) (*resampleKernel, error) {
	tables := make([]axisTable, len(in))
	for d, g := range geom {
		if g.identity(s) {
			tables[d] = identityTable(g.in)
			continue
		}
		if k := s.tapCount(g.scale); k > maxTaps && g.out > 0 {
			return nil, ops.Unsupportedf("axis %d: scale %g would need %d filter taps per output element, over the limit of %d", d, g.scale, k, maxTaps)
		}
		tables[d] = buildAxisTable(s, g)
	}
	return newTableKernel(dt, in, tables, extrapolation)
}

// identityTable maps each of n coordinates to itself.
func identityTable(n int) axisTable {
	t := axisTable{n: n, k: 1, idx: make([]int, n), w: make([]float64, n)}
	for i := range t.idx {
		t.idx[i], t.w[i] = i, 1
	}
	return t
}

// newTableKernel builds the kernel from one tap table per axis of input shape in (the tables' idx are
// indices along their axis, or -1 for an element that takes the value extrapolation).
func newTableKernel(dt ops.DType, in ops.Shape, tables []axisTable, extrapolation float64) (*resampleKernel, error) {
	rank := len(in)
	lead := 0 // the leading axes that are copied unchanged
	for lead < rank && tables[lead].isIdentity(in[lead]) {
		lead++
	}
	k := &resampleKernel{planes: 1, inPlane: 1, outPlane: 1, extrapolation: extrapolation, dtype: dt, gather: true}
	for d := 0; d < lead; d++ {
		k.planes *= in[d]
	}
	// Axes after the leading run that are identities are kept: they cost one tap.
	for d := lead; d < rank; d++ {
		k.inPlane *= in[d]
		k.outPlane *= tables[d].n
	}
	if rank-lead > maxResampledAxes {
		return nil, ops.Unsupportedf("%d resampled axes, over the limit of %d", rank-lead, maxResampledAxes)
	}
	stride := 1
	k.axes = make([]axisTable, rank-lead)
	for d := rank - 1; d >= lead; d-- {
		t := tables[d]
		for j, i := range t.idx {
			if i >= 0 {
				t.idx[j] = i * stride
			}
		}
		if t.k != 1 {
			k.gather = false
		}
		k.axes[d-lead] = t
		stride *= in[d]
	}
	if !k.gather {
		switch {
		case dt == ops.Float16 || dt == ops.BFloat16:
			k.scratch = k.planes * (k.inPlane + k.outPlane)
		case dt.IsFloat():
		case dt.IsInteger():
			k.intLo, k.intHi = intRange(dt)
		default:
			return nil, ops.Unsupportedf("linear and cubic resampling of %s data", dt)
		}
	}
	k.fast = newPlanes2D(k)
	return k, nil
}

// ScratchSize is the float32 memory float16 and bfloat16 data are widened into.
func (k *resampleKernel) ScratchSize() int { return k.scratch }

// FLOPs counts one multiply-add per tap.
func (k *resampleKernel) FLOPs() int64 {
	taps := int64(1)
	for _, a := range k.axes {
		taps *= int64(a.k)
	}
	return int64(k.planes) * int64(k.outPlane) * taps
}

// intRange is the range of an integer dtype as float64 values that convert back without overflow.
func intRange(dt ops.DType) (lo, hi float64) {
	switch dt {
	case ops.Int8:
		return math.MinInt8, math.MaxInt8
	case ops.Int16:
		return math.MinInt16, math.MaxInt16
	case ops.Int32:
		return math.MinInt32, math.MaxInt32
	case ops.Int64:
		return math.MinInt64, math.Nextafter(math.MaxInt64, 0) // 2^63 itself does not fit
	case ops.Uint8:
		return 0, math.MaxUint8
	case ops.Uint16:
		return 0, math.MaxUint16
	case ops.Uint32:
		return 0, math.MaxUint32
	}
	return 0, math.Nextafter(math.MaxUint64, 0)
}

func (k *resampleKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	src, dst := in[0].Data(), out[0].Data()
	if k.fast != nil {
		k.fast.run(ctx.Pool, src.([]float32), dst.([]float32))
		return nil
	}
	if k.gather {
		gatherAny(k, src, dst)
		return nil
	}
	switch s := src.(type) {
	case []float32:
		weighted(k, s, dst.([]float32))
	case []float64:
		weighted(k, s, dst.([]float64))
	case []int8:
		weighted(k, s, dst.([]int8))
	case []int16:
		weighted(k, s, dst.([]int16))
	case []int32:
		weighted(k, s, dst.([]int32))
	case []int64:
		weighted(k, s, dst.([]int64))
	case []uint8:
		weighted(k, s, dst.([]uint8))
	case []uint16:
		weighted(k, s, dst.([]uint16))
	case []uint32:
		weighted(k, s, dst.([]uint32))
	case []uint64:
		weighted(k, s, dst.([]uint64))
	case []ops.Float16Bits, []ops.BFloat16Bits: // computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		weighted(k, w.In(in[0]), w.Out(out[0]))
		w.Narrow()
	}
	return nil
}

// gatherAny runs the gather kernel on whatever slice type the tensors hold.
func gatherAny(k *resampleKernel, src, dst any) {
	x := k.extrapolation
	switch s := src.(type) {
	case []float32:
		gather(k, s, dst.([]float32), float32(x))
	case []float64:
		gather(k, s, dst.([]float64), x)
	case []int8:
		gather(k, s, dst.([]int8), saturate[int8](x, math.MinInt8, math.MaxInt8))
	case []int16:
		gather(k, s, dst.([]int16), saturate[int16](x, math.MinInt16, math.MaxInt16))
	case []int32:
		gather(k, s, dst.([]int32), saturate[int32](x, math.MinInt32, math.MaxInt32))
	case []int64:
		lo, hi := intRange(ops.Int64)
		gather(k, s, dst.([]int64), saturate[int64](x, lo, hi))
	case []uint8:
		gather(k, s, dst.([]uint8), saturate[uint8](x, 0, math.MaxUint8))
	case []uint16:
		gather(k, s, dst.([]uint16), saturate[uint16](x, 0, math.MaxUint16))
	case []uint32:
		gather(k, s, dst.([]uint32), saturate[uint32](x, 0, math.MaxUint32))
	case []uint64:
		lo, hi := intRange(ops.Uint64)
		gather(k, s, dst.([]uint64), saturate[uint64](x, lo, hi))
	case []bool:
		gather(k, s, dst.([]bool), x != 0)
	case []string:
		gather(k, s, dst.([]string), "")
	case []ops.Float16Bits:
		gather(k, s, dst.([]ops.Float16Bits), ops.Float16FromFloat32(float32(x)))
	case []ops.BFloat16Bits:
		gather(k, s, dst.([]ops.BFloat16Bits), ops.BFloat16FromFloat32(float32(x)))
	case []complex64:
		gather(k, s, dst.([]complex64), complex(float32(x), 0))
	case []complex128:
		gather(k, s, dst.([]complex128), complex(x, 0))
	}
}

func saturate[T ops.Number](v, lo, hi float64) T {
	v = math.Round(v)
	switch {
	case v < lo || math.IsNaN(v):
		if math.IsNaN(v) {
			return 0
		}
		v = lo
	case v > hi:
		v = hi
	}
	return T(v)
}

// gather copies, plane by plane, the one input element each output element reads.
func gather[T any](k *resampleKernel, src, dst []T, fill T) {
	if len(k.axes) == 0 { // every axis is copied unchanged
		copy(dst, src)
		return
	}
	for p := 0; p < k.planes; p++ {
		gatherAxis(k.axes, src[p*k.inPlane:(p+1)*k.inPlane], dst[p*k.outPlane:(p+1)*k.outPlane], 0, 0, fill, false)
	}
}

// gatherAxis fills the output block of axes d.. at input offset base and returns how many elements it wrote.
func gatherAxis[T any](axes []axisTable, src, dst []T, d, base int, fill T, outside bool) int {
	a := &axes[d]
	if d == len(axes)-1 {
		dst = dst[:a.n]
		if outside {
			for o := range dst {
				dst[o] = fill
			}
			return a.n
		}
		for o, off := range a.idx {
			if off < 0 {
				dst[o] = fill
			} else {
				dst[o] = src[base+off]
			}
		}
		return a.n
	}
	pos := 0
	for _, off := range a.idx {
		pos += gatherAxis(axes, src, dst[pos:], d+1, base+max(off, 0), fill, outside || off < 0)
	}
	return pos
}

// weighted computes every output element as the sum over its taps' tensor product.
func weighted[T ops.Number](k *resampleKernel, src, dst []T) {
	var oBuf [maxResampledAxes]int
	m := len(k.axes)
	o := oBuf[:m]
	last := &k.axes[m-1]
	if last.n == 0 || k.outPlane == 0 {
		return
	}
	isInt := k.intLo != 0 || k.intHi != 0
	fill := store[T](k.extrapolation, isInt, k.intLo, k.intHi)
	for p := 0; p < k.planes; p++ {
		x := src[p*k.inPlane : (p+1)*k.inPlane]
		y := dst[p*k.outPlane : (p+1)*k.outPlane]
		if m == 2 { // the common case (H and W of an image): no recursion
			weighted2D(&k.axes[0], last, x, y, fill, isInt, k.intLo, k.intHi)
			continue
		}
		for i := range o {
			o[i] = 0
		}
		for row := 0; row < len(y); row += last.n {
			outside := false
			for d := 0; d < m-1; d++ {
				a := &k.axes[d]
				if a.idx[o[d]*a.k] < 0 {
					outside = true
				}
			}
			yr := y[row : row+last.n]
			for ol := range yr {
				o[m-1] = ol
				if outside || last.idx[ol*last.k] < 0 {
					yr[ol] = fill
					continue
				}
				yr[ol] = store[T](sumTaps(k.axes, x, o, 0, 0), isInt, k.intLo, k.intHi)
			}
			// Advance the output coordinates of the outer axes, innermost first.
			for d := m - 2; d >= 0; d-- {
				o[d]++
				if o[d] < k.axes[d].n {
					break
				}
				o[d] = 0
			}
		}
	}
}

// weighted2D is weighted for one plane of two resampled axes.
func weighted2D[T ops.Number](ay, ax *axisTable, x, y []T, fill T, isInt bool, lo, hi float64) {
	ky, kx := ay.k, ax.k
	for oy := 0; oy < ay.n; oy++ {
		yr := y[oy*ax.n : (oy+1)*ax.n]
		yi, yw := ay.idx[oy*ky:(oy+1)*ky], ay.w[oy*ky:(oy+1)*ky]
		if yi[0] < 0 {
			for ox := range yr {
				yr[ox] = fill
			}
			continue
		}
		for ox := range yr {
			xi, xw := ax.idx[ox*kx:(ox+1)*kx], ax.w[ox*kx:(ox+1)*kx]
			if xi[0] < 0 {
				yr[ox] = fill
				continue
			}
			acc := 0.0
			for ty, row := range yi {
				if yw[ty] == 0 {
					continue
				}
				r := x[row:]
				s := 0.0
				for tx, col := range xi {
					s += xw[tx] * float64(r[col])
				}
				acc += yw[ty] * s
			}
			yr[ox] = store[T](acc, isInt, lo, hi)
		}
	}
}

// sumTaps returns the weighted sum over the taps of axes d.. at output coordinates o, from input offset base.
func sumTaps[T ops.Number](axes []axisTable, x []T, o []int, d, base int) float64 {
	a := &axes[d]
	j0 := o[d] * a.k
	idx, w := a.idx[j0:j0+a.k], a.w[j0:j0+a.k]
	acc := 0.0
	if d == len(axes)-1 {
		for j, off := range idx {
			acc += w[j] * float64(x[base+off])
		}
		return acc
	}
	for j, off := range idx {
		if w[j] != 0 {
			acc += w[j] * sumTaps(axes, x, o, d+1, base+off)
		}
	}
	return acc
}

// store converts a result to the output dtype: integers round to nearest and saturate.
func store[T ops.Number](v float64, isInt bool, lo, hi float64) T {
	if isInt {
		return saturate[T](v, lo, hi)
	}
	return T(v)
}
