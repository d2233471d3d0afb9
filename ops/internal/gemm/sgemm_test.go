package gemm

import (
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// TestSgemmMatchesReference checks the public BLAS-like entry against its
// plain-loop twin, including beta == 0 over a C full of NaN.
func TestSgemmMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		m, n, k        int
		transA, transB bool
		alpha, beta    float32
	}{
		{1, 1, 1, false, false, 1, 0},
		{6, 16, 2, false, false, 1, 1},
		{7, 17, 13, true, false, 2, 0},
		{50, 70, 300, false, true, -1, 0.5},
		{31, 9, 260, true, true, 0.5, 0},
	} {
		aLen, bLen := tc.m*tc.k, tc.k*tc.n
		lda, ldb := tc.k, tc.n
		if tc.transA {
			lda = tc.m
		}
		if tc.transB {
			ldb = tc.k
		}
		a, b := randSlice(r, aLen), randSlice(r, bLen)
		got, want := randSlice(r, tc.m*tc.n), make([]float32, tc.m*tc.n)
		if tc.beta == 0 {
			for i := range got {
				got[i] = float32(math.NaN())
			}
		}
		copy(want, got)
		Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got, tc.n)
		SgemmReference(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, tc.n)
		for i := range got {
			if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-4*float64(tc.k)) {
				t.Fatalf("%+v: C[%d] = %v, reference %v", tc, i, got[i], want[i])
			}
		}
	}
}

// kernelForms lists every micro-kernel of every impl on this CPU, in both
// kernelForm is one micro-kernel under test: an nr-wide kernel (panels 1)
// or a wide kernel over panels B panels, in one A addressing.
type kernelForm struct {
	name   string
	kernel microKernel
	rowA   bool // A[i][p] = a[i*lda+p], else a[p*lda+i]
	panels int
}

// genericWideImpl is the pure-Go driver with the wide kernels' pure-Go twin
// (wideGeneric over two panels), so that the driver's wide path is tested
// on every build, not only on CPUs with AVX-512.
var genericWideImpl = &impl{name: "generic/wide", colA: kernelGenericColA, rowA: kernelGenericRowA,
	wideColA: func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs) {
		wideGeneric(kernelGenericColA, 2, k, a, lda, b, ldb, c, ldc, t)
	},
	wideRowA: func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, t *tileArgs) {
		wideGeneric(kernelGenericRowA, 2, k, a, lda, b, ldb, c, ldc, t)
	},
	widePanels: 2, minParallelWork: parallelMinWork}

func kernelForms() []kernelForm {
	var forms []kernelForm
	for _, im := range append([]*impl{genericImpl, genericWideImpl}, asmImpls()...) {
		forms = append(forms,
			kernelForm{im.name + "/colA", im.colA, false, 1},
			kernelForm{im.name + "/rowA", im.rowA, true, 1})
		if im.widePanels > 0 {
			forms = append(forms,
				kernelForm{im.name + "/wide/colA", im.wideColA, false, im.widePanels},
				kernelForm{im.name + "/wide/rowA", im.wideRowA, true, im.widePanels})
		}
	}
	return forms
}

