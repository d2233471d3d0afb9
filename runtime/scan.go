package runtime

import (
	"context"
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// scanOp is Scan (https://onnx.ai/onnx/operators/onnx__Scan.html): the body runs once per position along
// each scan input's axis, taking the state values and one slice of every scan input, and returning the
// new state and one slice of every scan output, which are stacked along their axis.
//
// Scan-8 has a leading batch axis on every input and output that the body does not see, time on axis 1 of
// the scan inputs and outputs, and an optional sequence_lens input (one length per batch entry; scan
// outputs are zero past it). Scan-9 dropped the batch axis and sequence_lens and added scan_input_axes,
// scan_output_axes and scan_output_directions; both have per-input directions (Scan-8 calls them
// "directions"). A reversed scan input is read from its last slice (of its sequence length) back; a
// reversed scan output is written from its last slice back.
type scanOp struct {
	body    *body
	label   string
	batched bool // Scan-8: batch axis and sequence_lens
	states  int  // N
	scans   int  // M, num_scan_inputs
	outputs int  // K scan outputs
	// first is the index of the first state input: 1 for Scan-8 (after sequence_lens), else 0.
	first      int
	inAxes     []int64
	inReverse  []bool
	outAxes    []int64
	outReverse []bool
}

func buildScan8(n ops.NodeInfo) (ops.Op, error) { return newScan(n, true) }
func buildScan(n ops.NodeInfo) (ops.Op, error)  { return newScan(n, false) }

func newScan(n ops.NodeInfo, batched bool) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	m := int(r.Int("num_scan_inputs", 0))
	dirName := "scan_input_directions"
	if batched {
		dirName = "directions"
	}
	inDirs := r.Ints(dirName, nil)
	inAxes := r.Ints("scan_input_axes", nil)
	outAxes := r.Ints("scan_output_axes", nil)
	outDirs := r.Ints("scan_output_directions", nil)
	if err := r.Err(); err != nil {
		return nil, err
	}
	b, err := newBody(n, "body")
	if err != nil {
		return nil, err
	}
	o := &scanOp{body: b, batched: batched, scans: m}
	if batched {
		o.first = 1
	}
	k := explicitInputs(n)
	o.states = k - o.first - m
	o.outputs = n.NumOutputs - o.states
	switch {
	case m < 1:
		return nil, ops.Invalidf("num_scan_inputs is %d, must be at least 1", m)
	case o.states < 0:
		return nil, ops.Invalidf("num_scan_inputs is %d but the node has %d inputs", m, k)
	case o.outputs < 0:
		return nil, ops.Invalidf("the node has %d state inputs but %d outputs", o.states, n.NumOutputs)
	case b.formal != o.states+m:
		return nil, ops.Invalidf("the body takes %d inputs, must take %d (states, then one slice of each scan input)", b.formal, o.states+m)
	case len(b.graph.Outputs) != n.NumOutputs:
		return nil, ops.Invalidf("the body returns %d outputs, the node has %d", len(b.graph.Outputs), n.NumOutputs)
	}
	readDirs := func(dirs []int64, count int, what string) ([]bool, error) {
		rev := make([]bool, count)
		if dirs == nil {
			return rev, nil
		}
		if len(dirs) != count {
			return nil, ops.Invalidf("%s has %d entries, must have %d", what, len(dirs), count)
		}
		for i, d := range dirs {
			if d != 0 && d != 1 {
				return nil, ops.Invalidf("%s[%d] is %d, must be 0 (forward) or 1 (reverse)", what, i, d)
			}
			rev[i] = d == 1
		}
		return rev, nil
	}
	if o.inReverse, err = readDirs(inDirs, m, dirName); err != nil {
		return nil, err
	}
	if o.outReverse, err = readDirs(outDirs, o.outputs, "scan_output_directions"); err != nil {
		return nil, err
	}
	o.inAxes, o.outAxes = make([]int64, m), make([]int64, o.outputs)
	if inAxes != nil {
		if len(inAxes) != m {
			return nil, ops.Invalidf("scan_input_axes has %d entries, must have %d", len(inAxes), m)
		}
		copy(o.inAxes, inAxes)
	}
	if outAxes != nil {
		if len(outAxes) != o.outputs {
			return nil, ops.Invalidf("scan_output_axes has %d entries, must have %d", len(outAxes), o.outputs)
		}
		copy(o.outAxes, outAxes)
	}
	if batched {
		for i := range o.inAxes {
			o.inAxes[i] = 0 // time is axis 0 of what is left once the batch axis is taken off
		}
	}
	return o, nil
}

func (o *scanOp) compileBodies(label string, opts Options, opsets map[string]int) error {
	o.label = label
	return o.body.compile(opts, opsets)
}

