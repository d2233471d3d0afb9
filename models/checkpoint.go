package models

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/onnxrun/onnxrun/internal/atomicfile"
)

// CheckpointFile is the name of the checkpoint in a checkpoint folder; each checkpoint replaces the last.
const CheckpointFile = "checkpoint.onnxrun-ckpt"

// checkpointMagic opens every checkpoint file; checkpointVersion follows it as a little-endian uint32.
const (
	checkpointMagic   = "onnxrun-checkpoint\n"
	checkpointVersion = 1
)

// runState is where a run stands: what Fit needs, besides the weights and the optimizer, to continue it.
type runState struct {
	epoch      int       // the epoch in progress, from 1
	next       int       // examples of order done in this epoch; 0 means the epoch's shuffle is still to come
	order      []int     // the current permutation of the training set (each epoch shuffles it further)
	shuffleSrc *rand.PCG // shuffle's state
	shuffle    *rand.Rand
	steps      int64 // optimizer steps since the run began

	lossSum, windowLoss                float64 // this epoch's sums, and the current History.Steps window's
	correct, windowCorrect, windowDone int
	elapsed                            time.Duration // time this epoch has trained so far
	hist                               History
	best                               []*Param // the best validation epoch's weights, with Config.KeepBest
}

func (t *Trainer) newRunState(train *Dataset) *runState {
	src := rand.NewPCG(t.cfg.Seed, 0x73687566666c65) // "shuffle"
	s := &runState{epoch: 1, order: make([]int, train.N), shuffleSrc: src, shuffle: rand.New(src),
		hist: History{TestLoss: math.NaN(), TestAccuracy: math.NaN()}}
	for i := range s.order {
		s.order[i] = i
	}
	return s
}

// bestPrefix names the best validation epoch's weights in a checkpoint ("best/conv1.weight"), statePrefix
// the network's buffers (BatchNorm's running averages: "state/bn1.running_mean").
const (
	bestPrefix  = "best/"
	statePrefix = "state/"
)

// nextEpoch moves to the start of the next epoch.
func (s *runState) nextEpoch() {
	s.epoch++
	s.next, s.lossSum, s.correct, s.elapsed = 0, 0, 0, 0
}

// checkpointHeader is the JSON part of a checkpoint file.
type checkpointHeader struct {
	Compat checkpointCompat

	Epoch, Next  int
	Steps        int64
	LearningRate float64 // the optimizer's current rate (after any decay)
	OptimizerT   int     // the optimizer's own step count (Adam's t)
	ShuffleRNG   []byte  // PCG states, as MarshalBinary writes them
	DropoutRNGs  [][]byte
	// The epoch's and the step window's running sums, so that the resumed run reports the same statistics.
	LossSum, WindowLoss                float64
	Correct, WindowCorrect, WindowDone int
	ElapsedSeconds                     float64
	History                            []byte // gob: it holds NaN, which JSON cannot
	Tensors                            []checkpointTensor
	OrderLen                           int
}

// checkpointCompat is what a resumed run must share with the checkpointed one.
type checkpointCompat struct {
	// FineTuneOf is what an imported network came from (ImportOptions.Origin: the --from file and its
	// SHA-256), "" for a network built here: resuming a fine-tune needs the same source model.
	FineTuneOf string   `json:",omitempty"`
	Layers     []string // one line per layer: name, type, settings, output shape
	Frozen     []string `json:",omitempty"` // the parameters kept out of training: the optimizer's buffers are the others'
	BatchSize  int
	Threads    int
	Seed       uint64
	Optimizer  string
	Settings   map[string]float64 // the optimizer's hyperparameters and initial learning rate
	LRDecay    float64
	TrainSet   string
	TrainN     int
}

// checkpointTensor names one float32 array of the payload and its length.
type checkpointTensor struct {
	Name string
	Len  int
}

