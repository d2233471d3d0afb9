package main

import (
	"encoding/json"

	"github.com/spf13/pflag"

	"github.com/onnxrun/onnxrun/inspect"
	"github.com/onnxrun/onnxrun/onnx"
)

func summaryCommand() *command {
	return &command{
		name:    "summary",
		summary: "print a Keras-style table of a model's layers, output shapes and parameter counts",
		usage:   "summary [flags] MODEL.onnx",
		help: `Summary prints what Keras's model.summary() prints for the model: one row per layer with its output
shape (the batch as None) and its parameter count, then the total, trainable and non-trainable parameters
with their size.

A layer is what a Keras user would call one: an activation after a convolution or dense layer belongs to
it (Conv+Relu), as does the bias Add after a MatMul (MatMul+Add+Relu is a Dense layer), the Pad PyTorch
writes before a pooling, and the Transpose tf2onnx writes before a flatten; the Shape, Gather and Concat
nodes that compute a flatten's shape are no layer. Shape constants, axes and scalar constants are not
parameters; BatchNormalization's running mean and variance are non-trainable.

Every output shape of rank 3 or more is shown channels-last (N,...,C), as Keras shows it, whatever operator
made it, so that no table mixes layouts; --channels-first shows them as ONNX holds them (N,C,...). The
line under the table says when shapes were moved.`,
		examples: []string{
			"onnxrun summary lenet.onnx",
			"onnxrun summary --channels-first lenet.onnx",
			"onnxrun summary --json lenet.onnx | jq .total_params",
		},
		define: func(fs *pflag.FlagSet) func(*env, []string) error {
			var o summaryOptions
			o.channelsFirst = switchFlag(fs, "channels-first", "", "show output shapes as ONNX holds them, N,C,... (default: channels-last for rank 3 or more)")
			o.json = switchFlag(fs, "json", "", "print the summary as JSON")
			fs.StringArrayVar(&o.shapes, "shape", nil, shapeFlagHelp)
			return o.run
		},
	}
}

type summaryOptions struct {
	channelsFirst *bool
	json          *bool
	shapes        []string
}

func (o *summaryOptions) run(e *env, args []string) error {
	cmd := findCommand("summary")
	if err := oneModelArg(cmd, args); err != nil {
		return err
	}
	pins, err := parsePins(cmd, o.shapes)
	if err != nil {
		return err
	}
	m, err := onnx.Load(args[0])
	if err != nil {
		return err
	}
	s, err := inspect.Summarize(m, inspect.SummaryOptions{ChannelsFirst: *o.channelsFirst, InputShapes: pins})
	if err != nil {
		return err
	}
	if *o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	return s.WriteText(e.stdout)
}

// oneModelArg checks that a command that reads one model got exactly one argument.
func oneModelArg(cmd *command, args []string) error {
	switch len(args) {
	case 0:
		return usagef(cmd, "missing the model file")
	case 1:
		return nil
	}
	return usagef(cmd, "%s takes one model file, got %d arguments", cmd.name, len(args))
}