// scanGeometry is how the node's tensors are cut: batches (1 unless Scan-8), the sequence length, and
// for each scan input its axis in the per-batch shape.
type scanGeometry struct {
	batches  int
	length   int
	inAxes   []int
	elements []ops.Shape // each scan input's slice shape
	states   []ops.Shape // per-batch state shapes
}

// perBatch drops the batch axis of a Scan-8 shape.
func (o *scanOp) perBatch(s ops.Shape) ops.Shape {
	if o.batched {
		return s[1:]
	}
	return s
}

func (o *scanOp) geometry(in []ops.ValueInfo) (*scanGeometry, error) {
	g := &scanGeometry{batches: 1, length: -1}
	if o.batched {
		g.batches = -1
		for i := o.first; i < o.first+o.states+o.scans; i++ {
			if len(in[i].Shape) < 1 {
				return nil, ops.Invalidf("input %d is a scalar; Scan-8 inputs have a batch axis", i)
			}
			if g.batches >= 0 && in[i].Shape[0] != g.batches {
				return nil, ops.Invalidf("input %d has batch size %d, an earlier input %d", i, in[i].Shape[0], g.batches)
			}
			g.batches = in[i].Shape[0]
		}
		if sl := in[0]; sl.Present() {
			if sl.DType != ops.Int64 || !sl.Shape.Equal(ops.Shape{g.batches}) {
				return nil, ops.Invalidf("sequence_lens must be int64[%d], got %s%v", g.batches, sl.DType, sl.Shape)
			}
		}
	}
	for i := 0; i < o.states; i++ {
		v := in[o.first+i]
		if !v.Present() {
			return nil, ops.Invalidf("state input %d is absent", i)
		}
		g.states = append(g.states, o.perBatch(v.Shape))
	}
	for j := 0; j < o.scans; j++ {
		v := in[o.first+o.states+j]
		s := o.perBatch(v.Shape)
		axis, err := ops.NormalizeAxis(int(o.inAxes[j]), len(s))
		if err != nil {
			return nil, ops.Invalidf("scan input %d (shape %v): scan_input_axes: %v", j, v.Shape, err)
		}
		if g.length >= 0 && s[axis] != g.length {
			return nil, ops.Invalidf("scan input %d has %d slices along axis %d, scan input 0 has %d", j, s[axis], axis, g.length)
		}
		g.length = s[axis]
		g.inAxes = append(g.inAxes, axis)
		elem := append(append(ops.Shape{}, s[:axis]...), s[axis+1:]...)
		g.elements = append(g.elements, elem)
	}
	return g, nil
}

func (o *scanOp) bodyInputs(in []ops.ValueInfo, g *scanGeometry) []ops.ValueInfo {
	formal := make([]ops.ValueInfo, 0, o.states+o.scans)
	for i := 0; i < o.states; i++ {
		formal = append(formal, ops.ValueInfo{DType: in[o.first+i].DType, Shape: g.states[i]})
	}
	for j := 0; j < o.scans; j++ {
		formal = append(formal, ops.ValueInfo{DType: in[o.first+o.states+j].DType, Shape: g.elements[j]})
	}
	return o.body.inputInfos(formal, in)
}

// outputShape is scan output k's shape for slices of shape elem: the sequence axis inserted at its
// scan_output_axes position (after the batch axis for Scan-8).
func (o *scanOp) outputShape(k int, elem ops.Shape, g *scanGeometry) (ops.Shape, int, error) {
	axis, err := ops.NormalizeAxis(int(o.outAxes[k]), len(elem)+1)
	if o.batched {
		axis, err = 0, nil
	}
	if err != nil {
		return nil, 0, ops.Invalidf("scan output %d (slices %v): scan_output_axes: %v", k, elem, err)
	}
	s := append(append(append(ops.Shape{}, elem[:axis]...), g.length), elem[axis:]...)
	if o.batched {
		s = append(ops.Shape{g.batches}, s...)
	}
	return s, axis, nil
}

func (o *scanOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	g, err := o.geometry(in)
	if err != nil {
		return nil, err
	}
	bodyOut, err := o.body.infer(o.bodyInputs(in, g))
	if err != nil {
		return nil, err
	}
	outs := make([]ops.ValueInfo, 0, o.states+o.outputs)
	for i, v := range bodyOut {
		if v.Kind() != ops.KindTensor {
			return nil, ops.Invalidf("body output %d is a %s; Scan's states and scan outputs are tensors", i, *v.Type)
		}
	}
	for i := 0; i < o.states; i++ {
		v := bodyOut[i]
		if v.DType != in[o.first+i].DType || !v.Shape.Equal(g.states[i]) {
			return nil, ops.Invalidf("state %d enters the body as %s%v and leaves it as %s%v", i, in[o.first+i].DType, g.states[i], v.DType, v.Shape)
		}
		outs = append(outs, ops.ValueInfo{DType: v.DType, Shape: in[o.first+i].Shape})
	}
	for k := 0; k < o.outputs; k++ {
		v := bodyOut[o.states+k]
		s, _, err := o.outputShape(k, v.Shape, g)
		if err != nil {
			return nil, err
		}
		outs = append(outs, ops.ValueInfo{DType: v.DType, Shape: s})
	}
	return outs, nil
}

