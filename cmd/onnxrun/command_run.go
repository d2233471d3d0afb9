package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/pflag"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorio"
)

func runCommand() *command {
	return &command{
		name:    "run",
		summary: "run a model on tensor files or images and print its outputs (the default command)",
		usage:   "run [flags] MODEL.onnx [INPUT | NAME=INPUT]...",
		help: `Run loads and compiles MODEL.onnx, reads one input per model input and runs the model once. Inputs
are matched to the model's inputs by position, or by name when given as NAME=INPUT. Each input's dtype
and shape are checked against the model before running.

An input is a tensor file: .npy, .pb (a serialized TensorProto) or .npz. An .npz archive given alone
feeds every model input that has an array of the same name; NAME=FILE.npz takes its only array, and
FILE.npz:ARRAY names one. An input may also be a picture (.png, .jpg, .jpeg, .gif): it is converted to
the input's channels (1: grey, 3: RGB), resized to its height and width, scaled (values 0..255 times
--scale, minus --mean, divided by --std; 0..1 by default) and laid out as the input declares it, N,C,H,W
or N,H,W,C. --random fills every input not given with random values (uniform in [0,1) for floats, zeros
for integers, the same for a given --seed), at the --batch size and --shape shapes.

For each output it prints the name, dtype and shape, then the values as numpy prints an array (long
tensors abbreviated to their first and last 3 entries per axis). For a [K] or [1,K] float output it also
prints the top classes with their scores and softmax probabilities (or just the probabilities, when the
values already are probabilities), named by --labels (one class name per line); for an [N,K] float
output, the argmax of each row. -o writes the outputs to a file (.npy, .pb, or .npz for all outputs in
one archive) or a directory (DIR/NAME.npy), checked before the model runs. An output the graph lists
twice is one tensor and is written once. String outputs become numpy str arrays ('<U').

A sequence input is a folder of element files 0.npy, 1.npy, ... (or NNN.npy, or .pb), the arrays
NAME_0, NAME_1, ... of an .npz archive, or a SequenceProto .pb file; an optional input is a tensor file
(the optional holds it) or an OptionalProto .pb file. A sequence output is printed element by element
(NAME[0], NAME[1], ...), a map as one "key: value" line per entry, an empty optional as "NAME: none". -o
DIR writes a sequence as DIR/NAME/0.npy, DIR/NAME/1.npy, ..., -o F.npz as arrays NAME_0, NAME_1, ...; an
optional is written as what it holds, and an empty one writes no file and prints "NAME: none".

--dump-intermediate DIR writes the output of every node to DIR as NAME.npy (names made file-safe, listed
in DIR/index.tsv), to find where two runtimes part ways. It compiles without graph passes, so that every
node of the file is there under its own name, and gives each value its own memory. Values inside the
bodies of If, Loop and Scan are written too, named NODE/ATTR/VALUE (loop/body/sum, in index.tsv; the file
name made safe): the branch an If took, and a Loop's or Scan's last iteration. A sequence is
dumped as -o DIR writes it, one index line per element (NAME[0], ...); an empty optional gets a line
with no file ("-").

Exit status: 0 on success, 1 when the model or an input is wrong or running fails, 2 on a malformed
command line.`,
		examples: []string{
			"onnxrun lenet/model.onnx digit.npy",
			"onnxrun lenet/model.onnx digit.png --labels digits.txt",
			"onnxrun run --threads 1 model.onnx input.1=digit.npy -o logits.npy",
			"onnxrun model.onnx inputs.npz -o outputs.npz",
			"onnxrun mnist.onnx --scale 1 --invert photo.jpg",
			"onnxrun resnet.onnx cat.jpg --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225",
			"onnxrun run --random --seed 7 --batch 8 model.onnx",
			"onnxrun run --dump-intermediate dump/ model.onnx digit.npy",
		},
		define: func(fs *pflag.FlagSet) func(*env, []string) error {
			var o runOptions
			fs.StringVarP(&o.output, "output", "o", "", "write the output to this .npy or .pb file, or each output to DIR/NAME.npy")
			fs.IntVar(&o.threads, "threads", 0, "threads per operator (0: one per CPU)")
			fs.IntVar(&o.top, "top", 5, "how many top classes to list for a [K] or [1,K] output (0: none)")
			fs.StringVar(&o.labels, "labels", "", "a text file naming the classes, one per line, for the top classes")
			o.random = switchFlag(fs, "random", "", "fill every input not given with random values")
			fs.Uint64Var(&o.seed, "seed", 1, "with --random, the seed of the random values")
			fs.IntVarP(&o.batch, "batch", "b", 1, "with --random, the size of a symbolic first input dimension")
			fs.StringArrayVar(&o.shapes, "shape", nil, shapeFlagHelp)
			fs.Float64Var(&o.image.Scale, "scale", 1.0/255, "images: multiply pixel values 0..255 by this")
			fs.Float64SliceVar(&o.image.Mean, "mean", nil, "images: subtract this after scaling (one value, or one per channel)")
			fs.Float64SliceVar(&o.image.Std, "std", nil, "images: then divide by this (one value, or one per channel)")
			o.image.Invert = switchFlag(fs, "invert", "", "images: invert (255 - v) before scaling, for dark digits on white")
			fs.StringVar(&o.image.Layout, "layout", "", "images: NCHW or NHWC, when the input's shape does not tell")
			fs.StringVar(&o.dumpDir, "dump-intermediate", "", "write every node's output to this directory as .npy files")
			return o.run
		},
	}
}

