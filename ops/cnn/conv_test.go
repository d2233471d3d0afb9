package cnn

import (
	"fmt"
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// The seed lecture's (redes-convolucionales) 6x6 input and vertical-edge filter.
var (
	lectureX = f32(ops.Shape{1, 1, 6, 6},
		3, 1, 0, 2, 1, 0,
		2, 0, 1, 3, 2, 1,
		0, 1, 2, 1, 0, 3,
		4, 0, 3, 2, 2, 1,
		1, 1, 0, 1, 0, 1,
		3, 2, 1, 0, 2, 1)
	lectureW = f32(ops.Shape{1, 1, 3, 3},
		1, 0, -1,
		1, 0, -1,
		1, 0, -1)
)

func convNode(opset int, attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
	return opstest.Node{OpType: "Conv", Opset: opset, Attrs: attrs, Inputs: in}
}

func TestConvLecture(t *testing.T) {
	runCases(t, []opCase{
		{
			// "Operación que se le dice convolución pero no lo es. En realidad es una correlación cruzada (no
			// flipea)": the 4x4 result of the lecture, computed without flipping the kernel.
			name: "cross-correlation valid",
			node: convNode(22, nil, lectureX, lectureW),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 4, 4},
				2, -4, 0, 2,
				0, -5, 2, 1,
				0, -2, 3, -1,
				4, 0, 0, 0)},
		},
		{
			// Padding "same" = (f-1)/2 = 1 keeps 6x6.
			name: "padding same",
			node: convNode(22, ops.AttrMap{"pads": ints(1, 1, 1, 1)}, lectureX, lectureW),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 6, 6},
				-1, 4, -4, -2, 4, 3,
				-2, 2, -4, 0, 2, 3,
				-1, 0, -5, 2, 1, 4,
				-2, 0, -2, 3, -1, 2,
				-3, 4, 0, 0, 0, 4,
				-3, 3, 2, -1, -1, 2)},
		},
		{
			name: "auto_pad SAME_UPPER equals pads 1",
			node: convNode(22, ops.AttrMap{"auto_pad": ops.StringAttr("SAME_UPPER")}, lectureX, lectureW),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 6, 6},
				-1, 4, -4, -2, 4, 3,
				-2, 2, -4, 0, 2, 3,
				-1, 0, -5, 2, 1, 4,
				-2, 0, -2, 3, -1, 2,
				-3, 4, 0, 0, 0, 4,
				-3, 3, 2, -1, -1, 2)},
		},
		{
			// Padding "full" = f-1 = 2 gives 6 - 3 + 1 + 2*2 = 8.
			name: "padding full",
			node: convNode(22, ops.AttrMap{"pads": ints(2, 2, 2, 2)}, lectureX, lectureW),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 8, 8},
				-3, -1, 3, -1, -1, 2, 1, 0,
				-5, -1, 4, -4, -2, 4, 3, 1,
				-5, -2, 2, -4, 0, 2, 3, 4,
				-6, -1, 0, -5, 2, 1, 4, 5,
				-5, -2, 0, -2, 3, -1, 2, 5,
				-8, -3, 4, 0, 0, 0, 4, 3,
				-4, -3, 3, 2, -1, -1, 2, 2,
				-3, -2, 2, 2, -1, -1, 2, 1)},
		},
		{
			// Stride 2: floor((6 - 3)/2) + 1 = 2 windows per axis, at rows/columns 0 and 2.
			name: "stride 2",
			node: convNode(22, ops.AttrMap{"strides": ints(2, 2)}, lectureX, lectureW),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 2, 2}, 2, 0, 0, 3)},
		},
		{
			name: "auto_pad VALID equals no padding",
			node: convNode(22, ops.AttrMap{"auto_pad": ops.StringAttr("VALID")}, lectureX, lectureW),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 4, 4},
				2, -4, 0, 2,
				0, -5, 2, 1,
				0, -2, 3, -1,
				4, 0, 0, 0)},
		},
	})
}

