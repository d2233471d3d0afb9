package cnn

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/isa"
	"github.com/onnxrun/onnxrun/ops/internal/qvec"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// rand8 is a tensor of dtype dt (int8 or uint8) with uniformly random values.
func rand8(r *rand.Rand, dt ops.DType, shape ...int) *ops.Tensor {
	t := ops.New(dt, ops.Shape(shape))
	b := ops.ByteData(t)
	for i := range b {
		b[i] = byte(r.Intn(256))
	}
	return t
}

// zero8 is a zero-point tensor of dtype dt with the given values (taken modulo 256, as bytes), of shape
// [len(v)] when perChannel, else a scalar.
func zero8(dt ops.DType, perChannel bool, v ...int) *ops.Tensor {
	shape := ops.Shape{}
	if perChannel {
		shape = ops.Shape{len(v)}
	}
	t := ops.New(dt, shape)
	for i, x := range v {
		ops.ByteData(t)[i] = byte(x)
	}
	return t
}

// qconvCase is one convolution geometry of the fast-path tests.
type qconvCase struct {
	name             string
	x, w             []int // shapes
	attrs            ops.AttrMap
	wantStrategy     string
	xType, wType, yT ops.DType
}

func qconvCases() []qconvCase {
	g := func(n int64) ops.Attr { return ops.IntAttr(n) }
	return []qconvCase{
		{name: "3x3 pads strides", x: []int{2, 5, 9, 8}, w: []int{7, 5, 3, 3}, attrs: ops.AttrMap{"pads": ints(1, 0, 2, 1), "strides": ints(2, 1)}, wantStrategy: "im2col+igemm"},
		{name: "3x3 rows of 32 and more", x: []int{1, 3, 5, 41}, w: []int{4, 3, 3, 3}, attrs: ops.AttrMap{"pads": ints(1, 1, 1, 0), "strides": ints(2, 1)}, wantStrategy: "im2col+igemm"},
		{name: "3x3 dilated groups", x: []int{1, 6, 11, 10}, w: []int{9, 2, 3, 3}, attrs: ops.AttrMap{"pads": ints(2, 2, 2, 2), "dilations": ints(2, 2), "group": g(3)}, wantStrategy: "im2col+igemm"},
		{name: "1x1 expand", x: []int{2, 13, 5, 7}, w: []int{33, 13, 1, 1}, wantStrategy: "pointwise igemm"},
		// 1x1 at column stride 2 without padding takes every other cell of every sh-th row straight from X,
		// on even and odd sizes, rows shorter and longer than splitRow's four pairs; with padding, or at
		// another column stride, it goes through im2col.
		{name: "1x1 strided", x: []int{1, 4, 7, 7}, w: []int{5, 4, 1, 1}, attrs: ops.AttrMap{"strides": ints(2, 2)}, wantStrategy: "subsample+igemm"},
		{name: "1x1 strided even", x: []int{2, 6, 14, 14}, w: []int{9, 6, 1, 1}, attrs: ops.AttrMap{"strides": ints(2, 2)}, wantStrategy: "subsample+igemm"},
		{name: "1x1 strided short rows", x: []int{1, 3, 5, 5}, w: []int{4, 3, 1, 1}, attrs: ops.AttrMap{"strides": ints(3, 2)}, wantStrategy: "subsample+igemm"},
		{name: "1x1 strided grouped", x: []int{1, 4, 9, 23}, w: []int{6, 2, 1, 1}, attrs: ops.AttrMap{"strides": ints(1, 2), "group": g(2)}, wantStrategy: "subsample+igemm"},
		{name: "1x1 strided padded", x: []int{1, 4, 8, 8}, w: []int{5, 4, 1, 1}, attrs: ops.AttrMap{"strides": ints(2, 2), "pads": ints(0, 0, 1, 1)}, wantStrategy: "im2col+igemm"},
		{name: "1x1 column stride 3", x: []int{1, 4, 8, 10}, w: []int{5, 4, 1, 1}, attrs: ops.AttrMap{"strides": ints(2, 3)}, wantStrategy: "im2col+igemm"},
		// Column strides above 1 read the phased input; odd widths leave a phase one cell short.
		{name: "3x3 column stride 2", x: []int{2, 3, 11, 13}, w: []int{6, 3, 3, 3}, attrs: ops.AttrMap{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2)}, wantStrategy: "im2col+igemm"},
		{name: "5x5 column stride 3 grouped", x: []int{1, 4, 10, 17}, w: []int{6, 2, 5, 5}, attrs: ops.AttrMap{"pads": ints(2, 1, 0, 2), "strides": ints(1, 3), "group": g(2)}, wantStrategy: "im2col+igemm"},
		{name: "1-D", x: []int{2, 3, 17}, w: []int{5, 3, 4}, attrs: ops.AttrMap{"pads": ints(3, 1), "strides": ints(3)}, wantStrategy: "im2col+igemm"},
		{name: "3-D", x: []int{1, 2, 5, 4, 6}, w: []int{3, 2, 2, 3, 3}, attrs: ops.AttrMap{"auto_pad": ops.StringAttr("SAME_UPPER")}, wantStrategy: "im2col+igemm"},
		{name: "depthwise 3x3 s1", x: []int{2, 7, 9, 11}, w: []int{7, 1, 3, 3}, attrs: ops.AttrMap{"pads": ints(1, 1, 1, 1), "group": g(7)}, wantStrategy: "depthwise interleaved"},
		{name: "depthwise 3x3 s2", x: []int{1, 6, 13, 12}, w: []int{6, 1, 3, 3}, attrs: ops.AttrMap{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2), "group": g(6)}, wantStrategy: "depthwise interleaved"},
		{name: "depthwise 5x5 s2", x: []int{1, 5, 15, 14}, w: []int{5, 1, 5, 5}, attrs: ops.AttrMap{"pads": ints(2, 2, 2, 2), "strides": ints(2, 2), "group": g(5)}, wantStrategy: "depthwise interleaved"},
		{name: "depthwise 5x5 s1 odd", x: []int{1, 3, 7, 9}, w: []int{3, 1, 5, 5}, attrs: ops.AttrMap{"pads": ints(2, 1, 0, 2), "group": g(3)}, wantStrategy: "depthwise interleaved"},
		{name: "depthwise 3x3 s2 odd", x: []int{2, 3, 9, 7}, w: []int{3, 1, 3, 3}, attrs: ops.AttrMap{"pads": ints(0, 1, 1, 0), "strides": ints(2, 2), "group": g(3)}, wantStrategy: "depthwise interleaved"},
		// Interleaved: a full block of 16 channels and a partial one, two images; three blocks, the last of one channel.
		{name: "depthwise 3x3 s1 19 channels", x: []int{2, 19, 7, 6}, w: []int{19, 1, 3, 3}, attrs: ops.AttrMap{"pads": ints(1, 1, 1, 1), "group": g(19)}, wantStrategy: "depthwise interleaved"},
		{name: "depthwise 5x5 s2 33 channels", x: []int{1, 33, 9, 10}, w: []int{33, 1, 5, 5}, attrs: ops.AttrMap{"pads": ints(2, 2, 2, 2), "strides": ints(2, 2), "group": g(33)}, wantStrategy: "depthwise interleaved"},
		// Strips of input rows (qdwciStripCells): seven strips, the last partial; rows wider than a strip.
		{name: "depthwise 3x3 s2 strips", x: []int{1, 17, 70, 90}, w: []int{17, 1, 3, 3}, attrs: ops.AttrMap{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2), "group": g(17)}, wantStrategy: "depthwise interleaved"},
		{name: "depthwise 3x3 s1 rows of a block and a pixel", x: []int{1, 16, 5, 17}, w: []int{16, 1, 3, 3}, attrs: ops.AttrMap{"pads": ints(1, 1, 1, 1), "group": g(16)}, wantStrategy: "depthwise interleaved"},
		{name: "depthwise 3x3 s2 rows wider than a strip", x: []int{1, 2, 5, 1100}, w: []int{2, 1, 3, 3}, attrs: ops.AttrMap{"pads": ints(1, 1, 1, 1), "strides": ints(2, 2), "group": g(2)}, wantStrategy: "depthwise interleaved"},
		// Output planes above qdwciMaxOutputs stay on the plane path.
		{name: "depthwise 5x5 s1 plane", x: []int{1, 2, 57, 59}, w: []int{2, 1, 5, 5}, attrs: ops.AttrMap{"pads": ints(2, 2, 2, 2), "group": g(2)}, wantStrategy: "depthwise vector"},
		// Rows of 16 and more go through the vector conversion and requantisation, the rest of a row their tails.
		{name: "depthwise 3x3 s1 wide", x: []int{1, 3, 57, 60}, w: []int{3, 1, 3, 3}, attrs: ops.AttrMap{"pads": ints(1, 1, 1, 1), "group": g(3)}, wantStrategy: "depthwise vector"},
		{name: "depthwise 3x3 s2 wide", x: []int{1, 3, 113, 121}, w: []int{3, 1, 3, 3}, attrs: ops.AttrMap{"pads": ints(1, 0, 1, 1), "strides": ints(2, 2), "group": g(3)}, wantStrategy: "depthwise vector"},
		{name: "depthwise 3x3 dilated", x: []int{1, 4, 9, 8}, w: []int{4, 1, 3, 3}, attrs: ops.AttrMap{"pads": ints(2, 2, 2, 2), "dilations": ints(2, 2), "group": g(4)}, wantStrategy: "depthwise interleaved"},
		{name: "depthwise 2x3 s3", x: []int{1, 5, 10, 11}, w: []int{5, 1, 2, 3}, attrs: ops.AttrMap{"pads": ints(1, 0, 1, 1), "strides": ints(3, 3), "group": g(5)}, wantStrategy: "depthwise"},
		{name: "depthwise multiplier 2", x: []int{1, 3, 6, 6}, w: []int{6, 1, 3, 3}, attrs: ops.AttrMap{"group": g(3)}, wantStrategy: "im2col+igemm"},
	}
}

