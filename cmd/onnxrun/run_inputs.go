package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/onnxrun/onnxrun/bench"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorio"
)

// imageFlags are run's flags for picture inputs; the layout, channels and size come from the model.
type imageFlags struct {
	Scale     float64
	Mean, Std []float64
	Invert    *bool
	Layout    string
}

// readInputs reads every input's source (tensor file, .npz array, image) or makes random values, and
// checks each against the model's declaration.
func (o *runOptions) readInputs(cmd *command, specs []runtime.ValueSpec, sources []inputSource) ([]*ops.Tensor, error) {
	inputs := make([]*ops.Tensor, len(specs))
	var randomSpecs []runtime.ValueSpec
	var randomAt []int
	for i, spec := range specs {
		src := sources[i]
		var t *ops.Tensor
		var err error
		switch {
		case spec.Kind() != ops.KindTensor:
			if t, err = readValueInput(spec, src); err != nil {
				return nil, err
			}
			if !t.Type().Equal(*spec.Type) {
				return nil, fmt.Errorf("input %q: expected %s, got %s from %s", spec.Name, spec.Type, t.Type(), src.path)
			}
			inputs[i] = t
			continue
		case src.tensor != nil:
			t = src.tensor
		case src.path == "":
			randomSpecs, randomAt = append(randomSpecs, spec), append(randomAt, i)
			continue
		case tensorio.IsImageFile(src.path):
			t, err = o.readImage(cmd, spec, src.path)
		case isNPZ(src.path):
			// NAME=FILE.npz: the array called NAME, else the archive's only array.
			if t, err = tensorio.ReadNPZArray(src.path, spec.Name); err != nil {
				t, err = tensorio.ReadNPZArray(src.path, "")
			}
		case isDir(src.path):
			err = fmt.Errorf("input %q is a %s tensor, but %s is a folder (the form of a sequence): give a tensor file", spec.Name, spec.TypeString(), src.path)
		default:
			if err = checkExtension(src.path); err == nil {
				t, err = tensorio.ReadFile(src.path)
			}
		}
		if err != nil {
			return nil, err
		}
		if err := checkInput(spec, t, src.path); err != nil {
			return nil, err
		}
		inputs[i] = t
	}
	if len(randomSpecs) > 0 {
		// --shape pinned its inputs at Load: their declared shapes are the pins now.
		shapes, err := bench.InputShapes(randomSpecs, o.batch, nil)
		if err != nil {
			return nil, flagError(cmd, "--random", err)
		}
		random, err := bench.RandomInputs(randomSpecs, shapes, o.seed)
		if err != nil {
			return nil, err
		}
		for k, i := range randomAt {
			inputs[i] = random[k]
		}
	}
	return inputs, nil
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// checkExtension refuses a file that is neither a tensor file nor an image, with the list of both.
func checkExtension(path string) error {
	if _, _, isMember := strings.Cut(strings.ToLower(path), ".npz:"); isMember {
		return nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy", ".pb", ".npz":
		return nil
	}
	return fmt.Errorf("%s: unsupported file extension %q: inputs must end in .npy or .pb (tensors), .npz (archives) or .png, .jpg, .jpeg, .gif (images)",
		path, filepath.Ext(path))
}

// readImage decodes a picture for the model input spec: layout, channels and size from its declared
// shape (or --layout), scaling from the flags.
func (o *runOptions) readImage(cmd *command, spec runtime.ValueSpec, path string) (*ops.Tensor, error) {
	if !spec.HasShape {
		return nil, fmt.Errorf("%s: input %q declares no shape, so the image's layout and size are unknown; give a tensor file instead", path, spec.Name)
	}
	dims := make([]int64, len(spec.Dims))
	for i, d := range spec.Dims {
		dims[i] = d.Value
		if d.Symbolic() {
			dims[i] = -1
		}
	}
	opts, err := tensorio.ImageOptionsFor(dims, spec.DType)
	if err != nil {
		return nil, fmt.Errorf("%s: input %q %s%s: %v", path, spec.Name, spec.DType, spec.ShapeString(), err)
	}
	if o.image.Layout != "" {
		layout := strings.ToUpper(o.image.Layout)
		if layout != "NCHW" && layout != "NHWC" {
			return nil, usagef(cmd, "--layout %s: want NCHW or NHWC", o.image.Layout)
		}
		if len(dims) != 4 {
			return nil, usagef(cmd, "--layout applies to a rank-4 input; %q is %s", spec.Name, spec.ShapeString())
		}
		if layout != opts.Layout {
			c, h, w := dims[1], dims[2], dims[3]
			if layout == "NHWC" {
				h, w, c = dims[1], dims[2], dims[3]
			}
			if c != 1 && c != 3 && c != 4 {
				return nil, usagef(cmd, "--layout %s puts %d channels in %q %s: an image has 1, 3 or 4", layout, c, spec.Name, spec.ShapeString())
			}
			opts.Layout, opts.Channels, opts.Height, opts.Width = layout, int(c), max(int(h), 0), max(int(w), 0)
		}
	}
	opts.Scale, opts.Mean, opts.Std, opts.Invert = o.image.Scale, o.image.Mean, o.image.Std, *o.image.Invert
	return tensorio.ReadImage(path, opts)
}

// readLabels reads class names, one per line; blank lines at the end are dropped.
func readLabels(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: no labels (want one class name per line)", path)
	}
	return lines, nil
}

