package quant

import (
	"github.com/onnxrun/onnxrun/ops"
)

// mmPlan is a numpy.matmul over broadcast batch dimensions, as MatMulInteger and QLinearMatMul use it: a
// 1-D A is a row [1, K] and a 1-D B a column [K, 1], their extra dimension dropped from the output.
type mmPlan struct {
	m, k, n      int
	aOff, bOff   []int // per output batch: the batch index into A and into B
	out          ops.Shape
	aRank, bRank int
}

func newMMPlan(op string, a, b ops.Shape) (*mmPlan, error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, ops.Invalidf("%s inputs have shapes A=%v and B=%v, want rank 1 or more", op, a, b)
	}
	a2, b2 := a, b
	if len(a) == 1 {
		a2 = ops.Shape{1, a[0]}
	}
	if len(b) == 1 {
		b2 = ops.Shape{b[0], 1}
	}
	p := &mmPlan{m: a2[len(a2)-2], k: a2[len(a2)-1], n: b2[len(b2)-1], aRank: len(a), bRank: len(b)}
	if b2[len(b2)-2] != p.k {
		return nil, ops.Invalidf("%s inputs have shapes A=%v and B=%v: A's K=%d != B's K=%d", op, a, b, p.k, b2[len(b2)-2])
	}
	aBatch, bBatch := a2[:len(a2)-2], b2[:len(b2)-2]
	batch, err := ops.BroadcastShapes(aBatch, bBatch)
	if err != nil {
		return nil, ops.Invalidf("%s batch dimensions: %v", op, err)
	}
	nb := batch.Size()
	p.aOff, p.bOff = make([]int, nb), make([]int, nb)
	aStr, bStr := broadcastStrides(aBatch, len(batch)), broadcastStrides(bBatch, len(batch))
	for i := 0; i < nb; i++ {
		rem := i
		for d := len(batch) - 1; d >= 0; d-- {
			c := rem % batch[d]
			rem /= batch[d]
			p.aOff[i] += c * aStr[d]
			p.bOff[i] += c * bStr[d]
		}
	}
	p.out = append(batch.Clone(), p.m, p.n)
	switch {
	case len(a) == 1 && len(b) == 1:
		p.out = ops.Shape{}
	case len(a) == 1:
		p.out = append(batch.Clone(), p.n)
	case len(b) == 1:
		p.out = append(batch.Clone(), p.m)
	}
	return p, nil
}

// broadcastStrides gives s's batch-index strides aligned right to rank dimensions, 0 where s broadcasts.
func broadcastStrides(s ops.Shape, rank int) []int {
	st := make([]int, rank)
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != 1 {
			st[rank-len(s)+i] = acc
		}
		acc *= s[i]
	}
	return st
}

// sideParam locates the zero point or scale that applies to a row of A (per-row) or a column of B
// (per-column): a single element, a 1-D vector over the rows (columns), or an N-D tensor shaped like the
// input with the K dimension 1.
type sideParam struct {
	kind  int // 0: one value, 1: a vector indexed by row/column, 2: per batch and row/column
	count int // rows (A) or columns (B)
}

func newSideParam(op, name string, p, x ops.Shape, isA bool, plan *mmPlan) (sideParam, error) {
	count := plan.n
	if isA {
		count = plan.m
	}
	switch {
	case p.Size() == 1:
		return sideParam{}, nil
	case len(p) == 1 && p[0] == count:
		return sideParam{kind: 1, count: count}, nil
	case len(p) == len(x) && len(x) >= 2:
		want := x.Clone()
		if isA {
			want[len(want)-1] = 1
		} else {
			want[len(want)-2] = 1
		}
		if p.Equal(want) {
			return sideParam{kind: 2, count: count}, nil
		}
	}
	return sideParam{}, ops.Invalidf("%s %s has shape %v, want a scalar, [%d] or the input's shape %v with K set to 1", op, name, p, count, x)
}

// len is how many elements apply to one batch: 1 for a single value, else one per row/column.
func (s sideParam) len() int {
	if s.kind == 0 {
		return 1
	}
	return s.count
}

// index returns the parameter element for batch index batch (of its own input) and row/column rc.
func (s sideParam) index(batch, rc int) int {
	switch s.kind {
	case 1:
		return rc
	case 2:
		return batch*s.count + rc
	}
	return 0
}
