package models

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// TestLayerGradients checks the whole backward pass of a network that holds every layer kind (Conv2D
// valid and same, max and average pooling, Flatten, Dense, Dropout, all four activations) against central
// finite differences of the loss, for every parameter of every layer. The ops' own float64 tests
// (ops/cnn/grad_test.go) check each gradient kernel tightly; this one checks how the layers wire them,
// in float32, hence the looser tolerance.
func TestLayerGradients(t *testing.T) {
	net, err := NewSequential(ops.Shape{2, 9, 9},
		&Conv2D{Filters: 3, Kernel: 3, Activation: Tanh},
		&Pool2D{Kind: MaxPool, Size: 2},
		&Conv2D{Filters: 4, Kernel: 2, Padding: Same, Activation: ReLU},
		&Pool2D{Kind: AveragePool, Size: 2},
		&Flatten{},
		&Dense{Units: 6, Activation: Sigmoid},
		&Dropout{Rate: 0.3},
		&Dense{Units: 5},
	)
	if err != nil {
		t.Fatal(err)
	}
	checkGradients(t, net, []uint8{1, 4, 0}, 5)
}

// checkGradients compares the backward pass of net on a random batch of len(labels) examples with
// central finite differences of the softmax cross-entropy loss, for every parameter, after giving the
// biases and shifts random non-zero values (so that one wired to the wrong place shows).
func checkGradients(t *testing.T, net *Network, labels []uint8, classes int) {
	t.Helper()
	net.Init(3)
	rng := rand.New(rand.NewPCG(4, 4))
	for _, p := range net.Params() {
		if p.fanIn == 0 {
			for i := range p.Value {
				p.Value[i] += float32(rng.Float64()*0.2 - 0.1)
			}
		}
	}
	if out := net.Output(); len(out) != 1 || out[0] != classes {
		t.Fatalf("the network outputs %v, want %d class scores", out, classes)
	}
	w := newWorker(net, 9)
	p, err := w.pass(len(labels))
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.x.Float32s() {
		p.x.Float32s()[i] = float32(rng.Float64()*2 - 1)
	}
	// Every forward draws the same dropout mask: the worker's generator restarts from one seed.
	checkPassGradients(t, net, w, p, labels, func() { *w.rng = *rand.New(rand.NewPCG(11, 12)) })
}

// checkPassGradients runs the worker's pass p on its input (after calling reseed, which may be nil) with
// the softmax cross-entropy loss of labels, and the backward pass, then compares every parameter's
// gradient with central finite differences of the loss, value by value.
func checkPassGradients(t *testing.T, net *Network, w *worker, p *pass, labels []uint8, reseed func()) {
	t.Helper()
	for i, numeric := range numericGradients(t, net, w, p, labels, reseed, 0) {
		param, got := net.Params()[i], w.grads[i]
		worst := 0.0
		for j, want := range numeric {
			diff := math.Abs(float64(got[j]) - want)
			if diff > 2e-3+2e-2*math.Abs(want) {
				t.Errorf("%s[%d]: backward gives %.6g, finite differences %.6g", param.Name, j, got[j], want)
			}
			worst = max(worst, diff)
		}
		t.Logf("%-14s %4d values, largest difference %.2g", param.Name, len(param.Value), worst)
	}
}

// numericGradients runs the backward pass of p into w.grads, then returns the central finite differences
// of the loss for every value of every parameter, or with sample above 0 for that many values of each
// parameter spread over it (the others NaN).
func numericGradients(t *testing.T, net *Network, w *worker, p *pass, labels []uint8, reseed func(), sample int) [][]float64 {
	t.Helper()
	lossAt := func(dlogits []float32) float64 {
		if reseed != nil {
			reseed()
		}
		y, err := w.forward(p, true)
		if err != nil {
			t.Fatal(err)
		}
		loss, _ := softmaxCrossEntropy(y.Float32s(), labels, net.Output()[0], 1, dlogits)
		return loss
	}
	lossAt(p.dlogits.Float32s())
	if err := w.backward(p); err != nil {
		t.Fatal(err)
	}
	const h = 1e-3
	var out [][]float64
	for _, param := range net.Params() {
		numeric := make([]float64, len(param.Value))
		stride := 1
		if sample > 0 && len(numeric) > sample {
			stride = (len(numeric) + sample - 1) / sample
			for j := range numeric {
				numeric[j] = math.NaN()
			}
		}
		for j := 0; j < len(param.Value); j += stride {
			orig := param.Value[j]
			param.Value[j] = orig + h
			up := lossAt(nil)
			param.Value[j] = orig - h
			down := lossAt(nil)
			param.Value[j] = orig
			numeric[j] = (up - down) / (2 * h)
		}
		out = append(out, numeric)
	}
	return out
}

