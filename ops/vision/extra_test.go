package vision

import (
	"errors"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

type opCase struct {
	name   string
	opType string
	opset  int
	attrs  ops.AttrMap
	inputs []*ops.Tensor
	want   *ops.Tensor
}

func runOpCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.opType+"/"+c.name, func(t *testing.T) {
			out, err := opstest.Run(opstest.Node{OpType: c.opType, Opset: c.opset, Attrs: c.attrs, Inputs: c.inputs})
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

type errCase struct {
	name   string
	opType string
	opset  int
	attrs  ops.AttrMap
	inputs []*ops.Tensor
	want   string
	is     error
}

func runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.opType+"/"+c.name, func(t *testing.T) {
			_, err := opstest.Run(opstest.Node{OpType: c.opType, Opset: c.opset, Attrs: c.attrs, Inputs: c.inputs})
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

func TestCenterCropPad(t *testing.T) {
	x34 := opstest.F32(ops.Shape{3, 4}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	runOpCases(t, []opCase{
		// Axis 0: crop 3 → 2 starting at floor(1/2) = 0; axis 1: pad 4 → 7 with floor(3/2) = 1 zero before, 2 after.
		{name: "crop and pad", opType: "CenterCropPad", opset: 18, inputs: []*ops.Tensor{x34, sizesT(2, 7)},
			want: opstest.F32(ops.Shape{2, 7}, 0, 0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 7, 0, 0)},
		// Axis 1 only (as -1): crop 4 → 1 starting at floor(3/2) = 1.
		{name: "negative axis", opType: "CenterCropPad", opset: 18, attrs: attrs("axes", []int64{-1}),
			inputs: []*ops.Tensor{x34, sizesT(1)}, want: opstest.F32(ops.Shape{3, 1}, 1, 5, 9)},
		{name: "int32 index input", opType: "CenterCropPad", opset: 18, attrs: attrs("axes", []int64{0}),
			inputs: []*ops.Tensor{x34, ops.FromSlice(ops.Shape{1}, []int32{4})},
			want:   opstest.F32(ops.Shape{4, 4}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0)},
		{name: "strings pad with empty strings", opType: "CenterCropPad", opset: 21,
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []string{"a"}), sizesT(3)},
			want:   ops.FromSlice(ops.Shape{3}, []string{"", "a", ""})},
	})
	runErrCases(t, []errCase{
		{name: "shape length", opType: "CenterCropPad", opset: 18, inputs: []*ops.Tensor{x34, sizesT(2)},
			want: "shape has 1 entries, want 2 (the rank of input_data [3,4])", is: ops.ErrInvalid},
		{name: "negative length", opType: "CenterCropPad", opset: 18, inputs: []*ops.Tensor{x34, sizesT(2, -1)},
			want: "shape[1] = -1 is not a valid length", is: ops.ErrInvalid},
		{name: "repeated axis", opType: "CenterCropPad", opset: 18, attrs: attrs("axes", []int64{1, -1}),
			inputs: []*ops.Tensor{x34, sizesT(2, 2)}, want: "name axis 1 twice", is: ops.ErrInvalid},
		{name: "float shape", opType: "CenterCropPad", opset: 18, inputs: []*ops.Tensor{x34, scalesT(2, 2)},
			want: `input "shape" has dtype float32, want int64`, is: ops.ErrInvalid},
	})
}

func TestCol2Im(t *testing.T) {
	// (1, 4, 4): one channel, 2×2 blocks, 4 block positions. Reference:
	//	for b, l: bh, bw = divmod(b, 2); lh, lw = divmod(l, 2)
	//	    h, w = lh*stride - pad + bh*dil, lw*stride - pad + bw*dil; if inside: img[h, w] += x[0, b, l]
	x := opstest.F32(ops.Shape{1, 4, 4}, seq(16)...)
	runOpCases(t, []opCase{
		{name: "overlapping blocks", opType: "Col2Im", opset: 18, inputs: []*ops.Tensor{x, sizesT(3, 3), sizesT(2, 2)},
			want: opstest.F32(ops.Shape{1, 1, 3, 3}, 1, 7, 6, 12, 34, 22, 11, 27, 16)},
		{name: "strides and pads", opType: "Col2Im", opset: 18, attrs: attrs("strides", []int64{2, 2}, "pads", []int64{1, 1, 1, 1}),
			inputs: []*ops.Tensor{x, sizesT(3, 3), sizesT(2, 2)},
			want:   opstest.F32(ops.Shape{1, 1, 3, 3}, 13, 10, 14, 7, 4, 8, 15, 12, 16)},
		// Two channels of 1-D blocks of 2 with dilation 2 on an image of 4: positions 0 and 1.
		{name: "1-D dilated int64", opType: "Col2Im", opset: 18, attrs: attrs("dilations", []int64{2}),
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1, 4, 2}, []int64{1, 2, 3, 4, 5, 6, 7, 8}), sizesT(4), sizesT(2)},
			want:   ops.FromSlice(ops.Shape{1, 2, 4}, []int64{1, 2, 3, 4, 5, 6, 7, 8})},
		{name: "float16", opType: "Col2Im", opset: 18,
			inputs: []*ops.Tensor{reshape(f16(1, 2, 3, 4), ops.Shape{1, 2, 2}), sizesT(3), sizesT(2)},
			want:   reshape(f16(1, 5, 4), ops.Shape{1, 1, 3})},
	})
	runErrCases(t, []errCase{
		{name: "block count", opType: "Col2Im", opset: 18, inputs: []*ops.Tensor{x, sizesT(4, 4), sizesT(2, 2)},
			want: "input dimension 2 = 4, want 9 sliding blocks", is: ops.ErrInvalid},
		{name: "channels", opType: "Col2Im", opset: 18, inputs: []*ops.Tensor{x, sizesT(3, 3), sizesT(3, 1)},
			want: "input dimension 1 = 4 is not a multiple of ∏block_shape [3 1] = 3", is: ops.ErrInvalid},
		{name: "pads length", opType: "Col2Im", opset: 18, attrs: attrs("pads", []int64{1, 1}),
			inputs: []*ops.Tensor{x, sizesT(3, 3), sizesT(2, 2)}, want: "pads [1 1] has 2 entries, want 4", is: ops.ErrInvalid},
		{name: "zero stride", opType: "Col2Im", opset: 18, attrs: attrs("strides", []int64{0, 1}),
			inputs: []*ops.Tensor{x, sizesT(3, 3), sizesT(2, 2)}, want: `attribute "strides" [0 1] has entry 0 = 0`, is: ops.ErrInvalid},
		{name: "block larger than image", opType: "Col2Im", opset: 18,
			inputs: []*ops.Tensor{x, sizesT(1, 3), sizesT(2, 2)}, want: "does not fit the padded image length 1", is: ops.ErrInvalid},
	})
}