func (o *scanOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	g, err := o.geometry(in)
	if err != nil {
		return nil, err
	}
	infos := o.bodyInputs(in, g)
	spec, err := o.body.prepare(infos)
	if err != nil {
		return nil, err
	}
	return &scanKernel{op: o, geom: g, spec: spec, infos: infos}, nil
}

type scanKernel struct {
	op    *scanOp
	geom  *scanGeometry
	spec  *specialization
	infos []ops.ValueInfo
}

func (k *scanKernel) forSession() ops.Kernel { return k.op.newInstance(k.geom, k.spec, k.infos) }

func (k *scanKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	return k.forSession().Run(ctx, in, out)
}

// scanInstance is a Scan's state in one session: the body's runner, the state buffers (two sets) and one
// tensor per scan input that receives its slice.
type scanInstance struct {
	op          *scanOp
	geom        *scanGeometry
	runner      *bodyRunner
	carry, next []*ops.Tensor
	slices      []*ops.Tensor
	zeros       []*ops.Tensor // per scan output, a zero slice for Scan-8's padding past a sequence length
}

func (o *scanOp) newInstance(g *scanGeometry, spec *specialization, infos []ops.ValueInfo) *scanInstance {
	si := &scanInstance{op: o, geom: g, runner: newBodyRunner(o.body, spec, infos),
		carry: make([]*ops.Tensor, o.states), next: make([]*ops.Tensor, o.states),
		slices: make([]*ops.Tensor, o.scans), zeros: make([]*ops.Tensor, o.outputs)}
	for j := range si.slices {
		si.slices[j] = ops.New(infos[o.states+j].DType, g.elements[j])
		si.runner.in[o.states+j] = si.slices[j]
	}
	return si
}

// Run scans into the node's outputs; an output that is nil (the dynamic path) is allocated once its
// shape is known.
func (si *scanInstance) Run(exec *ops.ExecContext, in, out []*ops.Tensor) error {
	o, g, r := si.op, si.geom, si.runner
	ctx := exec.Context
	done := ctx.Done()
	r.start(exec, in, o.label)
	for i := 0; i < o.states; i++ {
		if out[i] == nil {
			out[i] = ops.New(in[o.first+i].DType(), in[o.first+i].Shape())
		}
	}
	for b := 0; b < g.batches; b++ {
		seqLen := g.length
		if o.batched && in[0] != nil {
			n := in[0].Int64s()[b]
			if n < 0 || n > int64(g.length) {
				return fmt.Errorf("%w: sequence_lens[%d] is %d, outside [0, %d]", ErrBadInput, b, n, g.length)
			}
			seqLen = int(n)
		}
		for i := 0; i < o.states; i++ {
			src := in[o.first+i]
			size := g.states[i].Size()
			if si.carry[i] == nil {
				si.carry[i] = ops.New(src.DType(), g.states[i])
			}
			ops.CopyElements(si.carry[i], 0, src, b*size, size)
			r.in[i] = si.carry[i]
		}
		for t := 0; t < seqLen; t++ {
			if done != nil {
				select {
				case <-done:
					return ctx.Err()
				default:
				}
			}
			for j := 0; j < o.scans; j++ {
				pos := t
				if o.inReverse[j] {
					pos = seqLen - 1 - t
				}
				src := in[o.first+o.states+j]
				copySlice(si.slices[j], src, b*src.Len()/g.batches, o.perBatch(src.Shape()), g.inAxes[j], pos)
			}
			outs, err := r.run(ctx)
			if err != nil {
				return fmt.Errorf("iteration %d: %w", t, err)
			}
			for i, v := range outs {
				if v.Kind() != ops.KindTensor {
					return ops.Invalidf("iteration %d: body output %d is a %s; Scan's states and scan outputs are tensors", t, i, v.Type())
				}
			}
			for i := 0; i < o.states; i++ {
				if !outs[i].Shape().Equal(g.states[i]) || outs[i].DType() != si.carry[i].DType() {
					return ops.Invalidf("iteration %d: state %d leaves the body as %s%v, entered as %s%v", t, i, outs[i].DType(), outs[i].Shape(), si.carry[i].DType(), g.states[i])
				}
				ops.CopyData(sizedLike(&si.next[i], outs[i]), outs[i])
			}
			si.carry, si.next = si.next, si.carry
			for i := 0; i < o.states; i++ {
				r.in[i] = si.carry[i]
			}
			for k := 0; k < o.outputs; k++ {
				pos := t
				if o.outReverse[k] {
					pos = seqLen - 1 - t
				}
				if err := si.writeSlice(out, k, b, pos, outs[o.states+k]); err != nil {
					return fmt.Errorf("iteration %d: %w", t, err)
				}
			}
		}
		for k := 0; k < o.outputs && seqLen < g.length; k++ {
			if out[o.states+k] == nil {
				if err := si.allocOutput(out, k); err != nil {
					return err
				}
			}
			z := si.zeroSlice(k, out[o.states+k])
			for t := seqLen; t < g.length; t++ {
				if err := si.writeSlice(out, k, b, t, z); err != nil {
					return err
				}
			}
		}
		for i := 0; i < o.states; i++ {
			ops.CopyElements(out[i], b*g.states[i].Size(), si.carry[i], 0, g.states[i].Size())
		}
	}
	for k := 0; k < o.outputs; k++ {
		if out[o.states+k] == nil { // no iteration ran: the slices' shape is what the body would give
			if err := si.allocOutput(out, k); err != nil {
				return err
			}
		}
	}
	r.flush()
	return nil
}

