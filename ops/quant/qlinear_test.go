package quant

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	_ "github.com/onnxrun/onnxrun/ops/cnn" // AveragePool, the float reference of QLinearAveragePool's windows
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// msNode is a com.microsoft node.
func msNode(op string, attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
	return opstest.Node{Domain: ops.MicrosoftDomain, OpType: op, Opset: 1, Attrs: attrs, Inputs: in}
}

// randQ8 is a tensor of random bytes of type dt.
func randQ8(rng *rand.Rand, dt ops.DType, shape ops.Shape) *ops.Tensor {
	n := shape.Size()
	if dt == ops.Int8 {
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(rng.Intn(256) - 128)
		}
		return ops.FromSlice(shape, v)
	}
	v := make([]uint8, n)
	for i := range v {
		v[i] = uint8(rng.Intn(256))
	}
	return ops.FromSlice(shape, v)
}

// zp8 is a scalar zero point of type dt.
func zp8(dt ops.DType, v int) *ops.Tensor {
	if dt == ops.Int8 {
		return ops.Scalar(int8(v))
	}
	return ops.Scalar(uint8(v))
}

// quantizeRef is the plain reference rounding of the QLinear operators: saturate(RoundToEven(v + zp))
// with v + zp a float32 sum, NaN to zp.
func quantizeRef(dt ops.DType, v float32, zp float64) float64 {
	if v != v {
		return zp
	}
	r := math.RoundToEven(float64(v + float32(zp)))
	lo, hi := 0.0, 255.0
	if dt == ops.Int8 {
		lo, hi = -128, 127
	}
	return max(lo, min(hi, r))
}

// quantizeLinearRef is QuantizeLinear's rounding, which the table-driven operators use:
// saturate(RoundToEven(v) + zp), NaN to zp.
func quantizeLinearRef(dt ops.DType, v float32, zp float64) float64 {
	if v != v {
		return zp
	}
	lo, hi := 0.0, 255.0
	if dt == ops.Int8 {
		lo, hi = -128, 127
	}
	return max(lo, min(hi, math.RoundToEven(float64(v))+zp))
}

// broadcastIndex maps output element i of shape out to the element of an input of shape in that
// broadcasts to it, by the numpy rule, with no merging of dimensions.
func broadcastIndex(out, in ops.Shape, i int) int {
	idx, stride := 0, 1
	for d := len(out) - 1; d >= 0; d-- {
		c := i % out[d]
		i /= out[d]
		if k := d - (len(out) - len(in)); k >= 0 {
			if in[k] != 1 {
				idx += c * stride
			}
			stride *= in[k]
		}
	}
	return idx
}

func TestQLinearAddMulAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	shapes := [][2]ops.Shape{
		{{3, 5, 7}, {3, 5, 7}},
		{{2, 3, 5, 7}, {1, 3, 1, 1}},
		{{5, 1, 7}, {3, 1}},
		{{7}, {}},
		{{}, {2, 3}},
		{{1, 4, 1, 9}, {3, 1, 5, 1}},
		{{2, 300, 257}, {1, 257}}, // big enough to split across threads
	}
	for _, op := range []string{"QLinearAdd", "QLinearMul"} {
		for _, dt := range []ops.DType{ops.Uint8, ops.Int8} {
			for _, sh := range shapes {
				a, b := randQ8(rng, dt, sh[0]), randQ8(rng, dt, sh[1])
				as, bs, cs := float32(0.05), float32(0.021), float32(0.037)
				if op == "QLinearMul" {
					cs = 0.9 // products reach 255² · as · bs: some saturate, most do not
				}
				azp, bzp, czp := 3, -7, 11
				if dt == ops.Uint8 {
					azp, bzp, czp = 128, 100, 131
				}
				n := msNode(op, nil, a, scalarF32(as), zp8(dt, azp), b, scalarF32(bs), zp8(dt, bzp), scalarF32(cs), zp8(dt, czp))
				out, err := ops.BroadcastShapes(sh[0], sh[1])
				if err != nil {
					t.Fatal(err)
				}
				want := make([]float64, out.Size())
				av, bv := a.AsFloat64s(), b.AsFloat64s()
				for i := range want {
					x := float32(av[broadcastIndex(out, sh[0], i)])
					y := float32(bv[broadcastIndex(out, sh[1], i)])
					var v float32
					if op == "QLinearAdd" {
						v = (x-float32(azp))*(as/cs) + (y-float32(bzp))*(bs/cs)
					} else {
						v = (x - float32(azp)) * (y - float32(bzp)) * (as * bs / cs)
					}
					want[i] = quantizeRef(dt, v, float64(czp))
				}
				for _, threads := range []int{1, 2} {
					p := opstest.MustPrepare(t, n)
					if threads > 1 {
						pool := ops.NewPool(threads)
						defer pool.Close()
						p.Ctx.Pool, p.Ctx.Threads = pool, threads
					}
					if err := p.Kernel.Run(p.Ctx, n.Inputs, p.Out); err != nil {
						t.Fatal(err)
					}
					got := p.Out[0].AsFloat64s()
					if !p.Out[0].Shape().Equal(out) {
						t.Fatalf("%s %v %v: shape %v, want %v", op, sh[0], sh[1], p.Out[0].Shape(), out)
					}
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%s %s %v %v threads %d: element %d is %v, want %v", op, dt, sh[0], sh[1], threads, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

func TestQLinearAddSaturatesAndRoundsToEven(t *testing.T) {
	// (a - 0)·1 + (b - 0)·1 with C's scale 2: 1/2 → 0, 3/2 → 2, 5/2 → 2; 250+250 saturates at 255.
	a, b := u8(ops.Shape{4}, 1, 3, 5, 250), u8(ops.Shape{4}, 0, 0, 0, 250)
	got, err := opstest.Run(msNode("QLinearAdd", nil, a, scalarF32(1), nil, b, scalarF32(1), nil, scalarF32(2), nil))
	if err != nil {
		t.Fatal(err)
	}
	want := u8(ops.Shape{4}, 0, 2, 2, 250)
	if err := ops.AllClose(got[0], want, 0, 0); err != nil {
		t.Fatal(err)
	}
	got, err = opstest.Run(msNode("QLinearAdd", nil, a, scalarF32(1), nil, b, scalarF32(1), nil, scalarF32(1), nil))
	if err != nil {
		t.Fatal(err)
	}
	if v := ops.Data[uint8](got[0])[3]; v != 255 {
		t.Fatalf("250+250 gives %d, want 255 (saturated)", v)
	}
}

func TestQLinearUnaryAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, dt := range []ops.DType{ops.Uint8, ops.Int8} {
		x := randQ8(rng, dt, ops.Shape{3, 7, 11})
		xs, ys, xzp, yzp := float32(0.071), float32(0.0039), 5, -20
		if dt == ops.Uint8 {
			xzp, yzp = 130, 0
		}
		cases := []struct {
			op    string
			attrs ops.AttrMap
			f     func(float32) float32
		}{
			{"QLinearSigmoid", nil, func(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }},
			{"QLinearLeakyRelu", ops.AttrMap{"alpha": ops.FloatAttr(0.1)}, func(v float32) float32 {
				if v < 0 {
					return float32(0.1) * v
				}
				return v
			}},
		}
		for _, c := range cases {
			ysc := ys
			if c.op == "QLinearLeakyRelu" {
				ysc = 0.05
			}
			xv := x.AsFloat64s()
			want := make([]float64, len(xv))
			for i, v := range xv {
				want[i] = quantizeLinearRef(dt, c.f((float32(v)-float32(xzp))*xs)/ysc, float64(yzp))
			}
			for _, nonConst := range []bool{false, true} {
				n := msNode(c.op, c.attrs, x, scalarF32(xs), zp8(dt, xzp), scalarF32(ysc), zp8(dt, yzp))
				if nonConst {
					n.NonConstInputs = []int{1, 2, 3, 4} // the table is built at each Run
				}
				got, err := opstest.Run(n)
				if err != nil {
					t.Fatal(err)
				}
				g := got[0].AsFloat64s()
				for i := range want {
					if g[i] != want[i] {
						t.Fatalf("%s %s nonConst=%v: element %d (x=%v) is %v, want %v", c.op, dt, nonConst, i, xv[i], g[i], want[i])
					}
				}
			}
		}
	}
}

func TestQLinearBadInputs(t *testing.T) {
	a := u8(ops.Shape{3}, 1, 2, 3)
	s := scalarF32(1)
	cases := []struct {
		name string
		node opstest.Node
		err  string
	}{
		{"per-axis scale", msNode("QLinearAdd", nil, a, opstest.F32(ops.Shape{3}, 1, 1, 1), nil, a, s, nil, s, nil), "A_scale has shape [3], want a scalar"},
		{"mismatched types", msNode("QLinearMul", nil, a, s, nil, i8(ops.Shape{3}, 1, 2, 3), s, nil, s, nil), "B has dtype int8, A uint8"},
		{"zero point type", msNode("QLinearAdd", nil, a, s, i8(ops.Shape{}, 0), a, s, nil, s, nil), "A_zero_point has dtype int8, want uint8"},
		{"float input", msNode("QLinearSigmoid", nil, opstest.F32(ops.Shape{1}, 1), s, nil, s, nil), "X has dtype float32, want uint8 or int8"},
		{"double scale", msNode("QLinearLeakyRelu", nil, a, ops.Scalar(1.0), nil, s, nil), "X_scale has dtype float64, want float32"},
		{"no broadcast", msNode("QLinearAdd", nil, a, s, nil, u8(ops.Shape{2}, 1, 2), s, nil, s, nil), "do not broadcast"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := opstest.Run(c.node)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("error %v, want one containing %q", err, c.err)
			}
		})
	}
}

func TestQLinearConcat(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, dt := range []ops.DType{ops.Uint8, ops.Int8} {
		a, b, c := randQ8(rng, dt, ops.Shape{2, 3, 5}), randQ8(rng, dt, ops.Shape{2, 1, 5}), randQ8(rng, dt, ops.Shape{2, 4, 5})
		ys, yzp := float32(0.1), 3
		params := []struct {
			s  float32
			zp int
		}{{0.1, 3}, {0.25, 4}, {0.037, 9}} // the first as Y: copied
		for _, nonConst := range []bool{false, true} {
			n := msNode("QLinearConcat", ops.AttrMap{"axis": ops.IntAttr(-2)}, scalarF32(ys), zp8(dt, yzp),
				a, scalarF32(params[0].s), zp8(dt, params[0].zp),
				b, scalarF32(params[1].s), zp8(dt, params[1].zp),
				c, scalarF32(params[2].s), zp8(dt, params[2].zp))
			if nonConst {
				n.NonConstInputs = []int{0, 1, 3, 4, 6, 7, 9, 10}
			}
			got, err := opstest.Run(n)
			if err != nil {
				t.Fatal(err)
			}
			if want := (ops.Shape{2, 8, 5}); !got[0].Shape().Equal(want) {
				t.Fatalf("shape %v, want %v", got[0].Shape(), want)
			}
			g := got[0].AsFloat64s()
			for o := 0; o < 2; o++ {
				row := 0
				for k, x := range []*ops.Tensor{a, b, c} {
					xv, rows := x.AsFloat64s(), x.Shape()[1]
					for i := 0; i < rows*5; i++ {
						v := (float32(xv[o*rows*5+i]) - float32(params[k].zp)) * params[k].s / ys
						want := quantizeLinearRef(dt, v, float64(yzp))
						if have := g[o*40+row+i]; have != want {
							t.Fatalf("%s nonConst=%v: input %d row %d element %d is %v, want %v", dt, nonConst, k, o, i, have, want)
						}
					}
					row += rows * 5
				}
			}
		}
	}
	for _, c := range []struct {
		name string
		node opstest.Node
		err  string
	}{
		{"no axis", msNode("QLinearConcat", nil, scalarF32(1), u8(ops.Shape{}, 0), u8(ops.Shape{1}, 1), scalarF32(1), u8(ops.Shape{}, 0)), "axis"},
		{"shapes differ", msNode("QLinearConcat", ops.AttrMap{"axis": ops.IntAttr(0)}, scalarF32(1), u8(ops.Shape{}, 0),
			u8(ops.Shape{1, 2}, 1, 2), scalarF32(1), u8(ops.Shape{}, 0), u8(ops.Shape{1, 1}, 1), scalarF32(1), u8(ops.Shape{}, 0)), "differ off axis 0"},
		{"types differ", msNode("QLinearConcat", ops.AttrMap{"axis": ops.IntAttr(0)}, scalarF32(1), u8(ops.Shape{}, 0),
			u8(ops.Shape{1}, 1), scalarF32(1), u8(ops.Shape{}, 0), i8(ops.Shape{1}, 1), scalarF32(1), i8(ops.Shape{}, 0)), "X1 has dtype int8, X0 uint8"},
	} {
		if _, err := opstest.Run(c.node); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.err)
		}
	}
}

