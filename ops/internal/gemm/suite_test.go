package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// variant is one implementation under test. Every variant runs the same
// suite (runSuite) and is compared with an independent float64 oracle.
type variant struct {
	name string
	run  func(p *Params)
	// pool, when set, is put in Params.Pool by the suite.
	pool *parallel.Pool
}

// variants lists the reference, the pure-Go driver, every assembly kernel
// this CPU supports, and threaded versions of the fastest one.
func variants(t testing.TB) []variant {
	vs := []variant{
		{name: "reference", run: MultiplyReference},
		{name: "generic", run: genericImpl.multiply},
		{name: genericWideImpl.name, run: genericWideImpl.multiply},
	}
	for _, im := range asmImpls() {
		vs = append(vs, variant{name: im.name, run: im.multiply})
	}
	// Threaded variants split even the smallest shapes.
	genericAll, wideAll, defaultAll := *genericImpl, *genericWideImpl, *defaultImpl
	genericAll.minParallelWork, wideAll.minParallelWork, defaultAll.minParallelWork = 0, 0, 0
	for _, threads := range []int{2, 3} {
		pool := parallel.NewPool(threads)
		t.Cleanup(pool.Close)
		vs = append(vs,
			variant{name: fmt.Sprintf("generic/threads=%d", threads), run: genericAll.multiply, pool: pool},
			variant{name: fmt.Sprintf("generic/wide/threads=%d", threads), run: wideAll.multiply, pool: pool},
			variant{name: fmt.Sprintf("default/threads=%d", threads), run: defaultAll.multiply, pool: pool})
	}
	return vs
}

// guard is the sentinel in the padding around C; any write there is a bug.
var guard = math.Float32frombits(0x7fc0dead) // a NaN with a recognisable payload

type testCase struct {
	m, n, k        int
	transA, transB bool
	alpha, beta    float32
	pad            int // extra stride beyond the stored width, for A, B and C
	lda, ldb       int // if set, A's or B's row stride (to reach the packing paths, see readAInPlace)
	packA, packB   bool
	epi            Epilogue
}

