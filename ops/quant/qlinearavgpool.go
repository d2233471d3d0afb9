package quant

import (
	"github.com/onnxrun/onnxrun/ops"
)

// QLinearGlobalAveragePool and QLinearAveragePool (com.microsoft, opset 1, ONNX Runtime's contrib
// operators): inputs X, x_scale, x_zero_point (optional), y_scale, y_zero_point (optional), X and Y uint8
// or int8 of one type, quantized per tensor; X is N × C × spatial (1 to 3 dimensions), or N × spatial × C
// with channels_last=1. QLinearAveragePool has AveragePool's attributes: kernel_shape (required), strides,
// pads, auto_pad, ceil_mode and count_include_pad.
//
// Each output requantizes its window's mean in float32, in the way each of ONNX Runtime's kernels does it
// (checked value for value against ONNX Runtime, ties included, in crosscheck/qlinear_test.go):
//
//	QLinearGlobalAveragePool: the window's integers summed exactly,
//	  Y = saturate(round_half_to_even(float32(Σ (X - x_zero_point)) * (x_scale / (y_scale * count)) + y_zero_point))
//	QLinearAveragePool: the window dequantized and summed in float32 in row-major order,
//	  Y = saturate(round_half_to_even(Σ ((X - x_zero_point) * x_scale) / count / y_scale + y_zero_point))
//
// where count is the window's elements inside X, or with count_include_pad=1 those inside the padded X
// (padding counts as x_zero_point, the quantized 0). The windows follow AveragePool's: the output length
// along a dimension is floor((in + pads - kernel) / stride) + 1 (ceil with ceil_mode, dropping a last
// window that would start in the end padding); SAME_UPPER and SAME_LOWER pad to ceil(in / stride) outputs,
// the odd element of padding at the end or the start.
func init() {
	ops.Register(ops.MicrosoftDomain, "QLinearGlobalAveragePool", ops.Since(1, buildQLinearGlobalAveragePool))
	ops.Register(ops.MicrosoftDomain, "QLinearAveragePool", ops.Since(1, buildQLinearAveragePool))
}

// maxPoolDims is the spatial rank the pools support (ONNX Runtime's kernels do 1-D, 2-D and 3-D).
const maxPoolDims = 3

type qlinearPoolOp struct {
	opType          string
	global          bool
	channelsLast    bool
	kernel, strides []int64
	pads            []int64
	autoPad         string
	ceilMode        bool
	countIncludePad bool
}

func buildQLinearGlobalAveragePool(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := &qlinearPoolOp{opType: "QLinearGlobalAveragePool", global: true, channelsLast: r.Int("channels_last", 0) != 0}
	return o, r.Err()
}

func buildQLinearAveragePool(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	if !r.Has("kernel_shape") {
		return nil, &ops.AttrError{Name: "kernel_shape", Msg: "is required"}
	}
	o := &qlinearPoolOp{opType: "QLinearAveragePool", channelsLast: r.Int("channels_last", 0) != 0,
		kernel: r.Ints("kernel_shape", nil), strides: r.Ints("strides", nil), pads: r.Ints("pads", nil),
		autoPad: r.String("auto_pad", "NOTSET"), ceilMode: r.Int("ceil_mode", 0) != 0,
		countIncludePad: r.Int("count_include_pad", 0) != 0}
	if err := r.Err(); err != nil {
		return nil, err
	}
	k := len(o.kernel)
	if k == 0 || k > maxPoolDims {
		return nil, &ops.AttrError{Name: "kernel_shape", Msg: "has " + itoa(int64(k)) + " dimensions, want 1 to 3"}
	}
	if o.strides != nil && len(o.strides) != k {
		return nil, &ops.AttrError{Name: "strides", Msg: "has " + itoa(int64(len(o.strides))) + " values, want one per kernel dimension"}
	}
	if o.pads != nil && len(o.pads) != 2*k {
		return nil, &ops.AttrError{Name: "pads", Msg: "has " + itoa(int64(len(o.pads))) + " values, want two per kernel dimension"}
	}
	for i, v := range o.kernel {
		if v < 1 || (o.strides != nil && o.strides[i] < 1) {
			return nil, &ops.AttrError{Name: "kernel_shape", Msg: "and strides must be positive"}
		}
	}
	for _, p := range o.pads {
		if p < 0 {
			return nil, &ops.AttrError{Name: "pads", Msg: "must be >= 0"}
		}
	}
	switch o.autoPad {
	case "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER":
	default:
		return nil, &ops.AttrError{Name: "auto_pad", Msg: "is " + o.autoPad + ", want NOTSET, VALID, SAME_UPPER or SAME_LOWER"}
	}
	return o, nil
}

