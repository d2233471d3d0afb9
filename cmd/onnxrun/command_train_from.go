package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// runFineTune trains the model of --from on train (less its validation split), tests on test once, and writes it back in its own
// format. The LeNet flags (--filters, --hidden, ...) and --opset do not apply.
func (o *trainOptions) runFineTune(e *env, cmd *command, opt models.Optimizer, train, test *models.Dataset) error {
	ft := o.fineTune
	src, err := onnx.Load(ft.from)
	if err != nil {
		return err
	}
	origin, err := modelOrigin(ft.from)
	if err != nil {
		return err
	}
	net, err := models.ImportONNX(src, models.ImportOptions{NumClasses: ft.numClasses, Seed: o.seed, Freeze: ft.freeze, Origin: origin})
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
	cfg, err := o.fitConfig(e, cmd, opt, bar, func(s models.EpochStats) {
		fmt.Fprintf(e.stdout, "epoch %*d/%d  loss %.4f  acc %.2f%%  val loss %.4f  val acc %.2f%%  %.0f img/s  %.1fs\n",
			len(strconv.Itoa(o.epochs)), s.Epoch, o.epochs, s.TrainLoss, 100*s.TrainAccuracy, s.ValLoss, 100*s.ValAccuracy,
			s.ImagesPerSec, s.TrainSeconds)
	})
	if err != nil {
		return err
	}
	hist, err := models.Train(net, train, test, cfg)
	bar.clear()
	if err != nil {
		return err
	}
	kept := hist.Epochs[len(hist.Epochs)-1]
	if *o.keepBest {
		kept = hist.Epochs[hist.BestEpoch-1]
		fmt.Fprintf(e.stdout, "kept the weights of epoch %d (best validation accuracy %.2f%%)\n", kept.Epoch, 100*kept.ValAccuracy)
	}
	meta := map[string]string{"dataset": train.Name, "fine_tuned_from": ft.from,
		"epochs": strconv.Itoa(o.epochs), "seed": strconv.FormatUint(o.seed, 10), "epoch": strconv.Itoa(kept.Epoch),
		"val_split": strconv.Itoa(o.valSplit), "val_accuracy": strconv.FormatFloat(kept.ValAccuracy, 'f', 4, 64)}
	accuracy := "no test set"
	if test != nil {
		meta["test_accuracy"] = strconv.FormatFloat(hist.TestAccuracy, 'f', 4, 64)
		accuracy = fmt.Sprintf("test accuracy on %s: %.2f%%", test.Name, 100*hist.TestAccuracy)
	}
	desc := fmt.Sprintf("%s fine-tuned by onnxrun on %s (%d images, %d held out for validation): %d epochs, batch %d, %s lr %g, seed %d, num-classes %d, frozen [%s]; weights of epoch %d; %s",
		ft.from, train.Name, train.N-o.valSplit, o.valSplit, o.epochs, o.batch, opt.Name(), lr0, o.seed, ft.numClasses, strings.Join(ft.freeze, ","), kept.Epoch, accuracy)
	model, err := net.ExportImported(desc, meta)
	if err != nil {
		return err
	}
	if err := model.Save(o.out); err != nil {
		return err
	}
	if test != nil {
		fmt.Fprintf(e.stdout, "test accuracy %.2f%% on %s (%d images, evaluated once, after training)\n", 100*hist.TestAccuracy, test.Name, test.N)
	}
	fmt.Fprintf(e.stdout, "wrote %s (%d parameters, opset %d as the source); validation accuracy %.2f%%\n", o.out, net.NumParams(), net.SourceOpset(), 100*kept.ValAccuracy)
	return nil
}

// modelOrigin names the model file of --from for checkpoints: by content, so that a resume with another
// model (or the same name rewritten) is refused, and by name, so that the error says which file it was.
func modelOrigin(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return fmt.Sprintf("%s (sha256 %x)", filepath.Base(path), h.Sum(nil)), nil
}
