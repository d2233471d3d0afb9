package attention

import (
	"fmt"
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// fusedAttentionReference is FusedAttention in plain float64 loops: q [n, sq, d], k [n, sk, d] (or
// [n, d, sk] when transposedK), v [n, sk, dv], mask(n, i, j) the mask bias (nil: none).
func fusedAttentionReference(q, k, v []float32, n, sq, sk, d, dv int, scale float64, transposedK bool, mask func(n, i, j int) float64) []float64 {
	y := make([]float64, n*sq*dv)
	p := make([]float64, sk)
	for b := 0; b < n; b++ {
		for i := 0; i < sq; i++ {
			peak := math.Inf(-1)
			for j := 0; j < sk; j++ {
				var dot float64
				for e := 0; e < d; e++ {
					kv := k[b*sk*d+j*d+e]
					if transposedK {
						kv = k[b*sk*d+e*sk+j]
					}
					dot += float64(q[b*sq*d+i*d+e]) * float64(kv)
				}
				p[j] = scale * dot
				if mask != nil {
					p[j] += mask(b, i, j)
				}
				peak = math.Max(peak, p[j])
			}
			var sum float64
			for j := range p {
				p[j] = math.Exp(p[j] - peak)
				sum += p[j]
			}
			for e := 0; e < dv; e++ {
				var acc float64
				for j := 0; j < sk; j++ {
					acc += p[j] / sum * float64(v[b*sk*dv+j*dv+e])
				}
				y[b*sq*dv+i*dv+e] = acc
			}
		}
	}
	return y
}

// FusedAttention matches its plain-loop reference on odd sizes, with K as is and transposed, with masks
// of every broadcast (per key, per query and key, per head), on one thread and split over two.
func TestFusedAttentionMatchesReference(t *testing.T) {
	pool := ops.NewPool(2)
	defer pool.Close()
	const batch, heads = 2, 3
	for _, c := range []struct {
		sq, sk, d, dv int
		transposedK   bool
		mask          ops.Shape
	}{
		{1, 1, 1, 1, false, nil},
		{5, 7, 3, 9, false, nil},
		{5, 7, 3, 9, true, nil},
		{13, 17, 8, 8, false, ops.Shape{17}},
		{13, 17, 8, 8, true, ops.Shape{13, 17}},
		{6, 33, 16, 5, false, ops.Shape{batch, 1, 1, 33}},
		{6, 33, 16, 5, false, ops.Shape{heads, 6, 1}},
	} {
		for _, threads := range []int{1, 2} {
			t.Run(fmt.Sprintf("%+v/threads%d", c, threads), func(t *testing.T) {
				q := opstest.RandF32(1, batch, heads, c.sq, c.d)
				kShape := []int{batch, heads, c.sk, c.d}
				if c.transposedK {
					kShape = []int{batch, heads, c.d, c.sk}
				}
				k := opstest.RandF32(2, kShape...)
				v := opstest.RandF32(3, batch, heads, c.sk, c.dv)
				inputs := []*ops.Tensor{q, k, v}
				var maskAt func(n, i, j int) float64
				if c.mask != nil {
					m := opstest.RandF32(4, c.mask...)
					inputs = append(inputs, m)
					full := ops.Shape{batch, heads, c.sq, c.sk}
					strides, _ := broadcastInto(c.mask, full)
					maskAt = func(n, i, j int) float64 {
						return float64(m.Float32s()[(n/heads)*strides[0]+(n%heads)*strides[1]+i*strides[2]+j*strides[3]])
					}
				}
				transposed := int64(0)
				if c.transposedK {
					transposed = 1
				}
				p := opstest.MustPrepare(t, opstest.Node{Domain: ops.FusedDomain, OpType: "FusedAttention", Opset: 1,
					Attrs: ops.AttrMap{"scale": ops.FloatAttr(0.35), "transposed_k": ops.IntAttr(transposed)}, Inputs: inputs})
				if threads > 1 {
					p.Ctx.Pool, p.Ctx.Threads = pool, threads
				}
				if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
					t.Fatal(err)
				}
				want := fusedAttentionReference(q.Float32s(), k.Float32s(), v.Float32s(), batch*heads, c.sq, c.sk, c.d, c.dv, 0.35, c.transposedK, maskAt)
				for i, got := range p.Out[0].Float32s() {
					if math.Abs(float64(got)-want[i]) > 1e-5+1e-5*math.Abs(want[i]) {
						t.Fatalf("Y[%d] = %g, want %g", i, got, want[i])
					}
				}
			})
		}
	}
}

