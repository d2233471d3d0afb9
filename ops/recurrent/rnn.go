package recurrent

// The recurrent layers: RNN (https://onnx.ai/onnx/operators/onnx__RNN.html, opsets 1, 7, 14, 22),
// GRU (onnx__GRU.html, opsets 1, 3, 7, 14, 22) and LSTM (onnx__LSTM.html, opsets 1, 7, 14, 22).
//
// All three run the same loop over time steps, per direction: the input projection X·Wᵀ of every step is
// one GEMM up front; each step then multiplies the previous hidden state by Rᵀ (one GEMM over the batch),
// adds the biases and applies the gates' activations. Per direction, with G gates of H units each (RNN 1,
// GRU 3 in the order z, r, h, LSTM 4 in the order i, o, f, c):
//
//	RNN:  Ht = f(Xt·Wᵀ + Wb + Ht-1·Rᵀ + Rb)
//	GRU:  zt = f(Xt·Wzᵀ + Wbz + Ht-1·Rzᵀ + Rbz)           rt likewise
//	      ht = g(Xt·Whᵀ + Wbh + (rt ⊙ Ht-1)·Rhᵀ + Rbh)      (linear_before_reset: + rt ⊙ (Ht-1·Rhᵀ + Rbh))
//	      Ht = (1 - zt) ⊙ ht + zt ⊙ Ht-1
//	LSTM: it = f(Xt·Wiᵀ + Ht-1·Riᵀ + Pi ⊙ Ct-1 + Wbi + Rbi)  ft likewise with Pf (input_forget: 1 - it)
//	      ct = g(Xt·Wcᵀ + Ht-1·Rcᵀ + Wbc + Rbc)
//	      Ct = ft ⊙ Ct-1 + it ⊙ ct
//	      ot = f(Xt·Woᵀ + Ht-1·Roᵀ + Po ⊙ Ct + Wbo + Rbo)
//	      Ht = ot ⊙ h(Ct)
//
// clip bounds every gate's input to the activation. A batch entry with sequence_lens L takes L steps
// (the reverse direction reads its steps L-1 down to 0), leaves Y zero past them, and its Y_h/Y_c are
// the states after step L. float32 runs its products on the packed GEMM; float64 (and, as the tests'
// reference, float32) on plain loops; float16 and bfloat16 are widened to float32.

import (
	"fmt"
	"math"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
)

func init() {
	ops.Register("", "RNN", ops.Since(1, buildRNN), ops.Since(7, buildRNN), ops.Since(14, buildRNN), ops.Since(22, buildRNN))
	ops.Register("", "GRU", ops.Since(1, buildGRU), ops.Since(3, buildGRU), ops.Since(7, buildGRU), ops.Since(14, buildGRU), ops.Since(22, buildGRU))
	ops.Register("", "LSTM", ops.Since(1, buildLSTM), ops.Since(7, buildLSTM), ops.Since(14, buildLSTM), ops.Since(22, buildLSTM))
}

type rnnKind int

const (
	kindRNN rnnKind = iota
	kindGRU
	kindLSTM
)

// rnnInfo is what differs between the three operators.
var rnnInfo = [...]struct {
	name        string
	gates       int      // G: gate blocks in W, R and each half of B
	acts        int      // activation functions per direction
	defaultActs []string // per direction
	maxIn       int      // inputs, the optional ones included
	maxOut      int
}{
	kindRNN:  {"RNN", 1, 1, []string{"Tanh"}, 6, 2},
	kindGRU:  {"GRU", 3, 2, []string{"Sigmoid", "Tanh"}, 6, 2},
	kindLSTM: {"LSTM", 4, 3, []string{"Sigmoid", "Tanh", "Tanh"}, 8, 3},
}

type rnnOp struct {
	kind              rnnKind
	hidden            int // 0: from R's shape
	dirs              int
	reverseOnly       bool
	layout            int // 0: [seq, batch, ...]; 1: [batch, seq, ...]
	clip              float64
	hasClip           bool
	linearBeforeReset bool
	inputForget       bool
	acts              []rnnActivation // rnnInfo.acts per direction, forward first
}

