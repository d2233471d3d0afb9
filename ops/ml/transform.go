package ml

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// Scaler writes (x - offset) * scale as floats, offset and scale having one element per feature (the last
// axis) or one for all.
// https://onnx.ai/onnx/operators/onnx_aionnxml_Scaler.html — opset 1.
//
// Normalizer divides each row of X [N, C] (or [C]) by its MAX, its L1 norm (the sum of |x|) or its L2
// norm, as ONNX Runtime and scikit-learn do; a row whose divisor is 0 is copied.
// https://onnx.ai/onnx/operators/onnx_aionnxml_Normalizer.html — opset 1.
//
// Binarizer writes 1 where x > threshold, else 0, in X's type.
// https://onnx.ai/onnx/operators/onnx_aionnxml_Binarizer.html — opset 1.
//
// Imputer replaces the elements equal to replaced_value_float (NaN matches NaN) or replaced_value_int64
// by imputed_value_floats or _int64s, one per feature or one for all.
// https://onnx.ai/onnx/operators/onnx_aionnxml_Imputer.html — opset 1.
//
// ArrayFeatureExtractor gathers the indices Y along X's last axis; a 1-D X gives [1, len(Y)].
// https://onnx.ai/onnx/operators/onnx_aionnxml_ArrayFeatureExtractor.html — opset 1.
//
// FeatureVectorizer concatenates its inputs' rows into floats, input i giving inputdimensions[i] columns
// (cut, or padded with zeros).
// https://onnx.ai/onnx/operators/onnx_aionnxml_FeatureVectorizer.html — opset 1.
func init() {
	ops.Register(Domain, "Scaler", ops.Since(1, buildScaler))
	ops.Register(Domain, "Normalizer", ops.Since(1, buildNormalizer))
	ops.Register(Domain, "Binarizer", ops.Since(1, buildBinarizer))
	ops.Register(Domain, "Imputer", ops.Since(1, buildImputer))
	ops.Register(Domain, "ArrayFeatureExtractor", ops.Since(1, buildArrayFeatureExtractor))
	ops.Register(Domain, "FeatureVectorizer", ops.Since(1, buildFeatureVectorizer))
}

// lastAxis is the length of v's last axis (1 for a scalar).
func lastAxis(v ops.ValueInfo) int {
	if len(v.Shape) == 0 {
		return 1
	}
	return v.Shape[len(v.Shape)-1]
}

// perFeature checks a list that has one element per feature or one for all.
func perFeature(name string, n, features int) error {
	if n != 1 && n != features {
		return &ops.AttrError{Name: name, Msg: fmt.Sprintf("has %d elements, want 1 or %d (one per feature)", n, features)}
	}
	return nil
}

type scalerOp struct{ offset, scale []float32 }

func buildScaler(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &scalerOp{offset: r.Floats("offset", []float32{0}), scale: r.Floats("scale", []float32{1})}
	return op, r.Err()
}

func (op *scalerOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if !numericInputs.Has(in[0].DType) {
		return nil, ops.Invalidf("input X has dtype %s, want one of %s", in[0].DType, numericInputs)
	}
	if err := perFeature("offset", len(op.offset), lastAxis(in[0])); err != nil {
		return nil, err
	}
	if err := perFeature("scale", len(op.scale), lastAxis(in[0])); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: ops.Float32, Shape: in[0].Shape}}, nil
}

func (op *scalerOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return op, nil }

func (op *scalerOp) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	f, y := readFeatures(in[0]), out[0].Float32s()
	c := max(len(op.offset), len(op.scale))
	if s := out[0].Shape(); len(s) > 0 {
		c = s[len(s)-1]
	}
	for i := range y {
		j := i % max(c, 1)
		y[i] = float32((f.at(i) - float64(op.offset[min(j, len(op.offset)-1)])) * float64(op.scale[min(j, len(op.scale)-1)]))
	}
	return nil
}

type normKind uint8

const (
	normMax normKind = iota
	normL1
	normL2
)

type normalizerOp struct{ norm normKind }

func buildNormalizer(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	name := r.String("norm", "MAX")
	if err := r.Err(); err != nil {
		return nil, err
	}
	for i, s := range []string{"MAX", "L1", "L2"} {
		if s == name {
			return &normalizerOp{norm: normKind(i)}, nil
		}
	}
	return nil, &ops.AttrError{Name: "norm", Msg: fmt.Sprintf("is %q, want MAX, L1 or L2", name)}
}

func (op *normalizerOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if _, _, err := featureMatrix(in[0], numericInputs); err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: ops.Float32, Shape: in[0].Shape}}, nil
}

