package quant

import (
	"fmt"

	"unsafe"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/igemm"
)

// bytesOf views 8-bit tensor data ([]uint8 or []int8) as bytes, without copying; nil for other types.
func bytesOf(data any) []byte {
	switch d := data.(type) {
	case []uint8:
		return d
	case []int8:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
	}
	return nil
}

// span is the range of a zero point's or scale's elements that apply to batch index batch of its input.
func (s sideParam) span(batch int) (lo, hi int) {
	switch s.kind {
	case 1:
		return 0, s.count
	case 2:
		return batch * s.count, (batch + 1) * s.count
	}
	return 0, 1
}

// igemmMatMul runs the batched product of an mmPlan on the integer GEMM, for MatMulInteger and
// QLinearMatMul (8-bit operands): one igemm.Multiply per output batch, with a constant B packed once
// per batch of B at Prepare.
type igemmMatMul struct {
	plan             *mmPlan
	aSigned, bSigned bool
	azp, bzp         sideParam
	packedB          []*igemm.PackedB // per batch of B, when B is constant
}

func newIgemmMatMul(plan *mmPlan, a, b ops.ValueInfo, azp, bzp sideParam) *igemmMatMul {
	g := &igemmMatMul{plan: plan, aSigned: a.DType == ops.Int8, bSigned: b.DType == ops.Int8, azp: azp, bzp: bzp}
	if b.Const != nil {
		// Every node reading the same B shares the packed batches (ops.Prepack).
		layout := fmt.Sprintf("igemm.PackB batches signed=%t k=%d n=%d", g.bSigned, plan.k, plan.n)
		g.packedB = ops.Prepack(b.Packs, b.Const, layout, func() []*igemm.PackedB {
			var packed []*igemm.PackedB
			data := bytesOf(b.Const.Data())
			size := plan.k * plan.n
			for off := 0; off+size <= len(data) && size > 0; off += size {
				packed = append(packed, igemm.PackB(g.bSigned, false, plan.k, plan.n, data[off:off+size], plan.n))
			}
			return packed
		})
	}
	return g
}

// requantArgs are QLinearMatMul's scales and output, sliced per batch by run.
type requantArgs struct {
	aScale, bScale []float32
	as, bs         sideParam
	yScale         float32
	yZero          int32
	ySigned        bool
	y              []byte
}

// run computes every output batch: into c (MatMulInteger) or, with rq, requantised into rq.y.
// aZero and bZero are nil when absent.
func (g *igemmMatMul) run(ctx *ops.ExecContext, a, b, aZero, bZero []byte, c []int32, rq *requantArgs) {
	pl := g.plan
	m, n, k := pl.m, pl.n, pl.k
	for bi := range pl.aOff {
		ab, bb := pl.aOff[bi], pl.bOff[bi]
		p := igemm.Params{M: m, N: n, K: k,
			A: a[ab*m*k : (ab+1)*m*k], LDA: k, ASigned: g.aSigned,
			LDB: n, BSigned: g.bSigned}
		if g.packedB != nil {
			p.PackedB = g.packedB[bb]
		} else {
			p.B = b[bb*k*n : (bb+1)*k*n]
		}
		if aZero != nil {
			lo, hi := g.azp.span(ab)
			p.AZero = aZero[lo:hi]
		}
		if bZero != nil {
			lo, hi := g.bzp.span(bb)
			p.BZero = bZero[lo:hi]
		}
		if ctx != nil {
			p.Pool = ctx.Pool
		}
		if rq == nil {
			p.C, p.LDC = c[bi*m*n:(bi+1)*m*n], n
		} else {
			alo, ahi := rq.as.span(ab)
			blo, bhi := rq.bs.span(bb)
			p.Requant = igemm.Requant{AScale: rq.aScale[alo:ahi], BScale: rq.bScale[blo:bhi], YScale: rq.yScale,
				YZero: rq.yZero, YSigned: rq.ySigned, Y: rq.y[bi*m*n : (bi+1)*m*n], LDY: n}
		}
		igemm.Multiply(&p)
	}
}