func buildRNN(n ops.NodeInfo) (ops.Op, error)  { return buildRecurrent(kindRNN, n) }
func buildGRU(n ops.NodeInfo) (ops.Op, error)  { return buildRecurrent(kindGRU, n) }
func buildLSTM(n ops.NodeInfo) (ops.Op, error) { return buildRecurrent(kindLSTM, n) }

func buildRecurrent(kind rnnKind, n ops.NodeInfo) (ops.Op, error) {
	info := rnnInfo[kind]
	r := ops.NewAttrReader(n.Attrs)
	op := &rnnOp{kind: kind, hidden: int(r.Int("hidden_size", 0)), dirs: 1}
	switch dir := r.String("direction", "forward"); dir {
	case "forward", "foward": // opset 1's schema spelled its default "foward"
	case "reverse":
		op.reverseOnly = true
	case "bidirectional":
		op.dirs = 2
	default:
		return nil, &ops.AttrError{Name: "direction", Msg: fmt.Sprintf("is %q, want forward, reverse or bidirectional", dir)}
	}
	if n.Opset >= 14 {
		op.layout = int(r.Int("layout", 0))
	}
	if r.Has("clip") {
		op.clip, op.hasClip = float64(r.Float("clip", 0)), true
	}
	if kind == kindGRU && n.Opset >= 3 {
		op.linearBeforeReset = r.Int("linear_before_reset", 0) != 0
	}
	if kind == kindLSTM {
		op.inputForget = r.Int("input_forget", 0) != 0
	}
	names := r.Strings("activations", nil)
	alphas, betas := r.Floats("activation_alpha", nil), r.Floats("activation_beta", nil)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if r.Has("hidden_size") && op.hidden < 1 {
		return nil, &ops.AttrError{Name: "hidden_size", Msg: fmt.Sprintf("is %d, must be at least 1", op.hidden)}
	}
	if op.layout != 0 && op.layout != 1 {
		return nil, &ops.AttrError{Name: "layout", Msg: fmt.Sprintf("is %d, want 0 or 1", op.layout)}
	}
	if op.hasClip && !(op.clip > 0) {
		return nil, &ops.AttrError{Name: "clip", Msg: fmt.Sprintf("is %g, must be positive", op.clip)}
	}
	switch {
	case names == nil:
		for range op.dirs {
			names = append(names, info.defaultActs...)
		}
	case len(names) == info.acts && op.dirs == 2: // one list for both directions
		names = append(names, names...)
	case len(names) == info.acts*op.dirs:
	case kind == kindRNN && len(names) == 2 && op.dirs == 1: // the schema's default, ["Tanh", "Tanh"], written out
		names = names[:1]
	default:
		return nil, &ops.AttrError{Name: "activations", Msg: fmt.Sprintf("has %d functions, want %d per direction (%d directions)", len(names), info.acts, op.dirs)}
	}
	var err error
	if op.acts, err = parseRNNActivations(names, alphas, betas); err != nil {
		return nil, err
	}
	return op, nil
}

// rnnActivation is one of the activation functions the recurrent operators name.
type rnnActivation struct {
	fn          rnnFunc
	alpha, beta float64
}

type rnnFunc int

const (
	actSigmoid rnnFunc = iota
	actTanh
	actRelu
	actAffine
	actLeakyRelu
	actThresholdedRelu
	actScaledTanh
	actHardSigmoid
	actElu
	actSoftsign
	actSoftplus
)