func reshape(t *ops.Tensor, s ops.Shape) *ops.Tensor { return t.View(s) }

func TestAffineGrid(t *testing.T) {
	theta := opstest.F32(ops.Shape{1, 2, 3}, 1, 2, 3, 4, 5, 6)
	// Positions: W=3 → x = -1 + (2i+1)/3 = -2/3, 0, 2/3 (align_corners: -1, 0, 1); H=2 → y = -0.5, 0.5
	// (align_corners: -1, 1). grid = (1x + 2y + 3, 4x + 5y + 6).
	runOpCases(t, []opCase{
		{name: "2d", opType: "AffineGrid", opset: 20, inputs: []*ops.Tensor{theta, sizesT(1, 7, 2, 3)},
			want: opstest.F32(ops.Shape{1, 2, 3, 2}, f32s(
				-2.0/3-1+3, -8.0/3-2.5+6, 0-1+3, 0-2.5+6, 2.0/3-1+3, 8.0/3-2.5+6,
				-2.0/3+1+3, -8.0/3+2.5+6, 0+1+3, 0+2.5+6, 2.0/3+1+3, 8.0/3+2.5+6)...)},
		{name: "2d align_corners", opType: "AffineGrid", opset: 20, attrs: attrs("align_corners", 1),
			inputs: []*ops.Tensor{theta, sizesT(1, 7, 2, 3)},
			want: opstest.F32(ops.Shape{1, 2, 3, 2}, -1-2+3, -4-5+6, 0-2+3, 0-5+6, 1-2+3, 4-5+6,
				-1+2+3, -4+5+6, 0+2+3, 0+5+6, 1+2+3, 4+5+6)},
		// Identity 3-D theta: the grid is the positions themselves, x fastest. D=1 → z = 0; H=1 → y = 0;
		// W=2 → x = -0.5, 0.5.
		{name: "3d identity float64", opType: "AffineGrid", opset: 20,
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1, 3, 4}, []float64{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}), sizesT(1, 1, 1, 1, 2)},
			want:   ops.FromSlice(ops.Shape{1, 1, 1, 2, 3}, []float64{-0.5, 0, 0, 0.5, 0, 0})},
	})
	runErrCases(t, []errCase{
		{name: "theta shape", opType: "AffineGrid", opset: 20, inputs: []*ops.Tensor{theta, sizesT(2, 1, 2, 3)},
			want: "theta has shape [1,2,3], want [2,2,3] for size [2 1 2 3]", is: ops.ErrInvalid},
		{name: "size length", opType: "AffineGrid", opset: 20, inputs: []*ops.Tensor{theta, sizesT(1, 2, 3)},
			want: "size [1 2 3] has 3 entries, want 4", is: ops.ErrInvalid},
		{name: "zero size", opType: "AffineGrid", opset: 20, inputs: []*ops.Tensor{theta, sizesT(1, 1, 0, 3)},
			want: "size[2] = 0, want a positive length", is: ops.ErrInvalid},
	})
}

