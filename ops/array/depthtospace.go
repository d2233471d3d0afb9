package array

import "github.com/onnxrun/onnxrun/ops"

// DepthToSpace moves blocks of channels into blocks of pixels; SpaceToDepth is its inverse (in DCR order).
// https://onnx.ai/onnx/operators/onnx__DepthToSpace.html — opsets 1, 11, 13.
// https://onnx.ai/onnx/operators/onnx__SpaceToDepth.html — opsets 1, 13.
//
// Both are a reshape to 6-D, a transpose and a reshape back, so Prepare writes them as one copyPlan over the
// 6-D view of the output.
func init() {
	ops.Register("", "DepthToSpace",
		ops.Since(1, buildDepthToSpace(false)),
		ops.Since(11, buildDepthToSpace(true)), // opset 11: mode attribute (DCR or CRD)
		ops.Since(13, buildDepthToSpace(true)), // opset 13: bfloat16
	)
	ops.Register("", "SpaceToDepth",
		ops.Since(1, buildSpaceToDepth),
		ops.Since(13, buildSpaceToDepth), // opset 13: bfloat16
	)
}

type depthToSpaceOp struct {
	block int
	crd   bool // column-row-depth order; the default DCR is depth-column-row
}

func readBlocksize(n ops.NodeInfo) (int, *ops.AttrReader, error) {
	r := ops.NewAttrReader(n.Attrs)
	if !r.Has("blocksize") {
		return 0, r, &ops.AttrError{Name: "blocksize", Msg: "is required"}
	}
	b := r.Int("blocksize", 0)
	if err := r.Err(); err != nil {
		return 0, r, err
	}
	if b < 1 || b > 1<<16 {
		return 0, r, &ops.AttrError{Name: "blocksize", Msg: "must be positive, is " + itoa(b)}
	}
	return int(b), r, nil
}

func buildDepthToSpace(hasMode bool) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		b, r, err := readBlocksize(n)
		if err != nil {
			return nil, err
		}
		o := &depthToSpaceOp{block: b}
		if hasMode {
			switch mode := r.String("mode", "DCR"); mode {
			case "DCR":
			case "CRD":
				o.crd = true
			default:
				return nil, &ops.AttrError{Name: "mode", Msg: "is " + quote(mode) + ", want \"DCR\" or \"CRD\""}
			}
		}
		return o, r.Err()
	}
}

func check4D(v ops.ValueInfo) error {
	if len(v.Shape) != 4 {
		return ops.Invalidf("input has shape %v, want 4-D [N, C, H, W]", v.Shape)
	}
	return nil
}

func (o *depthToSpaceOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if err := check4D(in[0]); err != nil {
		return nil, err
	}
	s, bb := in[0].Shape, o.block*o.block
	if s[1]%bb != 0 {
		return nil, ops.Invalidf("C=%d is not a multiple of blocksize²=%d", s[1], bb)
	}
	out, err := checkedShape(ops.Shape{s[0], s[1] / bb, s[2] * o.block, s[3] * o.block})
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

// Prepare walks the output as [N, C', H, b, W, b] (row-major, so the destination is contiguous) and reads
// input channel i*b*C' + j*C' + c (DCR) or c*b*b + i*b + j (CRD) at pixel (h, w).
func (o *depthToSpaceOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	s, b := in[0].Shape, o.block
	n, c, h, w := s[0], s[1]/(b*b), s[2], s[3]
	hw := h * w
	view := ops.Shape{n, c, h, b, w, b}
	src := []int{s[1] * hw, 0, w, 0, 1, 0}
	if o.crd {
		src[1], src[3], src[5] = b*b*hw, b*hw, hw
	} else {
		src[1], src[3], src[5] = hw, b*c*hw, c*hw
	}
	return newPlanKernel(in[0].DType, newCopyPlan(affineAxes(view, view.Strides(), src), 0, 0))
}

type spaceToDepthOp struct{ block int }

func buildSpaceToDepth(n ops.NodeInfo) (ops.Op, error) {
	b, r, err := readBlocksize(n)
	if err != nil {
		return nil, err
	}
	return &spaceToDepthOp{block: b}, r.Err()
}

func (o *spaceToDepthOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if err := check4D(in[0]); err != nil {
		return nil, err
	}
	s, b := in[0].Shape, o.block
	if s[2]%b != 0 || s[3]%b != 0 {
		return nil, ops.Invalidf("H=%d and W=%d must be multiples of blocksize %d", s[2], s[3], b)
	}
	out, err := checkedShape(ops.Shape{s[0], s[1] * b * b, s[2] / b, s[3] / b})
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

// Prepare walks the output as [N, b, b, C, H/b, W/b]: output channel i*b*C + j*C + c at pixel (h', w') is
// input channel c at pixel (h'*b + i, w'*b + j).
func (o *spaceToDepthOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	s, b := in[0].Shape, o.block
	n, c, h, w := s[0], s[1], s[2], s[3]
	view := ops.Shape{n, b, b, c, h / b, w / b}
	src := []int{c * h * w, w, 1, h * w, b * w, b}
	return newPlanKernel(in[0].DType, newCopyPlan(affineAxes(view, view.Strides(), src), 0, 0))
}