// TestConvOutputSize checks the lecture's formula floor((n + 2p - f)/s) + 1 over a grid of sizes.
func TestConvOutputSize(t *testing.T) {
	for _, n := range []int{5, 6, 7, 28} {
		for _, f := range []int{1, 2, 3, 5} {
			for _, p := range []int{0, 1, 2} {
				for _, s := range []int{1, 2, 3} {
					if n+2*p < f {
						continue
					}
					want := (n+2*p-f)/s + 1
					out := mustRun(t, convNode(22, ops.AttrMap{"pads": ints(int64(p), int64(p)), "strides": ints(int64(s))},
						randF32(1, 1, 1, n), randF32(2, 1, 1, f)))
					if got := out[0].Shape()[2]; got != want {
						t.Errorf("n=%d f=%d p=%d s=%d: output size %d, want %d", n, f, p, s, got, want)
					}
				}
			}
		}
	}
}

// TestLeNetShapes follows the lecture's Keras LeNet: 28x28x1 → Conv 3x3 (6) → 26x26x6 → AveragePool 2x2
// → 13x13x6 → Conv 3x3 (16) → 11x11x16 → AveragePool 2x2 → 5x5x16. Keras is NHWC, ONNX NCHW.
func TestLeNetShapes(t *testing.T) {
	x := randF32(1, 1, 1, 28, 28)
	pool := ops.AttrMap{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}
	steps := []struct {
		node func(x *ops.Tensor) opstest.Node
		want ops.Shape
	}{
		{func(x *ops.Tensor) opstest.Node { return convNode(22, nil, x, randF32(2, 6, 1, 3, 3), randF32(3, 6)) }, ops.Shape{1, 6, 26, 26}},
		{func(x *ops.Tensor) opstest.Node {
			return opstest.Node{OpType: "AveragePool", Opset: 22, Attrs: pool, Inputs: []*ops.Tensor{x}}
		}, ops.Shape{1, 6, 13, 13}},
		{func(x *ops.Tensor) opstest.Node { return convNode(22, nil, x, randF32(4, 16, 6, 3, 3), randF32(5, 16)) }, ops.Shape{1, 16, 11, 11}},
		{func(x *ops.Tensor) opstest.Node {
			return opstest.Node{OpType: "AveragePool", Opset: 22, Attrs: pool, Inputs: []*ops.Tensor{x}}
		}, ops.Shape{1, 16, 5, 5}},
	}
	for i, st := range steps {
		out := mustRun(t, st.node(x))
		if !out[0].Shape().Equal(st.want) {
			t.Fatalf("step %d: shape %v, want %v", i, out[0].Shape(), st.want)
		}
		x = out[0]
	}
	// The Keras parameter counts: 6*(3*3*1+1) = 60 and 16*(3*3*6+1) = 880.
	if n := 6 * (3*3*1 + 1); n != 60 {
		t.Fatal(n)
	}
}

// naiveConv is an independent N-D reference written from the definition: it walks output coordinates
// and kernel coordinates explicitly and shares no code with the kernels.
func naiveConv(x, w, b []float64, xs, ws []int, group int, strides, pads, dil []int) ([]float64, []int) {
	rank := len(xs) - 2
	out := []int{xs[0], ws[0]}
	for a := 0; a < rank; a++ {
		ek := (ws[2+a]-1)*dil[a] + 1
		out = append(out, (xs[2+a]+pads[a]+pads[a+rank]-ek)/strides[a]+1)
	}
	size := func(s []int) int {
		n := 1
		for _, d := range s {
			n *= d
		}
		return n
	}
	y := make([]float64, size(out))
	cg, mg := xs[1]/group, ws[0]/group
	oc := make([]int, rank)
	kc := make([]int, rank)
	for n := 0; n < out[0]; n++ {
		for m := 0; m < out[1]; m++ {
			g := m / mg
			for i := range oc {
				oc[i] = 0
			}
			for o := 0; o < size(out[2:]); o++ {
				sum := 0.0
				if b != nil {
					sum = b[m]
				}
				for c := 0; c < cg; c++ {
					for i := range kc {
						kc[i] = 0
					}
					for k := 0; k < size(ws[2:]); k++ {
						xi := (n*xs[1] + g*cg + c)
						wi := m*cg + c
						inside := true
						for a := 0; a < rank; a++ {
							pos := oc[a]*strides[a] + kc[a]*dil[a] - pads[a]
							if pos < 0 || pos >= xs[2+a] {
								inside = false
							}
							xi = xi*xs[2+a] + pos
							wi = wi*ws[2+a] + kc[a]
						}
						if inside {
							sum += x[xi] * w[wi]
						}
						kernelutil.NextIndex(kc, ws[2:])
					}
				}
				y[(n*out[1]+m)*size(out[2:])+o] = sum
				kernelutil.NextIndex(oc, out[2:])
			}
		}
	}
	return y, out
}

