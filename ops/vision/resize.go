package vision

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// Resize resamples a tensor along any of its axes with nearest, (multi)linear or (multi)cubic interpolation.
// https://onnx.ai/onnx/operators/onnx__Resize.html — opsets 10, 11, 13, 18, 19.
//
// Upsample, its deprecated predecessor, shares the implementation (upsample.go).
func init() {
	ops.Register("", "Resize",
		// opset 10: inputs X and scales; nearest or linear, always asymmetric coordinates.
		ops.Since(10, buildResize(formResize10)),
		// opset 11: roi and sizes inputs, cubic mode, coordinate_transformation_mode, nearest_mode,
		// cubic_coeff_a, exclude_outside, extrapolation_value; scales stays a required input (empty when sizes
		// is used).
		ops.Since(11, buildResize(formResize11)),
		// opset 13: roi and scales become optional, tf_half_pixel_for_nn is gone, bfloat16.
		ops.Since(13, buildResize(formResize13)),
		// opset 18: axes, keep_aspect_ratio_policy and antialias attributes.
		ops.Since(18, buildResize(formResize18)),
		// opset 19: half_pixel_symmetric coordinate transformation.
		ops.Since(19, buildResize(formResize19)),
	)
}

// resizeForm is how one opset version of Resize or Upsample takes its arguments.
type resizeForm int

const (
	formUpsample7 resizeForm = iota // Upsample: scales attribute
	formUpsample9                   // Upsample: scales input 1
	formResize10                    // X, scales
	formResize11                    // X, roi, scales, [sizes]
	formResize13                    // X, [roi], [scales], [sizes]
	formResize18                    // + axes, keep_aspect_ratio_policy, antialias
	formResize19                    // + half_pixel_symmetric
)

// aspectPolicy is keep_aspect_ratio_policy (opset 18): how sizes is read.
type aspectPolicy int

const (
	aspectStretch aspectPolicy = iota
	aspectNotLarger
	aspectNotSmaller
)

var aspectPolicies = map[string]aspectPolicy{"stretch": aspectStretch, "not_larger": aspectNotLarger, "not_smaller": aspectNotSmaller}

type resizeOp struct {
	form          resizeForm
	opType        string
	s             sampling
	extrapolation float64
	axes          []int64 // the axes attribute (opset 18), nil when absent
	policy        aspectPolicy
	attrScales    []float64 // Upsample-7's scales attribute
}

func buildResize(form resizeForm) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &resizeOp{form: form, opType: n.OpType}
		modeName := r.String("mode", "nearest")
		mode, ok := interpModes[modeName]
		if !ok || (mode == modeCubic && form < formResize11) {
			allowed := "nearest, linear or cubic"
			if form < formResize11 {
				allowed = "nearest or linear"
			}
			return nil, &ops.AttrError{Name: "mode", Msg: fmt.Sprintf("is %s, want %s", quote(modeName), allowed)}
		}
		o.s = sampling{mode: mode, coord: coordAsymmetric, nearest: nearestLegacy, cubicA: -0.75}
		if form >= formResize11 {
			coordName := r.String("coordinate_transformation_mode", "half_pixel")
			coord, ok := coordModes[coordName]
			switch {
			case !ok,
				coord == coordTFHalfPixelForNN && form >= formResize13,  // removed in opset 13
				coord == coordHalfPixelSymmetric && form < formResize19: // added in opset 19
				return nil, &ops.AttrError{Name: "coordinate_transformation_mode",
					Msg: fmt.Sprintf("is %s, not a mode opset %d defines", quote(coordName), n.Opset)}
			}
			o.s.coord = coord
			nearestName := r.String("nearest_mode", "round_prefer_floor")
			if o.s.nearest, ok = nearestModes[nearestName]; !ok {
				return nil, &ops.AttrError{Name: "nearest_mode",
					Msg: fmt.Sprintf("is %s, want round_prefer_floor, round_prefer_ceil, floor or ceil", quote(nearestName))}
			}
			o.s.cubicA = float64(r.Float("cubic_coeff_a", -0.75))
			ex := r.Int("exclude_outside", 0)
			if ex != 0 && ex != 1 {
				return nil, &ops.AttrError{Name: "exclude_outside", Msg: fmt.Sprintf("is %d, want 0 or 1", ex)}
			}
			o.s.excludeOutside = ex == 1
			o.extrapolation = float64(r.Float("extrapolation_value", 0))
		}
		if form >= formResize18 {
			aa := r.Int("antialias", 0)
			if aa != 0 && aa != 1 {
				return nil, &ops.AttrError{Name: "antialias", Msg: fmt.Sprintf("is %d, want 0 or 1", aa)}
			}
			o.s.antialias = aa == 1
			if r.Has("axes") {
				o.axes = r.Ints("axes", nil)
				if o.axes == nil {
					o.axes = []int64{}
				}
			}
			policyName := r.String("keep_aspect_ratio_policy", "stretch")
			if o.policy, ok = aspectPolicies[policyName]; !ok {
				return nil, &ops.AttrError{Name: "keep_aspect_ratio_policy",
					Msg: fmt.Sprintf("is %s, want stretch, not_larger or not_smaller", quote(policyName))}
			}
		}
		if form == formUpsample7 {
			if !r.Has("scales") {
				return nil, &ops.AttrError{Name: "scales", Msg: "is required before opset 9"}
			}
			for _, v := range r.Floats("scales", nil) {
				o.attrScales = append(o.attrScales, float64(v))
			}
		}
		return o, r.Err()
	}
}