type runOptions struct {
	output  string
	threads int
	top     int
	labels  string
	random  *bool
	seed    uint64
	batch   int
	shapes  []string
	image   imageFlags
	dumpDir string
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
	if o.batch < 1 {
		return usagef(cmd, "--batch must be 1 or more, got %d", o.batch)
	}
	var labels []string
	if o.labels != "" {
		var err error
		if labels, err = readLabels(o.labels); err != nil {
			return err
		}
	}
	modelPath := args[0]
	pins, err := parsePins(cmd, o.shapes)
	if err != nil {
		return err
	}
	// Dumping compiles without passes, so that every node of the file keeps its output and its name.
	plan, err := runtime.Load(modelPath, runtime.Options{Threads: o.threads, NoOptimize: o.dumpDir != "", InputShapes: pins})
	if err != nil {
		return err // it names the file already
	}
	inSpecs, outSpecs := plan.Inputs(), plan.Outputs()
	sources, err := matchInputs(cmd, inSpecs, args[1:], *o.random)
	if err != nil {
		return err
	}
	outPlan, err := planOutputs(cmd, o.output, outSpecs)
	if err != nil {
		return err
	}
	inputs, err := o.readInputs(cmd, inSpecs, sources)
	if err != nil {
		return err
	}

	sess := plan.NewSession()
	defer sess.Close()
	var outs []*ops.Tensor
	if o.dumpDir != "" {
		outs, err = dumpIntermediates(e, sess, inputs, o.dumpDir)
	} else {
		outs, err = sess.Run(e.ctx, inputs)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", modelPath, err)
	}

	for i, t := range outs {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintln(e.stdout, outputHeader(outSpecs[i], t))
		if t.Kind() != ops.KindTensor {
			printValue(e.stdout, outSpecs[i].Name, t)
			continue
		}
		fmt.Fprintln(e.stdout, formatArray(t))
		printLabeledClasses(e.stdout, t, o.top, labels)
	}
	return writeOutputs(e, outPlan, outSpecs, outs)
}

// writeOutputs writes the outputs where planOutputs decided: one .npz archive, one file, or one file per
// output in a directory.
func writeOutputs(e *env, plan *outputPlan, outSpecs []runtime.ValueSpec, outs []*ops.Tensor) error {
	if plan == nil {
		return nil
	}
	if plan.archive != "" {
		var arrays []tensorio.NamedTensor
		for _, k := range plan.outputs {
			some, err := npzArrays(e.stdout, outSpecs[k].Name, outs[k])
			if err != nil {
				return fmt.Errorf("output %q: %w", outSpecs[k].Name, err)
			}
			arrays = append(arrays, some...)
		}
		if err := tensorio.WriteNPZ(plan.archive, arrays); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", plan.archive)
		return nil
	}
	if plan.makeDir != "" {
		if err := os.MkdirAll(plan.makeDir, 0o755); err != nil {
			return err
		}
	}
	for i, k := range plan.outputs {
		ext := filepath.Ext(plan.files[i])
		if err := writeValueFiles(e.stdout, outSpecs[k].Name, strings.TrimSuffix(plan.files[i], ext), ext, outs[k]); err != nil {
			return fmt.Errorf("output %q: %w", outSpecs[k].Name, err)
		}
	}
	return nil
}