func (tc testCase) String() string {
	s := fmt.Sprintf("m=%d,n=%d,k=%d,tA=%v,tB=%v,alpha=%g,beta=%g,pad=%d", tc.m, tc.n, tc.k, tc.transA, tc.transB, tc.alpha, tc.beta, tc.pad)
	if tc.packA {
		s += ",packA"
	}
	if tc.packB {
		s += ",packB"
	}
	if tc.epi.BiasMode != BiasNone || tc.epi.Act != ActNone {
		s += fmt.Sprintf(",bias=%d,act=%d[%g,%g]", tc.epi.BiasMode, tc.epi.Act, tc.epi.Min, tc.epi.Max)
	}
	return s
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// runCase builds the operands of tc, runs v, and checks C against a float64
// oracle and the guard bands.
func runCase(t *testing.T, v variant, tc testCase, r *rand.Rand) {
	t.Helper()
	m, n, k := tc.m, tc.n, tc.k
	aRows, aCols := m, k
	if tc.transA {
		aRows, aCols = k, m
	}
	bRows, bCols := k, n
	if tc.transB {
		bRows, bCols = n, k
	}
	lda, ldb, ldc := aCols+tc.pad, bCols+tc.pad, n+tc.pad
	if tc.lda != 0 {
		lda = tc.lda
	}
	if tc.ldb != 0 {
		ldb = tc.ldb
	}
	a := randSlice(r, max(needLen(aRows, aCols, lda), 1))
	b := randSlice(r, max(needLen(bRows, bCols, ldb), 1))

	// C sits inside a buffer with guardLen sentinels before and after, and
	// sentinels in the stride padding of every row.
	const guardLen = 37
	cLen := needLen(m, n, ldc)
	cBuf := make([]float32, cLen+2*guardLen)
	for i := range cBuf {
		cBuf[i] = guard
	}
	c := cBuf[guardLen : guardLen+cLen]
	c0 := make([]float32, cLen)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			v := r.Float32()*2 - 1
			if tc.beta == 0 {
				v = float32(math.NaN()) // must be overwritten, never read
			}
			c[i*ldc+j], c0[i*ldc+j] = v, v
		}
	}
	epi := tc.epi
	switch epi.BiasMode {
	case BiasPerRow:
		epi.Bias = randSlice(r, m)
	case BiasPerCol:
		epi.Bias = randSlice(r, n)
	}
	p := &Params{
		TransA: tc.transA, TransB: tc.transB, M: m, N: n, K: k,
		Alpha: tc.alpha, A: a, LDA: lda, B: b, LDB: ldb,
		Beta: tc.beta, C: c, LDC: ldc, Epilogue: epi, Pool: v.pool,
	}
	if tc.packA {
		p.PackedA = PackA(tc.transA, m, k, a, lda)
		p.A, p.LDA, p.TransA = nil, 0, false
	}
	if tc.packB {
		p.PackedB = PackB(tc.transB, k, n, b, ldb)
		p.B, p.LDB, p.TransB = nil, 0, false
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("%v: Validate: %v", tc, err)
	}
	v.run(p)

	opA := func(i, q int) float64 {
		if tc.transA {
			return float64(a[q*lda+i])
		}
		return float64(a[i*lda+q])
	}
	opB := func(q, j int) float64 {
		if tc.transB {
			return float64(b[j*ldb+q])
		}
		return float64(b[q*ldb+j])
	}
	bad := 0
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum, mag float64
			for q := 0; q < k; q++ {
				x := opA(i, q) * opB(q, j)
				sum += x
				mag += math.Abs(x)
			}
			want := float64(tc.alpha) * sum
			mag = math.Abs(float64(tc.alpha))*mag + 1
			if tc.beta != 0 {
				want += float64(tc.beta) * float64(c0[i*ldc+j])
				mag += math.Abs(float64(tc.beta) * float64(c0[i*ldc+j]))
			}
			switch epi.BiasMode {
			case BiasPerRow:
				want += float64(epi.Bias[i])
			case BiasPerCol:
				want += float64(epi.Bias[j])
			}
			switch epi.Act {
			case ActReLU:
				want = math.Max(want, 0)
			case ActClip:
				want = math.Min(math.Max(want, float64(epi.Min)), float64(epi.Max))
			}
			got := float64(c[i*ldc+j])
			tol := float64(k+8) * 2e-7 * mag
			if !(math.Abs(got-want) <= tol) {
				if bad < 5 {
					t.Errorf("%s %v: C[%d][%d] = %v, want %v (tol %g)", v.name, tc, i, j, got, want, tol)
				}
				bad++
			}
		}
	}
	checkGuards(t, v.name, tc.String(), cBuf, guardLen, m, n, ldc)
}

func checkGuards(t *testing.T, name, tc string, cBuf []float32, guardLen, m, n, ldc int) {
	t.Helper()
	inside := func(idx int) bool {
		idx -= guardLen
		if idx < 0 || idx >= needLen(m, n, ldc) {
			return false
		}
		return idx%ldc < n
	}
	for idx, v := range cBuf {
		if !inside(idx) && math.Float32bits(v) != math.Float32bits(guard) {
			t.Errorf("%s %s: out-of-range write at offset %d from C (value %v)", name, tc, idx-guardLen, v)
			return
		}
	}
}

