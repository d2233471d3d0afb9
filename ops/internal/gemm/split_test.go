package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// splitShape is a product as an operator kernel hands it to Multiply: which
// operand is constant (prepacked) and how the others are stored.
type splitShape struct {
	name             string
	m, n, k          int
	packedA, packedB bool // constant weights, prepacked at plan time
	transB           bool
}

// splitShapes are the products transformers and CNNs run at batch 1, and the
// cube of k5's measurement.
var splitShapes = []splitShape{
	{name: "cube1024", m: 1024, n: 1024, k: 1024},
	{name: "vit_qkv_197x768x768", m: 197, n: 768, k: 768, packedB: true},
	{name: "vit_fc1_197x3072x768", m: 197, n: 3072, k: 768, packedB: true},
	{name: "vit_fc2_197x768x3072", m: 197, n: 768, k: 3072, packedB: true},
	{name: "bert_qkv_128x768x768", m: 128, n: 768, k: 768, packedB: true},
	{name: "bert_fc1_128x3072x768", m: 128, n: 3072, k: 768, packedB: true},
	{name: "resnet50_conv5_3x3_512x49x4608", m: 512, n: 49, k: 4608, packedA: true},
	{name: "resnet50_conv5_1x1_2048x49x512", m: 2048, n: 49, k: 512, packedA: true},
	{name: "resnet50_conv4_1x1_1024x196x256", m: 1024, n: 196, k: 256, packedA: true},
	{name: "resnet50_conv1_64x12544x147", m: 64, n: 12544, k: 147, packedA: true},
}

// params is the Params Multiply would get for s, without data: what
// chooseSplit looks at.
func (s splitShape) params() *Params {
	p := &Params{M: s.m, N: s.n, K: s.k, LDA: s.k, LDB: s.n, TransB: s.transB}
	if s.transB {
		p.LDB = s.k
	}
	if s.packedA {
		p.PackedA, p.LDA = &PackedA{m: s.m, k: s.k}, 0
	}
	if s.packedB {
		p.PackedB, p.LDB = &PackedB{k: s.k, n: s.n}, 0
	}
	return p
}

// TestSplitGivesEveryThreadWork checks the split of each shape over 2 and 3
// threads: every thread gets panels, none more than its even share rounded
// up, and no operand is packed by more than one thread: splitting N leaves
// A prepacked, read in place or packed once for all threads (sharedA),
// splitting M the same for B (sharedB). (The attention products
// of one head, 128x128x64, are below the threshold: attention is parallel
// over heads instead.)
func TestSplitGivesEveryThreadWork(t *testing.T) {
	for _, s := range splitShapes {
		for _, threads := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/threads=%d", s.name, threads), func(t *testing.T) {
				p := s.params()
				sp := defaultImpl.chooseSplit(p, threads)
				if sp.parts != threads {
					t.Fatalf("split over %d parts, want %d (%+v)", sp.parts, threads, sp)
				}
				for part := range sp.parts {
					lo, hi := partRange(part, sp.parts, sp.panels)
					if hi <= lo || hi-lo > ceilDiv(sp.panels, sp.parts) {
						t.Errorf("part %d gets panels [%d, %d) of %d", part, lo, hi, sp.panels)
					}
				}
				kc := kBlock(p.K)
				if sp.byN && p.PackedA == nil && !readAInPlace(p, mBlock(p.M), kc) && !sp.sharedA {
					t.Errorf("N is split and every thread packs all of A")
				}
				rows := ceilDiv(sp.panels, sp.parts) * mr
				if !sp.byN && p.PackedB == nil && !readBInPlace(p, rows) && !sp.sharedB {
					t.Errorf("M is split and every thread packs all of B")
				}
			})
		}
	}
}

// TestSplitStaysOnOneThread checks that a product below the threshold, or
// with one panel each way, is not split.
func TestSplitStaysOnOneThread(t *testing.T) {
	for _, s := range []splitShape{{name: "small", m: 64, n: 64, k: 64}, {name: "one_panel", m: 6, n: 16, k: 1 << 20}} {
		if sp := defaultImpl.chooseSplit(s.params(), 2); sp.parts != 1 {
			t.Errorf("%s: split over %d parts, want 1", s.name, sp.parts)
		}
	}
}

// sharedCase is a product run with one operand's packing shared.
type sharedCase struct {
	testCase
	shared string // "A" or "B"
}

// TestSharedSplitsMatchOracle runs products with the packing of A (N split)
// or B (M split) shared by the threads, over several M, N and K blocks,
// partial panels, transposed, aliasing, in-place or prepacked operands, beta
// and epilogues, at 2 and 3 threads and with the pool busy (the steps then
// run inline on the caller), against the float64 oracle of the suite. The
// split is forced, so that the cases do not depend on the cost model.
func TestSharedSplitsMatchOracle(t *testing.T) {
	cases := []sharedCase{
		{testCase{m: 40, n: 3100, k: 20, transA: true, ldb: 3328, alpha: 1}, "B"},
		{testCase{m: 61, n: 45, k: 530, transA: true, transB: true, alpha: 0.5, beta: 1, epi: Epilogue{BiasMode: BiasPerRow, Act: ActReLU}}, "B"},
		{testCase{m: 300, n: 33, k: 257, ldb: 1024, alpha: 1, beta: -0.5, epi: Epilogue{BiasMode: BiasPerCol, Act: ActClip, Min: -0.5, Max: 0.5}}, "B"},
		{testCase{m: 150, n: 300, k: 40, transB: true, packA: true, alpha: 1, epi: Epilogue{BiasMode: BiasPerRow}}, "B"},
		{testCase{m: 150, n: 600, k: 300, lda: 3072, alpha: 1, beta: 0.5, epi: Epilogue{BiasMode: BiasPerCol, Act: ActReLU}}, "A"},
		{testCase{m: 301, n: 77, k: 300, transA: true, packB: true, alpha: 1}, "A"},
		{testCase{m: 150, n: 170, k: 530, lda: 1024, transB: true, alpha: 2, epi: Epilogue{BiasMode: BiasPerRow}}, "A"},
		{testCase{m: 13, n: 33, k: 530, transA: true, ldb: 1024, alpha: 1, beta: 1}, "A"},
	}
	r := rand.New(rand.NewPCG(21, 22))
	for _, threads := range []int{2, 3} {
		pool := parallel.NewPool(threads)
		defer pool.Close()
		for _, c := range cases {
			tc := c.testCase
			im := *defaultImpl
			im.minParallelWork = 0
			im.forceSplit = func(m, n, threads int) split {
				if c.shared == "A" {
					return split{parts: threads, byN: true, panels: ceilDiv(n, nr), sharedA: true}
				}
				return split{parts: threads, panels: ceilDiv(m, mr), sharedB: true}
			}
			busy := func(p *Params) {
				// The pool is busy with this For: Multiply's steps run inline.
				pool.For(threads, func(lo, hi int) {
					if lo == 0 {
						im.multiply(p)
					}
				})
			}
			for _, v := range []variant{
				{name: fmt.Sprintf("%s/threads=%d", c.shared, threads), run: im.multiply, pool: pool},
				{name: fmt.Sprintf("%s/threads=%d/busy", c.shared, threads), run: busy, pool: pool},
			} {
				t.Run(fmt.Sprintf("%s/%v", v.name, tc), func(t *testing.T) { runCase(t, v, tc, r) })
			}
		}
	}
}
