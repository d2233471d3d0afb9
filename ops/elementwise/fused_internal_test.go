package elementwise

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// fusedPrograms are the patterns the graph pass writes, as FusedElementwise attributes. Input 0 is x;
// inputs 1 on are the extra inputs each case gives.
var fusedPrograms = []struct {
	name     string
	steps    string
	operands []int64
	params   []float32
	extra    []ops.Shape // shapes of inputs 1.., relative to x's [N,C,H,W]; nil entries are x's shape
}{
	{"SiLU", "Sigmoid Mul", []int64{0, 0, 0, -1}, make([]float32, 4), nil},
	{"HardSwish", "HardSigmoid Mul", []int64{0, 0, 0, -1}, []float32{1.0 / 6, 0.5, 0, 0}, nil},
	{"Mish", "Softplus Tanh Mul", []int64{0, 0, -1, 0, 0, -2}, make([]float32, 6), nil},
	{"GELU erf", "Div Erf Add Mul Mul", []int64{0, 1, -1, 0, -2, 2, 0, -3, -4, 3}, make([]float32, 10),
		[]ops.Shape{{}, {}, {}}},
	{"GELU tanh", "Pow Mul Add Mul Tanh Add Mul Mul", []int64{0, 1, -1, 2, 0, -2, -3, 3, -4, 0, -5, 4, 0, -6, -7, 5},
		make([]float32, 16), []ops.Shape{{}, {}, {}, {}, {}}},
	{"scaled GELU steps", "Mul Gelu Add GeluTanh", []int64{0, 1, -1, 0, -2, 0, -3, 0}, make([]float32, 8),
		[]ops.Shape{{}}},
	{"scale shift relu6", "Mul Add Clip", []int64{0, 1, -1, 2, -2, 0}, []float32{0, 0, 0, 0, 0, 6},
		[]ops.Shape{{3, 1, 1}, {1, 3, 1, 1}}},
	{"residual leaky", "Add LeakyRelu Sub Max Min", []int64{0, 1, -1, 0, 2, -2, -3, 0, 1, -4}, []float32{0, 0, 0.1, 0, 0, 0, 0, 0, 0, 0},
		[]ops.Shape{nil, {1, 3, 1, 1}}},
	{"scalar first", "Sub Div Exp Log Sqrt Abs Neg Reciprocal Relu", []int64{1, 0, 2, -1, -2, 0, -3, 0, -4, 0, -5, 0, -6, 0, -7, 0, -8, 0},
		make([]float32, 18), []ops.Shape{{1}, {3, 1, 1}}},
}

func buildFused(tb testing.TB, steps string, operands []int64, params []float32, inputs []*ops.Tensor) (ops.Kernel, *ops.Tensor) {
	tb.Helper()
	present := make([]bool, len(inputs))
	info := make([]ops.ValueInfo, len(inputs))
	for i, x := range inputs {
		present[i] = true
		info[i] = ops.ValueInfo{DType: ops.Float32, Shape: x.Shape()}
	}
	build, _, ok := ops.Lookup(ops.FusedDomain, "FusedElementwise", 1)
	if !ok {
		tb.Fatal("FusedElementwise not registered")
	}
	attrs := ops.AttrMap{"steps": ops.StringsAttr(strings.Fields(steps)...), "operands": ops.IntsAttr(operands...), "params": ops.FloatsAttr(params...)}
	o, err := build(ops.NodeInfo{Domain: ops.FusedDomain, OpType: "FusedElementwise", Opset: 1, Attrs: attrs,
		NumInputs: len(inputs), NumOutputs: 1, InputPresent: present})
	if err != nil {
		tb.Fatal(err)
	}
	outInfo, err := o.InferShapes(info)
	if err != nil {
		tb.Fatal(err)
	}
	k, err := o.Prepare(info, outInfo)
	if err != nil {
		tb.Fatal(err)
	}
	return k, ops.New(ops.Float32, outInfo[0].Shape)
}

