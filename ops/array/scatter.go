package array

import "github.com/onnxrun/onnxrun/ops"

// Scatter, ScatterElements and ScatterND copy data and then write updates at the places the indices name,
// optionally combining them with what is there (reduction add, mul, max, min). Indices are checked as they
// are read.
//
// Scatter (deprecated): https://onnx.ai/onnx/operators/onnx__Scatter.html — opsets 9, 11.
// ScatterElements: https://onnx.ai/onnx/operators/onnx__ScatterElements.html — opsets 11, 13, 16, 18.
// ScatterND: https://onnx.ai/onnx/operators/onnx__ScatterND.html — opsets 11, 13, 16, 18.
func init() {
	ops.Register("", "Scatter",
		ops.Since(9, buildScatterElements(nil)),
		// Opset 11 deprecates Scatter in favour of ScatterElements, which it equals; it stays runnable.
		ops.Since(11, buildScatterElements(nil)),
	)
	ops.Register("", "ScatterElements",
		ops.Since(11, buildScatterElements(nil)),
		ops.Since(13, buildScatterElements(nil)),                                          // opset 13: bfloat16
		ops.Since(16, buildScatterElements([]string{"none", "add", "mul"})),               // opset 16: reduction attribute
		ops.Since(18, buildScatterElements([]string{"none", "add", "mul", "max", "min"})), // opset 18: max, min
	)
	ops.Register("", "ScatterND",
		ops.Since(11, buildScatterND(nil)),
		ops.Since(13, buildScatterND(nil)),                                          // opset 13: bfloat16
		ops.Since(16, buildScatterND([]string{"none", "add", "mul"})),               // opset 16: reduction attribute
		ops.Since(18, buildScatterND([]string{"none", "add", "mul", "max", "min"})), // opset 18: max, min
	)
}

func readReduction(n ops.NodeInfo, allowed []string) (reduction, error) {
	if allowed == nil {
		return reduceNone, nil
	}
	r := ops.NewAttrReader(n.Attrs)
	red, err := parseReduction(r, allowed...)
	if err != nil {
		return 0, err
	}
	return red, r.Err()
}

// scatterKernel copies data (input 0) to the output, then scatters updates (input 2) by indices (input 1).
type scatterKernel struct {
	loc locator
	run scatterFunc
}

func (k *scatterKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	ops.CopyData(out[0], in[0])
	return k.run(k.loc, out[0].Data(), in[2].Data(), indexListOf(in[1]))
}

// checkScatterInputs checks what all three scatters share.
func checkScatterInputs(in []ops.ValueInfo) error {
	if err := ops.CheckInputCount(in, 3, 3); err != nil {
		return err
	}
	if err := checkIndices(in[1], "indices"); err != nil {
		return err
	}
	if in[2].DType != in[0].DType {
		return ops.Invalidf("updates have dtype %s, data %s", in[2].DType, in[0].DType)
	}
	return nil
}

type scatterElementsOp struct {
	axis      int64
	reduction reduction
}

func buildScatterElements(reductions []string) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		red, err := readReduction(n, reductions)
		if err != nil {
			return nil, err
		}
		r := ops.NewAttrReader(n.Attrs)
		o := &scatterElementsOp{axis: r.Int("axis", 0), reduction: red}
		return o, r.Err()
	}
}

func (o *scatterElementsOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := checkScatterInputs(in); err != nil {
		return nil, err
	}
	if _, err := elementsShapes(in[0].Shape, in[1].Shape, o.axis); err != nil {
		return nil, err
	}
	if !in[2].Shape.Equal(in[1].Shape) {
		return nil, ops.Invalidf("updates have shape %v, indices %v: they must be equal", in[2].Shape, in[1].Shape)
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape.Clone()}}, nil
}

func (o *scatterElementsOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	axis, err := elementsShapes(in[0].Shape, in[1].Shape, o.axis)
	if err != nil {
		return nil, err
	}
	run, err := scatterFuncFor(in[0].DType, o.reduction)
	if err != nil {
		return nil, err
	}
	return &scatterKernel{loc: newElementsLoc(in[0].Shape, in[1].Shape, axis), run: run}, nil
}

type scatterNDOp struct{ reduction reduction }

func buildScatterND(reductions []string) ops.Builder {
	return func(n ops.NodeInfo) (ops.Op, error) {
		red, err := readReduction(n, reductions)
		if err != nil {
			return nil, err
		}
		return &scatterNDOp{reduction: red}, nil
	}
}

func (o *scatterNDOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := checkScatterInputs(in); err != nil {
		return nil, err
	}
	_, want, err := newNDLoc(in[0].Shape, in[1].Shape, 0)
	if err != nil {
		return nil, err
	}
	if !in[2].Shape.Equal(want) {
		return nil, ops.Invalidf("updates have shape %v, want indices.shape[:-1] ++ data.shape[k:] = %v", in[2].Shape, want)
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape.Clone()}}, nil
}

func (o *scatterNDOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	loc, _, err := newNDLoc(in[0].Shape, in[1].Shape, 0)
	if err != nil {
		return nil, err
	}
	run, err := scatterFuncFor(in[0].DType, o.reduction)
	if err != nil {
		return nil, err
	}
	return &scatterKernel{loc: loc, run: run}, nil
}
