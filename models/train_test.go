package models

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

// syntheticDigits makes a small dataset the LeNet can learn quickly: class k is a bright 8x8 square at one
// of ten positions, on noise.
func syntheticDigits(n int, seed uint64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &Dataset{Name: "synthetic", N: n, Rows: 28, Cols: 28, Classes: 10, Images: make([]uint8, n*784), Labels: make([]uint8, n)}
	for i := 0; i < n; i++ {
		label := rng.IntN(10)
		d.Labels[i] = uint8(label)
		img := d.Image(i)
		for j := range img {
			img[j] = uint8(rng.IntN(60))
		}
		r0, c0 := 2+(label/5)*12, 1+(label%5)*5
		for r := r0; r < r0+8; r++ {
			for c := c0; c < c0+5; c++ {
				img[r*28+c] = 200 + uint8(rng.IntN(55))
			}
		}
	}
	return d
}

func trainOnce(t *testing.T, threads int, opt string, dropout float64) ([]*Param, *History) {
	t.Helper()
	cfg := SeedLeNet()
	cfg.Dropout = dropout
	net, err := NewLeNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(5)
	lr := map[string]float64{"adam": 0.003, "sgd": 0.03}[opt]
	o, err := NewOptimizer(opt, lr)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := Train(net, syntheticDigits(700, 1), syntheticDigits(200, 2), Config{Epochs: 3, BatchSize: 30, Seed: 9, Threads: threads, Optimizer: o, EvalBatch: 64, ValSplit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return net.Params(), hist
}

// TestTrainingIsReproducible trains twice with the same seed and thread count and expects the same
// parameters bit for bit; and checks that training learns.
func TestTrainingIsReproducible(t *testing.T) {
	for _, c := range []struct {
		threads int
		opt     string
	}{{1, "adam"}, {2, "adam"}, {3, "sgd"}} {
		a, hist := trainOnce(t, c.threads, c.opt, 0.2)
		b, _ := trainOnce(t, c.threads, c.opt, 0.2)
		for i := range a {
			for j := range a[i].Value {
				if math.Float32bits(a[i].Value[j]) != math.Float32bits(b[i].Value[j]) {
					t.Fatalf("%d threads, %s: two runs differ at %s[%d]: %v vs %v", c.threads, c.opt, a[i].Name, j, a[i].Value[j], b[i].Value[j])
				}
			}
		}
		first, last := hist.Epochs[0], hist.Epochs[len(hist.Epochs)-1]
		if !(last.ValAccuracy > 0.8) || !(hist.TestAccuracy > 0.8) || !(last.TrainLoss < first.TrainLoss) {
			t.Errorf("%d threads, %s: did not learn: epochs %+v, test accuracy %v", c.threads, c.opt, hist.Epochs, hist.TestAccuracy)
		}
		if len(hist.Steps) == 0 {
			t.Errorf("no step statistics recorded")
		}
	}
}

// TestThreadsAgree checks that splitting the batch over workers computes the same gradients as one worker
// (up to float32 summation order; without dropout, whose masks depend on the split).
func TestThreadsAgree(t *testing.T) {
	one, _ := trainOnce(t, 1, "sgd", 0)
	four, _ := trainOnce(t, 4, "sgd", 0)
	for i := range one {
		for j := range one[i].Value {
			if d := math.Abs(float64(one[i].Value[j] - four[i].Value[j])); d > 1e-3 {
				t.Fatalf("%s[%d]: 1 thread %v, 4 threads %v", one[i].Name, j, one[i].Value[j], four[i].Value[j])
			}
		}
	}
}

// TestTrainMNISTShort trains the seed's LeNet for one short epoch on real MNIST, as CI can afford.
func TestTrainMNISTShort(t *testing.T) {
	dir := testenv.RequireFile(t, testenv.RepoPath(t, "data/mnist"), "run `make data`")
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewLeNet(SeedLeNet())
	if err != nil {
		t.Fatal(err)
	}
	net.Init(1)
	opt, _ := NewOptimizer("adam", 0.002)
	hist, err := Train(net, train.Subset(12000), test.Subset(2000), Config{Epochs: 1, BatchSize: 32, Seed: 1, Optimizer: opt, ValSplit: 2000})
	if err != nil {
		t.Fatal(err)
	}
	st := hist.Epochs[0]
	t.Logf("10000 images, 1 epoch: loss %.3f, validation accuracy %.2f%% on 2000 held-out training digits, test accuracy %.2f%% on 2000 test digits, %.0f img/s",
		st.TrainLoss, 100*st.ValAccuracy, 100*hist.TestAccuracy, st.ImagesPerSec)
	if st.ValAccuracy < 0.9 || hist.TestAccuracy < 0.9 {
		t.Errorf("validation accuracy %.2f%%, test accuracy %.2f%%: want at least 90%%", 100*st.ValAccuracy, 100*hist.TestAccuracy)
	}
}
