package recurrent

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// rnnCase is one recurrent node: its kind, attributes and inputs (nil for absent optional ones).
type rnnCase struct {
	name  string
	op    string
	attrs ops.AttrMap
	in    []*ops.Tensor
	outs  int
}

// rnnInputs makes random inputs for op with the given sizes: X in layout 0 or 1, W, R, and B, sequence_lens,
// initial_h, initial_c, P when asked for.
func rnnInputs(seed int64, op string, seq, batch, input, hidden, dirs, layout int, withB, withInit, withPeep bool, lens []int32) []*ops.Tensor {
	gates := map[string]int{"RNN": 1, "GRU": 3, "LSTM": 4}[op]
	x := opstest.RandF32(seed, seq, batch, input)
	state := []int{dirs, batch, hidden}
	if layout == 1 {
		x = opstest.RandF32(seed, batch, seq, input)
		state = []int{batch, dirs, hidden}
	}
	in := []*ops.Tensor{x, opstest.RandF32(seed+1, dirs, gates*hidden, input), opstest.RandF32(seed+2, dirs, gates*hidden, hidden)}
	maxIn := 6
	if op == "LSTM" {
		maxIn = 8
	}
	for len(in) < maxIn {
		in = append(in, nil)
	}
	if withB {
		in[3] = opstest.RandF32(seed+3, dirs, 2*gates*hidden)
	}
	if lens != nil {
		in[4] = ops.FromSlice(ops.Shape{batch}, lens)
	}
	if withInit {
		in[5] = opstest.RandF32(seed+5, state...)
		if op == "LSTM" {
			in[6] = opstest.RandF32(seed+6, state...)
		}
	}
	if withPeep && op == "LSTM" {
		in[7] = opstest.RandF32(seed+7, dirs, 3*hidden)
	}
	for len(in) > 3 && in[len(in)-1] == nil {
		in = in[:len(in)-1]
	}
	return in
}

// rnnCases covers every operator with each direction, layout, sequence lengths, initial states, biases,
// peepholes, clip, linear_before_reset, input_forget and non-default activations.
func rnnCases() []rnnCase {
	var cases []rnnCase
	seed := int64(1)
	for _, op := range []string{"RNN", "GRU", "LSTM"} {
		for _, dir := range []string{"forward", "reverse", "bidirectional"} {
			for layout := 0; layout <= 1; layout++ {
				for variant := 0; variant < 3; variant++ {
					dirs := 1
					if dir == "bidirectional" {
						dirs = 2
					}
					attrs := ops.AttrMap{"hidden_size": ops.IntAttr(5), "direction": ops.StringAttr(dir), "layout": ops.IntAttr(int64(layout))}
					var lens []int32
					switch variant {
					case 1:
						lens = []int32{4, 0, 2}
						attrs["clip"] = ops.FloatAttr(0.7)
						if op == "GRU" {
							attrs["linear_before_reset"] = ops.IntAttr(1)
						}
						if op == "LSTM" {
							attrs["input_forget"] = ops.IntAttr(1)
						}
					case 2:
						acts := map[string][]string{"RNN": {"LeakyRelu"}, "GRU": {"HardSigmoid", "Softsign"}, "LSTM": {"HardSigmoid", "ScaledTanh", "Elu"}}[op]
						attrs["activations"] = ops.StringsAttr(acts...)
						attrs["activation_alpha"] = ops.FloatsAttr(0.3, 0.8)
						attrs["activation_beta"] = ops.FloatsAttr(0.4)
					}
					in := rnnInputs(seed, op, 4, 3, 6, 5, dirs, layout, variant != 0, variant != 0, variant == 2, lens)
					seed += 10
					outs := map[string]int{"RNN": 2, "GRU": 2, "LSTM": 3}[op]
					cases = append(cases, rnnCase{fmt.Sprintf("%s/%s/layout%d/variant%d", op, dir, layout, variant), op, attrs, in, outs})
				}
			}
		}
	}
	return cases
}

func runRNNCase(t *testing.T, c rnnCase) []*ops.Tensor {
	t.Helper()
	p := opstest.MustPrepare(t, opstest.Node{OpType: c.op, Opset: 22, Attrs: c.attrs, Inputs: c.in, NumOutputs: c.outs})
	for _, o := range p.Out {
		opstest.FillNaN(o)
	}
	if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return p.Out
}

