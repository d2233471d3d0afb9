package gemm

import (
	"fmt"
	"testing"
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
	// The classifiers at batch 1: one row, a B of 4-8 MB streamed for it.
	{name: "mobilenet_v2_classifier_1x1000x1280", m: 1, n: 1000, k: 1280, packedB: true},
	{name: "mobilenet_v3_classifier0_1x1280x960", m: 1, n: 1280, k: 960, packedB: true},
	{name: "resnet50_fc_1x1000x2048", m: 1, n: 1000, k: 2048, packedB: true},
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
// threads: every thread gets panels, and none more than its even share
// rounded up. (The attention products of one head, 128x128x64, are below
// the threshold: attention is parallel over heads instead.)
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

// partRange is the range [lo, hi) of panels that part t of parts gets: the
// partition parallel.Pool.For makes.
func partRange(t, parts, panels int) (lo, hi int) {
	return t * panels / parts, (t + 1) * panels / parts
}
