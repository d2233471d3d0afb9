package igemm

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// suiteCase is one product of the suite, generated from a seed.
type suiteCase struct {
	m, n, k          int
	aSigned, bSigned bool
	bTrans           bool
	zeroA, zeroB     int // 0: none, 1: per tensor, 2: per row / column
	requant          bool
	ySigned          bool
	bias             BiasMode
}

func (c suiteCase) String() string {
	return fmt.Sprintf("%dx%dx%d/as%v/bs%v/bt%v/za%d/zb%d/rq%v/ys%v/bias%d", c.m, c.n, c.k, c.aSigned, c.bSigned, c.bTrans,
		c.zeroA, c.zeroB, c.requant, c.ySigned, c.bias)
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

// params builds the case's Params with extra stride padding, and its expected output by MultiplyReference.
func (c suiteCase) params(r *rand.Rand) (got, want *Params) {
	lda, ldb, ldc := c.k+3, c.n+5, c.n+2
	bRows := c.k
	if c.bTrans {
		ldb, bRows = c.k+1, c.n
	}
	p := &Params{M: c.m, N: c.n, K: c.k,
		A: randBytes(r, c.m*lda), LDA: lda, ASigned: c.aSigned,
		B: randBytes(r, bRows*ldb), LDB: ldb, BSigned: c.bSigned, BTrans: c.bTrans}
	zero := func(kind, count int) []byte {
		switch kind {
		case 1:
			return randBytes(r, 1)
		case 2:
			return randBytes(r, count)
		}
		return nil
	}
	p.AZero, p.BZero = zero(c.zeroA, c.m), zero(c.zeroB, c.n)
	q := *p
	if !c.requant {
		p.C, p.LDC = make([]int32, c.m*ldc), ldc
		q.C, q.LDC = make([]int32, c.m*ldc), ldc
		return p, &q
	}
	rq := Requant{AScale: []float32{0.02 + r.Float32()*0.01}, BScale: make([]float32, c.n), YScale: 0.5 + r.Float32()*5,
		YSigned: c.ySigned, YZero: int32(r.IntN(100)), LDY: ldc, BiasMode: c.bias}
	if c.ySigned {
		rq.YZero -= 50
	}
	for j := range rq.BScale {
		rq.BScale[j] = 0.01 + r.Float32()*0.05
	}
	if c.zeroB == 1 { // a per-tensor B scale with a per-tensor B zero point
		rq.BScale = rq.BScale[:1]
	}
	if c.zeroA == 2 { // per-row scales with the per-row zero points (the epilogue's other paths)
		rq.AScale = make([]float32, c.m)
		for i := range rq.AScale {
			rq.AScale[i] = 0.02 + r.Float32()*0.01
		}
	}
	switch c.bias {
	case BiasPerRow:
		rq.Bias = make([]int32, c.m)
	case BiasPerCol:
		rq.Bias = make([]int32, c.n)
	}
	for i := range rq.Bias {
		rq.Bias[i] = int32(r.IntN(20001) - 10000)
	}
	rq2 := rq
	rq.Y, rq2.Y = make([]byte, c.m*ldc), make([]byte, c.m*ldc)
	p.Requant, q.Requant = rq, rq2
	return p, &q
}

func suiteCases() []suiteCase {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := [][3]int{{1, 1, 1}, {1, 17, 5}, {7, 1, 9}, {8, 16, 4}, {4, 19, 21}, {12, 33, 17}, {9, 17, 3}, {13, 33, 31}, {23, 40, 67}, {3, 5, 0}, {65, 47, 130}, {5, 300, 261}}
	var cases []suiteCase
	for _, s := range sizes {
		for combo := 0; combo < 4; combo++ {
			for _, bTrans := range []bool{false, true} {
				c := suiteCase{m: s[0], n: s[1], k: s[2], aSigned: combo&1 != 0, bSigned: combo&2 != 0, bTrans: bTrans,
					zeroA: r.IntN(3), zeroB: r.IntN(3)}
				cases = append(cases, c)
				c.requant, c.ySigned, c.bias = true, r.IntN(2) == 0, BiasMode(r.IntN(3))
				cases = append(cases, c)
			}
		}
	}
	return cases
}

// checkSame compares the valid part of got's output with want's, and that the stride padding is untouched.
func checkSame(t *testing.T, name string, got, want *Params) {
	t.Helper()
	if got.Requant.Y == nil {
		for i := range want.C {
			if got.C[i] != want.C[i] {
				t.Fatalf("%s: C[%d] (row %d col %d) = %d, want %d", name, i, i/want.LDC, i%want.LDC, got.C[i], want.C[i])
			}
		}
		return
	}
	for i := range want.Requant.Y {
		if got.Requant.Y[i] != want.Requant.Y[i] {
			t.Fatalf("%s: Y[%d] (row %d col %d) = %d, want %d", name, i, i/want.Requant.LDY, i%want.Requant.LDY,
				got.Requant.Y[i], want.Requant.Y[i])
		}
	}
}

// TestSuiteEveryVariantMatchesTheReference runs every runnable micro-kernel, on one thread and on two,
// with operands packed per call and prepacked, against MultiplyReference.
func TestSuiteEveryVariantMatchesTheReference(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	r := rand.New(rand.NewPCG(3, 4))
	for _, v := range isa.Runnable(kernelVariants...) {
		for _, c := range suiteCases() {
			got, want := c.params(r)
			if err := got.Validate(); err != nil {
				t.Fatalf("%v: Validate: %v", c, err)
			}
			MultiplyReference(want)
			for _, mode := range []string{"percall", "packedA", "packedB", "threads"} {
				run := *got
				switch mode {
				case "packedA":
					run.PackedA = PackA(c.aSigned, c.m, c.k, got.A, got.LDA)
					run.A, run.ASigned = nil, !c.aSigned // the packed operand's own type wins
				case "packedB":
					run.PackedB = PackB(c.bSigned, c.bTrans, c.k, c.n, got.B, got.LDB)
					run.B, run.BSigned, run.BTrans = nil, !c.bSigned, !c.bTrans
				case "threads":
					run.Pool = pool
				}
				if err := run.Validate(); err != nil {
					t.Fatalf("%v %s: Validate: %v", c, mode, err)
				}
				multiply(&run, v)
				checkSame(t, fmt.Sprintf("%s %v %s", v.Name, c, mode), &run, want)
			}
		}
	}
}

// TestThreadsSplitLargeProducts covers products above minParallelWork, split over M and over N.
func TestThreadsSplitLargeProducts(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []suiteCase{{m: 200, n: 70, k: 150, zeroA: 2, zeroB: 1}, {m: 30, n: 260, k: 300, aSigned: true, zeroA: 1, zeroB: 2, requant: true}} {
		got, want := c.params(r)
		MultiplyReference(want)
		got.Pool = pool
		Multiply(got)
		checkSame(t, c.String(), got, want)
	}
}

// TestPrepackedOtherOperandForksOnce covers the one-pass split: products above minParallelWork split
// over N with A prepacked (a Conv: per-row scales and bias, the tile epilogue's per-row terms filled
// before the fork) and over M with B prepacked (a MatMul's weights: per-column scales), int32 and
// requantised, match the reference with one fork and join per call; a product whose other operand is
// packed per call still takes two.
func TestPrepackedOtherOperandForksOnce(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	r := rand.New(rand.NewPCG(15, 16))
	for _, c := range []struct {
		suiteCase
		prepack   string
		wantForks uint64
	}{
		{suiteCase{m: 40, n: 700, k: 90, aSigned: true, zeroA: 2, zeroB: 1, requant: true, bias: BiasPerRow}, "A", 1},
		{suiteCase{m: 40, n: 700, k: 90, zeroA: 1, zeroB: 1}, "A", 1},
		{suiteCase{m: 500, n: 33, k: 130, bSigned: true, zeroA: 1, zeroB: 2, requant: true, ySigned: true, bias: BiasPerCol}, "B", 1},
		{suiteCase{m: 500, n: 33, k: 130, zeroA: 1, zeroB: 2, bTrans: true}, "B", 1},
		{suiteCase{m: 40, n: 700, k: 90, zeroA: 1, zeroB: 1}, "", 2},
	} {
		got, want := c.params(r)
		MultiplyReference(want)
		switch c.prepack {
		case "A":
			got.PackedA = PackA(c.aSigned, c.m, c.k, got.A, got.LDA)
		case "B":
			got.PackedB = PackB(c.bSigned, c.bTrans, c.k, c.n, got.B, got.LDB)
		}
		got.Pool = pool
		before := pool.Forks()
		Multiply(got)
		name := fmt.Sprintf("%v prepacked %q", c.suiteCase, c.prepack)
		if forks := pool.Forks() - before; forks != c.wantForks {
			t.Errorf("%s: %d forks, want %d", name, forks, c.wantForks)
		}
		checkSame(t, name, got, want)
	}
}

func TestExtremeValuesAreExact(t *testing.T) {
	// All 255 × -128 with no zero points, and all -128 × -128 with zero points 127: the largest products
	// per pair, which an int16 pair sum (VPMADDUBSW) would saturate.
	for _, c := range []struct {
		a, b, za, zb     byte
		aSigned, bSigned bool
	}{{255, 0x80, 0, 0, false, true}, {0x80, 0x80, 127, 127, true, true}, {255, 255, 0, 0, false, false}} {
		const m, n, k = 9, 17, 1001
		p := &Params{M: m, N: n, K: k, A: make([]byte, m*k), LDA: k, ASigned: c.aSigned, B: make([]byte, k*n), LDB: n,
			BSigned: c.bSigned, AZero: []byte{c.za}, BZero: []byte{c.zb}, C: make([]int32, m*n), LDC: n}
		for i := range p.A {
			p.A[i] = c.a
		}
		for i := range p.B {
			p.B[i] = c.b
		}
		Multiply(p)
		want := int32(k) * (value(c.a, c.aSigned) - value(c.za, c.aSigned)) * (value(c.b, c.bSigned) - value(c.zb, c.bSigned))
		for i, v := range p.C {
			if v != want {
				t.Fatalf("%+v: C[%d] = %d, want %d", c, i, v, want)
			}
		}
	}
}

func TestRequantRoundsHalfToEvenAndSaturates(t *testing.T) {
	// 1×1×1 products 1·acc with multiplier 0.5: acc 1, 3, 5 give 0.5, 1.5, 2.5 -> 0, 2, 2.
	for _, c := range []struct {
		acc     byte
		yZero   int32
		ySigned bool
		want    byte
	}{{1, 0, false, 0}, {3, 0, false, 2}, {5, 0, false, 2}, {255, 200, false, 255}, {255, 100, true, 127}} {
		p := &Params{M: 1, N: 1, K: 1, A: []byte{c.acc}, LDA: 1, B: []byte{1}, LDB: 1, BSigned: true,
			Requant: Requant{AScale: []float32{1}, BScale: []float32{1}, YScale: 2, YZero: c.yZero, YSigned: c.ySigned, Y: []byte{0}, LDY: 1}}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		Multiply(p)
		if p.Requant.Y[0] != c.want {
			t.Errorf("acc %d, y zero %d: got %d, want %d", c.acc, c.yZero, p.Requant.Y[0], c.want)
		}
	}
}

func TestValidateNamesTheBadField(t *testing.T) {
	good := func() *Params {
		return &Params{M: 2, N: 3, K: 4, A: make([]byte, 8), LDA: 4, B: make([]byte, 12), LDB: 3, C: make([]int32, 6), LDC: 3}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("good params: %v", err)
	}
	for field, spoil := range map[string]func(p *Params){
		"A":       func(p *Params) { p.A = p.A[:7] },
		"LDB":     func(p *Params) { p.LDB = 2 },
		"AZero":   func(p *Params) { p.AZero = []byte{1, 2, 3} },
		"BZero":   func(p *Params) { p.BZero = []byte{1, 2} },
		"C":       func(p *Params) { p.C = nil },
		"PackedB": func(p *Params) { p.PackedB = PackB(true, false, 4, 2, make([]byte, 8), 2) },
		"Requant.BScale": func(p *Params) {
			p.Requant = Requant{AScale: []float32{1}, BScale: []float32{1, 2}, Y: make([]byte, 6), LDY: 3}
		},
		"Requant.YZero": func(p *Params) {
			p.Requant = Requant{AScale: []float32{1}, BScale: []float32{1}, YZero: 300, Y: make([]byte, 6), LDY: 3}
		},
		"Requant.Bias": func(p *Params) {
			p.Requant = Requant{AScale: []float32{1}, BScale: []float32{1}, BiasMode: BiasPerCol, Bias: []int32{1}, Y: make([]byte, 6), LDY: 3}
		},
	} {
		p := good()
		spoil(p)
		err := p.Validate()
		e, ok := err.(*Error)
		if !ok || e.Field != field {
			t.Errorf("spoiled %s: Validate = %v, want an *Error on that field", field, err)
		}
	}
}

func TestMultiplyDoesNotAllocate(t *testing.T) {
	if opstest.RaceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	r := rand.New(rand.NewPCG(7, 8))
	pool := parallel.NewPool(2)
	defer pool.Close()
	for _, c := range []suiteCase{
		{m: 150, n: 150, k: 150, zeroA: 1, zeroB: 2, requant: true},
		{m: 150, n: 150, k: 150, zeroA: 2, zeroB: 1, requant: true, bias: BiasPerRow}, // a Conv's per-row multipliers
	} {
		got, _ := c.params(r)
		got.Pool = pool
		Multiply(got)
		if n := testing.AllocsPerRun(20, func() { Multiply(got) }); n > 0 {
			t.Errorf("%v: Multiply allocates %.1f times per call", c, n)
		}
	}
}

// TestLoweringTheLevelDropsVNNI: ONNXRUN_ISA=avx2 (or purego) must rule out the VNNI kernel, which
// sits at the AVX512 level for that reason.
func TestLoweringTheLevelDropsVNNI(t *testing.T) {
	for _, limit := range []isa.Level{isa.PureGo, isa.AVX2} {
		if v := isa.PickAt(limit, kernelVariants...); v.Level > limit || strings.Contains(v.Name, "VNNI") {
			t.Errorf("at level %v the kernel is %q (level %v)", limit, v.Name, v.Level)
		}
	}
}

// TestRequantNonFiniteMultiplierMatchesTheReference: an infinite multiplier (a tiny y scale) times a
// zero accumulator is NaN, which the reference turns into the zero point; the vector epilogue must
// leave such panels to the Go loop.
func TestRequantNonFiniteMultiplierMatchesTheReference(t *testing.T) {
	const m, n, k = 8, 32, 4
	for _, v := range isa.Runnable(kernelVariants...) {
		a, b := make([]byte, m*k), make([]byte, k*n)
		for i := range a {
			if row := i / k; row%2 == 1 { // even rows stay zero: 0 × +Inf is NaN
				a[i] = byte(i % 3)
			}
		}
		for i := range b {
			b[i] = byte(i % 5)
		}
		mk := func() *Params {
			return &Params{M: m, N: n, K: k, A: a, LDA: k, B: b, LDB: n, BSigned: true,
				Requant: Requant{AScale: []float32{1}, BScale: []float32{1}, YScale: 1e-45, YZero: 7, Y: make([]byte, m*n), LDY: n}}
		}
		got, want := mk(), mk()
		multiply(got, v)
		MultiplyReference(want)
		checkSame(t, v.Name, got, want)
	}
}

// TestRequantPerRowMultipliersMatchTheReference covers a Conv's epilogue (the weights as A with a scale
// per row, the input as B with one scale): full 16-column tiles take the vector tile epilogue, the
// last 3 columns the Go loop, and a tile with a row whose multiplier is infinite (0 × +Inf is NaN: the
// zero point) must stay on the Go loop. The per-row terms are laid out by the packing pass for each A
// panel: on one thread and on two (a product large enough to split, whose A panels the threads share out),
// with A packed per call and prepacked.
func TestRequantPerRowMultipliersMatchTheReference(t *testing.T) {
	pool := parallel.NewPool(2)
	defer pool.Close()
	r := rand.New(rand.NewPCG(9, 10))
	for _, size := range []struct {
		m, n, k int
		pool    *parallel.Pool
		prepack bool
	}{{11, 35, 19, nil, false}, {67, 300, 110, pool, false}, {67, 300, 110, pool, true}} {
		m, n, k := size.m, size.n, size.k
		for _, v := range isa.Runnable(kernelVariants...) {
			for _, ySigned := range []bool{false, true} {
				a, b := randBytes(r, m*k), randBytes(r, k*n)
				for p := range k {
					a[3*k+p] = 3 // row 3 is A's zero point: its accumulators are zero, its multiplier infinite
				}
				aScale := make([]float32, m)
				for i := range aScale {
					aScale[i] = 1e-6 + r.Float32()*2e-5
				}
				aScale[3] = 3e38
				bias := make([]int32, m)
				for i := range bias {
					bias[i] = int32(r.IntN(2001) - 1000)
				}
				bias[3] = 0
				mk := func() *Params {
					return &Params{M: m, N: n, K: k, A: a, LDA: k, B: b, LDB: n, BSigned: true, AZero: []byte{3},
						BZero: []byte{251}, Pool: size.pool,
						Requant: Requant{AScale: aScale, BScale: []float32{0.05}, YScale: 1e-3, YZero: 9,
							YSigned: ySigned, Bias: bias, BiasMode: BiasPerRow, Y: make([]byte, m*n), LDY: n}}
				}
				got, want := mk(), mk()
				if size.prepack {
					got.PackedA = PackA(false, m, k, a, k)
				}
				multiply(got, v)
				MultiplyReference(want)
				checkSame(t, fmt.Sprintf("%dx%dx%d/prepacked=%v/%s/ySigned=%v", m, n, k, size.prepack, v.Name, ySigned), got, want)
			}
		}
	}
}

// TestPackBPanelVariantsMatchTheGoTwin compares every runnable panel packer with packBPanel16Go on
// odd strides, group counts (0 included: the sums are still written) and both sign flips, and that
// neither writes past its panel.
func TestPackBPanelVariantsMatchTheGoTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, v := range isa.Runnable(packBPanel16Variants...) {
		for _, groups := range []int{0, 1, 2, 7, 33} {
			for _, flip4 := range []uint32{0, 0x80808080} {
				ldb := nr + r.IntN(9)
				b := randBytes(r, max(1, groups*kg)*ldb)
				got, want := randBytes(r, groups*nr*kg+8), make([]byte, groups*nr*kg+8)
				copy(want, got)
				gotSums, wantSums := make([]int32, nr+1), make([]int32, nr+1)
				gotSums[nr], wantSums[nr] = 77, 77
				for i := range nr {
					gotSums[i], wantSums[i] = int32(i), -int32(i)
				}
				v.Fn(got, gotSums, b, ldb, groups, flip4)
				packBPanel16Go(want, wantSums, b, ldb, groups, flip4)
				name := fmt.Sprintf("%s/groups=%d/ldb=%d/flip=%#x", v.Name, groups, ldb, flip4)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("%s: dst[%d] = %d, want %d", name, i, got[i], want[i])
					}
				}
				for i := range wantSums {
					if gotSums[i] != wantSums[i] {
						t.Fatalf("%s: sums[%d] = %d, want %d", name, i, gotSums[i], wantSums[i])
					}
				}
			}
		}
	}
}