// inputSource is where one model input comes from: a file (a tensor, an image, or one array of an .npz
// archive read already), a folder (a sequence), or random values when path is "" and tensor and elems
// are nil.
type inputSource struct {
	path   string
	tensor *ops.Tensor   // an .npz array matched by name
	elems  []*ops.Tensor // a sequence's elements: the .npz arrays NAME_0, NAME_1, ...
}

// matchInputs pairs each model input with a source: NAME=FILE arguments by name, an .npz archive given
// alone by the names of its arrays, the other files by position in the order of the inputs not named. An
// argument with "=" whose left side names no input is taken as a file name if such a file exists, else it
// is an error listing the model's inputs. With random, inputs left without a file get random values.
func matchInputs(cmd *command, specs []runtime.ValueSpec, args []string, random bool) ([]inputSource, error) {
	sources := make([]inputSource, len(specs))
	given := make([]bool, len(specs))
	var positional []string
	for _, arg := range args {
		name, path, hasName := strings.Cut(arg, "=")
		if hasName && name != "" {
			if i := specIndex(specs, name); i >= 0 {
				if given[i] {
					return nil, usagef(cmd, "input %q is given twice (%s and %s)", name, sources[i].path, path)
				}
				sources[i], given[i] = inputSource{path: path}, true
				continue
			}
			if _, err := os.Stat(arg); err != nil {
				hint := ""
				if c := closest(name, specNames(specs)); c != "" {
					hint = fmt.Sprintf(" (did you mean %s=%s?)", c, path)
				}
				return nil, fmt.Errorf("%q: the model has no input named %q%s; its inputs are %s", arg, name, hint, describeSpecs(specs))
			}
		}
		if isNPZ(arg) {
			matched, err := matchNPZ(specs, sources, given, arg)
			if err != nil {
				return nil, err
			}
			if matched {
				continue
			}
		}
		positional = append(positional, arg)
	}
	next := 0
	for i := range sources {
		if !given[i] && next < len(positional) {
			sources[i], given[i] = inputSource{path: positional[next]}, true
			next++
		}
	}
	if next < len(positional) {
		return nil, usagef(cmd, "too many inputs: the model takes %d (%s), got %d", len(specs), describeSpecs(specs), len(args))
	}
	for i, ok := range given {
		if !ok && !random {
			return nil, usagef(cmd, "missing input %q (%s): give a tensor file or image for it by position or as %s=FILE, or use --random",
				specs[i].Name, specs[i].TypeString(), specs[i].Name)
		}
	}
	return sources, nil
}

// matchNPZ gives the arrays of the archive at path to the inputs of the same name not given yet. An
// archive none of whose arrays is named after an input is left to fill one input by position (it must
// then hold one array), unless the model has one input; then the names on both sides are listed.
func matchNPZ(specs []runtime.ValueSpec, sources []inputSource, given []bool, path string) (bool, error) {
	arrays, err := tensorio.ReadNPZ(path)
	if err != nil {
		return false, err
	}
	matched := false
	for _, a := range arrays {
		if i := specIndex(specs, a.Name); i >= 0 && !given[i] {
			sources[i], given[i] = inputSource{path: path + ":" + a.Name, tensor: a.Tensor}, true
			matched = true
		}
	}
	for i, spec := range specs {
		if given[i] || spec.Kind() != ops.KindSequence {
			continue
		}
		elems, ok, err := sequenceArrays(spec.Name, path, *spec.Type, arrays)
		if err != nil {
			return false, err
		}
		if ok {
			sources[i], given[i] = inputSource{path: path + ":" + spec.Name + "_*", elems: elems}, true
			matched = true
		}
	}
	if !matched && len(arrays) != 1 {
		return false, fmt.Errorf("%s: none of its arrays (%s) is named after a model input; the inputs are %s",
			path, strings.Join(tensorio.NPZNames(arrays), ", "), describeSpecs(specs))
	}
	return matched, nil
}

func isNPZ(path string) bool { return strings.EqualFold(filepath.Ext(path), ".npz") }

func specNames(specs []runtime.ValueSpec) []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return names
}