// TestDropoutMaskAndScale checks inverted dropout: about Rate of the outputs are zero, the others are the
// input over 1-Rate, and inference passes the input through untouched.
func TestDropoutMaskAndScale(t *testing.T) {
	net, err := NewSequential(ops.Shape{1000}, &Dropout{Rate: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorker(net, 1)
	p, err := w.pass(2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.x.Float32s() {
		p.x.Float32s()[i] = 1
	}
	y, err := w.forward(p, true)
	if err != nil {
		t.Fatal(err)
	}
	zeros := 0
	for _, v := range y.Float32s() {
		switch v {
		case 0:
			zeros++
		case 1 / 0.75:
		default:
			t.Fatalf("dropout output %v, want 0 or %v", v, 1/0.75)
		}
	}
	if frac := float64(zeros) / 2000; math.Abs(frac-0.25) > 0.04 {
		t.Errorf("dropout zeroed %.3f of the inputs, want about 0.25", frac)
	}
	y, err = w.forward(p, false)
	if err != nil {
		t.Fatal(err)
	}
	if y != p.x {
		t.Errorf("inference dropout is not the identity")
	}
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	logits := []float32{1, 2, 3, 1000, 0, -1000}
	labels := []uint8{2, 0}
	d := make([]float32, 6)
	loss, correct := softmaxCrossEntropy(logits, labels, 3, 0.5, d)
	// Row 0: -log(e^3/(e+e^2+e^3)); row 1: the huge logit is the label, loss 0.
	want := -math.Log(math.Exp(3) / (math.Exp(1) + math.Exp(2) + math.Exp(3)))
	if math.Abs(loss-want) > 1e-6 || correct != 2 {
		t.Fatalf("loss %v correct %d, want %v and 2", loss, correct, want)
	}
	sum := math.Exp(1) + math.Exp(2) + math.Exp(3)
	wantD := []float64{0.5 * math.Exp(1) / sum, 0.5 * math.Exp(2) / sum, 0.5 * (math.Exp(3)/sum - 1), 0, 0, 0}
	for i := range d {
		if math.Abs(float64(d[i])-wantD[i]) > 1e-6 {
			t.Errorf("dlogits[%d] = %v, want %v", i, d[i], wantD[i])
		}
	}
}

func TestOptimizers(t *testing.T) {
	cases := []struct {
		name string
		opt  Optimizer
		want []float64 // the parameter after each of two steps with gradient 0.5
	}{
		// v1 = 0.5, p = 1 - 0.1*0.5; v2 = 0.9*0.5+0.5 = 0.95, p -= 0.1*0.95
		{"sgd momentum", &SGD{LR: 0.1, Momentum: 0.9}, []float64{0.95, 0.855}},
		{"sgd", &SGD{LR: 0.1}, []float64{0.95, 0.9}},
		// Adam's first steps move by about lr whatever the gradient's size: m̂ = g, v̂ = g².
		{"adam", &Adam{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7}, []float64{1 - 0.01*0.5/(0.5+1e-7), 1 - 2*0.01*0.5/(0.5+1e-7)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &Param{Name: "p", Shape: ops.Shape{1}, Value: []float32{1}}
			for i, want := range c.want {
				c.opt.Step([]*Param{p}, [][]float32{{0.5}})
				if math.Abs(float64(p.Value[0])-want) > 1e-6 {
					t.Fatalf("step %d: parameter %v, want %v", i+1, p.Value[0], want)
				}
			}
		})
	}
	if _, err := NewOptimizer("rmsprop", 0); err == nil {
		t.Error("NewOptimizer(rmsprop) gave no error")
	}
}

func TestNewSequentialErrors(t *testing.T) {
	cases := []struct {
		name    string
		input   ops.Shape
		layers  []Layer
		wantErr string
	}{
		{"dense on images", ops.Shape{1, 28, 28}, []Layer{&Dense{Units: 10}}, "want a vector (put a Flatten before it)"},
		{"kernel too big", ops.Shape{1, 4, 4}, []Layer{&Conv2D{Filters: 2, Kernel: 5}}, "a 5x5 kernel does not fit the 4x4 input"},
		{"pool too big", ops.Shape{1, 3, 3}, []Layer{&Pool2D{Kind: MaxPool, Size: 4}}, "pool size 4 does not fit the 3x3 input"},
		{"bad activation", ops.Shape{4}, []Layer{&Dense{Units: 2, Activation: "mish"}}, `activation "mish"`},
		{"bad dropout", ops.Shape{4}, []Layer{&Dropout{Rate: 1}}, "rate 1, want 0 <= rate < 1"},
		{"duplicate names", ops.Shape{4}, []Layer{&Dense{Units: 2, LayerName: "a"}, &Dense{Units: 2, LayerName: "a"}}, `two layers are named "a"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewSequential(c.input, c.layers...)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}