// rnnFuncs maps the lower-cased names to the functions, with their default alpha and beta and whether
// they take them from the activation_alpha and activation_beta lists.
var rnnFuncs = map[string]struct {
	fn                rnnFunc
	alpha, beta       float64
	useAlpha, useBeta bool
}{
	"sigmoid":         {fn: actSigmoid},
	"tanh":            {fn: actTanh},
	"relu":            {fn: actRelu},
	"affine":          {fn: actAffine, alpha: 1, useAlpha: true, useBeta: true},
	"leakyrelu":       {fn: actLeakyRelu, alpha: 0.01, useAlpha: true},
	"thresholdedrelu": {fn: actThresholdedRelu, alpha: 1, useAlpha: true},
	"scaledtanh":      {fn: actScaledTanh, alpha: 1, beta: 1, useAlpha: true, useBeta: true},
	"hardsigmoid":     {fn: actHardSigmoid, alpha: 0.2, beta: 0.5, useAlpha: true, useBeta: true},
	"elu":             {fn: actElu, alpha: 1, useAlpha: true},
	"softsign":        {fn: actSoftsign},
	"softplus":        {fn: actSoftplus},
}

// parseRNNActivations resolves the names (case-insensitively, as ONNX Runtime does); each function that
// takes an alpha (beta) takes the next value of alphas (betas), in the order of the functions, or its
// default when the list has run out.
func parseRNNActivations(names []string, alphas, betas []float32) ([]rnnActivation, error) {
	acts := make([]rnnActivation, len(names))
	for i, name := range names {
		f, ok := rnnFuncs[strings.ToLower(name)]
		if !ok {
			return nil, &ops.AttrError{Name: "activations", Msg: fmt.Sprintf("names %q, which is not one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus", name)}
		}
		a := rnnActivation{fn: f.fn, alpha: f.alpha, beta: f.beta}
		if f.useAlpha && len(alphas) > 0 {
			a.alpha, alphas = float64(alphas[0]), alphas[1:]
		}
		if f.useBeta && len(betas) > 0 {
			a.beta, betas = float64(betas[0]), betas[1:]
		}
		acts[i] = a
	}
	return acts, nil
}

func (a *rnnActivation) apply(x float64) float64 {
	switch a.fn {
	case actSigmoid:
		if x >= 0 {
			return 1 / (1 + math.Exp(-x))
		}
		e := math.Exp(x)
		return e / (1 + e)
	case actTanh:
		return math.Tanh(x)
	case actRelu:
		return math.Max(x, 0)
	case actAffine:
		return a.alpha*x + a.beta
	case actLeakyRelu:
		if x >= 0 {
			return x
		}
		return a.alpha * x
	case actThresholdedRelu:
		if x > a.alpha {
			return x
		}
		return 0
	case actScaledTanh:
		return a.alpha * math.Tanh(a.beta*x)
	case actHardSigmoid:
		return math.Min(math.Max(a.alpha*x+a.beta, 0), 1)
	case actElu:
		if x >= 0 {
			return x
		}
		return a.alpha * (math.Exp(x) - 1)
	case actSoftsign:
		return x / (1 + math.Abs(x))
	default: // actSoftplus
		if x > 0 {
			return x + math.Log1p(math.Exp(-x))
		}
		return math.Log1p(math.Exp(x))
	}
}

// rnnShape is one node's dimensions, resolved from its inputs.
type rnnShape struct {
	seq, batch, input, hidden, dirs, gates int
	dtype                                  ops.DType
	has                                    [8]bool // which inputs are present
	outShapes                              [3]ops.Shape
}

// Input positions.
const (
	rnnX = iota
	rnnW
	rnnR
	rnnB
	rnnSeqLens
	rnnInitialH
	rnnInitialC // LSTM only
	rnnP        // LSTM only
)

