package quant

import (
	"fmt"

	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/igemm"
)

// QGemm is ONNX Runtime's quantized Gemm (com.microsoft, opset 1), which its static quantizer writes for Gemm
// nodes in QOperator format:
//
//	acc[i][j] = Σ_p (op(A)[i][p] - a_zero_point) · (op(B)[p][j] - b_zero_point[j]) + C[i][j]   (int32, exact)
//	Y[i][j]   = float32(acc) · (alpha·a_scale·b_scale[j])                                        (no y_scale)
//	Y[i][j]   = saturate(round_half_even(float32(acc) · (alpha·a_scale·b_scale[j] / y_scale)) + y_zero_point)
//
// Inputs: A (uint8/int8, 2-D), a_scale (float32, one value), a_zero_point (A's type, one value), B
// (uint8/int8, 2-D), b_scale (float32, one value or N), b_zero_point (B's type, shaped as b_scale), C
// (optional int32 bias unidirectionally broadcastable to [M, N], quantized with scale alpha·a_scale·b_scale
// and zero point 0), y_scale and y_zero_point (optional, together: uint8/int8 output; absent: float32
// output). Attributes alpha (1), transA and transB (0).
//
// The multiplier is formed in float32, left to right as written above, and the accumulator is converted to
// float32 before it is scaled, as ONNX Runtime does; rounding is half to even.
func init() {
	ops.Register(ops.MicrosoftDomain, "QGemm",
		// opset 1: the only version of the contrib operator.
		ops.Since(1, buildQGemm),
	)
}

var qgemmNames = []string{"A", "a_scale", "a_zero_point", "B", "b_scale", "b_zero_point", "C", "y_scale", "y_zero_point"}

type qgemmOp struct {
	opset          int
	alpha          float32
	transA, transB bool
}

func buildQGemm(n ops.NodeInfo) (ops.Op, error) {
	if n.NumInputs < 6 || n.NumInputs > 9 {
		return nil, ops.Invalidf("QGemm takes 6 to 9 inputs, the node has %d", n.NumInputs)
	}
	r := ops.NewAttrReader(n.Attrs)
	o := &qgemmOp{opset: n.Opset, alpha: r.Float("alpha", 1), transA: r.Int("transA", 0) != 0, transB: r.Int("transB", 0) != 0}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *qgemmOp) check(in []ops.ValueInfo) (*qgemmKernel, error) {
	if err := ops.CheckInputCount(in, 6, 9); err != nil {
		return nil, err
	}
	for i, name := range qgemmNames {
		v := ops.Input(in, i)
		if !v.Present() {
			continue
		}
		var err error
		switch i {
		case 1, 4, 7:
			err = ops.DTypes(ops.Float32).Check("QGemm", o.opset, name, v.DType)
		case 6:
			err = ops.DTypes(ops.Int32).Check("QGemm", o.opset, name, v.DType)
		default:
			err = quant8.Check("QGemm", o.opset, name, v.DType)
		}
		if err != nil {
			return nil, err
		}
	}
	if in[2].DType != in[0].DType || in[5].DType != in[3].DType {
		return nil, ops.Invalidf("QGemm zero points have dtypes a_zero_point=%s, b_zero_point=%s: they must match A=%s and B=%s",
			in[2].DType, in[5].DType, in[0].DType, in[3].DType)
	}
	a, b := in[0].Shape, in[3].Shape
	if len(a) != 2 || len(b) != 2 {
		return nil, ops.Invalidf("QGemm A %v and B %v must be 2-D", a, b)
	}
	m, k := a[0], a[1]
	if o.transA {
		m, k = k, m
	}
	kb, n := b[0], b[1]
	if o.transB {
		kb, n = n, kb
	}
	if k != kb {
		return nil, ops.Invalidf("QGemm inputs have shapes A=%v (transA=%t) and B=%v (transB=%t): K=%d != %d", a, o.transA, b, o.transB, k, kb)
	}
	for _, i := range []int{1, 2} {
		if in[i].Shape.Size() != 1 {
			return nil, ops.Invalidf("QGemm %s has shape %v, want a single value (A is quantized per tensor)", qgemmNames[i], in[i].Shape)
		}
	}
	bs, bzp := in[4].Shape, in[5].Shape
	perTensor := bs.Size() == 1 && bzp.Size() == 1
	if !perTensor && !(len(bs) == 1 && bs[0] == n && bs.Equal(bzp)) {
		return nil, ops.Invalidf("QGemm b_scale %v and b_zero_point %v must both be single values or both [%d] (N)", bs, bzp, n)
	}
	kern := &qgemmKernel{m: m, n: n, k: k, transA: o.transA, transB: o.transB, alpha: o.alpha, perCol: !perTensor}
	if c := ops.Input(in, 6); c.Present() {
		bias, err := biasStrides(c.Shape, m, n)
		if err != nil {
			return nil, err
		}
		kern.bias, kern.hasBias = bias, true
	}
	ys, yzp := ops.Input(in, 7), ops.Input(in, 8)
	if ys.Present() != yzp.Present() {
		return nil, ops.Invalidf("QGemm has only one of y_scale and y_zero_point: give both (quantized output) or neither (float32 output)")
	}
	if ys.Present() {
		if ys.Shape.Size() != 1 || yzp.Shape.Size() != 1 {
			return nil, ops.Invalidf("QGemm y_scale %v and y_zero_point %v must be single values", ys.Shape, yzp.Shape)
		}
		kern.outType = yzp.DType
	} else {
		kern.outType = ops.Float32
	}
	return kern, nil
}

