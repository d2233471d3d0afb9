package quant

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
	"github.com/onnxrun/onnxrun/ops/internal/qvec"
)

// QLinearAdd and QLinearMul (com.microsoft, opset 1, ONNX Runtime's contrib operators): inputs A, A_scale,
// A_zero_point (optional), B, B_scale, B_zero_point (optional), C_scale, C_zero_point (optional); A, B and
// C uint8 or int8 of one type, every scale and zero point per tensor; A and B broadcast as numpy does.
// Each element is computed in float32 as ONNX Runtime's MLAS kernels for x86-64 do:
//
//	QLinearAdd: C = saturate(round_half_to_even(fma(A, RatioA, fma(B, RatioB, Offset))))
//	            RatioA = A_scale / C_scale, RatioB = B_scale / C_scale,
//	            Offset = C_zero_point - fma(RatioA, A_zero_point, RatioB * B_zero_point)
//	QLinearMul: v = float32((A - A_zero_point) * (B - B_zero_point)) * (A_scale * B_scale / C_scale)
//	            C = saturate(round_half_to_even(v + C_zero_point))
//
// each fma rounded once (qvec.AddQuant, qvec.AddU8). Along a span where one input of QLinearAdd is
// broadcast, its term is folded into Offset first with a rounded product and a rounded sum, and one fma is
// left, as ONNX Runtime's scalar-input loop does (qvec.AddQuant.ConstantA/B, which also swap the inputs
// where ONNX Runtime does). The order and fusion of these roundings decide the byte when a sum is within
// float32 rounding of a tie, which MobileNetV2's residual sums meet. The integer product of QLinearMul is
// exact (|product| <= 255²).
func init() {
	ops.Register(ops.MicrosoftDomain, "QLinearAdd", ops.Since(1, buildQLinearAdd))
	ops.Register(ops.MicrosoftDomain, "QLinearMul", ops.Since(1, buildQLinearMul))
}

func buildQLinearAdd(ops.NodeInfo) (ops.Op, error) {
	return &qlinearBinaryOp{opType: "QLinearAdd", mul: false}, nil
}

func buildQLinearMul(ops.NodeInfo) (ops.Op, error) {
	return &qlinearBinaryOp{opType: "QLinearMul", mul: true}, nil
}

type qlinearBinaryOp struct {
	opType string
	mul    bool
}

var (
	binaryA = qParam{name: "A", scale: 1, zp: 2}
	binaryB = qParam{name: "B", scale: 4, zp: 5}
	binaryC = qParam{name: "C", scale: 6, zp: 7}
)

func (o *qlinearBinaryOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := checkInputs(o.opType, in, 7, 8, 0, 1, 3, 4, 6); err != nil {
		return nil, err
	}
	t, err := checkQ8(o.opType, in, 0, "A")
	if err != nil {
		return nil, err
	}
	if in[3].DType != t {
		return nil, ops.Invalidf("%s B has dtype %s, A %s: they must match", o.opType, in[3].DType, t)
	}
	for _, p := range []qParam{binaryA, binaryB, binaryC} {
		if err := checkQParam(o.opType, in, p, t); err != nil {
			return nil, err
		}
	}
	shape, err := ops.BroadcastShapes(in[0].Shape, in[3].Shape)
	if err != nil {
		return nil, ops.Invalidf("%s A %v and B %v do not broadcast: %v", o.opType, in[0].Shape, in[3].Shape, err)
	}
	return []ops.ValueInfo{{DType: t, Shape: shape}}, nil
}

func (o *qlinearBinaryOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	outs, err := o.InferShapes(in)
	if err != nil {
		return nil, err
	}
	walk := newBroadcast2(outs[0].Shape, in[0].Shape, in[3].Shape)
	if in[0].DType == ops.Int8 {
		return &qlinearBinaryKernel[int8]{mul: o.mul, walk: walk}, nil
	}
	return &qlinearBinaryKernel[uint8]{mul: o.mul, walk: walk}, nil
}

// broadcast2 walks two inputs broadcast to an output of rows × inner elements: adjacent dimensions along
// which each input is either whole or broadcast alike are merged, so that inner is as long as it can be;
// along inner each input steps by 1, or by 0 when it is broadcast there.
type broadcast2 struct {
	rows, inner  int
	dims         []int // the merged outer dimensions (all but inner), row-major
	aStep, bStep []int // each input's element stride along dims (0 where broadcast)
	aInner       int   // A's step along inner: 1 or 0
	bInner       int
}

