package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/onnxrun/onnxrun/models"
)

func trainCommand() *command {
	return &command{
		name:    "train",
		summary: "train the seed's LeNet (or a variant) on MNIST, Fashion-MNIST or your images and export it to ONNX",
		usage:   "train [flags]",
		help: `Train builds the seed's LeNet (Conv 6@3x3 relu, AveragePool 2, Conv 16@3x3 relu, AveragePool 2, Flatten,
Dense 120 relu, Dense 84 relu, Dense 10: 60,074 parameters), or the variant the flags describe, trains it
on the MNIST-layout IDX files in --data (train-images-idx3-ubyte and the three others, gzipped or not:
'make data' puts MNIST in data/mnist and Fashion-MNIST in data/fashion-mnist), and writes it to --out as
an ONNX model with a symbolic batch dimension, input "input" [N,1,28,28] (pixels / 255) and output
"logits" [N,10] ("probabilities" with --softmax).

--data may instead be a folder with one subfolder of PNG or JPEG images per class (classes in sorted
order; their names go to the export's metadata "class_names", one per line, the form of run's --labels),
read as RGB or --grayscale, resized to --image-size and normalised as (pixel x --scale - --mean) / --std;
or an .npz file with x (N,C,H,W or N,H,W; float32 taken as it is, uint8 normalised as images are) and y
(N integer classes). The input then has their channels and size, and the output one score per class.
--test-data gives the test set in any of these forms; without it, only an IDX folder has one (t10k-*).

The forward pass runs onnxrun's own inference kernels and the backward pass its gradient kernels; each
batch is split over --threads workers. A progress bar shows images per second and the running loss.

--val-split N holds N of the training images out (5,000 by default, drawn at random with --seed; 0 holds
none out): after every epoch the accuracy on them is printed as the validation accuracy, and --keep-best
exports the weights of the epoch where it was best. The test files (t10k-*) are evaluated once, after
training, and printed as the test accuracy: nothing is chosen on them. The same --seed and --threads
give the same run.

--checkpoint DIR writes the run's state (weights, optimizer, random generators, position in the data) to
DIR/` + models.CheckpointFile + ` every --checkpoint-every N optimizer steps, or N epochs written Ne (the
default, 1e), atomically. After a crash, the same command with --resume DIR continues the run and ends with
the weights the uninterrupted run would have had, bit for bit; a resume whose flags change the run (model,
--batch, --threads, --seed, the optimizer, the data, --freeze) is refused with an error naming the
difference. Add --checkpoint to keep checkpointing. A fine-tune (--from) checkpoints and resumes the same
way; its checkpoint records the source model's file name and SHA-256, and a resume with another --from
model (or without --from) is refused.

With --from MODEL it fine-tunes an ONNX CNN instead (Conv, Gemm, MatMul+Add, BatchNormalization,
Relu/LeakyRelu/Tanh/Sigmoid/Clip, pools, Flatten/Reshape, Transpose, constant Pad, shape subgraphs, the Add
of two branches of a residual network such as torchvision's ResNets, and a final Softmax/LogSoftmax, whose
logits the loss takes), from its own weights; its BatchNormalizations train with batch statistics and
update their running averages, which the export writes back: --num-classes N replaces its last
Gemm or MatMul+Add by a fresh N-class head, --freeze keeps the named layers (ONNX node names) or
initializers, or those with a prefix ("conv*"), fixed. The export is the source model with the trained
weights: same graph, input and output names, layout (NHWC stays NHWC) and opset; --opset and the LeNet
flags do not apply.`,
		examples: []string{
			"onnxrun train --data data/mnist --epochs 15 --batch 128 --optimizer adam --lr 0.001 --out lenet.onnx",
			"onnxrun train --data data/mnist --epochs 1 --limit 10000 --plot curves.png --out /tmp/lenet.onnx",
			"onnxrun train --data data/fashion-mnist --pool max --filters 32,64 --dropout 0.25 --out fashion.onnx",
			"onnxrun train --data data/mnist --checkpoint ckpt --checkpoint-every 200 --out lenet.onnx",
			"onnxrun train --data data/mnist --resume ckpt --checkpoint ckpt --checkpoint-every 200 --out lenet.onnx",
			"onnxrun train --from mnist_cnn.onnx --num-classes 10 --data data/fashion-mnist --epochs 3 --out fashion_cnn.onnx",
			"onnxrun train --data photos/train --test-data photos/test --image-size 32x32 --mean 0.5 --std 0.5 --out photos.onnx",
		},
		define: func(fs *pflag.FlagSet) func(*env, []string) error {
			o := &trainOptions{}
			fs.StringVar(&o.data, "data", "data/mnist", "training data: a folder of MNIST-layout IDX files, a folder with one subfolder of images per class, or an .npz with x and y")
			fs.StringVar(&o.testData, "test-data", "", "test data, in the same forms (default: the IDX folder's t10k files; none for other data)")
			fs.StringVar(&o.imageSize, "image-size", "", "images: resize to HxW, e.g. 32x32 (default: their own size)")
			o.grayscale = switchFlag(fs, "grayscale", "", "images: read one channel (luma) instead of three (RGB)")
			fs.Float64Var(&o.dataOpts.Scale, "scale", 1.0/255, "images and uint8 .npz arrays: multiply pixel values 0..255 by this")
			fs.Float64SliceVar(&o.dataOpts.Mean, "mean", nil, "images and uint8 .npz arrays: subtract this after scaling (one value, or one per channel)")
			fs.Float64SliceVar(&o.dataOpts.Std, "std", nil, "images and uint8 .npz arrays: then divide by this (one value, or one per channel)")
			fs.IntVarP(&o.epochs, "epochs", "e", 15, "passes over the training set")
			fs.IntVarP(&o.batch, "batch", "b", 128, "examples per optimizer step")
			fs.StringVar(&o.optimizer, "optimizer", "adam", "adam or sgd (with momentum)")
			fs.Float64Var(&o.lr, "lr", 0, "learning rate (0: 0.001 for adam, 0.01 for sgd)")
			fs.Float64Var(&o.momentum, "momentum", 0.9, "sgd's momentum")
			fs.Float64Var(&o.lrDecay, "lr-decay", 1, "multiply the learning rate by this after every epoch")
			fs.Uint64Var(&o.seed, "seed", 1, "seed of the initial weights, the shuffling and dropout")
			fs.IntVar(&o.threads, "threads", 0, "workers each batch is split over (0: one per CPU)")
			fs.IntVar(&o.limit, "limit", 0, "train on the first N training images only (0: all)")
			fs.IntVar(&o.valSplit, "val-split", models.DefaultValSplit, "training images held out for validation, drawn with --seed (0: none, no validation)")
			o.keepBest = switchFlag(fs, "keep-best", "", "export the weights of the epoch of best validation accuracy, not the last epoch's")
			fs.StringVarP(&o.out, "out", "o", "lenet.onnx", "the ONNX file to write")
			fs.IntVar(&o.opset, "opset", models.DefaultExportOpset, fmt.Sprintf("opset of the export (%d to %d)", models.MinExportOpset, models.MaxExportOpset))
			o.softmax = switchFlag(fs, "softmax", "", "end the exported model with a Softmax (output \"probabilities\")")
			fs.StringVar(&o.plot, "plot", "", "draw the loss and accuracy curves to this file: SVG if it ends in .svg, else PNG")
			fs.StringVar(&o.filters, "filters", "6,16", "filters of the two convolutions")
			fs.IntVar(&o.kernel, "kernel", 3, "kernel size of the convolutions")
			fs.StringVar(&o.padding, "padding", "valid", "convolution padding: valid or same")
			fs.StringVar(&o.pool, "pool", "average", "pooling: average or max")
			fs.StringVar(&o.activation, "activation", "relu", "activation of the convolutions and hidden dense layers: relu, tanh, sigmoid, gelu, silu")
			fs.StringVar(&o.hidden, "hidden", "120,84", "units of the two hidden dense layers")
			fs.Float64Var(&o.dropout, "dropout", 0, "rate of a Dropout after each hidden dense layer (0: none)")
			o.quiet = switchFlag(fs, "quiet", "q", "no progress bar")
			fs.StringVar(&o.checkpoint, "checkpoint", "", "write checkpoints (weights, optimizer, random state, data position) to this folder")
			fs.StringVar(&o.checkpointEvery, "checkpoint-every", "1e", "checkpoint every N optimizer steps, or every N epochs with Ne (e.g. 500 or 1e)")
			fs.StringVar(&o.resume, "resume", "", "continue the run checkpointed in this folder (same flags as that run; --epochs may grow)")
			defineFineTuneFlags(fs, &o.fineTune)
			fs.StringVar(&o.arch, "arch", "lenet", "built-in architecture: lenet (shaped by the flags above) or resnet-small (a residual CNN with BatchNorm, 78,090 parameters)")
			fs.IntVar(&o.augShift, "aug-shift", 0, "augment: shift each training image by up to N pixels each way (a random crop of the image padded by N)")
			o.augFlip = switchFlag(fs, "aug-flip", "", "augment: flip training images horizontally at random (not for digits)")
			fs.Float64Var(&o.augRotate, "aug-rotate", 0, "augment: rotate training images by up to this many degrees either way")
			o.foldBN = switchFlag(fs, "fold-bn", "", "fold each BatchNorm into the convolution before it in the export (default: keep BatchNormalization nodes)")
			return o.run
		},
	}
}

