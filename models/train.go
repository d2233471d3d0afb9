package models

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	goruntime "runtime"
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
	// Augment transforms the training images at random (seeded); the zero value leaves them alone.
	Augment Augment
	// OnBatch, if set, is called after every optimizer step; OnEpoch after every epoch's evaluation.
	OnBatch func(BatchProgress)
	OnEpoch func(EpochStats)
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
	Net     *Network
	cfg     Config
	opt     Optimizer
	workers []*worker
	classes int
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
	t := &Trainer{Net: net, cfg: cfg, opt: cfg.Optimizer, classes: out[0]}
	for i := 0; i < cfg.Threads; i++ {
		t.workers = append(t.workers, newWorker(net, cfg.Seed*1000003+uint64(i)))
	}
	return t, nil
}

// Train is NewTrainer followed by Fit.
func Train(net *Network, train, val *Dataset, cfg Config) (*History, error) {
	t, err := NewTrainer(net, cfg)
	if err != nil {
		return nil, err
	}
	return t.Fit(train, val)
}

func (t *Trainer) checkData(ds *Dataset) error {
	want := t.Net.Input
	if len(want) != 3 || want[0] != 1 || want[1] != ds.Rows || want[2] != ds.Cols {
		return fmt.Errorf("models: %s has %dx%d images, the network takes %v", ds.Name, ds.Rows, ds.Cols, want)
	}
	if ds.Classes > t.classes {
		return fmt.Errorf("models: %s has %d classes, the network outputs %d scores", ds.Name, ds.Classes, t.classes)
	}
	return nil
}

// Fit trains for cfg.Epochs over train, shuffled each epoch, and evaluates on val (if not nil) after each.
func (t *Trainer) Fit(train, val *Dataset) (*History, error) {
	if err := t.checkData(train); err != nil {
		return nil, err
	}
	if val != nil {
		if err := t.checkData(val); err != nil {
			return nil, err
		}
	}
	rng := rand.New(rand.NewPCG(t.cfg.Seed, 0x73687566666c65)) // "shuffle"
	order := make([]int, train.N)
	for i := range order {
		order[i] = i
	}
	hist := &History{}
	for epoch := 1; epoch <= t.cfg.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		start := time.Now()
		var lossSum, windowLoss float64
		correct, done, windowCorrect, windowDone := 0, 0, 0, 0
		for from := 0; from < train.N; from += t.cfg.BatchSize {
			batch := order[from:min(from+t.cfg.BatchSize, train.N)]
			loss, ok, err := t.step(train, batch, true, nil)
			if err != nil {
				return hist, err
			}
			lossSum += loss * float64(len(batch))
			correct += ok
			done += len(batch)
			windowLoss += loss * float64(len(batch))
			windowCorrect += ok
			windowDone += len(batch)
			if windowDone >= stepWindow || done == train.N {
				hist.Steps = append(hist.Steps, StepStats{Epoch: float64(epoch-1) + float64(done)/float64(train.N),
					Loss: windowLoss / float64(windowDone), Accuracy: float64(windowCorrect) / float64(windowDone)})
				windowLoss, windowCorrect, windowDone = 0, 0, 0
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return hist, fmt.Errorf("models: epoch %d: the loss became %v after %d examples (learning rate %g too high?)", epoch, loss, done, t.opt.LearningRate())
			}
			if t.cfg.OnBatch != nil {
				el := time.Since(start)
				t.cfg.OnBatch(BatchProgress{Epoch: epoch, Epochs: t.cfg.Epochs, Done: done, Total: train.N,
					Loss: lossSum / float64(done), Accuracy: float64(correct) / float64(done),
					ImagesPerSec: float64(done) / el.Seconds(), Elapsed: el})
			}
		}
		el := time.Since(start)
		st := EpochStats{Epoch: epoch, TrainLoss: lossSum / float64(done), TrainAccuracy: float64(correct) / float64(done),
			ImagesPerSec: float64(done) / el.Seconds(), TrainSeconds: el.Seconds(), LearningRate: t.opt.LearningRate(),
			ValLoss: math.NaN(), ValAccuracy: math.NaN()}
		if val != nil {
			var err error
			if st.ValLoss, st.ValAccuracy, err = t.Evaluate(val); err != nil {
				return hist, err
			}
		}
		hist.Epochs = append(hist.Epochs, st)
		if t.cfg.OnEpoch != nil {
			t.cfg.OnEpoch(st)
		}
		if d := t.cfg.LRDecay; d > 0 && d != 1 {
			t.opt.SetLearningRate(t.opt.LearningRate() * d)
		}
	}
	return hist, nil
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
	t.opt.Step(t.Net.params, sum)
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