// TestRecurrentGEMMMatchesReference compares the float32 kernel (products on the packed GEMM) with its
// reference twin (products in plain loops) on every case.
func TestRecurrentGEMMMatchesReference(t *testing.T) {
	for _, c := range rnnCases() {
		p := opstest.MustPrepare(t, opstest.Node{OpType: c.op, Opset: 22, Attrs: c.attrs, Inputs: c.in, NumOutputs: c.outs})
		k := p.Kernel.(*rnnKernel)
		if err := k.Run(p.Ctx, p.In, p.Out); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := make([]*ops.Tensor, len(p.Out))
		for i, o := range p.Out {
			want[i] = ops.New(o.DType(), o.Shape())
		}
		if err := runRecurrent(k, make([]float32, k.ScratchSize()), p.In, want, referenceProduct[float32], nil); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if err := opstest.Close(p.Out[i], want[i], 1e-5, 1e-5); err != nil {
				t.Errorf("%s output %d: %v", c.name, i, err)
			}
		}
	}
}

// TestRecurrentDTypes runs every case in float64 and float16 and compares with float32.
func TestRecurrentDTypes(t *testing.T) {
	for _, c := range rnnCases() {
		want := runRNNCase(t, c)
		for _, conv := range []struct {
			name string
			f    func(*ops.Tensor) *ops.Tensor
			tol  float64
		}{{"float64", opstest.ToF64, 1e-5}, {"float16", opstest.ToHalf, 2e-2}} {
			cc := c
			cc.in = make([]*ops.Tensor, len(c.in))
			for i, x := range c.in {
				if x != nil && x.DType() == ops.Float32 {
					cc.in[i] = conv.f(x)
				} else {
					cc.in[i] = x
				}
			}
			got := runRNNCase(t, cc)
			for i := range got {
				if err := opstest.Close(opstest.ToF64(opstest.ToF32(got[i])), opstest.ToF64(want[i]), conv.tol, conv.tol); err != nil {
					t.Errorf("%s in %s, output %d: %v", c.name, conv.name, i, err)
				}
			}
		}
	}
}

// TestRecurrentDirections checks the directions against each other: reverse on a sequence is forward on
// the sequence reversed within each entry's length, and bidirectional stacks the two.
func TestRecurrentDirections(t *testing.T) {
	for _, op := range []string{"RNN", "GRU", "LSTM"} {
		const seq, batch, input, hidden = 5, 3, 4, 3
		lens := []int32{5, 2, 3}
		fw := rnnInputs(7, op, seq, batch, input, hidden, 1, 0, true, true, true, lens)
		// The reverse direction's weights are the second halves of a bidirectional node's.
		bw := rnnInputs(17, op, seq, batch, input, hidden, 1, 0, true, true, true, lens)
		bi := make([]*ops.Tensor, len(fw))
		for i := range fw {
			switch {
			case fw[i] == nil:
			case i == 0 || i == 4:
				bi[i] = fw[i]
			default:
				bi[i] = stack(fw[i], bw[i])
			}
		}
		attrs := func(dir string) ops.AttrMap {
			return ops.AttrMap{"hidden_size": ops.IntAttr(hidden), "direction": ops.StringAttr(dir)}
		}
		outs := map[string]int{"RNN": 2, "GRU": 2, "LSTM": 3}[op]
		f := runRNNCase(t, rnnCase{op + " forward", op, attrs("forward"), fw, outs})
		bwIn := append([]*ops.Tensor{fw[0]}, bw[1:]...)
		r := runRNNCase(t, rnnCase{op + " reverse", op, attrs("reverse"), bwIn, outs})
		b := runRNNCase(t, rnnCase{op + " bidirectional", op, attrs("bidirectional"), bi, outs})

		// Forward on X reversed within each length equals reverse on X, step for step.
		xr := ops.New(ops.Float32, fw[0].Shape())
		x, xrv := fw[0].Float32s(), xr.Float32s()
		for bIdx, l := range lens {
			for tt := 0; tt < int(l); tt++ {
				copy(xrv[(tt*batch+bIdx)*input:][:input], x[((int(l)-1-tt)*batch+bIdx)*input:][:input])
			}
		}
		fr := runRNNCase(t, rnnCase{op + " forward reversed", op, attrs("forward"), append([]*ops.Tensor{xr}, bw[1:]...), outs})
		for bIdx, l := range lens {
			for tt := 0; tt < int(l); tt++ {
				got := r[0].Float32s()[(tt*batch+bIdx)*hidden:][:hidden]
				want := fr[0].Float32s()[((int(l)-1-tt)*batch+bIdx)*hidden:][:hidden]
				if err := opstest.CloseTo(got, opstest.Float64s(want), 1e-5, 1e-6); err != nil {
					t.Errorf("%s reverse, entry %d step %d: %v", op, bIdx, tt, err)
				}
			}
		}
		for i := 1; i < outs; i++ {
			if err := opstest.Close(r[i], fr[i], 1e-5, 1e-6); err != nil {
				t.Errorf("%s reverse, output %d: %v", op, i, err)
			}
		}
		// Bidirectional: Y[t, 0] is forward's, Y[t, 1] reverse's; Y_h stacks them.
		for tt := 0; tt < seq; tt++ {
			for d, one := range [][]*ops.Tensor{f, r} {
				got := b[0].Float32s()[(tt*2+d)*batch*hidden:][:batch*hidden]
				want := one[0].Float32s()[tt*batch*hidden:][:batch*hidden]
				if err := opstest.CloseTo(got, opstest.Float64s(want), 1e-5, 1e-6); err != nil {
					t.Errorf("%s bidirectional Y step %d direction %d: %v", op, tt, d, err)
				}
			}
		}
		for i := 1; i < outs; i++ {
			if err := opstest.Close(b[i], stack(f[i], r[i]), 1e-5, 1e-6); err != nil {
				t.Errorf("%s bidirectional output %d: %v", op, i, err)
			}
		}
		// Past its length an entry's Y is zero.
		for tt := int(lens[1]); tt < seq; tt++ {
			for _, v := range f[0].Float32s()[(tt*batch+1)*hidden:][:hidden] {
				if v != 0 {
					t.Fatalf("%s: Y at step %d of an entry of length %d is %g, want 0", op, tt, lens[1], v)
				}
			}
		}
	}
}