// TestKernels drives every micro-kernel directly: each flag combination, A
// and B strides other than the packed ones, B panels apart (wide kernels),
// and a C stride wider than the tile with guard values in the gap.
func TestKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, kf := range kernelForms() {
		width := kf.panels * nr
		for _, k := range []int{0, 1, 3, 4, 5, 17} {
			for flags := uintptr(0); flags < 16; flags++ {
				ldb, ldc := nr+5, width+3
				bStride := k*ldb + nr + 7 // B panel q at b[q*bStride:]
				lda := mr + 3
				if kf.rowA {
					lda = k + 2
				}
				a := randSlice(r, (mr+k)*lda+1)
				aAt := func(i, p int) float32 {
					if kf.rowA {
						return a[i*lda+p]
					}
					return a[p*lda+i]
				}
				b := randSlice(r, kf.panels*bStride)
				bAt := func(p, j int) float32 { return b[j/nr*bStride+p*ldb+j%nr] }
				rowBias, colBias := randSlice(r, mr), randSlice(r, width)
				c := make([]float32, mr*ldc)
				for i := range c {
					c[i] = guard
				}
				c0 := randSlice(r, mr*ldc)
				for i := range mr {
					copy(c[i*ldc:i*ldc+width], c0[i*ldc:])
				}
				args := tileArgs{alpha: 1.5, beta: -0.5, lo: -0.5, hi: 0.75, flags: flags, rowBias: &rowBias[0], colBias: &colBias[0],
					bStride: uintptr(bStride)}
				kf.kernel(k, &a[0], lda, &b[0], ldb, &c[0], ldc, &args)
				for i := range mr {
					for j := range ldc {
						got := c[i*ldc+j]
						if j >= width {
							if math.Float32bits(got) != math.Float32bits(guard) {
								t.Fatalf("%s k=%d flags=%b: wrote C[%d][%d] past the tile", kf.name, k, flags, i, j)
							}
							continue
						}
						var sum float64
						for p := range k {
							sum += float64(aAt(i, p)) * float64(bAt(p, j))
						}
						want := 1.5 * sum
						if flags&flagLoadC != 0 {
							want += -0.5 * float64(c0[i*ldc+j])
						}
						if flags&flagRowBias != 0 {
							want += float64(rowBias[i])
						}
						if flags&flagColBias != 0 {
							want += float64(colBias[j])
						}
						if flags&flagClamp != 0 {
							want = math.Min(math.Max(want, -0.5), 0.75)
						}
						if math.Abs(float64(got)-want) > 1e-5*float64(k+2) {
							t.Fatalf("%s k=%d flags=%b: C[%d][%d] = %v, want %v", kf.name, k, flags, i, j, got, want)
						}
					}
				}
			}
		}
	}
}

// TestClampKeepsNaN: ReLU and Clip pass NaN through, in every kernel.
func TestClampKeepsNaN(t *testing.T) {
	for _, kf := range kernelForms() {
		width := kf.panels * nr
		a := make([]float32, mr)
		b := make([]float32, width)
		a[2] = float32(math.NaN()) // row 2 in the column form (lda = mr), k = 1
		lda := mr
		if kf.rowA {
			lda = 1 // A[i][0] = a[i]
		}
		c := make([]float32, mr*width)
		args := tileArgs{alpha: 1, lo: 0, hi: float32(math.Inf(1)), flags: flagClamp, bStride: nr}
		kf.kernel(1, &a[0], lda, &b[0], nr, &c[0], width, &args)
		for j := range width {
			if !math.IsNaN(float64(c[2*width+j])) || c[j] != 0 {
				t.Fatalf("%s: relu(NaN) row [%d] = %v, row 0 = %v; want NaN and 0", kf.name, j, c[2*width+j], c[j])
			}
		}
	}
}

func TestTileArgsLayout(t *testing.T) {
	var ta tileArgs
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"alpha", unsafe.Offsetof(ta.alpha), 0},
		{"beta", unsafe.Offsetof(ta.beta), 4},
		{"lo", unsafe.Offsetof(ta.lo), 8},
		{"hi", unsafe.Offsetof(ta.hi), 12},
		{"flags", unsafe.Offsetof(ta.flags), 16},
		{"rowBias", unsafe.Offsetof(ta.rowBias), 24},
		{"colBias", unsafe.Offsetof(ta.colBias), 32},
		{"bStride", unsafe.Offsetof(ta.bStride), 40},
	} {
		if unsafe.Sizeof(uintptr(0)) == 8 && f.got != f.want {
			t.Errorf("tileArgs.%s at offset %d, the assembly expects %d", f.name, f.got, f.want)
		}
	}
}

func TestPackUnpackRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, s := range [][2]int{{1, 1}, {7, 13}, {6, 16}, {13, 300}, {150, 600}} {
		rows, cols := s[0], s[1]
		for _, trans := range []bool{false, true} {
			// op(X) is rows×cols; X is stored cols×rows when trans, with padding.
			sr, sc := rows, cols
			if trans {
				sr, sc = cols, rows
			}
			ld := sc + 2
			x := randSlice(r, needLen(sr, sc, ld))
			at := func(i, j int) float32 {
				if trans {
					return x[j*ld+i]
				}
				return x[i*ld+j]
			}
			packedA, packedB := PackA(trans, rows, cols, x, ld), PackB(trans, rows, cols, x, ld)
			if m, k := packedA.Dims(); m != rows || k != cols {
				t.Fatalf("PackedA.Dims() = %d×%d, want %d×%d", m, k, rows, cols)
			}
			if k, n := packedB.Dims(); k != rows || n != cols {
				t.Fatalf("PackedB.Dims() = %d×%d, want %d×%d", k, n, rows, cols)
			}
			pa, pb := packedA.Unpack(), packedB.Unpack()
			for i := range rows {
				for j := range cols {
					if pa[i*cols+j] != at(i, j) || pb[i*cols+j] != at(i, j) {
						t.Fatalf("%d×%d trans=%v: [%d][%d]: A %v, B %v, want %v", rows, cols, trans, i, j, pa[i*cols+j], pb[i*cols+j], at(i, j))
					}
				}
			}
		}
	}
}

