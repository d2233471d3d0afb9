package ml

import (
	"fmt"
	"math"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// SVMClassifier is libsvm's classifier. With support vectors (vectors_per_class) each pair of classes
// (i, j) scores rho + Σ coef·K(sv, x) over both classes' vectors and votes for i when the score is
// positive; the label is the class with most votes and Z the pairwise scores, or, with prob_a and prob_b,
// the class probabilities coupled from the pairwise sigmoids (Wu, Lin and Weng's method, as libsvm).
// Without support vectors it is linear: one score per class, coefficients·x + rho.
// https://onnx.ai/onnx/operators/onnx_aionnxml_SVMClassifier.html — opset 1.
//
// SVMRegressor writes rho + Σ coef·K(sv, x) over n_supports vectors (or coefficients·x + rho without),
// or its sign (±1) for a one-class SVM.
// https://onnx.ai/onnx/operators/onnx_aionnxml_SVMRegressor.html — opset 1.
//
// K is kernel_type: LINEAR x·y, POLY (γ x·y + c0)^degree, RBF exp(-γ|x-y|²), SIGMOID tanh(γ x·y + c0),
// with kernel_params = [γ, c0, degree].
func init() {
	ops.Register(Domain, "SVMClassifier", ops.Since(1, buildSVMClassifier))
	ops.Register(Domain, "SVMRegressor", ops.Since(1, buildSVMRegressor))
}

type svmKernel uint8

const (
	kernelLinear svmKernel = iota
	kernelPoly
	kernelRBF
	kernelSigmoid
)

type svmParams struct {
	kernel               svmKernel
	gamma, coef0, degree float64
}

func readSVMParams(r *ops.AttrReader) (svmParams, error) {
	var p svmParams
	name := strings.ToUpper(r.String("kernel_type", "LINEAR"))
	params := r.Floats("kernel_params", nil)
	if err := r.Err(); err != nil {
		return p, err
	}
	found := false
	for i, s := range []string{"LINEAR", "POLY", "RBF", "SIGMOID"} {
		if s == name {
			p.kernel, found = svmKernel(i), true
		}
	}
	if !found {
		return p, &ops.AttrError{Name: "kernel_type", Msg: fmt.Sprintf("is %q, want LINEAR, POLY, RBF or SIGMOID", name)}
	}
	if len(params) != 0 && len(params) != 3 {
		return p, &ops.AttrError{Name: "kernel_params", Msg: fmt.Sprintf("has %d elements, want 3 (gamma, coef0, degree)", len(params))}
	}
	if len(params) == 3 {
		p.gamma, p.coef0, p.degree = float64(params[0]), float64(params[1]), float64(int(params[2]))
	}
	return p, nil
}

func (p svmParams) eval(a []float32, x []float64) float64 {
	if p.kernel == kernelRBF {
		s := 0.0
		for i, v := range a {
			d := float64(v) - x[i]
			s += d * d
		}
		return math.Exp(-p.gamma * s)
	}
	s := 0.0
	for i, v := range a {
		s += float64(v) * x[i]
	}
	switch p.kernel {
	case kernelPoly:
		return math.Pow(p.gamma*s+p.coef0, p.degree)
	case kernelSigmoid:
		return math.Tanh(p.gamma*s + p.coef0)
	}
	return s
}

type svmClassifierOp struct {
	params          svmParams
	labels          classLabels
	transform       postTransform
	coef, sv        []float32
	rho, probA      []float32
	probB           []float32
	perClass, start []int
	vectors         int // total support vectors; 0 for the linear form
}

func buildSVMClassifier(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	params, err := readSVMParams(r)
	if err != nil {
		return nil, err
	}
	op := &svmClassifierOp{params: params, coef: r.Floats("coefficients", nil), sv: r.Floats("support_vectors", nil),
		rho: r.Floats("rho", nil), probA: r.Floats("prob_a", nil), probB: r.Floats("prob_b", nil)}
	perClass := r.Ints("vectors_per_class", nil)
	transform := r.String("post_transform", "NONE")
	if op.labels, err = readClassLabels(r, "classlabels_ints"); err != nil {
		return nil, err
	}
	if op.transform, err = parsePostTransform(transform); err != nil {
		return nil, err
	}
	k := op.labels.len()
	if k < 2 {
		return nil, ops.Unsupportedf("%d class labels, want at least 2", k)
	}
	if len(perClass) > 0 {
		if err := checkLen("vectors_per_class", len(perClass), k, "one per class label"); err != nil {
			return nil, err
		}
		for i, v := range perClass {
			if v < 0 || v > math.MaxInt32 {
				return nil, &ops.AttrError{Name: "vectors_per_class", Msg: fmt.Sprintf("element %d is %d", i, v)}
			}
			op.start = append(op.start, op.vectors)
			op.perClass = append(op.perClass, int(v))
			op.vectors += int(v)
		}
	}
	pairs := k * (k - 1) / 2
	switch {
	case op.vectors > 0:
		if err := checkLen("coefficients", len(op.coef), (k-1)*op.vectors, "k-1 rows of one per support vector"); err != nil {
			return nil, err
		}
		if err := checkLen("rho", len(op.rho), pairs, "one per pair of classes"); err != nil {
			return nil, err
		}
		if len(op.sv) == 0 || len(op.sv)%op.vectors != 0 {
			return nil, &ops.AttrError{Name: "support_vectors", Msg: fmt.Sprintf("has %d elements, not a whole number of %d vectors", len(op.sv), op.vectors)}
		}
		if len(op.probA) > 0 {
			if err := checkLen("prob_a", len(op.probA), pairs, "one per pair of classes"); err != nil {
				return nil, err
			}
			if err := checkLen("prob_b", len(op.probB), pairs, "as prob_a"); err != nil {
				return nil, err
			}
		}
	default:
		if len(op.coef) == 0 || len(op.coef)%k != 0 {
			return nil, &ops.AttrError{Name: "coefficients", Msg: fmt.Sprintf("has %d elements, not one row per class of %d", len(op.coef), k)}
		}
		if len(op.rho) != 1 && len(op.rho) != k {
			return nil, &ops.AttrError{Name: "rho", Msg: fmt.Sprintf("has %d elements, want 1 or %d", len(op.rho), k)}
		}
		op.probA = nil
	}
	return op, nil
}

// dims is the feature count the attributes imply.
func (op *svmClassifierOp) dims() int {
	if op.vectors > 0 {
		return len(op.sv) / op.vectors
	}
	return len(op.coef) / op.labels.len()
}

// scoreColumns is Z's width: probabilities or linear scores per class, else one score per pair (two
// written for the binary case).
func (op *svmClassifierOp) scoreColumns() int {
	k := op.labels.len()
	if op.vectors == 0 || len(op.probA) > 0 {
		return k
	}
	return max(k*(k-1)/2, 2)
}

func (op *svmClassifierOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	n, c, err := featureMatrix(in[0], numericInputs)
	if err != nil {
		return nil, err
	}
	if c != op.dims() {
		return nil, ops.Invalidf("input X has %d features, the model %d", c, op.dims())
	}
	return []ops.ValueInfo{{DType: op.labels.dtype(), Shape: ops.Shape{n}}, {DType: ops.Float32, Shape: ops.Shape{n, op.scoreColumns()}}}, nil
}

func (op *svmClassifierOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return op, nil }

// scratch: the row, the kernel values, the pairwise scores, the votes and k*k+3k for the coupling.
func (op *svmClassifierOp) scratchParts() (row, kern, pairs, votes, coupling int) {
	k := op.labels.len()
	return op.dims(), op.vectors, max(k*(k-1)/2, k, 2), k, k*k + 2*k
}

func (op *svmClassifierOp) ScratchSize() int {
	a, b, c, d, e := op.scratchParts()
	return ops.Float64ScratchLen(a + b + c + d + e)
}

func (op *svmClassifierOp) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	a, b, c, d, e := op.scratchParts()
	buf := ops.Float64View(ctx.Scratch, a+b+c+d+e)
	row, kern, scores, votes, coupling := buf[:a], buf[a:a+b], buf[a+b:a+b+c], buf[a+b+c:a+b+c+d], buf[a+b+c+d:]
	f := readFeatures(in[0])
	k, cols, dim := op.labels.len(), op.scoreColumns(), op.dims()
	n := out[0].Len()
	var z []float32
	if len(out) > 1 && out[1] != nil {
		z = out[1].Float32s()
	}
	for i := 0; i < n; i++ {
		f.row(row, i)
		var label int
		var written []float64
		if op.vectors == 0 {
			for j := 0; j < k; j++ {
				scores[j] = float64(op.rho[min(j, len(op.rho)-1)]) + op.params.eval(op.coef[j*dim:(j+1)*dim], row)
			}
			written = scores[:k]
			op.transform.apply(written)
			label = argmax(written)
		} else {
			for v := 0; v < op.vectors; v++ {
				kern[v] = op.params.eval(op.sv[v*dim:(v+1)*dim], row)
			}
			clear(votes)
			p := 0
			for ci := 0; ci < k; ci++ {
				for cj := ci + 1; cj < k; cj++ {
					s := float64(op.rho[p])
					for v := 0; v < op.perClass[ci]; v++ {
						s += float64(op.coef[(cj-1)*op.vectors+op.start[ci]+v]) * kern[op.start[ci]+v]
					}
					for v := 0; v < op.perClass[cj]; v++ {
						s += float64(op.coef[ci*op.vectors+op.start[cj]+v]) * kern[op.start[cj]+v]
					}
					scores[p] = s
					if s > 0 {
						votes[ci]++
					} else {
						votes[cj]++
					}
					p++
				}
			}
			label = argmax(votes)
			switch {
			case len(op.probA) > 0:
				op.couple(scores[:p], coupling)
				written = coupling[:k]
				op.transform.apply(written)
			case k == 2:
				// One pairwise score: written as [-s, s] (its transform, for LOGISTIC and the softmaxes), ONNX
				// Runtime's layout. s > 0 votes for the first label, as in libsvm; skl2onnx exports libsvm's own
				// coefficients (it undoes scikit-learn's binary negation), so s is -decision_function and the
				// columns are [decision_function, -decision_function] (conformance/testdata/sklearn/
				// svc_rbf_binary checks it). skl2onnx's raw_scores option appends a Mul by -1 for [-d, d].
				scores[1], scores[0] = scores[0], -scores[0]
				written = scores[:2]
				if op.transform != transformProbit {
					op.transform.apply(written)
				}
			default:
				written = scores[:p]
				op.transform.apply(written)
			}
		}
		op.labels.write(out[0], i, label)
		if z != nil {
			for j := 0; j < cols; j++ {
				z[i*cols+j] = float32(written[j])
			}
		}
	}
	return nil
}

