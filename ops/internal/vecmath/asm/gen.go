//go:build ignore

// gen writes vecmath_amd64.s (the AVX2+FMA and AVX-512 kernels of package vecmath) and consts_amd64.go
// (the constants they read, by name from coeffs.go, so that the assembly and the pure-Go twins share one
// set of values). One description of each algorithm is emitted at both widths: 8 lanes in ymm registers
// (AVX2: blends through VBLENDVPS, the caller finishes the last len%8 elements with the twin) and 16 lanes
// in zmm registers (AVX-512: opmask blends, masked loads and stores for the tail, VSCALEFPS for 2^n).
//
// Run from ops/internal/vecmath: go run ./asm/gen.go (go generate does this).
package main

import (
	"fmt"
	"os"
	"strings"
)

// floatConsts are the float32 constants of coeffs.go (and expressions of them) the kernels read; their
// index times 4 is their offset in vecConsts.
var floatConsts = []string{
	"log2e", "-ln2Hi", "-ln2Lo", "ln2Hi", "ln2Lo", "1", "2", "0.5", "-0.5", "expMax", "expMin",
	"expC2", "expC3", "expC4", "expC5", "expC6",
	"logC3", "logC4", "logC5", "logC6", "logC7", "logC8", "logC9", "0x1p-126", "0x1p23", "-23",
	"tanhC3", "tanhC5", "tanhC7", "tanhC9", "tanhC11", "tanhSmall",
	"erfC1", "erfC3", "erfC5", "erfC7", "erfC9", "erfC11", "erfC13", "erfOne", "sqrt1_2",
	"erfcC0", "erfcC1", "erfcC2", "erfcC3", "erfcC4", "erfcC5", "erfcC6", "erfcC7", "erfcC8", "erfcC9", "erfcC10",
	"geluTanhA", "geluTanhB",
}

// bitConsts are the integer constants (bit patterns), in vecBits.
var bitConsts = []struct {
	name string
	bits uint32
}{
	{"sign", 0x80000000}, {"bias", 127}, {"mant", 0x007fffff}, {"oneBits", 0x3f800000},
	{"sqrt2Bits", 0x3fb504f3}, {"bit23", 0x00800000}, {"negInf", 0xff800000}, {"nan", 0x7fc00000},
}

var out strings.Builder

// sink is where emit writes: out, or one copy's buffer while unrolled bodies are generated.
var sink = &out

func emit(format string, args ...any) { fmt.Fprintf(sink, "\t"+format+"\n", args...) }

func fc(name string) string {
	for i, n := range floatConsts {
		if n == name {
			return fmt.Sprintf("·vecConsts+%d(SB)", 4*i)
		}
	}
	panic("no float constant " + name)
}

func bc(name string) string {
	for i, c := range bitConsts {
		if c.name == name {
			return fmt.Sprintf("·vecBits+%d(SB)", 4*i)
		}
	}
	panic("no bit constant " + name)
}

// isa is one width: its register prefix, lanes, and the instructions that differ.
type isa struct {
	name   string // AVX2 or AVX512
	reg    string // Y or Z
	lanes  int
	avx512 bool
	// copy is which of the unrolled copies of a body is being generated (0 or 1): copy 1's work registers
	// are 16-23 instead of 0-7 and its blend mask K3 instead of K2 (AVX-512 only: AVX2 has 16 registers).
	copy int
}

// r names register i; the work registers (0-7) of the second unrolled copy are 16-23.
func (a isa) r(i int) string {
	if i < rSign && a.copy == 1 {
		i += 16
	}
	return fmt.Sprintf("%s%d", a.reg, i)
}

// k is the opmask register of the blends.
func (a isa) k() string { return []string{"K2", "K3"}[a.copy] }

// Registers: 0-7 work, 8 the sign mask, 9 AVX2's broadcast temporary, 10-15 exp's constants.
const (
	rSign    = 8
	rTmp     = 9
	rLog2e   = 10
	rNegHi   = 11
	rNegLo   = 12
	rOne     = 13
	rExpMax  = 14
	rExpMin  = 15
	maskTail = "K1"
)

