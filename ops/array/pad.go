package array

import "github.com/onnxrun/onnxrun/ops"

// Pad adds (or, with negative pads, removes) elements at both ends of each axis.
// https://onnx.ai/onnx/operators/onnx__Pad.html — opsets 1, 2, 11, 13, 18, 19, 21, 23, 24, 25.
//
// Modes: constant (a value), reflect (mirror without repeating the edge), edge (repeat the edge) and wrap
// (opset 19: as if the axis were a ring). Negative pads crop first; the positive ones then pad the cropped
// data, as ONNX's reference and ONNX Runtime do.
func init() {
	ops.Register("", "Pad",
		ops.Since(1, buildPad(padAttrPaddings)), // paddings and value attributes
		ops.Since(2, buildPad(padAttrPads)),     // opset 2: paddings renamed pads; negative pads crop
		ops.Since(11, buildPad(padInputs)),      // opset 11: pads and constant_value move to inputs 1 and 2
		ops.Since(13, buildPad(padInputs)),      // opset 13: bfloat16
		ops.Since(18, buildPad(padAxes)),        // opset 18: axes input 3
		ops.Since(19, buildPad(padWrap)),        // opset 19: wrap mode
		ops.Since(21, buildPad(padWrap)),        // opset 21: int4/uint4 (not held by ops.Tensor)
		ops.Since(23, buildPad(padWrap)),        // opset 23: float4e2m1 (not held)
		ops.Since(24, buildPad(padWrap)),        // opset 24: float8e8m0 (not held)
		ops.Since(25, buildPad(padWrap)),        // opset 25: int2/uint2 (not held)
	)
}

// padForm is how one opset version of Pad takes its arguments.
type padForm int

const (
	padAttrPaddings padForm = iota // opset 1
	padAttrPads                    // opset 2
	padInputs                      // opset 11
	padAxes                        // opset 18
	padWrap                        // opset 19
)

type padMode int

const (
	padConstant padMode = iota
	padReflect
	padEdge
	padWrapMode
)

var padModes = map[string]padMode{"constant": padConstant, "reflect": padReflect, "edge": padEdge, "wrap": padWrapMode}

type padOp struct {
	form     padForm
	mode     padMode
	modeName string
	attrPads []int64 // [begin..., end...], before opset 11
	value    float64 // the value attribute, before opset 11
}

func buildPad(form padForm) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		r := ops.NewAttrReader(n.Attrs)
		o := &padOp{form: form, modeName: r.String("mode", "constant")}
		mode, ok := padModes[o.modeName]
		if !ok || (mode == padWrapMode && form < padWrap) {
			return nil, &ops.AttrError{Name: "mode", Msg: "is " + quote(o.modeName) + ", not a mode this opset defines"}
		}
		o.mode = mode
		switch form {
		case padAttrPaddings:
			if !r.Has("paddings") {
				return nil, &ops.AttrError{Name: "paddings", Msg: "is required at opset 1"}
			}
			// Opset 1's text gives paddings the layout opset 2's pads has ([x1_begin, x2_begin, ...,
			// x1_end, ...]); its example reads like per-axis pairs, but the stated format is what we follow.
			o.attrPads = r.Ints("paddings", nil)
			o.value = float64(r.Float("value", 0))
		case padAttrPads:
			if !r.Has("pads") {
				return nil, &ops.AttrError{Name: "pads", Msg: "is required before opset 11"}
			}
			o.attrPads = r.Ints("pads", nil)
			o.value = float64(r.Float("value", 0))
		}
		return o, r.Err()
	}
}

// ShapeInputs reports that pads (input 1) and axes (input 3) must be known to plan.
func (o *padOp) ShapeInputs() []int {
	switch {
	case o.form >= padAxes:
		return []int{1, 3}
	case o.form >= padInputs:
		return []int{1}
	}
	return nil
}

// padAxis is one axis after cropping: the input range [lo, lo+n) is kept and before/after elements added.
type padAxis struct{ lo, n, before, after int }