// biasLayout locates QGemm's C broadcast over [M, N]: element [i][j] is C[i*rowStride + j*colStride], a zero
// stride broadcasting that dimension.
type biasLayout struct{ rowStride, colStride int }

// biasStrides checks that an int32 bias shape broadcasts to [m, n] one way and returns its strides.
func biasStrides(c ops.Shape, m, n int) (biasLayout, error) {
	if len(c) > 2 {
		return biasLayout{}, ops.Invalidf("QGemm C has shape %v, want one broadcastable to [%d %d]", c, m, n)
	}
	cm, cn := 1, 1
	switch len(c) {
	case 1:
		cn = c[0]
	case 2:
		cm, cn = c[0], c[1]
	}
	if cm != 1 && cm != m || cn != 1 && cn != n {
		return biasLayout{}, ops.Invalidf("QGemm C has shape %v, want one broadcastable to [%d %d]", c, m, n)
	}
	s := biasLayout{}
	if cn != 1 || n == 1 {
		s.colStride = 1
	}
	if cm != 1 || m == 1 {
		s.rowStride = cn
	}
	return s, nil
}

func (o *qgemmOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	k, err := o.check(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: k.outType, Shape: ops.Shape{k.m, k.n}}}, nil
}

// Prepare packs a constant B once for the integer GEMM.
func (o *qgemmOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	k, err := o.check(in)
	if err != nil {
		return nil, err
	}
	if b := in[3].Const; b != nil {
		// signed from the dtype, not the elements, which the runtime may have dropped (PackedInputs): the
		// layout key must be the one B was packed under.
		signed := b.DType() == ops.Int8
		ldb := k.n
		if k.transB {
			ldb = k.k
		}
		// Every node packing the same B the same way shares one copy (ops.Prepack).
		layout := fmt.Sprintf("igemm.PackB signed=%t transB=%t k=%d n=%d ldb=%d", signed, k.transB, k.k, k.n, ldb)
		k.packedB = ops.Prepack(in[3].Packs, b, layout, func() *igemm.PackedB {
			data, _ := int8Bytes(b)
			return igemm.PackB(signed, k.transB, k.k, k.n, data, ldb)
		})
	}
	return k, nil
}

type qgemmKernel struct {
	m, n, k        int
	transA, transB bool
	alpha          float32
	perCol         bool // b_scale and b_zero_point hold one value per column
	hasBias        bool
	bias           biasLayout // strides of C; its data comes at Run
	outType        ops.DType
	packedB        *igemm.PackedB // B packed at Prepare when it is a constant
}

// PackedInputs: a packed B is all Run reads of B (igemm ignores Params.B then), and its layout depends on
// B's shape and transB only, not on M, so that the node prepared at another batch finds it packed
// (ops.PackedOnly): the runtime drops B's int8 elements.
func (k *qgemmKernel) PackedInputs() []int {
	if k.packedB != nil {
		return []int{3}
	}
	return nil
}

