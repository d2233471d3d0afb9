package cnn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// The fused kernel matches its reference (the five unfused steps in float64) for every activation and
// gate, with and without biases, on one thread and on two (above the parallel threshold).
func TestSqueezeExciteMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(41))
	random := func(shape ...int) *ops.Tensor {
		x := ops.New(ops.Float32, ops.Shape(shape))
		for i := range x.Float32s() {
			x.Float32s()[i] = rng.Float32()*2 - 1
		}
		return x
	}
	pool := ops.NewPool(2)
	defer pool.Close()
	threaded := *ops.SerialContext()
	threaded.Pool, threaded.Threads = pool, 2
	for _, c := range []struct {
		attrs  ops.AttrMap
		biases bool
	}{
		{ops.AttrMap{"activation": ops.StringAttr("SiLU")}, true},
		{ops.AttrMap{"activation": ops.StringAttr("Relu"), "gate": ops.StringAttr("HardSigmoid"), "gate_params": ops.FloatsAttr(1.0/6, 0.5)}, true},
		{ops.AttrMap{"activation": ops.StringAttr("HardSwish")}, false},
		{ops.AttrMap{"activation": ops.StringAttr("Clip"), "activation_params": ops.FloatsAttr(-0.1, 0.2)}, true},
		{ops.AttrMap{}, false},
	} {
		for _, shape := range [][4]int{{1, 5, 3, 3}, {2, 24, 40, 41}} {
			// R = 3 or 12: the products' rows shorter than and longer than dot8's eight sums.
			n, ch, r, plane := shape[0], shape[1], max(3, shape[1]/2), shape[2]*shape[3]
			x, w1, w2 := random(shape[:]...), random(r, ch, 1, 1), random(ch, r, 1, 1)
			inputs := []*ops.Tensor{x, w1, nil, w2, nil}
			info := []ops.ValueInfo{{DType: ops.Float32, Shape: x.Shape()}, {DType: ops.Float32, Shape: w1.Shape()}, {}, {DType: ops.Float32, Shape: w2.Shape()}, {}}
			var b1, b2 []float32
			if c.biases {
				inputs[2], inputs[4] = random(r), random(ch)
				info[2], info[4] = ops.ValueInfo{DType: ops.Float32, Shape: ops.Shape{r}}, ops.ValueInfo{DType: ops.Float32, Shape: ops.Shape{ch}}
				b1, b2 = inputs[2].Float32s(), inputs[4].Float32s()
			}
			o, err := buildSqueezeExcite(ops.NodeInfo{Attrs: c.attrs, NumInputs: 5, NumOutputs: 1, InputPresent: []bool{true, true, c.biases, true, c.biases}})
			if err != nil {
				t.Fatal(err)
			}
			k, err := o.Prepare(info, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float32, x.Len())
			squeezeExciteReference(o.(*squeezeExciteOp), x.Float32s(), w1.Float32s(), b1, w2.Float32s(), b2, n, ch, r, plane, want)
			for _, ctx := range []*ops.ExecContext{ops.SerialContext(), &threaded} {
				ctx.Scratch = make([]float32, k.(ops.Scratcher).ScratchSize())
				y := ops.New(ops.Float32, x.Shape())
				if err := k.Run(ctx, inputs, []*ops.Tensor{y}); err != nil {
					t.Fatal(err)
				}
				for i, got := range y.Float32s() {
					if d := math.Abs(float64(got - want[i])); !(d <= 1e-5+1e-5*math.Abs(float64(want[i]))) {
						t.Fatalf("%v %v threads %d: y[%d] = %v, reference %v", c.attrs, shape, ctx.Threads, i, got, want[i])
					}
				}
			}
		}
	}
}

// Bad attributes are rejected when the node is built.
func TestSqueezeExciteRejects(t *testing.T) {
	for _, attrs := range []ops.AttrMap{
		{"activation": ops.StringAttr("Gelu")},
		{"gate": ops.StringAttr("Tanh")},
		{"activation": ops.StringAttr("Clip"), "activation_params": ops.FloatsAttr(1, -1)},
		{"gate": ops.StringAttr("HardSigmoid")},
	} {
		if _, err := buildSqueezeExcite(ops.NodeInfo{Attrs: attrs, NumInputs: 5, NumOutputs: 1, InputPresent: []bool{true, true, true, true, true}}); err == nil {
			t.Errorf("%v: built without error", attrs)
		}
	}
}