func (op *rnnOp) shape(in []ops.ValueInfo) (rnnShape, error) {
	info := rnnInfo[op.kind]
	if err := ops.CheckInputCount(in, 3, info.maxIn); err != nil {
		return rnnShape{}, err
	}
	x, w, r := in[rnnX], in[rnnW], in[rnnR]
	if err := kernelutil.CheckFloat("X", x.DType); err != nil {
		return rnnShape{}, err
	}
	s := rnnShape{dirs: op.dirs, gates: info.gates, dtype: x.DType}
	for i := range in {
		s.has[i] = in[i].Present()
	}
	if len(x.Shape) != 3 {
		return s, ops.Invalidf("X has shape %v, want rank 3", x.Shape)
	}
	s.seq, s.batch, s.input = x.Shape[0], x.Shape[1], x.Shape[2]
	if op.layout == 1 {
		s.seq, s.batch = s.batch, s.seq
	}
	if len(r.Shape) != 3 {
		return s, ops.Invalidf("R has shape %v, want rank 3 [num_directions, %d*hidden_size, hidden_size]", r.Shape, s.gates)
	}
	s.hidden = op.hidden
	if s.hidden == 0 {
		s.hidden = r.Shape[2]
	}
	if s.hidden < 1 {
		return s, ops.Invalidf("hidden_size is 0 (R has shape %v and no hidden_size attribute)", r.Shape)
	}
	gh := s.gates * s.hidden
	check := func(name string, v ops.ValueInfo, dtype ops.DType, want ops.Shape) error {
		if v.DType != dtype {
			return ops.Invalidf("%s has dtype %s, want %s", name, v.DType, dtype)
		}
		if !v.Shape.Equal(want) {
			return ops.Invalidf("%s has shape %v, want %v (%d directions, hidden_size %d, input_size %d, batch %d)", name, v.Shape, want, s.dirs, s.hidden, s.input, s.batch)
		}
		return nil
	}
	stateShape := ops.Shape{s.dirs, s.batch, s.hidden}
	if op.layout == 1 {
		stateShape = ops.Shape{s.batch, s.dirs, s.hidden}
	}
	if err := check("W", w, s.dtype, ops.Shape{s.dirs, gh, s.input}); err != nil {
		return s, err
	}
	if err := check("R", r, s.dtype, ops.Shape{s.dirs, gh, s.hidden}); err != nil {
		return s, err
	}
	optional := []struct {
		at    int
		name  string
		dtype ops.DType
		shape ops.Shape
	}{
		{rnnB, "B", s.dtype, ops.Shape{s.dirs, 2 * gh}},
		{rnnSeqLens, "sequence_lens", ops.Int32, ops.Shape{s.batch}},
		{rnnInitialH, "initial_h", s.dtype, stateShape},
		{rnnInitialC, "initial_c", s.dtype, stateShape},
		{rnnP, "P", s.dtype, ops.Shape{s.dirs, 3 * s.hidden}},
	}
	for _, o := range optional {
		if o.at < len(in) && in[o.at].Present() {
			if err := check(o.name, in[o.at], o.dtype, o.shape); err != nil {
				return s, err
			}
		}
	}
	s.outShapes[0] = ops.Shape{s.seq, s.dirs, s.batch, s.hidden}
	if op.layout == 1 {
		s.outShapes[0] = ops.Shape{s.batch, s.seq, s.dirs, s.hidden}
	}
	s.outShapes[1], s.outShapes[2] = stateShape, stateShape
	return s, nil
}

func (op *rnnOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	out := make([]ops.ValueInfo, rnnInfo[op.kind].maxOut)
	for i := range out {
		out[i] = ops.ValueInfo{DType: s.dtype, Shape: s.outShapes[i]}
	}
	return out, nil
}

func (op *rnnOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	s, err := op.shape(in)
	if err != nil {
		return nil, err
	}
	if len(out) > rnnInfo[op.kind].maxOut {
		return nil, ops.Invalidf("%d outputs, at most %d", len(out), rnnInfo[op.kind].maxOut)
	}
	k := &rnnKernel{op: op, s: s, outputs: len(out)}
	k.layoutScratch()
	return k, nil
}

// rnnKernel runs one node. Its scratch holds the loop's work buffers and, for the 16-bit types, float32
// copies of the inputs and outputs.
type rnnKernel struct {
	op      *rnnOp
	s       rnnShape
	outputs int
	parts   [rnnParts + 1]int // scratch offsets (in elements of the working type) of each part, and the end
}