// suiteCases is the shared table: K = 1, 2, 13 and around the K block; M and
// N around the micro-tile (mr=6, nr=16) and block sizes; all transposes;
// alpha/beta combinations; strides wider than the matrices; epilogues and
// packed operands.
func suiteCases() []testCase {
	var cases []testCase
	ms := []int{1, 5, 6, 7, 12, 13}
	ns := []int{1, 15, 16, 17, 33}
	ks := []int{1, 2, 13}
	ab := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {0, 0.5}}
	i := 0
	for _, m := range ms {
		for _, n := range ns {
			for _, k := range ks {
				for tr := range 4 {
					i++
					alphaBeta := ab[i%len(ab)]
					cases = append(cases, testCase{
						m: m, n: n, k: k, transA: tr&1 != 0, transB: tr&2 != 0,
						alpha: alphaBeta[0], beta: alphaBeta[1], pad: i % 3 * 2,
					})
				}
			}
		}
	}
	// Bigger shapes crossing the K, M and N blocking boundaries.
	big := [][3]int{
		{mcMax - 1, 31, kcMax + 1},
		{mcMax + 1, 47, 2*kcMax + 3},
		{2*mcMax + 5, 65, 600},
		{7, ncMax + 17, 5},
		{97, 130, 257},
		{16, 576, 54},  // LeNet-like conv1 as GEMM
		{120, 64, 400}, // FC-like
	}
	if testing.Short() {
		big = big[:2]
	}
	for bi, s := range big {
		for tr := range 4 {
			cases = append(cases, testCase{
				m: s[0], n: s[1], k: s[2], transA: tr&1 != 0, transB: tr&2 != 0,
				alpha: 1, beta: float32(bi % 2), pad: 3,
			})
		}
	}
	// Operands with a cache-hostile stride are packed, not read in place.
	cases = append(cases,
		testCase{m: 150, n: 20, k: 300, alpha: 1, beta: 0, lda: 1024},
		testCase{m: 31, n: 20, k: 30, alpha: 1, beta: 1, lda: 1024, transA: true, transB: true},
		testCase{m: 13, n: 40, k: 9, alpha: 2, beta: 0, lda: 2048, ldb: 1024},
		testCase{m: 31, n: 20, k: 300, alpha: 1, beta: 0, ldb: 1024},
		testCase{m: 50, n: 33, k: 7, alpha: 1, beta: 1, ldb: 1536, epi: Epilogue{BiasMode: BiasPerCol, Act: ActReLU}},
	)
	// Epilogues, packed operands and combinations.
	epis := []Epilogue{
		{BiasMode: BiasPerRow},
		{BiasMode: BiasPerCol},
		{Act: ActReLU},
		{BiasMode: BiasPerRow, Act: ActReLU},
		{BiasMode: BiasPerCol, Act: ActClip, Min: -0.25, Max: 0.5},
		{Act: ActClip, Min: 0, Max: 6},
	}
	// N = 17 and 49 end with a full and a partial panel: the wide kernels'
	// private-tile tail (wideTail).
	shapes := [][3]int{{1, 1, 1}, {7, 17, 13}, {13, 33, 2}, {mcMax + 7, 40, kcMax + 9}, {12, 49, 20}}
	i = 0
	for _, s := range shapes {
		for _, e := range epis {
			for _, pk := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				i++
				cases = append(cases, testCase{
					m: s[0], n: s[1], k: s[2], transA: i%2 == 0, transB: i%3 == 0,
					alpha: 1.5, beta: float32(i % 2), pad: i % 2,
					packA: pk[0], packB: pk[1], epi: e,
				})
			}
		}
	}
	// K == 0: C = act(beta*C + bias).
	cases = append(cases,
		testCase{m: 3, n: 5, k: 0, alpha: 1, beta: 0},
		testCase{m: 3, n: 5, k: 0, alpha: 1, beta: 2, epi: Epilogue{BiasMode: BiasPerCol, Act: ActReLU}},
		testCase{m: 7, n: 17, k: 0, alpha: 1, beta: 1, packA: true, packB: true},
	)
	return cases
}

func TestSuite(t *testing.T) {
	cases := suiteCases()
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			for _, tc := range cases {
				runCase(t, v, tc, r)
			}
		})
	}
}