// strategyOnThisCPU is the strategy the case takes here: the interleaved depthwise path needs its
// assembly, without which the plane path runs.
func (c qconvCase) strategyOnThisCPU() string {
	if c.wantStrategy == "depthwise interleaved" && dwciTaps.Level == isa.PureGo {
		return "depthwise vector"
	}
	return c.wantStrategy
}

// zeroPointSets are the zero points the fast paths are tested with, in stored bytes: extremes and a middle
// value (for uint8 0, 255, 128; for int8 -128, 127, 0 in two's complement).
var zeroPointSets = [][3]int{{0, 255, 128}, {128, 127, 0}, {255, 0, 7}}

// qconvReference runs the reference loop of QLinearConv (or of ConvInteger when yType is Int32) on the
// node's inputs.
func qconvReference(t *testing.T, n opstest.Node) *ops.Tensor {
	t.Helper()
	info := make([]ops.ValueInfo, len(n.Inputs))
	for i, x := range n.Inputs {
		if x != nil {
			info[i] = ops.ValueInfo{DType: x.DType(), Shape: x.Shape()}
		}
	}
	op, err := ops.Instantiate(ops.NodeInfo{Name: "ref", OpType: n.OpType, Opset: n.Opset, Attrs: n.Attrs, NumOutputs: 1}, info)
	if err != nil {
		t.Fatal(err)
	}
	y := ops.New(op.Outputs[0].DType, op.Outputs[0].Shape)
	var k ops.Kernel
	var scratch []float32
	switch n.OpType {
	case "QLinearConv":
		s, err := (&qLinearConvOp{conv: convOp{win: mustWindow(t, n.Attrs), group: groupOf(n.Attrs)}}).shape(info)
		if err != nil {
			t.Fatal(err)
		}
		ref := &qLinearConvKernel{s: s, g: s.win.gatherInput()}
		k, scratch = ref, make([]float32, ref.ScratchSize())
	default:
		s, err := (&convIntegerOp{conv: convOp{win: mustWindow(t, n.Attrs), group: groupOf(n.Attrs)}}).shape(info)
		if err != nil {
			t.Fatal(err)
		}
		k = &convIntegerKernel{s: s, g: s.win.gatherInput()}
	}
	ctx := ops.SerialContext()
	ctx.Scratch = scratch
	if err := k.Run(ctx, n.Inputs, []*ops.Tensor{y}); err != nil {
		t.Fatal(err)
	}
	return y
}