func TestFusedAttentionErrors(t *testing.T) {
	q, k, v := opstest.RandF32(1, 2, 3, 4), opstest.RandF32(2, 2, 5, 4), opstest.RandF32(3, 2, 5, 6)
	node := func(attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
		return opstest.Node{Domain: ops.FusedDomain, OpType: "FusedAttention", Opset: 1, Attrs: attrs, Inputs: in}
	}
	for _, c := range []struct {
		name, want string
		node       opstest.Node
	}{
		{"head size", "has head size 5", node(ops.AttrMap{"transposed_k": ops.IntAttr(1)}, q, k, v)},
		{"keys", "V [2,4,6] has 4 keys", node(nil, q, k, opstest.RandF32(3, 2, 4, 6))},
		{"leading", "same leading dimensions", node(nil, q, opstest.RandF32(2, 3, 5, 4), v)},
		{"mask", "Mask [2] does not broadcast", node(nil, q, k, v, opstest.RandF32(4, 2))},
		{"dtype", "float32 only", node(nil, opstest.ToF64(q), k, v)},
		{"perm moves rows", "keeps the last one last", node(ops.AttrMap{"q_perm": ops.IntsAttr(2, 1, 0)}, q, k, v)},
		{"not a perm", "must be a permutation", node(ops.AttrMap{"v_perm": ops.IntsAttr(0, 0, 2)}, q, k, v)},
		{"y_perm", "y_perm [0 1] is not a permutation", node(ops.AttrMap{"y_perm": ops.IntsAttr(0, 1)}, q, k, v)},
	} {
		t.Run(c.name, func(t *testing.T) {
			opstest.Check(t, c.node, nil, c.want, nil)
		})
	}
}