// The scratch parts, in order.
const (
	partX = iota
	partW
	partR
	partB
	partH0
	partC0
	partP
	partY
	partYH
	partYC
	partXW    // the input projection of every step, seq*batch x G*H, rows in X's order
	partGates // one step's gate inputs, batch x G*H
	partH     // the hidden state, batch x H
	partC     // the cell state (LSTM)
	partRH    // GRU: rt ⊙ Ht-1, or Ht-1·Rhᵀ + Rbh with linear_before_reset
	rnnParts
)

func (k *rnnKernel) layoutScratch() {
	s := &k.s
	gh := s.gates * s.hidden
	state := s.dirs * s.batch * s.hidden
	var size [rnnParts]int
	if kernelutil.IsHalf(s.dtype) {
		size[partX], size[partW], size[partR] = s.seq*s.batch*s.input, s.dirs*gh*s.input, s.dirs*gh*s.hidden
		size[partB], size[partH0], size[partC0], size[partP] = s.dirs*2*gh, state, state, s.dirs*3*s.hidden
		size[partY], size[partYH], size[partYC] = s.seq*state, state, state
	}
	size[partXW] = s.seq * s.batch * gh
	size[partGates] = s.batch * gh
	size[partH], size[partC], size[partRH] = s.batch*s.hidden, s.batch*s.hidden, s.batch*s.hidden
	off := 0
	for i, n := range size {
		k.parts[i] = off
		off += n
	}
	k.parts[rnnParts] = off
}

func (k *rnnKernel) ScratchSize() int {
	if k.s.dtype == ops.Float64 {
		return ops.Float64ScratchLen(k.parts[rnnParts])
	}
	return k.parts[rnnParts]
}

// FLOPs counts the multiply-adds of the products.
func (k *rnnKernel) FLOPs() int64 {
	s := &k.s
	return int64(s.dirs) * int64(s.seq) * int64(s.batch) * int64(s.gates*s.hidden) * int64(s.input+s.hidden)
}

func (k *rnnKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	if k.s.dtype == ops.Float64 {
		return runRecurrent(k, ops.Float64View(ctx.Scratch, k.parts[rnnParts]), in, out, referenceProduct[float64], kernelutil.DoneOf(ctx))
	}
	return runRecurrent(k, ctx.Scratch[:k.parts[rnnParts]], in, out, gemmProduct, kernelutil.DoneOf(ctx))
}

// rnnProduct computes C (m x n, row stride ldc) = A (m x k, row stride lda) · Bᵀ, B being n x k with row
// stride ldb, adding to C when accumulate.
type rnnProduct[T ops.Float] func(m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, accumulate bool, done <-chan struct{})

// referenceProduct is rnnProduct in plain loops, summing in float64.
func referenceProduct[T ops.Float](m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int, accumulate bool, _ <-chan struct{}) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			sum := 0.0
			if accumulate {
				sum = float64(c[i*ldc+j])
			}
			ar, br := a[i*lda:i*lda+k], b[j*ldb:j*ldb+k]
			for p, av := range ar {
				sum += float64(av) * float64(br[p])
			}
			c[i*ldc+j] = T(sum)
		}
	}
}

// gemmProduct is rnnProduct on the packed float32 GEMM.
func gemmProduct(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool, done <-chan struct{}) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !accumulate {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	p := gemm.Params{M: m, N: n, K: k, Alpha: 1, A: a, LDA: max(1, lda), B: b, LDB: max(1, ldb), TransB: true, C: c, LDC: ldc, Done: done}
	if accumulate {
		p.Beta = 1
	}
	gemm.Multiply(&p)
}

// recurrentOperands are the node's inputs and outputs as the loop reads and writes them: in the node's
// layout, in the working type, nil when absent.
type recurrentOperands[T ops.Float] struct {
	x, w, r, b, h0, c0, p []T
	seqLens               []int32
	y, yh, yc             []T
}