// stack concatenates two float32 tensors of the same shape [1, ...] along their first axis.
func stack(a, b *ops.Tensor) *ops.Tensor {
	shape := append(ops.Shape{a.Shape()[0] + b.Shape()[0]}, a.Shape()[1:]...)
	return ops.FromSlice(shape, append(append([]float32(nil), a.Float32s()...), b.Float32s()...))
}

// TestRecurrentLayouts: layout 1 is layout 0 with the batch and sequence axes swapped.
func TestRecurrentLayouts(t *testing.T) {
	for _, c := range rnnCases() {
		if c.attrs["layout"].Int != 1 {
			continue
		}
		got := runRNNCase(t, c)
		c0 := c
		c0.attrs = ops.AttrMap{}
		for k, v := range c.attrs {
			c0.attrs[k] = v
		}
		c0.attrs["layout"] = ops.IntAttr(0)
		c0.in = append([]*ops.Tensor(nil), c.in...)
		c0.in[0] = swap01(c.in[0])
		for i := 5; i < len(c.in) && i <= 6; i++ {
			if c.in[i] != nil {
				c0.in[i] = swap01(c.in[i])
			}
		}
		want := runRNNCase(t, c0)
		// Y: [batch, seq, dirs, H] against [seq, dirs, batch, H].
		y, y0 := got[0], want[0]
		s := y.Shape()
		for b := 0; b < s[0]; b++ {
			for tt := 0; tt < s[1]; tt++ {
				for d := 0; d < s[2]; d++ {
					g := y.Float32s()[((b*s[1]+tt)*s[2]+d)*s[3]:][:s[3]]
					w := y0.Float32s()[((tt*s[2]+d)*s[0]+b)*s[3]:][:s[3]]
					if err := opstest.CloseTo(g, opstest.Float64s(w), 1e-6, 1e-7); err != nil {
						t.Fatalf("%s: Y[%d,%d,%d]: %v", c.name, b, tt, d, err)
					}
				}
			}
		}
		for i := 1; i < len(got); i++ {
			if err := opstest.Close(got[i], swap01(want[i]), 1e-6, 1e-7); err != nil {
				t.Errorf("%s output %d: %v", c.name, i, err)
			}
		}
	}
}

// swap01 swaps the first two axes of a rank-3 float32 tensor.
func swap01(x *ops.Tensor) *ops.Tensor {
	s := x.Shape()
	out := make([]float32, x.Len())
	v := x.Float32s()
	for i := 0; i < s[0]; i++ {
		for j := 0; j < s[1]; j++ {
			copy(out[(j*s[0]+i)*s[2]:][:s[2]], v[(i*s[1]+j)*s[2]:][:s[2]])
		}
	}
	return ops.FromSlice(ops.Shape{s[1], s[0], s[2]}, out)
}