func TestGridSample(t *testing.T) {
	x := opstest.F32(ops.Shape{1, 1, 2, 2}, 1, 2, 3, 4)
	// Five grid points (x, y): (0,0), (-1,-1), (1,-0.5), (1.6,0.2), (-2.3,0.9). Reference per axis of
	// length L: align_corners ? (n+1)/2*(L-1) : ((n+1)L-1)/2; nearest rounds half to even; out-of-range
	// coordinates clamp (border) or reflect at [0, L-1] / [-0.5, L-0.5] (reflection); taps outside read 0
	// (zeros), the clamped or the reflected pixel.
	grid := opstest.F32(ops.Shape{1, 1, 5, 2}, 0, 0, -1, -1, 1, -0.5, 1.6, 0.2, -2.3, 0.9)
	out := ops.Shape{1, 1, 1, 5}
	gs := func(name string, opset int, a ops.AttrMap, want ...float32) opCase {
		return opCase{name: name, opType: "GridSample", opset: opset, attrs: a, inputs: []*ops.Tensor{x, grid}, want: opstest.F32(out, want...)}
	}
	runOpCases(t, []opCase{
		gs("bilinear zeros", 16, nil, 2.5, 0.25, 1, 0, 0),
		gs("linear zeros align_corners", 20, attrs("align_corners", 1), 2.5, 1, 2.5, 2.24, 1.015),
		gs("linear border", 22, attrs("padding_mode", "border"), 2.5, 1, 2, 3.4, 3),
		gs("linear border align_corners", 22, attrs("padding_mode", "border", "align_corners", 1), 2.5, 1, 2.5, 3.2, 2.9),
		gs("linear reflection", 22, attrs("padding_mode", "reflection"), 2.5, 1, 2, 3.3, 3.8),
		gs("linear reflection align_corners", 22, attrs("padding_mode", "reflection", "align_corners", 1), 2.5, 1, 2.5, 2.9, 3.55),
		gs("nearest zeros", 16, attrs("mode", "nearest"), 1, 1, 0, 0, 0),
		gs("nearest zeros align_corners", 20, attrs("mode", "nearest", "align_corners", 1), 1, 1, 2, 4, 0),
		gs("nearest border", 20, attrs("mode", "nearest", "padding_mode", "border"), 1, 1, 2, 4, 3),
		gs("nearest reflection", 20, attrs("mode", "nearest", "padding_mode", "reflection"), 1, 1, 2, 4, 4),
		// A constant image stays constant under bicubic sampling inside it (the weights sum to 1).
		{name: "bicubic constant", opType: "GridSample", opset: 16, attrs: attrs("mode", "bicubic", "padding_mode", "border"),
			inputs: []*ops.Tensor{opstest.F32(ops.Shape{1, 1, 2, 2}, 7, 7, 7, 7), grid}, want: opstest.F32(out, 7, 7, 7, 7, 7)},
		{name: "int32 truncates", opType: "GridSample", opset: 20,
			// (0,0) samples 2.5 of [[1,2],[3,4]] → 2
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1, 1, 2, 2}, []int32{1, 2, 3, 4}), opstest.F32(ops.Shape{1, 1, 1, 2}, 0, 0)},
			want:   ops.FromSlice(ops.Shape{1, 1, 1, 1}, []int32{2})},
		// 1-D sampling (opset 20): L=4, x = ((n+1)*4-1)/2 → n=-0.25: 1 → X[1]; n=0: 1.5 → mean of X[1], X[2].
		{name: "1-D float64 grid", opType: "GridSample", opset: 20,
			inputs: []*ops.Tensor{opstest.F32(ops.Shape{1, 1, 4}, 10, 20, 30, 40), ops.FromSlice(ops.Shape{1, 2, 1}, []float64{-0.25, 0})},
			want:   opstest.F32(ops.Shape{1, 1, 2}, 20, 25)},
	})
	runErrCases(t, []errCase{
		{name: "opset 16 is 4-D only", opType: "GridSample", opset: 16,
			inputs: []*ops.Tensor{opstest.F32(ops.Shape{1, 1, 4}, 1, 2, 3, 4), opstest.F32(ops.Shape{1, 1, 1}, 0)},
			want:   "opset 16 takes 4-D (N, C, H, W) only", is: ops.ErrInvalid},
		{name: "grid shape", opType: "GridSample", opset: 20, inputs: []*ops.Tensor{x, opstest.F32(ops.Shape{1, 1, 2, 3}, 0, 0, 0, 0, 0, 0)},
			want: "grid has shape [1,1,2,3], want (N=1, O1, ..., O2, 2)", is: ops.ErrInvalid},
		{name: "mode name at opset 16", opType: "GridSample", opset: 16, attrs: attrs("mode", "linear"), inputs: []*ops.Tensor{x, grid},
			want: `"mode" is "linear", want bilinear, nearest or bicubic at opset 16`, is: ops.ErrInvalid},
		{name: "padding_mode", opType: "GridSample", opset: 22, attrs: attrs("padding_mode", "wrap"), inputs: []*ops.Tensor{x, grid},
			want: `"padding_mode" is "wrap"`, is: ops.ErrInvalid},
		{name: "strings", opType: "GridSample", opset: 22, attrs: attrs("mode", "nearest"),
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1, 1, 1, 1}, []string{"a"}), opstest.F32(ops.Shape{1, 1, 1, 2}, 0, 0)},
			want:   "GridSample on string data", is: ops.ErrUnsupported},
	})
}