func mustWindow(t *testing.T, attrs ops.AttrMap) windowAttrs {
	t.Helper()
	w, err := readWindowAttrs(ops.NewAttrReader(attrs), false)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func groupOf(attrs ops.AttrMap) int {
	if a, ok := attrs["group"]; ok {
		return int(a.Int)
	}
	return 1
}

// sameTensors reports the first element where got and want differ.
func sameTensors(got, want *ops.Tensor) error {
	g, w := got.AsInt64s(), want.AsInt64s()
	if len(g) != len(w) {
		return fmt.Errorf("got %d values, want %d", len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			return fmt.Errorf("element %d: got %d, want %d", i, g[i], w[i])
		}
	}
	return nil
}

// TestQuantizedConvFastPathsMatchReference runs every strategy of ConvInteger and QLinearConv against the
// reference loop on odd shapes, for every u8/s8 combination of x, w and y, zero points at the extremes,
// per-tensor and per-channel weights, with and without bias, constant and run-time weights, and 1 and 2
// threads.
func TestQuantizedConvFastPathsMatchReference(t *testing.T) {
	r := rand.New(rand.NewSource(16))
	types := []ops.DType{ops.Uint8, ops.Int8}
	pool := ops.NewPool(2)
	defer pool.Close()
	for _, c := range qconvCases() {
		for ti := 0; ti < 8; ti++ {
			xt, wt, yt := types[ti&1], types[ti>>1&1], types[ti>>2&1]
			zps := zeroPointSets[ti%len(zeroPointSets)]
			perChannel := ti%2 == 0
			withBias := ti%3 != 0
			constW := ti%4 != 3
			name := fmt.Sprintf("%s/x=%s,w=%s,y=%s,perChannel=%v,bias=%v,constW=%v", c.name, xt, wt, yt, perChannel, withBias, constW)
			x, w := rand8(r, xt, c.x...), rand8(r, wt, c.w...)
			outC := c.w[0]
			wZeros := make([]int, 1)
			wScales := []float32{0.02}
			if perChannel {
				wZeros, wScales = make([]int, outC), make([]float32, outC)
				for m := range wZeros {
					wZeros[m] = []int{zps[1], zps[2], zps[0]}[m%3]
					wScales[m] = 0.005 + 0.01*float32(m%5)
				}
			} else {
				wZeros[0] = zps[1]
			}
			wScaleT := ops.Scalar(wScales[0])
			if perChannel {
				wScaleT = ops.FromSlice(ops.Shape{outC}, wScales)
			}
			var bias *ops.Tensor
			if withBias {
				b := make([]int32, outC)
				for m := range b {
					b[m] = int32(r.Intn(20001) - 10000)
				}
				bias = ops.FromSlice(ops.Shape{outC}, b)
			}
			q := opstest.Node{OpType: "QLinearConv", Opset: 10, Attrs: c.attrs, Inputs: []*ops.Tensor{
				x, ops.Scalar[float32](0.05), zero8(xt, false, zps[0]), w, wScaleT, zero8(wt, perChannel, wZeros...),
				ops.Scalar[float32](0.7), zero8(yt, false, zps[2]), bias}}
			ci := opstest.Node{OpType: "ConvInteger", Opset: 10, Attrs: c.attrs, Inputs: []*ops.Tensor{
				x, w, zero8(xt, false, zps[0]), zero8(wt, perChannel, wZeros...)}}
			if !constW {
				q.NonConstInputs, ci.NonConstInputs = []int{3}, []int{1}
			}
			for _, n := range []opstest.Node{q, ci} {
				t.Run(n.OpType+"/"+name, func(t *testing.T) {
					want := qconvReference(t, n)
					for _, threads := range []int{1, 2} {
						p := opstest.MustPrepare(t, n)
						if got, want := p.Kernel.(*qconvKernel).Strategy(), c.strategyOnThisCPU(); got != want {
							t.Fatalf("strategy %q, want %q", got, want)
						}
						if threads > 1 {
							p.Ctx.Pool, p.Ctx.Threads = pool, threads
						}
						if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
							t.Fatal(err)
						}
						if err := sameTensors(p.Out[0], want); err != nil {
							t.Fatalf("threads=%d: %v", threads, err)
						}
					}
				})
			}
		}
	}
}