// TestConvAgainstNaive runs the float32 GEMM path and the float64 direct path against naiveConv over
// geometries that exercise groups, depthwise, dilations, strides, asymmetric pads, 1-D, 3-D and 1x1.
func TestConvAgainstNaive(t *testing.T) {
	type geo struct {
		xs, ws                  []int
		group                   int
		strides, pads, dilation []int
		bias                    bool
	}
	geos := []geo{
		{[]int{1, 1, 5, 5}, []int{1, 1, 3, 3}, 1, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, false},
		{[]int{2, 3, 7, 6}, []int{4, 3, 3, 2}, 1, []int{2, 1}, []int{1, 0, 2, 1}, []int{1, 2}, true},
		{[]int{1, 4, 6, 6}, []int{6, 2, 3, 3}, 2, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, true},
		{[]int{2, 4, 5, 7}, []int{4, 1, 3, 3}, 4, []int{2, 2}, []int{1, 1, 1, 1}, []int{1, 1}, true}, // depthwise
		{[]int{1, 3, 9}, []int{2, 3, 4}, 1, []int{2}, []int{3, 1}, []int{2}, true},                   // 1-D
		{[]int{1, 2, 4, 5, 3}, []int{3, 2, 2, 3, 2}, 1, []int{1, 2, 1}, []int{1, 0, 1, 0, 1, 1}, []int{1, 1, 2}, true},
		{[]int{2, 6, 4, 4}, []int{3, 6, 1, 1}, 1, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, true}, // 1x1
		{[]int{1, 6, 4, 4}, []int{4, 3, 1, 1}, 2, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, false},
		{[]int{1, 2, 3, 3}, []int{2, 2, 5, 5}, 1, []int{1, 1}, []int{2, 2, 2, 2}, []int{1, 1}, true}, // kernel wider than input
		// DeepLabV3's ASPP: dilation and padding larger than the map, so whole taps fall in the padding.
		{[]int{1, 3, 6, 5}, []int{2, 3, 3, 3}, 1, []int{1, 1}, []int{12, 12, 12, 12}, []int{12, 12}, true},
		{[]int{1, 2, 4, 4}, []int{2, 2, 3, 3}, 1, []int{1, 1}, []int{9, 9, 9, 9}, []int{9, 9}, false},
	}
	for i, g := range geos {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			x := randF32(int64(10*i+1), g.xs...)
			w := randF32(int64(10*i+2), g.ws...)
			var b *ops.Tensor
			var bv []float64
			if g.bias {
				b = randF32(int64(10*i+3), g.ws[0])
				bv = b.AsFloat64s()
			}
			want, shape := naiveConv(x.AsFloat64s(), w.AsFloat64s(), bv, g.xs, g.ws, g.group, g.strides, g.pads, g.dilation)
			attrs := ops.AttrMap{"group": ops.IntAttr(int64(g.group))}
			toI64 := func(v []int) []int64 {
				out := make([]int64, len(v))
				for i, x := range v {
					out[i] = int64(x)
				}
				return out
			}
			attrs["strides"] = ints(toI64(g.strides)...)
			attrs["pads"] = ints(toI64(g.pads)...)
			attrs["dilations"] = ints(toI64(g.dilation)...)
			wantT := f64(ops.Shape(shape), want...)
			in := []*ops.Tensor{x, w}
			in64 := []*ops.Tensor{toF64(x), toF64(w)}
			in16 := []*ops.Tensor{toHalf(x), toHalf(w)}
			if b != nil {
				in, in64, in16 = append(in, b), append(in64, toF64(b)), append(in16, toHalf(b))
			}
			got32 := mustRun(t, convNode(22, attrs, in...))[0]
			if err := opstest.Close(toF64(got32), wantT, 1e-5, 1e-5); err != nil {
				t.Errorf("float32: %v", err)
			}
			// The same with W known only at run time (no prepacking).
			n := convNode(22, attrs, in...)
			n.NonConstInputs = []int{1}
			if err := opstest.Close(toF64(mustRun(t, n)[0]), wantT, 1e-5, 1e-5); err != nil {
				t.Errorf("float32, W not constant: %v", err)
			}
			got64 := mustRun(t, convNode(22, attrs, in64...))[0]
			if err := opstest.Close(got64, wantT, 1e-12, 1e-12); err != nil {
				t.Errorf("float64: %v", err)
			}
			got16 := mustRun(t, convNode(22, attrs, in16...))[0]
			if got16.DType() != ops.Float16 {
				t.Fatalf("float16 input gave %s", got16.DType())
			}
			if err := opstest.Close(toF64(toF32(got16)), wantT, 2e-2, 2e-2); err != nil {
				t.Errorf("float16: %v", err)
			}
		})
	}
}