func TestRoiAlign(t *testing.T) {
	x := opstest.F32(ops.Shape{1, 1, 4, 4}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
	rois := opstest.F32(ops.Shape{1, 4}, 0, 0, 4, 4)
	idx := opstest.I64(ops.Shape{1}, 0)
	// 2×2 bins of 2×2 pixels, one sample per bin at its centre. output_half_pixel: samples at (1,1), (1,3),
	// (3,1), (3,3) → 5, 7, 13 (row 3 is the last, so no interpolation), 15. half_pixel shifts by -0.5:
	// (0.5,0.5) → mean(0,1,4,5) = 2.5, then 4.5, 10.5, 12.5. max takes the largest weighted corner: 0.25×5.
	runOpCases(t, []opCase{
		{name: "opset 10", opType: "RoiAlign", opset: 10, attrs: attrs("output_height", 2, "output_width", 2, "sampling_ratio", 1),
			inputs: []*ops.Tensor{x, rois, idx}, want: opstest.F32(ops.Shape{1, 1, 2, 2}, 5, 7, 13, 15)},
		{name: "half_pixel", opType: "RoiAlign", opset: 16, attrs: attrs("output_height", 2, "output_width", 2, "sampling_ratio", 1),
			inputs: []*ops.Tensor{x, rois, idx}, want: opstest.F32(ops.Shape{1, 1, 2, 2}, 2.5, 4.5, 10.5, 12.5)},
		{name: "max", opType: "RoiAlign", opset: 22, attrs: attrs("output_height", 1, "output_width", 1, "sampling_ratio", 1, "mode", "max",
			"coordinate_transformation_mode", "output_half_pixel"),
			// one bin of 4×4, one sample at (2,2): weight 1 on pixel 10
			inputs: []*ops.Tensor{x, rois, idx}, want: opstest.F32(ops.Shape{1, 1, 1, 1}, 10)},
		{name: "max half_pixel", opType: "RoiAlign", opset: 22, attrs: attrs("output_height", 2, "output_width", 2, "sampling_ratio", 1, "mode", "max"),
			inputs: []*ops.Tensor{x, rois, idx}, want: opstest.F32(ops.Shape{1, 1, 2, 2}, 1.25, 1.75, 3.25, 3.75)},
		// Adaptive sampling (ratio 0): ceil(4/1) = 4 samples per axis at 0.5, 1.5, 2.5, 3.5 (output_half_pixel)
		// where 3.5 clamps to 3. X = 4y + x is linear, so the mean is 4·mean(y) + mean(x), mean = 7.5/4 = 1.875.
		{name: "adaptive float64 spatial_scale", opType: "RoiAlign", opset: 10, attrs: attrs("spatial_scale", 0.5),
			inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1, 1, 4, 4}, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}),
				ops.FromSlice(ops.Shape{1, 4}, []float64{0, 0, 8, 8}), idx},
			want: ops.FromSlice(ops.Shape{1, 1, 1, 1}, []float64{9.375})},
	})
	runErrCases(t, []errCase{
		{name: "batch index out of range", opType: "RoiAlign", opset: 16, inputs: []*ops.Tensor{x, rois, opstest.I64(ops.Shape{1}, 1)},
			want: "batch_indices[0] = 1 is out of range [0, 1)", is: ops.ErrInvalid},
		{name: "rois shape", opType: "RoiAlign", opset: 16, inputs: []*ops.Tensor{x, opstest.F32(ops.Shape{1, 3}, 0, 0, 1), idx},
			want: "rois has shape [1,3], want (num_rois, 4)", is: ops.ErrInvalid},
		{name: "indices length", opType: "RoiAlign", opset: 16, inputs: []*ops.Tensor{x, rois, opstest.I64(ops.Shape{2}, 0, 0)},
			want: "batch_indices has shape [2], want (1)", is: ops.ErrInvalid},
		{name: "mode", opType: "RoiAlign", opset: 16, attrs: attrs("mode", "sum"), inputs: []*ops.Tensor{x, rois, idx},
			want: `"mode" is "sum", want avg or max`, is: ops.ErrInvalid},
		{name: "output size", opType: "RoiAlign", opset: 16, attrs: attrs("output_height", 0), inputs: []*ops.Tensor{x, rois, idx},
			want: `"output_height" is 0, want >= 1`, is: ops.ErrInvalid},
		{name: "not finite roi", opType: "RoiAlign", opset: 16,
			inputs: []*ops.Tensor{x, opstest.F32(ops.Shape{1, 4}, 0, 0, float32(posInf()), 4), idx},
			want:   "is not finite", is: ops.ErrInvalid},
	})
}