// dequantized is (x - zp) * scale as a float32 tensor.
func dequantized(x *ops.Tensor, scale float32, zp int) *ops.Tensor {
	v := x.AsFloat64s()
	f := make([]float32, len(v))
	for i := range v {
		f[i] = (float32(v[i]) - float32(zp)) * scale
	}
	return ops.FromSlice(x.Shape().Clone(), f)
}

// toChannelsLast moves axis 1 of x to the end.
func toChannelsLast(x *ops.Tensor) *ops.Tensor {
	s := x.Shape()
	n, c, inner := s[0], s[1], s[2:].Size()
	out := ops.New(x.DType(), append(append(ops.Shape{n}, s[2:]...), c))
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			for i := 0; i < inner; i++ {
				ops.CopyElements(out, (b*inner+i)*c+ch, x, (b*c+ch)*inner+i, 1)
			}
		}
	}
	return out
}

func TestQLinearAveragePoolMatchesFloatAveragePool(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	cases := []struct {
		shape ops.Shape
		attrs ops.AttrMap
	}{
		{ops.Shape{2, 3, 7, 9}, ops.AttrMap{"kernel_shape": opstest.Ints(3, 3)}},
		{ops.Shape{1, 4, 8, 7}, ops.AttrMap{"kernel_shape": opstest.Ints(3, 2), "strides": opstest.Ints(2, 2), "pads": opstest.Ints(1, 0, 1, 1)}},
		{ops.Shape{1, 4, 8, 7}, ops.AttrMap{"kernel_shape": opstest.Ints(3, 3), "strides": opstest.Ints(2, 2), "pads": opstest.Ints(1, 1, 1, 1), "count_include_pad": ops.IntAttr(1)}},
		{ops.Shape{1, 2, 9, 6}, ops.AttrMap{"kernel_shape": opstest.Ints(2, 3), "strides": opstest.Ints(2, 2), "ceil_mode": ops.IntAttr(1)}},
		{ops.Shape{1, 2, 9, 6}, ops.AttrMap{"kernel_shape": opstest.Ints(4, 3), "strides": opstest.Ints(3, 2), "auto_pad": ops.StringAttr("SAME_UPPER")}},
		{ops.Shape{1, 2, 9, 6}, ops.AttrMap{"kernel_shape": opstest.Ints(4, 3), "strides": opstest.Ints(3, 2), "auto_pad": ops.StringAttr("SAME_LOWER"), "count_include_pad": ops.IntAttr(1)}},
		{ops.Shape{2, 3, 11}, ops.AttrMap{"kernel_shape": opstest.Ints(4), "strides": opstest.Ints(3), "auto_pad": ops.StringAttr("VALID")}},
		{ops.Shape{1, 2, 5, 4, 6}, ops.AttrMap{"kernel_shape": opstest.Ints(2, 3, 2), "pads": opstest.Ints(1, 1, 0, 0, 1, 1)}},
	}
	for _, dt := range []ops.DType{ops.Uint8, ops.Int8} {
		xs, ys, xzp, yzp := float32(0.043), float32(0.031), 7, -3
		if dt == ops.Uint8 {
			xzp, yzp = 121, 130
		}
		for _, c := range cases {
			x := randQ8(rng, dt, c.shape)
			ref, err := opstest.Run(opstest.NewNode("AveragePool", 19, c.attrs, dequantized(x, xs, xzp)))
			if err != nil {
				t.Fatal(err)
			}
			refV := ref[0].Float32s()
			want := make([]float64, len(refV))
			for i, v := range refV {
				want[i] = quantizeRef(dt, v/ys, float64(yzp))
			}
			for _, last := range []bool{false, true} {
				attrs := ops.AttrMap{"channels_last": ops.IntAttr(0)}
				for k, v := range c.attrs {
					attrs[k] = v
				}
				in, wantT := x, ops.FromSlice(ref[0].Shape().Clone(), want)
				if last {
					attrs["channels_last"] = ops.IntAttr(1)
					in, wantT = toChannelsLast(x), toChannelsLast(wantT)
				}
				got, err := opstest.Run(msNode("QLinearAveragePool", attrs, in, scalarF32(xs), zp8(dt, xzp), scalarF32(ys), zp8(dt, yzp)))
				if err != nil {
					t.Fatalf("%v %v: %v", c.shape, c.attrs, err)
				}
				if !got[0].Shape().Equal(wantT.Shape()) {
					t.Fatalf("%v %v channels_last=%v: shape %v, want %v", c.shape, c.attrs, last, got[0].Shape(), wantT.Shape())
				}
				// The float pool divides a float sum, ours scales an exact integer sum: they may round a
				// value near a half apart, never further.
				g, w := got[0].AsFloat64s(), wantT.Float64s()
				for i := range w {
					if math.Abs(g[i]-w[i]) > 1 {
						t.Fatalf("%s %v %v channels_last=%v: element %d is %v, want %v", dt, c.shape, c.attrs, last, i, g[i], w[i])
					}
				}
			}
		}
	}
}

