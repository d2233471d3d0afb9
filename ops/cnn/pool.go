package cnn

// MaxPool: https://onnx.ai/onnx/operators/onnx__MaxPool.html, opsets 1, 8, 10, 11, 12 and 22.
// AveragePool: https://onnx.ai/onnx/operators/onnx__AveragePool.html, opsets 1, 7, 10, 11, 19 and 22.
// LpPool: https://onnx.ai/onnx/operators/onnx__LpPool.html, opsets 1, 2, 11, 18 and 22.

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "MaxPool",
		ops.Since(1, buildPool(poolMax, 1)),
		// opset 8: storage_order and the optional Indices output.
		ops.Since(8, buildPool(poolMax, 8)),
		// opset 10: ceil_mode and dilations.
		ops.Since(10, buildPool(poolMax, 10)),
		// opset 11: SAME_* defined as output = ceil(in/stride); default strides and dilations documented.
		ops.Since(11, buildPool(poolMax, 11)),
		// opset 12: int8 and uint8 inputs.
		ops.Since(12, buildPool(poolMax, 12)),
		// opset 22: bfloat16; windows starting in the end padding are ignored (as this package always does).
		ops.Since(22, buildPool(poolMax, 22)),
	)
	ops.Register("", "AveragePool",
		ops.Since(1, buildPool(poolAverage, 1)),
		// opset 7: count_include_pad.
		ops.Since(7, buildPool(poolAverage, 7)),
		// opset 10: ceil_mode.
		ops.Since(10, buildPool(poolAverage, 10)),
		// opset 11: SAME_* defined as output = ceil(in/stride); default strides documented.
		ops.Since(11, buildPool(poolAverage, 11)),
		// opset 19: dilations.
		ops.Since(19, buildPool(poolAverage, 19)),
		// opset 22: bfloat16.
		ops.Since(22, buildPool(poolAverage, 22)),
	)
	ops.Register("", "LpPool",
		ops.Since(1, buildPool(poolLp, 1)),
		// opset 2: p becomes an int (this package reads either) and kernel_shape is required.
		ops.Since(2, buildPool(poolLp, 2)),
		// opset 11: SAME_* defined as output = ceil(in/stride); default strides documented.
		ops.Since(11, buildPool(poolLp, 11)),
		// opset 18: ceil_mode and dilations.
		ops.Since(18, buildPool(poolLp, 18)),
		// opset 22: bfloat16.
		ops.Since(22, buildPool(poolLp, 22)),
	)
}

type poolKind uint8

const (
	poolMax poolKind = iota
	poolAverage
	poolLp
)

var poolNames = [...]string{"MaxPool", "AveragePool", "LpPool"}

type poolOp struct {
	kind            poolKind
	opset           int
	win             windowAttrs
	countIncludePad bool    // AveragePool: divide by the taps inside the padded input, not only the real ones
	storageOrder    int     // MaxPool: 0 row-major, 1 column-major flattening of Indices
	p               float64 // LpPool's exponent
	withIndices     bool    // MaxPool's second output is wanted
}

func buildPool(kind poolKind, opset int) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		withCeil := (kind == poolMax && opset >= 10) || (kind == poolAverage && opset >= 10) || (kind == poolLp && opset >= 18)
		win, err := readWindowAttrs(r, withCeil)
		if err != nil {
			return nil, err
		}
		win.padsLessThanKernel = true
		op := &poolOp{kind: kind, opset: opset, win: win}
		switch kind {
		case poolMax:
			if opset >= 8 {
				op.storageOrder = int(r.Int("storage_order", 0))
				op.withIndices = n.NumOutputs > 1
			}
		case poolAverage:
			if opset >= 7 {
				op.countIncludePad = r.Int("count_include_pad", 0) != 0
			}
		case poolLp:
			op.p = float64(r.Float("p", 2))
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		if win.kernel == nil {
			return nil, &ops.AttrError{Name: "kernel_shape", Msg: "is required"}
		}
		if op.storageOrder != 0 && op.storageOrder != 1 {
			return nil, &ops.AttrError{Name: "storage_order", Msg: fmt.Sprintf("is %d, want 0 (row major) or 1 (column major)", op.storageOrder)}
		}
		if kind == poolLp && !(op.p > 0) {
			return nil, &ops.AttrError{Name: "p", Msg: fmt.Sprintf("is %g, want a positive exponent", op.p)}
		}
		maxOut := 1
		if kind == poolMax && opset >= 8 {
			maxOut = 2
		}
		if n.NumOutputs > maxOut {
			return nil, ops.Invalidf("%s opset %d has at most %d outputs, the node declares %d", poolNames[kind], opset, maxOut, n.NumOutputs)
		}
		return op, nil
	}
}