func TestConvAutoPadSameLower(t *testing.T) {
	// 1-D, input 5, kernel 2, stride 1: total padding 1 goes to the beginning for SAME_LOWER.
	x := f32(ops.Shape{1, 1, 5}, 1, 2, 3, 4, 5)
	w := f32(ops.Shape{1, 1, 2}, 1, 10)
	runCases(t, []opCase{
		{name: "lower", node: convNode(22, ops.AttrMap{"auto_pad": ops.StringAttr("SAME_LOWER")}, x, w),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 5}, 10, 21, 32, 43, 54)}},
		{name: "upper", node: convNode(22, ops.AttrMap{"auto_pad": ops.StringAttr("SAME_UPPER")}, x, w),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 5}, 21, 32, 43, 54, 5)}},
		{name: "kernel_shape given", node: convNode(1, ops.AttrMap{"kernel_shape": ints(2)}, x, w),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 4}, 21, 32, 43, 54)}},
	})
}

func TestConvErrors(t *testing.T) {
	x := randF32(1, 1, 4, 5, 5)
	w := randF32(2, 2, 4, 3, 3)
	runCases(t, []opCase{
		{name: "kernel 0", node: convNode(22, ops.AttrMap{"kernel_shape": ints(0, 3)}, x, w), wantErr: `"kernel_shape" is [0 3]: value 0 (axis 0) must be positive`},
		{name: "stride 0", node: convNode(22, ops.AttrMap{"strides": ints(1, 0)}, x, w), wantErr: `"strides" is [1 0]: value 0 (axis 1) must be positive`},
		{name: "dilation 0", node: convNode(22, ops.AttrMap{"dilations": ints(0, 1)}, x, w), wantErr: `"dilations" is [0 1]`},
		{name: "negative pad", node: convNode(22, ops.AttrMap{"pads": ints(0, -1, 0, 0)}, x, w), wantErr: "value -1 (position 1) is negative"},
		{name: "odd pads", node: convNode(22, ops.AttrMap{"pads": ints(0, 1, 0)}, x, w), wantErr: "want an even count"},
		{name: "pads count", node: convNode(22, ops.AttrMap{"pads": ints(0, 1)}, x, w), wantErr: "pads has 2 values [0 1], want 4"},
		{name: "empty output", node: convNode(22, nil, randF32(1, 1, 4, 2, 2), w), wantErr: "input size 2 + pads 0+0 is smaller than the dilated kernel 3"},
		{name: "dilated kernel too big", node: convNode(22, ops.AttrMap{"dilations": ints(3, 1)}, x, w), wantErr: "smaller than the dilated kernel 7 (kernel 3, dilation 3)"},
		{name: "group does not divide", node: convNode(22, ops.AttrMap{"group": ops.IntAttr(3)}, x, randF32(2, 3, 1, 3, 3)), wantErr: "group 3 does not divide the 4 input channels"},
		{name: "group does not divide M", node: convNode(22, ops.AttrMap{"group": ops.IntAttr(2)}, x, randF32(2, 3, 2, 3, 3)), wantErr: "group 2 does not divide the 3 output channels"},
		{name: "channels", node: convNode(22, ops.AttrMap{"group": ops.IntAttr(2)}, x, w), wantErr: "X has 4 channels, W [2,4,3,3] expects W.shape[1]*group = 4*2 = 8"},
		{name: "group 0", node: convNode(22, ops.AttrMap{"group": ops.IntAttr(0)}, x, w), wantErr: `"group" is 0`},
		{name: "auto_pad", node: convNode(22, ops.AttrMap{"auto_pad": ops.StringAttr("SAME")}, x, w), wantErr: `"auto_pad" is "SAME"`},
		{name: "kernel_shape mismatch", node: convNode(22, ops.AttrMap{"kernel_shape": ints(2, 2)}, x, w), wantErr: "kernel_shape [2 2] does not match W's spatial dims [3,3]"},
		{name: "bias shape", node: convNode(22, nil, x, w, randF32(3, 3)), wantErr: "B has shape [3], want [2]"},
		{name: "rank", node: convNode(22, nil, randF32(1, 4, 5), w), wantErr: "want rank >= 3"},
		{name: "W rank", node: convNode(22, nil, x, randF32(1, 2, 4, 3)), wantErr: "ranks must match"},
		{name: "dtype", node: convNode(22, nil, i64(ops.Shape{1, 1, 1}, 1), i64(ops.Shape{1, 1, 1}, 1)), wantErr: "input X has dtype int64"},
		{name: "W dtype", node: convNode(22, nil, x, toF64(w)), wantErr: "W has dtype float64, X has float32"},
		{name: "strides length", node: convNode(22, ops.AttrMap{"strides": ints(1, 1, 1)}, x, w), wantErr: "strides has 3 values [1 1 1] for 2 spatial axes"},
	})
}