// optimizerState is implemented by the optimizers a checkpoint can hold.
type optimizerState interface {
	// settings are the hyperparameters a resumed run must share (the learning rate aside).
	settings() map[string]float64
	// state returns the optimizer's step count and its per-parameter buffers by name, each in params
	// order; a buffer not allocated yet (no step taken) is absent.
	state() (t int, buffers map[string][][]float32)
	// restore sets them back, buffers as state listed them (shapes already checked), or changes nothing
	// and returns an error if they do not belong to this optimizer.
	restore(t int, buffers map[string][][]float32) error
}

func (t *Trainer) compat(trainSet string, trainN int) (checkpointCompat, error) {
	opt, ok := t.opt.(optimizerState)
	if !ok {
		return checkpointCompat{}, fmt.Errorf("models: optimizer %s (%T) cannot be checkpointed", t.opt.Name(), t.opt)
	}
	settings := opt.settings()
	settings["initial_lr"] = t.lr0
	c := checkpointCompat{BatchSize: t.cfg.BatchSize, Threads: t.cfg.Threads, Seed: t.cfg.Seed, Optimizer: t.opt.Name(),
		Settings: settings, LRDecay: t.cfg.LRDecay, TrainSet: trainSet, TrainN: trainN}
	if src := t.Net.source; src != nil {
		c.FineTuneOf = src.origin
		if c.FineTuneOf == "" {
			c.FineTuneOf = "an imported model of unrecorded origin"
		}
	}
	c.Frozen = t.Net.Frozen()
	for i, l := range t.Net.Layers {
		c.Layers = append(c.Layers, fmt.Sprintf("%s %s%s -> %v", l.Name(), l.Type(), layerSettings(l), t.Net.shapes[i]))
	}
	return c, nil
}

// layerSettings lists a layer's exported fields but its name (Filters=6 Kernel=3 ...), so that a layer
// added later is covered without code here.
func layerSettings(l Layer) string {
	v := reflect.Indirect(reflect.ValueOf(l))
	if v.Kind() != reflect.Struct {
		return ""
	}
	var b strings.Builder
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.IsExported() && f.Name != "LayerName" {
			fmt.Fprintf(&b, " %s=%v", f.Name, v.Field(i).Interface())
		}
	}
	return b.String()
}

// originOrBuiltIn names a run's model for a CompatError.
func originOrBuiltIn(origin string) string {
	if origin == "" {
		return "a built-in architecture (no --from)"
	}
	return origin
}

// CompatError reports a checkpoint that does not fit the run resuming it: What differs, with both values.
type CompatError struct {
	Path                  string
	What                  string
	Checkpoint, ThisRunIs string
}

func (e *CompatError) Error() string {
	return fmt.Sprintf("models: cannot resume from %s: %s differs: the checkpoint has %s, this run has %s", e.Path, e.What, e.Checkpoint, e.ThisRunIs)
}