func (op *normalizerOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return op, nil }

func (op *normalizerOp) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	f, y := readFeatures(in[0]), out[0].Float32s()
	c := lastAxis(ops.ValueInfo{Shape: out[0].Shape()})
	for start := 0; start+c <= len(y) && c > 0; start += c {
		div := 0.0
		switch op.norm {
		case normMax:
			div = math.Inf(-1)
			for j := 0; j < c; j++ {
				div = math.Max(div, f.at(start+j))
			}
		case normL1:
			for j := 0; j < c; j++ {
				div += math.Abs(f.at(start + j))
			}
		case normL2:
			for j := 0; j < c; j++ {
				div += f.at(start+j) * f.at(start+j)
			}
			div = math.Sqrt(div)
		}
		if div == 0 {
			div = 1
		}
		for j := 0; j < c; j++ {
			y[start+j] = float32(f.at(start+j) / div)
		}
	}
	return nil
}

type binarizerOp struct{ threshold float32 }

func buildBinarizer(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &binarizerOp{threshold: r.Float("threshold", 0)}
	return op, r.Err()
}

func (op *binarizerOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	if !numericInputs.Has(in[0].DType) {
		return nil, ops.Invalidf("input X has dtype %s, want one of %s", in[0].DType, numericInputs)
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape}}, nil
}

func (op *binarizerOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return op, nil }

func (op *binarizerOp) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	th := float64(op.threshold)
	switch x := in[0].Data().(type) {
	case []float32:
		binarize(out[0].Float32s(), x, th)
	case []float64:
		binarize(out[0].Float64s(), x, th)
	case []int32:
		binarize(out[0].Int32s(), x, th)
	case []int64:
		binarize(out[0].Int64s(), x, th)
	}
	return nil
}

func binarize[T float32 | float64 | int32 | int64](y, x []T, threshold float64) {
	for i, v := range x {
		if float64(v) > threshold {
			y[i] = 1
		} else {
			y[i] = 0
		}
	}
}

type imputerOp struct {
	floats       []float32
	ints         []int64
	replaceFloat float32
	replaceInt   int64
}

func buildImputer(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &imputerOp{floats: r.Floats("imputed_value_floats", nil), ints: r.Ints("imputed_value_int64s", nil),
		replaceFloat: r.Float("replaced_value_float", 0), replaceInt: r.Int("replaced_value_int64", 0)}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if (len(op.floats) == 0) == (len(op.ints) == 0) {
		return nil, &ops.AttrError{Name: "imputed_value_floats", Msg: fmt.Sprintf("has %d elements and imputed_value_int64s %d, want exactly one of them set", len(op.floats), len(op.ints))}
	}
	return op, nil
}

func (op *imputerOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	switch dt := in[0].DType; {
	case (dt == ops.Float32 || dt == ops.Float64) && len(op.floats) > 0:
		if err := perFeature("imputed_value_floats", len(op.floats), lastAxis(in[0])); err != nil {
			return nil, err
		}
	case (dt == ops.Int32 || dt == ops.Int64) && len(op.ints) > 0:
		if err := perFeature("imputed_value_int64s", len(op.ints), lastAxis(in[0])); err != nil {
			return nil, err
		}
	default:
		return nil, ops.Invalidf("input X has dtype %s, which the imputed values set (floats %d, int64s %d) do not fit", dt, len(op.floats), len(op.ints))
	}
	return []ops.ValueInfo{{DType: in[0].DType, Shape: in[0].Shape}}, nil
}

func (op *imputerOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return op, nil }

func (op *imputerOp) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	c := lastAxis(ops.ValueInfo{Shape: in[0].Shape()})
	switch x := in[0].Data().(type) {
	case []float32:
		impute(out[0].Float32s(), x, c, op.floats, func(v float32) bool { return v == op.replaceFloat || (v != v && op.replaceFloat != op.replaceFloat) })
	case []float64:
		r := float64(op.replaceFloat)
		impute(out[0].Float64s(), x, c, op.floats, func(v float64) bool { return v == r || (math.IsNaN(v) && math.IsNaN(r)) })
	case []int32:
		impute(out[0].Int32s(), x, c, op.ints, func(v int32) bool { return int64(v) == op.replaceInt })
	case []int64:
		impute(out[0].Int64s(), x, c, op.ints, func(v int64) bool { return v == op.replaceInt })
	}
	return nil
}

