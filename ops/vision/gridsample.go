package vision

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// GridSample samples X at the normalised positions a grid gives (a spatial transformer's sampler).
// https://onnx.ai/onnx/operators/onnx__GridSample.html — opsets 16, 20, 22.
//
// For X (N, C, D1..Dr) and grid (N, O1..Or, r), Y[n, c, o] interpolates X[n, c] at grid[n, o], whose r
// coordinates list the innermost axis first and map [-1, 1] onto the input (onto the corner pixels'
// centres with align_corners, onto their outer edges without). Positions outside the input read zeros,
// the border, or the input reflected at its edges (padding_mode). The arithmetic follows ONNX's reference
// (after PyTorch): coordinates are rounded to float32, nearest rounds half to even, cubic uses Keys'
// a = -0.75, and integer outputs are truncated.
func init() {
	ops.Register("", "GridSample",
		// opset 16: 4-D X only; modes bilinear, nearest, bicubic.
		ops.Since(16, buildGridSample(16)),
		// opset 20: any number of spatial axes; modes renamed linear, nearest, cubic.
		ops.Since(20, buildGridSample(20)),
		// opset 22: bfloat16.
		ops.Since(22, buildGridSample(22)),
	)
}

type gridPadding int

const (
	padZeros gridPadding = iota
	padBorder
	padReflection
)

var gridPaddings = map[string]gridPadding{"zeros": padZeros, "border": padBorder, "reflection": padReflection}

// maxGridAxes bounds the spatial axes so Run keeps its taps in fixed arrays on the stack.
const maxGridAxes = 8

type gridSampleOp struct {
	opset        int
	mode         interpMode
	padding      gridPadding
	alignCorners bool
}

func buildGridSample(opset int) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &gridSampleOp{opset: opset}
		modes := map[string]interpMode{"linear": modeLinear, "nearest": modeNearest, "cubic": modeCubic}
		def, allowed := "linear", "linear, nearest or cubic"
		if opset < 20 {
			modes = map[string]interpMode{"bilinear": modeLinear, "nearest": modeNearest, "bicubic": modeCubic}
			def, allowed = "bilinear", "bilinear, nearest or bicubic"
		}
		name := r.String("mode", def)
		mode, ok := modes[name]
		if !ok {
			return nil, &ops.AttrError{Name: "mode", Msg: fmt.Sprintf("is %s, want %s at opset %d", quote(name), allowed, n.Opset)}
		}
		o.mode = mode
		pname := r.String("padding_mode", "zeros")
		if o.padding, ok = gridPaddings[pname]; !ok {
			return nil, &ops.AttrError{Name: "padding_mode", Msg: fmt.Sprintf("is %s, want zeros, border or reflection", quote(pname))}
		}
		ac := r.Int("align_corners", 0)
		if ac != 0 && ac != 1 {
			return nil, &ops.AttrError{Name: "align_corners", Msg: fmt.Sprintf("is %d, want 0 or 1", ac)}
		}
		o.alignCorners = ac == 1
		return o, r.Err()
	}
}

func (o *gridSampleOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	x, grid := in[0], in[1]
	r := len(x.Shape) - 2
	switch {
	case o.opset < 20 && len(x.Shape) != 4:
		return nil, ops.Invalidf("X has shape %v; opset %d takes 4-D (N, C, H, W) only", x.Shape, o.opset)
	case r < 1:
		return nil, ops.Invalidf("X has shape %v, want (N, C, D1, ..., Dr) with r >= 1", x.Shape)
	case r > maxGridAxes:
		return nil, ops.Unsupportedf("X has %d spatial axes, over the limit of %d", r, maxGridAxes)
	case len(grid.Shape) != r+2 || grid.Shape[0] != x.Shape[0] || grid.Shape[r+1] != r:
		return nil, ops.Invalidf("grid has shape %v, want (N=%d, O1, ..., O%d, %d) for X %v", grid.Shape, x.Shape[0], r, r, x.Shape)
	case !grid.DType.IsFloat() || (grid.DType == ops.BFloat16 && o.opset < 22):
		return nil, ops.Invalidf("grid has dtype %s, want float16, float32 or float64", grid.DType)
	case !x.DType.IsFloat() && !x.DType.IsInteger():
		return nil, ops.Unsupportedf("GridSample on %s data", x.DType)
	}
	out := append(ops.Shape{x.Shape[0], x.Shape[1]}, grid.Shape[1:r+1]...)
	if out.Size() > 0 {
		for _, d := range x.Shape[2:] {
			if d == 0 {
				return nil, ops.Invalidf("X %v has an empty spatial axis to sample from", x.Shape)
			}
		}
	}
	return []ops.ValueInfo{{DType: x.DType, Shape: out}}, nil
}