// couple turns the pairwise decision values into class probabilities (dst[:k]): libsvm's sigmoid per
// pair, clipped to [1e-7, 1-1e-7], then the iterative coupling of Wu, Lin and Weng (2004), method 2.
func (op *svmClassifierOp) couple(pairScores, dst []float64) {
	k := op.labels.len()
	r := dst[k : k+k*k] // r[i*k+j]: P(class i | i or j)
	p := 0
	for i := 0; i < k; i++ {
		for j := i + 1; j < k; j++ {
			v := 1 - logistic(pairScores[p]*float64(op.probA[p])+float64(op.probB[p]))
			v = math.Min(math.Max(v, 1e-7), 1-1e-7)
			r[i*k+j], r[j*k+i] = v, 1-v
			p++
		}
	}
	q := dst[k+k*k:] // holds Q·P; Q is computed on the fly from r
	prob := dst[:k]
	qEntry := func(t, j int) float64 {
		if t == j {
			s := 0.0
			for m := 0; m < k; m++ {
				if m != t {
					s += r[m*k+t] * r[m*k+t]
				}
			}
			return s
		}
		return -r[j*k+t] * r[t*k+j]
	}
	for t := range prob {
		prob[t] = 1 / float64(k)
	}
	eps := 0.005 / float64(k)
	for iter := 0; iter < max(100, k); iter++ {
		pqp := 0.0
		for t := 0; t < k; t++ {
			q[t] = 0
			for j := 0; j < k; j++ {
				q[t] += qEntry(t, j) * prob[j]
			}
			pqp += prob[t] * q[t]
		}
		worst := 0.0
		for t := 0; t < k; t++ {
			worst = math.Max(worst, math.Abs(q[t]-pqp))
		}
		if worst < eps {
			break
		}
		for t := 0; t < k; t++ {
			qtt := qEntry(t, t)
			diff := (-q[t] + pqp) / qtt
			prob[t] += diff
			pqp = (pqp + diff*(diff*qtt+2*q[t])) / (1 + diff) / (1 + diff)
			for j := 0; j < k; j++ {
				q[j] = (q[j] + diff*qEntry(t, j)) / (1 + diff)
				prob[j] /= 1 + diff
			}
		}
	}
}

