package quant

import (
	"math/bits"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
	"github.com/onnxrun/onnxrun/ops/internal/kernelutil"
	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// MatMulNBits is ONNX Runtime's weight-only quantized MatMul (com.microsoft, opset 1), common in quantized
// transformers: Y = A · dequantize(B)ᵀ + bias, where B holds an N×K weight quantized along K in blocks of
// block_size codes of `bits` bits:
//
//	W[n][k] = (code(n, k) - zero_point(n, k/block_size)) · scales[n·k_blocks + k/block_size]
//	Y[..][n] = Σ_k A[..][k] · W[n][k] + bias[n]
//
// Inputs: A (float32 [..., K]), B (uint8 [N, k_blocks, blob_size] with k_blocks = ceil(K/block_size) and
// blob_size = block_size·bits/8, codes packed low bits first), scales (float32, N·k_blocks values),
// zero_points (optional: uint8 packed like the codes, ceil(k_blocks·bits/8) bytes per column; or float32,
// one per block; absent: 2^(bits-1)), g_idx (must be absent: act-order reordering is not supported),
// bias (optional float32 [N]). Attributes K, N, block_size (a power of two, at least 16), bits (2, 4 or 8;
// default 4) and accuracy_level, which is accepted and ignored: the product is always computed in float32
// (ONNX Runtime's level 4 quantizes A to int8 instead, which is less accurate than this).
//
// Strategy. B is never unpacked whole: at 4 bits a float32 copy would take 8 times its memory. With one
// row of A (token-by-token decoding) each column's codes are dequantised and dotted with A in one pass,
// the columns split over the threads: the 4-bit codes are read once and nothing is written but Y. With
// more rows, K is walked in chunks of whole blocks (about 256 values): each chunk of B is dequantised
// into an N×chunk float32 panel in the scratch memory (N·256·4 bytes, 4 MiB for N = 4096) and the float
// GEMM (ops/internal/gemm) accumulates A's matching columns times the panel into Y, so the GEMM's speed
// serves large M and the extra memory stays one panel.
func init() {
	ops.Register(ops.MicrosoftDomain, "MatMulNBits",
		// opset 1: the only version of the contrib operator.
		ops.Since(1, buildMatMulNBits),
	)
}

// nbitsChunk is the K extent of one dequantised panel (rounded to whole blocks).
const nbitsChunk = 256

type matMulNBitsOp struct {
	opset                 int
	k, n, bits, blockSize int
}

func buildMatMulNBits(n ops.NodeInfo) (ops.Op, error) {
	if n.NumInputs < 3 || n.NumInputs > 6 {
		return nil, ops.Invalidf("MatMulNBits takes 3 to 6 inputs, the node has %d", n.NumInputs)
	}
	r := ops.NewAttrReader(n.Attrs)
	for _, name := range []string{"K", "N", "block_size"} {
		if !r.Has(name) {
			return nil, ops.Invalidf("MatMulNBits needs the attribute %s", name)
		}
	}
	o := &matMulNBitsOp{opset: n.Opset, k: int(r.Int("K", 0)), n: int(r.Int("N", 0)),
		bits: int(r.Int("bits", 4)), blockSize: int(r.Int("block_size", 0))}
	accuracy := r.Int("accuracy_level", 0)
	if err := r.Err(); err != nil {
		return nil, err
	}
	switch {
	case o.k <= 0 || o.n <= 0:
		return nil, ops.Invalidf("MatMulNBits K=%d and N=%d must be positive", o.k, o.n)
	case o.bits != 2 && o.bits != 4 && o.bits != 8:
		return nil, ops.Invalidf("MatMulNBits bits=%d is not supported (2, 4 or 8)", o.bits)
	case o.blockSize < 16 || bits.OnesCount(uint(o.blockSize)) != 1:
		return nil, ops.Invalidf("MatMulNBits block_size=%d must be a power of two >= 16", o.blockSize)
	case accuracy < 0 || accuracy > 4:
		return nil, ops.Invalidf("MatMulNBits accuracy_level=%d must be 0 to 4", accuracy)
	}
	return o, nil
}

func (o *matMulNBitsOp) kBlocks() int  { return (o.k + o.blockSize - 1) / o.blockSize }
func (o *matMulNBitsOp) blobSize() int { return o.blockSize * o.bits / 8 }

// packedZeroBytes is the bytes of packed zero points per column.
func (o *matMulNBitsOp) packedZeroBytes() int { return (o.kBlocks()*o.bits + 7) / 8 }

func (o *matMulNBitsOp) check(in []ops.ValueInfo) (*matMulNBitsKernel, error) {
	const op = "MatMulNBits"
	if err := ops.CheckInputCount(in, 3, 6); err != nil {
		return nil, err
	}
	if err := ops.DTypes(ops.Float32).Check(op, o.opset, "A", in[0].DType); err != nil {
		return nil, err
	}
	if err := ops.DTypes(ops.Uint8).Check(op, o.opset, "B", in[1].DType); err != nil {
		return nil, err
	}
	if err := ops.DTypes(ops.Float32).Check(op, o.opset, "scales", in[2].DType); err != nil {
		return nil, err
	}
	a := in[0].Shape
	if len(a) == 0 || a[len(a)-1] != o.k {
		return nil, ops.Invalidf("%s A has shape %v, want its last dimension K=%d", op, a, o.k)
	}
	kb := o.kBlocks()
	if want := (ops.Shape{o.n, kb, o.blobSize()}); !in[1].Shape.Equal(want) {
		return nil, ops.Invalidf("%s B has shape %v, want [N, ceil(K/block_size), block_size*bits/8] = %v", op, in[1].Shape, want)
	}
	if in[2].Shape.Size() != o.n*kb {
		return nil, ops.Invalidf("%s scales has shape %v, want N*ceil(K/block_size) = %d values", op, in[2].Shape, o.n*kb)
	}
	k := &matMulNBitsKernel{op: o, rows: a.Size() / o.k, out: append(a[:len(a)-1].Clone(), o.n)}
	if zp := ops.Input(in, 3); zp.Present() {
		switch zp.DType {
		case ops.Uint8:
			if zp.Shape.Size() != o.n*o.packedZeroBytes() {
				return nil, ops.Invalidf("%s zero_points (uint8, packed) has shape %v, want N*ceil(k_blocks*bits/8) = %d values",
					op, zp.Shape, o.n*o.packedZeroBytes())
			}
		case ops.Float32:
			if zp.Shape.Size() != o.n*kb {
				return nil, ops.Invalidf("%s zero_points (float32) has shape %v, want N*ceil(K/block_size) = %d values", op, zp.Shape, o.n*kb)
			}
		default:
			return nil, ops.Invalidf("%s zero_points has dtype %s, want uint8 (packed) or float32 (A's type)", op, zp.DType)
		}
	}
	if ops.Input(in, 4).Present() {
		return nil, ops.Invalidf("%s g_idx is not supported (act-order reordered blocks); quantize without it", op)
	}
	if bias := ops.Input(in, 5); bias.Present() {
		if err := ops.DTypes(ops.Float32).Check(op, o.opset, "bias", bias.DType); err != nil {
			return nil, err
		}
		if !(len(bias.Shape) == 1 && bias.Shape[0] == o.n) {
			return nil, ops.Invalidf("%s bias has shape %v, want [%d] (N)", op, bias.Shape, o.n)
		}
	}
	k.chunk = min(max(nbitsChunk/o.blockSize, 1)*o.blockSize, kb*o.blockSize)
	k.kBlocks, k.blob, k.zpBytes = kb, o.blobSize(), o.packedZeroBytes()
	k.defaultZero = float32(int(1) << (o.bits - 1))
	return k, nil
}

func (o *matMulNBitsOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	k, err := o.check(in)
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: ops.Float32, Shape: k.out}}, nil
}