type trainOptions struct {
	data, out, plot, optimizer     string
	epochs, batch, threads, limit  int
	valSplit, opset, kernel        int
	lr, momentum, lrDecay, dropout float64
	seed                           uint64
	filters, hidden, pool, padding string
	activation, arch               string
	augShift                       int
	augRotate                      float64
	augFlip                        *bool
	softmax, quiet, keepBest       *bool
	foldBN                         *bool
	testData, imageSize            string
	grayscale                      *bool
	dataOpts                       models.DataOptions
	checkpoint, checkpointEvery    string
	resume                         string
	fineTune                       fineTuneOptions
}

// checkpointInterval parses --checkpoint-every: "N" optimizer steps or "Ne" epochs.
func checkpointInterval(s string) (steps, epochs int, err error) {
	digits, perEpoch := strings.CutSuffix(s, "e")
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 {
		return 0, 0, fmt.Errorf("%q: want a positive number of steps (500) or of epochs (2e)", s)
	}
	if perEpoch {
		return 0, n, nil
	}
	return n, 0, nil
}

// loadData reads the training set and the test set (nil when there is none) as --data, --test-data and
// the image flags say.
func (o *trainOptions) loadData(cmd *command) (train, test *models.Dataset, err error) {
	opts := o.dataOpts
	opts.Grayscale = *o.grayscale
	if o.imageSize != "" {
		h, w, ok := strings.Cut(o.imageSize, "x")
		var errH, errW error
		opts.Height, errH = strconv.Atoi(h)
		opts.Width, errW = strconv.Atoi(w)
		if !ok || errH != nil || errW != nil || opts.Height < 1 || opts.Width < 1 {
			return nil, nil, usagef(cmd, "--image-size %q: want HEIGHTxWIDTH, e.g. 32x32", o.imageSize)
		}
	}
	if train, test, err = models.LoadData(o.data, opts); err != nil {
		return nil, nil, err
	}
	if o.testData != "" {
		other, otherTest, err := models.LoadData(o.testData, opts)
		if err != nil {
			return nil, nil, err
		}
		// An IDX folder's test files are its test set.
		if test = other; otherTest != nil {
			test = otherTest
		}
		if train.ClassNames != nil && test.ClassNames != nil && !slices.Equal(train.ClassNames, test.ClassNames) {
			return nil, nil, fmt.Errorf("--test-data %s has the classes %q, --data %s has %q", o.testData, test.ClassNames, o.data, train.ClassNames)
		}
	}
	return train, test, nil
}