func TestQLinearGlobalAveragePoolExact(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, dt := range []ops.DType{ops.Uint8, ops.Int8} {
		x := randQ8(rng, dt, ops.Shape{2, 5, 3, 7})
		xs, ys, xzp, yzp := float32(0.02), float32(0.01), 4, 2
		xv := x.AsFloat64s()
		want := make([]float64, 10)
		for p := range want {
			var sum int32
			for i := 0; i < 21; i++ {
				sum += int32(xv[p*21+i]) - int32(xzp)
			}
			want[p] = quantizeRef(dt, float32(sum)*(xs/(ys*21)), float64(yzp))
		}
		for _, last := range []bool{false, true} {
			in, wantT := x, ops.FromSlice(ops.Shape{2, 5, 1, 1}, want)
			if last {
				in, wantT = toChannelsLast(x), toChannelsLast(wantT)
			}
			got, err := opstest.Run(msNode("QLinearGlobalAveragePool", ops.AttrMap{"channels_last": ops.IntAttr(map[bool]int64{false: 0, true: 1}[last])},
				in, scalarF32(xs), zp8(dt, xzp), scalarF32(ys), zp8(dt, yzp)))
			if err != nil {
				t.Fatal(err)
			}
			if err := ops.AllClose(ops.FromSlice(got[0].Shape(), got[0].AsFloat64s()), wantT, 0, 0); err != nil {
				t.Fatalf("%s channels_last=%v: %v", dt, last, err)
			}
		}
	}
}