func (o *matMulNBitsOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	return o.check(in)
}

type matMulNBitsKernel struct {
	op    *matMulNBitsOp
	rows  int       // rows of A (the product of its leading dimensions)
	out   ops.Shape // Y's shape
	chunk int       // K extent of a dequantised panel: whole blocks
	// The op's derived sizes, kept so that the per-block work does no divisions.
	kBlocks, blob, zpBytes int
	defaultZero            float32
	slot                   parallel.TaskSlot[nbitsTask]
}

// ScratchSize is one N×chunk panel, used when A has more than one row.
func (k *matMulNBitsKernel) ScratchSize() int {
	if k.rows <= 1 {
		return 0
	}
	return k.op.n * k.chunk
}

func (k *matMulNBitsKernel) FLOPs() int64 { return int64(k.rows) * int64(k.op.n) * int64(k.op.k) }

// nbitsTask is one Run's work over ranges of the N columns: dequantise-and-dot with A's single row
// (panel == nil), or dequantise K range [k0, k1) of the columns into panel.
type nbitsTask struct {
	k             *matMulNBitsKernel
	a, y          []float32
	b             []uint8
	scales        []float32
	zpPacked      []uint8
	zpFloat, bias []float32
	panel         []float32
	k0, k1        int
}

func (t *nbitsTask) Do(lo, hi int) {
	if t.panel == nil {
		for n := lo; n < hi; n++ {
			t.dotColumn(n)
		}
		return
	}
	for n := lo; n < hi; n++ {
		t.dequantizeColumn(n)
	}
}

// block returns the scale, zero point and codes of block kb of column n.
func (t *nbitsTask) block(n, kb int) (scale, zero float32, codes []uint8) {
	k := t.k
	i := n*k.kBlocks + kb
	zero = k.defaultZero
	switch {
	case t.zpFloat != nil:
		zero = t.zpFloat[i]
	case t.zpPacked != nil:
		bitPos := kb * k.op.bits
		b := t.zpPacked[n*k.zpBytes+bitPos/8]
		zero = float32(b >> (bitPos % 8) & (1<<k.op.bits - 1))
	}
	return t.scales[i], zero, t.b[i*k.blob : (i+1)*k.blob]
}