// TestConvThreaded runs a convolution big enough for the GEMM to split across a 2-thread pool and checks it
// against the float64 direct loop.
func TestConvThreaded(t *testing.T) {
	x, w, b := randF32(1, 1, 32, 20, 20), randF32(2, 64, 32, 3, 3), randF32(3, 64)
	attrs := ops.AttrMap{"pads": ints(1, 1, 1, 1)}
	p := prepare(t, convNode(22, attrs, x, w, b))
	pool := parallel.NewPool(2)
	defer pool.Close()
	p.ctx.Pool, p.ctx.Threads = pool, 2
	if err := p.kernel.Run(p.ctx, p.in, p.out); err != nil {
		t.Fatal(err)
	}
	want := mustRun(t, convNode(22, attrs, toF64(x), toF64(w), toF64(b)))[0]
	if err := opstest.Close(toF64(p.out[0]), want, 1e-4, 1e-4); err != nil {
		t.Error(err)
	}
}

func TestConvInteger(t *testing.T) {
	x := ops.FromSlice(ops.Shape{1, 1, 2, 2}, []uint8{1, 2, 3, 4})
	xzp := ops.FromSlice(ops.Shape{}, []uint8{1})
	w := ops.FromSlice(ops.Shape{2, 1, 1, 1}, []int8{2, -1})
	wzp := ops.FromSlice(ops.Shape{2}, []int8{1, 0})
	i32 := func(shape ops.Shape, v ...int32) *ops.Tensor { return ops.FromSlice(shape, v) }
	ones := ops.FromSlice(ops.Shape{1, 1, 2, 2}, []int8{1, 1, 1, 1})
	runCases(t, []opCase{
		// x - 1 = [0, 1, 2, 3]; w - zp = [1, -1] per output channel.
		{name: "per-channel w_zero_point", node: node("ConvInteger", 10, nil, x, w, xzp, wzp),
			want: []*ops.Tensor{i32(ops.Shape{1, 2, 2, 2}, 0, 1, 2, 3, 0, -1, -2, -3)}},
		{name: "no zero points", node: node("ConvInteger", 10, nil, x, w),
			want: []*ops.Tensor{i32(ops.Shape{1, 2, 2, 2}, 2, 4, 6, 8, -1, -2, -3, -4)}},
		// Padding holds the zero point, so a 2x2 window of ones over padded [0 1; 2 3] sums the cells it covers.
		{name: "padding is the zero point", node: node("ConvInteger", 10, ops.AttrMap{"pads": ints(1, 1, 0, 0)}, x, ones, xzp),
			want: []*ops.Tensor{i32(ops.Shape{1, 1, 2, 2}, 0, 1, 2, 6)}},
		{name: "int8 x", node: node("ConvInteger", 10, nil, ops.FromSlice(ops.Shape{1, 1, 1, 2}, []int8{-128, 127}), ops.FromSlice(ops.Shape{1, 1, 1, 2}, []uint8{255, 255})),
			want: []*ops.Tensor{i32(ops.Shape{1, 1, 1, 1}, -255)}},
		{name: "float x", node: node("ConvInteger", 10, nil, lectureX, lectureW), wantErr: "x has dtype float32, want int8 or uint8"},
		{name: "zero point shape", node: node("ConvInteger", 10, nil, x, w, xzp, ops.FromSlice(ops.Shape{3}, []int8{0, 0, 0})),
			wantErr: "w_zero_point is int8[3], want a int8 scalar or [2]"},
	})
}

