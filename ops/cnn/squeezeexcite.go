package cnn

// SqueezeExcite (domain "onnxrun", opset 1) is a squeeze-and-excitation block (EfficientNet, MobileNetV3)
// run as one kernel: the graph pass runtime/pass_squeeze_excite.go writes it in place of
//
//	GlobalAveragePool(X) → Conv 1x1 (W1, B1) → activation → Conv 1x1 (W2, B2) → gate → Mul(X, ·)
//
// that is, per image n and channel c:
//
//	s = mean over H·W of X[n]     h = activation(W1·s + B1)     g = gate(W2·h + B2)     Y[n,c] = X[n,c]·g[c]
//
// Inputs: X [N,C,spatial...], W1 [R,C,1...], B1 [R] (optional, "" absent), W2 [C,R,1...], B2 [C]
// (optional). Attributes: activation ("" for none, "Relu", "SiLU", "HardSwish", "Clip" with
// activation_params [min, max]) and gate ("Sigmoid", or "HardSigmoid" with gate_params [alpha, beta]).
// float32 only. The unfused graph makes five kernels and, for the pool and the Mul, two passes over X
// each with a tiny matrix product between them; here the pool and the scaling are parallel over the
// images and channels and the two matrix-vector products run in scratch.

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/vecarith"
	"github.com/onnxrun/onnxrun/ops/internal/vecmath"
)

func init() {
	ops.Register(ops.FusedDomain, "SqueezeExcite", ops.Since(1, buildSqueezeExcite))
}

// seActivation is the activation after the first product or the gate after the second.
type seActivation uint8

const (
	seNone seActivation = iota
	seRelu
	seSiLU
	seHardSwish
	seClip
	seSigmoid
	seHardSigmoid
)

type squeezeExciteOp struct {
	act, gate        seActivation
	actLo, actHi     float32 // Clip's bounds
	gateAlpha, gateB float32 // HardSigmoid's alpha and beta
}

func buildSqueezeExcite(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	act, actParams := r.String("activation", ""), r.Floats("activation_params", nil)
	gate, gateParams := r.String("gate", "Sigmoid"), r.Floats("gate_params", nil)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if n.NumInputs != 5 || n.NumOutputs != 1 {
		return nil, ops.Invalidf("SqueezeExcite takes 5 inputs (X, W1, B1, W2, B2) and 1 output, the node has %d and %d", n.NumInputs, n.NumOutputs)
	}
	op := &squeezeExciteOp{}
	switch act {
	case "":
	case "Relu":
		op.act = seRelu
	case "SiLU":
		op.act = seSiLU
	case "HardSwish":
		op.act = seHardSwish
	case "Clip":
		if len(actParams) != 2 || !(actParams[0] <= actParams[1]) {
			return nil, &ops.AttrError{Name: "activation_params", Msg: fmt.Sprintf("is %v: Clip takes [min, max], min not above max", actParams)}
		}
		op.act, op.actLo, op.actHi = seClip, actParams[0], actParams[1]
	default:
		return nil, ops.Unsupportedf("activation %q: SqueezeExcite takes Relu, SiLU, HardSwish or Clip", act)
	}
	switch gate {
	case "Sigmoid":
		op.gate = seSigmoid
	case "HardSigmoid":
		if len(gateParams) != 2 {
			return nil, &ops.AttrError{Name: "gate_params", Msg: fmt.Sprintf("is %v: HardSigmoid takes [alpha, beta]", gateParams)}
		}
		op.gate, op.gateAlpha, op.gateB = seHardSigmoid, gateParams[0], gateParams[1]
	default:
		return nil, ops.Unsupportedf("gate %q: SqueezeExcite takes Sigmoid or HardSigmoid", gate)
	}
	return op, nil
}