// scalesInput is the index of the scales input.
func (o *resizeOp) scalesInput() int {
	if o.form <= formResize10 {
		return 1
	}
	return 2
}

// ShapeInputs lists the inputs whose values shape the output: scales and sizes, and roi when
// tf_crop_and_resize makes the sampling positions depend on it.
func (o *resizeOp) ShapeInputs() []int {
	switch {
	case o.form == formUpsample7:
		return nil
	case o.form <= formResize10:
		return []int{1}
	case o.s.coord == coordTFCropAndResize:
		return []int{1, 2, 3}
	}
	return []int{2, 3}
}

// geometry resolves the per-axis lengths, scales and roi from the attributes and the constant inputs.
func (o *resizeOp) geometry(in []ops.ValueInfo) ([]axisGeom, error) {
	var err error
	switch {
	case o.form == formUpsample7:
		err = ops.CheckInputCount(in, 1, 1)
	case o.form <= formResize10:
		err = ops.CheckInputCount(in, 2, 2)
	case o.form == formResize11:
		// roi is a required input too, but it only matters to tf_crop_and_resize, which checks for it.
		if err = ops.CheckInputCount(in, 1, 4); err == nil && !ops.Input(in, 2).Present() {
			err = ops.Invalidf("input 2 (scales) is required at opset 11; pass an empty tensor when using sizes")
		}
	default:
		err = ops.CheckInputCount(in, 1, 4)
	}
	if err != nil {
		return nil, err
	}
	shape := in[0].Shape
	rank := len(shape)
	if rank == 0 {
		return nil, ops.Invalidf("X is a scalar; %s needs at least one axis", o.opType)
	}
	axes := make([]int, rank)
	for i := range axes {
		axes[i] = i
	}
	axesNote := fmt.Sprintf("the rank of X %v", shape)
	if o.axes != nil {
		if axes, err = ops.NormalizeAxes(o.axes, rank, "axes"); err != nil {
			return nil, err
		}
		axesNote = fmt.Sprintf("the length of axes %v", o.axes)
	}
	geom := make([]axisGeom, rank)
	for d, n := range shape {
		geom[d] = axisGeom{in: n, out: n, scale: 1, outF: float64(n), roiStart: 0, roiEnd: 1}
	}

	var scales []float64
	var sizes []int64
	switch {
	case o.form == formUpsample7:
		scales = o.attrScales
	case o.form <= formResize10:
		if scales, err = ops.ConstFloats(in[1], "scales"); err != nil {
			return nil, err
		}
	default:
		sv, zv := ops.Input(in, 2), ops.Input(in, 3)
		// An empty scales tensor stands for an absent one: opsets 11 and 12 require the input, so models
		// that give sizes pass an empty scales.
		haveScales := sv.Present() && sv.Shape.Size() > 0
		haveSizes := zv.Present() && zv.Shape.Size() > 0
		switch {
		case haveScales && haveSizes:
			return nil, ops.Invalidf("both scales %v and sizes %v are given; give only one", sv.Shape, zv.Shape)
		case !haveScales && !haveSizes:
			return nil, ops.Invalidf("neither scales nor sizes is given (or both are empty); give one")
		case haveScales:
			if scales, err = ops.ConstFloats(sv, "scales"); err != nil {
				return nil, err
			}
		default:
			if sizes, err = ops.ConstInts(zv, "sizes"); err != nil {
				return nil, err
			}
		}
	}

	if o.s.coord == coordTFCropAndResize {
		rv := ops.Input(in, 1)
		if !rv.Present() || rv.Shape.Size() == 0 {
			return nil, ops.Invalidf("coordinate_transformation_mode tf_crop_and_resize needs the roi input")
		}
		roi, err := ops.ConstFloats(rv, "roi")
		if err != nil {
			return nil, err
		}
		if len(roi) != 2*len(axes) {
			return nil, ops.Invalidf("roi has %d entries, want 2×%d (%s)", len(roi), len(axes), axesNote)
		}
		for i, d := range axes {
			geom[d].roiStart, geom[d].roiEnd = roi[i], roi[len(axes)+i]
			if !isFinite(roi[i]) || !isFinite(roi[len(axes)+i]) {
				return nil, ops.Invalidf("roi %v is not finite", roi)
			}
		}
	}

	minScale := 0.0 // scales must be > 0
	if o.form <= formUpsample9 {
		minScale = 1 // Upsample only grows
	}
	if scales != nil {
		if len(scales) != len(axes) {
			return nil, ops.Invalidf("scales has %d entries, want %d (%s)", len(scales), len(axes), axesNote)
		}
		for i, d := range axes {
			s := scales[i]
			if !isFinite(s) || s < minScale || s == 0 {
				if minScale == 1 {
					return nil, ops.Invalidf("scales[%d] = %g, want >= 1 (%s only upsamples)", i, s, o.opType)
				}
				return nil, ops.Invalidf("scales[%d] = %g, want > 0", i, s)
			}
			g := &geom[d]
			g.scale, g.outF = s, s*float64(g.in)
			if g.outF >= 1<<40 {
				return nil, ops.Invalidf("scales[%d] = %g makes axis %d of length %d too long", i, s, d, g.in)
			}
			g.out = int(math.Floor(g.outF))
		}
		return geom, nil
	}

	if len(sizes) != len(axes) {
		return nil, ops.Invalidf("sizes has %d entries, want %d (%s)", len(sizes), len(axes), axesNote)
	}
	for i, d := range axes {
		if sizes[i] < 0 || sizes[i] >= 1<<40 {
			return nil, ops.Invalidf("sizes[%d] = %d is not a valid length", i, sizes[i])
		}
		if geom[d].in == 0 && sizes[i] != 0 {
			return nil, ops.Invalidf("sizes[%d] = %d, but axis %d of X %v is empty and cannot be resized", i, sizes[i], d, shape)
		}
	}
	if o.policy == aspectStretch {
		for i, d := range axes {
			g := &geom[d]
			g.out, g.outF = int(sizes[i]), float64(sizes[i])
			if g.in > 0 {
				g.scale = g.outF / float64(g.in)
			}
		}
		return geom, nil
	}
	// keep_aspect_ratio_policy: one scale for every listed axis, the smallest (not_larger) or the largest
	// (not_smaller) of sizes/input; the lengths round half up.
	scale := 0.0
	for i, d := range axes {
		if geom[d].in == 0 {
			continue
		}
		s := float64(sizes[i]) / float64(geom[d].in)
		if scale == 0 || (o.policy == aspectNotLarger && s < scale) || (o.policy == aspectNotSmaller && s > scale) {
			scale = s
		}
	}
	if scale == 0 {
		return nil, ops.Invalidf("sizes %v with keep_aspect_ratio_policy gives a zero scale for X %v", sizes, shape)
	}
	for _, d := range axes {
		g := &geom[d]
		g.scale, g.outF = scale, scale*float64(g.in)
		g.out = int(g.outF + 0.5)
	}
	return geom, nil
}

func (o *resizeOp) checkDType(dt ops.DType) error {
	if o.s.mode == modeNearest || dt.IsFloat() || dt.IsInteger() {
		return nil
	}
	mode := "linear"
	if o.s.mode == modeCubic {
		mode = "cubic"
	}
	return ops.Unsupportedf("%s %s mode on %s data", o.opType, mode, dt)
}

func (o *resizeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	geom, err := o.geometry(in)
	if err != nil {
		return nil, err
	}
	if err := o.checkDType(in[0].DType); err != nil {
		return nil, err
	}
	out := make(ops.Shape, len(geom))
	for d, g := range geom {
		out[d] = g.out
	}
	if _, err := out.CheckedSize(0); err != nil {
		return nil, ops.Invalidf("output: %v", err)
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

func (o *resizeOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	geom, err := o.geometry(in)
	if err != nil {
		return nil, err
	}
	if err := o.checkDType(in[0].DType); err != nil {
		return nil, err
	}
	return newResampleKernel(&o.s, in[0].DType, in[0].Shape, geom, o.extrapolation)
}
