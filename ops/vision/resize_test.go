package vision

import (
	"errors"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// The expected values below come from a numpy model of the spec, applied one axis at a time (Resize is
// separable), with x the output coordinate, n the input length and s the axis's scale:
//
//	half_pixel:        xo = (x+0.5)/s - 0.5        asymmetric: xo = x/s
//	align_corners:     xo = x*(n-1)/(s*n-1)        pytorch_half_pixel: xo = (x+0.5)/s - 0.5, or 0 if s*n <= 1
//	half_pixel_symmetric: xo = n/2*(1 - floor(s*n)/(s*n)) + (x+0.5)/s - 0.5
//	tf_crop_and_resize: xo = start*(n-1) + x*(end-start)*(n-1)/(s*n-1), extrapolated outside [0, n-1]
//	b = floor(xo), r = xo-b; if r == 0 { b, r = b-1, 1 }
//	linear taps b, b+1: [1-r, r]
//	cubic taps b-1..b+2: [((A(r+1)-5A)(r+1)+8A)(r+1)-4A, ((A+2)r-(A+3))r²+1, ((A+2)(1-r)-(A+3))(1-r)²+1,
//	                      ((A(2-r)-5A)(2-r)+8A)(2-r)-4A]
//	antialias (s' = min(s,1)): taps b+i for i in [f, 1-f], f = floor(-support/s')+1, weight kernel(s'(i-r))
//	                      normalised to sum 1 (support 1, kernel max(0,1-|t|) for linear; support 2, Keys for cubic)
//	data index = clip(tap, 0, n-1); exclude_outside zeroes taps outside [0, n-1] and renormalises.

func f32s(v ...float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func seq(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(i + 1)
	}
	return out
}

func attrs(kv ...any) ops.AttrMap {
	m := ops.AttrMap{}
	for i := 0; i < len(kv); i += 2 {
		name := kv[i].(string)
		switch v := kv[i+1].(type) {
		case string:
			m[name] = ops.StringAttr(v)
		case int:
			m[name] = ops.IntAttr(int64(v))
		case float64:
			m[name] = ops.FloatAttr(float32(v))
		case []int64:
			m[name] = ops.IntsAttr(v...)
		case []float32:
			m[name] = ops.FloatsAttr(v...)
		}
	}
	return m
}

type resizeCase struct {
	name   string
	opType string // "" means Resize
	opset  int
	attrs  ops.AttrMap
	inputs []*ops.Tensor
	want   *ops.Tensor
}

func runResizeCases(t *testing.T, cases []resizeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op := c.opType
			if op == "" {
				op = "Resize"
			}
			out, err := opstest.Run(opstest.Node{OpType: op, Opset: c.opset, Attrs: c.attrs, Inputs: c.inputs})
			if err != nil {
				t.Fatal(err)
			}
			if !out[0].Shape().Equal(c.want.Shape()) {
				t.Fatalf("shape %v, want %v", out[0].Shape(), c.want.Shape())
			}
			if c.want.DType().IsFloat() {
				opstest.AssertClose(t, out[0], c.want)
				return
			}
			if err := ops.AllClose(out[0], c.want, 0, 0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func scalesT(v ...float32) *ops.Tensor { return opstest.F32(ops.Shape{len(v)}, v...) }
func sizesT(v ...int64) *ops.Tensor    { return opstest.I64(ops.Shape{len(v)}, v...) }

func TestResizeFloat(t *testing.T) {
	x23 := opstest.F32(ops.Shape{1, 1, 2, 3}, seq(6)...)
	x8 := opstest.F32(ops.Shape{8}, 1, 2, 4, 8, 16, 32, 64, 128)
	x4 := opstest.F32(ops.Shape{4}, 0, 1, 2, 3)
	cases := []resizeCase{
		{name: "linear half_pixel x2", opset: 19, attrs: attrs("mode", "linear"),
			inputs: []*ops.Tensor{x23, nil, scalesT(1, 1, 2, 2)},
			want: opstest.F32(ops.Shape{1, 1, 4, 6}, f32s(1, 1.25, 1.75, 2.25, 2.75, 3, 1.75, 2, 2.5, 3, 3.5, 3.75,
				3.25, 3.5, 4, 4.5, 5, 5.25, 4, 4.25, 4.75, 5.25, 5.75, 6)...)},
		{name: "linear downsample 0.6 (spec example)", opset: 19, attrs: attrs("mode", "linear"),
			inputs: []*ops.Tensor{opstest.F32(ops.Shape{1, 1, 2, 4}, seq(8)...), nil, scalesT(1, 1, 0.6, 0.6)},
			want:   opstest.F32(ops.Shape{1, 1, 1, 2}, 2.6666667, 4.3333333)},
		{name: "linear align_corners uses the fractional length 2.4", opset: 13,
			attrs:  attrs("mode", "linear", "coordinate_transformation_mode", "align_corners"),
			inputs: []*ops.Tensor{opstest.F32(ops.Shape{1, 1, 2, 4}, seq(8)...), nil, scalesT(1, 1, 0.6, 0.6)},
			want:   opstest.F32(ops.Shape{1, 1, 1, 2}, 1, 3.142857143)},
		{name: "trilinear align_corners", opset: 13,
			attrs:  attrs("mode", "linear", "coordinate_transformation_mode", "align_corners"),
			inputs: []*ops.Tensor{opstest.F32(ops.Shape{2, 2, 2}, 0, 1, 2, 3, 4, 5, 6, 7), nil, scalesT(1.5, 1.5, 1.5)},
			want: opstest.F32(ops.Shape{3, 3, 3}, 0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3, 2, 2.5, 3, 3, 3.5, 4, 4, 4.5, 5,
				4, 4.5, 5, 5, 5.5, 6, 6, 6.5, 7)},
		{name: "cubic x1.5 on W", opset: 11, attrs: attrs("mode", "cubic"),
			inputs: []*ops.Tensor{x23, opstest.F32(ops.Shape{0}), scalesT(1, 1, 1, 1.5)},
			want: opstest.F32(ops.Shape{1, 1, 2, 4}, f32s(0.913194444, 1.40625, 2.230324074, 2.873842593,
				3.913194444, 4.40625, 5.230324074, 5.873842593)...)},
		{name: "cubic A=-0.5 exclude_outside", opset: 13, attrs: attrs("mode", "cubic", "cubic_coeff_a", -0.5, "exclude_outside", 1),
			inputs: []*ops.Tensor{x23, nil, scalesT(1, 1, 1, 1.5)},
			want: opstest.F32(ops.Shape{1, 1, 2, 4}, f32s(0.934210526, 1.411764706, 2.187643021, 2.897155361,
				3.934210526, 4.411764706, 5.187643021, 5.897155361)...)},
		{name: "cubic asymmetric", opset: 13, attrs: attrs("mode", "cubic", "coordinate_transformation_mode", "asymmetric"),
			inputs: []*ops.Tensor{x23, nil, scalesT(1, 1, 1, 2)},
			want:   opstest.F32(ops.Shape{1, 1, 2, 6}, 1, 1.40625, 2, 2.59375, 3, 3.09375, 4, 4.40625, 5, 5.59375, 6, 6.09375)},
		{name: "antialias linear 0.5", opset: 18, attrs: attrs("mode", "linear", "antialias", 1),
			inputs: []*ops.Tensor{x8, nil, scalesT(0.5)},
			want:   opstest.F32(ops.Shape{4}, 1.75, 6.75, 27, 92)},
		{name: "antialias linear sizes 3", opset: 18, attrs: attrs("mode", "linear", "antialias", 1),
			inputs: []*ops.Tensor{x8, nil, nil, sizesT(3)},
			want:   opstest.F32(ops.Shape{3}, 2.465116279, 15, 77.76744186)},
		{name: "antialias cubic 0.5", opset: 19, attrs: attrs("mode", "cubic", "antialias", 1),
			inputs: []*ops.Tensor{x8, nil, scalesT(0.5)},
			want:   opstest.F32(ops.Shape{4}, 1.19921875, 4.74609375, 21.26953125, 95.328125)},
		{name: "pytorch_half_pixel", opset: 13, attrs: attrs("mode", "linear", "coordinate_transformation_mode", "pytorch_half_pixel"),
			inputs: []*ops.Tensor{x8, nil, nil, sizesT(3)},
			want:   opstest.F32(ops.Shape{3}, 1.833333333, 12, 74.66666667)},
		{name: "pytorch_half_pixel to one element", opset: 13, attrs: attrs("mode", "linear", "coordinate_transformation_mode", "pytorch_half_pixel"),
			inputs: []*ops.Tensor{x8, nil, nil, sizesT(1)},
			want:   opstest.F32(ops.Shape{1}, 1)},
		{name: "half_pixel_symmetric", opset: 19, attrs: attrs("mode", "linear", "coordinate_transformation_mode", "half_pixel_symmetric"),
			inputs: []*ops.Tensor{opstest.F32(ops.Shape{5}, 0, 1, 2, 3, 4), nil, scalesT(0.7)},
			want:   opstest.F32(ops.Shape{3}, 0.571428571, 2, 3.428571429)},
		{name: "tf_crop_and_resize with extrapolation", opset: 13,
			attrs: attrs("mode", "linear", "coordinate_transformation_mode", "tf_crop_and_resize", "extrapolation_value", -1.0),
			inputs: []*ops.Tensor{opstest.F32(ops.Shape{4, 4}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
				opstest.F32(ops.Shape{4}, 0.4, 0.6, 0.6, 1.2), nil, sizesT(3, 3)},
			want: opstest.F32(ops.Shape{3, 3}, 6.6, 7.5, -1, 7.8, 8.7, -1, 9, 9.9, -1)},
		{name: "tf_crop_and_resize nearest with axes", opset: 18,
			attrs: attrs("coordinate_transformation_mode", "tf_crop_and_resize", "axes", []int64{-1}, "extrapolation_value", 9.0),
			inputs: []*ops.Tensor{opstest.F32(ops.Shape{2, 4}, 0, 1, 2, 3, 4, 5, 6, 7),
				// xo = -0.5*3 + x*1*3/4 → -1.5, -0.75 (extrapolated), 0, 0.75, 1.5 (rounded half down)
				opstest.F32(ops.Shape{2}, -0.5, 0.5), nil, sizesT(5)},
			want: opstest.F32(ops.Shape{2, 5}, 9, 9, 0, 1, 1, 9, 9, 4, 5, 5)},
		{name: "nearest round_prefer_floor half_pixel", opset: 13,
			inputs: []*ops.Tensor{x4, nil, scalesT(2.5)},
			want:   opstest.F32(ops.Shape{10}, 0, 0, 0, 1, 1, 2, 2, 2, 3, 3)},
		{name: "nearest round_prefer_ceil half_pixel", opset: 13, attrs: attrs("nearest_mode", "round_prefer_ceil"),
			inputs: []*ops.Tensor{x4, nil, scalesT(2.5)},
			want:   opstest.F32(ops.Shape{10}, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3)},
		{name: "nearest floor half_pixel", opset: 13, attrs: attrs("nearest_mode", "floor"),
			inputs: []*ops.Tensor{x4, nil, scalesT(2.5)},
			want:   opstest.F32(ops.Shape{10}, 0, 0, 0, 0, 1, 1, 2, 2, 2, 3)},
		{name: "nearest ceil half_pixel", opset: 13, attrs: attrs("nearest_mode", "ceil"),
			inputs: []*ops.Tensor{x4, nil, scalesT(2.5)},
			want:   opstest.F32(ops.Shape{10}, 0, 1, 1, 1, 2, 2, 3, 3, 3, 3)},
		{name: "nearest round_prefer_ceil asymmetric", opset: 13,
			attrs:  attrs("nearest_mode", "round_prefer_ceil", "coordinate_transformation_mode", "asymmetric"),
			inputs: []*ops.Tensor{x4, nil, nil, sizesT(8)},
			want:   opstest.F32(ops.Shape{8}, 0, 1, 1, 2, 2, 3, 3, 3)},
		{name: "nearest align_corners", opset: 13, attrs: attrs("coordinate_transformation_mode", "align_corners"),
			inputs: []*ops.Tensor{x4, nil, nil, sizesT(7)},
			want:   opstest.F32(ops.Shape{7}, 0, 0, 1, 1, 2, 2, 3)},
		{name: "tf_half_pixel_for_nn at opset 11", opset: 11, attrs: attrs("coordinate_transformation_mode", "tf_half_pixel_for_nn"),
			// xo = (x+0.5)/2 → 0.25, 0.75, 1.25, ... rounded half down
			inputs: []*ops.Tensor{x4, opstest.F32(ops.Shape{0}), scalesT(2)},
			want:   opstest.F32(ops.Shape{8}, 0, 1, 1, 2, 2, 3, 3, 3)},
		{name: "axes with keep_aspect_ratio not_larger", opset: 18,
			attrs: attrs("axes", []int64{2, 3}, "keep_aspect_ratio_policy", "not_larger"),
			// scale = min(4/2, 9/3) = 2 → output 4×6, nearest half_pixel
			inputs: []*ops.Tensor{x23, nil, nil, sizesT(4, 9)},
			want: opstest.F32(ops.Shape{1, 1, 4, 6}, 1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
				4, 4, 5, 5, 6, 6)},
		{name: "axes with keep_aspect_ratio not_smaller", opset: 18,
			attrs: attrs("axes", []int64{3, 2}, "keep_aspect_ratio_policy", "not_smaller"),
			// sizes are (W, H) = (3, 1): scale = max(3/3, 1/2) = 1 → unchanged
			inputs: []*ops.Tensor{x23, nil, nil, sizesT(3, 1)},
			want:   opstest.F32(ops.Shape{1, 1, 2, 3}, seq(6)...)},
		{name: "resize-10 nearest rounds up when shrinking", opset: 10,
			inputs: []*ops.Tensor{opstest.F32(ops.Shape{1, 1, 2, 4}, seq(8)...), scalesT(1, 1, 0.6, 0.6)},
			want:   opstest.F32(ops.Shape{1, 1, 1, 2}, 1, 3)},
		{name: "resize-10 linear is asymmetric", opset: 10, attrs: attrs("mode", "linear"),
			inputs: []*ops.Tensor{opstest.F32(ops.Shape{2, 2}, 1, 2, 3, 4), scalesT(2, 2)},
			want:   opstest.F32(ops.Shape{4, 4}, 1, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4, 3, 3.5, 4, 4)},
		{name: "float64", opset: 13, attrs: attrs("mode", "linear"),
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []float64{1, 2}), nil, scalesT(2)},
			want:   ops.FromSlice(ops.Shape{4}, []float64{1, 1.25, 1.75, 2})},
		{name: "empty output", opset: 13, attrs: attrs("mode", "linear"),
			inputs: []*ops.Tensor{opstest.F32(ops.Shape{1, 2}, 1, 2), nil, scalesT(0.5, 1)},
			want:   opstest.F32(ops.Shape{0, 2})},
		{name: "identity", opset: 13, attrs: attrs("mode", "cubic"),
			inputs: []*ops.Tensor{x23, nil, scalesT(1, 1, 1, 1)},
			want:   opstest.F32(ops.Shape{1, 1, 2, 3}, seq(6)...)},
	}
	runResizeCases(t, cases)
}

func TestUpsample(t *testing.T) {
	x22 := opstest.F32(ops.Shape{1, 1, 2, 2}, 1, 2, 3, 4)
	runResizeCases(t, []resizeCase{
		{name: "opset 7 nearest (spec example)", opType: "Upsample", opset: 7,
			attrs:  attrs("scales", []float32{1, 1, 2, 3}),
			inputs: []*ops.Tensor{x22},
			want:   opstest.F32(ops.Shape{1, 1, 4, 6}, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4)},
		{name: "opset 9 nearest", opType: "Upsample", opset: 9,
			inputs: []*ops.Tensor{x22, scalesT(1, 1, 2, 3)},
			want:   opstest.F32(ops.Shape{1, 1, 4, 6}, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4)},
		{name: "opset 9 linear is asymmetric", opType: "Upsample", opset: 9, attrs: attrs("mode", "linear"),
			inputs: []*ops.Tensor{x22, scalesT(1, 1, 2, 2)},
			want:   opstest.F32(ops.Shape{1, 1, 4, 4}, 1, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4, 3, 3.5, 4, 4)},
		{name: "opset 7 nearest with a fractional scale", opType: "Upsample", opset: 8,
			attrs: attrs("scales", []float32{1.5}),
			// xo = x/1.5 = 0, 0.67, 1.33, 2 → truncated
			inputs: []*ops.Tensor{opstest.F32(ops.Shape{3}, 1, 2, 3)},
			want:   opstest.F32(ops.Shape{4}, 1, 1, 2, 3)},
	})
}

func TestResizeDTypes(t *testing.T) {
	runResizeCases(t, []resizeCase{
		{name: "uint8 linear rounds", opset: 13, attrs: attrs("mode", "linear"),
			// 63.75 → 64, 191.25 → 191
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []uint8{0, 255}), nil, scalesT(2)},
			want:   ops.FromSlice(ops.Shape{4}, []uint8{0, 64, 191, 255})},
		{name: "int8 cubic saturates", opset: 13, attrs: attrs("mode", "cubic"),
			// -154.89, -70.23, 69.23, 153.89 → clipped to [-128, 127]
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []int8{-128, 127}), nil, scalesT(2)},
			want:   ops.FromSlice(ops.Shape{4}, []int8{-128, -70, 69, 127})},
		{name: "int32 nearest", opset: 19,
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1, 2}, []int32{-5, 7}), nil, nil, sizesT(2, 3)},
			want:   ops.FromSlice(ops.Shape{2, 3}, []int32{-5, -5, 7, -5, -5, 7})},
		{name: "int64 linear", opset: 19, attrs: attrs("mode", "linear"),
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []int64{0, 1000}), nil, scalesT(2)},
			want:   ops.FromSlice(ops.Shape{4}, []int64{0, 250, 750, 1000})},
		{name: "float16 linear", opset: 19, attrs: attrs("mode", "linear"),
			inputs: []*ops.Tensor{f16(1, 2), nil, scalesT(2)},
			want:   f16(1, 1.25, 1.75, 2)},
		{name: "bfloat16 nearest", opset: 19,
			inputs: []*ops.Tensor{bf16(1, 2), nil, scalesT(2)},
			want:   bf16(1, 1, 2, 2)},
		{name: "string nearest", opset: 19,
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []string{"a", "b"}), nil, scalesT(2)},
			want:   ops.FromSlice(ops.Shape{4}, []string{"a", "a", "b", "b"})},
		{name: "bool nearest", opset: 19,
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{2}, []bool{true, false}), nil, scalesT(1.5)},
			want:   ops.FromSlice(ops.Shape{3}, []bool{true, true, false})},
	})
}

