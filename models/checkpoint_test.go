package models

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkpointRun is one small training run for the checkpoint tests.
type checkpointRun struct {
	opt            string
	threads, batch int
	epochs         int
	everySteps     int
	everyEpochs    int
	filters        [2]int
	freeze         []string
}

func (c checkpointRun) trainer(t *testing.T, initSeed uint64, dir string) *Trainer {
	t.Helper()
	cfg := SeedLeNet()
	cfg.Dropout = 0.2 // so that the dropout generators matter
	if c.filters != [2]int{} {
		cfg.Filters = c.filters
	}
	net, err := NewLeNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(initSeed)
	if err := net.Freeze(c.freeze...); err != nil {
		t.Fatal(err)
	}
	opt, err := NewOptimizer(c.opt, map[string]float64{"adam": 0.003, "sgd": 0.03}[c.opt])
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(net, Config{Epochs: c.epochs, BatchSize: c.batch, Seed: 9, Threads: c.threads, Optimizer: opt,
		EvalBatch: 64, LRDecay: 0.9, CheckpointDir: dir, CheckpointEverySteps: c.everySteps, CheckpointEveryEpochs: c.everyEpochs})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func sameWeights(t *testing.T, what string, a, b []*Param) {
	t.Helper()
	for i := range a {
		for j := range a[i].Value {
			if math.Float32bits(a[i].Value[j]) != math.Float32bits(b[i].Value[j]) {
				t.Fatalf("%s: %s[%d] is %v, want %v", what, a[i].Name, j, a[i].Value[j], b[i].Value[j])
			}
		}
	}
}

// TestResumeIsBitIdentical takes a copy of the checkpoint a run writes mid-epoch (and one at an epoch's
// end), resumes a fresh trainer from it, and expects the final weights and statistics of the whole run.
func TestResumeIsBitIdentical(t *testing.T) {
	train, val := syntheticDigits(300, 1), syntheticDigits(100, 2)
	for _, c := range []checkpointRun{
		{opt: "adam", threads: 2, batch: 32, epochs: 3, everySteps: 4},
		{opt: "sgd", threads: 3, batch: 25, epochs: 3, everySteps: 7},
		// Frozen parameters have no optimizer buffers: the others' must keep their names.
		{opt: "adam", threads: 2, batch: 32, epochs: 3, everySteps: 4, freeze: []string{"conv1", "dense1.bias"}},
		{opt: "adam", threads: 1, batch: 64, epochs: 3, everyEpochs: 1},
	} {
		plain := c
		plain.everySteps, plain.everyEpochs = 0, 0
		want := plain.trainer(t, 5, "")
		wantHist, err := want.Fit(train, val)
		if err != nil {
			t.Fatal(err)
		}

		dir, snapshot := t.TempDir(), t.TempDir()
		full := c.trainer(t, 5, dir)
		steps := 0
		full.cfg.OnBatch = func(p BatchProgress) {
			steps++
			// The copy at step 14 holds step 12 (10 steps per epoch) or 14 (12 per epoch): mid-epoch 2. An epoch
			// checkpoint is taken at the end of an epoch: the copy at the first step of epoch 2 holds its start.
			if (c.everySteps > 0 && steps == 14) || (c.everyEpochs > 0 && p.Epoch == 2 && steps == 6) {
				b, err := os.ReadFile(filepath.Join(dir, CheckpointFile))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(snapshot, CheckpointFile), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := full.Fit(train, val); err != nil {
			t.Fatal(err)
		}
		sameWeights(t, c.opt+": writing checkpoints changed the run", full.Net.Params(), want.Net.Params())

		resumed := c.trainer(t, 77, "") // other initial weights: all must come from the checkpoint
		if err := resumed.Resume(snapshot, train); err != nil {
			t.Fatal(err)
		}
		if resumed.run.epoch != 2 {
			t.Fatalf("%+v: the snapshot is at epoch %d, want 2", c, resumed.run.epoch)
		}
		if c.everySteps > 0 && (resumed.run.next == 0 || resumed.run.next == train.N) {
			t.Fatalf("%+v: the snapshot is at example %d of %d, want mid-epoch", c, resumed.run.next, train.N)
		}
		hist, err := resumed.Fit(train, val)
		if err != nil {
			t.Fatal(err)
		}
		sameWeights(t, c.opt+": resumed run", resumed.Net.Params(), want.Net.Params())
		if len(hist.Epochs) != len(wantHist.Epochs) || len(hist.Steps) != len(wantHist.Steps) {
			t.Fatalf("%+v: resumed history has %d epochs and %d step points, want %d and %d", c, len(hist.Epochs), len(hist.Steps), len(wantHist.Epochs), len(wantHist.Steps))
		}
		for i, e := range hist.Epochs {
			w := wantHist.Epochs[i]
			if e.TrainLoss != w.TrainLoss || e.TrainAccuracy != w.TrainAccuracy || e.ValLoss != w.ValLoss || e.LearningRate != w.LearningRate {
				t.Errorf("%+v: epoch %d of the resumed run %+v, want %+v", c, i+1, e, w)
			}
		}
	}
}

func TestResumeRefusesAnotherRun(t *testing.T) {
	train := syntheticDigits(120, 1)
	base := checkpointRun{opt: "adam", threads: 2, batch: 32, epochs: 2, everySteps: 3}
	dir := t.TempDir()
	if _, err := base.trainer(t, 5, dir).Fit(train, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		change func(*checkpointRun)
		data   *Dataset
		want   string
	}{
		{"batch", func(r *checkpointRun) { r.batch = 16 }, train, "the batch size differs: the checkpoint has 32, this run has 16"},
		{"threads", func(r *checkpointRun) { r.threads = 1 }, train, "the number of threads"},
		{"model", func(r *checkpointRun) { r.filters = [2]int{8, 16} }, train, "the model's layer 1 differs: the checkpoint has conv1 Conv2D Filters=6"},
		{"freeze", func(r *checkpointRun) { r.freeze = []string{"conv2"} }, train, "the set of frozen parameters (--freeze) differs"},
		{"optimizer", func(r *checkpointRun) { r.opt = "sgd" }, train, "the optimizer differs: the checkpoint has adam, this run has sgd"},
		{"data", func(*checkpointRun) {}, train.Subset(100), "the training set differs"},
		{"epochs", func(r *checkpointRun) { r.epochs = 1 }, train, "the number of epochs differs"},
	} {
		r := base
		c.change(&r)
		tr := r.trainer(t, 5, "")
		before := append([]float32(nil), tr.Net.Params()[0].Value...)
		err := tr.Resume(dir, c.data)
		var ce *CompatError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want a *CompatError containing %q", c.name, err, c.want)
		}
		sameWeights(t, c.name+": a refused resume changed the weights", []*Param{{Name: "conv1.weight", Value: before}}, tr.Net.Params()[:1])
	}
}

func TestResumeRejectsDamagedCheckpoint(t *testing.T) {
	train := syntheticDigits(60, 1)
	run := checkpointRun{opt: "sgd", threads: 1, batch: 20, epochs: 1, everySteps: 1}
	dir := t.TempDir()
	if _, err := run.trainer(t, 5, dir).Fit(train, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, CheckpointFile)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 1
	for _, c := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"flipped bit", flipped, "checksum"},
		{"truncated", good[:len(good)-100], "checksum"},
		{"not a checkpoint", []byte("PK\x03\x04 some zip"), "not an onnxrun checkpoint"},
		{"other version", append([]byte(checkpointMagic), 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), "format version 9"},
	} {
		if err := os.WriteFile(path, c.content, 0o644); err != nil {
			t.Fatal(err)
		}
		err := run.trainer(t, 5, "").Resume(dir, train)
		var ce *CheckpointError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want a *CheckpointError naming %s and containing %q", c.name, err, path, c.want)
		}
	}
}

