package models

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"slices"
	"sync"
	"time"
)

// Config is a training run's settings.
type Config struct {
	Epochs    int
	BatchSize int       // examples per optimizer step (128 when 0)
	Optimizer Optimizer // Adam with learning rate 0.001 when nil
	// LRDecay multiplies the learning rate after every epoch (0 or 1 keep it constant).
	LRDecay float64
	// Seed drives the shuffling and dropout (the parameters come from Network.Init).
	Seed uint64
	// Threads splits each batch over this many workers; 0 means GOMAXPROCS.
	Threads int
	// EvalBatch is the batch size of evaluation (1000 when 0).
	EvalBatch int
	// ValSplit is how many training examples Train holds out for validation (SplitValidation, seeded by
	// Seed); 0 holds none out and validates on nothing. The train command's default is DefaultValSplit.
	ValSplit int
	// KeepBest makes Fit end with the weights of the epoch of best validation accuracy (the lower
	// validation loss breaks a tie) rather than the last epoch's; it needs validation data.
	KeepBest bool
	// Augment transforms the training images at random (seeded); the zero value leaves them alone.
	Augment Augment
	// OnBatch, if set, is called after every optimizer step; OnEpoch after every epoch's evaluation.
	OnBatch func(BatchProgress)
	OnEpoch func(EpochStats)
	// CheckpointDir, if set, receives a checkpoint (weights, optimizer, random generators, data position)
	// every CheckpointEverySteps optimizer steps and after every CheckpointEveryEpochs epochs (0: never);
	// Trainer.Resume continues from it. See "Checkpoints" in the package documentation.
	CheckpointDir                               string
	CheckpointEverySteps, CheckpointEveryEpochs int
	// ResumeDir, if set, makes Train continue the run checkpointed there (Trainer.Resume) on the same
	// training part: the validation split is drawn again from the same seed, so it is the same. OnResume,
	// if set, is then told where the run resumes: the epoch in progress and the examples done in it.
	ResumeDir string
	OnResume  func(epoch, done, total int)
}

// BatchProgress is the state of an epoch after a step.
type BatchProgress struct {
	Epoch, Epochs int
	Done, Total   int     // examples done in this epoch, out of Total
	Loss          float64 // mean loss over the epoch so far
	Accuracy      float64 // fraction of the epoch's examples classified right so far (before their step)
	ImagesPerSec  float64 // training throughput over the epoch so far
	Elapsed       time.Duration
}

// EpochStats sums up one epoch.
type EpochStats struct {
	Epoch         int
	TrainLoss     float64 // mean over the epoch's batches, as they were trained
	TrainAccuracy float64
	ValLoss       float64 // NaN without validation data
	ValAccuracy   float64
	ImagesPerSec  float64 // training throughput (steps only, evaluation excluded)
	TrainSeconds  float64
	LearningRate  float64
}

// History is the record of a run.
type History struct {
	Epochs []EpochStats
	// BestEpoch is the epoch (from 1) of best validation accuracy, whose weights the network holds at the
	// end with Config.KeepBest; 0 without validation data.
	BestEpoch int
	// TestLoss and TestAccuracy are measured once, after training, on Train's test set (NaN without one):
	// no choice during the run looks at them.
	TestLoss, TestAccuracy float64
	// ValIndices are the indices in Train's training set of the examples held out for validation.
	ValIndices []int
	// Steps holds the training loss and accuracy averaged over windows of StepWindow examples, at the
	// (fractional) epoch where each window ends: the finer curve of PlotHistory.
	Steps []StepStats
}

// StepStats is the training loss and accuracy over a window of steps.
type StepStats struct {
	Epoch    float64
	Loss     float64
	Accuracy float64
}

// stepWindow is how many training examples each History.Steps point averages.
const stepWindow = 6400