type svmRegressorOp struct {
	params    svmParams
	transform postTransform
	coef, sv  []float32
	rho       float64
	vectors   int
	oneClass  bool
}

func buildSVMRegressor(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	params, err := readSVMParams(r)
	if err != nil {
		return nil, err
	}
	op := &svmRegressorOp{params: params, coef: r.Floats("coefficients", nil), sv: r.Floats("support_vectors", nil)}
	rho := r.Floats("rho", nil)
	vectors := r.Int("n_supports", 0)
	op.oneClass = r.Int("one_class", 0) != 0
	transform := r.String("post_transform", "NONE")
	if err := r.Err(); err != nil {
		return nil, err
	}
	if op.transform, err = parsePostTransform(transform); err != nil {
		return nil, err
	}
	if len(rho) != 1 {
		return nil, &ops.AttrError{Name: "rho", Msg: fmt.Sprintf("has %d elements, want 1", len(rho))}
	}
	op.rho = float64(rho[0])
	if vectors < 0 || vectors > math.MaxInt32 {
		return nil, &ops.AttrError{Name: "n_supports", Msg: fmt.Sprintf("is %d", vectors)}
	}
	op.vectors = int(vectors)
	if op.vectors > 0 {
		if err := checkLen("coefficients", len(op.coef), op.vectors, "one per support vector"); err != nil {
			return nil, err
		}
		if len(op.sv) == 0 || len(op.sv)%op.vectors != 0 {
			return nil, &ops.AttrError{Name: "support_vectors", Msg: fmt.Sprintf("has %d elements, not a whole number of %d vectors", len(op.sv), op.vectors)}
		}
	} else if len(op.coef) == 0 {
		return nil, &ops.AttrError{Name: "coefficients", Msg: "is empty"}
	}
	return op, nil
}

