package vision

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// RoiAlign pools each region of interest of a feature map to a fixed output_height × output_width grid,
// averaging (or taking the maximum of) bilinear samples taken at regular points inside each bin (Mask
// R-CNN's RoIAlign).
// https://onnx.ai/onnx/operators/onnx__RoiAlign.html — opsets 10, 16, 22.
//
// The arithmetic follows ONNX's reference and ONNX Runtime: a bin of a region r (x1, y1, x2, y2 scaled by
// spatial_scale, shifted by -0.5 in half_pixel mode) holds sampling_ratio² points, or
// ceil(bin extent) per axis when sampling_ratio is 0; a point more than one pixel outside the map counts
// as 0; max mode takes, for every point, the largest of its four weighted corner values, and then the
// largest over the points (ONNX Runtime's definition, not the maximum of interpolated values).
func init() {
	ops.Register("", "RoiAlign",
		// opset 10: no coordinate_transformation_mode; behaves as output_half_pixel.
		ops.Since(10, buildRoiAlign(10)),
		// opset 16: coordinate_transformation_mode, defaulting to half_pixel.
		ops.Since(16, buildRoiAlign(16)),
		// opset 22: bfloat16.
		ops.Since(22, buildRoiAlign(22)),
	)
}

// maxRoiSamples bounds the sampling points per bin, so a huge region (rois are data) cannot make one Run
// take hours.
const maxRoiSamples = 1 << 16

type roiAlignOp struct {
	opset         int
	max           bool
	halfPixel     bool
	outH, outW    int
	samplingRatio int
	spatialScale  float64
}

func buildRoiAlign(opset int) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &roiAlignOp{opset: opset, spatialScale: float64(r.Float("spatial_scale", 1))}
		switch mode := r.String("mode", "avg"); mode {
		case "avg":
		case "max":
			o.max = true
		default:
			return nil, &ops.AttrError{Name: "mode", Msg: fmt.Sprintf("is %s, want avg or max", quote(mode))}
		}
		if opset >= 16 {
			switch ct := r.String("coordinate_transformation_mode", "half_pixel"); ct {
			case "half_pixel":
				o.halfPixel = true
			case "output_half_pixel":
			default:
				return nil, &ops.AttrError{Name: "coordinate_transformation_mode",
					Msg: fmt.Sprintf("is %s, want half_pixel or output_half_pixel", quote(ct))}
			}
		}
		for _, a := range []struct {
			name string
			dst  *int
			def  int64
			min  int64
		}{{"output_height", &o.outH, 1, 1}, {"output_width", &o.outW, 1, 1}, {"sampling_ratio", &o.samplingRatio, 0, 0}} {
			v := r.Int(a.name, a.def)
			if v < a.min || v >= 1<<20 {
				return nil, &ops.AttrError{Name: a.name, Msg: fmt.Sprintf("is %d, want >= %d", v, a.min)}
			}
			*a.dst = int(v)
		}
		if !isFinite(o.spatialScale) {
			return nil, &ops.AttrError{Name: "spatial_scale", Msg: fmt.Sprintf("is %g, want a finite number", o.spatialScale)}
		}
		return o, r.Err()
	}
}

func (o *roiAlignOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 3, 3); err != nil {
		return nil, err
	}
	x, rois, idx := in[0], in[1], in[2]
	switch {
	case !x.DType.IsFloat() || (x.DType == ops.BFloat16 && o.opset < 22):
		return nil, ops.Invalidf("X has dtype %s, want a float type", x.DType)
	case len(x.Shape) != 4:
		return nil, ops.Invalidf("X has shape %v, want 4-D (N, C, H, W)", x.Shape)
	case rois.DType != x.DType:
		return nil, ops.Invalidf("rois has dtype %s, X has %s", rois.DType, x.DType)
	case len(rois.Shape) != 2 || rois.Shape[1] != 4:
		return nil, ops.Invalidf("rois has shape %v, want (num_rois, 4)", rois.Shape)
	case idx.DType != ops.Int64 && idx.DType != ops.Int32:
		return nil, ops.Invalidf("batch_indices has dtype %s, want int64", idx.DType)
	case len(idx.Shape) != 1 || idx.Shape[0] != rois.Shape[0]:
		return nil, ops.Invalidf("batch_indices has shape %v, want (%d) to match rois %v", idx.Shape, rois.Shape[0], rois.Shape)
	case rois.Shape[0] > 0 && x.Shape[0] == 0:
		return nil, ops.Invalidf("X %v has an empty batch for %d regions", x.Shape, rois.Shape[0])
	}
	return []ops.ValueInfo{{DType: x.DType, Shape: ops.Shape{rois.Shape[0], x.Shape[1], o.outH, o.outW}}}, nil
}

type roiAlignKernel struct {
	op         *roiAlignOp
	n, c, h, w int
	scratch    int
}

func (o *roiAlignOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	s := in[0].Shape
	k := &roiAlignKernel{op: o, n: s[0], c: s[1], h: s[2], w: s[3]}
	k.scratch = ops.HalfScratch(in[0].DType, s.Size(), in[1].Shape.Size(), out[0].Shape.Size())
	return k, nil
}

// ScratchSize is the float32 memory float16 and bfloat16 data are widened into.
func (k *roiAlignKernel) ScratchSize() int { return k.scratch }

func (k *roiAlignKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	idx := in[2].Data()
	switch x := in[0].Data().(type) {
	case []float32:
		return roiAlign(k, x, in[1].Data().([]float32), idx, out[0].Data().([]float32))
	case []float64:
		return roiAlign(k, x, in[1].Data().([]float64), idx, out[0].Data().([]float64))
	case []ops.Float16Bits, []ops.BFloat16Bits: // computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		if err := roiAlign(k, w.In(in[0]), w.In(in[1]), idx, w.Out(out[0])); err != nil {
			return err
		}
		w.Narrow()
		return nil
	}
	return nil
}