// poolShape is a pool's geometry for one input shape.
type poolShape struct {
	win             window
	planes          int // N*C
	inSize, outSize int // spatial cells per plane
	outShape        ops.Shape
}

func (op *poolOp) shape(in []ops.ValueInfo) (poolShape, error) {
	var s poolShape
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return s, err
	}
	x := in[0]
	intOK := op.kind == poolMax && op.opset >= 12 && (x.DType == ops.Int8 || x.DType == ops.Uint8)
	if !intOK {
		if err := kernelutil.CheckFloat("X", x.DType); err != nil {
			if op.kind == poolMax && op.opset >= 12 {
				return s, ops.Invalidf("input X has dtype %s, want a float type, int8 or uint8", x.DType)
			}
			return s, err
		}
	}
	if len(x.Shape) < 3 {
		return s, ops.Invalidf("X has shape %v, want rank >= 3 (N x C x D1 ...)", x.Shape)
	}
	win, err := op.win.resolve(x.Shape[2:], op.win.kernel)
	if err != nil {
		return s, err
	}
	s.win = win
	s.planes = x.Shape[0] * x.Shape[1]
	s.inSize = ops.Shape(win.in).Size()
	s.outSize = ops.Shape(win.out).Size()
	s.outShape = append(ops.Shape{x.Shape[0], x.Shape[1]}, win.out...)
	return s, nil
}

func (op *poolOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	out := []ops.ValueInfo{{DType: in[0].DType, Shape: s.outShape}}
	if op.withIndices {
		out = append(out, ops.ValueInfo{DType: ops.Int64, Shape: s.outShape})
	}
	return out, nil
}

func (op *poolOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	k := &poolKernel{op: op, s: s, g: s.win.gatherInput(), dtype: in[0].DType}
	if op.withIndices && op.storageOrder == 1 {
		k.colMajor = columnMajorIndex(s.win.in)
	}
	if f := newFastPool(k); f != nil {
		return f, nil // float32 over two spatial axes: pool_fast.go
	}
	if b := newBytePool(k); b != nil {
		return b, nil // uint8 and int8 MaxPool over two spatial axes: pool_bytes.go
	}
	return k, nil
}

// columnMajorIndex maps each row-major offset over dims to the offset of the same cell in column-major order
// (the first axis varying fastest), which is how MaxPool flattens Indices when storage_order is 1.
func columnMajorIndex(dims []int) []int32 {
	n := ops.Shape(dims).Size()
	out := make([]int32, n)
	idx := make([]int, len(dims))
	for off := 0; off < n; off++ {
		col, stride := 0, 1
		for a := 0; a < len(dims); a++ {
			col += idx[a] * stride
			stride *= dims[a]
		}
		out[off] = int32(col)
		kernelutil.NextIndex(idx, dims)
	}
	return out
}

// poolKernel runs one pool. Its fields are read-only during Run.
type poolKernel struct {
	op       *poolOp
	s        poolShape
	g        *gather
	dtype    ops.DType
	colMajor []int32 // storage_order 1: see columnMajorIndex
}

// ScratchSize is room for float32 copies of X and Y when they are 16-bit floats.
func (k *poolKernel) ScratchSize() int {
	return ops.HalfScratch(k.dtype, k.s.planes*k.s.inSize, k.s.planes*k.s.outSize)
}