func (op *squeezeExciteOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if len(in) != 5 || !in[0].Present() || !in[1].Present() || !in[3].Present() {
		return nil, ops.Invalidf("SqueezeExcite takes X, W1, B1 (optional), W2, B2 (optional): %d inputs given, X, W1 and W2 required", len(in))
	}
	x := in[0]
	if len(x.Shape) < 3 {
		return nil, ops.Invalidf("SqueezeExcite X has shape %v, want [N, C, spatial...]", x.Shape)
	}
	c := x.Shape[1]
	w1, w2 := in[1].Shape, in[3].Shape
	if len(w1) != len(x.Shape) || len(w2) != len(x.Shape) || w1[1] != c || w2[0] != c || w2[1] != w1[0] || w1[2:].Size() != 1 || w2[2:].Size() != 1 {
		return nil, ops.Invalidf("SqueezeExcite weights W1=%v and W2=%v do not fit X=%v: want [R,%d,1...] and [%d,R,1...]", w1, w2, x.Shape, c, c)
	}
	for i, want := range map[int]int{2: w1[0], 4: c} {
		if in[i].Present() && !in[i].Shape.Equal(ops.Shape{want}) {
			return nil, ops.Invalidf("SqueezeExcite bias input %d has shape %v, want [%d]", i, in[i].Shape, want)
		}
	}
	for i, v := range in {
		if v.Present() && v.DType != ops.Float32 {
			return nil, ops.Unsupportedf("SqueezeExcite computes float32, input %d is %s", i, v.DType)
		}
	}
	return []ops.ValueInfo{{DType: ops.Float32, Shape: x.Shape.Clone()}}, nil
}

func (op *squeezeExciteOp) Prepare(in []ops.ValueInfo, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	x := in[0].Shape
	return &squeezeExciteKernel{op: op, n: x[0], c: x[1], r: in[1].Shape[0], plane: x[2:].Size(),
		hasB1: in[2].Present(), hasB2: in[4].Present()}, nil
}

type squeezeExciteKernel struct {
	op             *squeezeExciteOp
	n, c, r, plane int
	hasB1, hasB2   bool
}

// ScratchSize: the pooled means and the gates of every image (N·C each) and one hidden vector (R).
func (k *squeezeExciteKernel) ScratchSize() int { return 2*k.n*k.c + k.r }

// seMinParallel is the elements of X below which the kernel stays on one thread.
const seMinParallel = 1 << 15

func (k *squeezeExciteKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	x, y := in[0].Float32s(), out[0].Float32s()
	nc := k.n * k.c
	means, gates, hidden := ctx.Scratch[:nc], ctx.Scratch[nc:2*nc], ctx.Scratch[2*nc:2*nc+k.r]
	parallel := ctx.Pool.Threads() > 1 && nc*k.plane >= seMinParallel && nc >= 2
	k.forPlanes(ctx, parallel, x, means, nil, 0)
	var b1, b2 []float32
	if k.hasB1 {
		b1 = in[2].Float32s()
	}
	if k.hasB2 {
		b2 = in[4].Float32s()
	}
	w1, w2 := in[1].Float32s(), in[3].Float32s()
	for img := 0; img < k.n; img++ {
		s, g := means[img*k.c:(img+1)*k.c], gates[img*k.c:(img+1)*k.c]
		matVec(hidden, w1, s, b1)
		k.op.activate(hidden)
		matVec(g, w2, hidden, b2)
		k.op.gateOf(g)
	}
	k.forPlanes(ctx, parallel, x, gates, y, 1)
	return nil
}

// forPlanes runs phase 0 (the means of the planes of x into v) or phase 1 (y = x times v per plane) over
// every plane, on the pool when parallel.
func (k *squeezeExciteKernel) forPlanes(ctx *ops.ExecContext, parallel bool, x, v, y []float32, phase int) {
	planes := k.n * k.c
	if !parallel {
		k.planes(x, v, y, phase, 0, planes)
		return
	}
	t := seTaskPool.Get().(*seTask)
	t.k, t.x, t.v, t.y, t.phase, t.planes = k, x, v, y, phase, planes
	t.next.Store(0)
	ctx.Pool.ForTask(ctx.Pool.Threads(), t)
	*t = seTask{}
	seTaskPool.Put(t)
}

// planes does planes [lo, hi) of one phase.
func (k *squeezeExciteKernel) planes(x, v, y []float32, phase, lo, hi int) {
	for p := lo; p < hi; p++ {
		xp := x[p*k.plane : (p+1)*k.plane]
		if phase == 0 {
			v[p] = sum8(xp) / float32(k.plane)
			continue
		}
		vecarith.VS(vecarith.Mul, y[p*k.plane:(p+1)*k.plane], xp, v[p])
	}
}