// TestRecurrentErrors: bad attributes and shapes fail with a message naming the value, and so does a
// sequence length past the sequence.
func TestRecurrentErrors(t *testing.T) {
	in := rnnInputs(1, "LSTM", 4, 2, 3, 2, 1, 0, false, false, false, nil)
	hs := ops.AttrMap{"hidden_size": ops.IntAttr(2)}
	with := func(k string, v ops.Attr) ops.AttrMap {
		a := ops.AttrMap{"hidden_size": ops.IntAttr(2)}
		a[k] = v
		return a
	}
	cases := []struct {
		name  string
		attrs ops.AttrMap
		in    []*ops.Tensor
		want  string
	}{
		{"direction", with("direction", ops.StringAttr("sideways")), in, `direction`},
		{"activations", with("activations", ops.StringsAttr("Tanh")), in, `"activations" has 1 functions, want 3`},
		{"activation name", with("activations", ops.StringsAttr("Tanh", "Swish", "Tanh")), in, `"Swish"`},
		{"hidden_size", with("hidden_size", ops.IntAttr(3)), in, "W has shape [1,8,3], want [1,12,3]"},
		{"layout", with("layout", ops.IntAttr(2)), in, "layout"},
		{"clip", with("clip", ops.FloatAttr(-1)), in, "clip"},
		{"X rank", hs, append([]*ops.Tensor{opstest.RandF32(1, 4, 3)}, in[1:]...), "X has shape [4,3], want rank 3"},
		{"B", hs, append(append([]*ops.Tensor(nil), in...), opstest.RandF32(1, 1, 8)), "B has shape [1,8], want [1,16]"},
	}
	for _, c := range cases {
		build, _, _ := ops.Lookup("", "LSTM", 22)
		present := make([]bool, len(c.in))
		infos := make([]ops.ValueInfo, len(c.in))
		for i, x := range c.in {
			present[i] = x != nil
			if x != nil {
				infos[i] = ops.ValueInfo{DType: x.DType(), Shape: x.Shape()}
			}
		}
		op, err := build(ops.NodeInfo{OpType: "LSTM", Opset: 22, Attrs: c.attrs, NumInputs: len(c.in), NumOutputs: 3, InputPresent: present})
		if err == nil {
			_, err = op.InferShapes(infos)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
	bad := rnnInputs(1, "GRU", 4, 2, 3, 2, 1, 0, false, false, false, []int32{2, 5})
	p := opstest.MustPrepare(t, opstest.Node{OpType: "GRU", Opset: 22, Attrs: hs, Inputs: bad, NumOutputs: 2})
	if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err == nil || !strings.Contains(err.Error(), "sequence_lens[1] is 5") {
		t.Errorf("sequence length past the sequence: got %v", err)
	}
}

// TestRecurrentStopsWhenCancelled: a cancelled run leaves most of Y unwritten.
func TestRecurrentStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, op := range []string{"RNN", "GRU", "LSTM"} {
		in := rnnInputs(3, op, 32, 2, 4, 4, 1, 0, false, false, false, nil)
		p := opstest.MustPrepare(t, opstest.Node{OpType: op, Opset: 22, Attrs: ops.AttrMap{"hidden_size": ops.IntAttr(4)}, Inputs: in, NumOutputs: 1})
		p.Ctx.Context = ctx
		y := p.Out[0]
		opstest.FillNaN(y)
		if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
			t.Fatal(err)
		}
		written := 0
		for _, v := range y.Float32s() {
			if v != 0 && !math.IsNaN(float64(v)) {
				written++
			}
		}
		if written > y.Len()/2 {
			t.Errorf("%s: cancelled Run still wrote %d of %d outputs", op, written, y.Len())
		}
	}
}

