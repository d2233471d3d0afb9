package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/onnxrun/onnxrun/bench"
	"github.com/onnxrun/onnxrun/inspect"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

func inspectCommand() *command {
	return &command{
		name:    "inspect",
		summary: "describe a model: producer, opsets, metadata, inputs and outputs, operators, weights",
		usage:   "inspect [flags] MODEL.onnx",
		help: `Inspect prints what Netron's side panel shows for a model, as text: IR version, producer, opset imports,
metadata, every input and output with its dtype and shape (symbolic dimensions by name), the number of
nodes of each operator, the initializers' count and size, and the operators onnxrun has no kernel for.

--json prints the same as JSON, for scripts. --dot FILE writes the graph for Graphviz (render it with
"dot -Tsvg FILE -o graph.svg"); "--dot -" writes it to stdout instead of the description. --plan compiles
the model and prints the plan the runtime runs: the steps after the graph passes, each output's shape and
buffer, and the memory the arena needs, at the input shapes --batch and --shape give.`,
		examples: []string{
			"onnxrun inspect lenet.onnx",
			"onnxrun inspect --json lenet.onnx | jq '.inputs[0].shape'",
			"onnxrun inspect --dot lenet.dot lenet.onnx && dot -Tsvg lenet.dot -o lenet.svg",
			"onnxrun inspect --plan --batch 64 lenet.onnx",
		},
		define: func(fs *pflag.FlagSet) func(*env, []string) error {
			var o inspectOptions
			o.json = switchFlag(fs, "json", "", "print the description as JSON")
			fs.StringVar(&o.dot, "dot", "", "write the graph in Graphviz DOT to this file (- for stdout)")
			o.plan = switchFlag(fs, "plan", "", "print the compiled plan: steps, shapes, buffers")
			fs.IntVarP(&o.batch, "batch", "b", 1, "with --plan, the size of a symbolic first input dimension")
			fs.StringArrayVar(&o.shapes, "shape", nil, shapeFlagHelp)
			return o.run
		},
	}
}

type inspectOptions struct {
	json   *bool
	dot    string
	plan   *bool
	batch  int
	shapes []string
}

func (o *inspectOptions) run(e *env, args []string) error {
	cmd := findCommand("inspect")
	if err := oneModelArg(cmd, args); err != nil {
		return err
	}
	if *o.json && (*o.plan || o.dot == "-") {
		return usagef(cmd, "--json describes the model; it cannot be combined with --plan or --dot -")
	}
	if o.batch < 1 {
		return usagef(cmd, "--batch must be 1 or more, got %d", o.batch)
	}
	if len(o.shapes) > 0 && !*o.plan && o.dot == "" {
		return usagef(cmd, "--shape applies to --plan and --dot (the description is the file's own)")
	}
	pins, err := parsePins(cmd, o.shapes)
	if err != nil {
		return err
	}
	if *o.plan && o.dot == "" {
		return o.printPlan(e, cmd, args[0], pins)
	}
	m, err := onnx.Load(args[0])
	if err != nil {
		return err
	}
	if o.dot != "" {
		if err := writeDot(e, m, o.dot, pins); err != nil {
			return err
		}
		if o.dot == "-" {
			return nil
		}
		fmt.Fprintf(e.stderr, "wrote %s\n", o.dot)
	}
	if *o.plan {
		return o.printPlan(e, cmd, args[0], pins)
	}
	info := inspect.Describe(m)
	if *o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	return info.WriteText(e.stdout)
}

func writeDot(e *env, m *onnx.Model, path string, pins map[string]ops.Shape) error {
	if path == "-" {
		return inspect.WriteDot(e.stdout, m, pins)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = inspect.WriteDot(f, m, pins)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (o *inspectOptions) printPlan(e *env, cmd *command, path string, pins map[string]ops.Shape) error {
	plan, err := runtime.Load(path, runtime.Options{Threads: 1, InputShapes: pins})
	if err != nil {
		return err // it names the file already
	}
	shapes, err := bench.InputShapes(plan.Inputs(), o.batch, nil) // the pins are the inputs' shapes now
	if err != nil {
		return flagError(cmd, "--plan", err)
	}
	_, err = fmt.Fprint(e.stdout, plan.Describe(shapes...))
	return err
}