// TestQLinearConvReferenceMatchesFormula checks the reference loop against the spec's formula written out
// with plain index arithmetic on a padded, strided, per-channel 2-D case.
func TestQLinearConvReferenceMatchesFormula(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	const N, C, H, W, M, K, stride, pad = 1, 3, 6, 5, 4, 3, 2, 1
	x, w := rand8(r, ops.Uint8, N, C, H, W), rand8(r, ops.Int8, M, C, K, K)
	xz, yz := 131, -5
	wz := []int{-128, 127, 0, 3}
	xScale, yScale := float32(0.031), float32(0.6)
	wScale := []float32{0.01, 0.02, 0.004, 0.05}
	bias := []int32{100, -2000, 0, 7}
	n := opstest.Node{OpType: "QLinearConv", Opset: 10, Attrs: ops.AttrMap{"pads": ints(pad, pad, pad, pad), "strides": ints(stride, stride)},
		Inputs: []*ops.Tensor{x, ops.Scalar(xScale), zero8(ops.Uint8, false, xz), w, ops.FromSlice(ops.Shape{M}, wScale),
			zero8(ops.Int8, true, wz...), ops.Scalar(yScale), zero8(ops.Int8, false, yz), ops.FromSlice(ops.Shape{M}, bias)}}
	got := qconvReference(t, n).AsInt64s()
	xs, ws := x.AsInt64s(), w.AsInt64s()
	outH, outW := (H+2*pad-K)/stride+1, (W+2*pad-K)/stride+1
	i := 0
	for m := 0; m < M; m++ {
		for oy := 0; oy < outH; oy++ {
			for ox := 0; ox < outW; ox++ {
				acc := int64(bias[m])
				for c := 0; c < C; c++ {
					for ky := 0; ky < K; ky++ {
						for kx := 0; kx < K; kx++ {
							iy, ix := oy*stride+ky-pad, ox*stride+kx-pad
							xv := int64(xz) // padding is x's zero point
							if iy >= 0 && iy < H && ix >= 0 && ix < W {
								xv = xs[(c*H+iy)*W+ix]
							}
							acc += (xv - int64(xz)) * (ws[((m*C+c)*K+ky)*K+kx] - int64(wz[m]))
						}
					}
				}
				v := math.RoundToEven(float64(float32(acc)*(xScale*wScale[m]/yScale))) + float64(yz)
				want := int64(max(-128, min(127, v)))
				if got[i] != want {
					t.Fatalf("y[0,%d,%d,%d] = %d, want %d (acc %d)", m, oy, ox, got[i], want, acc)
				}
				i++
			}
		}
	}
}