// bcast loads a float constant into every lane of register d.
func (a isa) bcast(name string, d int) { emit("VBROADCASTSS %s, %s", fc(name), a.r(d)) }

// bcastBits loads a bit constant into every lane of register d.
func (a isa) bcastBits(name string, d int) { emit("VPBROADCASTD %s, %s", bc(name), a.r(d)) }

// fmaC sets p = p·m + const.
func (a isa) fmaC(name string, m, p int) {
	if a.avx512 {
		emit("VFMADD213PS.BCST %s, %s, %s", fc(name), a.r(m), a.r(p))
		return
	}
	a.bcast(name, rTmp)
	emit("VFMADD213PS %s, %s, %s", a.r(rTmp), a.r(m), a.r(p))
}

// opC emits op const, src, dst (dst = src op const for VMULPS/VADDPS; VSUBPS computes src - const).
func (a isa) opC(op, name string, src, dst int) {
	if a.avx512 {
		emit("%s.BCST %s, %s, %s", op, fc(name), a.r(src), a.r(dst))
		return
	}
	a.bcast(name, rTmp)
	emit("%s %s, %s, %s", op, a.r(rTmp), a.r(src), a.r(dst))
}

// horner sets p = Horner(coefficients highest first) at m, starting with the first broadcast.
func (a isa) horner(m, p int, coeffs ...string) {
	a.bcast(coeffs[0], p)
	for _, c := range coeffs[1:] {
		a.fmaC(c, m, p)
	}
}

// selectLanes sets dst = cond(x, y) ? src : dst, cond a VCMPPS predicate on x (first) and y.
// scratch is a free register (AVX2's mask).
func (a isa) selectLanes(pred int, x, y, src, dst, scratch int) {
	if a.avx512 {
		emit("VCMPPS $%d, %s, %s, %s", pred, a.r(y), a.r(x), a.k())
		emit("VMOVAPS %s, %s, %s", a.r(src), a.k(), a.r(dst))
		return
	}
	emit("VCMPPS $%d, %s, %s, %s", pred, a.r(y), a.r(x), a.r(scratch))
	emit("VBLENDVPS %s, %s, %s, %s", a.r(scratch), a.r(src), a.r(dst), a.r(dst))
}

// Comparison predicates.
const (
	predEQ  = 0  // EQ_OQ
	predLT  = 1  // LT_OS
	predNGE = 9  // NGE_US: less, or unordered
	predGE  = 13 // GE_OS
	predGT  = 14 // GT_OS
)

// exp sets register x to e^x; t1, t2, t3 are scratch (t3 for AVX2 only).
func (a isa) exp(x, t1, t2, t3 int) {
	emit("VMINPS %s, %s, %s", a.r(x), a.r(rExpMax), a.r(x)) // NaN stays (second source of Intel's order)
	emit("VMAXPS %s, %s, %s", a.r(x), a.r(rExpMin), a.r(x))
	emit("VMULPS %s, %s, %s", a.r(rLog2e), a.r(x), a.r(t1))
	if a.avx512 {
		emit("VRNDSCALEPS $0, %s, %s", a.r(t1), a.r(t1))
	} else {
		emit("VROUNDPS $0, %s, %s", a.r(t1), a.r(t1))
	}
	emit("VFMADD231PS %s, %s, %s", a.r(rNegHi), a.r(t1), a.r(x))
	emit("VFMADD231PS %s, %s, %s", a.r(rNegLo), a.r(t1), a.r(x))
	a.horner(x, t2, "expC6", "expC5", "expC4", "expC3", "expC2")
	emit("VFMADD213PS %s, %s, %s", a.r(rOne), a.r(x), a.r(t2))
	emit("VFMADD213PS %s, %s, %s", a.r(rOne), a.r(x), a.r(t2))
	if a.avx512 {
		emit("VSCALEFPS %s, %s, %s", a.r(t1), a.r(t2), a.r(x))
		return
	}
	// 2^n as 2^(n>>1)·2^(n-(n>>1)), each built from its exponent bits.
	emit("VCVTPS2DQ %s, %s", a.r(t1), a.r(t1))
	emit("VPSRAD $1, %s, %s", a.r(t1), a.r(t3))
	emit("VPSUBD %s, %s, %s", a.r(t3), a.r(t1), a.r(t1))
	a.bcastBits("bias", rTmp)
	emit("VPADDD %s, %s, %s", a.r(rTmp), a.r(t1), a.r(t1))
	emit("VPADDD %s, %s, %s", a.r(rTmp), a.r(t3), a.r(t3))
	emit("VPSLLD $23, %s, %s", a.r(t1), a.r(t1))
	emit("VPSLLD $23, %s, %s", a.r(t3), a.r(t3))
	emit("VMULPS %s, %s, %s", a.r(t3), a.r(t2), a.r(x))
	emit("VMULPS %s, %s, %s", a.r(t1), a.r(x), a.r(x))
}