func (o *trainOptions) config(cmd *command) (models.LeNetConfig, error) {
	cfg := models.SeedLeNet()
	var err error
	if cfg.Filters, err = intPair(o.filters); err != nil {
		return cfg, usagef(cmd, "--filters: %v", err)
	}
	if cfg.Hidden, err = intPair(o.hidden); err != nil {
		return cfg, usagef(cmd, "--hidden: %v", err)
	}
	if cfg.Pool, err = models.ParsePoolKind(o.pool); err != nil {
		return cfg, usagef(cmd, "--pool: %v", err)
	}
	if cfg.Activation, err = models.ParseActivation(o.activation); err != nil {
		return cfg, usagef(cmd, "--activation: %v", err)
	}
	switch o.padding {
	case "valid":
		cfg.Padding = models.Valid
	case "same":
		cfg.Padding = models.Same
	default:
		return cfg, usagef(cmd, "--padding %q: want valid or same", o.padding)
	}
	cfg.Kernel, cfg.Dropout = o.kernel, o.dropout
	return cfg, nil
}

func intPair(s string) ([2]int, error) {
	var p [2]int
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		return p, fmt.Errorf("%q: want two numbers separated by a comma", s)
	}
	for i, part := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || v < 1 {
			return p, fmt.Errorf("%q: %q is not a positive integer", s, part)
		}
		p[i] = v
	}
	return p, nil
}