func TestValidate(t *testing.T) {
	ok := func() Params {
		return Params{M: 2, N: 3, K: 4, Alpha: 1, A: make([]float32, 8), LDA: 4, B: make([]float32, 12), LDB: 3, C: make([]float32, 6), LDC: 3}
	}
	if p := ok(); p.Validate() != nil {
		t.Fatalf("valid params: %v", p.Validate())
	}
	for _, tc := range []struct {
		name string
		edit func(p *Params)
		want string
	}{
		{"negative", func(p *Params) { p.M = -1 }, "negative size -1×3×4"},
		{"short A", func(p *Params) { p.A = p.A[:7] }, "A: len 7 < 8 needed for 2×4 with stride 4"},
		{"narrow LDA", func(p *Params) { p.LDA = 3 }, "LDA: 3 < stored width 4"},
		{"transposed A", func(p *Params) { p.TransA = true }, "A: len 8 < 14 needed for 4×2 with stride 4"},
		{"short B", func(p *Params) { p.B = p.B[:11] }, "B: len 11 < 12"},
		{"short C", func(p *Params) { p.LDC = 4 }, "C: len 6 < 7 needed for 2×3 with stride 4"},
		{"row bias", func(p *Params) { p.Epilogue = Epilogue{BiasMode: BiasPerRow, Bias: []float32{1}} }, "per-row bias len 1 < M=2"},
		{"col bias", func(p *Params) { p.Epilogue = Epilogue{BiasMode: BiasPerCol, Bias: []float32{1, 2}} }, "per-column bias len 2 < N=3"},
		{"clip", func(p *Params) { p.Epilogue = Epilogue{Act: ActClip, Min: 1, Max: 0} }, "Clip Min=1 > Max=0"},
		{"packed A dims", func(p *Params) { p.PackedA = PackA(false, 2, 5, make([]float32, 10), 5) }, "packed 2×5 != M×K = 2×4"},
		{"packed B dims", func(p *Params) { p.PackedB = PackB(false, 4, 2, make([]float32, 8), 2) }, "packed 4×2 != K×N = 4×3"},
	} {
		p := ok()
		tc.edit(&p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

// TestWorkspaceIsUsed: a caller Workspace of WorkspaceSize holds the packing
// buffers (it is written) and gives the same result as the internal pool.
func TestWorkspaceIsUsed(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	pool := parallel.NewPool(2)
	defer pool.Close()
	const m, n, k = 200, 150, 300
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	for _, pl := range []*parallel.Pool{nil, pool} {
		want := make([]float32, m*n)
		Multiply(&Params{M: m, N: n, K: k, Alpha: 1, A: a, LDA: k, B: b, LDB: n, C: want, LDC: n, Pool: pl})
		ws := make([]float32, WorkspaceSize(m, n, k, pl.Threads()))
		for i := range ws {
			ws[i] = guard
		}
		got := make([]float32, m*n)
		Multiply(&Params{M: m, N: n, K: k, Alpha: 1, A: a, LDA: k, B: b, LDB: n, C: got, LDC: n, Pool: pl, Workspace: ws})
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("threads=%d: C[%d] = %v with Workspace, %v without", pl.Threads(), i, got[i], want[i])
			}
		}
		written := 0
		for _, v := range ws {
			if math.Float32bits(v) != math.Float32bits(guard) {
				written++
			}
		}
		if written == 0 {
			t.Errorf("threads=%d: Workspace was not used", pl.Threads())
		}
	}
}

// TestMultiplyDoesNotAllocate checks the steady state of every path the
// operator kernels use: plain, prepacked with epilogue, threaded, with and
// without a caller Workspace.
func TestMultiplyDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	r := rand.New(rand.NewPCG(15, 16))
	pool := parallel.NewPool(2)
	defer pool.Close()
	const m, n, k = 150, 140, 300
	a, b, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	bias := randSlice(r, m)
	pa := PackA(false, m, k, a, k)
	for _, tc := range []struct {
		name string
		p    Params
	}{
		{"plain", Params{M: m, N: n, K: k, Alpha: 1, A: a, LDA: k, B: b, LDB: n, C: c, LDC: n}},
		{"small M", Params{M: 6, N: n, K: k, Alpha: 1, A: a, LDA: k, B: b, LDB: n, C: c, LDC: n}},
		{"packed+epilogue", Params{M: m, N: n, K: k, Alpha: 1, PackedA: pa, B: b, LDB: n, C: c, LDC: n,
			Epilogue: Epilogue{Bias: bias, BiasMode: BiasPerRow, Act: ActReLU}}},
		{"threads", Params{M: m, N: n, K: k, Alpha: 1, A: a, LDA: k, B: b, LDB: n, C: c, LDC: n, Pool: pool}},
		{"threads+workspace", Params{M: m, N: n, K: k, Alpha: 1, A: a, LDA: k, B: b, LDB: n, C: c, LDC: n, Pool: pool,
			Workspace: make([]float32, WorkspaceSize(m, n, k, 2))}},
	} {
		p := tc.p
		Multiply(&p)
		if allocs := testing.AllocsPerRun(20, func() { Multiply(&p) }); allocs != 0 {
			t.Errorf("%s: %v allocs per call, want 0", tc.name, allocs)
		}
	}
	if allocs := testing.AllocsPerRun(20, func() {
		Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
	}); allocs != 0 {
		t.Errorf("Sgemm: %v allocs per call, want 0", allocs)
	}
}