// The element-wise bodies: input in register 0, result in register 0.
var bodies = []struct {
	name string
	emit func(a isa)
}{
	{"exp", func(a isa) { a.exp(0, 1, 2, 3) }},
	{"sigmoid", func(a isa) {
		emit("VXORPS %s, %s, %s", a.r(rSign), a.r(0), a.r(0))
		a.exp(0, 1, 2, 3)
		emit("VADDPS %s, %s, %s", a.r(rOne), a.r(0), a.r(0))
		emit("VDIVPS %s, %s, %s", a.r(0), a.r(rOne), a.r(0))
	}},
	{"silu", func(a isa) {
		emit("VMOVAPS %s, %s", a.r(0), a.r(4))
		emit("VXORPS %s, %s, %s", a.r(rSign), a.r(0), a.r(0))
		a.exp(0, 1, 2, 3)
		emit("VADDPS %s, %s, %s", a.r(rOne), a.r(0), a.r(0))
		emit("VDIVPS %s, %s, %s", a.r(0), a.r(4), a.r(0))
	}},
	{"gelu_tanh", func(a isa) {
		emit("VMOVAPS %s, %s", a.r(0), a.r(4))
		emit("VMULPS %s, %s, %s", a.r(0), a.r(0), a.r(1))
		a.bcast("geluTanhB", 2)
		a.fmaC("geluTanhA", 1, 2)
		emit("VMULPS %s, %s, %s", a.r(2), a.r(0), a.r(0))
		a.exp(0, 1, 2, 3)
		emit("VADDPS %s, %s, %s", a.r(rOne), a.r(0), a.r(0))
		emit("VDIVPS %s, %s, %s", a.r(0), a.r(4), a.r(0))
	}},
	{"tanh", func(a isa) {
		x, abs := 4, 5
		emit("VMOVAPS %s, %s", a.r(0), a.r(x))
		emit("VANDNPS %s, %s, %s", a.r(x), a.r(rSign), a.r(abs))
		// Large: ±(1 - 2/(e^{2|x|}+1)).
		emit("VADDPS %s, %s, %s", a.r(abs), a.r(abs), a.r(0))
		a.exp(0, 1, 2, 3)
		emit("VADDPS %s, %s, %s", a.r(rOne), a.r(0), a.r(0))
		a.bcast("2", 1)
		emit("VDIVPS %s, %s, %s", a.r(0), a.r(1), a.r(0))
		emit("VSUBPS %s, %s, %s", a.r(0), a.r(rOne), a.r(0))
		emit("VANDPS %s, %s, %s", a.r(rSign), a.r(x), a.r(1))
		emit("VORPS %s, %s, %s", a.r(1), a.r(0), a.r(0))
		// Small: x + x³·P(x²).
		emit("VMULPS %s, %s, %s", a.r(x), a.r(x), a.r(6))
		a.horner(6, 2, "tanhC11", "tanhC9", "tanhC7", "tanhC5", "tanhC3")
		emit("VMULPS %s, %s, %s", a.r(6), a.r(x), a.r(1))
		emit("VFMADD213PS %s, %s, %s", a.r(x), a.r(2), a.r(1))
		a.bcast("tanhSmall", 3)
		a.selectLanes(predLT, abs, 3, 1, 0, 2)
	}},
	{"erf", func(a isa) {
		x, abs := 4, 5
		emit("VMOVAPS %s, %s", a.r(0), a.r(x))
		emit("VANDNPS %s, %s, %s", a.r(x), a.r(rSign), a.r(abs))
		a.erfcLarge(abs, 0)
		// ±(1 - erfc).
		emit("VSUBPS %s, %s, %s", a.r(0), a.r(rOne), a.r(0))
		emit("VANDPS %s, %s, %s", a.r(rSign), a.r(x), a.r(1))
		emit("VORPS %s, %s, %s", a.r(1), a.r(0), a.r(0))
		a.erfSmall(x, 1)
		a.selectLanes(predLT, abs, rOne, 1, 0, 2)
	}},
	{"gelu_erf", func(a isa) {
		x, z, abs := 4, 7, 5
		emit("VMOVAPS %s, %s", a.r(0), a.r(x))
		a.opC("VMULPS", "sqrt1_2", x, z)
		emit("VANDNPS %s, %s, %s", a.r(z), a.r(rSign), a.r(abs))
		a.erfcLarge(abs, 0)
		// x > 0: x·(1 - erfc/2) in 1; otherwise (x/2)·erfc in 0.
		a.bcast("-0.5", 1)
		emit("VFMADD213PS %s, %s, %s", a.r(rOne), a.r(0), a.r(1))
		emit("VMULPS %s, %s, %s", a.r(1), a.r(x), a.r(1))
		a.opC("VMULPS", "0.5", x, 2)
		emit("VMULPS %s, %s, %s", a.r(0), a.r(2), a.r(0))
		emit("VXORPS %s, %s, %s", a.r(3), a.r(3), a.r(3))
		a.selectLanes(predGT, x, 3, 1, 0, 2)
		// Small: h + h·erf(z), h = x/2.
		a.erfSmall(z, 1)
		a.opC("VMULPS", "0.5", x, 2)
		emit("VFMADD213PS %s, %s, %s", a.r(2), a.r(1), a.r(2))
		a.selectLanes(predLT, abs, rOne, 2, 0, 1)
	}},
	{"log", func(a isa) {
		x := 4
		emit("VMOVAPS %s, %s", a.r(0), a.r(x))
		// Denormals: x·2^23, exponent -23.
		a.opC("VMULPS", "0x1p23", 0, 1)
		a.bcast("0x1p-126", 3)
		emit("VXORPS %s, %s, %s", a.r(2), a.r(2), a.r(2))
		a.selectLanes(predLT, x, 3, 1, 0, 6)
		a.bcast("-23", 1)
		a.selectLanes(predLT, x, 3, 1, 2, 6)
		// e = bits>>23 - 127 (+ eadj), m = mantissa | 1.0's exponent.
		emit("VPSRLD $23, %s, %s", a.r(0), a.r(1))
		a.bcastBits("bias", rTmp)
		emit("VPSUBD %s, %s, %s", a.r(rTmp), a.r(1), a.r(1))
		emit("VCVTDQ2PS %s, %s", a.r(1), a.r(1))
		emit("VADDPS %s, %s, %s", a.r(2), a.r(1), a.r(1))
		a.bcastBits("mant", rTmp)
		emit("VPAND%s %s, %s, %s", a.dq(), a.r(rTmp), a.r(0), a.r(0))
		a.bcastBits("oneBits", rTmp)
		emit("VPOR%s %s, %s, %s", a.dq(), a.r(rTmp), a.r(0), a.r(0))
		// m > √2: m/2, e+1.
		a.bcastBits("sqrt2Bits", rTmp)
		a.bcastBits("bit23", 3)
		if a.avx512 {
			emit("VPCMPGTD %s, %s, %s", a.r(rTmp), a.r(0), a.k())
			emit("VPSUBD %s, %s, %s, %s", a.r(3), a.r(0), a.k(), a.r(0))
			emit("VADDPS %s, %s, %s, %s", a.r(rOne), a.r(1), a.k(), a.r(1))
		} else {
			emit("VPCMPGTD %s, %s, %s", a.r(rTmp), a.r(0), a.r(2))
			emit("VPAND %s, %s, %s", a.r(2), a.r(3), a.r(3))
			emit("VPSUBD %s, %s, %s", a.r(3), a.r(0), a.r(0))
			emit("VANDPS %s, %s, %s", a.r(rOne), a.r(2), a.r(2))
			emit("VADDPS %s, %s, %s", a.r(2), a.r(1), a.r(1))
		}
		// f = m-1; r = f³·P(f) - f²/2 + f; e·ln2 added in two FMAs.
		emit("VSUBPS %s, %s, %s", a.r(rOne), a.r(0), a.r(0))
		emit("VMULPS %s, %s, %s", a.r(0), a.r(0), a.r(2))
		a.horner(0, 5, "logC9", "logC8", "logC7", "logC6", "logC5", "logC4", "logC3")
		emit("VMULPS %s, %s, %s", a.r(0), a.r(2), a.r(6))
		a.opC("VMULPS", "-0.5", 2, 7)
		emit("VFMADD213PS %s, %s, %s", a.r(7), a.r(5), a.r(6))
		emit("VADDPS %s, %s, %s", a.r(0), a.r(6), a.r(6))
		a.bcast("ln2Lo", 2)
		emit("VFMADD231PS %s, %s, %s", a.r(2), a.r(1), a.r(6))
		a.bcast("ln2Hi", 2)
		emit("VFMADD231PS %s, %s, %s", a.r(2), a.r(1), a.r(6))
		// Specials: +Inf stays, ±0 gives -Inf, negatives and NaN give NaN.
		a.bcastBits("negInf", 1)
		emit("VXORPS %s, %s, %s", a.r(1), a.r(rSign), a.r(3)) // +Inf
		a.selectLanes(predEQ, x, 3, x, 6, 2)
		emit("VXORPS %s, %s, %s", a.r(3), a.r(3), a.r(3))
		a.selectLanes(predEQ, x, 3, 1, 6, 2)
		a.bcastBits("nan", 1)
		a.selectLanes(predNGE, x, 3, 1, 6, 2)
		emit("VMOVAPS %s, %s", a.r(6), a.r(0))
	}},
}

