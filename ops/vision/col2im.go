package vision

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// Col2Im scatters column blocks back into an image, summing where blocks overlap: the inverse layout of
// im2col, like PyTorch's fold.
// https://onnx.ai/onnx/operators/onnx__Col2Im.html — opset 18.
//
// Input (N, C·∏block, L) holds, for every channel, block element b (row-major over block_shape) and block
// position l (row-major over the grid of sliding positions), the value that lands on image element
// l·stride - pad_begin + b·dilation; positions in the padding are dropped. Prepare turns this into one
// table of image offsets (-1 for the padding) shared by every channel.
func init() {
	ops.Register("", "Col2Im",
		ops.Since(18, buildCol2Im),
	)
}

type col2ImOp struct {
	dilations, pads, strides []int64 // nil: the defaults (1, 0, 1)
}

func buildCol2Im(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	o := &col2ImOp{dilations: r.Ints("dilations", nil), pads: r.Ints("pads", nil), strides: r.Ints("strides", nil)}
	for _, a := range []struct {
		name string
		v    []int64
		min  int64
	}{{"dilations", o.dilations, 1}, {"pads", o.pads, 0}, {"strides", o.strides, 1}} {
		for i, x := range a.v {
			if x < a.min || x >= 1<<31 {
				return nil, &ops.AttrError{Name: a.name, Msg: fmt.Sprintf("%v has entry %d = %d, want >= %d", a.v, i, x, a.min)}
			}
		}
	}
	return o, r.Err()
}

// ShapeInputs reports that image_shape and block_shape (inputs 1 and 2) must be known to plan.
func (o *col2ImOp) ShapeInputs() []int { return []int{1, 2} }

// col2ImGeom is the resolved geometry.
type col2ImGeom struct {
	n, c      int
	image     []int
	blockSize int // ∏block_shape
	blocks    int // L
	offsets   []int
}

func (o *col2ImOp) geometry(in []ops.ValueInfo, withTable bool) (*col2ImGeom, error) {
	if err := ops.CheckInputCount(in, 3, 3); err != nil {
		return nil, err
	}
	x := in[0]
	if len(x.Shape) != 3 {
		return nil, ops.Invalidf("input has shape %v, want 3-D (N, C·∏block_shape, L)", x.Shape)
	}
	image, err := ops.ConstInts(in[1], "image_shape")
	if err != nil {
		return nil, err
	}
	block, err := ops.ConstInts(in[2], "block_shape")
	if err != nil {
		return nil, err
	}
	nd := len(image)
	if nd == 0 || len(block) != nd {
		return nil, ops.Invalidf("image_shape %v and block_shape %v must have the same non-zero length", image, block)
	}
	attr := func(name string, v []int64, want int, def int64) ([]int64, error) {
		if v == nil {
			v = make([]int64, want)
			for i := range v {
				v[i] = def
			}
			return v, nil
		}
		if len(v) != want {
			return nil, ops.Invalidf("%s %v has %d entries, want %d for a %d-D image", name, v, len(v), want, nd)
		}
		return v, nil
	}
	dil, err := attr("dilations", o.dilations, nd, 1)
	if err != nil {
		return nil, err
	}
	pads, err := attr("pads", o.pads, 2*nd, 0)
	if err != nil {
		return nil, err
	}
	strides, err := attr("strides", o.strides, nd, 1)
	if err != nil {
		return nil, err
	}
	g := &col2ImGeom{n: x.Shape[0], image: make([]int, nd), blockSize: 1, blocks: 1}
	grid := make([]int, nd) // sliding positions per axis
	for i := 0; i < nd; i++ {
		if image[i] <= 0 || image[i] >= 1<<31 || block[i] <= 0 || block[i] >= 1<<31 {
			return nil, ops.Invalidf("image_shape %v and block_shape %v must be positive", image, block)
		}
		span := dil[i]*(block[i]-1) + 1
		padded := image[i] + pads[i] + pads[nd+i]
		if padded < span {
			return nil, ops.Invalidf("axis %d: block of %d (dilated to %d) does not fit the padded image length %d", i, block[i], span, padded)
		}
		grid[i] = int((padded-span)/strides[i] + 1)
		g.image[i] = int(image[i])
		g.blockSize *= int(block[i])
		g.blocks *= grid[i]
		if g.blockSize > 1<<40 || g.blocks > 1<<40 { // no input that large exists; stop before overflowing
			return nil, ops.Invalidf("block_shape %v and image_shape %v give more blocks than input %v holds", block, image, x.Shape)
		}
	}
	if x.Shape[1]%g.blockSize != 0 {
		return nil, ops.Invalidf("input dimension 1 = %d is not a multiple of ∏block_shape %v = %d", x.Shape[1], block, g.blockSize)
	}
	g.c = x.Shape[1] / g.blockSize
	if x.Shape[2] != g.blocks {
		return nil, ops.Invalidf("input dimension 2 = %d, want %d sliding blocks (%v) for image_shape %v, block_shape %v, dilations %v, pads %v, strides %v",
			x.Shape[2], g.blocks, grid, image, block, dil, pads, strides)
	}
	if !withTable {
		return g, nil
	}
	// offsets[b*L + l] is the image offset block element b at block position l lands on, or -1.
	g.offsets = make([]int, g.blockSize*g.blocks)
	bIdx := make([]int, nd)
	lIdx := make([]int, nd)
	for b := 0; b < g.blockSize; b++ {
		for i := range lIdx {
			lIdx[i] = 0
		}
		for l := 0; l < g.blocks; l++ {
			off := 0
			for i := 0; i < nd; i++ {
				p := lIdx[i]*int(strides[i]) - int(pads[i]) + bIdx[i]*int(dil[i])
				if p < 0 || p >= g.image[i] {
					off = -1
					break
				}
				off = off*g.image[i] + p
			}
			g.offsets[b*g.blocks+l] = off
			increment(lIdx, grid)
		}
		increment(bIdx, toInts(block))
	}
	return g, nil
}

