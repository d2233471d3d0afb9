package vision

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// FuzzImageOps builds one node of this package's ops from the bytes (op, opset, attributes, small input
// shapes and values, including NaN, infinities and huge numbers) and runs it. Whatever the bytes, nothing
// may panic, and every error must wrap ops.ErrInvalid or ops.ErrUnsupported. `go test` replays the seeds;
// run `go test ./ops/vision -fuzz FuzzImageOps -fuzztime 30s` to search further.
func FuzzImageOps(f *testing.F) {
	for i := 0; i < 64; i++ {
		f.Add([]byte{byte(i), byte(i * 7), byte(i * 13), 3, 2, 1, 4, 0, 9, 200, 17, 5, 64, 1, 2, 3})
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		src := &fuzzBytes{b: b}
		n := fuzzNode(src)
		_, err := opstest.Run(n)
		switch {
		case err == nil, errors.Is(err, ops.ErrInvalid), errors.Is(err, ops.ErrUnsupported):
		case strings.Contains(err.Error(), "over the limit"): // opstest's own cap on output sizes
		default:
			t.Fatalf("%s opset %d %v: error of no kind: %v", n.OpType, n.Opset, n.Attrs, err)
		}
	})
}

type fuzzBytes struct {
	b []byte
	i int
}

func (s *fuzzBytes) byte() byte {
	if s.i >= len(s.b) {
		return 0
	}
	s.i++
	return s.b[s.i-1]
}

func (s *fuzzBytes) intn(n int) int { return int(s.byte()) % n }

func (s *fuzzBytes) float() float32 {
	switch v := s.byte(); v {
	case 250:
		return float32(math.NaN())
	case 251:
		return float32(math.Inf(1))
	case 252:
		return float32(math.Inf(-1))
	case 253:
		return 1e30
	case 254:
		return -1e30
	case 255:
		return 1e-30
	default:
		return float32(int(v)-100) / 16
	}
}

func (s *fuzzBytes) shape(rank int) ops.Shape {
	sh := make(ops.Shape, rank)
	for i := range sh {
		sh[i] = s.intn(4)
	}
	return sh
}

func (s *fuzzBytes) f32(sh ops.Shape) *ops.Tensor {
	v := make([]float32, sh.Size())
	for i := range v {
		v[i] = s.float()
	}
	return opstest.F32(sh, v...)
}

func (s *fuzzBytes) i64(n int) *ops.Tensor {
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(s.byte()%24) - 4 // small lengths: opstest allocates what the op asks for
		if s.byte() == 255 {
			v[i] = math.MaxInt64 - int64(s.byte())
		}
	}
	return opstest.I64(ops.Shape{n}, v...)
}

func (s *fuzzBytes) pick(options ...string) string { return options[s.intn(len(options))] }