// Trainer trains a network with a fixed set of workers (one per thread).
type Trainer struct {
	Net      *Network
	cfg      Config
	opt      Optimizer
	workers  []*worker
	classes  int
	lr0      float64    // the optimizer's learning rate when the run began, checked on resume
	run      *runState  // the run's progress: set by Fit, or by Resume before it
	trainSet trainSetID // the training set of run
	// trainable are the parameters the optimizer updates (the network's, less the frozen ones), and
	// trainableAt their indexes in Network.Params.
	trainable   []*Param
	trainableAt []int
	// examplesSeen counts the training examples of the run before the current step: with Config.Seed
	// it seeds each example's augmentation.
	examplesSeen uint64
}

// NewTrainer checks cfg against the network (whose output must be a vector of class scores) and prepares
// one worker per thread.
func NewTrainer(net *Network, cfg Config) (*Trainer, error) {
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 128
	}
	if cfg.EvalBatch == 0 {
		cfg.EvalBatch = 1000
	}
	if cfg.Threads <= 0 {
		cfg.Threads = goruntime.GOMAXPROCS(0)
	}
	if cfg.ValSplit < 0 {
		return nil, fmt.Errorf("models: a validation split of %d examples: want 0 (none) or more", cfg.ValSplit)
	}
	if cfg.BatchSize < 1 || cfg.Epochs < 0 {
		return nil, fmt.Errorf("models: batch size %d and epochs %d must be positive", cfg.BatchSize, cfg.Epochs)
	}
	if cfg.Optimizer == nil {
		cfg.Optimizer, _ = NewOptimizer("adam", 0)
	}
	if err := cfg.Augment.check(); err != nil {
		return nil, err
	}
	out := net.Output()
	if len(out) != 1 {
		return nil, fmt.Errorf("models: the network's output %v is not a vector of class scores (end with a Dense layer)", out)
	}
	if cfg.CheckpointEverySteps < 0 || cfg.CheckpointEveryEpochs < 0 {
		return nil, fmt.Errorf("models: checkpoint intervals %d steps, %d epochs must not be negative", cfg.CheckpointEverySteps, cfg.CheckpointEveryEpochs)
	}
	if cfg.CheckpointDir == "" {
		cfg.CheckpointEverySteps, cfg.CheckpointEveryEpochs = 0, 0
	}
	t := &Trainer{Net: net, cfg: cfg, opt: cfg.Optimizer, classes: out[0], lr0: cfg.Optimizer.LearningRate()}
	for i, p := range net.params {
		if !p.frozen {
			t.trainable = append(t.trainable, p)
			t.trainableAt = append(t.trainableAt, i)
		}
	}
	for i := 0; i < cfg.Threads; i++ {
		t.workers = append(t.workers, newWorker(net, cfg.Seed*1000003+uint64(i)))
	}
	return t, nil
}

// Train holds cfg.ValSplit examples of train out for validation, trains on the others (Fit; after
// Resume from cfg.ResumeDir when it is set), and then evaluates the network once on test (if not nil)
// into History.TestLoss and TestAccuracy.
func Train(net *Network, train, test *Dataset, cfg Config) (*History, error) {
	t, err := NewTrainer(net, cfg)
	if err != nil {
		return nil, err
	}
	var val *Dataset
	var valIndices []int
	if cfg.ValSplit > 0 {
		if train, val, valIndices, err = SplitValidation(train, cfg.ValSplit, cfg.Seed); err != nil {
			return nil, err
		}
	}
	if cfg.ResumeDir != "" {
		if err := t.Resume(cfg.ResumeDir, train); err != nil {
			return nil, err
		}
		if cfg.OnResume != nil {
			epoch, done := t.Position()
			cfg.OnResume(epoch, done, train.N)
		}
	}
	hist, err := t.Fit(train, val)
	if err != nil {
		return hist, err
	}
	hist.ValIndices = valIndices
	if test != nil {
		if hist.TestLoss, hist.TestAccuracy, err = t.Evaluate(test); err != nil {
			return hist, err
		}
	}
	return hist, nil
}

