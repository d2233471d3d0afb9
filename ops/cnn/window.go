package cnn

import (
	"fmt"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

// autoPad is the auto_pad attribute of Conv, ConvTranspose and the pools.
type autoPad uint8

const (
	autoPadNotSet    autoPad = iota // explicit pads (default 0)
	autoPadSameUpper                // output = ceil(in/stride); an odd total padding puts the extra cell at the end
	autoPadSameLower                // the same, with the extra cell at the beginning
	autoPadValid                    // no padding
)

var autoPadNames = [...]string{"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"}

func (a autoPad) String() string { return autoPadNames[a] }

func parseAutoPad(s string) (autoPad, error) {
	for i, name := range autoPadNames {
		if s == name {
			return autoPad(i), nil
		}
	}
	return 0, &ops.AttrError{Name: "auto_pad", Msg: fmt.Sprintf("is %q, want one of %s", s, strings.Join(autoPadNames[:], ", "))}
}

// windowAttrs is a sliding-window op's geometry as its node states it. A list is nil when the attribute is
// absent; its length is checked against the spatial rank once the input shape is known (Conv may take its
// kernel shape from W).
type windowAttrs struct {
	kernel    []int // kernel_shape
	strides   []int
	pads      []int // [x1_begin, x2_begin, ..., x1_end, x2_end, ...]
	dilations []int
	autoPad   autoPad
	ceilMode  bool // pools only: round the output size up (see resolve)
	// padsLessThanKernel makes resolve require every pad to be smaller than the (dilated) kernel, as pooling
	// ops do: a window made only of padding has no value to take.
	padsLessThanKernel bool
}

// readWindowAttrs reads kernel_shape, strides, pads, dilations, auto_pad and (withCeil) ceil_mode, and
// checks each value on its own: the kernel, strides and dilations must be positive, the pads non-negative.
func readWindowAttrs(r *ops.AttrReader, withCeil bool) (windowAttrs, error) {
	var a windowAttrs
	a.kernel = kernelutil.IntsToInt(r.Ints("kernel_shape", nil))
	a.strides = kernelutil.IntsToInt(r.Ints("strides", nil))
	a.pads = kernelutil.IntsToInt(r.Ints("pads", nil))
	a.dilations = kernelutil.IntsToInt(r.Ints("dilations", nil))
	autoPadName := r.String("auto_pad", "NOTSET")
	if withCeil {
		a.ceilMode = r.Int("ceil_mode", 0) != 0
	}
	if err := r.Err(); err != nil {
		return a, err
	}
	var err error
	if a.autoPad, err = parseAutoPad(autoPadName); err != nil {
		return a, err
	}
	positive := func(name string, v []int) error {
		for i, x := range v {
			if x <= 0 {
				return &ops.AttrError{Name: name, Msg: fmt.Sprintf("is %v: value %d (axis %d) must be positive", v, x, i)}
			}
		}
		return nil
	}
	if err := positive("kernel_shape", a.kernel); err != nil {
		return a, err
	}
	if err := positive("strides", a.strides); err != nil {
		return a, err
	}
	if err := positive("dilations", a.dilations); err != nil {
		return a, err
	}
	if len(a.pads)%2 != 0 {
		return a, &ops.AttrError{Name: "pads", Msg: fmt.Sprintf("is %v: want an even count (a begin and an end per axis)", a.pads)}
	}
	for i, p := range a.pads {
		if p < 0 {
			return a, &ops.AttrError{Name: "pads", Msg: fmt.Sprintf("is %v: value %d (position %d) is negative", a.pads, p, i)}
		}
	}
	return a, nil
}

// window is the resolved geometry of a sliding window over one input spatial shape. All sizes are integers
// and every formula below uses integer arithmetic only.
type window struct {
	in, out          []int // spatial sizes of the input and the output
	kernel           []int
	stride, dilation []int
	padBegin, padEnd []int
}

// rank is the number of spatial axes.
func (w *window) rank() int { return len(w.in) }

// effectiveKernel is the extent of axis i's kernel once dilated: (k-1)*d + 1.
func (w *window) effectiveKernel(i int) int { return (w.kernel[i]-1)*w.dilation[i] + 1 }

// ceilDiv is ceil(a/b) for a >= 0, b > 0.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

// listFor returns v, or def repeated rank times when v is nil, checking its length.
func listFor(name string, v []int, rank, def int) ([]int, error) {
	if v == nil {
		out := make([]int, rank)
		for i := range out {
			out[i] = def
		}
		return out, nil
	}
	if len(v) != rank {
		return nil, ops.Invalidf("%s has %d values %v for %d spatial axes", name, len(v), v, rank)
	}
	return append([]int(nil), v...), nil
}

// resolve computes the output spatial shape and the actual pads for input spatial shape in. kernel is the
// kernel shape (the attribute, or W's spatial dims for Conv).
//
// With explicit pads (auto_pad NOTSET), along each axis
//
//	out = floor((in + padBegin + padEnd - effectiveKernel) / stride) + 1
//
// or, with ceil_mode, the same with ceil, minus one when the last window would start in the end padding
// (ONNX and PyTorch ignore such windows). SAME_UPPER and SAME_LOWER give out = ceil(in / stride) with a total
// padding of max(0, (out-1)*stride + effectiveKernel - in) split in two, the odd cell going to the end
// (SAME_UPPER) or the beginning (SAME_LOWER). VALID pads nothing: out = floor((in - effectiveKernel) /
// stride) + 1. ceil_mode only affects explicit padding, as the spec's formulas for auto_pad say.
func (a *windowAttrs) resolve(in, kernel []int) (window, error) {
	rank := len(in)
	w := window{in: append([]int(nil), in...)}
	if len(kernel) != rank {
		return w, ops.Invalidf("kernel_shape %v has %d axes, the input has %d spatial axes (spatial shape %v)", kernel, len(kernel), rank, in)
	}
	for i, k := range kernel {
		// Conv and ConvTranspose take the kernel from W's dims, which no attribute check has seen.
		if k < 1 {
			return w, ops.Invalidf("kernel shape %v: axis %d is %d, must be positive", kernel, i, k)
		}
	}
	w.kernel = append([]int(nil), kernel...)
	var err error
	if w.stride, err = listFor("strides", a.strides, rank, 1); err != nil {
		return w, err
	}
	if w.dilation, err = listFor("dilations", a.dilations, rank, 1); err != nil {
		return w, err
	}
	w.padBegin, w.padEnd = make([]int, rank), make([]int, rank)
	w.out = make([]int, rank)
	if a.autoPad == autoPadNotSet && a.pads != nil {
		if len(a.pads) != 2*rank {
			return w, ops.Invalidf("pads has %d values %v, want %d (a begin and an end for each of %d spatial axes)", len(a.pads), a.pads, 2*rank, rank)
		}
		copy(w.padBegin, a.pads[:rank])
		copy(w.padEnd, a.pads[rank:])
	}
	for i := 0; i < rank; i++ {
		ek := w.effectiveKernel(i)
		s := w.stride[i]
		switch a.autoPad {
		case autoPadNotSet:
			span := in[i] + w.padBegin[i] + w.padEnd[i] - ek
			if span < 0 {
				return w, ops.Invalidf("axis %d: input size %d + pads %d+%d is smaller than the dilated kernel %d (kernel %d, dilation %d): the output would be empty",
					i, in[i], w.padBegin[i], w.padEnd[i], ek, w.kernel[i], w.dilation[i])
			}
			if a.ceilMode {
				w.out[i] = ceilDiv(span, s) + 1
				// A window that would start in the end padding (or past it) is dropped.
				if (w.out[i]-1)*s >= in[i]+w.padBegin[i] {
					w.out[i]--
				}
			} else {
				w.out[i] = span/s + 1
			}
		case autoPadValid:
			span := in[i] - ek
			if span < 0 {
				return w, ops.Invalidf("axis %d: input size %d is smaller than the dilated kernel %d (kernel %d, dilation %d) with auto_pad VALID: the output would be empty",
					i, in[i], ek, w.kernel[i], w.dilation[i])
			}
			w.out[i] = span/s + 1
		case autoPadSameUpper, autoPadSameLower:
			w.out[i] = ceilDiv(in[i], s)
			total := max(0, (w.out[i]-1)*s+ek-in[i])
			if a.autoPad == autoPadSameUpper {
				w.padBegin[i] = total / 2
			} else {
				w.padBegin[i] = total - total/2
			}
			w.padEnd[i] = total - w.padBegin[i]
		}
		if w.out[i] <= 0 {
			return w, ops.Invalidf("axis %d: input size %d gives an empty output (kernel %d, stride %d, dilation %d, pads %d+%d)",
				i, in[i], w.kernel[i], s, w.dilation[i], w.padBegin[i], w.padEnd[i])
		}
		if a.padsLessThanKernel && (w.padBegin[i] >= ek || w.padEnd[i] >= ek) {
			return w, ops.Invalidf("axis %d: pads %d+%d must each be smaller than the dilated kernel %d, or a window would hold only padding",
				i, w.padBegin[i], w.padEnd[i], ek)
		}
	}
	return w, nil
}

// Codes a gather table holds instead of an input offset when a tap falls outside the input.
const (
	tapPad  = -1 // the tap reads padding (explicit, or added by SAME_*)
	tapCeil = -2 // the tap lies past the end padding, in the part of a window ceil_mode added
)

// gather lowers a sliding window to index tables, so kernels walk flat arrays instead of N-D coordinates.
//
// A window position p and a kernel tap k (both flat, row-major over the spatial axes) address one cell of
// the other tensor (the input for Conv and the pools, the output for ConvTranspose). For an interior
// position, where every tap is in range, that cell's offset is origin[p] + tapOffset[k]. A border position
// (border[p] >= 0) has its own row of taps in borderTaps, each an offset or one of the codes tapPad and
// tapCeil. Only border positions pay for a full row, so the tables stay about the size of the output.
type gather struct {
	positions  int
	taps       int
	tapOffset  []int32 // [taps]
	origin     []int32 // [positions]; meaningful for interior positions
	border     []int32 // [positions]: -1 for interior positions, else the row in borderTaps
	borderTaps []int32 // [rows*taps]
}

// isIdentity reports whether the window is 1x1 with stride 1 and no padding: position p reads cell p.
func (g *gather) isIdentity(cells int) bool {
	if g.taps != 1 || g.positions != cells || g.tapOffset[0] != 0 {
		return false
	}
	for p := 0; p < g.positions; p++ {
		if g.border[p] >= 0 || int(g.origin[p]) != p {
			return false
		}
	}
	return true
}

// row returns the offsets of position p's taps in dst (len taps), codes included.
func (g *gather) row(p int, dst []int32) []int32 {
	if r := g.border[p]; r >= 0 {
		return g.borderTaps[int(r)*g.taps : int(r+1)*g.taps]
	}
	base := g.origin[p]
	for k, t := range g.tapOffset {
		dst[k] = base + t
	}
	return dst
}

// axisWalk is one spatial axis of a window walk: coordinate(p, k) is the cell that position p reaches with
// tap k along this axis (>= 0) or a negative code, and taps advance by step cells.
type axisWalk struct {
	positions, taps, step int
	coord                 []int // [p*taps + k]
}

// buildGather combines per-axis walks into a gather over a tensor whose spatial shape is dims.
func buildGather(axes []axisWalk, dims []int) *gather {
	rank := len(axes)
	strides := ops.Shape(dims).Strides()
	g := &gather{positions: 1, taps: 1}
	posDims, tapDims := make([]int, rank), make([]int, rank)
	for a, ax := range axes {
		g.positions *= ax.positions
		g.taps *= ax.taps
		posDims[a], tapDims[a] = ax.positions, ax.taps
	}
	g.tapOffset = make([]int32, g.taps)
	tapIdx := make([]int, rank)
	for k := 0; k < g.taps; k++ {
		off := 0
		for a, ax := range axes {
			off += tapIdx[a] * ax.step * strides[a]
		}
		g.tapOffset[k] = int32(off)
		kernelutil.NextIndex(tapIdx, tapDims)
	}
	// interior[a][p] says whether every tap of position p is in range along axis a.
	interior := make([][]bool, rank)
	for a, ax := range axes {
		interior[a] = make([]bool, ax.positions)
		for p := 0; p < ax.positions; p++ {
			ok := true
			for k := 0; k < ax.taps; k++ {
				if ax.coord[p*ax.taps+k] < 0 {
					ok = false
					break
				}
			}
			interior[a][p] = ok
		}
	}
	g.origin = make([]int32, g.positions)
	g.border = make([]int32, g.positions)
	posIdx := make([]int, rank)
	for p := 0; p < g.positions; p++ {
		isInterior := true
		off := 0
		for a, ax := range axes {
			isInterior = isInterior && interior[a][posIdx[a]]
			off += ax.coord[posIdx[a]*ax.taps] * strides[a]
		}
		if isInterior {
			g.origin[p], g.border[p] = int32(off), -1
		} else {
			g.border[p] = int32(len(g.borderTaps) / g.taps)
			for i := range tapIdx {
				tapIdx[i] = 0
			}
			for k := 0; k < g.taps; k++ {
				off, code := 0, 0
				for a, ax := range axes {
					c := ax.coord[posIdx[a]*ax.taps+tapIdx[a]]
					if c < 0 {
						code = min(code, c)
					} else {
						off += c * strides[a]
					}
				}
				if code < 0 {
					off = code
				}
				g.borderTaps = append(g.borderTaps, int32(off))
				kernelutil.NextIndex(tapIdx, tapDims)
			}
		}
		kernelutil.NextIndex(posIdx, posDims)
	}
	return g
}

// gatherInput lowers the window to a gather over the input: output position o, tap k reads input cell
// o*stride + k*dilation - padBegin along each axis. Cells before the input or after it but within padEnd
// are tapPad; cells past the end padding (only ceil_mode makes them) are tapCeil.
func (w *window) gatherInput() *gather {
	axes := make([]axisWalk, w.rank())
	for a := range axes {
		ax := axisWalk{positions: w.out[a], taps: w.kernel[a], step: w.dilation[a]}
		ax.coord = make([]int, ax.positions*ax.taps)
		for o := 0; o < ax.positions; o++ {
			for k := 0; k < ax.taps; k++ {
				c := o*w.stride[a] + k*w.dilation[a] - w.padBegin[a]
				switch {
				case c >= w.in[a]+w.padEnd[a]:
					c = tapCeil
				case c < 0 || c >= w.in[a]:
					c = tapPad
				}
				ax.coord[o*ax.taps+k] = c
			}
		}
		axes[a] = ax
	}
	return buildGather(axes, w.in)
}

// scatterOutput lowers a transposed convolution to a gather whose positions are the input cells: input
// cell i, tap k adds into output cell i*stride + k*dilation - padBegin along each axis, or nowhere (tapPad)
// when that falls outside the output.
func (w *window) scatterOutput() *gather {
	axes := make([]axisWalk, w.rank())
	for a := range axes {
		ax := axisWalk{positions: w.in[a], taps: w.kernel[a], step: w.dilation[a]}
		ax.coord = make([]int, ax.positions*ax.taps)
		for i := 0; i < ax.positions; i++ {
			for k := 0; k < ax.taps; k++ {
				c := i*w.stride[a] + k*w.dilation[a] - w.padBegin[a]
				if c < 0 || c >= w.out[a] {
					c = tapPad
				}
				ax.coord[i*ax.taps+k] = c
			}
		}
		axes[a] = ax
	}
	return buildGather(axes, w.out)
}