// diff returns the first difference between the checkpointed run's settings c and this run's, as a
// *CompatError.
func (c checkpointCompat) diff(path string, now checkpointCompat) error {
	mismatch := func(what string, a, b any) error {
		return &CompatError{Path: path, What: what, Checkpoint: fmt.Sprint(a), ThisRunIs: fmt.Sprint(b)}
	}
	if c.FineTuneOf != now.FineTuneOf {
		// Checked first: a fine-tune of another model differs in its layers too, which would say less.
		return mismatch("the model fine-tuned (--from)", originOrBuiltIn(c.FineTuneOf), originOrBuiltIn(now.FineTuneOf))
	}
	if len(c.Layers) != len(now.Layers) {
		return mismatch("the model's number of layers", len(c.Layers), len(now.Layers))
	}
	for i := range c.Layers {
		if c.Layers[i] != now.Layers[i] {
			return mismatch(fmt.Sprintf("the model's layer %d", i+1), c.Layers[i], now.Layers[i])
		}
	}
	if !slices.Equal(c.Frozen, now.Frozen) {
		return mismatch("the set of frozen parameters (--freeze)", c.Frozen, now.Frozen)
	}
	switch {
	case c.BatchSize != now.BatchSize:
		return mismatch("the batch size", c.BatchSize, now.BatchSize)
	case c.Threads != now.Threads:
		return mismatch("the number of threads (each thread draws its own dropout masks)", c.Threads, now.Threads)
	case c.Seed != now.Seed:
		return mismatch("the seed", c.Seed, now.Seed)
	case c.Optimizer != now.Optimizer:
		return mismatch("the optimizer", c.Optimizer, now.Optimizer)
	case c.LRDecay != now.LRDecay:
		return mismatch("the learning-rate decay", c.LRDecay, now.LRDecay)
	case c.TrainSet != now.TrainSet || c.TrainN != now.TrainN:
		return mismatch("the training set", fmt.Sprintf("%s (%d images)", c.TrainSet, c.TrainN), fmt.Sprintf("%s (%d images)", now.TrainSet, now.TrainN))
	}
	for _, k := range slices.Sorted(maps.Keys(c.Settings)) {
		if b, ok := now.Settings[k]; !ok || c.Settings[k] != b {
			return mismatch("the optimizer's "+k, c.Settings[k], now.Settings[k])
		}
	}
	return nil
}

// writeCheckpoint writes the run's state to cfg.CheckpointDir atomically.
func (t *Trainer) writeCheckpoint() error {
	s := t.run
	compat, err := t.compat(t.trainSet.name, t.trainSet.n)
	if err != nil {
		return err
	}
	h := checkpointHeader{Compat: compat, Epoch: s.epoch, Next: s.next, Steps: s.steps, LearningRate: t.opt.LearningRate(),
		LossSum: s.lossSum, WindowLoss: s.windowLoss, Correct: s.correct, WindowCorrect: s.windowCorrect,
		WindowDone: s.windowDone, ElapsedSeconds: s.elapsed.Seconds(), OrderLen: len(s.order)}
	if h.ShuffleRNG, err = s.shuffleSrc.MarshalBinary(); err != nil {
		return err
	}
	for _, w := range t.workers {
		b, err := w.rngSrc.MarshalBinary()
		if err != nil {
			return err
		}
		h.DropoutRNGs = append(h.DropoutRNGs, b)
	}
	var hist bytes.Buffer
	if err := gob.NewEncoder(&hist).Encode(&s.hist); err != nil {
		return fmt.Errorf("models: checkpoint history: %w", err)
	}
	h.History = hist.Bytes()
	var arrays [][]float32
	for _, p := range t.Net.params {
		h.Tensors = append(h.Tensors, checkpointTensor{Name: p.Name, Len: len(p.Value)})
		arrays = append(arrays, p.Value)
	}
	optT, buffers := t.opt.(optimizerState).state()
	h.OptimizerT = optT
	for _, name := range slices.Sorted(maps.Keys(buffers)) {
		for i, b := range buffers[name] {
			h.Tensors = append(h.Tensors, checkpointTensor{Name: name + "/" + t.trainable[i].Name, Len: len(b)})
			arrays = append(arrays, b)
		}
	}
	// BatchNorm's running averages, which inference and the export use.
	for _, b := range t.Net.buffers {
		h.Tensors = append(h.Tensors, checkpointTensor{Name: statePrefix + b.Name, Len: len(b.Value)})
		arrays = append(arrays, b.Value)
	}
	// With Config.KeepBest, the best validation epoch's weights and running averages so far, which the run
	// ends with.
	bestState := t.Net.bestState()
	for i, p := range s.best {
		h.Tensors = append(h.Tensors, checkpointTensor{Name: bestPrefix + bestState[i].Name, Len: len(p.Value)})
		arrays = append(arrays, p.Value)
	}
	header, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("models: checkpoint header: %w", err)
	}
	if err := os.MkdirAll(t.cfg.CheckpointDir, 0o755); err != nil {
		return fmt.Errorf("models: checkpoint: %w", err)
	}
	path := filepath.Join(t.cfg.CheckpointDir, CheckpointFile)
	// A run killed while writing a checkpoint leaves its temporary file: the folder is this run's alone.
	if _, err := atomicfile.RemoveTemps(path); err != nil {
		return fmt.Errorf("models: checkpoint: %w", err)
	}
	err = atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		crc := crc32.NewIEEE()
		w = io.MultiWriter(w, crc)
		var buf []byte
		buf = append(buf, checkpointMagic...)
		buf = binary.LittleEndian.AppendUint32(buf, checkpointVersion)
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(header)))
		buf = append(buf, header...)
		if _, err := w.Write(buf); err != nil {
			return err
		}
		for _, a := range arrays {
			buf = buf[:0]
			for _, v := range a {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
		buf = buf[:0]
		for _, v := range s.order {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(v))
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		_, err := w.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
		return err
	})
	if err != nil {
		return fmt.Errorf("models: checkpoint: %w", err)
	}
	return nil
}

