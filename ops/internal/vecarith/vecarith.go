package vecarith

import (
	"math"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

// BinOp is a binary float32 operation.
type BinOp uint8

const (
	Add   BinOp = iota // a + b
	Sub                // a - b
	Mul                // a * b
	Div                // a / b
	Max                // max(a, b), NaN if either is NaN
	Min                // min(a, b), NaN if either is NaN
	PRelu              // a < 0 ? a*b : a (b is the slope)
	numBinOps
)

// unOp is an activation, with up to two float32 parameters c0 and c1.
type unOp uint8

const (
	opClamp       unOp = iota // min(max(x, c0), c1), NaN kept
	opLeakyRelu               // x < 0 ? x*c0 : x
	opHardSigmoid             // min(max(x*c0 + c1, 0), 1), NaN kept
	opHardSwish               // x * min(max(x*(1/6) + 0.5, 0), 1)
	opAbs                     // |x| (c0 holds the sign-clearing mask for the assembly)
	opNeg                     // -x (c0 holds the sign bit)
	opSqrt                    // sqrt(x)
	opReciprocal              // 1/x
	opSquare                  // x*x
	opCube                    // x*x*x
	numUnOps
)

type (
	vectorFunc func(dst, a, b []float32)
	scalarFunc func(dst, a []float32, s float32)
	unaryFunc  func(dst, src []float32, c0, c1 float32)
)

// impl is one variant: it handles spans whose length is a multiple of lanes; the twin does the rest.
type impl struct {
	lanes int
	vv    [numBinOps]vectorFunc // dst[i] = a[i] op b[i]
	vs    [numBinOps]scalarFunc // dst[i] = a[i] op s
	sv    [numBinOps]scalarFunc // dst[i] = s op a[i], for Sub, Div and PRelu; nil where twin-only
	un    [numUnOps]unaryFunc

	// rowStats returns acc[j] = Σ x[i] - shift and acc[rowStatsLanes+j] = Σ (x[i] - shift)² over the i with
	// i mod rowStatsLanes = j; the assembly takes a multiple of rowStatsLanes elements. The accumulators
	// come back by value: a pointer passed through this field would escape, and Run must not allocate.
	rowStats func(x []float32, shift float32) (acc [2 * rowStatsLanes]float32)
	// normalizeRow writes dst[i] = (((x[i] - shift) - offset) * invStd) * gamma[i] + beta[i] (one FMA), or the
	// product alone when beta is empty; the assembly takes a multiple of lanes elements.
	normalizeRow func(dst, x, gamma, beta []float32, shift, offset, invStd float32)
}

// rowStatsLanes is the float32 accumulators RowStats keeps of each sum: every variant adds element i
// into accumulator i mod 32, so they all round alike (asm/gen.go has the same constant).
const rowStatsLanes = 32

// active is the variant isa.Pick chose for this CPU and build.
var active = pick(isa.Max())

// pick returns the variant for level limit.
func pick(limit isa.Level) *impl { return isa.PickAt(limit, variants()...).Fn }

// VariantName names the variant in use, for onnxrun --version.
func VariantName() string { return isa.Pick(variants()...).Name }

// HasAsm reports whether the variant in use is assembly.
func HasAsm() bool { return isa.Pick(variants()...).Level > isa.PureGo }

// VV computes dst[i] = a[i] op b[i] for i < len(a); len(b) and len(dst) must be at least len(a).
func VV(op BinOp, dst, a, b []float32) { vvWith(active, op, dst, a, b) }

// VS computes dst[i] = a[i] op s for i < len(a).
func VS(op BinOp, dst, a []float32, s float32) { vsWith(active, op, dst, a, s) }

// SV computes dst[i] = s op b[i] for i < len(b). Max and Min compute b[i] op s: the same value, except
// that of two equal zeros the sign may be the other one's.
func SV(op BinOp, dst []float32, s float32, b []float32) { svWith(active, op, dst, s, b) }

// Clamp computes dst[i] = min(max(src[i], lo), hi): Relu is Clamp(0, +Inf), Relu6 Clamp(0, 6). lo > hi
// gives hi everywhere, as ONNX's Clip; a NaN stays NaN.
func Clamp(dst, src []float32, lo, hi float32) { unWith(active, opClamp, dst, src, lo, hi) }

// LeakyRelu computes dst[i] = src[i] < 0 ? src[i]*alpha : src[i].
func LeakyRelu(dst, src []float32, alpha float32) { unWith(active, opLeakyRelu, dst, src, alpha, 0) }

// HardSigmoid computes dst[i] = min(max(src[i]*alpha + beta, 0), 1), rounding after the product.
func HardSigmoid(dst, src []float32, alpha, beta float32) {
	unWith(active, opHardSigmoid, dst, src, alpha, beta)
}

// HardSwish computes dst[i] = x * min(max(x*(1/6) + 0.5, 0), 1) with x = src[i].
func HardSwish(dst, src []float32) { unWith(active, opHardSwish, dst, src, 1.0/6, 0.5) }

// Abs computes dst[i] = |src[i]| (clearing the sign bit, NaN included).
func Abs(dst, src []float32) { unWith(active, opAbs, dst, src, math.Float32frombits(0x7fffffff), 0) }

// Neg computes dst[i] = -src[i] (flipping the sign bit, NaN included).
func Neg(dst, src []float32) { unWith(active, opNeg, dst, src, math.Float32frombits(0x80000000), 0) }

// Sqrt computes dst[i] = sqrt(src[i]), correctly rounded.
func Sqrt(dst, src []float32) { unWith(active, opSqrt, dst, src, 0, 0) }

// Reciprocal computes dst[i] = 1 / src[i].
func Reciprocal(dst, src []float32) { unWith(active, opReciprocal, dst, src, 0, 0) }

// Square computes dst[i] = src[i] * src[i].
func Square(dst, src []float32) { unWith(active, opSquare, dst, src, 0, 0) }

// Cube computes dst[i] = (src[i] * src[i]) * src[i].
func Cube(dst, src []float32) { unWith(active, opCube, dst, src, 0, 0) }

// bulk is the length the variant's assembly takes of an n-element span: the largest multiple of lanes.
func bulk(k *impl, n int) int { return n - n%k.lanes }

func vvWith(k *impl, op BinOp, dst, a, b []float32) {
	n := len(a)
	m := bulk(k, n)
	if m > 0 {
		k.vv[op](dst[:m], a[:m], b[:m])
	}
	if m < n {
		twin.vv[op](dst[m:n], a[m:], b[m:n])
	}
}

func vsWith(k *impl, op BinOp, dst, a []float32, s float32) {
	n := len(a)
	m := bulk(k, n)
	if m > 0 {
		k.vs[op](dst[:m], a[:m], s)
	}
	if m < n {
		twin.vs[op](dst[m:n], a[m:], s)
	}
}

func svWith(k *impl, op BinOp, dst []float32, s float32, b []float32) {
	if twin.sv[op] == nil { // it commutes
		vsWith(k, op, dst, b, s)
		return
	}
	n := len(b)
	m := bulk(k, n)
	if m > 0 && k.sv[op] != nil {
		k.sv[op](dst[:m], b[:m], s)
	} else {
		m = 0 // no assembly for it: the twin does it all
	}
	if m < n {
		twin.sv[op](dst[m:n], b[m:], s)
	}
}

func unWith(k *impl, op unOp, dst, src []float32, c0, c1 float32) {
	n := len(src)
	m := bulk(k, n)
	if m > 0 {
		k.un[op](dst[:m], src[:m], c0, c1)
	}
	if m < n {
		twin.un[op](dst[m:n], src[m:], c0, c1)
	}
}

// RowStats returns Σ (x[i] - shift) and Σ (x[i] - shift)², each summed in rowStatsLanes float32
// accumulators (element i into accumulator i mod 32, the square rounded before the add) that are then added
// in float64. Subtracting a value near the row's (its first element) keeps the digits of a row far from
// zero with a small spread; 32 independent chains keep the adds pipelined.
func RowStats(x []float32, shift float32) (sum, sumSquares float64) {
	return rowStatsWith(active, x, shift)
}

// NormalizeRow writes dst[i] = (((x[i] - shift) - offset) * invStd) * gamma[i] + beta[i], the last
// multiply and add fused (one rounding), for i < len(x); beta may be nil (then the product alone). The
// mean is subtracted in two parts, the shift RowStats used and the small rest, so that a row far from
// zero is centred without the rounding of its mean to float32. gamma, beta (when present) and dst must be
// at least len(x) long.
func NormalizeRow(dst, x, gamma, beta []float32, shift, offset, invStd float32) {
	normalizeRowWith(active, dst, x, gamma, beta, shift, offset, invStd)
}

func rowStatsWith(k *impl, x []float32, shift float32) (sum, sumSquares float64) {
	var acc [2 * rowStatsLanes]float32
	m := len(x) - len(x)%rowStatsLanes
	if m > 0 {
		acc = k.rowStats(x[:m], shift)
	}
	if m < len(x) {
		addRowStats(&acc, x[m:], shift) // m is a multiple of 32: element m+i goes to accumulator i mod 32
	}
	for j := range rowStatsLanes {
		sum += float64(acc[j])
		sumSquares += float64(acc[rowStatsLanes+j])
	}
	return sum, sumSquares
}

func normalizeRowWith(k *impl, dst, x, gamma, beta []float32, shift, offset, invStd float32) {
	n := len(x)
	m := bulk(k, n)
	var betaHead, betaTail []float32
	if beta != nil {
		betaHead, betaTail = beta[:m], beta[m:n]
	}
	if m > 0 {
		k.normalizeRow(dst[:m], x[:m], gamma[:m], betaHead, shift, offset, invStd)
	}
	if m < n {
		twin.normalizeRow(dst[m:n], x[m:], gamma[m:n], betaTail, shift, offset, invStd)
	}
}