// TestInPlaceDecisions pins the cache model behind readAInPlace and
// readBInPlace to the cases it was measured on (see their comments).
func TestInPlaceDecisions(t *testing.T) {
	for _, tc := range []struct {
		name     string
		p        Params
		rows, kc int
		wantA    bool
		wantB    bool
	}{
		{"small M, B stride 1024", Params{LDA: 576, LDB: 1024}, 16, 192, true, true},
		{"B stride 784", Params{LDA: 150, LDB: 784}, 144, 150, true, true},
		{"B stride 576", Params{LDA: 576, LDB: 576}, 144, 192, true, true},
		{"B stride 768", Params{LDA: 256, LDB: 768}, 96, 256, true, false},
		{"B stride 640", Params{LDA: 256, LDB: 640}, 96, 256, true, true},
		{"B stride 1536", Params{LDA: 256, LDB: 1536}, 96, 256, true, false},
		{"cube 1024", Params{LDA: 1024, LDB: 1024}, 144, 256, false, false},
		{"cube 256", Params{LDA: 256, LDB: 256}, 144, 256, true, true},
		{"cube 512", Params{LDA: 512, LDB: 512}, 144, 256, false, false},
		{"cube 1000", Params{LDA: 1000, LDB: 1000}, 144, 250, true, true},
		{"transposed", Params{TransA: true, TransB: true, LDA: 100, LDB: 100}, 144, 100, false, false},
		{"prepacked", Params{PackedA: &PackedA{}, PackedB: &PackedB{}, LDA: 100, LDB: 100}, 144, 100, false, false},
	} {
		if got := readAInPlace(&tc.p, tc.rows, tc.kc); got != tc.wantA {
			t.Errorf("%s: readAInPlace = %v, want %v", tc.name, got, tc.wantA)
		}
		if got := readBInPlace(&tc.p, tc.rows); got != tc.wantB {
			t.Errorf("%s: readBInPlace = %v, want %v", tc.name, got, tc.wantB)
		}
	}
}