func (o *trainOptions) run(e *env, args []string) error {
	cmd := findCommand("train")
	if len(args) != 0 {
		return usagef(cmd, "train takes no arguments, got %q (the data folder is --data)", args)
	}
	if o.opset < models.MinExportOpset || o.opset > models.MaxExportOpset {
		return usagef(cmd, "--opset %d: want %d to %d", o.opset, models.MinExportOpset, models.MaxExportOpset)
	}
	if o.epochs < 1 || o.batch < 1 {
		return usagef(cmd, "--epochs %d and --batch %d must be positive", o.epochs, o.batch)
	}
	lenet, err := o.config(cmd)
	if err != nil {
		return err
	}
	if o.arch != "lenet" && o.arch != "resnet-small" {
		return usagef(cmd, "--arch %q: want lenet or resnet-small", o.arch)
	}
	if o.augShift < 0 || o.augRotate < 0 || o.augRotate > 180 {
		return usagef(cmd, "--aug-shift %d and --aug-rotate %g: want a shift >= 0 and 0 to 180 degrees", o.augShift, o.augRotate)
	}
	opt, err := models.NewOptimizer(o.optimizer, o.lr)
	if err != nil {
		return usagef(cmd, "--optimizer: %v", err)
	}
	if sgd, ok := opt.(*models.SGD); ok {
		sgd.Momentum = o.momentum
	}
	train, test, err := o.loadData(cmd)
	if err != nil {
		return err
	}
	train = train.Subset(o.limit)
	if o.valSplit < 0 || (o.valSplit > 0 && o.valSplit >= train.N) {
		return usagef(cmd, "--val-split %d: want 0 (none) up to %d, below the %d training images", o.valSplit, train.N-1, train.N)
	}
	if *o.keepBest && o.valSplit == 0 {
		return usagef(cmd, "--keep-best chooses an epoch on the validation split: it needs --val-split above 0")
	}
	if o.fineTune.from != "" {
		return o.runFineTune(e, cmd, opt, train, test)
	}
	lenet.Input = []int{max(train.Channels, 1), train.Rows, train.Cols}
	lenet.Classes = train.Classes
	net, err := o.network(cmd, lenet)
	if err != nil {
		return err
	}
	net.Init(o.seed)
	testLine := "no test set (--test-data names one)"
	if test != nil {
		testLine = test.String()
	}
	fmt.Fprintf(e.stdout, "%s\n%s\n\n%s\n", train, testLine, net.Summary())
	fmt.Fprintf(e.stdout, "training %d epochs, batch %d, %s lr %g, seed %d\n", o.epochs, o.batch, opt.Name(), opt.LearningRate(), o.seed)

	lr0 := opt.LearningRate()
	bar := newProgressBar(e.stderr, *o.quiet)
	cfg, err := o.fitConfig(e, cmd, opt, bar, func(s models.EpochStats) {
		val := ""
		if o.valSplit > 0 {
			val = fmt.Sprintf("  val loss %.4f  val acc %.2f%%", s.ValLoss, 100*s.ValAccuracy)
		}
		fmt.Fprintf(e.stdout, "epoch %*d/%d  loss %.4f  acc %.2f%%%s  %.0f img/s  %.1fs\n",
			len(strconv.Itoa(o.epochs)), s.Epoch, o.epochs, s.TrainLoss, 100*s.TrainAccuracy, val, s.ImagesPerSec, s.TrainSeconds)
	})
	if err != nil {
		return err
	}
	cfg.Augment = models.Augment{Shift: o.augShift, Flip: *o.augFlip, Rotate: o.augRotate}
	hist, err := models.Train(net, train, test, cfg)
	bar.clear()
	if err != nil {
		return err
	}
	kept := hist.Epochs[len(hist.Epochs)-1]
	if *o.keepBest {
		kept = hist.Epochs[hist.BestEpoch-1]
		fmt.Fprintf(e.stdout, "kept the weights of epoch %d (best validation accuracy %.2f%%, loss %.4f)\n", kept.Epoch, 100*kept.ValAccuracy, kept.ValLoss)
	}
	meta := map[string]string{
		"dataset": train.Name, "epochs": strconv.Itoa(o.epochs), "batch": strconv.Itoa(o.batch),
		"optimizer": opt.Name(), "learning_rate": strconv.FormatFloat(lr0, 'g', -1, 64),
		"lr_decay": strconv.FormatFloat(o.lrDecay, 'g', -1, 64), "seed": strconv.FormatUint(o.seed, 10),
		"val_split": strconv.Itoa(o.valSplit), "epoch": strconv.Itoa(kept.Epoch)}
	accuracy := "no test set"
	if test != nil {
		meta["test_accuracy"] = strconv.FormatFloat(hist.TestAccuracy, 'f', 4, 64)
		accuracy = fmt.Sprintf("accuracy on %s: %.2f%%", test.Name, 100*hist.TestAccuracy)
	}
	if train.ClassNames != nil {
		// One name per line, in label order: the form of `onnxrun run --labels`.
		meta["class_names"] = strings.Join(train.ClassNames, "\n")
	}
	if o.valSplit > 0 {
		meta["val_accuracy"] = strconv.FormatFloat(kept.ValAccuracy, 'f', 4, 64)
		accuracy = fmt.Sprintf("validation accuracy %.2f%% (%d held-out training images), %s", 100*kept.ValAccuracy, o.valSplit, accuracy)
	}
	desc := fmt.Sprintf("%s trained by onnxrun on %s (%d images): %d epochs, batch %d, %s lr %g (x%g per epoch), seed %d; weights of epoch %d; %s\n%s",
		o.arch, train.Name, train.N-o.valSplit, o.epochs, o.batch, opt.Name(), lr0, o.lrDecay, o.seed, kept.Epoch, accuracy, commandLine(o, lr0))
	model, err := net.Export(models.ExportOptions{Opset: o.opset, Softmax: *o.softmax, GraphName: strings.ReplaceAll(o.arch, "-", "_"),
		FoldBatchNorm: *o.foldBN, DocString: desc, Metadata: meta})
	if err != nil {
		return err
	}
	if err := model.Save(o.out); err != nil {
		return err
	}
	if test != nil {
		fmt.Fprintf(e.stdout, "test accuracy %.2f%% on %s (%d images, evaluated once, after training)\n", 100*hist.TestAccuracy, test.Name, test.N)
	}
	fmt.Fprintf(e.stdout, "wrote %s (%d parameters, opset %d)\n", o.out, net.NumParams(), o.opset)
	if o.plot != "" {
		title := strings.TrimSuffix(filepath.Base(o.out), filepath.Ext(o.out))
		if err := models.PlotHistory(hist, title, o.plot); err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", o.plot)
	}
	return nil
}

