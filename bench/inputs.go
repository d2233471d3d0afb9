package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// InputShapes resolves the shape of every model input for a benchmark: a shape in overrides (by input
// name) wins; otherwise the declared shape, where a symbolic first dimension becomes batch. A fixed first
// dimension must equal batch (or batch is 1, the default, and the fixed size is used), and any other
// symbolic dimension needs an override, since no size is a safe guess for it. The run and inspect commands
// use it too, so its errors name the inputs and the --batch and --shape flags, not this package.
func InputShapes(specs []runtime.ValueSpec, batch int, overrides map[string]ops.Shape) ([]ops.Shape, error) {
	if batch < 1 {
		return nil, fmt.Errorf("the batch must be 1 or more, got %d", batch)
	}
	for name := range overrides {
		found := false
		for _, s := range specs {
			found = found || s.Name == name
		}
		if !found {
			return nil, fmt.Errorf("a shape is given for %q, but the model has no such input; its inputs are %s", name, specList(specs))
		}
	}
	shapes := make([]ops.Shape, len(specs))
	for i, s := range specs {
		if o, ok := overrides[s.Name]; ok {
			shapes[i] = o.Clone()
			continue
		}
		if !s.HasShape {
			return nil, fmt.Errorf("input %q declares no shape; give one with --shape %s=D0,D1,...", s.Name, s.Name)
		}
		shape := make(ops.Shape, len(s.Dims))
		for j, d := range s.Dims {
			switch {
			case j == 0 && d.Symbolic():
				shape[j] = batch
			case j == 0 && int(d.Value) != batch && batch != 1:
				return nil, fmt.Errorf("input %q has its batch fixed to %d by the model (%s), so it cannot take --batch %d", s.Name, d.Value, s.ShapeString(), batch)
			case d.Symbolic():
				return nil, fmt.Errorf("dimension %d (%s) of input %q %s is symbolic; give its shape with --shape %s=D0,D1,...", j, d, s.Name, s.ShapeString(), s.Name)
			default:
				shape[j] = int(d.Value)
			}
		}
		shapes[i] = shape
	}
	return shapes, nil
}

// RandomInputs makes one tensor per input with the given shapes and the declared dtypes. Floating-point
// inputs get uniform values in [0, 1) from a generator seeded with seed (the same seed gives the same
// inputs), far from subnormals that would slow some kernels; integer and bool inputs are zeros, the one
// value valid for any index input (Gather, Embedding-like ops).
func RandomInputs(specs []runtime.ValueSpec, shapes []ops.Shape, seed uint64) ([]*ops.Tensor, error) {
	if len(shapes) != len(specs) {
		return nil, fmt.Errorf("bench: %d shapes for %d inputs", len(shapes), len(specs))
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]*ops.Tensor, len(specs))
	for i, s := range specs {
		if _, err := shapes[i].CheckedSize(1 << 31); err != nil {
			return nil, fmt.Errorf("bench: input %q: %w", s.Name, err)
		}
		t := ops.New(s.DType, shapes[i])
		switch d := t.Data().(type) {
		case []float32:
			for j := range d {
				d[j] = rng.Float32()
			}
		case []float64:
			for j := range d {
				d[j] = rng.Float64()
			}
		case []ops.Float16Bits:
			for j := range d {
				d[j] = ops.Float16FromFloat32(rng.Float32())
			}
		case []ops.BFloat16Bits:
			for j := range d {
				d[j] = ops.BFloat16FromFloat32(rng.Float32())
			}
		}
		out[i] = t
	}
	return out, nil
}

// ParseShapes reads NAME=D0,D1,... settings (as --shape takes them) into a map. Its errors quote the
// setting and leave naming the flag and the command to the caller.
func ParseShapes(settings []string) (map[string]ops.Shape, error) {
	out := map[string]ops.Shape{}
	for _, s := range settings {
		name, dims, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: want NAME=D0,D1,... (e.g. input=8,3,32,32)", s)
		}
		shape := ops.Shape{}
		if dims != "" {
			for _, f := range strings.Split(dims, ",") {
				d, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || d < 0 {
					return nil, fmt.Errorf("%q: dimension %q is not a size (0 or more)", s, f)
				}
				shape = append(shape, d)
			}
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("the shape of %q is given twice", name)
		}
		out[name] = shape
	}
	return out, nil
}

func specList(specs []runtime.ValueSpec) string {
	parts := make([]string, len(specs))
	for i, s := range specs {
		parts[i] = fmt.Sprintf("%q %s%s", s.Name, s.DType, s.ShapeString())
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
