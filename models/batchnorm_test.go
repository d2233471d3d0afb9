package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// TestBatchNormRunningStatistics trains one step of a Conv2D + BatchNorm net over two threads, with a
// momentum that keeps almost nothing of the old averages: the running averages must then be the whole
// batch's statistics (the shards' combined, variance unbiased), so inference reproduces the training
// forward's output up to the unbiasing factor.
func TestBatchNormRunningStatistics(t *testing.T) {
	bn := &BatchNorm{Momentum: 1e-6}
	net, err := NewSequential(ops.Shape{1, 6, 6}, &Conv2D{Filters: 3, Kernel: 3}, bn, &Flatten{}, &Dense{Units: 4})
	if err != nil {
		t.Fatal(err)
	}
	net.Init(1)
	const batch = 8
	rng := rand.New(rand.NewPCG(2, 3))
	ds := &Dataset{Name: "random", N: batch, Rows: 6, Cols: 6, Classes: 4, Images: make([]uint8, batch*36), Labels: make([]uint8, batch)}
	for i := range ds.Images {
		ds.Images[i] = uint8(rng.IntN(256))
	}
	tr, err := NewTrainer(net, Config{Epochs: 1, BatchSize: batch, Threads: 2, Optimizer: &SGD{LR: 0}})
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
	if _, _, err := tr.step(ds, idx, true, nil); err != nil {
		t.Fatal(err)
	}
	// The whole batch's per-channel statistics of the convolution's output, computed here directly.
	x := ds.Tensor(0, batch)
	conv, err := NewSequential(ops.Shape{1, 6, 6}, &Conv2D{Filters: 3, Kernel: 3})
	if err != nil {
		t.Fatal(err)
	}
	copy(conv.Params()[0].Value, net.Params()[0].Value)
	copy(conv.Params()[1].Value, net.Params()[1].Value)
	z, err := conv.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	zs := z.Float32s()
	for c := 0; c < 3; c++ {
		var sum, sq float64
		count := 0
		for n := 0; n < batch; n++ {
			for _, v := range zs[(n*3+c)*16 : (n*3+c+1)*16] {
				sum += float64(v)
				count++
			}
		}
		mean := sum / float64(count)
		for n := 0; n < batch; n++ {
			for _, v := range zs[(n*3+c)*16 : (n*3+c+1)*16] {
				sq += (float64(v) - mean) * (float64(v) - mean)
			}
		}
		unbiased := sq / float64(count-1)
		if got := float64(bn.runningMean.Value[c]); math.Abs(got-mean) > 1e-4*(1+math.Abs(mean)) {
			t.Errorf("channel %d: running mean %g, batch mean %g", c, got, mean)
		}
		if got := float64(bn.runningVar.Value[c]); math.Abs(got-unbiased) > 1e-4*unbiased {
			t.Errorf("channel %d: running variance %g, batch variance (unbiased) %g", c, got, unbiased)
		}
	}
}

// TestBatchNormSumsMatchPlainLoops checks BatchNorm's interleaved float64 sums against one running sum,
// at lengths around their unrolling (the tails).
func TestBatchNormSumsMatchPlainLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for n := 0; n <= 11; n++ {
		x, y := make([]float32, n), make([]float32, n)
		var sum, sq, dot float64
		for i := range x {
			x[i], y[i] = rng.Float32()*4-1, rng.Float32()*2-1
			sum += float64(x[i])
			dot += float64(x[i]) * float64(y[i])
		}
		const mean = 0.75
		for _, v := range x {
			sq += (float64(v) - mean) * (float64(v) - mean)
		}
		gotSum, gotDot := sumAndDot64(x, y)
		for _, c := range []struct {
			what      string
			got, want float64
		}{{"sum64", sum64(x), sum}, {"squaredDeviations64", squaredDeviations64(x, mean), sq}, {"sumAndDot64 sum", gotSum, sum}, {"sumAndDot64 dot", gotDot, dot}} {
			if math.Abs(c.got-c.want) > 1e-12*(1+math.Abs(c.want)) {
				t.Errorf("%s of %d values = %v, a plain loop gives %v", c.what, n, c.got, c.want)
			}
		}
	}
}
