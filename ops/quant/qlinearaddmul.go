package quant

import (
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// QLinearAdd and QLinearMul (com.microsoft, opset 1, ONNX Runtime's contrib operators): inputs A, A_scale,
// A_zero_point (optional), B, B_scale, B_zero_point (optional), C_scale, C_zero_point (optional); A, B and
// C uint8 or int8 of one type, every scale and zero point per tensor; A and B broadcast as numpy does.
// Each element is computed in float32 as ONNX Runtime's MLAS kernels do:
//
//	QLinearAdd: v = (A - A_zero_point) * (A_scale / C_scale) + (B - B_zero_point) * (B_scale / C_scale)
//	QLinearMul: v = float32((A - A_zero_point) * (B - B_zero_point)) * (A_scale * B_scale / C_scale)
//	C = saturate(round_half_to_even(v) + C_zero_point)
//
// The integer product of QLinearMul is exact (|product| <= 255²); both float32 terms of QLinearAdd are
// read from two 256-entry tables built once per run (the same float32 products, so the same bits), which
// leaves an add, a round and a saturation per element.
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
		ra, rb := as/cs, bs/cs
		for i := range t.aTerm {
			t.aTerm[i] = (float32(T(uint8(i))) - azp) * ra
			t.bTerm[i] = (float32(T(uint8(i))) - bzp) * rb
		}
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
	walk         *broadcast2
	mul          bool
	a, b, c      []T
	czp          float32
	aTerm, bTerm [256]float32 // QLinearAdd: each input byte's term of v
	azp, bzp     int32        // QLinearMul
	multiplier   float32
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
			c[i] = quantize8[T](float32(p)*m, czp, lo, hi)
		}
		return
	}
	if sa == 1 && sb == 1 {
		a, b = a[:len(c)], b[:len(c)]
		for i := range c {
			c[i] = quantize8[T](t.aTerm[uint8(a[i])]+t.bTerm[uint8(b[i])], czp, lo, hi)
		}
		return
	}
	for i := range c {
		c[i] = quantize8[T](t.aTerm[uint8(a[i*sa])]+t.bTerm[uint8(b[i*sb])], czp, lo, hi)
	}
}