// TestRecurrentOneStep checks single units (input and hidden size 1, one step) against the equations
// written out, for the options the ONNX node tests leave out: clip, input_forget, linear_before_reset.
func TestRecurrentOneStep(t *testing.T) {
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	clip := func(v, c float64) float64 { return math.Max(-c, math.Min(c, v)) }
	scalar := func(v ...float32) []*ops.Tensor {
		out := make([]*ops.Tensor, len(v))
		for i, x := range v {
			out[i] = opstest.F32(ops.Shape{1, 1, 1}, x)
		}
		return out
	}
	const x, h0, c0 = 0.9, -0.4, 0.6
	// LSTM, gates i, o, f, c: W = [0.5, -0.3, 0.8, 1.1], R = [0.2, 0.7, -0.6, 0.4], Wb = [0.1, 0, -0.2, 0.3],
	// Rb = 0, P = [0.25, -0.5, 0.75], input_forget = 1, clip 0.5.
	{
		w := []float64{0.5, -0.3, 0.8, 1.1}
		r := []float64{0.2, 0.7, -0.6, 0.4}
		wb := []float64{0.1, 0, -0.2, 0.3}
		p := []float64{0.25, -0.5, 0.75}
		pre := func(g int) float64 { return w[g]*x + r[g]*h0 + wb[g] }
		i := sig(clip(pre(0)+p[0]*c0, 0.5))
		f := 1 - i
		c := f*c0 + i*math.Tanh(clip(pre(3), 0.5))
		o := sig(clip(pre(1)+p[1]*c, 0.5))
		h := o * math.Tanh(c)
		in := scalar(x)
		in = append(in, opstest.F32(ops.Shape{1, 4, 1}, 0.5, -0.3, 0.8, 1.1), opstest.F32(ops.Shape{1, 4, 1}, 0.2, 0.7, -0.6, 0.4),
			opstest.F32(ops.Shape{1, 8}, 0.1, 0, -0.2, 0.3, 0, 0, 0, 0), nil)
		in = append(in, scalar(h0, c0)...)
		in = append(in, opstest.F32(ops.Shape{1, 3}, 0.25, -0.5, 0.75))
		got := runRNNCase(t, rnnCase{"LSTM one step", "LSTM", ops.AttrMap{"hidden_size": ops.IntAttr(1), "input_forget": ops.IntAttr(1), "clip": ops.FloatAttr(0.5)}, in, 3})
		if err := opstest.CloseTo([]float32{got[1].Float32s()[0], got[2].Float32s()[0]}, []float64{h, c}, 1e-6, 1e-7); err != nil {
			t.Errorf("LSTM: %v", err)
		}
	}
	// GRU, gates z, r, h: W = [0.5, -0.3, 0.8], R = [0.2, 0.7, -0.6], Wb = [0.1, 0, -0.2], Rb = [0, 0.3, 0.4].
	for _, lbr := range []bool{false, true} {
		w := []float64{0.5, -0.3, 0.8}
		r := []float64{0.2, 0.7, -0.6}
		wb := []float64{0.1, 0, -0.2}
		rb := []float64{0, 0.3, 0.4}
		z := sig(w[0]*x + wb[0] + r[0]*h0 + rb[0])
		rg := sig(w[1]*x + wb[1] + r[1]*h0 + rb[1])
		var cand float64
		if lbr {
			cand = math.Tanh(w[2]*x + wb[2] + rg*(r[2]*h0+rb[2]))
		} else {
			cand = math.Tanh(w[2]*x + wb[2] + r[2]*(rg*h0) + rb[2])
		}
		h := (1-z)*cand + z*h0
		in := append(scalar(x), opstest.F32(ops.Shape{1, 3, 1}, 0.5, -0.3, 0.8), opstest.F32(ops.Shape{1, 3, 1}, 0.2, 0.7, -0.6),
			opstest.F32(ops.Shape{1, 6}, 0.1, 0, -0.2, 0, 0.3, 0.4), nil, scalar(h0)[0])
		attrs := ops.AttrMap{"hidden_size": ops.IntAttr(1)}
		if lbr {
			attrs["linear_before_reset"] = ops.IntAttr(1)
		}
		got := runRNNCase(t, rnnCase{"GRU one step", "GRU", attrs, in, 2})
		if err := opstest.CloseTo(got[1].Float32s(), []float64{h}, 1e-6, 1e-7); err != nil {
			t.Errorf("GRU linear_before_reset=%v: %v", lbr, err)
		}
	}
	// RNN with Relu and clip 0.2: W = 0.5, R = 0.2, Wb = 0.1, Rb = -0.05.
	{
		h := math.Max(0, clip(0.5*x+0.2*h0+0.1-0.05, 0.2))
		in := append(scalar(x), opstest.F32(ops.Shape{1, 1, 1}, 0.5), opstest.F32(ops.Shape{1, 1, 1}, 0.2), opstest.F32(ops.Shape{1, 2}, 0.1, -0.05), nil, scalar(h0)[0])
		got := runRNNCase(t, rnnCase{"RNN one step", "RNN", ops.AttrMap{"hidden_size": ops.IntAttr(1), "activations": ops.StringsAttr("Relu"), "clip": ops.FloatAttr(0.2)}, in, 2})
		if err := opstest.CloseTo(got[1].Float32s(), []float64{h}, 1e-6, 1e-7); err != nil {
			t.Errorf("RNN: %v", err)
		}
	}
}