func TestQLinearSoftmaxAgainstFloat(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	shape := ops.Shape{2, 3, 5}
	for _, dt := range []ops.DType{ops.Uint8, ops.Int8} {
		x := randQ8(rng, dt, shape)
		xs, ys, xzp, yzp := float32(0.08), float32(1.0/256), 9, 0
		if dt == ops.Int8 {
			yzp = -128
		}
		xv := x.AsFloat64s()
		for _, c := range []struct {
			opset, axis     int64
			outer, n, inner int
		}{{13, 1, 2, 3, 5}, {13, -1, 6, 5, 1}, {11, 1, 2, 15, 1}, {11, 0, 1, 30, 1}} {
			want := make([]float64, len(xv))
			for o := 0; o < c.outer; o++ {
				for i := 0; i < c.inner; i++ {
					at := func(j int) int { return (o*c.n+j)*c.inner + i }
					var m, sum float64 = math.Inf(-1), 0
					for j := 0; j < c.n; j++ {
						m = max(m, (xv[at(j)]-float64(xzp))*float64(xs))
					}
					for j := 0; j < c.n; j++ {
						sum += math.Exp((xv[at(j)]-float64(xzp))*float64(xs) - m)
					}
					for j := 0; j < c.n; j++ {
						p := math.Exp((xv[at(j)]-float64(xzp))*float64(xs)-m) / sum
						want[at(j)] = quantizeRef(dt, float32(p/float64(ys)), float64(yzp))
					}
				}
			}
			for _, nonConst := range []bool{false, true} {
				n := msNode("QLinearSoftmax", ops.AttrMap{"opset": ops.IntAttr(c.opset), "axis": ops.IntAttr(c.axis)},
					x, scalarF32(xs), zp8(dt, xzp), scalarF32(ys), zp8(dt, yzp))
				if nonConst {
					n.NonConstInputs = []int{1}
				}
				got, err := opstest.Run(n)
				if err != nil {
					t.Fatal(err)
				}
				// float32 against float64: a value near a half may round the other way, never further.
				g := got[0].AsFloat64s()
				for i := range want {
					if math.Abs(g[i]-want[i]) > 1 {
						t.Fatalf("%s opset %d axis %d: element %d is %v, want %v", dt, c.opset, c.axis, i, g[i], want[i])
					}
				}
			}
		}
	}
	if _, err := opstest.Run(msNode("QLinearSoftmax", nil, u8(ops.Shape{2}, 1, 2), scalarF32(1), nil, scalarF32(1), nil)); err == nil ||
		!strings.Contains(err.Error(), "opset") {
		t.Fatalf("no opset attribute: error %v, want one naming opset", err)
	}
}