// TestKernelVariantsMatchTheGoTwinPanelByPanel runs every runnable micro-kernel on one and two B panels,
// every row count and group counts around the loops' edges (0 included), on random and extreme bytes,
// and compares each panel's valid rows with kernelGo on that panel alone: the two-panel tile must be
// the two one-panel tiles side by side.
func TestKernelVariantsMatchTheGoTwinPanelByPanel(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, v := range isa.Runnable(kernelVariants...) {
		for _, groups := range []int{0, 1, 2, 5, 37} {
			for _, extreme := range []bool{false, true} {
				a, b := randBytes(r, groups*mr*kg), randBytes(r, maxPanels*groups*nr*kg)
				if extreme { // 255 × -128 everywhere: the largest products, all of one sign
					for i := range a {
						a[i] = 255
					}
					for i := range b {
						b[i] = 0x80
					}
				}
				for panels := 1; panels <= maxPanels; panels++ {
					for rows := 1; rows <= mr; rows++ {
						var got, want [maxPanels * mr * nr]int32
						for i := range got {
							got[i] = -7 // rows the kernel must overwrite start as garbage
						}
						v.Fn(a, b[:panels*groups*nr*kg], panels, &got, rows)
						for q := 0; q < panels; q++ {
							kernelGo(a, b[q*groups*nr*kg:(q+1)*groups*nr*kg], 1, &want, rows)
							for i := 0; i < rows*nr; i++ {
								if g, w := got[q*mr*nr+i], want[i]; g != w {
									t.Fatalf("%s groups=%d extreme=%v panels=%d rows=%d: panel %d tile[%d] = %d, want %d",
										v.Name, groups, extreme, panels, rows, q, i, g, w)
								}
							}
						}
					}
				}
			}
		}
	}
}