func impute[T, V float32 | float64 | int32 | int64](y, x []T, features int, values []V, replace func(T) bool) {
	for i, v := range x {
		if replace(v) {
			v = T(values[min(i%max(features, 1), len(values)-1)])
		}
		y[i] = v
	}
}

type arrayFeatureExtractorOp struct{}

func buildArrayFeatureExtractor(n ops.NodeInfo) (ops.Op, error) {
	return arrayFeatureExtractorOp{}, nil
}

func (arrayFeatureExtractorOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 2, 2); err != nil {
		return nil, err
	}
	if !numericInputs.With(ops.String).Has(in[0].DType) || len(in[0].Shape) == 0 {
		return nil, ops.Invalidf("input X is %s%v, want a float, double, int32, int64 or string tensor of rank 1 or more", in[0].DType, in[0].Shape)
	}
	if in[1].DType != ops.Int64 {
		return nil, ops.Invalidf("input Y has dtype %s, want int64", in[1].DType)
	}
	if in[1].Const != nil {
		if err := checkIndices(in[1].Const, lastAxis(in[0])); err != nil {
			return nil, err
		}
	}
	shape := in[0].Shape.Clone()
	if len(shape) == 1 {
		shape = ops.Shape{1, 0}
	}
	shape[len(shape)-1] = in[1].Shape.Size()
	return []ops.ValueInfo{{DType: in[0].DType, Shape: shape}}, nil
}

func checkIndices(y *ops.Tensor, n int) error {
	for i, v := range y.Int64s() {
		if v < 0 || v >= int64(n) {
			return ops.Invalidf("index %d is %d, want 0 to %d (X's last axis)", i, v, n-1)
		}
	}
	return nil
}

func (op arrayFeatureExtractorOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return op, nil
}

func (arrayFeatureExtractorOp) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	c := lastAxis(ops.ValueInfo{Shape: in[0].Shape()})
	if err := checkIndices(in[1], c); err != nil {
		return err
	}
	switch x := in[0].Data().(type) {
	case []float32:
		gatherLast(ops.Data[float32](out[0]), x, in[1].Int64s(), c)
	case []float64:
		gatherLast(ops.Data[float64](out[0]), x, in[1].Int64s(), c)
	case []int32:
		gatherLast(ops.Data[int32](out[0]), x, in[1].Int64s(), c)
	case []int64:
		gatherLast(ops.Data[int64](out[0]), x, in[1].Int64s(), c)
	case []string:
		gatherLast(ops.Data[string](out[0]), x, in[1].Int64s(), c)
	}
	return nil
}

func gatherLast[T any](y, x []T, idx []int64, c int) {
	if c == 0 || len(idx) == 0 {
		return
	}
	for r := 0; r < len(x)/c; r++ {
		for j, k := range idx {
			y[r*len(idx)+j] = x[r*c+int(k)]
		}
	}
}

type featureVectorizerOp struct{ dims []int }

func buildFeatureVectorizer(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	dims := r.IntsAsInts("inputdimensions", nil)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if err := checkLen("inputdimensions", len(dims), n.NumInputs, "one per input"); err != nil {
		return nil, err
	}
	for i, d := range dims {
		if d < 0 || d > math.MaxInt32 {
			return nil, &ops.AttrError{Name: "inputdimensions", Msg: fmt.Sprintf("element %d is %d", i, d)}
		}
	}
	return &featureVectorizerOp{dims: dims}, nil
}

func (op *featureVectorizerOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if len(in) != len(op.dims) {
		return nil, ops.Invalidf("%d inputs, inputdimensions has %d", len(in), len(op.dims))
	}
	rows, total := -1, 0
	for i, v := range in {
		n, _, err := featureMatrix(v, numericInputs)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		if rows >= 0 && n != rows {
			return nil, ops.Invalidf("input %d has %d rows, input 0 has %d", i, n, rows)
		}
		rows, total = n, total+op.dims[i]
	}
	return []ops.ValueInfo{{DType: ops.Float32, Shape: ops.Shape{rows, total}}}, nil
}

func (op *featureVectorizerOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return op, nil }

func (op *featureVectorizerOp) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	y := out[0].Float32s()
	width := out[0].Shape()[1]
	col := 0
	for i, t := range in {
		f, c := readFeatures(t), lastAxis(ops.ValueInfo{Shape: t.Shape()})
		for r := 0; r < out[0].Shape()[0]; r++ {
			for j := 0; j < op.dims[i]; j++ {
				v := float32(0)
				if j < c {
					v = float32(f.at(r*c + j))
				}
				y[r*width+col+j] = v
			}
		}
		col += op.dims[i]
	}
	return nil
}