// TestPackBTrans16 checks the transposing panel packer (assembly on amd64)
// against its definition for K lengths around its 8-step blocks.
// TestNewPackedAOffset fills one of NewPackedAs' operands element by element through Offset and compares it with PackA of
// the same matrix, over several K blocks and a partial last panel.
func TestNewPackedAOffset(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, s := range [][2]int{{1, 1}, {7, 13}, {13, 300}, {150, 600}} {
		m, k := s[0], s[1]
		a := randSlice(r, m*k)
		set := NewPackedAs(3, m, k)
		filled := set[1]
		for i := range m {
			for p := range k {
				filled.Data()[filled.Offset(i, p)] = a[i*k+p]
				set[0].Data()[filled.Offset(i, p)] = -1 // its neighbours in the allocation stay apart
				set[2].Data()[filled.Offset(i, p)] = -1
			}
		}
		want := PackA(false, m, k, a, k)
		if len(filled.Data()) != len(want.data) {
			t.Fatalf("%d×%d: %d packed values, PackA has %d", m, k, len(filled.Data()), len(want.data))
		}
		for i, v := range want.data {
			if filled.Data()[i] != v {
				t.Fatalf("%d×%d: packed value %d is %v, PackA's is %v", m, k, i, filled.Data()[i], v)
			}
		}
	}
}

func TestPackBTrans16(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, kc := range []int{0, 1, 7, 8, 9, 16, 23, 256} {
		lds := kc + 3
		src := randSlice(r, nr*lds)
		dst := make([]float32, nr*kc+5)
		for i := range dst {
			dst[i] = guard
		}
		packBTrans16(dst, src, lds, kc)
		for p := range kc {
			for c := range nr {
				if got, want := dst[p*nr+c], src[c*lds+p]; got != want {
					t.Fatalf("kc=%d: dst[%d][%d] = %v, want %v", kc, p, c, got, want)
				}
			}
		}
		for i := nr * kc; i < len(dst); i++ {
			if math.Float32bits(dst[i]) != math.Float32bits(guard) {
				t.Fatalf("kc=%d: wrote dst[%d] past the panel", kc, i)
			}
		}
	}
}

// squareFinisher squares each element of the regions it is handed and records them.
type squareFinisher struct {
	mu      sync.Mutex
	regions [][4]int
}

func (f *squareFinisher) Finish(c []float32, ldc, i0, i1, j0, j1 int) {
	for i := i0; i < i1; i++ {
		for j := j0; j < j1; j++ {
			c[i*ldc+j] *= c[i*ldc+j]
		}
	}
	f.mu.Lock()
	f.regions = append(f.regions, [4]int{i0, i1, j0, j1})
	f.mu.Unlock()
}

// TestEpilogueFinish: the Finisher sees every element of C once, after its value is final (the squares of
// the plain product, the bias and the Clip included), one region per thread that got work (split by N for
// 1x1000x1280, by M for 2048x49x512, one region on one thread), and K = 0 finishes the scaled C.
func TestEpilogueFinish(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, threads := range []int{1, 2, 3} {
		pool := parallel.NewPool(threads)
		for _, sh := range []struct{ m, n, k int }{{1, 1000, 1280}, {2048, 49, 512}, {7, 9, 0}} {
			a, b, bias := randSlice(r, sh.m*sh.k), randSlice(r, sh.k*sh.n), randSlice(r, sh.m)
			ep := Epilogue{Bias: bias, BiasMode: BiasPerRow, Act: ActClip, Min: -0.5, Max: 2}
			want := make([]float32, sh.m*sh.n)
			Multiply(&Params{M: sh.m, N: sh.n, K: sh.k, Alpha: 1, A: a, LDA: max(sh.k, 1), B: b, LDB: sh.n, C: want, LDC: sh.n, Epilogue: ep, Pool: pool})
			f := &squareFinisher{}
			ep.Finish = f
			got := make([]float32, sh.m*sh.n)
			Multiply(&Params{M: sh.m, N: sh.n, K: sh.k, Alpha: 1, A: a, LDA: max(sh.k, 1), B: b, LDB: sh.n, C: got, LDC: sh.n, Epilogue: ep, Pool: pool})
			for i := range got {
				if got[i] != want[i]*want[i] {
					t.Fatalf("threads=%d %+v: C[%d] = %v, want %v squared once", threads, sh, i, got[i], want[i])
				}
			}
			wantRegions := threads
			if sh.k == 0 || tileWork(sh.m, sh.n, sh.k) < defaultImpl.minParallelWork {
				wantRegions = 1
			}
			if len(f.regions) != wantRegions {
				t.Errorf("threads=%d %+v: %d regions %v, want %d", threads, sh, len(f.regions), f.regions, wantRegions)
			}
		}
		pool.Close()
	}
}