type gridSampleKernel struct {
	op            *gridSampleOp
	n, c          int
	dims, strides []int // input spatial lengths and strides, outermost first
	inPlane       int
	outPlane      int
	taps          int
	scratch       int
	intLo, intHi  float64
	isInt         bool
}

func (o *gridSampleOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	x := in[0].Shape
	k := &gridSampleKernel{op: o, n: x[0], c: x[1], dims: []int(x[2:].Clone()), inPlane: x[2:].Size(),
		outPlane: out[0].Shape[2:].Size(), taps: map[interpMode]int{modeNearest: 1, modeLinear: 2, modeCubic: 4}[o.mode]}
	k.strides = ops.Shape(k.dims).Strides()
	k.scratch = ops.HalfScratch(in[0].DType, x.Size(), out[0].Shape.Size())
	if dt := in[0].DType; dt.IsInteger() {
		k.isInt = true
		k.intLo, k.intHi = intRange(dt)
	}
	return k, nil
}

// ScratchSize is the float32 memory float16 and bfloat16 data are widened into.
func (k *gridSampleKernel) ScratchSize() int { return k.scratch }

func (k *gridSampleKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	g := in[1].Data()
	switch x := in[0].Data().(type) {
	case []float32:
		gridSample(k, x, g, out[0].Data().([]float32))
	case []float64:
		gridSample(k, x, g, out[0].Data().([]float64))
	case []int8:
		gridSample(k, x, g, out[0].Data().([]int8))
	case []int16:
		gridSample(k, x, g, out[0].Data().([]int16))
	case []int32:
		gridSample(k, x, g, out[0].Data().([]int32))
	case []int64:
		gridSample(k, x, g, out[0].Data().([]int64))
	case []uint8:
		gridSample(k, x, g, out[0].Data().([]uint8))
	case []uint16:
		gridSample(k, x, g, out[0].Data().([]uint16))
	case []uint32:
		gridSample(k, x, g, out[0].Data().([]uint32))
	case []uint64:
		gridSample(k, x, g, out[0].Data().([]uint64))
	case []ops.Float16Bits, []ops.BFloat16Bits: // computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		gridSample(k, w.In(in[0]), g, w.Out(out[0]))
		w.Narrow()
	}
	return nil
}

// gridValue reads element i of a float grid of any float dtype.
func gridValue(g any, i int) float64 {
	switch s := g.(type) {
	case []float32:
		return float64(s[i])
	case []float64:
		return s[i]
	case []ops.Float16Bits:
		return float64(s[i].Float32())
	case []ops.BFloat16Bits:
		return float64(s[i].Float32())
	}
	return 0
}

// gridSample computes, for each batch and output position, the taps along every spatial axis once and
// then the weighted sum over their tensor product for every channel.
func gridSample[T ops.Number](k *gridSampleKernel, x []T, g any, y []T) {
	r := len(k.dims)
	var idxBuf [maxGridAxes][4]int
	var wBuf [maxGridAxes][4]float64
	idx, w := idxBuf[:r], wBuf[:r]
	for n := 0; n < k.n; n++ {
		for p := 0; p < k.outPlane; p++ {
			gbase := (n*k.outPlane + p) * r
			for i := 0; i < r; i++ {
				// The grid lists the innermost axis first.
				k.axisTaps(i, gridValue(g, gbase+r-1-i), &idx[i], &w[i])
			}
			for c := 0; c < k.c; c++ {
				xc := x[(n*k.c+c)*k.inPlane : (n*k.c+c+1)*k.inPlane]
				v := sumGridTaps(idx, w, k.taps, xc, 0, 0)
				y[(n*k.c+c)*k.outPlane+p] = truncate[T](v, k.isInt, k.intLo, k.intHi)
			}
		}
	}
}