// seTask is one threaded phase: threads claim seChunk planes at a time until none is left.
type seTask struct {
	k       *squeezeExciteKernel
	x, v, y []float32
	phase   int
	planes  int
	next    atomic.Int64
}

const seChunk = 8

var seTaskPool = sync.Pool{New: func() any { return new(seTask) }}

func (t *seTask) Do(_, _ int) {
	for {
		lo := int(t.next.Add(1)-1) * seChunk
		if lo >= t.planes {
			return
		}
		t.k.planes(t.x, t.v, t.y, t.phase, lo, min(lo+seChunk, t.planes))
	}
}

// matVec sets dst = W·v + b for W of len(dst) rows of len(v), b optional.
func matVec(dst, w, v, b []float32) {
	for i := range dst {
		sum := dot8(w[i*len(v):(i+1)*len(v)], v)
		if b != nil {
			sum += b[i]
		}
		dst[i] = sum
	}
}

// dot8 is Σ a[i]·b[i] over len(a) (b at least as long) in eight interleaved partial sums: one running sum
// waits for each add to finish (4 cycles) before the next, eight keep the adder busy. The result is
// rounded differently from the one-sum loop, within float32's accumulation error either way.
func dot8(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x, y := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		s4 += x[4] * y[4]
		s5 += x[5] * y[5]
		s6 += x[6] * y[6]
		s7 += x[7] * y[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// sum8 is Σ x[i] in eight interleaved partial sums, as dot8.
func sum8(x []float32) float32 {
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		s0 += v[0]
		s1 += v[1]
		s2 += v[2]
		s3 += v[3]
		s4 += v[4]
		s5 += v[5]
		s6 += v[6]
		s7 += v[7]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// activate applies the activation to h in place.
func (op *squeezeExciteOp) activate(h []float32) {
	switch op.act {
	case seRelu:
		for i, v := range h {
			h[i] = max(v, 0)
		}
	case seSiLU:
		vecmath.SiLU(h, h)
	case seHardSwish:
		vecarith.HardSwish(h, h)
	case seClip:
		vecarith.Clamp(h, h, op.actLo, op.actHi)
	}
}

// gateOf applies the gate to g in place.
func (op *squeezeExciteOp) gateOf(g []float32) {
	if op.gate == seSigmoid {
		vecmath.Sigmoid(g, g)
		return
	}
	vecarith.HardSigmoid(g, g, op.gateAlpha, op.gateB)
}

// squeezeExciteReference is the kernel's reference: the unfused graph's five steps one after the other, in
// float64 (x is [n][c][plane], w1 [r][c], w2 [c][r]).
func squeezeExciteReference(op *squeezeExciteOp, x, w1, b1, w2, b2 []float32, n, c, r, plane int, y []float32) {
	for img := 0; img < n; img++ {
		s := make([]float64, c)
		for ch := range s {
			for _, e := range x[(img*c+ch)*plane : (img*c+ch+1)*plane] {
				s[ch] += float64(e)
			}
			s[ch] /= float64(plane)
		}
		h := make([]float64, r)
		for i := range h {
			for j := range s {
				h[i] += float64(w1[i*c+j]) * s[j]
			}
			if b1 != nil {
				h[i] += float64(b1[i])
			}
			switch op.act {
			case seRelu:
				h[i] = math.Max(h[i], 0)
			case seSiLU:
				h[i] /= 1 + math.Exp(-h[i])
			case seHardSwish:
				h[i] *= math.Min(math.Max(h[i]/6+0.5, 0), 1)
			case seClip:
				h[i] = math.Min(math.Max(h[i], float64(op.actLo)), float64(op.actHi))
			}
		}
		for ch := 0; ch < c; ch++ {
			g := 0.0
			for j := range h {
				g += float64(w2[ch*r+j]) * h[j]
			}
			if b2 != nil {
				g += float64(b2[ch])
			}
			if op.gate == seSigmoid {
				g = 1 / (1 + math.Exp(-g))
			} else {
				g = math.Min(math.Max(float64(op.gateAlpha)*g+float64(op.gateB), 0), 1)
			}
			for i, e := range x[(img*c+ch)*plane : (img*c+ch+1)*plane] {
				y[(img*c+ch)*plane+i] = float32(float64(e) * g)
			}
		}
	}
}