// dumpIntermediates runs the model with an observer that writes every node output to dir as a .npy file,
// and lists them in dir/index.tsv (file, value name, dtype, shape) since names are made file-safe. A
// sequence, optional or map is written as run -o DIR writes it (NAME/0.npy, ...; see run_values.go), one
// index line per file, its elements named NAME[0], ...; an empty optional gets a line with no file ("-")
// and the shape "none", an empty sequence the empty folder and the shape "empty".
func dumpIntermediates(e *env, sess *runtime.Session, inputs []*ops.Tensor, dir string) ([]*ops.Tensor, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var index strings.Builder
	index.WriteString("file\tvalue\tdtype\tshape\n")
	used := map[string]bool{}
	count := 0
	outs, err := sess.RunWithObserver(e.ctx, inputs, func(name string, t *ops.Tensor) {
		base := safeFileName(name)
		for k := 2; used[base]; k++ {
			base = fmt.Sprintf("%s_%d", safeFileName(name), k)
		}
		used[base] = true
		label := func(path []string) string { return elementLabel(name, path) }
		err := walkValue(t, nil, valueVisitor{
			tensor: func(path []string, t *ops.Tensor) error {
				file := filepath.Join(append([]string{base}, path...)...) + ".npy"
				if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, file)), 0o755); err != nil {
					return err
				}
				if err := tensorio.WriteNPYFile(filepath.Join(dir, file), t); err != nil {
					return err
				}
				fmt.Fprintf(&index, "%s\t%s\t%s\t%v\n", filepath.ToSlash(file), label(path), t.DType(), t.Shape())
				return nil
			},
			empty: func(path []string, kind ops.ValueKind) error {
				if kind == ops.KindOptional {
					fmt.Fprintf(&index, "-\t%s\t%s\tnone\n", label(path), t.Type())
					return nil
				}
				folder := filepath.Join(append([]string{base}, path...)...)
				fmt.Fprintf(&index, "%s/\t%s\t%s\tempty\n", filepath.ToSlash(folder), label(path), t.Type())
				return os.MkdirAll(filepath.Join(dir, folder), 0o755)
			},
		})
		if err != nil {
			fmt.Fprintf(e.stderr, "onnxrun: --dump-intermediate: value %q not written: %v\n", name, err)
			return
		}
		count++
	})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.tsv"), []byte(index.String()), 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(e.stderr, "wrote %d node outputs to %s (listed in %s)\n", count, dir, filepath.Join(dir, "index.tsv"))
	return outs, nil
}

// shapeFlagHelp is the help of --shape, the same on every command that takes a model.
const shapeFlagHelp = "pin an input's shape at compile time, NAME=D0,D1,... (repeatable): its symbolic dimensions take these sizes"

// parsePins reads the --shape settings into the pins of runtime.Options.InputShapes.
func parsePins(cmd *command, settings []string) (map[string]ops.Shape, error) {
	pins, err := bench.ParseShapes(settings)
	if err != nil {
		return nil, flagError(cmd, "--shape", err)
	}
	return pins, nil
}