func (t *Trainer) checkData(ds *Dataset) error {
	want := t.Net.Input
	// Images are NCHW; one-channel images also fit [rows cols 1] (NHWC, as Keras models imported from ONNX
	// take them), which has the same memory layout.
	c := ds.channels()
	nchw := len(want) == 3 && want[0] == c && want[1] == ds.Rows && want[2] == ds.Cols
	nhwc := len(want) == 3 && c == 1 && want[2] == 1 && want[0] == ds.Rows && want[1] == ds.Cols
	if !nchw && !nhwc {
		return fmt.Errorf("models: %s has %dx%dx%d images, the network takes %v", ds.Name, c, ds.Rows, ds.Cols, want)
	}
	if ds.Classes > t.classes {
		return fmt.Errorf("models: %s has %d classes, the network outputs %d scores", ds.Name, ds.Classes, t.classes)
	}
	return nil
}

// Fit trains for cfg.Epochs over train, shuffled each epoch, and evaluates on val (if not nil) after each;
// with cfg.KeepBest it ends with the weights of the best validation epoch. After Resume it continues the
// checkpointed run where it stopped; with Config.CheckpointDir set it writes checkpoints as it goes. A
// trainer holds one run: once it has done cfg.Epochs, Fit returns its History and trains no further, and
// every call must pass the same training set.
func (t *Trainer) Fit(train, val *Dataset) (*History, error) {
	if err := t.checkData(train); err != nil {
		return nil, err
	}
	if t.cfg.KeepBest && val == nil {
		return nil, errors.New("models: keeping the best epoch's weights needs validation data (a validation split)")
	}
	if val != nil {
		if err := t.checkData(val); err != nil {
			return nil, err
		}
	}
	if t.run == nil {
		t.run, t.trainSet = t.newRunState(train), trainSetID{train.Name, train.N}
	} else if err := t.checkResumeData(train); err != nil {
		return nil, err
	}
	s := t.run
	hist := &s.hist
	for s.epoch <= t.cfg.Epochs {
		if s.next == 0 {
			s.shuffle.Shuffle(len(s.order), func(i, j int) { s.order[i], s.order[j] = s.order[j], s.order[i] })
		}
		start := time.Now().Add(-s.elapsed) // a resumed epoch counts the time it had run before
		for s.next < train.N {
			batch := s.order[s.next:min(s.next+t.cfg.BatchSize, train.N)]
			loss, ok, err := t.step(train, batch, true, nil)
			if err != nil {
				return hist, err
			}
			s.steps++
			s.next += len(batch)
			s.lossSum += loss * float64(len(batch))
			s.correct += ok
			s.windowLoss += loss * float64(len(batch))
			s.windowCorrect += ok
			s.windowDone += len(batch)
			if s.windowDone >= stepWindow || s.next == train.N {
				hist.Steps = append(hist.Steps, StepStats{Epoch: float64(s.epoch-1) + float64(s.next)/float64(train.N),
					Loss: s.windowLoss / float64(s.windowDone), Accuracy: float64(s.windowCorrect) / float64(s.windowDone)})
				s.windowLoss, s.windowCorrect, s.windowDone = 0, 0, 0
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return hist, fmt.Errorf("models: epoch %d: the loss became %v after %d examples (learning rate %g too high?)", s.epoch, loss, s.next, t.opt.LearningRate())
			}
			s.elapsed = time.Since(start)
			if n := t.cfg.CheckpointEverySteps; n > 0 && s.steps%int64(n) == 0 {
				if err := t.writeCheckpoint(); err != nil {
					return hist, err
				}
			}
			if t.cfg.OnBatch != nil {
				t.cfg.OnBatch(BatchProgress{Epoch: s.epoch, Epochs: t.cfg.Epochs, Done: s.next, Total: train.N,
					Loss: s.lossSum / float64(s.next), Accuracy: float64(s.correct) / float64(s.next),
					ImagesPerSec: float64(s.next) / s.elapsed.Seconds(), Elapsed: s.elapsed})
			}
		}
		el := time.Since(start)
		st := EpochStats{Epoch: s.epoch, TrainLoss: s.lossSum / float64(s.next), TrainAccuracy: float64(s.correct) / float64(s.next),
			ImagesPerSec: float64(s.next) / el.Seconds(), TrainSeconds: el.Seconds(), LearningRate: t.opt.LearningRate(),
			ValLoss: math.NaN(), ValAccuracy: math.NaN()}
		if val != nil {
			var err error
			if st.ValLoss, st.ValAccuracy, err = t.Evaluate(val); err != nil {
				return hist, err
			}
		}
		hist.Epochs = append(hist.Epochs, st)
		if val != nil && hist.betterThanBest(st) {
			hist.BestEpoch = s.epoch
			if t.cfg.KeepBest {
				s.best = copyParams(t.Net.bestState(), s.best)
			}
		}
		if t.cfg.OnEpoch != nil {
			t.cfg.OnEpoch(st)
		}
		if d := t.cfg.LRDecay; d > 0 && d != 1 {
			t.opt.SetLearningRate(t.opt.LearningRate() * d)
		}
		s.nextEpoch()
		// An epoch checkpoint holds the start of the next epoch, before its shuffle.
		if n := t.cfg.CheckpointEveryEpochs; n > 0 && (s.epoch-1)%n == 0 {
			if err := t.writeCheckpoint(); err != nil {
				return hist, err
			}
		}
	}
	if s.best != nil {
		copyParams(s.best, t.Net.bestState())
	}
	return hist, nil
}