func (a isa) dq() string {
	if a.avx512 {
		return "D"
	}
	return ""
}

// erfcLarge sets dst = erfc(|x|) = e^{h(|x|)} for abs (the |x| register), 0 from erfOne on.
func (a isa) erfcLarge(abs, dst int) {
	a.horner(abs, dst, "erfcC10", "erfcC9", "erfcC8", "erfcC7", "erfcC6", "erfcC5", "erfcC4", "erfcC3",
		"erfcC2", "erfcC1", "erfcC0")
	a.exp(dst, 1, 2, 3)
	a.bcast("erfOne", 2)
	if a.avx512 {
		emit("VCMPPS $%d, %s, %s, %s", predGE, a.r(2), a.r(abs), a.k())
		emit("VXORPS %s, %s, %s, %s", a.r(dst), a.r(dst), a.k(), a.r(dst))
		return
	}
	emit("VCMPPS $%d, %s, %s, %s", predGE, a.r(2), a.r(abs), a.r(2))
	emit("VANDNPS %s, %s, %s", a.r(dst), a.r(2), a.r(dst))
}

// erfSmall sets dst = x·P(x²), erf for |x| < 1 (uses registers 2, 3 and 6).
func (a isa) erfSmall(x, dst int) {
	emit("VMULPS %s, %s, %s", a.r(x), a.r(x), a.r(6))
	a.horner(6, 2, "erfC13", "erfC11", "erfC9", "erfC7", "erfC5", "erfC3", "erfC1")
	emit("VMULPS %s, %s, %s", a.r(2), a.r(x), a.r(dst))
}