// BenchmarkFusedAttention times BERT-base's attention at batch 1 (12 heads, 128 tokens, head size 64) on
// one and two threads.
func BenchmarkFusedAttention(b *testing.B) {
	pool := ops.NewPool(2)
	defer pool.Close()
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("bert12x128x64/threads%d", threads), func(b *testing.B) {
			q, k, v := opstest.RandF32(1, 12, 128, 64), opstest.RandF32(2, 12, 128, 64), opstest.RandF32(3, 12, 128, 64)
			p := opstest.MustPrepare(b, opstest.Node{Domain: ops.FusedDomain, OpType: "FusedAttention", Opset: 1,
				Attrs: ops.AttrMap{"scale": ops.FloatAttr(0.125)}, Inputs: []*ops.Tensor{q, k, v}})
			if threads > 1 {
				p.Ctx.Pool, p.Ctx.Threads = pool, threads
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(2*12*128*128*128)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// The float32 ONNX Attention of the common case (4-D, no cache, a float mask over every key, here with one
// query row whose keys are all -inf) runs on the FusedAttention kernel and gives what the general kernel
// gives in float64, zeros for the fully masked row included; with a causal flag it stays on the general
// kernel.
func TestAttentionFloat32RunsFused(t *testing.T) {
	q, k, v := opstest.RandF32(1, 2, 3, 5, 8), opstest.RandF32(2, 2, 3, 9, 8), opstest.RandF32(3, 2, 3, 9, 6)
	mask := opstest.RandF32(4, 5, 9)
	for j := 0; j < 9; j++ {
		mask.Float32s()[2*9+j] = float32(math.Inf(-1))
	}
	node := func(attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
		return opstest.Node{OpType: "Attention", Opset: 23, Attrs: attrs, Inputs: in}
	}
	scale := ops.AttrMap{"scale": ops.FloatAttr(0.3)}
	p := opstest.MustPrepare(t, node(scale, q, k, v, mask))
	if _, ok := p.Kernel.(*fusedAttentionKernel); !ok {
		t.Fatalf("float32 Attention runs on %T, want the fused kernel", p.Kernel)
	}
	if p := opstest.MustPrepare(t, node(ops.AttrMap{"is_causal": ops.IntAttr(1)}, q, k, v)); !isGeneral(p.Kernel) {
		t.Fatalf("causal Attention runs on %T, want the general kernel", p.Kernel)
	}
	got, err := opstest.Run(node(scale, q, k, v, mask))
	if err != nil {
		t.Fatal(err)
	}
	want, err := opstest.Run(node(scale, opstest.ToF64(q), opstest.ToF64(k), opstest.ToF64(v), opstest.ToF64(mask)))
	if err != nil {
		t.Fatal(err)
	}
	if err := opstest.Close(got[0], opstest.ToF32(want[0]), 1e-5, 1e-5); err != nil {
		t.Fatal(err)
	}
	for h := 0; h < 6; h++ {
		for e := 0; e < 6; e++ {
			if y := got[0].Float32s()[h*5*6+2*6+e]; y != 0 {
				t.Fatalf("head %d, fully masked row 2: Y[%d] = %g, want 0", h, e, y)
			}
		}
	}
}

func isGeneral(k ops.Kernel) bool { _, ok := k.(*attentionKernel); return ok }

// transposed returns Transpose(x, perm) in plain loops.
func transposed(x *ops.Tensor, perm []int) *ops.Tensor {
	in := x.Shape()
	outShape := make(ops.Shape, len(perm))
	for j, p := range perm {
		outShape[j] = in[p]
	}
	inStrides := in.Strides()
	out := ops.New(ops.Float32, outShape)
	for o := range out.Float32s() {
		off, rem := 0, o
		for j := len(outShape) - 1; j >= 0; j-- {
			off += (rem % outShape[j]) * inStrides[perm[j]]
			rem /= outShape[j]
		}
		out.Float32s()[o] = x.Float32s()[off]
	}
	return out
}

// With q_perm, k_perm, v_perm and y_perm FusedAttention reads its operands through the Transposes that
// make them and writes its output as the Transpose of Y: the heads of Hugging Face's [B, S, H, dh] and of
// torch's [S, B·H, dh], read and written in place, give what the Transposes and the plain kernel give, on
// one thread and on two, with a mask.
func TestFusedAttentionStridedOperands(t *testing.T) {
	pool := ops.NewPool(2)
	defer pool.Close()
	for _, c := range []struct {
		name                       string
		q, k, v                    ops.Shape // physical shapes
		qPerm, kPerm, vPerm, yPerm []int
		transposedK                bool
		mask                       ops.Shape
	}{
		{"hugging face", ops.Shape{2, 9, 3, 8}, ops.Shape{2, 11, 3, 8}, ops.Shape{2, 11, 3, 5},
			[]int{0, 2, 1, 3}, []int{0, 2, 1, 3}, []int{0, 2, 1, 3}, []int{0, 2, 1, 3}, false, ops.Shape{2, 1, 1, 11}},
		{"torch", ops.Shape{9, 6, 8}, ops.Shape{11, 6, 8}, ops.Shape{11, 6, 8},
			[]int{1, 0, 2}, []int{1, 0, 2}, []int{1, 0, 2}, []int{1, 0, 2}, false, nil},
		{"q and y only, K transposed", ops.Shape{9, 6, 8}, ops.Shape{6, 8, 11}, ops.Shape{6, 11, 4},
			[]int{1, 0, 2}, nil, nil, []int{1, 0, 2}, true, ops.Shape{9, 11}},
	} {
		for _, threads := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/threads%d", c.name, threads), func(t *testing.T) {
				q, k, v := opstest.RandF32(1, c.q...), opstest.RandF32(2, c.k...), opstest.RandF32(3, c.v...)
				attrs := ops.AttrMap{"scale": ops.FloatAttr(0.3)}
				if c.transposedK {
					attrs["transposed_k"] = ops.IntAttr(1)
				}
				logical := func(x *ops.Tensor, perm []int, attr string) *ops.Tensor {
					if perm == nil {
						return x
					}
					attrs[attr] = intsAttr(perm)
					return transposed(x, perm)
				}
				plainIn := []*ops.Tensor{logical(q, c.qPerm, "q_perm"), logical(k, c.kPerm, "k_perm"), logical(v, c.vPerm, "v_perm")}
				stridedIn := []*ops.Tensor{q, k, v}
				if c.mask != nil {
					m := opstest.RandF32(4, c.mask...)
					plainIn, stridedIn = append(plainIn, m), append(stridedIn, m)
				}
				attrs["y_perm"] = intsAttr(c.yPerm)
				plainAttrs := ops.AttrMap{"scale": attrs["scale"]}
				if c.transposedK {
					plainAttrs["transposed_k"] = attrs["transposed_k"]
				}
				want, err := opstest.Run(opstest.Node{Domain: ops.FusedDomain, OpType: "FusedAttention", Opset: 1, Attrs: plainAttrs, Inputs: plainIn})
				if err != nil {
					t.Fatal(err)
				}
				p := opstest.MustPrepare(t, opstest.Node{Domain: ops.FusedDomain, OpType: "FusedAttention", Opset: 1, Attrs: attrs, Inputs: stridedIn})
				if threads > 1 {
					p.Ctx.Pool, p.Ctx.Threads = pool, threads
				}
				if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
					t.Fatal(err)
				}
				if err := opstest.Close(p.Out[0], transposed(want[0], c.yPerm), 1e-6, 1e-6); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func intsAttr(v []int) ops.Attr {
	ints := make([]int64, len(v))
	for i, x := range v {
		ints[i] = int64(x)
	}
	return ops.IntsAttr(ints...)
}