// sumGridTaps sums weight × value over the taps of axes d.. from input offset base; a tap at -1 reads a
// zero (padding_mode zeros).
func sumGridTaps[T ops.Number](idx [][4]int, w [][4]float64, taps int, x []T, d, base int) float64 {
	acc := 0.0
	for t := 0; t < taps; t++ {
		off, wt := idx[d][t], w[d][t]
		if off < 0 || wt == 0 {
			continue
		}
		if d == len(idx)-1 {
			acc += wt * float64(x[base+off])
		} else {
			acc += wt * sumGridTaps(idx, w, taps, x, d+1, base+off)
		}
	}
	return acc
}

// truncate converts a result to the output dtype; integers are truncated (the spec's cast) and saturated.
func truncate[T ops.Number](v float64, isInt bool, lo, hi float64) T {
	if !isInt {
		return T(v)
	}
	switch {
	case math.IsNaN(v):
		return 0
	case v < lo:
		v = lo
	case v > hi:
		v = hi
	}
	return T(math.Trunc(v))
}

// axisTaps fills the input offsets (index × stride, or -1 for a zero) and weights that spatial axis i
// reads for normalised coordinate nx.
func (k *gridSampleKernel) axisTaps(i int, nx float64, idx *[4]int, w *[4]float64) {
	o := k.op
	n := k.dims[i]
	length := float64(n)
	var x, lo, hi float64
	if o.alignCorners {
		x = (nx + 1) / 2 * (length - 1)
		lo, hi = 0, length-1
	} else {
		x = ((nx+1)*length - 1) / 2
		lo, hi = -0.5, length-0.5
	}
	x = float64(float32(x)) // the reference and ONNX Runtime hold coordinates in float32
	if o.mode == modeNearest {
		// Half to even (nearbyint), for every number of axes: the ONNX 1.23 backend tests expect it for
		// volumes too, although PyTorch's 3-D kernel rounds half away from zero.
		x = math.RoundToEven(x)
	}
	if x < lo || x > hi {
		switch o.padding {
		case padBorder:
			x = math.Min(math.Max(x, 0), length-1)
		case padReflection:
			x = reflect(x, lo, hi)
		}
	}
	stride := k.strides[i]
	at := func(t int, pos float64, weight float64) {
		j, ok := k.pixel(pos, lo, hi, n)
		if !ok {
			idx[t], w[t] = -1, 0
			return
		}
		idx[t], w[t] = j*stride, weight
	}
	switch o.mode {
	case modeNearest:
		at(0, math.Trunc(x), 1)
	case modeLinear:
		x0 := math.Floor(x)
		t := x - x0
		at(0, x0, 1-t)
		at(1, x0+1, t)
	case modeCubic:
		x0 := math.Floor(x)
		t := x - x0
		const a = -0.75
		r1, r2 := t+1, 2-t
		at(0, x0-1, ((a*r1-5*a)*r1+8*a)*r1-4*a)
		at(1, x0, ((a+2)*t-(a+3))*t*t+1)
		at(2, x0+1, ((a+2)*(1-t)-(a+3))*(1-t)*(1-t)+1)
		at(3, x0+2, ((a*r2-5*a)*r2+8*a)*r2-4*a)
	}
}

// pixel maps an integer position to an input index under the padding mode; ok is false for a zero.
func (k *gridSampleKernel) pixel(pos, lo, hi float64, n int) (int, bool) {
	switch k.op.padding {
	case padZeros:
		if pos >= 0 && pos < float64(n) {
			return int(pos), true
		}
		return 0, false
	case padReflection:
		pos = math.Trunc(reflect(pos, lo, hi))
	}
	// Border, and a safety net for reflection: never index outside the axis, whatever the grid holds.
	switch {
	case pos >= float64(n-1):
		return n - 1, true
	case pos >= 0:
		return int(pos), true
	}
	return 0, true
}

// reflect folds x into [lo, hi] by reflecting it at the borders as often as needed.
func reflect(x, lo, hi float64) float64 {
	span := hi - lo
	if span <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return lo
	}
	switch {
	case x < lo:
		d := lo - x
		flips := math.Floor(d / span)
		rem := d - flips*span
		if math.Mod(flips, 2) == 0 {
			return lo + rem
		}
		return hi - rem
	case x > hi:
		d := x - hi
		flips := math.Floor(d / span)
		rem := d - flips*span
		if math.Mod(flips, 2) == 0 {
			return hi - rem
		}
		return lo + rem
	}
	return x
}