// prologue loads the registers every body shares.
func (a isa) prologue() {
	a.bcastBits("sign", rSign)
	a.bcast("log2e", rLog2e)
	a.bcast("-ln2Hi", rNegHi)
	a.bcast("-ln2Lo", rNegLo)
	a.bcast("1", rOne)
	a.bcast("expMax", rExpMax)
	a.bcast("expMin", rExpMin)
}

func (a isa) function(name string, body func(isa)) {
	sym := goName(name) + a.name
	fmt.Fprintf(&out, "\n// func %s(dst, src []float32)\nTEXT ·%s(SB), NOSPLIT, $0-48\n", sym, sym)
	emit("MOVQ dst_base+0(FP), DI")
	emit("MOVQ src_base+24(FP), SI")
	emit("MOVQ src_len+32(FP), CX")
	a.prologue()
	if a.avx512 {
		a.unrolledLoop(sym, body, true)
	}
	a.loop(sym, func() {
		body(a)
	}, func(mem string, masked bool) { a.load(mem, 0, masked) }, func(mem string, masked bool) { a.store(0, mem, masked) })
	fmt.Fprintf(&out, "%s_done:\n", sym)
	emit("VZEROUPPER")
	emit("RET")
}

// unrolledLoop runs body over two vectors at a time while at least two are left (loop then does what
// remains). The two copies' instructions alternate: each body is one long chain of dependent operations
// (polynomials, then exp), and with only one vector's chain in the out-of-order window the FMA units
// wait on latency; two independent chains side by side keep them busy.
func (a isa) unrolledLoop(sym string, body func(isa), store bool) {
	fmt.Fprintf(&out, "%s_loop2:\n", sym)
	emit("CMPQ CX, $%d", 2*a.lanes)
	emit("JLT %s_loop", sym)
	var copies [2]strings.Builder
	for c := range copies {
		b := a
		b.copy = c
		sink = &copies[c]
		mem := fmt.Sprintf("%d(SI)", 4*a.lanes*c)
		b.load(mem, 0, false)
		body(b)
		if store {
			b.store(0, fmt.Sprintf("%d(DI)", 4*a.lanes*c), false)
		}
	}
	sink = &out
	first := strings.SplitAfter(copies[0].String(), "\n")
	second := strings.SplitAfter(copies[1].String(), "\n")
	if len(first) != len(second) {
		panic("unrolled copies of " + sym + " differ in length")
	}
	for i := range first {
		out.WriteString(first[i])
		out.WriteString(second[i])
	}
	emit("ADDQ $%d, SI", 8*a.lanes)
	emit("ADDQ $%d, DI", 8*a.lanes)
	emit("SUBQ $%d, CX", 2*a.lanes)
	emit("JMP %s_loop2", sym)
}