// decodeBlock writes the first len(dst) dequantised values of a block into dst.
func (t *nbitsTask) decodeBlock(dst []float32, scale, zero float32, codes []uint8) {
	switch t.k.op.bits {
	case 4:
		j := 0
		for _, c := range codes[:len(dst)/2] {
			dst[j] = (float32(c&15) - zero) * scale
			dst[j+1] = (float32(c>>4) - zero) * scale
			j += 2
		}
		if j < len(dst) {
			dst[j] = (float32(codes[j/2]&15) - zero) * scale
		}
	case 8:
		for j := range dst {
			dst[j] = (float32(codes[j]) - zero) * scale
		}
	case 2:
		for j := range dst {
			dst[j] = (float32(codes[j/4]>>(j%4*2)&3) - zero) * scale
		}
	}
}

// dotColumn computes Y[n] = Σ_k A[k]·W[n][k] + bias[n] for a single row of A, reading column n's codes
// once. The dequantised value (code - zero)·scale is formed as in decodeBlock, so both paths agree to the
// float32 rounding of the sums.
func (t *nbitsTask) dotColumn(n int) {
	o := t.k.op
	var sum float32
	for kb := 0; kb < t.k.kBlocks; kb++ {
		scale, zero, codes := t.block(n, kb)
		k0 := kb * o.blockSize
		a := t.a[k0:min(k0+o.blockSize, o.k)]
		var dot float32
		switch o.bits {
		case 4:
			// The 16 possible values of the block, so that each code costs one load and one
			// multiply-add; two sums break the dependency chain.
			var lut [16]float32
			for q := range lut {
				lut[q] = (float32(q) - zero) * scale
			}
			var even, odd float32
			pairs := codes[:len(a)/2]
			a2 := a[:2*len(pairs)]
			for i, c := range pairs {
				even += a2[2*i] * lut[c&15]
				odd += a2[2*i+1] * lut[c>>4]
			}
			dot = even + odd
			if j := 2 * len(pairs); j < len(a) {
				dot += a[j] * lut[codes[j/2]&15]
			}
		case 8:
			for j, v := range a {
				dot += v * ((float32(codes[j]) - zero) * scale)
			}
		case 2:
			for j, v := range a {
				dot += v * ((float32(codes[j/4]>>(j%4*2)&3) - zero) * scale)
			}
		}
		sum += dot
	}
	if t.bias != nil {
		sum += t.bias[n]
	}
	t.y[n] = sum
}

// dequantizeColumn writes W[n][k0:k1] into row n of the panel (stride chunk).
func (t *nbitsTask) dequantizeColumn(n int) {
	o := t.k.op
	row := t.panel[n*t.k.chunk:]
	for k0 := t.k0; k0 < t.k1; k0 += o.blockSize {
		scale, zero, codes := t.block(n, k0/o.blockSize)
		end := min(k0+o.blockSize, t.k1)
		t.decodeBlock(row[k0-t.k0:end-t.k0], scale, zero, codes)
	}
}

func (k *matMulNBitsKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	o := k.op
	t := k.slot.Get()
	*t = nbitsTask{k: k, a: in[0].Float32s(), y: out[0].Float32s(), b: ops.Data[uint8](in[1]), scales: in[2].Float32s()}
	if zp := ops.TensorAt(in, 3); zp != nil {
		if zp.DType() == ops.Uint8 {
			t.zpPacked = ops.Data[uint8](zp)
		} else {
			t.zpFloat = zp.Float32s()
		}
	}
	if bias := ops.TensorAt(in, 5); bias != nil {
		t.bias = bias.Float32s()
	}
	defer k.slot.Put(t)
	if k.rows == 0 {
		return nil
	}
	threads := ctx.Pool.Threads()
	if k.rows == 1 {
		runColumns(ctx.Pool, threads, o.n, t)
		return nil
	}
	done := kernelutil.DoneOf(ctx)
	t.panel = ctx.Scratch[:o.n*k.chunk]
	for k0 := 0; k0 < o.k; k0 += k.chunk {
		t.k0, t.k1 = k0, min(k0+k.chunk, o.k)
		runColumns(ctx.Pool, threads, o.n, t)
		p := gemm.Params{M: k.rows, N: o.n, K: t.k1 - t.k0, Alpha: 1, A: t.a[k0:], LDA: o.k,
			B: t.panel, LDB: k.chunk, TransB: true, C: t.y, LDC: o.n, Pool: ctx.Pool, Done: done}
		if k0 > 0 {
			p.Beta = 1
		}
		if t.k1 == o.k && t.bias != nil {
			p.Epilogue = gemm.Epilogue{Bias: t.bias, BiasMode: gemm.BiasPerCol}
		}
		gemm.Multiply(&p)
		if kernelutil.Cancelled(done) {
			return ctx.Context.Err()
		}
	}
	return nil
}

// runColumns runs t over the n columns, split over the pool's threads when there is more than one.
func runColumns(pool *parallel.Pool, threads, n int, t *nbitsTask) {
	if threads > 1 {
		pool.ForTask(n, t)
		return
	}
	t.Do(0, n)
}
