package vision

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// AffineGrid maps a regular grid of normalised positions in [-1, 1] through a batch of affine matrices,
// giving the sampling grid that GridSample reads (a spatial transformer's grid generator).
// https://onnx.ai/onnx/operators/onnx__AffineGrid.html — opset 20.
//
// For size (N, C, H, W) and theta (N, 2, 3): grid[n, h, w] = theta[n] · (x_w, y_h, 1), with x and y the
// positions of the pixel centres along W and H (-1 + (2i+1)/len, or -1 + 2i/(len-1) with align_corners,
// where -1 and 1 are the corner pixels' centres). 3-D is the same with (N, C, D, H, W), (N, 3, 4) and
// (x_w, y_h, z_d, 1).
func init() {
	ops.Register("", "AffineGrid",
		ops.Since(20, buildAffineGrid),
	)
}

type affineGridOp struct{ alignCorners bool }

func buildAffineGrid(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	ac := r.Int("align_corners", 0)
	if ac != 0 && ac != 1 {
		return nil, &ops.AttrError{Name: "align_corners", Msg: fmt.Sprintf("is %d, want 0 or 1", ac)}
	}
	return &affineGridOp{alignCorners: ac == 1}, r.Err()
}

// ShapeInputs reports that size (input 1) must be known to plan.
func (o *affineGridOp) ShapeInputs() []int { return []int{1} }

// spatial returns the spatial lengths (D,) H, W from size, after checking them against theta.
func (o *affineGridOp) spatial(in []ops.ValueInfo) ([]int, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	theta := in[0]
	if !theta.DType.IsFloat() {
		return nil, ops.Invalidf("theta has dtype %s, want a float type", theta.DType)
	}
	size, err := ops.ConstInts(in[1], "size")
	if err != nil {
		return nil, err
	}
	if len(size) != 4 && len(size) != 5 {
		return nil, ops.Invalidf("size %v has %d entries, want 4 (N, C, H, W) or 5 (N, C, D, H, W)", size, len(size))
	}
	r := len(size) - 2
	if want := (ops.Shape{int(size[0]), r, r + 1}); !theta.Shape.Equal(want) {
		return nil, ops.Invalidf("theta has shape %v, want %v for size %v", theta.Shape, want, size)
	}
	dims := make([]int, r)
	for i, v := range size[2:] {
		if v <= 0 || v >= 1<<31 {
			return nil, ops.Invalidf("size[%d] = %d, want a positive length", i+2, v)
		}
		dims[i] = int(v)
	}
	return dims, nil
}

func (o *affineGridOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	dims, err := o.spatial(in)
	if err != nil {
		return nil, err
	}
	out := append(ops.Shape{in[0].Shape[0]}, dims...)
	out = append(out, len(dims))
	if _, err := out.CheckedSize(0); err != nil {
		return nil, ops.Invalidf("output: %v", err)
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

// affineGridKernel holds the normalised positions along each spatial axis, outermost first.
type affineGridKernel struct {
	pos [][]float64
}

func (o *affineGridOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	dims, err := o.spatial(in)
	if err != nil {
		return nil, err
	}
	k := &affineGridKernel{pos: make([][]float64, len(dims))}
	for d, n := range dims {
		p := make([]float64, n)
		for i := range p {
			switch {
			case !o.alignCorners:
				p[i] = -1 + float64(2*i+1)/float64(n)
			case n > 1:
				p[i] = -1 + 2*float64(i)/float64(n-1)
			}
			// align_corners with one element: its centre is both -1 and 1; 0, as PyTorch does.
		}
		k.pos[d] = p
	}
	return k, nil
}

func (k *affineGridKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	switch th := in[0].Data().(type) {
	case []float32:
		affineGrid(k, th, out[0].Data().([]float32), codecFloat32)
	case []float64:
		affineGrid(k, th, out[0].Data().([]float64), codecFloat64)
	case []ops.Float16Bits:
		affineGrid(k, th, out[0].Data().([]ops.Float16Bits), codecFloat16)
	case []ops.BFloat16Bits:
		affineGrid(k, th, out[0].Data().([]ops.BFloat16Bits), codecBFloat16)
	}
	return nil
}

// affineGrid writes theta[n] · (position, 1) for every grid position.
func affineGrid[T any](k *affineGridKernel, theta, grid []T, c codec[T]) {
	r := len(k.pos)
	batch := len(theta) / (r * (r + 1))
	var p [3]float64
	var o [3]int
	g := 0
	for n := 0; n < batch; n++ {
		th := theta[n*r*(r+1) : (n+1)*r*(r+1)]
		o = [3]int{}
		for {
			// The homogeneous position lists the innermost axis first: (x_w, y_h[, z_d], 1).
			for j := 0; j < r; j++ {
				p[j] = k.pos[r-1-j][o[r-1-j]]
			}
			for row := 0; row < r; row++ {
				acc := c.load(th[row*(r+1)+r])
				for j := 0; j < r; j++ {
					acc += c.load(th[row*(r+1)+j]) * p[j]
				}
				grid[g] = c.store(acc)
				g++
			}
			d := r - 1
			for ; d >= 0; d-- {
				o[d]++
				if o[d] < len(k.pos[d]) {
					break
				}
				o[d] = 0
			}
			if d < 0 {
				break
			}
		}
	}
}