func (o *padOp) params(in []ops.ValueInfo) ([]padAxis, error) {
	shape := in[0].Shape
	rank := len(shape)
	pads := o.attrPads
	axes := make([]int, rank)
	for i := range axes {
		axes[i] = i
	}
	if o.form >= padInputs {
		var err error
		if pads, err = ops.ConstInts(in[1], "pads"); err != nil {
			return nil, err
		}
		if v := ops.Input(in, 3); v.Present() {
			a, err := ops.ConstInts(v, "axes")
			if err != nil {
				return nil, err
			}
			if axes, err = ops.NormalizeAxes(a, rank, "axes"); err != nil {
				return nil, err
			}
		}
	}
	if len(pads) != 2*len(axes) {
		return nil, ops.Invalidf("pads %v has %d entries, want 2×%d for the padded axes of input shape %v", pads, len(pads), len(axes), shape)
	}
	p := make([]padAxis, rank)
	for i, d := range shape {
		p[i] = padAxis{n: d}
	}
	for i, a := range axes {
		b, e, d := pads[i], pads[len(axes)+i], int64(shape[a])
		lo, hi := max(0, -b), d-max(0, -e)
		if hi-lo < 0 || hi-lo+max(b, 0)+max(e, 0) < 0 {
			return nil, ops.Invalidf("pads %d and %d on axis %d of size %d leave a negative size", b, e, a, d)
		}
		p[a] = padAxis{lo: int(lo), n: int(hi - lo), before: int(max(b, 0)), after: int(max(e, 0))}
		if p[a].n == 0 && (p[a].before > 0 || p[a].after > 0) && o.mode != padConstant {
			return nil, ops.Invalidf("cannot pad axis %d in %s mode: it has no elements left to repeat", a, o.modeName)
		}
	}
	return p, nil
}

func (o *padOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	var err error
	switch o.form {
	case padAttrPaddings, padAttrPads:
		err = ops.CheckInputCount(in, 1, 1)
	case padInputs:
		err = ops.CheckInputCount(in, 2, 3)
	default:
		err = ops.CheckInputCount(in, 2, 4)
	}
	if err != nil {
		return nil, err
	}
	if v := ops.Input(in, 2); v.Present() {
		if v.DType != in[0].DType {
			return nil, ops.Invalidf("constant_value has dtype %s, data has %s", v.DType, in[0].DType)
		}
		if v.Shape.Size() > 1 {
			return nil, ops.Invalidf("constant_value has shape %v, want a scalar", v.Shape)
		}
	}
	p, err := o.params(in)
	if err != nil {
		return nil, err
	}
	out := make(ops.Shape, len(p))
	for i, a := range p {
		out[i] = a.before + a.n + a.after
	}
	if out, err = checkedShape(out); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: out}}, nil
}

type padKernel struct {
	plan      *copyPlan
	run       func(p *copyPlan, dst, src any)
	fill      func(dst, value any) // constant mode with some element to fill, else nil
	attrValue any                  // the fill value before opset 11 (a one-element slice)
}

func (o *padOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	dt := in[0].DType
	p, err := o.params(in)
	if err != nil {
		return nil, err
	}
	k := &padKernel{}
	var ok bool
	if k.run, ok = copyFuncs.of(dt); !ok {
		return nil, unsupportedDType(dt)
	}
	inStrides, outStrides := in[0].Shape.Strides(), out[0].Shape.Strides()
	axes := make([]planAxis, len(p))
	dstOff, srcOff := 0, 0
	padded := false
	for i, a := range p {
		padded = padded || a.before > 0 || a.after > 0
		if o.mode == padConstant {
			// Copy the kept box into its place; the fill covers the rest.
			axes[i] = planAxis{n: a.n, dstStride: outStrides[i], srcStride: inStrides[i]}
			dstOff += a.before * outStrides[i]
			srcOff += a.lo * inStrides[i]
			continue
		}
		table := make([]int, a.before+a.n+a.after)
		for j := range table {
			table[j] = (a.lo + padSource(j-a.before, a.n, o.mode)) * inStrides[i]
		}
		axes[i] = planAxis{n: len(table), dstStride: outStrides[i], table: table}
	}
	k.plan = newCopyPlan(axes, dstOff, srcOff)
	if o.mode == padConstant && padded {
		k.fill, _ = fillFuncs.of(dt)
		if o.form < padInputs {
			if k.attrValue, err = scalarSlice(dt, o.value); err != nil {
				return nil, err
			}
		}
	}
	return k, nil
}

// padSource maps a position p relative to the kept range [0, n) to the element it repeats.
func padSource(p, n int, mode padMode) int {
	if p >= 0 && p < n {
		return p
	}
	switch mode {
	case padEdge:
		return min(max(p, 0), n-1)
	case padWrapMode:
		return ((p % n) + n) % n
	default: // reflect: a ring of period 2(n-1) that does not repeat the edges
		if n == 1 {
			return 0
		}
		period := 2 * (n - 1)
		q := ((p % period) + period) % period
		if q >= n {
			q = period - q
		}
		return q
	}
}

func (k *padKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	dst := out[0].Data()
	if k.fill != nil {
		value := k.attrValue
		if v := ops.TensorAt(in, 2); v != nil {
			value = v.Data()
		}
		k.fill(dst, value)
	}
	k.run(k.plan, dst, in[0].Data())
	return nil
}