func batchIndex(idx any, i int) int64 {
	switch s := idx.(type) {
	case []int64:
		return s[i]
	case []int32:
		return int64(s[i])
	}
	return -1
}

// roiAlign pools every region. Sample positions and weights are computed once per point and applied to
// all channels, so nothing is allocated; batch_indices and rois are data, so they are checked here.
func roiAlign[T ops.Float](k *roiAlignKernel, x, rois []T, idx any, y []T) error {
	o := k.op
	hw := k.h * k.w
	plane := o.outH * o.outW
	offset := 0.0
	if o.halfPixel {
		offset = 0.5
	}
	for r := 0; r < len(rois)/4; r++ {
		b := batchIndex(idx, r)
		if b < 0 || b >= int64(k.n) {
			return ops.Invalidf("batch_indices[%d] = %d is out of range [0, %d)", r, b, k.n)
		}
		roi := rois[4*r : 4*r+4]
		x1, y1 := float64(roi[0])*o.spatialScale-offset, float64(roi[1])*o.spatialScale-offset
		x2, y2 := float64(roi[2])*o.spatialScale-offset, float64(roi[3])*o.spatialScale-offset
		if !isFinite(x1) || !isFinite(y1) || !isFinite(x2) || !isFinite(y2) {
			return ops.Invalidf("rois[%d] = %v is not finite", r, roi)
		}
		roiW, roiH := x2-x1, y2-y1
		if !o.halfPixel { // the legacy mode forces malformed regions to 1×1
			roiW, roiH = math.Max(roiW, 1), math.Max(roiH, 1)
		}
		binH, binW := roiH/float64(o.outH), roiW/float64(o.outW)
		gridH, gridW := o.samplingRatio, o.samplingRatio
		if gridH == 0 {
			gridH, gridW = ceilCount(binH), ceilCount(binW)
		}
		if gridH > maxRoiSamples || gridW > maxRoiSamples || gridH*gridW > maxRoiSamples {
			return ops.Unsupportedf("rois[%d] = %v needs %d×%d samples per bin, over the limit of %d", r, roi, gridH, gridW, maxRoiSamples)
		}
		count := float64(max(gridH*gridW, 1))
		xb := x[int(b)*k.c*hw : (int(b)+1)*k.c*hw]
		yr := y[r*k.c*plane : (r+1)*k.c*plane]
		for i := range yr {
			yr[i] = 0
		}
		for ph := 0; ph < o.outH; ph++ {
			for pw := 0; pw < o.outW; pw++ {
				first := true
				for iy := 0; iy < gridH; iy++ {
					sy := y1 + float64(ph)*binH + (float64(iy)+0.5)*binH/float64(gridH)
					for ix := 0; ix < gridW; ix++ {
						sx := x1 + float64(pw)*binW + (float64(ix)+0.5)*binW/float64(gridW)
						p, w, inside := bilinearCorners(sy, sx, k.h, k.w)
						for c := 0; c < k.c; c++ {
							xc := xb[c*hw : (c+1)*hw]
							out := &yr[c*plane+ph*o.outW+pw]
							var v float64
							switch {
							case !inside:
								v = 0
							case o.max:
								v = math.Max(math.Max(w[0]*float64(xc[p[0]]), w[1]*float64(xc[p[1]])),
									math.Max(w[2]*float64(xc[p[2]]), w[3]*float64(xc[p[3]])))
							default:
								v = w[0]*float64(xc[p[0]]) + w[1]*float64(xc[p[1]]) + w[2]*float64(xc[p[2]]) + w[3]*float64(xc[p[3]])
							}
							switch {
							case !o.max:
								*out += T(v)
							case first || T(v) > *out:
								*out = T(v)
							}
						}
						first = false
					}
				}
				if !o.max {
					for c := 0; c < k.c; c++ {
						yr[c*plane+ph*o.outW+pw] /= T(count)
					}
				}
			}
		}
	}
	return nil
}

// bilinearCorners returns the offsets and weights of the four pixels around (y, x) in an h×w map, or
// inside=false when the point lies more than one pixel outside the map.
func bilinearCorners(y, x float64, h, w int) (p [4]int, wt [4]float64, inside bool) {
	if y < -1 || y > float64(h) || x < -1 || x > float64(w) || h == 0 || w == 0 {
		return p, wt, false
	}
	y, x = math.Max(y, 0), math.Max(x, 0)
	yLo, xLo := int(y), int(x)
	yHi, xHi := yLo+1, xLo+1
	if yLo >= h-1 {
		yLo, yHi, y = h-1, h-1, float64(h-1)
	}
	if xLo >= w-1 {
		xLo, xHi, x = w-1, w-1, float64(w-1)
	}
	ly, lx := y-float64(yLo), x-float64(xLo)
	hy, hx := 1-ly, 1-lx
	return [4]int{yLo*w + xLo, yLo*w + xHi, yHi*w + xLo, yHi*w + xHi}, [4]float64{hy * hx, hy * lx, ly * hx, ly * lx}, true
}

// ceilCount is ceil(v) as a sample count: 0 for v <= 0, and clamped to just over maxRoiSamples so a huge
// value reports "too many" instead of overflowing int.
func ceilCount(v float64) int {
	switch {
	case !(v > 0):
		return 0
	case v > maxRoiSamples:
		return maxRoiSamples + 1
	}
	return int(math.Ceil(v))
}