func (k *poolKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	var indices []int64
	if k.op.withIndices {
		indices = out[1].Int64s()
	}
	switch x := in[0].Data().(type) {
	case []float32:
		runPool(k, x, out[0].Float32s(), indices)
	case []float64:
		runPool(k, x, out[0].Float64s(), indices)
	case []int8:
		maxPool(k, x, out[0].Data().([]int8), indices, math.MinInt8)
	case []uint8:
		maxPool(k, x, out[0].Data().([]uint8), indices, 0)
	default: // float16, bfloat16: computed in float32 scratch
		w := ops.NewWidener(ctx.Scratch)
		runPool(k, w.In(in[0]), w.Out(out[0]), indices)
		w.Narrow()
	}
	return nil
}

func runPool[T ops.Float](k *poolKernel, x, y []T, indices []int64) {
	switch k.op.kind {
	case poolMax:
		maxPool(k, x, y, indices, T(math.Inf(-1)))
	case poolAverage:
		averagePool(k, x, y)
	case poolLp:
		lpPool(k, x, y)
	}
}

// maxPool takes the largest input cell of each window, padding excluded. indices (optional) receives its
// flat position in X: plane*inSize + the cell's row-major offset (or column-major with storage_order 1).
// lowest is what a window without any input cell gives.
func maxPool[T ops.Number](k *poolKernel, x, y []T, indices []int64, lowest T) {
	g, s := k.g, &k.s
	for plane := 0; plane < s.planes; plane++ {
		xp := x[plane*s.inSize : (plane+1)*s.inSize]
		yp := y[plane*s.outSize : (plane+1)*s.outSize]
		for p := range yp {
			best, at := lowest, int32(-1)
			if r := g.border[p]; r < 0 {
				base := g.origin[p]
				for _, t := range g.tapOffset {
					if v := xp[base+t]; at < 0 || v > best {
						best, at = v, base+t
					}
				}
			} else {
				for _, off := range g.borderTaps[int(r)*g.taps : int(r+1)*g.taps] {
					if off >= 0 && (at < 0 || xp[off] > best) {
						best, at = xp[off], off
					}
				}
			}
			yp[p] = best
			if indices != nil {
				switch {
				case at < 0:
					at = 0
				case k.colMajor != nil:
					at = k.colMajor[at]
				}
				indices[plane*s.outSize+p] = int64(plane)*int64(s.inSize) + int64(at)
			}
		}
	}
}

// averagePool divides each window's sum by the number of its taps inside the input, or, with
// count_include_pad, inside the padded input (taps that only ceil_mode added never count).
func averagePool[T ops.Float](k *poolKernel, x, y []T) {
	g, s := k.g, &k.s
	includePad := k.op.countIncludePad
	for plane := 0; plane < s.planes; plane++ {
		xp := x[plane*s.inSize : (plane+1)*s.inSize]
		yp := y[plane*s.outSize : (plane+1)*s.outSize]
		for p := range yp {
			var sum T
			count := 0
			if r := g.border[p]; r < 0 {
				base := g.origin[p]
				for _, t := range g.tapOffset {
					sum += xp[base+t]
				}
				count = g.taps
			} else {
				for _, off := range g.borderTaps[int(r)*g.taps : int(r+1)*g.taps] {
					switch {
					case off >= 0:
						sum += xp[off]
						count++
					case off == tapPad && includePad:
						count++
					}
				}
			}
			yp[p] = sum / T(count)
		}
	}
}

// lpPool computes each window's p-norm (Σ|x|^p)^(1/p); padding adds nothing.
func lpPool[T ops.Float](k *poolKernel, x, y []T) {
	g, s := k.g, &k.s
	p := k.op.p
	for plane := 0; plane < s.planes; plane++ {
		xp := x[plane*s.inSize : (plane+1)*s.inSize]
		yp := y[plane*s.outSize : (plane+1)*s.outSize]
		for i := range yp {
			sum := 0.0
			if r := g.border[i]; r < 0 {
				base := g.origin[i]
				for _, t := range g.tapOffset {
					sum += kernelutil.PowAbs(float64(xp[base+t]), p)
				}
			} else {
				for _, off := range g.borderTaps[int(r)*g.taps : int(r+1)*g.taps] {
					if off >= 0 {
						sum += kernelutil.PowAbs(float64(xp[off]), p)
					}
				}
			}
			yp[i] = T(kernelutil.RootP(sum, p))
		}
	}
}