func (a isa) load(mem string, dst int, masked bool) {
	if masked {
		emit("VMOVUPS.Z %s, %s, %s", mem, maskTail, a.r(dst))
		return
	}
	emit("VMOVUPS %s, %s", mem, a.r(dst))
}

func (a isa) store(src int, mem string, masked bool) {
	if masked {
		emit("VMOVUPS %s, %s, %s", a.r(src), maskTail, mem)
		return
	}
	emit("VMOVUPS %s, %s", a.r(src), mem)
}

// loop runs body over CX elements at SI (and DI): whole vectors, then (AVX-512) a masked tail; AVX2
// stops at the last whole vector (the Go wrapper finishes with the twin).
func (a isa) loop(sym string, body func(), load, store func(mem string, masked bool)) {
	fmt.Fprintf(&out, "%s_loop:\n", sym)
	emit("CMPQ CX, $%d", a.lanes)
	emit("JLT %s_tail", sym)
	load("(SI)", false)
	body()
	store("(DI)", false)
	emit("ADDQ $%d, SI", 4*a.lanes)
	emit("ADDQ $%d, DI", 4*a.lanes)
	emit("SUBQ $%d, CX", a.lanes)
	emit("JMP %s_loop", sym)
	fmt.Fprintf(&out, "%s_tail:\n", sym)
	if !a.avx512 {
		return
	}
	emit("TESTQ CX, CX")
	emit("JZ %s_done", sym)
	emit("MOVL $1, AX")
	emit("SHLL CX, AX")
	emit("DECL AX")
	emit("KMOVW AX, K1")
	load("(SI)", true)
	body()
	store("(DI)", true)
}

