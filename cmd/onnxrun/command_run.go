package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/pflag"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorio"
)

func runCommand() *command {
	return &command{
		name:    "run",
		summary: "run a model on tensor files and print its outputs (the default command)",
		usage:   "run [flags] MODEL.onnx [INPUT | NAME=INPUT]...",
		help: `Run loads and compiles MODEL.onnx, reads one tensor file (.npy or .pb) per model input and runs the
model once. Inputs are matched to the model's inputs by position, or by name when given as NAME=INPUT.
Each input's dtype and shape are checked against the model before running.

For each output it prints the name, dtype and shape, then the values as numpy prints an array (long
tensors abbreviated to their first and last 3 entries per axis). For a [K] or [1,K] float output it also
prints the top classes with their scores and softmax probabilities (or just the probabilities, when the
values already are probabilities); for an [N,K] float output, the argmax of each row.

Exit status: 0 on success, 1 when the model or an input is wrong or running fails, 2 on a malformed
command line.`,
		examples: []string{
			"onnxrun lenet/model.onnx digit.npy",
			"onnxrun run --threads 1 model.onnx input.1=digit.npy -o logits.npy",
			"onnxrun model.onnx a.pb b.pb -o outdir/",
		},
		define: func(fs *pflag.FlagSet) func(*env, []string) error {
			var o runOptions
			fs.StringVarP(&o.output, "output", "o", "", "write the output to this .npy or .pb file, or each output to DIR/NAME.npy")
			fs.IntVar(&o.threads, "threads", 0, "threads per operator (0: one per CPU)")
			fs.IntVar(&o.top, "top", 5, "how many top classes to list for a [K] or [1,K] output (0: none)")
			return o.run
		},
	}
}

type runOptions struct {
	output  string
	threads int
	top     int
}