// TestFitHoldsOneRun checks that a trainer whose run is done trains no further, and reports where it stands.
func TestFitHoldsOneRun(t *testing.T) {
	train := syntheticDigits(60, 1)
	tr := checkpointRun{opt: "adam", threads: 1, batch: 20, epochs: 1}.trainer(t, 5, "")
	if epoch, done := tr.Position(); epoch != 1 || done != 0 {
		t.Fatalf("before Fit: position (%d, %d), want (1, 0)", epoch, done)
	}
	if _, err := tr.Fit(train, nil); err != nil {
		t.Fatal(err)
	}
	if epoch, done := tr.Position(); epoch != 2 || done != 0 {
		t.Fatalf("after Fit: position (%d, %d), want (2, 0)", epoch, done)
	}
	before := []*Param{{Name: "conv1.weight", Value: append([]float32(nil), tr.Net.Params()[0].Value...)}}
	hist, err := tr.Fit(train, nil)
	if err != nil || len(hist.Epochs) != 1 {
		t.Fatalf("second Fit: %v, %d epochs; want the first run's 1", err, len(hist.Epochs))
	}
	sameWeights(t, "a second Fit trained", tr.Net.Params()[:1], before)
	if _, err := tr.Fit(train.Subset(40), nil); err == nil || !strings.Contains(err.Error(), "the training set") {
		t.Fatalf("Fit on another training set: error %v, want one naming the training set", err)
	}
}