// broadcastTo repeats x (full, scalar or per channel) to shape's length, for the reference.
func broadcastTo(x *ops.Tensor, shape ops.Shape) []float32 {
	out := make([]float32, shape.Size())
	kind, _ := classifyInput(x.Shape(), shape)
	v := x.Float32s()
	inner := shape[2:].Size()
	for i := range out {
		switch kind {
		case inputFull:
			out[i] = v[i]
		case inputScalar:
			out[i] = v[0]
		case inputChannel:
			out[i] = v[(i/inner)%shape[1]]
		}
	}
	return out
}

// The blocked kernel matches its one-element-at-a-time reference on every pattern, on sizes that leave
// partial blocks and planes smaller and larger than a block, on one thread and on two.
func TestFusedElementwiseMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	pool := ops.NewPool(2)
	defer pool.Close()
	threaded := *ops.SerialContext()
	threaded.Pool, threaded.Threads = pool, 2
	for _, p := range fusedPrograms {
		for _, shape := range []ops.Shape{{1, 3, 1, 1}, {2, 3, 7, 5}, {1, 3, 31, 33}, {3, 3, 64, 65}} {
			inputs := []*ops.Tensor{randTensor(rng, shape)}
			for _, s := range p.extra {
				if s == nil {
					s = shape
				}
				inputs = append(inputs, randTensor(rng, s))
			}
			if p.name == "GELU erf" || p.name == "GELU tanh" {
				for i, v := range []float32{math.Sqrt2, 1, 0.5, 3, 0.044715}[:len(p.extra)] {
					inputs[i+1].Float32s()[0] = v
				}
			}
			if p.name == "scalar first" { // Log and Sqrt of positive values
				inputs[1].Float32s()[0] = 5
			}
			k, y := buildFused(t, p.steps, p.operands, p.params, inputs)
			broadcast := make([][]float32, len(inputs))
			for i, x := range inputs {
				broadcast[i] = broadcastTo(x, shape)
			}
			op, _ := buildFusedElementwiseForTest(p.steps, p.operands, p.params, len(inputs))
			want := make([]float32, shape.Size())
			fusedReference(op.steps, broadcast, want)
			for _, ctx := range []*ops.ExecContext{ops.SerialContext(), &threaded} {
				ctx.Scratch = scratchFor(k)
				clear(y.Float32s())
				if err := k.Run(ctx, inputs, []*ops.Tensor{y}); err != nil {
					t.Fatal(err)
				}
				for i, got := range y.Float32s() {
					if g, w := float64(got), float64(want[i]); math.IsNaN(g) != math.IsNaN(w) || math.Abs(g-w) > 1e-5+1e-5*math.Abs(w) {
						t.Fatalf("%s %v threads %d: y[%d] = %v, reference %v", p.name, shape, ctx.Threads, i, got, want[i])
					}
				}
			}
		}
	}
}

// Prepare runs a Sigmoid read only by a Mul with its own input as one SiLU step, and gives the program no
// more block buffers than it has values alive at once.
func TestFusedElementwisePrepare(t *testing.T) {
	for _, c := range []struct {
		name, steps string
		operands    []int64
		want        []fusedFunc // the steps run (merged ones left out)
		slots       int
	}{
		{"SiLU", "Sigmoid Mul", []int64{0, 0, 0, -1}, []fusedFunc{fusedSiLU}, 0},
		{"SiLU of a step", "Mul Sigmoid Mul Relu", []int64{0, 1, -1, 0, -2, -1, -3, 0}, []fusedFunc{fusedMul, fusedSiLU, fusedRelu}, 1},
		{"Sigmoid read twice", "Sigmoid Mul Add", []int64{0, 0, 0, -1, -2, -1}, []fusedFunc{fusedSigmoid, fusedMul, fusedAdd}, 2},
		{"Sigmoid of another value", "Sigmoid Mul", []int64{0, 0, 1, -1}, []fusedFunc{fusedSigmoid, fusedMul}, 1},
		{"chain reuses one buffer", "Neg Exp Add Reciprocal Relu", []int64{0, 0, -1, 0, -2, 1, -3, 0, -4, 0}, nil, 1},
		{"Softplus in place too", "Neg Softplus Tanh", []int64{0, 0, -1, 0, -2, 0}, nil, 1},
	} {
		op, err := buildFusedElementwiseForTest(c.steps, c.operands, make([]float32, 2*len(strings.Fields(c.steps))), 2)
		if err != nil {
			t.Fatal(err)
		}
		steps := mergeSiLU(op.steps)
		var run []fusedFunc
		for _, s := range steps {
			if !s.merged {
				run = append(run, s.fn)
			}
		}
		if c.want != nil && fmt.Sprint(run) != fmt.Sprint(c.want) {
			t.Errorf("%s: runs %v, want %v", c.name, run, c.want)
		}
		if _, slots := assignBuffers(steps); slots != c.slots {
			t.Errorf("%s: %d block buffers, want %d", c.name, slots, c.slots)
		}
	}
}