// bestState is what Config.KeepBest keeps of the best epoch: its weights and BatchNorm's running
// averages, in that order. Inference uses the two together: the best epoch's weights with the last
// epoch's averages normalise with statistics of other weights (a residual CNN on Fashion-MNIST kept at
// epoch 20 of 30 scored 92.30% on validation and 90.06% on the test set that way).
func (n *Network) bestState() []*Param { return append(slices.Clip(n.params), n.buffers...) }

// betterThanBest reports whether st, just appended, beats the best epoch so far: a higher validation
// accuracy, or the same with a lower validation loss.
func (h *History) betterThanBest(st EpochStats) bool {
	if h.BestEpoch == 0 {
		return true
	}
	b := h.Epochs[h.BestEpoch-1]
	return st.ValAccuracy > b.ValAccuracy || (st.ValAccuracy == b.ValAccuracy && st.ValLoss < b.ValLoss)
}

// copyParams copies the values of src into dst (allocated when nil) and returns dst.
func copyParams(src, dst []*Param) []*Param {
	if dst == nil {
		dst = make([]*Param, len(src))
		for i, p := range src {
			c := *p
			c.Value = make([]float32, len(p.Value))
			dst[i] = &c
		}
	}
	for i, p := range src {
		copy(dst[i].Value, p.Value)
	}
	return dst
}

// Evaluate returns the mean loss and the accuracy of the network on ds, dropout off.
func (t *Trainer) Evaluate(ds *Dataset) (loss, accuracy float64, err error) {
	_, loss, accuracy, err = t.classify(ds, false)
	return loss, accuracy, err
}

// Classify returns the network's predicted class for every example of ds.
func (t *Trainer) Classify(ds *Dataset) ([]int, error) {
	preds, _, _, err := t.classify(ds, true)
	return preds, err
}

func (t *Trainer) classify(ds *Dataset, keep bool) (preds []int, loss, accuracy float64, err error) {
	if err := t.checkData(ds); err != nil {
		return nil, 0, 0, err
	}
	if keep {
		preds = make([]int, ds.N)
	}
	idx := make([]int, t.cfg.EvalBatch)
	var lossSum float64
	correct := 0
	for from := 0; from < ds.N; from += t.cfg.EvalBatch {
		batch := idx[:min(t.cfg.EvalBatch, ds.N-from)]
		for i := range batch {
			batch[i] = from + i
		}
		var out []int
		if keep {
			out = preds[from : from+len(batch)]
		}
		l, ok, err := t.step(ds, batch, false, out)
		if err != nil {
			return nil, 0, 0, err
		}
		lossSum += l * float64(len(batch))
		correct += ok
	}
	return preds, lossSum / float64(ds.N), float64(correct) / float64(ds.N), nil
}