// CheckpointError reports a checkpoint file that cannot be read: missing, truncated, corrupt or of another
// format version.
type CheckpointError struct {
	Path string
	What string
	Err  error
}

func (e *CheckpointError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("models: checkpoint %s: %s: %v", e.Path, e.What, e.Err)
	}
	return fmt.Sprintf("models: checkpoint %s: %s", e.Path, e.What)
}

func (e *CheckpointError) Unwrap() error { return e.Err }

// checkpointData is a checkpoint file read back.
type checkpointData struct {
	header checkpointHeader
	arrays map[string][]float32
	order  []int
}

// readCheckpoint reads and checks a checkpoint file (magic, version, checksum, sizes).
func readCheckpoint(path string) (*checkpointData, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &CheckpointError{Path: path, What: "cannot read it", Err: err}
	}
	fail := func(what string, args ...any) error {
		return &CheckpointError{Path: path, What: fmt.Sprintf(what, args...)}
	}
	if !bytes.HasPrefix(b, []byte(checkpointMagic)) {
		return nil, fail("not an onnxrun checkpoint (no %q at the start)", strings.TrimSpace(checkpointMagic))
	}
	rest := b[len(checkpointMagic):]
	if len(rest) < 4+8+4 {
		return nil, fail("truncated: %d bytes", len(b))
	}
	if v := binary.LittleEndian.Uint32(rest); v != checkpointVersion {
		return nil, fail("format version %d, this onnxrun reads version %d", v, checkpointVersion)
	}
	if want, got := binary.LittleEndian.Uint32(b[len(b)-4:]), crc32.ChecksumIEEE(b[:len(b)-4]); want != got {
		return nil, fail("checksum %08x, the content sums to %08x: the file is corrupt", want, got)
	}
	n := binary.LittleEndian.Uint64(rest[4:])
	rest = rest[12 : len(rest)-4]
	if n > uint64(len(rest)) {
		return nil, fail("header of %d bytes, only %d left", n, len(rest))
	}
	d := &checkpointData{arrays: map[string][]float32{}}
	if err := json.Unmarshal(rest[:n], &d.header); err != nil {
		return nil, &CheckpointError{Path: path, What: "bad header", Err: err}
	}
	rest = rest[n:]
	h := &d.header
	need := uint64(h.OrderLen)
	for _, tn := range h.Tensors {
		if tn.Len < 0 {
			return nil, fail("tensor %s has length %d", tn.Name, tn.Len)
		}
		need += uint64(tn.Len)
	}
	if h.OrderLen < 0 || need*4 != uint64(len(rest)) {
		return nil, fail("the header lists %d values, the file holds %d bytes of them", need, len(rest))
	}
	for _, tn := range h.Tensors {
		a := make([]float32, tn.Len)
		for i := range a {
			a[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
		}
		d.arrays[tn.Name] = a
		rest = rest[4*tn.Len:]
	}
	d.order = make([]int, h.OrderLen)
	for i := range d.order {
		d.order[i] = int(binary.LittleEndian.Uint32(rest[4*i:]))
		if d.order[i] >= h.OrderLen {
			return nil, fail("the data order holds %d, past the %d training images", d.order[i], h.OrderLen)
		}
	}
	return d, nil
}