func TestCausalConvWithState(t *testing.T) {
	x := f32(ops.Shape{1, 1, 4}, 1, 2, 3, 4)
	w := f32(ops.Shape{1, 1, 3}, 100, 10, 1)
	past := f32(ops.Shape{1, 1, 2}, 7, 8)
	outs := func(in ...*ops.Tensor) opstest.Node {
		return opstest.Node{OpType: "CausalConvWithState", Opset: 27, Inputs: in, NumOutputs: 2}
	}
	silu := func(v float64) float32 { return float32(v / (1 + math.Exp(-v))) }
	runCases(t, []opCase{
		// Sequence 0 0 1 2 3 4: output[t] = 100*s[t] + 10*s[t+1] + s[t+2]; state = the last two, 3 4.
		{name: "zero history", node: outs(x, w), want: []*ops.Tensor{f32(ops.Shape{1, 1, 4}, 1, 12, 123, 234), f32(ops.Shape{1, 1, 2}, 3, 4)}},
		// Sequence 7 8 1 2 3 4, bias 1000.
		{name: "past state and bias", node: outs(x, w, f32(ops.Shape{1}, 1000), past),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 4}, 1781, 1812, 1123, 1234), f32(ops.Shape{1, 1, 2}, 3, 4)}},
		// One new position: the state shifts by one, 8 1.
		{name: "decode step", node: outs(f32(ops.Shape{1, 1, 1}, 1), w, nil, past),
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 1}, 781), f32(ops.Shape{1, 1, 2}, 8, 1)}},
		{name: "silu", node: opstest.Node{OpType: "CausalConvWithState", Opset: 27, Attrs: ops.AttrMap{"activation": ops.StringAttr("silu")},
			Inputs: []*ops.Tensor{f32(ops.Shape{1, 1, 2}, -1, 0.5), f32(ops.Shape{1, 1, 1}, 2)}},
			want: []*ops.Tensor{f32(ops.Shape{1, 1, 2}, silu(-2), silu(1))}},
		{name: "activation", node: opstest.Node{OpType: "CausalConvWithState", Opset: 27, Attrs: ops.AttrMap{"activation": ops.StringAttr("relu")}, Inputs: []*ops.Tensor{x, w}},
			wantErr: `"activation" is "relu"`},
		{name: "past_state shape", node: outs(x, w, nil, f32(ops.Shape{1, 1, 3}, 1, 2, 3)), wantErr: "past_state is float32[1,1,3], want float32[1,1,2]"},
		{name: "weight shape", node: outs(x, f32(ops.Shape{1, 2, 1}, 1, 2)), wantErr: "weight is float32[1,2,1], want float32[1,1,k]"},
	})
}

// TestCausalConvMatchesConv checks CausalConvWithState without state against Conv with group = channels and
// k-1 cells of left padding, which is what it fuses.
func TestCausalConvMatchesConv(t *testing.T) {
	x, w, b := randF32(1, 2, 3, 9), randF32(2, 3, 1, 4), randF32(3, 3)
	got := mustRun(t, opstest.Node{OpType: "CausalConvWithState", Opset: 27, Inputs: []*ops.Tensor{x, w, b}})[0]
	want := mustRun(t, convNode(22, ops.AttrMap{"group": ops.IntAttr(3), "pads": ints(3, 0)}, x, w, b))[0]
	if err := opstest.Close(got, want, 1e-5, 1e-6); err != nil {
		t.Error(err)
	}
}