var (
	poolX = qParam{name: "x", scale: 1, zp: 2}
	poolY = qParam{name: "y", scale: 3, zp: 4}
)

// poolGeom is a pool's layout: batch N, channels C, and per spatial dimension (padded with 1s to
// maxPoolDims) the input and output lengths, kernel, stride and leading padding.
type poolGeom struct {
	n, c                        int
	in, out, k, stride, padLead [maxPoolDims]int
	padEnd                      [maxPoolDims]int
	channelsLast                bool
	countIncludePad             bool
	floatSum                    bool // QLinearAveragePool's float32 sum of dequantized values (see the doc)
	global                      bool // QLinearGlobalAveragePool: one window, the whole plane (runGlobal)
}

func (o *qlinearPoolOp) geometry(in []ops.ValueInfo) (*poolGeom, ops.Shape, error) {
	if err := checkInputs(o.opType, in, 4, 5, 0, 1, 3); err != nil {
		return nil, nil, err
	}
	t, err := checkQ8(o.opType, in, 0, "X")
	if err != nil {
		return nil, nil, err
	}
	for _, p := range []qParam{poolX, poolY} {
		if err := checkQParam(o.opType, in, p, t); err != nil {
			return nil, nil, err
		}
	}
	x := in[0].Shape
	sp := len(x) - 2
	if sp < 1 || sp > maxPoolDims {
		return nil, nil, ops.Invalidf("%s X has shape %v, want N, C and 1 to 3 spatial dimensions", o.opType, x)
	}
	if !o.global && len(o.kernel) != sp {
		return nil, nil, ops.Invalidf("%s kernel_shape %v has %d dimensions, X %v has %d spatial ones", o.opType, o.kernel, len(o.kernel), x, sp)
	}
	g := &poolGeom{n: x[0], c: x[1], channelsLast: o.channelsLast, countIncludePad: o.countIncludePad, floatSum: !o.global, global: o.global}
	spatial := x[2:]
	if o.channelsLast {
		g.c, spatial = x[len(x)-1], x[1:len(x)-1]
	}
	out := x.Clone()
	for d := 0; d < maxPoolDims; d++ {
		g.in[d], g.out[d], g.k[d], g.stride[d] = 1, 1, 1, 1
	}
	for d, n := range spatial {
		g.in[d] = n
		if o.global {
			g.k[d] = n
		} else {
			g.k[d] = int(o.kernel[d])
			if o.strides != nil {
				g.stride[d] = int(o.strides[d])
			}
			if o.pads != nil {
				g.padLead[d], g.padEnd[d] = int(o.pads[d]), int(o.pads[d+sp])
			}
		}
		if err := o.outputLength(g, d); err != nil {
			return nil, nil, err
		}
		if o.channelsLast {
			out[1+d] = g.out[d]
		} else {
			out[2+d] = g.out[d]
		}
	}
	return g, out, nil
}

// outputLength sets g.out[d] (and the padding auto_pad implies) for spatial dimension d.
func (o *qlinearPoolOp) outputLength(g *poolGeom, d int) error {
	in, k, s := g.in[d], g.k[d], g.stride[d]
	switch o.autoPad {
	case "VALID":
		g.padLead[d], g.padEnd[d] = 0, 0
	case "SAME_UPPER", "SAME_LOWER":
		g.out[d] = (in + s - 1) / s
		total := max(0, (g.out[d]-1)*s+k-in)
		small := total / 2
		if o.autoPad == "SAME_UPPER" {
			g.padLead[d], g.padEnd[d] = small, total-small
		} else {
			g.padLead[d], g.padEnd[d] = total-small, small
		}
		return nil
	}
	span := in + g.padLead[d] + g.padEnd[d] - k
	if span < 0 {
		return ops.Invalidf("%s kernel %d is longer than the padded input %d along spatial dimension %d", o.opType, k, in+g.padLead[d]+g.padEnd[d], d)
	}
	g.out[d] = span/s + 1
	if o.ceilMode && span%s != 0 {
		g.out[d]++
		if (g.out[d]-1)*s >= in+g.padLead[d] { // the last window would start in the end padding
			g.out[d]--
		}
	}
	return nil
}