func posInf() float64 { var z float64; return 1 / z }

// TestExtraKernelsDoNotAllocate runs each kernel of the extra ops twice and checks the second run
// allocates nothing.
func TestExtraKernelsDoNotAllocate(t *testing.T) {
	cases := []struct {
		op     string
		opset  int
		attrs  ops.AttrMap
		inputs []*ops.Tensor
	}{
		{"CenterCropPad", 18, nil, []*ops.Tensor{opstest.F32(ops.Shape{3, 4}, seq(12)...), sizesT(2, 7)}},
		{"Col2Im", 18, nil, []*ops.Tensor{opstest.F32(ops.Shape{1, 4, 4}, seq(16)...), sizesT(3, 3), sizesT(2, 2)}},
		{"AffineGrid", 20, nil, []*ops.Tensor{opstest.F32(ops.Shape{1, 2, 3}, seq(6)...), sizesT(1, 1, 4, 5)}},
		{"GridSample", 20, attrs("mode", "cubic"), []*ops.Tensor{opstest.F32(ops.Shape{1, 2, 2, 2}, seq(8)...),
			opstest.F32(ops.Shape{1, 1, 2, 2}, 0.1, 0.2, -0.3, 0.9)}},
		{"RoiAlign", 16, attrs("output_height", 2, "output_width", 2), []*ops.Tensor{opstest.F32(ops.Shape{1, 1, 4, 4}, seq(16)...),
			opstest.F32(ops.Shape{1, 4}, 0, 0, 3, 3), opstest.I64(ops.Shape{1}, 0)}},
	}
	for _, c := range cases {
		t.Run(c.op, func(t *testing.T) {
			build, _, ok := ops.Lookup("", c.op, c.opset)
			if !ok {
				t.Fatal("not registered")
			}
			vi := make([]ops.ValueInfo, len(c.inputs))
			present := make([]bool, len(c.inputs))
			for i, x := range c.inputs {
				vi[i] = ops.ValueInfo{DType: x.DType(), Shape: x.Shape(), Const: x}
				present[i] = true
			}
			op, err := build(ops.NodeInfo{OpType: c.op, Opset: c.opset, Attrs: c.attrs, NumInputs: len(c.inputs), NumOutputs: 1, InputPresent: present})
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
			out := []*ops.Tensor{ops.New(outs[0].DType, outs[0].Shape)}
			ctx := ops.SerialContext()
			if n := testing.AllocsPerRun(10, func() { _ = k.Run(ctx, c.inputs, out) }); n != 0 {
				t.Errorf("Run allocates %v times", n)
			}
		})
	}
}

// CenterCropPad's shape inference must not allocate in proportion to the target shape: the runtime checks
// the output against its limits only after InferShapes returns, and a target of 2^31 is well formed
// (FuzzNode found it building 16 GiB index tables there; runtime/testdata/fuzz/FuzzNode/23cad0ea26c3ad35).
func TestCenterCropPadHugeTargetInfersWithoutAllocating(t *testing.T) {
	build, _, _ := ops.Lookup("", "CenterCropPad", 18)
	op, err := build(ops.NodeInfo{OpType: "CenterCropPad", Opset: 18, NumInputs: 2, NumOutputs: 1})
	if err != nil {
		t.Fatal(err)
	}
	target := ops.FromSlice(ops.Shape{2}, []int64{6, 1 << 31})
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	infos, err := op.InferShapes([]ops.ValueInfo{{DType: ops.Uint32, Shape: ops.Shape{0, 0}}, {DType: ops.Int64, Shape: ops.Shape{2}, Const: target}})
	goruntime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !infos[0].Shape.Equal(ops.Shape{6, 1 << 31}) {
		t.Errorf("shape %v, want [6 2147483648]", infos[0].Shape)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("InferShapes allocated %d bytes", grew)
	}
}