func f16(v ...float32) *ops.Tensor {
	d := make([]ops.Float16Bits, len(v))
	for i, x := range v {
		d[i] = ops.Float16FromFloat32(x)
	}
	return ops.FromSlice(ops.Shape{len(v)}, d)
}

func bf16(v ...float32) *ops.Tensor {
	d := make([]ops.BFloat16Bits, len(v))
	for i, x := range v {
		d[i] = ops.BFloat16FromFloat32(x)
	}
	return ops.FromSlice(ops.Shape{len(v)}, d)
}

func TestResizeErrors(t *testing.T) {
	x := opstest.F32(ops.Shape{1, 1, 2, 2}, 1, 2, 3, 4)
	cases := []struct {
		name     string
		opType   string
		opset    int
		attrs    ops.AttrMap
		inputs   []*ops.Tensor
		nonConst []int
		want     string
		is       error
	}{
		{name: "scales and sizes both", opset: 13, inputs: []*ops.Tensor{x, nil, scalesT(1, 1, 2, 2), sizesT(1, 1, 4, 4)},
			want: "both scales [4] and sizes [4] are given", is: ops.ErrInvalid},
		{name: "neither scales nor sizes", opset: 13, inputs: []*ops.Tensor{x, nil, opstest.F32(ops.Shape{0})},
			want: "neither scales nor sizes", is: ops.ErrInvalid},
		{name: "scales too short", opset: 13, inputs: []*ops.Tensor{x, nil, scalesT(2, 2)},
			want: "scales has 2 entries, want 4 (the rank of X [1,1,2,2])", is: ops.ErrInvalid},
		{name: "sizes length against axes", opset: 18, attrs: attrs("axes", []int64{2, 3}), inputs: []*ops.Tensor{x, nil, nil, sizesT(4, 4, 4)},
			want: "sizes has 3 entries, want 2 (the length of axes [2 3])", is: ops.ErrInvalid},
		{name: "zero scale", opset: 19, inputs: []*ops.Tensor{x, nil, scalesT(1, 1, 0, 2)},
			want: "scales[2] = 0, want > 0", is: ops.ErrInvalid},
		{name: "negative scale", opset: 10, inputs: []*ops.Tensor{x, scalesT(1, 1, -2, 2)},
			want: "scales[2] = -2, want > 0", is: ops.ErrInvalid},
		{name: "negative size", opset: 13, inputs: []*ops.Tensor{x, nil, nil, sizesT(1, 1, -1, 2)},
			want: "sizes[2] = -1 is not a valid length", is: ops.ErrInvalid},
		{name: "upsample shrinking", opType: "Upsample", opset: 9, inputs: []*ops.Tensor{x, scalesT(1, 1, 0.5, 2)},
			want: "scales[2] = 0.5, want >= 1", is: ops.ErrInvalid},
		{name: "upsample-7 without scales", opType: "Upsample", opset: 7, inputs: []*ops.Tensor{x},
			want: `attribute "scales" is required`, is: ops.ErrInvalid},
		{name: "upsample-7 scales length", opType: "Upsample", opset: 7, attrs: attrs("scales", []float32{2, 2}), inputs: []*ops.Tensor{x},
			want: "scales has 2 entries, want 4", is: ops.ErrInvalid},
		{name: "opset 11 needs scales input", opset: 11, inputs: []*ops.Tensor{x, opstest.F32(ops.Shape{0}), nil, sizesT(1, 1, 4, 4)},
			want: "input 2 (scales) is required at opset 11", is: ops.ErrInvalid},
		{name: "unknown mode", opset: 13, attrs: attrs("mode", "bilinear"), inputs: []*ops.Tensor{x, nil, scalesT(1, 1, 2, 2)},
			want: `attribute "mode" is "bilinear", want nearest, linear or cubic`, is: ops.ErrInvalid},
		{name: "cubic before opset 11", opset: 10, attrs: attrs("mode", "cubic"), inputs: []*ops.Tensor{x, scalesT(1, 1, 2, 2)},
			want: "want nearest or linear", is: ops.ErrInvalid},
		{name: "half_pixel_symmetric before opset 19", opset: 18, attrs: attrs("coordinate_transformation_mode", "half_pixel_symmetric"),
			inputs: []*ops.Tensor{x, nil, scalesT(1, 1, 2, 2)}, want: "not a mode opset 18 defines", is: ops.ErrInvalid},
		{name: "tf_half_pixel_for_nn after opset 12", opset: 13, attrs: attrs("coordinate_transformation_mode", "tf_half_pixel_for_nn"),
			inputs: []*ops.Tensor{x, nil, scalesT(1, 1, 2, 2)}, want: "not a mode opset 13 defines", is: ops.ErrInvalid},
		{name: "bad nearest_mode", opset: 13, attrs: attrs("nearest_mode", "round"),
			inputs: []*ops.Tensor{x, nil, scalesT(1, 1, 2, 2)}, want: `"nearest_mode" is "round"`, is: ops.ErrInvalid},
		{name: "bad keep_aspect_ratio_policy", opset: 18, attrs: attrs("keep_aspect_ratio_policy", "fit"),
			inputs: []*ops.Tensor{x, nil, nil, sizesT(1, 1, 4, 4)}, want: `"keep_aspect_ratio_policy" is "fit"`, is: ops.ErrInvalid},
		{name: "tf_crop_and_resize without roi", opset: 13, attrs: attrs("coordinate_transformation_mode", "tf_crop_and_resize"),
			inputs: []*ops.Tensor{x, nil, scalesT(1, 1, 2, 2)}, want: "tf_crop_and_resize needs the roi input", is: ops.ErrInvalid},
		{name: "roi length", opset: 13, attrs: attrs("coordinate_transformation_mode", "tf_crop_and_resize"),
			inputs: []*ops.Tensor{x, opstest.F32(ops.Shape{4}, 0, 0, 1, 1), scalesT(1, 1, 2, 2)},
			want:   "roi has 4 entries, want 2×4", is: ops.ErrInvalid},
		{name: "repeated axis", opset: 18, attrs: attrs("axes", []int64{2, -2}), inputs: []*ops.Tensor{x, nil, scalesT(2, 2)},
			want: "name axis 2 twice", is: ops.ErrInvalid},
		{name: "axis out of range", opset: 18, attrs: attrs("axes", []int64{4}), inputs: []*ops.Tensor{x, nil, scalesT(2)},
			want: "axes[0] = 4 is out of range [-4, 3]", is: ops.ErrInvalid},
		{name: "resize an empty axis to a non-empty one", opset: 13, inputs: []*ops.Tensor{opstest.F32(ops.Shape{0, 2}), nil, nil, sizesT(2, 2)},
			want: "axis 0 of X [0,2] is empty", is: ops.ErrInvalid},
		{name: "scalar", opset: 13, inputs: []*ops.Tensor{opstest.F32(ops.Shape{}, 1), nil, opstest.F32(ops.Shape{0})},
			want: "X is a scalar", is: ops.ErrInvalid},
		{name: "linear on strings", opset: 13, attrs: attrs("mode", "linear"),
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []string{"a"}), nil, scalesT(2)},
			want:   "Resize linear mode on string data", is: ops.ErrUnsupported},
		{name: "scales not constant", opset: 13, inputs: []*ops.Tensor{x, nil, scalesT(1, 1, 2, 2)}, nonConst: []int{2},
			want: `input "scales" is not a constant`, is: ops.ErrDynamicShape},
		{name: "upsample at opset 10", opType: "Upsample", opset: 10, inputs: []*ops.Tensor{x, scalesT(1, 1, 2, 2)},
			want: "not registered"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op := c.opType
			if op == "" {
				op = "Resize"
			}
			_, err := opstest.Run(opstest.Node{OpType: op, Opset: c.opset, Attrs: c.attrs, Inputs: c.inputs, NonConstInputs: c.nonConst})
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("error %q does not wrap %v", err, c.is)
			}
		})
	}
}