func runRecurrent[T ops.Float](k *rnnKernel, scratch []T, in, out []*ops.Tensor, product rnnProduct[T], done <-chan struct{}) error {
	s := &k.s
	part := func(i int) []T { return scratch[k.parts[i]:k.parts[i+1]] }
	var o recurrentOperands[T]
	load := func(i, p int) []T {
		t := ops.TensorAt(in, i)
		if t == nil || !s.has[i] {
			return nil
		}
		if dst := part(p); len(dst) > 0 {
			widenTo(dst, t)
			return dst
		}
		return ops.Data[T](t)
	}
	o.x, o.w, o.r, o.b = load(rnnX, partX), load(rnnW, partW), load(rnnR, partR), load(rnnB, partB)
	o.h0 = load(rnnInitialH, partH0)
	if k.op.kind == kindLSTM {
		o.c0, o.p = load(rnnInitialC, partC0), load(rnnP, partP)
	}
	if t := ops.TensorAt(in, rnnSeqLens); t != nil && s.has[rnnSeqLens] {
		o.seqLens = t.Int32s()
		for b, l := range o.seqLens {
			if l < 0 || int(l) > s.seq {
				return ops.Invalidf("sequence_lens[%d] is %d, want 0 to seq_length %d", b, l, s.seq)
			}
		}
	}
	outPart := [3]int{partY, partYH, partYC}
	var outs [3][]T
	for i := 0; i < k.outputs; i++ {
		if dst := part(outPart[i]); len(dst) > 0 {
			outs[i] = dst
		} else {
			outs[i] = ops.Data[T](out[i])
		}
	}
	o.y, o.yh, o.yc = outs[0], outs[1], outs[2]
	work := recurrentWork[T]{xw: part(partXW), gates: part(partGates), h: part(partH), c: part(partC), rh: part(partRH)}
	recurrent(k, &o, &work, product, done)
	for i := 0; i < k.outputs; i++ {
		if dst := part(outPart[i]); len(dst) > 0 {
			narrowFrom(out[i], dst)
		}
	}
	return nil
}

// recurrentWork is the loop's scratch.
type recurrentWork[T ops.Float] struct {
	xw, gates, h, c, rh []T
}