func newBroadcast2(out, a, b ops.Shape) *broadcast2 {
	r := len(out)
	broadcastAt := func(s ops.Shape, d int) bool {
		off := r - len(s)
		return d < off || s[d-off] == 1
	}
	var dims []int
	var flags [][2]bool
	for d := 0; d < r; d++ {
		if out[d] == 1 {
			continue
		}
		f := [2]bool{broadcastAt(a, d), broadcastAt(b, d)}
		if n := len(dims); n > 0 && flags[n-1] == f {
			dims[n-1] *= out[d]
			continue
		}
		dims, flags = append(dims, out[d]), append(flags, f)
	}
	w := &broadcast2{rows: 1, inner: 1}
	if len(dims) == 0 {
		return w
	}
	last := len(dims) - 1
	w.inner = dims[last]
	if !flags[last][0] {
		w.aInner = 1
	}
	if !flags[last][1] {
		w.bInner = 1
	}
	w.dims = dims[:last]
	w.aStep, w.bStep = make([]int, last), make([]int, last)
	aAcc, bAcc := 1, 1 // each input's own extent below dimension d
	if w.aInner == 1 {
		aAcc = w.inner
	}
	if w.bInner == 1 {
		bAcc = w.inner
	}
	for d := last - 1; d >= 0; d-- {
		w.rows *= dims[d]
		if !flags[d][0] {
			w.aStep[d] = aAcc
			aAcc *= dims[d]
		}
		if !flags[d][1] {
			w.bStep[d] = bAcc
			bAcc *= dims[d]
		}
	}
	return w
}

// offsets returns where row starts in A and in B.
func (w *broadcast2) offsets(row int) (ao, bo int) {
	for d := len(w.dims) - 1; d >= 0; d-- {
		i := row % w.dims[d]
		row /= w.dims[d]
		ao += i * w.aStep[d]
		bo += i * w.bStep[d]
	}
	return ao, bo
}

type qlinearBinaryKernel[T q8] struct {
	mul   bool
	walk  *broadcast2
	tasks parallel.TaskSlot[binaryTask[T]]
}

func (k *qlinearBinaryKernel[T]) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	as, azp := readQParam(in, binaryA)
	bs, bzp := readQParam(in, binaryB)
	cs, czp := readQParam(in, binaryC)
	t := k.tasks.Get()
	defer k.tasks.Put(t)
	t.walk, t.mul, t.czp = k.walk, k.mul, czp
	t.a, t.b, t.c = ops.Data[T](in[0]), ops.Data[T](in[3]), ops.Data[T](out[0])
	if k.mul {
		t.azp, t.bzp, t.multiplier = int32(azp), int32(bzp), as*bs/cs
	} else {
		t.add = qvec.AddQuant{AScale: as, AZeroPoint: azp, BScale: bs, BZeroPoint: bzp, CScale: cs, CZeroPoint: czp}
	}
	if k.walk.rows == 1 {
		runSplit(ctx, k.walk.inner, t) // one contiguous span: split it by elements
	} else if k.walk.rows*k.walk.inner < parallelBytes || ctx.Pool == nil || ctx.Threads <= 1 {
		t.rows(0, k.walk.rows)
	} else {
		ctx.Pool.ForTask(k.walk.rows, (*binaryRows[T])(t))
	}
	return nil
}

// binaryTask computes QLinearAdd or QLinearMul over a range of elements (Do, when the output is one
// span) or of rows (binaryRows).
type binaryTask[T q8] struct {
	walk       *broadcast2
	mul        bool
	a, b, c    []T
	czp        float32       // QLinearMul
	add        qvec.AddQuant // QLinearAdd
	azp, bzp   int32         // QLinearMul
	multiplier float32
}

// binaryRows is binaryTask splitting its work by rows.
type binaryRows[T q8] binaryTask[T]

func (t *binaryRows[T]) Do(lo, hi int) { (*binaryTask[T])(t).rows(lo, hi) }

func (t *binaryTask[T]) Do(lo, hi int) {
	w := t.walk
	t.span(t.c[lo:hi], t.a[lo*w.aInner:], t.b[lo*w.bInner:], w.aInner, w.bInner)
}

func (t *binaryTask[T]) rows(lo, hi int) {
	w := t.walk
	for r := lo; r < hi; r++ {
		ao, bo := w.offsets(r)
		t.span(t.c[r*w.inner:(r+1)*w.inner], t.a[ao:], t.b[bo:], w.aInner, w.bInner)
	}
}

// span computes c[i] from a[i*sa] and b[i*sb] (steps 1, or 0 for a broadcast input).
func (t *binaryTask[T]) span(c, a, b []T, sa, sb int) {
	lo, hi := bounds8[T]()
	czp := t.czp
	if t.mul {
		m, azp, bzp := t.multiplier, t.azp, t.bzp
		for i := range c {
			p := (int32(a[i*sa]) - azp) * (int32(b[i*sb]) - bzp)
			c[i] = quantize8[T](float32(float32(p)*m), czp, lo, hi) // rounded product: no multiply-add with czp
		}
		return
	}
	p := t.add.Params()
	switch {
	case sa == 0 && sb == 0: // both broadcast along the span (a span of one element): one value
		if len(c) > 1 {
			t.span(c[:1], a, b, 0, 0)
			for i := range c {
				c[i] = c[0]
			}
			return
		}
	case sa == 0:
		p, a = t.add.ConstantA(float32(a[0])), b
	case sb == 0:
		p, b = t.add.ConstantB(float32(b[0])), a
	}
	switch cc := any(c).(type) { // T's two cases, to reach qvec's typed spans
	case []uint8:
		qvec.AddU8(cc, any(a).([]uint8)[:len(c)], any(b).([]uint8)[:len(c)], p)
	case []int8:
		qvec.AddS8(cc, any(a).([]int8)[:len(c)], any(b).([]int8)[:len(c)], p)
	}
}