func specIndex(specs []runtime.ValueSpec, name string) int {
	for i, s := range specs {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// describeSpecs lists inputs as `"input.1" float32[N,1,28,28], "mask" bool[N], "seq" seq(tensor(float32))`.
func describeSpecs(specs []runtime.ValueSpec) string {
	if len(specs) == 0 {
		return "none"
	}
	parts := make([]string, len(specs))
	for i, s := range specs {
		parts[i] = fmt.Sprintf("%q %s", s.Name, s.TypeString())
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

// outputPlan is where -o puts the outputs: the indexes of the outputs to write, each distinct value once,
// and either the .npz archive that holds them all or one file for each.
type outputPlan struct {
	outputs []int
	archive string   // the .npz archive, or ""
	files   []string // with no archive: the file of each of outputs
	makeDir string   // a directory to create before writing, or ""
}

// planOutputs decides where -o puts each output, and checks that each can go there, before the model runs:
// a bad -o costs no run, and an error never comes after the outputs were printed. One output and a file
// name: that file (.npy or .pb). An .npz name: one archive, each output an array of its name. Otherwise a
// directory, existing or to be made, with one NAME.npy per output (names made file-safe). A value the
// graph lists twice among its outputs (legal ONNX) is one tensor, so it is written once, under its name.
// A sequence or map becomes several files or arrays, an optional its content or nothing (run_values.go),
// so a sequence cannot go to one file.
func planOutputs(cmd *command, output string, specs []runtime.ValueSpec) (*outputPlan, error) {
	if output == "" {
		return nil, nil
	}
	plan := &outputPlan{}
	seen := map[string]bool{}
	for i, s := range specs {
		if !seen[s.Name] {
			seen[s.Name] = true
			plan.outputs = append(plan.outputs, i)
		}
	}
	names := make([]string, len(plan.outputs))
	for i, k := range plan.outputs {
		names[i] = specs[k].Name
	}
	ext := strings.ToLower(filepath.Ext(output))
	isFileName := ext == ".npy" || ext == ".pb"
	st, err := os.Stat(output)
	isDir := strings.HasSuffix(output, "/") || (err == nil && st.IsDir())
	if !isDir {
		switch {
		case ext == ".npz":
			plan.archive = output
			for _, k := range plan.outputs {
				if err := tensorio.CheckNPZName(specs[k].Name); err != nil {
					return nil, usagef(cmd, "-o %s: output %q: %v; give a directory instead", output, specs[k].Name, err)
				}
				if err := checkNPYDType(specs[k]); err != nil {
					return nil, usagef(cmd, "-o %s: output %q: %v", output, specs[k].Name, err)
				}
			}
			return plan, nil
		case len(plan.outputs) == 1 && isFileName && !isTensorLike(specs[plan.outputs[0]].Type):
			return nil, usagef(cmd, "-o %s: output %q is a %s, which takes several files: give a directory or an .npz archive", output, specs[plan.outputs[0]].Name, specs[plan.outputs[0]].Type)
		case len(plan.outputs) == 1 && isFileName:
			if ext == ".npy" {
				if err := checkNPYDType(specs[plan.outputs[0]]); err != nil {
					return nil, usagef(cmd, "-o %s: output %q: %v; write it to a .pb file instead", output, specs[plan.outputs[0]].Name, err)
				}
			}
			plan.files = []string{output}
			return plan, nil
		case len(plan.outputs) == 1:
			return nil, usagef(cmd, "-o %s: give a .npy or .pb file name, or a directory ending in / (or an .npz archive for all outputs)", output)
		case isFileName:
			return nil, usagef(cmd, "-o %s: the model has %d outputs (%s), so -o must name a directory or an .npz archive", output, len(names), strings.Join(names, ", "))
		}
	}
	used := map[string]bool{}
	for _, k := range plan.outputs {
		if err := checkNPYDType(specs[k]); err != nil {
			return nil, usagef(cmd, "-o %s: output %q: %v", output, specs[k].Name, err)
		}
		base := safeFileName(specs[k].Name)
		if used[base] {
			base = fmt.Sprintf("%s_%d", base, k)
		}
		used[base] = true
		plan.files = append(plan.files, filepath.Join(output, base+".npy"))
	}
	if len(plan.outputs) > 1 || strings.HasSuffix(output, "/") {
		plan.makeDir = output
	}
	return plan, nil
}

// checkNPYDType refuses an output whose declared dtype has no .npy form. An undeclared dtype passes: the
// writer then refuses the tensor itself.
func checkNPYDType(spec runtime.ValueSpec) error {
	if spec.DType == ops.Undefined {
		return nil
	}
	return tensorio.CheckNPYDType(spec.DType)
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