// recurrent runs every direction over every step. It stops early, its outputs unfinished, once done is
// closed.
func recurrent[T ops.Float](k *rnnKernel, o *recurrentOperands[T], wk *recurrentWork[T], product rnnProduct[T], done <-chan struct{}) {
	s, op := &k.s, k.op
	H, gh := s.hidden, s.gates*s.hidden
	if o.y != nil {
		clear(o.y) // steps past a sequence's length stay zero
	}
	// Index helpers for the two layouts.
	xRow := func(t, b int) int { // row of X (and of XW) for step t, batch entry b
		if op.layout == 1 {
			return b*s.seq + t
		}
		return t*s.batch + b
	}
	yAt := func(t, d, b int) int {
		if op.layout == 1 {
			return ((b*s.seq+t)*s.dirs + d) * H
		}
		return ((t*s.dirs+d)*s.batch + b) * H
	}
	stateAt := func(d, b int) int {
		if op.layout == 1 {
			return (b*s.dirs + d) * H
		}
		return (d*s.batch + b) * H
	}
	for d := 0; d < s.dirs; d++ {
		if kernelutil.Cancelled(done) {
			return
		}
		reverse := d == 1 || op.reverseOnly
		w, r := o.w[d*gh*s.input:(d+1)*gh*s.input], o.r[d*gh*H:(d+1)*gh*H]
		var wb, rb, peep []T
		if o.b != nil {
			wb, rb = o.b[d*2*gh:d*2*gh+gh], o.b[d*2*gh+gh:(d+1)*2*gh]
		}
		if o.p != nil {
			peep = o.p[d*3*H : (d+1)*3*H]
		}
		acts := op.acts[d*rnnInfo[op.kind].acts : (d+1)*rnnInfo[op.kind].acts]
		// XW = X·Wᵀ (+ Wb) for every step at once.
		product(s.seq*s.batch, gh, s.input, o.x, s.input, w, s.input, wk.xw, gh, false, done)
		if wb != nil {
			for row := 0; row < s.seq*s.batch; row++ {
				addTo(wk.xw[row*gh:(row+1)*gh], wb)
			}
		}
		// Initial states.
		for b := 0; b < s.batch; b++ {
			hb, cb := wk.h[b*H:(b+1)*H], wk.c[b*H:(b+1)*H]
			if o.h0 != nil {
				copy(hb, o.h0[stateAt(d, b):stateAt(d, b)+H])
			} else {
				clear(hb)
			}
			if o.c0 != nil {
				copy(cb, o.c0[stateAt(d, b):stateAt(d, b)+H])
			} else {
				clear(cb)
			}
		}
		// timeOf is the step index batch entry b reads and writes at this step of the loop, and whether
		// its sequence has one.
		timeOf := func(b, step int) (int, bool) {
			length := s.seq
			if o.seqLens != nil {
				length = int(o.seqLens[b])
			}
			if step >= length {
				return 0, false
			}
			if reverse {
				return length - 1 - step, true
			}
			return step, true
		}
		for step := 0; step < s.seq; step++ {
			if kernelutil.Cancelled(done) {
				return
			}
			// The recurrent product for the whole batch, gates = H·Rᵀ; GRU without linear_before_reset
			// multiplies the h block later, by rt ⊙ H.
			recGates := gh
			if op.kind == kindGRU && !op.linearBeforeReset {
				recGates = 2 * H
			}
			product(s.batch, recGates, H, wk.h, H, r, H, wk.gates, gh, false, done)
			if op.kind == kindGRU {
				gruStep(op, acts, wk, r[2*H*H:], rb, s.batch, H, func(b int) ([]T, bool) {
					t, ok := timeOf(b, step)
					return wk.xw[xRow(t, b)*gh : (xRow(t, b)+1)*gh], ok
				}, product, done)
			}
			for b := 0; b < s.batch; b++ {
				t, ok := timeOf(b, step)
				if !ok {
					continue
				}
				g := wk.gates[b*gh : (b+1)*gh]
				xw := wk.xw[xRow(t, b)*gh : (xRow(t, b)+1)*gh]
				h, c := wk.h[b*H:(b+1)*H], wk.c[b*H:(b+1)*H]
				switch op.kind {
				case kindRNN:
					for j := range h {
						v := float64(xw[j]) + float64(g[j])
						if rb != nil {
							v += float64(rb[j])
						}
						h[j] = T(acts[0].apply(op.clipped(v)))
					}
				case kindLSTM:
					lstmStep(op, acts, g, xw, rb, peep, h, c)
				}
				if o.y != nil {
					copy(o.y[yAt(t, d, b):yAt(t, d, b)+H], h)
				}
			}
		}
		for b := 0; b < s.batch; b++ {
			if o.yh != nil {
				copy(o.yh[stateAt(d, b):stateAt(d, b)+H], wk.h[b*H:(b+1)*H])
			}
			if o.yc != nil {
				copy(o.yc[stateAt(d, b):stateAt(d, b)+H], wk.c[b*H:(b+1)*H])
			}
		}
	}
}

// clipped applies the clip attribute to an activation's input.
func (op *rnnOp) clipped(v float64) float64 {
	if op.hasClip {
		return math.Min(math.Max(v, -op.clip), op.clip)
	}
	return v
}