// Scratch layout of a QGemm kernel, in float32 words (see ScratchSize).
func (k *qgemmKernel) scratchParts() (aScale, biasRow, acc, transA int) {
	if k.outType != ops.Float32 {
		aScale = 1 // alpha·a_scale, the per-tensor scale igemm's requantisation reads
		if k.hasBias && k.bias.rowStride == 0 && k.bias.colStride == 0 {
			biasRow = k.n // a scalar C spread over a row, so that it is a per-column bias
		}
		if k.hasBias && k.bias.rowStride != 0 && k.bias.colStride != 0 {
			acc = k.m * k.n // a full [M, N] C: int32 accumulators, then C added and requantised here
		}
	}
	if k.transA {
		transA = (k.m*k.k + 3) / 4 // A transposed to row-major, one byte per element
	}
	return aScale, biasRow, acc, transA
}

// ScratchSize is the sum of the parts scratchParts lists.
func (k *qgemmKernel) ScratchSize() int {
	a, b, c, d := k.scratchParts()
	return a + b + c + d
}

func (k *qgemmKernel) FLOPs() int64 { return int64(k.m) * int64(k.n) * int64(k.k) }

func (k *qgemmKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	nScale, nBiasRow, nAcc, nTransA := k.scratchParts()
	scratch := ctx.Scratch
	scaleSlot, scratch := scratch[:nScale], scratch[nScale:]
	biasRow, scratch := int32View(scratch[:nBiasRow]), scratch[nBiasRow:]
	accBuf, scratch := int32View(scratch[:nAcc]), scratch[nAcc:]
	aT := bytesView(scratch[:nTransA])

	a, aSigned := int8Bytes(in[0])
	if k.transA {
		transposeBytes(aT, a, k.k, k.m)
		a = aT[:k.m*k.k]
	}
	azp, _ := int8Bytes(in[2])
	b, bSigned := int8Bytes(in[3])
	bzp, _ := int8Bytes(in[5])
	ldb := k.n
	if k.transB {
		ldb = k.k
	}
	p := igemm.Params{M: k.m, N: k.n, K: k.k, A: a, LDA: k.k, ASigned: aSigned, AZero: azp[:1],
		B: b, LDB: ldb, BSigned: bSigned, BTrans: k.transB, PackedB: k.packedB, BZero: bzp, Pool: ctx.Pool}
	var bias []int32
	if k.hasBias {
		bias = in[6].Int32s()
	}
	aScale := k.alpha * in[1].Float32s()[0]
	bScale := in[4].Float32s()

	if k.outType == ops.Float32 {
		y := out[0].Float32s()
		p.C, p.LDC = int32View(y), k.n
		igemm.Multiply(&p)
		acc := p.C
		for i := 0; i < k.m; i++ {
			for j := 0; j < k.n; j++ {
				v := acc[i*k.n+j]
				if bias != nil {
					v += bias[i*k.bias.rowStride+j*k.bias.colStride]
				}
				y[i*k.n+j] = float32(v) * (aScale * bScale[k.scaleIndex(j)])
			}
		}
		return nil
	}

	y, ySigned := int8Bytes(out[0])
	yScale := in[7].Float32s()[0]
	yZero := scalarZeroPoint(in[8])
	if nAcc > 0 { // a full [M, N] C: igemm's epilogue adds only row or column biases
		p.C, p.LDC = accBuf, k.n
		igemm.Multiply(&p)
		for i := 0; i < k.m; i++ {
			for j := 0; j < k.n; j++ {
				v := float32(accBuf[i*k.n+j]+bias[i*k.n+j]) * (aScale * bScale[k.scaleIndex(j)] / yScale)
				y[i*k.n+j] = saturate8(math.RoundToEven(float64(v))+float64(yZero), ySigned)
			}
		}
		return nil
	}
	scaleSlot[0] = aScale
	r := igemm.Requant{AScale: scaleSlot, BScale: bScale, YScale: yScale, YZero: yZero, YSigned: ySigned, Y: y, LDY: k.n}
	switch {
	case bias == nil:
	case nBiasRow > 0:
		for j := range biasRow {
			biasRow[j] = bias[0]
		}
		r.Bias, r.BiasMode = biasRow, igemm.BiasPerCol
	case k.bias.colStride != 0:
		r.Bias, r.BiasMode = bias, igemm.BiasPerCol
	default:
		r.Bias, r.BiasMode = bias, igemm.BiasPerRow
	}
	p.Requant = r
	igemm.Multiply(&p)
	return nil
}

// saturate8 clamps an already rounded value to uint8, or int8 when signed, and returns its byte.
func saturate8(v float64, signed bool) byte {
	if signed {
		return byte(int8(max(-128, min(127, v))))
	}
	return byte(max(0, min(255, v)))
}

func (k *qgemmKernel) scaleIndex(j int) int {
	if k.perCol {
		return j
	}
	return 0
}