// fitConfig is the training configuration both the built-in architectures and --from share: schedule,
// threads, validation, progress, and --checkpoint/--resume. onEpoch prints an epoch's line.
func (o *trainOptions) fitConfig(e *env, cmd *command, opt models.Optimizer, bar *progressBar, onEpoch func(models.EpochStats)) (models.Config, error) {
	cfg := models.Config{Epochs: o.epochs, BatchSize: o.batch, Optimizer: opt, LRDecay: o.lrDecay, Seed: o.seed,
		Threads: o.threads, ValSplit: o.valSplit, KeepBest: *o.keepBest, OnBatch: bar.update,
		OnEpoch: func(s models.EpochStats) {
			bar.clear()
			onEpoch(s)
		}}
	if o.checkpoint != "" {
		cfg.CheckpointDir = o.checkpoint
		var err error
		if cfg.CheckpointEverySteps, cfg.CheckpointEveryEpochs, err = checkpointInterval(o.checkpointEvery); err != nil {
			return cfg, usagef(cmd, "--checkpoint-every: %v", err)
		}
	}
	if o.resume != "" {
		cfg.ResumeDir = o.resume
		cfg.OnResume = func(epoch, done, total int) {
			fmt.Fprintf(e.stdout, "resumed from %s at epoch %d, %d of %d images done\n", o.resume, epoch, done, total)
		}
	}
	return cfg, nil
}