func TestQLinearConvRejectsBadInputs(t *testing.T) {
	x, w := ops.New(ops.Uint8, ops.Shape{1, 2, 4, 4}), ops.New(ops.Int8, ops.Shape{3, 2, 3, 3})
	good := func() []*ops.Tensor {
		return []*ops.Tensor{x, ops.Scalar[float32](1), ops.Scalar[uint8](0), w, ops.Scalar[float32](1), ops.Scalar[int8](0),
			ops.Scalar[float32](1), ops.Scalar[uint8](0)}
	}
	with := func(i int, v *ops.Tensor) []*ops.Tensor {
		in := good()
		if i == len(in) {
			return append(in, v)
		}
		in[i] = v
		return in
	}
	cases := []struct {
		name    string
		in      []*ops.Tensor
		wantErr string
	}{
		{"float x", with(0, ops.New(ops.Float32, ops.Shape{1, 2, 4, 4})), "x has dtype float32, want int8 or uint8"},
		{"x zero point type", with(2, ops.Scalar[int8](0)), "x_zero_point is int8[], want a uint8 scalar"},
		{"x scale dtype", with(1, ops.Scalar[float64](1)), "x_scale is float64[], want a float32 scalar"},
		{"w scale length", with(4, ops.FromSlice(ops.Shape{2}, []float32{1, 1})), "w_scale is float32[2], want a float32 scalar or [3]"},
		{"w zero point length", with(5, ops.FromSlice(ops.Shape{4}, []int8{0, 0, 0, 0})), "w_zero_point is int8[4], want a int8 scalar or [3]"},
		{"y zero point float", with(7, ops.Scalar[float32](0)), "y_zero_point has dtype float32, want int8 or uint8"},
		{"y scale vector", with(6, ops.FromSlice(ops.Shape{3}, []float32{1, 1, 1})), "y_scale is float32[3], want a float32 scalar"},
		{"bias dtype", with(8, ops.New(ops.Int8, ops.Shape{3})), "B is int8[3], want int32 [3]"},
		{"bias length", with(8, ops.New(ops.Int32, ops.Shape{2})), "B is int32[2], want int32 [3]"},
		{"channels", with(3, ops.New(ops.Int8, ops.Shape{3, 3, 3, 3})), "X has 2 channels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := opstest.Run(opstest.Node{OpType: "QLinearConv", Opset: 10, Inputs: c.in})
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
	if _, err := opstest.Run(opstest.Node{OpType: "QLinearConv", Opset: 10, Inputs: good()[:7]}); err == nil {
		t.Fatal("7 inputs accepted, want an error")
	}
}

// TestRequantizeRoundsHalfToEvenAndSaturates checks requantize's rounding trick against the formula
// computed with math.RoundToEven in float64, on ties (mult 0.5 and 0.25), accumulators at the int32
// extremes, and zero, infinite and NaN multipliers, for both output types and extreme zero points.
func TestRequantizeRoundsHalfToEvenAndSaturates(t *testing.T) {
	var acc []int32
	for a := int32(-1200); a <= 1200; a++ {
		acc = append(acc, a)
	}
	acc = append(acc, math.MaxInt32, math.MinInt32, math.MaxInt32-5, 1<<24+1, -(1<<24 + 3))
	mults := []float32{0.5, 0.25, 0.1, 1.0 / 3, 0.0625, 7.3, 0, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-9}
	want := func(a int32, mult float32, zero int32, lo, hi float64) int64 {
		v := float64(float32(a) * mult)
		if v != v {
			return int64(zero)
		}
		return int64(max(lo, min(hi, math.RoundToEven(v)+float64(zero))))
	}
	for _, mult := range mults {
		for _, zero := range []int32{0, 255, 128, 3} {
			y := make([]uint8, len(acc))
			requantize(y, acc, 0, mult, zero)
			for i, a := range acc {
				if w := want(a, mult, zero, 0, 255); int64(y[i]) != w {
					t.Fatalf("uint8: acc %d · %g + %d = %d, want %d", a, mult, zero, y[i], w)
				}
			}
		}
		for _, zero := range []int32{-128, 127, 0, -7} {
			y := make([]int8, len(acc))
			requantize(y, acc, 0, mult, zero)
			for i, a := range acc {
				if w := want(a, mult, zero, -128, 127); int64(y[i]) != w {
					t.Fatalf("int8: acc %d · %g + %d = %d, want %d", a, mult, zero, y[i], w)
				}
			}
		}
	}
}

// TestRequantizeF32VectorMatchesTheScalarLoop holds the depthwise vector path's requantisation (the
// vector span of qvec.RequantizeF32, then requantize on the rest) to requantize alone, bit for bit, on
// odd lengths, float32-integer accumulators up to ±2^24, large biases, ties, and zero, infinite and
// NaN multipliers, for both output types.
func TestRequantizeF32VectorMatchesTheScalarLoop(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	mults := []float32{0.5, 0.25, 1.0 / 3, 7.3, 1e-3, 0, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for _, n := range []int{0, 1, 15, 16, 17, 33, 100} {
		acc := make([]float32, n)
		for i := range acc {
			switch i % 3 {
			case 0:
				acc[i] = float32(r.Intn(2001) - 1000)
			case 1:
				acc[i] = float32(r.Intn(1<<25) - 1<<24)
			default:
				acc[i] = float32(r.Intn(9) - 4)
			}
		}
		for _, mult := range mults {
			for _, bias := range []int32{0, -3, 1 << 20, math.MaxInt32 - 100} {
				for _, signed := range []bool{false, true} {
					zero := int32(r.Intn(256))
					if signed {
						zero -= 128
					}
					got, want := make([]byte, n), make([]byte, n)
					done := qvec.RequantizeF32(got, acc, bias, mult, zero, signed)
					requantizeBytes(got[done:], acc[done:], bias, mult, zero, signed)
					requantizeBytes(want, acc, bias, mult, zero, signed)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("n=%d mult=%g bias=%d zero=%d signed=%v: y[%d] (acc %g) = %d, want %d (vector span %d)",
								n, mult, bias, zero, signed, i, acc[i], got[i], want[i], done)
						}
					}
				}
			}
		}
	}
}

// TestQuantizedConvThreadedRunAllocatesNothing runs each strategy on a 2-thread pool (the depthwise
// planes split over it, the GEMM threading its products) and holds Run to zero allocations.
func TestQuantizedConvThreadedRunAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	pool := ops.NewPool(2)
	defer pool.Close()
	for name, n := range map[string]opstest.Node{
		"im2col":           qconvAllocNode(ops.Shape{2, 32, 30, 30}, ops.Shape{64, 32, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}),
		"pointwise":        qconvAllocNode(ops.Shape{1, 64, 28, 28}, ops.Shape{128, 64, 1, 1}, nil),
		"grouped":          qconvAllocNode(ops.Shape{2, 32, 14, 14}, ops.Shape{32, 4, 3, 3}, ops.AttrMap{"group": ops.IntAttr(8), "pads": ints(1, 1, 1, 1)}),
		"depthwise":        qconvAllocNode(ops.Shape{1, 16, 14, 14}, ops.Shape{16, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(16), "pads": ints(1, 1, 1, 1)}),
		"depthwise planes": qconvAllocNode(ops.Shape{1, 16, 60, 60}, ops.Shape{16, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(16), "pads": ints(1, 1, 1, 1)}),
	} {
		t.Run(name, func(t *testing.T) {
			p := opstest.MustPrepare(t, n)
			p.Ctx.Pool, p.Ctx.Threads = pool, 2
			allocs := testing.AllocsPerRun(5, func() {
				if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("Run allocates %v times per call", allocs)
			}
		})
	}
}

// TestQuantizedConvStopsWhenCancelled: with the run's context already cancelled, every strategy returns
// before computing anything (Y keeps its sentinel).
func TestQuantizedConvStopsWhenCancelled(t *testing.T) {
	for name, n := range map[string]opstest.Node{
		"im2col":           qconvAllocNode(ops.Shape{1, 4, 7, 7}, ops.Shape{6, 4, 3, 3}, ops.AttrMap{"pads": ints(1, 1, 1, 1)}),
		"pointwise":        qconvAllocNode(ops.Shape{1, 4, 7, 7}, ops.Shape{6, 4, 1, 1}, nil),
		"depthwise":        qconvAllocNode(ops.Shape{1, 4, 7, 7}, ops.Shape{4, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(4)}),
		"depthwise planes": qconvAllocNode(ops.Shape{1, 4, 60, 60}, ops.Shape{4, 1, 3, 3}, ops.AttrMap{"group": ops.IntAttr(4)}),
		"gather":           qconvAllocNode(ops.Shape{1, 4, 7, 7}, ops.Shape{4, 1, 2, 2}, ops.AttrMap{"group": ops.IntAttr(4)}),
	} {
		t.Run(name, func(t *testing.T) {
			p := opstest.MustPrepare(t, n)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			p.Ctx.Context = ctx
			y := ops.ByteData(p.Out[0])
			for i := range y {
				y[i] = 77
			}
			if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
				t.Fatal(err)
			}
			for i, v := range y {
				if v != 77 {
					t.Fatalf("y[%d] = %d was written after the run was cancelled", i, v)
				}
			}
		})
	}
}

