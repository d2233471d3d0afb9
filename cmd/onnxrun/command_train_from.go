package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/onnxrun/onnxrun/models"
	"github.com/onnxrun/onnxrun/onnx"
)

// fineTuneOptions are train's flags for continuing the training of an ONNX model (--from).
type fineTuneOptions struct {
	from       string
	freeze     []string
	numClasses int
}

func defineFineTuneFlags(fs *pflag.FlagSet, o *fineTuneOptions) {
	fs.StringVar(&o.from, "from", "", "fine-tune this ONNX CNN instead of building a LeNet; the export keeps its graph, names, layout and opset")
	fs.StringSliceVar(&o.freeze, "freeze", nil, "with --from: layers (ONNX node names) or initializers to keep fixed, by name or prefix (conv*), comma-separated")
	fs.IntVar(&o.numClasses, "num-classes", 0, "with --from: replace the last Gemm/MatMul+Add by a fresh head with this many classes (0: keep it)")
}

// runFineTune trains the model of --from on train, validating on test, and writes it back in its own
// format. The LeNet flags (--filters, --hidden, ...) and --opset do not apply.
func (o *trainOptions) runFineTune(e *env, opt models.Optimizer, train, test *models.Dataset) error {
	ft := o.fineTune
	src, err := onnx.Load(ft.from)
	if err != nil {
		return err
	}
	net, err := models.ImportONNX(src, models.ImportOptions{NumClasses: ft.numClasses, Seed: o.seed, Freeze: ft.freeze})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n%s\n\nfine-tuning %s (opset %d)\n%s\n", train, test, ft.from, net.SourceOpset(), net.Summary())
	if frozen := net.Frozen(); len(frozen) > 0 {
		fmt.Fprintf(e.stdout, "frozen: %s\n", strings.Join(frozen, ", "))
	}
	fmt.Fprintf(e.stdout, "training %d epochs, batch %d, %s lr %g, seed %d\n", o.epochs, o.batch, opt.Name(), opt.LearningRate(), o.seed)
	lr0 := opt.LearningRate()
	bar := newProgressBar(e.stderr, *o.quiet)
	cfg := models.Config{Epochs: o.epochs, BatchSize: o.batch, Optimizer: opt, LRDecay: o.lrDecay, Seed: o.seed,
		Threads: o.threads, OnBatch: bar.update,
		OnEpoch: func(s models.EpochStats) {
			bar.clear()
			fmt.Fprintf(e.stdout, "epoch %*d/%d  loss %.4f  acc %.2f%%  val loss %.4f  val acc %.2f%%  %.0f img/s  %.1fs\n",
				len(strconv.Itoa(o.epochs)), s.Epoch, o.epochs, s.TrainLoss, 100*s.TrainAccuracy, s.ValLoss, 100*s.ValAccuracy,
				s.ImagesPerSec, s.TrainSeconds)
		}}
	hist, err := models.Train(net, train, test, cfg)
	bar.clear()
	if err != nil {
		return err
	}
	last := hist.Epochs[len(hist.Epochs)-1]
	desc := fmt.Sprintf("%s fine-tuned by onnxrun on %s (%d images): %d epochs, batch %d, %s lr %g, seed %d, num-classes %d, frozen [%s]; accuracy on %s: %.2f%%",
		ft.from, train.Name, train.N, o.epochs, o.batch, opt.Name(), lr0, o.seed, ft.numClasses, strings.Join(ft.freeze, ","), test.Name, 100*last.ValAccuracy)
	model, err := net.ExportImported(desc, map[string]string{"dataset": train.Name, "fine_tuned_from": ft.from,
		"epochs": strconv.Itoa(o.epochs), "seed": strconv.FormatUint(o.seed, 10),
		"val_accuracy": strconv.FormatFloat(last.ValAccuracy, 'f', 4, 64)})
	if err != nil {
		return err
	}
	if err := model.Save(o.out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s (%d parameters, opset %d as the source); validation accuracy %.2f%%\n", o.out, net.NumParams(), net.SourceOpset(), 100*last.ValAccuracy)
	return nil
}