func buildFusedElementwiseForTest(steps string, operands []int64, params []float32, inputs int) (*fusedElementwiseOp, error) {
	present := make([]bool, inputs)
	for i := range present {
		present[i] = true
	}
	o, err := buildFusedElementwise(ops.NodeInfo{Attrs: ops.AttrMap{"steps": ops.StringsAttr(strings.Fields(steps)...),
		"operands": ops.IntsAttr(operands...), "params": ops.FloatsAttr(params...)}, NumInputs: inputs, NumOutputs: 1, InputPresent: present})
	if err != nil {
		return nil, err
	}
	return o.(*fusedElementwiseOp), nil
}

// scratchFor is the scratch memory the runtime would give k, filled with NaN so that a buffer read before
// it is written shows.
func scratchFor(k ops.Kernel) []float32 {
	s := make([]float32, k.(ops.Scratcher).ScratchSize())
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}

func randTensor(rng *rand.Rand, shape ops.Shape) *ops.Tensor {
	t := ops.New(ops.Float32, shape)
	for i := range t.Float32s() {
		t.Float32s()[i] = rng.Float32()*8 - 4
	}
	return t
}

// Malformed programs are rejected when the node is built, naming what is wrong.
func TestFusedElementwiseRejects(t *testing.T) {
	for _, c := range []struct {
		steps    string
		operands []int64
		params   []float32
		want     string
	}{
		{"Sigmoid Mul", []int64{0, 0, 0}, make([]float32, 4), "want 2 per step"},
		{"Sigmoid Cosh", []int64{0, 0, -1, 0}, make([]float32, 4), `"Cosh"`},
		{"Sigmoid Mul", []int64{0, 0, 0, -2}, make([]float32, 4), "nor an earlier step"},
		{"Sigmoid Mul", []int64{0, 3, 0, -1}, make([]float32, 4), "is unary"},
		{"Add", []int64{0, 2}, make([]float32, 2), "nor an earlier step"},
		{"Clip", []int64{0, 0}, []float32{1, -1}, "min 1 above max -1"},
		{"", nil, nil, "want 1 to 16"},
	} {
		_, err := buildFusedElementwiseForTest(c.steps, c.operands, c.params, 2)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("steps %q operands %v: error %v, want it to say %q", c.steps, c.operands, err, c.want)
		}
	}
}

