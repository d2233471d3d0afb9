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
// each with a tiny matrix product between them; here the pool, the two matrix-vector products (over the
// rows of W1 and of W2) and the scaling are parallel over the images and channels, in scratch.

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

// seChunk is the channels (or rows of W1) one work unit takes. The units are the same whatever the
// threads, so every output is computed by the same calls on 1, 2 or 3 threads.
const seChunk = 8

// ScratchSize: the pooled means, the gates (N·C each) and the hidden vectors (N·R) of every image.
func (k *squeezeExciteKernel) ScratchSize() int { return 2*k.n*k.c + k.n*k.r }

// seMinParallel is the work below which a phase stays on one thread: for the passes over X their elements,
// for a product its multiply-adds (a scalar dot product's about as costly as an element of the passes).
const seMinParallel = 1 << 15

// The three phases of a run, each a pass over its units.
const (
	sePool   = iota // the means of a unit's planes
	seHidden        // h = activation(W1·s + B1) for a unit's rows of W1
	seScale         // the gates of a unit's channels from its rows of W2, then Y = X·gate on its planes
)

// Run goes through the three phases, each parallel over its units when it has work enough: the products
// run on the pool like the passes over X (MobileNetV3's last block, 960 channels and R = 240, spends more
// in its two products, 460K multiply-adds, than in its passes over its 47K elements).
func (k *squeezeExciteKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	nc := k.n * k.c
	sc := ctx.Scratch
	r := seRun{k: k, x: in[0].Float32s(), y: out[0].Float32s(), w1: in[1].Float32s(), w2: in[3].Float32s(),
		means: sc[:nc], gates: sc[nc : 2*nc], hidden: sc[2*nc : 2*nc+k.n*k.r]}
	if k.hasB1 {
		r.b1 = in[2].Float32s()
	}
	if k.hasB2 {
		r.b2 = in[4].Float32s()
	}
	threaded := ctx.Pool.Threads() > 1
	k.forUnits(ctx, threaded && nc*k.plane >= seMinParallel, &r, sePool)
	k.forUnits(ctx, threaded && nc*k.r >= seMinParallel, &r, seHidden)
	k.forUnits(ctx, threaded && nc*(k.plane+k.r) >= seMinParallel, &r, seScale)
	return nil
}

// seRun is one Run's operands and scratch.
type seRun struct {
	k                    *squeezeExciteKernel
	x, y, w1, b1, w2, b2 []float32
	means, gates, hidden []float32
}

// units is the number of units of a phase: chunks of channels, or of rows of W1 for seHidden, per image.
func (k *squeezeExciteKernel) units(phase int) int {
	if phase == seHidden {
		return k.n * ceilDiv(k.r, seChunk)
	}
	return k.n * ceilDiv(k.c, seChunk)
}

// forUnits runs a phase over all its units, on the pool when parallel.
func (k *squeezeExciteKernel) forUnits(ctx *ops.ExecContext, parallel bool, r *seRun, phase int) {
	units := k.units(phase)
	if !parallel || units < 2 {
		for q := range units {
			r.unit(q, phase)
		}
		return
	}
	t := seTaskPool.Get().(*seTask)
	t.r, t.phase, t.units = *r, phase, units
	t.next.Store(0)
	ctx.Pool.ForTask(ctx.Pool.Threads(), t)
	*t = seTask{}
	seTaskPool.Put(t)
}

// unit does unit q of a phase: image q / (units per image), its channels or rows [lo, hi).
func (r *seRun) unit(q, phase int) {
	k := r.k
	size := k.c
	if phase == seHidden {
		size = k.r
	}
	perImage := ceilDiv(size, seChunk)
	img, lo := q/perImage, q%perImage*seChunk
	hi := min(lo+seChunk, size)
	switch phase {
	case sePool:
		for p := img*k.c + lo; p < img*k.c+hi; p++ {
			r.means[p] = sum8(r.x[p*k.plane:(p+1)*k.plane]) / float32(k.plane)
		}
	case seHidden:
		h := r.hidden[img*k.r+lo : img*k.r+hi]
		matVecRows(h, r.w1, r.means[img*k.c:(img+1)*k.c], r.b1, lo, hi)
		k.op.activate(h)
	case seScale:
		g := r.gates[img*k.c+lo : img*k.c+hi]
		matVecRows(g, r.w2, r.hidden[img*k.r:(img+1)*k.r], r.b2, lo, hi)
		k.op.gateOf(g)
		for p := img*k.c + lo; p < img*k.c+hi; p++ {
			vecarith.VS(vecarith.Mul, r.y[p*k.plane:(p+1)*k.plane], r.x[p*k.plane:(p+1)*k.plane], r.gates[p])
		}
	}
}

// seTask is one threaded phase: threads claim units until none is left.
type seTask struct {
	r     seRun
	phase int
	units int
	next  atomic.Int64
}

var seTaskPool = sync.Pool{New: func() any { return new(seTask) }}

func (t *seTask) Do(_, _ int) {
	for {
		q := int(t.next.Add(1) - 1)
		if q >= t.units {
			return
		}
		t.r.unit(q, t.phase)
	}
}

// matVecRows is rows [lo, hi) of matVec(·, w, v, b): dst (hi-lo long) = those rows of W·v plus b[lo:hi]
// (b optional).
func matVecRows(dst, w, v, b []float32, lo, hi int) {
	if b != nil {
		b = b[lo:hi]
	}
	matVec(dst, w[lo*len(v):hi*len(v)], v, b)
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