func TestQLinearEmptyTensors(t *testing.T) {
	empty := u8(ops.Shape{2, 0})
	s, zp := scalarF32(0.1), u8(ops.Shape{}, 3)
	for _, n := range []opstest.Node{
		msNode("QLinearSoftmax", ops.AttrMap{"opset": ops.IntAttr(13)}, empty, s, zp, s, zp),
		msNode("QLinearSoftmax", ops.AttrMap{"opset": ops.IntAttr(11), "axis": ops.IntAttr(1)}, empty, s, zp, s, zp),
		msNode("QLinearAdd", nil, empty, s, zp, u8(ops.Shape{1}, 4), s, zp, s, zp),
		msNode("QLinearSigmoid", nil, empty, s, zp, s, zp),
		msNode("QLinearConcat", ops.AttrMap{"axis": ops.IntAttr(1)}, s, zp, empty, s, zp, empty, s, zp),
	} {
		if _, err := opstest.Run(n); err != nil {
			t.Errorf("%s of an empty tensor: %v", n.OpType, err)
		}
	}
}

// The global pool's plane sums (runGlobal) give runWindows' bytes, bit for bit, for both types and
// layouts, on planes of 1 to 300 cells and scales that round many outputs to a tie or saturate them.
func TestQLinearGlobalAveragePoolMatchesWindowLoop(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	for _, dt := range []ops.DType{ops.Uint8, ops.Int8} {
		for _, shape := range []ops.Shape{{1, 1, 1, 1}, {2, 7, 7, 7}, {1, 3, 15, 20}, {3, 5, 9}, {1, 2, 2, 3, 4}} {
			for _, last := range []bool{false, true} {
				for _, sc := range [][2]float32{{0.02, 0.01}, {1, 1}, {0.5, 0.003}} {
					x := randQ8(rng, dt, shape)
					xzp, yzp := 3, 250
					if dt == ops.Int8 {
						xzp, yzp = -7, 100
					}
					if last {
						x = toChannelsLast(x)
					}
					p := opstest.MustPrepare(t, msNode("QLinearGlobalAveragePool", ops.AttrMap{"channels_last": ops.IntAttr(map[bool]int64{false: 0, true: 1}[last])},
						x, scalarF32(sc[0]), zp8(dt, xzp), scalarF32(sc[1]), zp8(dt, yzp)))
					if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
						t.Fatal(err)
					}
					got := p.Out[0].AsFloat64s()
					want := make([]float64, len(got))
					switch k := p.Kernel.(type) {
					case *qlinearPoolKernel[uint8]:
						y := make([]uint8, len(got))
						k.runWindows(x.Data().([]uint8), y, sc[0], float32(xzp), sc[1], float32(yzp))
						for i, v := range y {
							want[i] = float64(v)
						}
					case *qlinearPoolKernel[int8]:
						y := make([]int8, len(got))
						k.runWindows(x.Data().([]int8), y, sc[0], float32(xzp), sc[1], float32(yzp))
						for i, v := range y {
							want[i] = float64(v)
						}
					default:
						t.Fatalf("kernel %T", p.Kernel)
					}
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%s %v channels_last=%v scales %v: output %d is %v, the window loop's %v", dt, shape, last, sc, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
