package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/quantize"
)

func quantizeCommand() *command {
	return &command{
		name:    "quantize",
		summary: "quantize a float32 model to int8 (QDQ), dynamically or statically with calibration",
		usage:   "quantize [flags] MODEL.onnx -o OUT.onnx",
		help: `Quantize writes an 8-bit copy of a float32 model as QDQ (int8 weights behind DequantizeLinear, the
activations behind QuantizeLinear/DequantizeLinear pairs), the form ONNX Runtime's quantizer writes and
both onnxrun and ONNX Runtime run. The weights of Conv, MatMul and Gemm become int8, symmetric, per tensor or
with --per-channel per output channel.

--mode dynamic (the default) quantizes the activations at run time (DynamicQuantizeLinear). --mode static
fixes their ranges ahead of time from --calibrate data run through the float model: uint8 activations,
int32 biases, the range of each activation chosen by --method: minmax, percentile (the central
--percentile percent) or entropy (KL divergence). --calibrate takes an .npz (one array per model input,
examples along the first dimension), a folder of .npy files (one batch of the single input each), or a
folder of MNIST's IDX files (its training images).

--exclude keeps the named nodes float. --eval compares the float and quantized models on a dataset (the
same forms as --calibrate; an MNIST folder gives its test images, an .npz may hold "labels"): the largest
and mean output difference, and top-1 accuracy of both when there are labels. The output file is written
whole or not at all.`,
		examples: []string{
			"onnxrun quantize models/lenet/lenet.onnx -o lenet-int8.onnx --per-channel",
			"onnxrun quantize models/lenet/lenet.onnx -o lenet-int8.onnx --mode static --calibrate data/mnist --per-channel --eval data/mnist",
			"onnxrun quantize model.onnx -o model-int8.onnx --mode static --calibrate calib.npz --method percentile --percentile 99.99 --exclude head",
		},
		define: func(fs *pflag.FlagSet) func(*env, []string) error {
			o := &quantizeOptions{}
			fs.StringVarP(&o.out, "output", "o", "", "the quantized model file to write")
			fs.StringVar(&o.mode, "mode", "dynamic", "dynamic or static")
			fs.StringVar(&o.calibrate, "calibrate", "", "static: calibration inputs (.npz, folder of .npy, or MNIST folder)")
			fs.IntVar(&o.calibrateCount, "calibrate-count", 1000, "static: calibrate on the first N examples (0: all)")
			fs.StringVar(&o.method, "method", "minmax", "static: minmax, percentile or entropy")
			fs.Float64Var(&o.percentile, "percentile", 99.99, "the percent of values the percentile method keeps")
			o.perChannel = switchFlag(fs, "per-channel", "", "one weight scale per output channel")
			fs.StringSliceVar(&o.exclude, "exclude", nil, "nodes to keep float (NAME,NAME...)")
			fs.StringVar(&o.eval, "eval", "", "compare float and quantized on this data (.npz, folder of .npy, or MNIST folder)")
			fs.IntVar(&o.evalCount, "eval-count", 0, "evaluate on the first N examples (0: all)")
			return o.run
		},
	}
}

type quantizeOptions struct {
	out, mode, calibrate, method, eval string
	calibrateCount, evalCount          int
	percentile                         float64
	perChannel                         *bool
	exclude                            []string
}

func (o *quantizeOptions) run(e *env, args []string) error {
	cmd := findCommand("quantize")
	if len(args) != 1 {
		return usagef(cmd, "quantize takes one model file, got %d arguments", len(args))
	}
	if o.out == "" {
		return usagef(cmd, "missing -o OUT.onnx, the file to write")
	}
	mode, err := quantize.ParseMode(o.mode)
	if err != nil {
		return usagef(cmd, "--mode: %v", err)
	}
	method, err := quantize.ParseMethod(o.method)
	if err != nil {
		return usagef(cmd, "--method: %v", err)
	}
	if o.percentile <= 0 || o.percentile > 100 {
		return usagef(cmd, "--percentile %g: want more than 0 and at most 100", o.percentile)
	}
	if mode == quantize.Static && o.calibrate == "" {
		return usagef(cmd, "--mode static needs --calibrate DATA (an .npz, a folder of .npy files or an MNIST folder)")
	}
	if mode == quantize.Dynamic && o.calibrate != "" {
		return usagef(cmd, "--calibrate is for --mode static; dynamic quantization reads no data")
	}
	m, err := onnx.Load(args[0])
	if err != nil {
		return err
	}
	inputs := graphInputNames(m)
	opts := quantize.Options{Mode: mode, PerChannel: *o.perChannel, Exclude: o.exclude, Method: method, Percentile: o.percentile}
	if mode == quantize.Static {
		data, err := quantize.LoadData(o.calibrate, inputs, false, o.calibrateCount)
		if err != nil {
			return fmt.Errorf("--calibrate: %w", err)
		}
		opts.Calibration = data.Sets
	}
	q, summary, err := quantize.Quantize(m, opts)
	if err != nil {
		return err
	}
	if err := q.Save(o.out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s: %s, %d weights int8 (%s), %d activations quantized, %d biases int32\n", o.out, describeQuantization(opts),
		len(summary.Weights), perWhat(opts.PerChannel), len(summary.Activations), len(summary.Biases))
	if o.eval == "" {
		return nil
	}
	data, err := quantize.LoadData(o.eval, inputs, true, o.evalCount)
	if err != nil {
		return fmt.Errorf("--eval: %w", err)
	}
	report, err := quantize.Compare(m, q, data.Sets, data.Labels)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "eval on %s: %s\n", o.eval, report)
	return nil
}

func describeQuantization(o quantize.Options) string {
	if o.Mode == quantize.Dynamic {
		return "dynamic"
	}
	if o.Method == quantize.Percentile {
		return fmt.Sprintf("static (percentile %g)", o.Percentile)
	}
	return fmt.Sprintf("static (%s)", o.Method)
}

func perWhat(perChannel bool) string {
	if perChannel {
		return "per channel"
	}
	return "per tensor"
}

// graphInputNames lists the model's inputs that are not initializers, in order.
func graphInputNames(m *onnx.Model) []string {
	inits := map[string]bool{}
	for _, t := range m.Proto.GetGraph().GetInitializer() {
		inits[t.GetName()] = true
	}
	var names []string
	for _, in := range m.Proto.GetGraph().GetInput() {
		if !inits[in.GetName()] {
			names = append(names, in.GetName())
		}
	}
	return names
}