func (o *qlinearPoolOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	_, out, err := o.geometry(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

func (o *qlinearPoolOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	g, _, err := o.geometry(in)
	if err != nil {
		return nil, err
	}
	if in[0].DType == ops.Int8 {
		return &qlinearPoolKernel[int8]{g: g}, nil
	}
	return &qlinearPoolKernel[uint8]{g: g}, nil
}

type qlinearPoolKernel[T q8] struct{ g *poolGeom }

func (k *qlinearPoolKernel[T]) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	xs, xzp := readQParam(in, poolX)
	ys, yzp := readQParam(in, poolY)
	x, y := ops.Data[T](in[0]), ops.Data[T](out[0])
	if k.g.global {
		k.runGlobal(x, y, xs, xzp, ys, yzp)
	} else {
		k.runWindows(x, y, xs, xzp, ys, yzp)
	}
	return nil
}

// runGlobal is runWindows for QLinearGlobalAveragePool, bit for bit: each plane's one window summed as
// plain integers, Σ X - count·x_zero_point (the same int32 as Σ (X - x_zero_point)), with no window
// bounds and no float32 sum, which runWindows computes for every cell and the global pool never uses
// (MobileNetV2's 1280 planes of 49 spent 10x ONNX Runtime's time there).
func (k *qlinearPoolKernel[T]) runGlobal(x, y []T, xs, xzp, ys, yzp float32) {
	g := k.g
	lo, hi := bounds8[T]()
	count := g.in[0] * g.in[1] * g.in[2]
	mult := xs / (ys * float32(count))
	for n := 0; n < g.n; n++ {
		for c := 0; c < g.c; c++ {
			var sum int32
			if g.channelsLast {
				for i := 0; i < count; i++ {
					sum += int32(x[(n*count+i)*g.c+c])
				}
			} else {
				for _, v := range x[(n*g.c+c)*count : (n*g.c+c+1)*count] {
					sum += int32(v)
				}
			}
			sum -= int32(count) * int32(xzp)
			v := float32(0)
			if count > 0 {
				v = float32(float32(sum) * mult) // rounded before the zero point is added: no multiply-add
			}
			y[n*g.c+c] = quantize8[T](v, yzp, lo, hi)
		}
	}
}

// runWindows computes every output from its window: the reference, and the kernel of QLinearAveragePool.
func (k *qlinearPoolKernel[T]) runWindows(x, y []T, xs, xzp, ys, yzp float32) {
	g := k.g
	lo, hi := bounds8[T]()
	inSize, outSize := g.in[0]*g.in[1]*g.in[2], g.out[0]*g.out[1]*g.out[2]
	zp := int32(xzp)
	for n := 0; n < g.n; n++ {
		for c := 0; c < g.c; c++ {
			// Element (spatial i) of this plane is at base + i*step, in X and in Y.
			xBase, yBase, step := (n*g.c+c)*inSize, (n*g.c+c)*outSize, 1
			if g.channelsLast {
				xBase, yBase, step = n*inSize*g.c+c, n*outSize*g.c+c, g.c
			}
			oi := 0
			for o0 := 0; o0 < g.out[0]; o0++ {
				s0, e0, p0 := g.window(0, o0)
				for o1 := 0; o1 < g.out[1]; o1++ {
					s1, e1, p1 := g.window(1, o1)
					for o2 := 0; o2 < g.out[2]; o2++ {
						s2, e2, p2 := g.window(2, o2)
						var sum int32
						var fsum float32
						for i0 := s0; i0 < e0; i0++ {
							for i1 := s1; i1 < e1; i1++ {
								row := xBase + ((i0*g.in[1]+i1)*g.in[2])*step
								for i2 := s2; i2 < e2; i2++ {
									d := int32(x[row+i2*step]) - zp
									sum += d
									fsum += float32(float32(d) * xs) // the conversion keeps the product from fusing into a multiply-add
								}
							}
						}
						count := (e0 - s0) * (e1 - s1) * (e2 - s2)
						if g.countIncludePad {
							count = p0 * p1 * p2
						}
						v := float32(0)
						switch {
						case count == 0:
						case g.floatSum:
							v = fsum / float32(count) / ys
						default:
							v = float32(float32(sum) * (xs / (ys * float32(count)))) // rounded before the zero point is added: no multiply-add
						}
						y[yBase+oi*step] = quantize8[T](v, yzp, lo, hi)
						oi++
					}
				}
			}
		}
	}
}

// window returns output o's window along spatial dimension d: the input range [start, end) it covers
// inside X, and its length inside the padded X (for count_include_pad).
func (g *poolGeom) window(d, o int) (start, end, padded int) {
	from := o*g.stride[d] - g.padLead[d]
	to := from + g.k[d]
	padded = min(to, g.in[d]+g.padEnd[d]) - from
	return max(from, 0), min(to, g.in[d]), padded
}