func TestFusedElementwiseDoesNotAllocate(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	x, c := randTensor(rng, ops.Shape{2, 3, 80, 80}), randTensor(rng, ops.Shape{3, 1, 1})
	k, y := buildFused(t, "Mul Sigmoid Mul", []int64{0, 1, -1, 0, 0, -2}, make([]float32, 6), []*ops.Tensor{x, c})
	pool := ops.NewPool(2)
	defer pool.Close()
	for _, ctx := range []*ops.ExecContext{ops.SerialContext(), {Parallel: ops.SerialContext().Parallel, Threads: 2, Pool: pool}} {
		in, out := []*ops.Tensor{x, c}, []*ops.Tensor{y}
		ctx.Scratch = scratchFor(k)
		if n := testing.AllocsPerRun(10, func() {
			if err := k.Run(ctx, in, out); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("threads %d: Run allocates %v times", ctx.Threads, n)
		}
	}
}

// BenchmarkFusedSiLU times SiLU on a 4M-element tensor as one FusedElementwise node; compare with
// BenchmarkUnfusedSiLU, the Sigmoid and Mul kernels one after the other.
func BenchmarkFusedSiLU(b *testing.B) {
	x := randTensor(rand.New(rand.NewSource(7)), ops.Shape{1, 64, 256, 256})
	k, y := buildFused(b, "Sigmoid Mul", []int64{0, 0, 0, -1}, make([]float32, 4), []*ops.Tensor{x})
	ctx := ops.SerialContext()
	ctx.Scratch = scratchFor(k)
	b.SetBytes(int64(8 * x.Len()))
	for i := 0; i < b.N; i++ {
		if err := k.Run(ctx, []*ops.Tensor{x}, []*ops.Tensor{y}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnfusedSiLU is what the graph ran before fuse-elementwise: Sigmoid, then Mul, two passes over
// memory.
func BenchmarkUnfusedSiLU(b *testing.B) {
	x := randTensor(rand.New(rand.NewSource(7)), ops.Shape{1, 64, 256, 256})
	s, y := ops.New(ops.Float32, x.Shape()), ops.New(ops.Float32, x.Shape())
	info := ops.ValueInfo{DType: ops.Float32, Shape: x.Shape()}
	kernel := func(op string, opset, inputs int) ops.Kernel {
		build, _, _ := ops.Lookup("", op, opset)
		o, err := build(ops.NodeInfo{OpType: op, Opset: opset, NumInputs: inputs, NumOutputs: 1, InputPresent: []bool{true, true}[:inputs]})
		if err != nil {
			b.Fatal(err)
		}
		k, err := o.Prepare([]ops.ValueInfo{info, info}[:inputs], []ops.ValueInfo{info})
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
	sigmoidK, mulK := kernel("Sigmoid", 13, 1), kernel("Mul", 14, 2)
	ctx := ops.SerialContext()
	b.SetBytes(int64(8 * x.Len()))
	for i := 0; i < b.N; i++ {
		if err := sigmoidK.Run(ctx, []*ops.Tensor{x}, []*ops.Tensor{s}); err != nil {
			b.Fatal(err)
		}
		if err := mulK.Run(ctx, []*ops.Tensor{x, s}, []*ops.Tensor{y}); err != nil {
			b.Fatal(err)
		}
	}
}

// Each thread of a threaded Run computes one contiguous range of the output, in order (the hardware
// prefetchers follow one stream per thread): thread r's share alone writes exactly the r-th of the parts
// and leaves the rest untouched. Claiming small chunks from a shared counter, as Run did before, made
// one thread's share interleave with the other's, and two threads slower than one on large tensors.
func TestFusedElementwiseThreadSharesAreContiguous(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	shape := ops.Shape{1, 4, 129, 127} // 65,532 elements: 128 blocks, the last one partial
	x := randTensor(rng, shape)
	k, y := buildFused(t, "Sigmoid Mul", []int64{0, 0, 0, -1}, make([]float32, 4), []*ops.Tensor{x})
	kernel := k.(*fusedElementwiseKernel)
	blocks := kernel.planes * kernel.blocksPerPlane
	const parts = 3
	for part := range parts {
		out := y.Float32s()
		for i := range out {
			out[i] = float32(math.NaN())
		}
		scratch := make([]float32, parts*kernel.slots*fusedBlock) // a buffer set per part
		task := &fusedTask{k: kernel, in: []*ops.Tensor{x}, y: out, scratch: scratch, blocks: blocks, parts: parts}
		task.Do(part, part+1)
		first, end := part*blocks/parts*fusedBlock, min((part+1)*blocks/parts*fusedBlock, len(out))
		for i, v := range out {
			if written := !math.IsNaN(float64(v)); written != (i >= first && i < end) {
				t.Fatalf("part %d of %d: y[%d] written=%v, want only [%d, %d) written", part, parts, i, written, first, end)
			}
		}
	}
}