// expShiftStore: dst[i] = e^{src[i]+shift}, returns the sum (Softmax's middle pass); with store false,
// expShiftSum(src, shift) only returns the sum (LogSoftmax's).
func (a isa) expShiftStore(store bool) {
	sym := "expShiftStore" + a.name
	if store {
		fmt.Fprintf(&out, "\n// func %s(dst, src []float32, shift float32) float32\nTEXT ·%s(SB), NOSPLIT, $0-60\n", sym, sym)
		emit("MOVQ dst_base+0(FP), DI")
		emit("MOVQ src_base+24(FP), SI")
		emit("MOVQ src_len+32(FP), CX")
	} else {
		sym = "expShiftSum" + a.name
		fmt.Fprintf(&out, "\n// func %s(src []float32, shift float32) float32\nTEXT ·%s(SB), NOSPLIT, $0-36\n", sym, sym)
		emit("MOVQ src_base+0(FP), SI")
		emit("MOVQ src_len+8(FP), CX")
	}
	shiftArg, retArg := "shift+48(FP)", "ret+56(FP)"
	if !store {
		shiftArg, retArg = "shift+24(FP)", "ret+32(FP)"
	}
	a.prologue()
	emit("VBROADCASTSS %s, %s", shiftArg, a.r(7))
	emit("VXORPS %s, %s, %s", a.r(6), a.r(6), a.r(6))
	if a.avx512 {
		// Two vectors at a time, the second copy's sum in Z22 (its shift in Z23), added to Z6 after the
		// loops: the sum's order changes, within the rounding the Softmax tests allow against float64.
		emit("VBROADCASTSS %s, Z23", shiftArg)
		emit("VXORPS Z22, Z22, Z22")
		a.unrolledLoop(sym, func(b isa) {
			emit("VADDPS %s, %s, %s", b.r(7), b.r(0), b.r(0))
			b.exp(0, 1, 2, 3)
			emit("VADDPS %s, %s, %s", b.r(0), b.r(6), b.r(6))
		}, store)
	}
	masked := false
	a.loop(sym, func() {
		emit("VADDPS %s, %s, %s", a.r(7), a.r(0), a.r(0))
		a.exp(0, 1, 2, 3)
		if masked {
			emit("VADDPS %s, %s, %s, %s", a.r(0), a.r(6), maskTail, a.r(6))
		} else {
			emit("VADDPS %s, %s, %s", a.r(0), a.r(6), a.r(6))
		}
		masked = true // the second call of body is the tail's
	}, func(mem string, m bool) { a.load(mem, 0, m) }, func(mem string, m bool) {
		if store {
			a.store(0, mem, m)
		}
	})
	fmt.Fprintf(&out, "%s_done:\n", sym)
	if a.avx512 {
		emit("VADDPS Z22, Z6, Z6")
	}
	a.reduceLanes("VADDPS")
	emit("VZEROUPPER")
	emit("MOVSS X6, %s", retArg)
	emit("RET")
}

// reduceLanes folds the lanes of register 6 into its lane 0 with op (VADDPS, VMAXPS), halving the width
// each step; register 7 is scratch.
func (a isa) reduceLanes(op string) {
	if a.avx512 {
		emit("VEXTRACTF64X4 $1, Z6, Y7")
		emit("%s Y7, Y6, Y6", op)
	}
	emit("VEXTRACTF128 $1, Y6, X7")
	emit("%s X7, X6, X6", op)
	emit("VPERMILPS $0x4e, X6, X7")
	emit("%s X7, X6, X6", op)
	emit("VPERMILPS $0xb1, X6, X7")
	emit("%s X7, X6, X6", op)
}