// increment advances a row-major multi-index over dims.
func increment(idx, dims []int) {
	for i := len(idx) - 1; i >= 0; i-- {
		idx[i]++
		if idx[i] < dims[i] {
			return
		}
		idx[i] = 0
	}
}

func toInts(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func (o *col2ImOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	g, err := o.geometry(in, false)
	if err != nil {
		return nil, err
	}
	dt := in[0].DType
	if !dt.IsFloat() && !dt.IsInteger() {
		return nil, ops.Unsupportedf("Col2Im on %s data: overlapping blocks are summed", dt)
	}
	out := append(ops.Shape{g.n, g.c}, g.image...)
	if _, err := out.CheckedSize(0); err != nil {
		return nil, ops.Invalidf("output: %v", err)
	}
	return []ops.ValueInfo{{DType: dt, Shape: out}}, nil
}

type col2ImKernel struct {
	g       *col2ImGeom
	plane   int // elements of one image
	scratch int
}

func (o *col2ImOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	g, err := o.geometry(in, true)
	if err != nil {
		return nil, err
	}
	k := &col2ImKernel{g: g, plane: 1}
	for _, d := range g.image {
		k.plane *= d
	}
	if dt := in[0].DType; dt == ops.Float16 || dt == ops.BFloat16 {
		k.scratch = k.plane
	}
	return k, nil
}

// ScratchSize is one float32 image, where float16 and bfloat16 blocks are summed.
func (k *col2ImKernel) ScratchSize() int { return k.scratch }

func (k *col2ImKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	switch x := in[0].Data().(type) {
	case []float32:
		col2Im(k, x, out[0].Data().([]float32))
	case []float64:
		col2Im(k, x, out[0].Data().([]float64))
	case []int8:
		col2Im(k, x, out[0].Data().([]int8))
	case []int16:
		col2Im(k, x, out[0].Data().([]int16))
	case []int32:
		col2Im(k, x, out[0].Data().([]int32))
	case []int64:
		col2Im(k, x, out[0].Data().([]int64))
	case []uint8:
		col2Im(k, x, out[0].Data().([]uint8))
	case []uint16:
		col2Im(k, x, out[0].Data().([]uint16))
	case []uint32:
		col2Im(k, x, out[0].Data().([]uint32))
	case []uint64:
		col2Im(k, x, out[0].Data().([]uint64))
	case []ops.Float16Bits:
		col2ImVia(k, x, out[0].Data().([]ops.Float16Bits), ctx.Scratch[:k.plane], codecFloat16)
	case []ops.BFloat16Bits:
		col2ImVia(k, x, out[0].Data().([]ops.BFloat16Bits), ctx.Scratch[:k.plane], codecBFloat16)
	}
	return nil
}

// col2Im sums every channel's blocks into its image. Integers wrap on overflow, as Go's (and C's) do.
func col2Im[T ops.Number](k *col2ImKernel, x, y []T) {
	cols := k.g.blockSize * k.g.blocks
	for p := 0; p < k.g.n*k.g.c; p++ {
		img := y[p*k.plane : (p+1)*k.plane]
		for i := range img {
			img[i] = 0
		}
		for j, v := range x[p*cols : (p+1)*cols] {
			if off := k.g.offsets[j]; off >= 0 {
				img[off] += v
			}
		}
	}
}

// col2ImVia is col2Im for half-precision data, summed in float32.
func col2ImVia[T any](k *col2ImKernel, x, y []T, acc []float32, c codec[T]) {
	cols := k.g.blockSize * k.g.blocks
	for p := 0; p < k.g.n*k.g.c; p++ {
		for i := range acc {
			acc[i] = 0
		}
		for j, v := range x[p*cols : (p+1)*cols] {
			if off := k.g.offsets[j]; off >= 0 {
				acc[off] += float32(c.load(v))
			}
		}
		img := y[p*k.plane : (p+1)*k.plane]
		for i, v := range acc {
			img[i] = c.store(float64(v))
		}
	}
}