// step runs the examples idx of ds split over the workers: forward, the loss, and when training backward
// plus one optimizer update. It returns the batch's mean loss and the number classified right; preds, if
// not nil, receives the predicted classes.
func (t *Trainer) step(ds *Dataset, idx []int, train bool, preds []int) (meanLoss float64, correct int, err error) {
	shards := min(len(t.workers), len(idx))
	type result struct {
		loss    float64
		correct int
		err     error
	}
	results := make([]result, shards)
	scale := float32(1) / float32(len(idx))
	run := func(k int) {
		lo, hi := k*len(idx)/shards, (k+1)*len(idx)/shards
		w := t.workers[k]
		r := &results[k]
		p, err := w.pass(hi - lo)
		if err != nil {
			r.err = err
			return
		}
		if cap(w.labels) < hi-lo {
			w.labels = make([]uint8, hi-lo)
		}
		labels := w.labels[:hi-lo]
		ds.fill(p.x.Float32s(), labels, idx[lo:hi])
		if train && t.cfg.Augment.enabled() {
			t.augment(p, ds, lo)
		}
		y, err := w.forward(p, train)
		if err != nil {
			r.err = err
			return
		}
		logits := y.Float32s()
		var dlogits []float32
		if train {
			dlogits = p.dlogits.Float32s()
		}
		r.loss, r.correct = softmaxCrossEntropy(logits, labels, t.classes, scale, dlogits)
		if preds != nil {
			for i := range labels {
				preds[lo+i] = argmax(logits[i*t.classes : (i+1)*t.classes])
			}
		}
		if train {
			r.err = w.backward(p)
		}
	}
	var wg sync.WaitGroup
	for k := 1; k < shards; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(k)
		}()
	}
	run(0)
	wg.Wait()
	var errs []error
	for _, r := range results {
		meanLoss += r.loss
		correct += r.correct
		errs = append(errs, r.err)
	}
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	meanLoss /= float64(len(idx))
	if !train {
		return meanLoss, correct, nil
	}
	// Sum the workers' gradients into the first worker's, in worker order (deterministic), then update.
	sum := t.workers[0].grads
	for k := 1; k < shards; k++ {
		for i, g := range t.workers[k].grads {
			s := sum[i]
			for j, v := range g {
				s[j] += v
			}
		}
	}
	t.examplesSeen += uint64(len(idx))
	if len(t.trainable) == len(sum) {
		t.opt.Step(t.Net.params, sum)
	} else {
		grads := make([][]float32, len(t.trainable))
		for i, at := range t.trainableAt {
			grads[i] = sum[at]
		}
		t.opt.Step(t.trainable, grads)
	}
	t.Net.updateRunningStats(t.workers[:shards])
	return meanLoss, correct, nil
}

// augment transforms the images of a shard that starts at position lo of the batch. Example k of the
// run draws from a generator seeded by (Seed, k), whichever worker runs it.
func (t *Trainer) augment(p *pass, ds *Dataset, lo int) {
	size := ds.Rows * ds.Cols
	x := p.x.Float32s()
	if cap(p.augScratch) < size {
		p.augScratch = make([]float32, size)
	}
	for k := 0; k < p.batch; k++ {
		rng := rand.New(rand.NewPCG(t.cfg.Seed^0x6175676d656e74, t.examplesSeen+uint64(lo+k))) // "augment"
		t.cfg.Augment.apply(x[k*size:(k+1)*size], p.augScratch[:size], ds.Rows, ds.Cols, rng)
	}
}