// prepared builds, infers and prepares a Resize node, for tests that call the kernel directly.
func prepared(t testing.TB, opset int, a ops.AttrMap, inputs []*ops.Tensor) (ops.Kernel, *ops.Tensor) {
	t.Helper()
	build, _, ok := ops.Lookup("", "Resize", opset)
	if !ok {
		t.Fatal("Resize not registered")
	}
	present := make([]bool, len(inputs))
	vi := make([]ops.ValueInfo, len(inputs))
	for i, x := range inputs {
		present[i] = x != nil
		if x != nil {
			vi[i] = ops.ValueInfo{DType: x.DType(), Shape: x.Shape(), Const: x}
		}
	}
	op, err := build(ops.NodeInfo{OpType: "Resize", Opset: opset, Attrs: a, NumInputs: len(inputs), NumOutputs: 1, InputPresent: present})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := op.InferShapes(vi)
	if err != nil {
		t.Fatal(err)
	}
	k, err := op.Prepare(vi, outs)
	if err != nil {
		t.Fatal(err)
	}
	return k, ops.New(outs[0].DType, outs[0].Shape)
}

func TestResizeRunDoesNotAllocate(t *testing.T) {
	x := opstest.F32(ops.Shape{2, 3, 5, 7}, make([]float32, 2*3*5*7)...)
	for _, mode := range []string{"nearest", "linear", "cubic"} {
		k, out := prepared(t, 19, attrs("mode", mode, "antialias", 1), []*ops.Tensor{x, nil, scalesT(1, 1, 0.7, 1.6)})
		ctx := ops.SerialContext()
		in, outs := []*ops.Tensor{x, nil, nil}, []*ops.Tensor{out}
		if n := testing.AllocsPerRun(10, func() { _ = k.Run(ctx, in, outs) }); n != 0 {
			t.Errorf("%s: Run allocates %v times", mode, n)
		}
	}
}

func BenchmarkResizeBilinear(b *testing.B) {
	// A segmentation-style 2× bilinear upsample of a 1×32×64×64 feature map.
	x := opstest.F32(ops.Shape{1, 32, 64, 64}, make([]float32, 32*64*64)...)
	k, out := prepared(b, 19, attrs("mode", "linear"), []*ops.Tensor{x, nil, scalesT(1, 1, 2, 2)})
	ctx := ops.SerialContext()
	in, outs := []*ops.Tensor{x, nil, nil}, []*ops.Tensor{out}
	b.ReportAllocs()
	for b.Loop() {
		_ = k.Run(ctx, in, outs)
	}
}

func BenchmarkResizeNearest(b *testing.B) {
	x := opstest.F32(ops.Shape{1, 32, 64, 64}, make([]float32, 32*64*64)...)
	k, out := prepared(b, 19, nil, []*ops.Tensor{x, nil, scalesT(1, 1, 2, 2)})
	ctx := ops.SerialContext()
	in, outs := []*ops.Tensor{x, nil, nil}, []*ops.Tensor{out}
	b.ReportAllocs()
	for b.Loop() {
		_ = k.Run(ctx, in, outs)
	}
}