// rowMax returns the largest element of src (-Inf for none; a NaN may or may not win, which Softmax does
// not mind: the NaN reaches the sum either way).
func (a isa) rowMax() {
	sym := "rowMax" + a.name
	fmt.Fprintf(&out, "\n// func %s(src []float32) float32\nTEXT ·%s(SB), NOSPLIT, $0-28\n", sym, sym)
	emit("MOVQ src_base+0(FP), SI")
	emit("MOVQ src_len+8(FP), CX")
	a.bcastBits("negInf", 6)
	if a.avx512 {
		// Two vectors at a time, the second copy's maximum in Z22, folded into Z6 after the loops.
		emit("VMOVAPS Z6, Z22")
		a.unrolledLoop(sym, func(b isa) {
			emit("VMAXPS %s, %s, %s", b.r(0), b.r(6), b.r(6))
		}, false)
	}
	masked := false
	a.loop(sym, func() {
		if masked {
			emit("VMAXPS %s, %s, %s, %s", a.r(0), a.r(6), maskTail, a.r(6))
		} else {
			emit("VMAXPS %s, %s, %s", a.r(0), a.r(6), a.r(6))
		}
		masked = true
	}, func(mem string, m bool) { a.load(mem, 0, m) }, func(string, bool) {})
	fmt.Fprintf(&out, "%s_done:\n", sym)
	if a.avx512 {
		emit("VMAXPS Z22, Z6, Z6")
	}
	a.reduceLanes("VMAXPS")
	emit("VZEROUPPER")
	emit("MOVSS X6, ret+24(FP)")
	emit("RET")
}

// scale multiplies dst by s in place.
func (a isa) scale() {
	sym := "scale" + a.name
	fmt.Fprintf(&out, "\n// func %s(dst []float32, s float32)\nTEXT ·%s(SB), NOSPLIT, $0-28\n", sym, sym)
	emit("MOVQ dst_base+0(FP), DI")
	emit("MOVQ DI, SI")
	emit("MOVQ dst_len+8(FP), CX")
	emit("VBROADCASTSS s+24(FP), %s", a.r(6))
	a.loop(sym, func() {
		emit("VMULPS %s, %s, %s", a.r(6), a.r(0), a.r(0))
	}, func(mem string, m bool) { a.load(mem, 0, m) }, func(mem string, m bool) { a.store(0, mem, m) })
	fmt.Fprintf(&out, "%s_done:\n", sym)
	emit("VZEROUPPER")
	emit("RET")
}

func goName(name string) string {
	parts := strings.Split(name, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

func main() {
	out.WriteString("// Code generated by asm/gen.go. DO NOT EDIT.\n\n//go:build amd64 && !noasm\n\n#include \"textflag.h\"\n")
	for _, a := range []isa{{name: "AVX2", reg: "Y", lanes: 8}, {name: "AVX512", reg: "Z", lanes: 16, avx512: true}} {
		for _, b := range bodies {
			a.function(b.name, b.emit)
		}
		a.expShiftStore(true)
		a.expShiftStore(false)
		a.rowMax()
		a.scale()
	}
	must(os.WriteFile("vecmath_amd64.s", []byte(out.String()), 0o644))

	var g strings.Builder
	g.WriteString("// Code generated by asm/gen.go. DO NOT EDIT.\n\n//go:build amd64 && !noasm\n\npackage vecmath\n\n")
	g.WriteString("// vecConsts are the float constants the assembly reads, by offset.\nvar vecConsts = [...]float32{\n")
	for _, c := range floatConsts {
		fmt.Fprintf(&g, "\t%s,\n", c)
	}
	g.WriteString("}\n\n// vecBits are the bit-pattern constants the assembly reads, by offset.\nvar vecBits = [...]uint32{\n")
	for _, c := range bitConsts {
		fmt.Fprintf(&g, "\t%#08x, // %s\n", c.bits, c.name)
	}
	g.WriteString("}\n\n")
	for _, a := range []string{"AVX2", "AVX512"} {
		for _, b := range bodies {
			fmt.Fprintf(&g, "//go:noescape\nfunc %s%s(dst, src []float32)\n\n", goName(b.name), a)
		}
		fmt.Fprintf(&g, "//go:noescape\nfunc expShiftStore%s(dst, src []float32, shift float32) float32\n\n", a)
		fmt.Fprintf(&g, "//go:noescape\nfunc expShiftSum%s(src []float32, shift float32) float32\n\n", a)
		fmt.Fprintf(&g, "//go:noescape\nfunc rowMax%s(src []float32) float32\n\n", a)
		fmt.Fprintf(&g, "//go:noescape\nfunc scale%s(dst []float32, s float32)\n\n", a)
	}
	must(os.WriteFile("consts_amd64.go", []byte(strings.TrimRight(g.String(), "\n")+"\n"), 0o644))
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