func (o *runOptions) run(e *env, args []string) error {
	cmd := findCommand("run")
	if len(args) == 0 {
		return usagef(cmd, "missing the model file")
	}
	if o.threads < 0 {
		return usagef(cmd, "--threads must be 0 or more, got %d", o.threads)
	}
	if o.top < 0 {
		return usagef(cmd, "--top must be 0 or more, got %d", o.top)
	}
	modelPath := args[0]
	m, err := onnx.Load(modelPath)
	if err != nil {
		return err // it names the file already
	}
	plan, err := runtime.Compile(m, runtime.Options{Threads: o.threads})
	if err != nil {
		return fmt.Errorf("%s: %w", modelPath, err)
	}
	inSpecs, outSpecs := plan.Inputs(), plan.Outputs()
	paths, err := matchInputs(cmd, inSpecs, args[1:])
	if err != nil {
		return err
	}
	outFiles, err := outputFiles(cmd, o.output, outSpecs)
	if err != nil {
		return err
	}
	inputs := make([]*ops.Tensor, len(inSpecs))
	for i, spec := range inSpecs {
		t, err := tensorio.ReadFile(paths[i])
		if err != nil {
			return err
		}
		if err := checkInput(spec, t, paths[i]); err != nil {
			return err
		}
		inputs[i] = t
	}

	sess := plan.NewSession()
	defer sess.Close()
	outs, err := sess.Run(e.ctx, inputs)
	if err != nil {
		return fmt.Errorf("%s: %w", modelPath, err)
	}

	for i, t := range outs {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, "output %q: %s%v\n%s\n", outSpecs[i].Name, t.DType(), t.Shape(), formatArray(t))
		printClasses(e.stdout, t, o.top)
	}
	if outFiles == nil {
		return nil
	}
	if dir := filepath.Dir(outFiles[0]); len(outFiles) > 1 || strings.HasSuffix(o.output, "/") {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	for i, path := range outFiles {
		if err := tensorio.WriteFile(path, outs[i]); err != nil {
			return fmt.Errorf("output %q: %w", outSpecs[i].Name, err)
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", path)
	}
	return nil
}

// matchInputs pairs each model input with a file: NAME=FILE arguments by name, the others by position in
// the order of the inputs not named. An argument with "=" whose left side names no input is taken as a
// file name if such a file exists, else it is an error listing the model's inputs.
func matchInputs(cmd *command, specs []runtime.ValueSpec, args []string) ([]string, error) {
	paths := make([]string, len(specs))
	var positional []string
	for _, arg := range args {
		name, path, hasName := strings.Cut(arg, "=")
		if hasName && name != "" {
			if i := specIndex(specs, name); i >= 0 {
				if paths[i] != "" {
					return nil, usagef(cmd, "input %q is given twice (%s and %s)", name, paths[i], path)
				}
				paths[i] = path
				continue
			}
			if _, err := os.Stat(arg); err != nil {
				return nil, fmt.Errorf("%q: the model has no input named %q; its inputs are %s", arg, name, describeSpecs(specs))
			}
		}
		positional = append(positional, arg)
	}
	next := 0
	for i := range paths {
		if paths[i] == "" && next < len(positional) {
			paths[i] = positional[next]
			next++
		}
	}
	if next < len(positional) {
		return nil, usagef(cmd, "too many inputs: the model takes %d (%s), got %d", len(specs), describeSpecs(specs), len(args))
	}
	for i, p := range paths {
		if p == "" {
			return nil, usagef(cmd, "missing input %q (%s%s): give a tensor file for it by position or as %s=FILE",
				specs[i].Name, specs[i].DType, specs[i].ShapeString(), specs[i].Name)
		}
	}
	return paths, nil
}

func specIndex(specs []runtime.ValueSpec, name string) int {
	for i, s := range specs {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// describeSpecs lists inputs as `"input.1" float32[N,1,28,28], "mask" bool[N]`.
func describeSpecs(specs []runtime.ValueSpec) string {
	if len(specs) == 0 {
		return "none"
	}
	parts := make([]string, len(specs))
	for i, s := range specs {
		parts[i] = fmt.Sprintf("%q %s%s", s.Name, s.DType, s.ShapeString())
	}
	return strings.Join(parts, ", ")
}

// checkInput compares a tensor read from path with the model's declaration before anything runs, so the
// message can name the file: `input "x": expected float32[N,1,28,28], got float64[1,28,28] from d.npy`.
// Symbolic dimensions match any size; the runtime checks that inputs sharing a symbol agree.
func checkInput(spec runtime.ValueSpec, t *ops.Tensor, path string) error {
	ok := t.DType() == spec.DType
	if ok && spec.HasShape {
		shape := t.Shape()
		ok = len(shape) == len(spec.Dims)
		for j := 0; ok && j < len(shape); j++ {
			ok = spec.Dims[j].Symbolic() || int64(shape[j]) == spec.Dims[j].Value
		}
	}
	if !ok {
		return fmt.Errorf("input %q: expected %s%s, got %s%v from %s", spec.Name, spec.DType, spec.ShapeString(), t.DType(), t.Shape(), path)
	}
	return nil
}

// outputFiles decides where -o puts each output, before the model runs so that a bad -o costs no run.
// One output and a file name: that file (.npy or .pb). Otherwise a directory, existing or to be made,
// with one NAME.npy per output.
func outputFiles(cmd *command, output string, specs []runtime.ValueSpec) ([]string, error) {
	if output == "" {
		return nil, nil
	}
	ext := strings.ToLower(filepath.Ext(output))
	isFileName := ext == ".npy" || ext == ".pb"
	st, err := os.Stat(output)
	isDir := strings.HasSuffix(output, "/") || (err == nil && st.IsDir())
	if !isDir {
		switch {
		case len(specs) == 1 && isFileName:
			return []string{output}, nil
		case len(specs) == 1:
			return nil, usagef(cmd, "-o %s: give a .npy or .pb file name, or a directory ending in /", output)
		case isFileName:
			names := make([]string, len(specs))
			for i, s := range specs {
				names[i] = s.Name
			}
			return nil, usagef(cmd, "-o %s: the model has %d outputs (%s), so -o must name a directory", output, len(specs), strings.Join(names, ", "))
		}
	}
	files := make([]string, len(specs))
	used := map[string]bool{}
	for i, s := range specs {
		base := safeFileName(s.Name)
		if used[base] {
			base = fmt.Sprintf("%s_%d", base, i)
		}
		used[base] = true
		files[i] = filepath.Join(output, base+".npy")
	}
	return files, nil
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// safeFileName turns a value name (which may hold "/" or ":") into a file name.
func safeFileName(name string) string {
	s := unsafeFileChars.ReplaceAllString(name, "_")
	if s == "" || strings.Trim(s, ".") == "" {
		s = "output" + s
	}
	return s
}