// network builds the --arch network for lenet's input and classes; lenet's other fields shape LeNet only.
func (o *trainOptions) network(cmd *command, lenet models.LeNetConfig) (*models.Network, error) {
	switch o.arch {
	case "lenet":
		return models.NewLeNet(lenet)
	case "resnet-small":
		cfg := models.SmallResNet()
		cfg.Input, cfg.Classes = lenet.Input, lenet.Classes
		return models.NewResNet(cfg)
	}
	return nil, usagef(cmd, "--arch %q: want lenet or resnet-small", o.arch) // run checked it already
}

// commandLine is the train command that reproduces the run (data folder and output aside), for the
// model's doc string.
func commandLine(o *trainOptions, lr float64) string {
	threads := o.threads
	if threads <= 0 {
		threads = goruntime.GOMAXPROCS(0)
	}
	keepBest := ""
	if *o.keepBest {
		keepBest = " --keep-best"
	}
	return fmt.Sprintf("onnxrun train --arch %s --data %s --epochs %d --batch %d --optimizer %s --lr %g --lr-decay %g --seed %d --threads %d"+
		" --filters %s --kernel %d --padding %s --pool %s --activation %s --hidden %s --dropout %g --limit %d --val-split %d%s"+
		" --aug-shift %d --aug-flip=%v --aug-rotate %g",
		o.arch, o.data, o.epochs, o.batch, o.optimizer, lr, o.lrDecay, o.seed, threads, o.filters, o.kernel, o.padding, o.pool,
		o.activation, o.hidden, o.dropout, o.limit, o.valSplit, keepBest, o.augShift, *o.augFlip, o.augRotate)
}

// progressBar redraws one line on a terminal, at most ten times a second. On anything else (a file, a
// pipe, CI's log) it stays silent: the per-epoch lines say enough there.
type progressBar struct {
	w     io.Writer
	on    bool
	last  time.Time
	drawn bool
}

func newProgressBar(w io.Writer, quiet bool) *progressBar {
	on := false
	if f, ok := w.(*os.File); ok && !quiet {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			on = true
		}
	}
	return &progressBar{w: w, on: on}
}

func (b *progressBar) update(p models.BatchProgress) {
	if !b.on || (time.Since(b.last) < 100*time.Millisecond && p.Done < p.Total) {
		return
	}
	b.last = time.Now()
	const width = 30
	filled := width * p.Done / p.Total
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	if filled < width {
		bar = bar[:filled] + ">" + bar[filled+1:]
	}
	fmt.Fprintf(b.w, "\repoch %d/%d [%s] %d/%d  %.0f img/s  loss %.4f  acc %.2f%% ", p.Epoch, p.Epochs, bar, p.Done, p.Total,
		p.ImagesPerSec, p.Loss, 100*p.Accuracy)
	b.drawn = true
}

func (b *progressBar) clear() {
	if b.drawn {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", 110))
		b.drawn = false
	}
}