func fuzzNode(s *fuzzBytes) opstest.Node {
	a := ops.AttrMap{}
	switch s.intn(6) {
	case 0:
		opset := []int{10, 11, 13, 18, 19}[s.intn(5)]
		a["mode"] = ops.StringAttr(s.pick("nearest", "linear", "cubic"))
		a["coordinate_transformation_mode"] = ops.StringAttr(s.pick("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
			"align_corners", "asymmetric", "tf_crop_and_resize", "tf_half_pixel_for_nn"))
		a["nearest_mode"] = ops.StringAttr(s.pick("round_prefer_floor", "round_prefer_ceil", "floor", "ceil"))
		a["antialias"] = ops.IntAttr(int64(s.intn(2)))
		a["exclude_outside"] = ops.IntAttr(int64(s.intn(2)))
		a["cubic_coeff_a"] = ops.FloatAttr(s.float())
		a["extrapolation_value"] = ops.FloatAttr(s.float())
		a["keep_aspect_ratio_policy"] = ops.StringAttr(s.pick("stretch", "not_larger", "not_smaller"))
		rank := 1 + s.intn(4)
		x := s.f32(s.shape(rank))
		n := rank
		if s.intn(2) == 0 {
			a["axes"] = ops.IntsAttr(int64(s.intn(2*rank) - rank))
			n = 1
		}
		roi := s.f32(ops.Shape{2 * n})
		var scales, sizes *ops.Tensor
		if s.intn(2) == 0 {
			scales = s.f32(ops.Shape{n})
		} else {
			sizes = s.i64(n)
		}
		if opset == 10 {
			return opstest.Node{OpType: "Resize", Opset: opset, Attrs: a, Inputs: []*ops.Tensor{x, s.f32(ops.Shape{rank})}}
		}
		return opstest.Node{OpType: "Resize", Opset: opset, Attrs: a, Inputs: []*ops.Tensor{x, roi, scales, sizes}}
	case 1:
		a["axes"] = ops.IntsAttr(int64(s.intn(4)) - 2)
		x := s.f32(s.shape(2))
		return opstest.Node{OpType: "CenterCropPad", Opset: 18, Attrs: a, Inputs: []*ops.Tensor{x, s.i64(1)}}
	case 2:
		a["strides"] = ops.IntsAttr(int64(s.intn(3)), int64(s.intn(3)))
		a["dilations"] = ops.IntsAttr(int64(1+s.intn(2)), int64(1+s.intn(2)))
		a["pads"] = ops.IntsAttr(int64(s.intn(2)), 0, int64(s.intn(2)), 1)
		x := s.f32(ops.Shape{1, 1 + s.intn(8), 1 + s.intn(8)})
		return opstest.Node{OpType: "Col2Im", Opset: 18, Attrs: a, Inputs: []*ops.Tensor{x, s.i64(2), s.i64(2)}}
	case 3:
		a["align_corners"] = ops.IntAttr(int64(s.intn(2)))
		r := 2 + s.intn(2)
		theta := s.f32(ops.Shape{1, r, r + 1})
		size := s.i64(r + 2)
		return opstest.Node{OpType: "AffineGrid", Opset: 20, Attrs: a, Inputs: []*ops.Tensor{theta, size}}
	case 4:
		opset := []int{16, 20, 22}[s.intn(3)]
		if opset == 16 {
			a["mode"] = ops.StringAttr(s.pick("bilinear", "nearest", "bicubic"))
		} else {
			a["mode"] = ops.StringAttr(s.pick("linear", "nearest", "cubic"))
		}
		a["padding_mode"] = ops.StringAttr(s.pick("zeros", "border", "reflection"))
		a["align_corners"] = ops.IntAttr(int64(s.intn(2)))
		r := 1 + s.intn(3)
		x := s.f32(append(ops.Shape{1, 1}, s.shape(r)...))
		grid := s.f32(append(append(ops.Shape{1}, s.shape(r)...), r))
		return opstest.Node{OpType: "GridSample", Opset: opset, Attrs: a, Inputs: []*ops.Tensor{x, grid}}
	default:
		a["mode"] = ops.StringAttr(s.pick("avg", "max"))
		a["coordinate_transformation_mode"] = ops.StringAttr(s.pick("half_pixel", "output_half_pixel"))
		a["output_height"] = ops.IntAttr(int64(1 + s.intn(3)))
		a["output_width"] = ops.IntAttr(int64(1 + s.intn(3)))
		a["sampling_ratio"] = ops.IntAttr(int64(s.intn(3)))
		a["spatial_scale"] = ops.FloatAttr(s.float())
		x := s.f32(ops.Shape{1 + s.intn(2), 1, 1 + s.intn(4), 1 + s.intn(4)})
		k := s.intn(3)
		idx := make([]int64, k)
		for i := range idx {
			idx[i] = int64(s.intn(3)) - 1
		}
		return opstest.Node{OpType: "RoiAlign", Opset: []int{10, 16, 22}[s.intn(3)], Attrs: a,
			Inputs: []*ops.Tensor{x, s.f32(ops.Shape{k, 4}), opstest.I64(ops.Shape{k}, idx...)}}
	}
}