// allocOutput makes scan output k from the body's planned slice shape (for a scan of length 0, or padding).
func (si *scanInstance) allocOutput(out []*ops.Tensor, k int) error {
	o := si.op
	bodyOut, err := o.body.infer(si.runner.preparedInfos())
	if err != nil {
		return err
	}
	v := bodyOut[o.states+k]
	s, _, err := o.outputShape(k, v.Shape, si.geom)
	if err != nil {
		return err
	}
	out[o.states+k] = ops.New(v.DType, s)
	return nil
}

func (si *scanInstance) zeroSlice(k int, out *ops.Tensor) *ops.Tensor {
	elem := out.Shape()[2:] // Scan-8 outputs are [batch, time, slice...]
	if z := si.zeros[k]; z == nil || z.DType() != out.DType() || !z.Shape().Equal(elem) {
		si.zeros[k] = ops.New(out.DType(), elem)
	}
	return si.zeros[k]
}

// writeSlice writes one slice of scan output k at position pos of batch b.
func (si *scanInstance) writeSlice(out []*ops.Tensor, k, b, pos int, v *ops.Tensor) error {
	o, g := si.op, si.geom
	dst := out[o.states+k]
	if dst == nil {
		want, _, err := o.outputShape(k, v.Shape(), g)
		if err != nil {
			return err
		}
		dst = ops.New(v.DType(), want)
		out[o.states+k] = dst
	}
	axis := 0
	if !o.batched {
		axis = int(o.outAxes[k])
		if axis < 0 {
			axis += v.Rank() + 1
		}
	}
	if dst.DType() != v.DType() || dst.Len() != g.batches*g.length*v.Len() || axis < 0 || axis > v.Rank() {
		return ops.Invalidf("scan output %d: a slice of %s%v does not fit the output %s%v", k, v.DType(), v.Shape(), dst.DType(), dst.Shape())
	}
	elem := v.Shape()
	outer, inner := elem[:axis].Size(), elem[axis:].Size()
	base := b * dst.Len() / g.batches
	for i := 0; i < outer; i++ {
		ops.CopyElements(dst, base+(i*g.length+pos)*inner, v, i*inner, inner)
	}
	return nil
}

// copySlice copies the slice at position pos along axis of src (shape s, from element base) into dst.
func copySlice(dst, src *ops.Tensor, base int, s ops.Shape, axis, pos int) {
	outer, length, inner := s[:axis].Size(), s[axis], s[axis+1:].Size()
	for i := 0; i < outer; i++ {
		ops.CopyElements(dst, i*inner, src, base+(i*length+pos)*inner, inner)
	}
}

// preparedInfos describes the body inputs the runner was prepared for.
func (r *bodyRunner) preparedInfos() []ops.ValueInfo {
	infos := make([]ops.ValueInfo, len(r.in))
	for i, t := range r.in {
		if t != nil {
			infos[i] = describeValue(t, r.consts[i])
		}
	}
	return infos
}

func (o *scanOp) evaluate(ctx context.Context, in []ops.ValueInfo, numOutputs int) ([]*ops.Tensor, error) {
	g, err := o.geometry(in)
	if err != nil {
		return nil, err
	}
	si := o.newInstance(g, nil, o.bodyInputs(in, g))
	exec := ops.SerialContext()
	exec.Context = ctx
	out := make([]*ops.Tensor, numOutputs)
	if err := si.Run(exec, constInputs(in), out); err != nil {
		return nil, err
	}
	return out, nil
}
