package models

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// numberedImages makes n 2x2 images, each holding its own index (low byte, high byte, label, 0), so that
// an image tells where it came from.
func numberedImages(n int) *Dataset {
	d := &Dataset{Name: "numbered", N: n, Rows: 2, Cols: 2, Classes: 10, Images: make([]uint8, 4*n), Labels: make([]uint8, n)}
	for i := range n {
		d.Labels[i] = uint8(i % 10)
		copy(d.Image(i), []uint8{uint8(i), uint8(i >> 8), uint8(i % 10), 0})
	}
	return d
}

func imageIndex(img []uint8) int { return int(img[0]) | int(img[1])<<8 }

func TestSplitValidationIsSeededAndDisjoint(t *testing.T) {
	ds := numberedImages(1000)
	train, val, held, err := SplitValidation(ds, 150, 7)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 850 || val.N != 150 || len(held) != 150 {
		t.Fatalf("split 1000 into %d training and %d validation examples (%d indices), want 850 and 150", train.N, val.N, len(held))
	}
	if !slices.IsSorted(held) {
		t.Errorf("validation indices %v are not ascending", held)
	}
	seen := make(map[int]string)
	for name, part := range map[string]*Dataset{"training": train, "validation": val} {
		for k := range part.N {
			i := imageIndex(part.Image(k))
			if other, dup := seen[i]; dup {
				t.Fatalf("image %d is in the %s part and the %s part", i, name, other)
			}
			seen[i] = name
			if int(part.Labels[k]) != i%10 || part.Image(k)[2] != uint8(i%10) {
				t.Fatalf("%s example %d (image %d) has label %d, want %d", name, k, i, part.Labels[k], i%10)
			}
		}
	}
	if len(seen) != ds.N {
		t.Errorf("the two parts hold %d distinct images, want %d", len(seen), ds.N)
	}
	for k, i := range held {
		if got := imageIndex(val.Image(k)); got != i {
			t.Errorf("validation example %d is image %d, its index says %d", k, got, i)
		}
	}
	// Random, not the last 150: an image folder's last examples are all of its last classes.
	if held[0] >= ds.N-150 {
		t.Errorf("the validation split is the tail of the dataset: %v", held)
	}

	_, _, again, _ := SplitValidation(ds, 150, 7)
	if !slices.Equal(held, again) {
		t.Errorf("the same seed drew two different splits")
	}
	_, _, other, _ := SplitValidation(ds, 150, 8)
	if slices.Equal(held, other) {
		t.Errorf("seeds 7 and 8 drew the same split")
	}
	for _, n := range []int{0, -1, 1000, 1001} {
		if _, _, _, err := SplitValidation(ds, n, 7); err == nil || !strings.Contains(err.Error(), "validation split") {
			t.Errorf("a split of %d out of 1000: error %v, want one naming the validation split", n, err)
		}
	}
}