// TestQuantizedDepthwiseInterleavedTwinsMatchReference runs the interleaved depthwise path on its pure-Go
// twins (the pack, stencil and unpack of conv_depthwise_ci.go), forced whatever the CPU, and on the
// variants this CPU picks, against the reference loop, bit for bit, for every case that takes the path.
func TestQuantizedDepthwiseInterleavedTwinsMatchReference(t *testing.T) {
	r := rand.New(rand.NewSource(61))
	saved := [...]any{dwciPack, dwciTaps, dwciUnpack}
	defer func() {
		dwciPack, dwciTaps, dwciUnpack = saved[0].(isa.Variant[dwciPackFn]), saved[1].(isa.Variant[dwciTapsFn]), saved[2].(isa.Variant[dwciUnpackFn])
	}()
	pool := ops.NewPool(2)
	defer pool.Close()
	for _, c := range qconvCases() {
		if c.wantStrategy != "depthwise interleaved" {
			continue
		}
		for ti, types := range [][3]ops.DType{{ops.Uint8, ops.Int8, ops.Uint8}, {ops.Int8, ops.Int8, ops.Int8}, {ops.Uint8, ops.Uint8, ops.Int8}, {ops.Int8, ops.Uint8, ops.Uint8}} {
			zps := zeroPointSets[ti%len(zeroPointSets)]
			outC := c.w[0]
			wZeros, wScales, bias := make([]int, outC), make([]float32, outC), make([]int32, outC)
			for m := range wZeros {
				wZeros[m], wScales[m], bias[m] = zps[(m+1)%3], 0.004+0.01*float32(m%7), int32(r.Intn(20001)-10000)
			}
			x, w := rand8(r, types[0], c.x...), rand8(r, types[1], c.w...)
			q := opstest.Node{OpType: "QLinearConv", Opset: 10, Attrs: c.attrs, Inputs: []*ops.Tensor{
				x, ops.Scalar[float32](0.05), zero8(types[0], false, zps[0]), w, ops.FromSlice(ops.Shape{outC}, wScales),
				zero8(types[1], true, wZeros...), ops.Scalar[float32](0.6), zero8(types[2], false, zps[2]), ops.FromSlice(ops.Shape{outC}, bias)}}
			ci := opstest.Node{OpType: "ConvInteger", Opset: 10, Attrs: c.attrs, Inputs: []*ops.Tensor{
				x, w, zero8(types[0], false, zps[0]), zero8(types[1], true, wZeros...)}}
			for _, n := range []opstest.Node{q, ci} {
				want := qconvReference(t, n)
				for _, level := range []isa.Level{isa.PureGo, isa.Max()} {
					dwciPack, dwciTaps, dwciUnpack = isa.PickAt(level, dwciPackVariants...), isa.PickAt(level, dwciTapsVariants...), isa.PickAt(level, dwciUnpackVariants...)
					for _, threads := range []int{1, 2} {
						name := fmt.Sprintf("%s/%s/%v/%s/threads=%d", c.name, n.OpType, types, dwciTaps.Name, threads)
						p := opstest.MustPrepare(t, n)
						k := p.Kernel.(*qconvKernel)
						k.dwci = newDwciPlanFor(&k.s, k.dwVec)
						p.Ctx.Scratch = make([]float32, k.ScratchSize())
						if threads > 1 {
							p.Ctx.Pool, p.Ctx.Threads = pool, threads
						}
						if err := k.Run(p.Ctx, p.In, p.Out); err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						if err := sameTensors(p.Out[0], want); err != nil {
							t.Fatalf("%s: %v", name, err)
						}
					}
				}
			}
		}
	}
}