func TestSqueezeExciteDoesNotAllocate(t *testing.T) {
	x, w1, w2 := ops.New(ops.Float32, ops.Shape{2, 24, 40, 41}), ops.New(ops.Float32, ops.Shape{3, 24, 1, 1}), ops.New(ops.Float32, ops.Shape{24, 3, 1, 1})
	o, err := buildSqueezeExcite(ops.NodeInfo{Attrs: ops.AttrMap{"activation": ops.StringAttr("SiLU")}, NumInputs: 5, NumOutputs: 1, InputPresent: []bool{true, true, false, true, false}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := o.Prepare([]ops.ValueInfo{{DType: ops.Float32, Shape: x.Shape()}, {DType: ops.Float32, Shape: w1.Shape()}, {}, {DType: ops.Float32, Shape: w2.Shape()}, {}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pool := ops.NewPool(2)
	defer pool.Close()
	for _, ctx := range []*ops.ExecContext{ops.SerialContext(), {Parallel: ops.SerialContext().Parallel, Threads: 2, Pool: pool}} {
		ctx.Scratch = make([]float32, k.(ops.Scratcher).ScratchSize())
		in, out := []*ops.Tensor{x, w1, nil, w2, nil}, []*ops.Tensor{ops.New(ops.Float32, x.Shape())}
		if n := testing.AllocsPerRun(10, func() {
			if err := k.Run(ctx, in, out); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("threads %d: Run allocates %v times", ctx.Threads, n)
		}
	}
}

// BenchmarkSqueezeExcite times MobileNetV3-Large's first and last squeeze-and-excitation blocks (HardSwish
// would be MobileNetV3's; Relu with a HardSigmoid gate is what torchvision exports) at batch 1, one thread.
func BenchmarkSqueezeExcite(b *testing.B) {
	for _, l := range []struct {
		name     string
		c, r, hw int
	}{
		{"mbv3_c72_r24_28", 72, 24, 28},
		{"mbv3_c960_r240_7", 960, 240, 7},
		{"mbv3_c672_r168_14", 672, 168, 14},
	} {
		b.Run(l.name, func(b *testing.B) {
			x, w1, w2 := ops.New(ops.Float32, ops.Shape{1, l.c, l.hw, l.hw}), ops.New(ops.Float32, ops.Shape{l.r, l.c, 1, 1}), ops.New(ops.Float32, ops.Shape{l.c, l.r, 1, 1})
			b1, b2 := ops.New(ops.Float32, ops.Shape{l.r}), ops.New(ops.Float32, ops.Shape{l.c})
			o, err := buildSqueezeExcite(ops.NodeInfo{Attrs: ops.AttrMap{"activation": ops.StringAttr("Relu"), "gate": ops.StringAttr("HardSigmoid"), "gate_params": ops.FloatsAttr(1.0/6, 0.5)},
				NumInputs: 5, NumOutputs: 1, InputPresent: []bool{true, true, true, true, true}})
			if err != nil {
				b.Fatal(err)
			}
			info := []ops.ValueInfo{{DType: ops.Float32, Shape: x.Shape()}, {DType: ops.Float32, Shape: w1.Shape()}, {DType: ops.Float32, Shape: b1.Shape()}, {DType: ops.Float32, Shape: w2.Shape()}, {DType: ops.Float32, Shape: b2.Shape()}}
			k, err := o.Prepare(info, nil)
			if err != nil {
				b.Fatal(err)
			}
			in, out := []*ops.Tensor{x, w1, b1, w2, b2}, []*ops.Tensor{ops.New(ops.Float32, x.Shape())}
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
					pool := ops.NewPool(threads)
					defer pool.Close()
					ctx := *ops.SerialContext()
					ctx.Pool, ctx.Threads = pool, threads
					ctx.Scratch = make([]float32, k.(ops.Scratcher).ScratchSize())
					b.ReportAllocs()
					for b.Loop() {
						if err := k.Run(&ctx, in, out); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// TestSqueezeExciteSameAtAnyThreads: MobileNetV3's last block (960 channels, R = 240, 7x7) and a two-image
// one give the same bits on 1, 2 and 3 threads (the units' shares of the first product are added in one
// units are the same whatever the threads), and a threaded run opens a parallel section for each phase
// with work enough: the first block's three (the pooling, W1·s over its 240 rows, the gates with the
// scaling), so both products run on the pool; the second's product (5,200 multiply-adds) stays inline.
func TestSqueezeExciteSameAtAnyThreads(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, l := range []struct{ n, c, r, hw, forks int }{{1, 960, 240, 7, 3}, {2, 100, 26, 14, 2}} {
		shapes := [][]int{{l.n, l.c, l.hw, l.hw}, {l.r, l.c, 1, 1}, {l.r}, {l.c, l.r, 1, 1}, {l.c}}
		in := make([]*ops.Tensor, len(shapes))
		info := make([]ops.ValueInfo, len(shapes))
		for i, sh := range shapes {
			in[i] = ops.New(ops.Float32, ops.Shape(sh))
			for j := range in[i].Float32s() {
				in[i].Float32s()[j] = rng.Float32()*2 - 1
			}
			info[i] = ops.ValueInfo{DType: ops.Float32, Shape: in[i].Shape()}
		}
		o, err := buildSqueezeExcite(ops.NodeInfo{Attrs: ops.AttrMap{"activation": ops.StringAttr("SiLU")}, NumInputs: 5, NumOutputs: 1, InputPresent: []bool{true, true, true, true, true}})
		if err != nil {
			t.Fatal(err)
		}
		k, err := o.Prepare(info, nil)
		if err != nil {
			t.Fatal(err)
		}
		var want []float32
		for _, threads := range []int{1, 2, 3} {
			pool := ops.NewPool(threads)
			ctx := *ops.SerialContext()
			ctx.Pool, ctx.Threads = pool, threads
			ctx.Scratch = make([]float32, k.(ops.Scratcher).ScratchSize())
			y := ops.New(ops.Float32, in[0].Shape())
			before := pool.Forks()
			if err := k.Run(&ctx, in, []*ops.Tensor{y}); err != nil {
				t.Fatal(err)
			}
			if forks := pool.Forks() - before; threads > 1 && forks != uint64(l.forks) {
				t.Errorf("%+v threads %d: %d parallel sections, want %d", l, threads, forks, l.forks)
			}
			pool.Close()
			if want == nil {
				want = y.Float32s()
				continue
			}
			for i, got := range y.Float32s() {
				if math.Float32bits(got) != math.Float32bits(want[i]) {
					t.Fatalf("%+v threads %d: y[%d] = %v, one thread %v", l, threads, i, got, want[i])
				}
			}
		}
	}
}