// lstmStep updates one batch entry's h and c. g holds H·Rᵀ for the four gates (i, o, f, c), xw the
// input projection with Wb.
func lstmStep[T ops.Float](op *rnnOp, acts []rnnActivation, g, xw, rb, peep, h, c []T) {
	H := len(h)
	pre := func(gate, j int) float64 {
		v := float64(xw[gate*H+j]) + float64(g[gate*H+j])
		if rb != nil {
			v += float64(rb[gate*H+j])
		}
		return v
	}
	for j := 0; j < H; j++ {
		cPrev := float64(c[j])
		vi, vo, vf, vc := pre(0, j), pre(1, j), pre(2, j), pre(3, j)
		if peep != nil {
			vi += float64(peep[j]) * cPrev
			vf += float64(peep[2*H+j]) * cPrev
		}
		i := acts[0].apply(op.clipped(vi))
		f := acts[0].apply(op.clipped(vf))
		if op.inputForget {
			f = 1 - i
		}
		cell := f*cPrev + i*acts[1].apply(op.clipped(vc))
		if peep != nil {
			vo += float64(peep[H+j]) * cell
		}
		o := acts[0].apply(op.clipped(vo))
		c[j] = T(cell)
		h[j] = T(o * acts[2].apply(cell))
	}
}

// gruStep updates the hidden state of every batch entry that has this step (xwOf gives its input
// projection, with Wb, or false). wk.gates holds H·Rᵀ for the z and r gates (and the h gate with
// linear_before_reset); rh is the h block of R.
func gruStep[T ops.Float](op *rnnOp, acts []rnnActivation, wk *recurrentWork[T], rh, rb []T, batch, H int, xwOf func(b int) ([]T, bool), product rnnProduct[T], done <-chan struct{}) {
	gh := 3 * H
	recBias := func(gate, j int) float64 {
		if rb == nil {
			return 0
		}
		return float64(rb[gate*H+j])
	}
	// z and r, in place of their recurrent products; then rt ⊙ Ht-1 for the product by Rhᵀ.
	for b := 0; b < batch; b++ {
		xw, ok := xwOf(b)
		if !ok {
			continue
		}
		g, h, hr := wk.gates[b*gh:(b+1)*gh], wk.h[b*H:(b+1)*H], wk.rh[b*H:(b+1)*H]
		for j := 0; j < H; j++ {
			z := acts[0].apply(op.clipped(float64(xw[j]) + float64(g[j]) + recBias(0, j)))
			r := acts[0].apply(op.clipped(float64(xw[H+j]) + float64(g[H+j]) + recBias(1, j)))
			g[j], g[H+j] = T(z), T(r)
			hr[j] = T(r * float64(h[j]))
		}
	}
	if !op.linearBeforeReset {
		product(batch, H, H, wk.rh, H, rh, H, wk.gates[2*H:], gh, false, done)
	}
	for b := 0; b < batch; b++ {
		xw, ok := xwOf(b)
		if !ok {
			continue
		}
		g, h := wk.gates[b*gh:(b+1)*gh], wk.h[b*H:(b+1)*H]
		for j := 0; j < H; j++ {
			z, r := float64(g[j]), float64(g[H+j])
			v := float64(xw[2*H+j])
			if op.linearBeforeReset {
				v += r * (float64(g[2*H+j]) + recBias(2, j))
			} else {
				v += float64(g[2*H+j]) + recBias(2, j)
			}
			cand := acts[1].apply(op.clipped(v))
			h[j] = T((1-z)*cand + z*float64(h[j]))
		}
	}
}

// addTo adds v to dst element-wise.
func addTo[T ops.Float](dst, v []T) {
	for i, x := range v {
		dst[i] += x
	}
}

// widenTo copies t into dst in dst's type.
func widenTo[T ops.Float](dst []T, t *ops.Tensor) {
	switch d := any(dst).(type) {
	case []float32:
		ops.WidenToFloat32(d, t.Data())
	case []float64:
		kernelutil.Widen64(d, t)
	}
}

// narrowFrom copies src into t, converting to t's type.
func narrowFrom[T ops.Float](t *ops.Tensor, src []T) {
	switch s := any(src).(type) {
	case []float32:
		ops.NarrowFromFloat32(t.Data(), s)
	case []float64:
		kernelutil.Narrow64(t, s)
	}
}