// Resume loads the checkpoint in dir (written by a run with Config.CheckpointDir) into the trainer: the
// network's weights, the optimizer's state, the random generators and the position in train, which must
// be the training set of the checkpointed run. Fit then continues that run, and ends with the weights an
// uninterrupted run would have, bit for bit. A checkpoint of another model, batch size, thread count,
// seed, optimizer or training set is refused with a *CompatError naming the difference.
func (t *Trainer) Resume(dir string, train *Dataset) error {
	path := filepath.Join(dir, CheckpointFile)
	d, err := readCheckpoint(path)
	if err != nil {
		return err
	}
	h := &d.header
	now, err := t.compat(train.Name, train.N)
	if err != nil {
		return err
	}
	if err := h.Compat.diff(path, now); err != nil {
		return err
	}
	if h.Epoch > t.cfg.Epochs+1 || (h.Epoch == t.cfg.Epochs+1 && h.Next > 0) {
		return &CompatError{Path: path, What: "the number of epochs", Checkpoint: fmt.Sprintf("%d done", h.Epoch-1), ThisRunIs: fmt.Sprint(t.cfg.Epochs)}
	}
	if h.Epoch < 1 || h.Next < 0 || h.Next > train.N || h.OrderLen != train.N || len(h.DropoutRNGs) != len(t.workers) {
		return &CheckpointError{Path: path, What: fmt.Sprintf("inconsistent position: epoch %d, %d of %d examples, %d dropout generators for %d threads",
			h.Epoch, h.Next, h.OrderLen, len(h.DropoutRNGs), len(t.workers))}
	}
	// The parameters come first, in order; their names may hold a "/" (an imported model's
	// "sequential_1/conv2d_1/kernel"), so only the tensors after them are read by prefix.
	for k, p := range t.Net.params {
		if k >= len(h.Tensors) || h.Tensors[k].Name != p.Name || len(d.arrays[p.Name]) != len(p.Value) {
			return &CheckpointError{Path: path, What: fmt.Sprintf("parameter %d, %s of %d values: missing or not in its place", k+1, p.Name, len(p.Value))}
		}
	}
	buffers := map[string][][]float32{}
	var best [][]float32
	bestState := t.Net.bestState()
	for _, tn := range h.Tensors[len(t.Net.params):] {
		name, param, ok := strings.Cut(tn.Name, "/")
		if !ok {
			continue
		}
		if name+"/" == statePrefix {
			i := slices.IndexFunc(t.Net.buffers, func(b *Param) bool { return b.Name == param })
			if i < 0 || tn.Len != len(t.Net.buffers[i].Value) {
				return &CheckpointError{Path: path, What: fmt.Sprintf("state %s does not fit the network's buffers", tn.Name)}
			}
			continue
		}
		if name+"/" == bestPrefix {
			if i := len(best); i >= len(bestState) || bestState[i].Name != param || tn.Len != len(bestState[i].Value) {
				return &CheckpointError{Path: path, What: fmt.Sprintf("best-epoch state %s does not fit the parameters and running averages", tn.Name)}
			}
			best = append(best, d.arrays[tn.Name])
			continue
		}
		i := slices.IndexFunc(t.trainable, func(p *Param) bool { return p.Name == param })
		if i < 0 || tn.Len != len(t.trainable[i].Value) || len(buffers[name]) != i {
			return &CheckpointError{Path: path, What: fmt.Sprintf("optimizer buffer %s does not fit the parameters", tn.Name)}
		}
		buffers[name] = append(buffers[name], d.arrays[tn.Name])
	}
	for name, b := range buffers {
		if len(b) != len(t.trainable) {
			return &CheckpointError{Path: path, What: fmt.Sprintf("optimizer buffer %s covers %d of %d trainable parameters", name, len(b), len(t.trainable))}
		}
	}
	var hist History
	if err := gob.NewDecoder(bytes.NewReader(h.History)).Decode(&hist); err != nil {
		return &CheckpointError{Path: path, What: "bad history", Err: err}
	}
	s := t.newRunState(train)
	if err := s.shuffleSrc.UnmarshalBinary(h.ShuffleRNG); err != nil {
		return &CheckpointError{Path: path, What: "shuffle generator", Err: err}
	}
	dropout := make([]rand.PCG, len(t.workers))
	for i := range dropout {
		if err := dropout[i].UnmarshalBinary(h.DropoutRNGs[i]); err != nil {
			return &CheckpointError{Path: path, What: fmt.Sprintf("dropout generator %d", i), Err: err}
		}
	}
	if err := t.opt.(optimizerState).restore(h.OptimizerT, buffers); err != nil {
		return &CheckpointError{Path: path, What: "optimizer state", Err: err}
	}
	for _, b := range t.Net.buffers {
		if a, ok := d.arrays[statePrefix+b.Name]; !ok || len(a) != len(b.Value) {
			return &CheckpointError{Path: path, What: fmt.Sprintf("state %s: missing or of length %d, want %d", b.Name, len(a), len(b.Value))}
		}
	}
	// Everything is checked: only now change the rest of the trainer.
	for _, p := range t.Net.params {
		copy(p.Value, d.arrays[p.Name])
	}
	for _, b := range t.Net.buffers {
		copy(b.Value, d.arrays[statePrefix+b.Name])
	}
	// The examples trained before this point seed each example's augmentation.
	t.examplesSeen = uint64(h.Epoch-1)*uint64(train.N) + uint64(h.Next)
	for i, w := range t.workers {
		*w.rngSrc = dropout[i] // the layers' dropout steps hold w.rng, which draws from w.rngSrc
	}
	t.opt.SetLearningRate(h.LearningRate)
	s.epoch, s.next, s.order, s.steps = h.Epoch, h.Next, d.order, h.Steps
	s.lossSum, s.windowLoss, s.correct, s.windowCorrect, s.windowDone = h.LossSum, h.WindowLoss, h.Correct, h.WindowCorrect, h.WindowDone
	s.elapsed = time.Duration(h.ElapsedSeconds * float64(time.Second))
	s.hist = hist
	if len(best) > 0 {
		// Checkpoints written before the best state held the running averages have the weights only: their
		// averages are taken as they stand at the checkpoint, as those runs did.
		if len(best) != len(bestState) && len(best) != len(t.Net.params) {
			return &CheckpointError{Path: path, What: fmt.Sprintf("best-epoch state covers %d of %d parameters and running averages", len(best), len(bestState))}
		}
		s.best = copyParams(bestState, nil)
		for i, b := range best {
			copy(s.best[i].Value, b)
		}
	}
	t.run = s
	t.trainSet = trainSetID{train.Name, train.N}
	return nil
}

// Position is where the run stands: the epoch in progress (from 1; Epochs+1 once done) and the training
// examples done in it. Before Fit or Resume it is (1, 0).
func (t *Trainer) Position() (epoch, done int) {
	if t.run == nil {
		return 1, 0
	}
	return t.run.epoch, t.run.next
}

// checkResumeData checks that Fit got the training set Resume was given.
func (t *Trainer) checkResumeData(train *Dataset) error {
	if t.trainSet != (trainSetID{train.Name, train.N}) {
		return errors.New("models: Fit after Resume needs the training set given to Resume: " +
			fmt.Sprintf("resumed with %s (%d images), Fit got %s (%d images)", t.trainSet.name, t.trainSet.n, train.Name, train.N))
	}
	return nil
}

// trainSetID identifies the training set a run uses, for checkpoints.
type trainSetID struct {
	name string
	n    int
}