// TestTrainTrainsOnTheTrainingPartOnly checks that Train steps over the examples left after the split
// only, validates on the held-out ones, and tests once on the test set.
func TestTrainTrainsOnTheTrainingPartOnly(t *testing.T) {
	data := syntheticDigits(500, 3)
	net, err := NewLeNet(SeedLeNet())
	if err != nil {
		t.Fatal(err)
	}
	net.Init(1)
	totals := map[int]bool{}
	cfg := Config{Epochs: 2, BatchSize: 50, Seed: 4, Threads: 1, ValSplit: 120,
		OnBatch: func(p BatchProgress) { totals[p.Total] = true }}
	hist, err := Train(net, data, syntheticDigits(100, 5), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(totals) != 1 || !totals[380] {
		t.Errorf("epochs stepped over %v examples, want 380 (500 less the 120 held out)", totals)
	}
	_, _, want, _ := SplitValidation(data, 120, 4)
	if !slices.Equal(hist.ValIndices, want) {
		t.Errorf("History.ValIndices differ from SplitValidation's with the same seed")
	}
	if math.IsNaN(hist.Epochs[1].ValAccuracy) || math.IsNaN(hist.TestAccuracy) || hist.BestEpoch == 0 {
		t.Errorf("no validation or test result: %+v, test accuracy %v, best epoch %d", hist.Epochs, hist.TestAccuracy, hist.BestEpoch)
	}

	cfg.ValSplit = 0
	net.Init(1)
	hist, err = Train(net, data, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(hist.Epochs[0].ValAccuracy) || !math.IsNaN(hist.TestAccuracy) || hist.BestEpoch != 0 {
		t.Errorf("without a split or a test set: epochs %+v, test accuracy %v, best epoch %d", hist.Epochs, hist.TestAccuracy, hist.BestEpoch)
	}
}

// TestKeepBestRestoresTheBestEpoch trains with a learning rate that grows every epoch, so that
// validation accuracy peaks early and falls, and checks that KeepBest ends with the weights the network
// had at the end of the best epoch while a run without it keeps the last epoch's.
func TestKeepBestRestoresTheBestEpoch(t *testing.T) {
	run := func(keepBest bool) (*History, [][]*Param, []*Param) {
		net, err := NewLeNet(SeedLeNet())
		if err != nil {
			t.Fatal(err)
		}
		net.Init(2)
		opt, _ := NewOptimizer("adam", 0.003)
		var snapshots [][]*Param
		cfg := Config{Epochs: 5, BatchSize: 50, Seed: 3, Threads: 1, Optimizer: opt, LRDecay: 4, ValSplit: 200, KeepBest: keepBest,
			OnEpoch: func(EpochStats) { snapshots = append(snapshots, copyParams(net.Params(), nil)) }}
		hist, err := Train(net, syntheticDigits(800, 6), nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return hist, snapshots, net.Params()
	}
	hist, snapshots, got := run(true)
	if hist.BestEpoch < 1 || hist.BestEpoch == len(hist.Epochs) {
		t.Fatalf("best epoch %d of %d: this test needs the best epoch before the last (epochs %+v)", hist.BestEpoch, len(hist.Epochs), hist.Epochs)
	}
	for _, e := range hist.Epochs {
		if e.ValAccuracy > hist.Epochs[hist.BestEpoch-1].ValAccuracy {
			t.Errorf("epoch %d has validation accuracy %v above the best epoch %d's", e.Epoch, e.ValAccuracy, hist.BestEpoch)
		}
	}
	sameParams := func(a, b []*Param) bool {
		for i := range a {
			for j := range a[i].Value {
				if math.Float32bits(a[i].Value[j]) != math.Float32bits(b[i].Value[j]) {
					return false
				}
			}
		}
		return true
	}
	if !sameParams(got, snapshots[hist.BestEpoch-1]) {
		t.Errorf("KeepBest: the weights are not those of the best epoch %d", hist.BestEpoch)
	}
	if sameParams(got, snapshots[len(snapshots)-1]) {
		t.Errorf("KeepBest: the weights are the last epoch's")
	}
	_, snapshots, got = run(false)
	if !sameParams(got, snapshots[len(snapshots)-1]) {
		t.Errorf("without KeepBest: the weights are not the last epoch's")
	}
}

// TestKeepBestRestoresTheBestEpochsRunningAverages checks that KeepBest ends a network with BatchNorm with
// the best epoch's running averages beside its weights: inference normalises with them, so the last epoch's
// averages with the best epoch's weights would score worse than either epoch.
func TestKeepBestRestoresTheBestEpochsRunningAverages(t *testing.T) {
	cfg := SmallResNet()
	cfg.Widths = []int{4, 8}
	net, err := NewResNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(2)
	opt, _ := NewOptimizer("adam", 0.003)
	var snapshots [][]*Param
	hist, err := Train(net, syntheticDigits(600, 6), nil, Config{Epochs: 5, BatchSize: 50, Seed: 3, Threads: 1, Optimizer: opt,
		LRDecay: 4, ValSplit: 200, KeepBest: true,
		OnEpoch: func(EpochStats) { snapshots = append(snapshots, copyParams(net.bestState(), nil)) }})
	if err != nil {
		t.Fatal(err)
	}
	if hist.BestEpoch < 1 || hist.BestEpoch == len(hist.Epochs) {
		t.Fatalf("best epoch %d of %d: this test needs the best epoch before the last (epochs %+v)", hist.BestEpoch, len(hist.Epochs), hist.Epochs)
	}
	differs := func(a, b []*Param) string {
		for i := range a {
			for j := range a[i].Value {
				if math.Float32bits(a[i].Value[j]) != math.Float32bits(b[i].Value[j]) {
					return a[i].Name
				}
			}
		}
		return ""
	}
	if name := differs(net.bestState(), snapshots[hist.BestEpoch-1]); name != "" {
		t.Errorf("KeepBest: %s is not the best epoch %d's", name, hist.BestEpoch)
	}
	last := snapshots[len(snapshots)-1]
	if len(net.Buffers()) == 0 || len(last) != len(net.Params())+len(net.Buffers()) {
		t.Fatalf("the best state holds %d tensors, want the %d parameters and the %d running averages", len(last), len(net.Params()), len(net.Buffers()))
	}
	if differs(net.Buffers(), last[len(net.Params()):]) == "" {
		t.Errorf("KeepBest: the running averages are the last epoch's (%d buffers)", len(net.Buffers()))
	}
}

func TestKeepBestNeedsValidation(t *testing.T) {
	net, err := NewLeNet(SeedLeNet())
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(net, Config{Epochs: 1, KeepBest: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Fit(syntheticDigits(50, 1), nil); err == nil || !strings.Contains(err.Error(), "validation") {
		t.Errorf("KeepBest without validation data: error %v, want one asking for validation data", err)
	}
	if _, err := Train(net, syntheticDigits(50, 1), nil, Config{Epochs: 1, ValSplit: 50}); err == nil {
		t.Errorf("a validation split of all 50 examples: no error")
	}
}