func (op *svmRegressorOp) dims() int {
	if op.vectors > 0 {
		return len(op.sv) / op.vectors
	}
	return len(op.coef)
}

func (op *svmRegressorOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	n, c, err := featureMatrix(in[0], numericInputs)
	if err != nil {
		return nil, err
	}
	if c != op.dims() {
		return nil, ops.Invalidf("input X has %d features, the model %d", c, op.dims())
	}
	return []ops.ValueInfo{{DType: ops.Float32, Shape: ops.Shape{n, 1}}}, nil
}

func (op *svmRegressorOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) { return op, nil }

func (op *svmRegressorOp) ScratchSize() int { return ops.Float64ScratchLen(op.dims() + 1) }

func (op *svmRegressorOp) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	dim := op.dims()
	buf := ops.Float64View(ctx.Scratch, dim+1)
	row, score := buf[:dim], buf[dim:]
	f, y := readFeatures(in[0]), out[0].Float32s()
	for i := range y {
		f.row(row, i)
		s := op.rho
		if op.vectors == 0 {
			s += kernelLinearDot(op.coef, row)
		} else {
			for v := 0; v < op.vectors; v++ {
				s += float64(op.coef[v]) * op.params.eval(op.sv[v*dim:(v+1)*dim], row)
			}
		}
		if op.oneClass {
			if s > 0 {
				s = 1
			} else {
				s = -1
			}
		}
		score[0] = s
		op.transform.apply(score)
		y[i] = float32(score[0])
	}
	return nil
}

func kernelLinearDot(a []float32, x []float64) float64 {
	return svmParams{kernel: kernelLinear}.eval(a, x)
}
