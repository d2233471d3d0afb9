package quant

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// nbitsCase is a MatMulNBits node with random codes, scales and zero points, and its expected output from
// a plain loop that unpacks every code by its bit position.
type nbitsCase struct {
	aShape             []int
	n, bits, blockSize int
	zeroPoints         string // "", "packed" or "float"
	bias               bool
	node               opstest.Node
	want               *ops.Tensor
}

func newNBitsCase(seed int64, aShape []int, n, nbits, blockSize int, zeroPoints string, bias bool) nbitsCase {
	r := rand.New(rand.NewSource(seed))
	k := aShape[len(aShape)-1]
	kBlocks := (k + blockSize - 1) / blockSize
	blob := blockSize * nbits / 8
	codes := make([]uint8, n*kBlocks*blob)
	for i := range codes {
		codes[i] = uint8(r.Intn(256))
	}
	scales := make([]float32, n*kBlocks)
	for i := range scales {
		scales[i] = 0.01 + r.Float32()*0.1
	}
	// code reads code j of the flat bit stream that starts at byte off, low bits first.
	code := func(data []uint8, off, j int) float64 {
		bit := j * nbits
		return float64(data[off+bit/8] >> (bit % 8) & (1<<nbits - 1))
	}
	zpBytes := (kBlocks*nbits + 7) / 8
	var zpPacked []uint8
	var zpFloat []float32
	zero := func(col, kb int) float64 { return float64(int(1) << (nbits - 1)) }
	switch zeroPoints {
	case "packed":
		zpPacked = make([]uint8, n*zpBytes)
		for i := range zpPacked {
			zpPacked[i] = uint8(r.Intn(256))
		}
		zero = func(col, kb int) float64 { return code(zpPacked, col*zpBytes, kb) }
	case "float":
		zpFloat = make([]float32, n*kBlocks)
		for i := range zpFloat {
			zpFloat[i] = r.Float32() * float32(int(1)<<nbits)
		}
		zero = func(col, kb int) float64 { return float64(zpFloat[col*kBlocks+kb]) }
	}
	var biasV []float32
	if bias {
		biasV = opstest.RandF32(seed+1, n).Float32s()
	}
	a := opstest.RandF32(seed+2, aShape...)
	av := a.Float32s()
	rows := len(av) / k
	want := make([]float64, rows*n)
	for i := 0; i < rows; i++ {
		for col := 0; col < n; col++ {
			var sum float64
			for p := 0; p < k; p++ {
				kb := p / blockSize
				w := (code(codes, (col*kBlocks+kb)*blob, p%blockSize) - zero(col, kb)) * float64(scales[col*kBlocks+kb])
				sum += float64(av[i*k+p]) * w
			}
			if biasV != nil {
				sum += float64(biasV[col])
			}
			want[i*n+col] = sum
		}
	}
	in := []*ops.Tensor{a, ops.FromSlice(ops.Shape{n, kBlocks, blob}, codes), ops.FromSlice(ops.Shape{n * kBlocks}, scales), nil, nil, nil}
	switch {
	case zpPacked != nil:
		in[3] = ops.FromSlice(ops.Shape{n * zpBytes}, zpPacked)
	case zpFloat != nil:
		in[3] = ops.FromSlice(ops.Shape{n * kBlocks}, zpFloat)
	}
	if biasV != nil {
		in[5] = ops.FromSlice(ops.Shape{n}, biasV)
	}
	for len(in) > 3 && in[len(in)-1] == nil {
		in = in[:len(in)-1]
	}
	attrs := ops.AttrMap{"K": ops.IntAttr(int64(k)), "N": ops.IntAttr(int64(n)), "bits": ops.IntAttr(int64(nbits)),
		"block_size": ops.IntAttr(int64(blockSize)), "accuracy_level": ops.IntAttr(4)}
	outShape := append(ops.Shape(aShape[:len(aShape)-1]).Clone(), n)
	return nbitsCase{aShape: aShape, n: n, bits: nbits, blockSize: blockSize, zeroPoints: zeroPoints, bias: bias,
		node: msNode("MatMulNBits", attrs, in...), want: ops.FromSlice(outShape, want)}
}

func TestMatMulNBitsAgainstLoop(t *testing.T) {
	for i, c := range []nbitsCase{
		newNBitsCase(1, []int{1, 37}, 7, 4, 16, "", false),           // M=1, K not a multiple of the block
		newNBitsCase(2, []int{45}, 9, 4, 32, "packed", true),         // 1-D A, odd block count of packed zero points
		newNBitsCase(3, []int{2, 3, 300}, 19, 4, 32, "packed", true), // M>1, K over two panels, last block partial
		newNBitsCase(4, []int{5, 70}, 6, 8, 16, "float", false),
		newNBitsCase(5, []int{1, 70}, 6, 8, 64, "packed", true),
		newNBitsCase(6, []int{3, 50}, 11, 2, 16, "packed", true),
		newNBitsCase(7, []int{1, 50}, 11, 2, 16, "", false),
		newNBitsCase(8, []int{4, 600}, 5, 4, 128, "float", true), // chunk of two blocks, K over three panels
	} {
		name := fmt.Sprintf("%d_A%v_N%d_bits%d_block%d_zp%q_bias%t", i, c.aShape, c.n, c.bits, c.blockSize, c.zeroPoints, c.bias)
		t.Run(name, func(t *testing.T) {
			got, err := opstest.Run(c.node)
			if err != nil {
				t.Fatal(err)
			}
			if err := ops.AllClose(opstest.ToF64(got[0]), c.want, 1e-4, 1e-4); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMatMulNBitsErrors(t *testing.T) {
	good := newNBitsCase(1, []int{2, 40}, 3, 4, 16, "packed", true).node
	with := func(attrs map[string]int64, in ...*ops.Tensor) opstest.Node {
		n := good
		n.Attrs = ops.AttrMap{}
		for k, v := range good.Attrs {
			n.Attrs[k] = v
		}
		for k, v := range attrs {
			n.Attrs[k] = ops.IntAttr(v)
		}
		n.Inputs = append([]*ops.Tensor(nil), good.Inputs...)
		for i, t := range in {
			if t != nil {
				n.Inputs[i] = t
			}
		}
		return n
	}
	f32 := opstest.F32
	for _, c := range []struct {
		name string
		node opstest.Node
		err  string
	}{
		{"bits", with(map[string]int64{"bits": 3}), "bits=3 is not supported"},
		{"block size", with(map[string]int64{"block_size": 24}), "block_size=24 must be a power of two"},
		{"K of A", with(map[string]int64{"K": 41}), "want its last dimension K=41"},
		{"B shape", with(nil, nil, ops.FromSlice(ops.Shape{3, 3, 4}, make([]uint8, 36))), "want [N, ceil(K/block_size), block_size*bits/8] = [3,3,8]"},
		{"scales count", with(nil, nil, nil, f32(ops.Shape{2}, 1, 1)), "want N*ceil(K/block_size) = 9 values"},
		{"packed zero points", with(nil, nil, nil, nil, ops.FromSlice(ops.Shape{3}, []uint8{1, 2, 3})), "want N*ceil(k_blocks*bits/8) = 6 values"},
		{"zero point type", with(nil, nil, nil, nil, ops.FromSlice(ops.Shape{9}, make([]int8, 9))), "want uint8 (packed) or float32"},
		{"g_idx", with(nil, nil, nil, nil, nil, ops.FromSlice(ops.Shape{40}, make([]int32, 40))), "g_idx is not supported"},
		{"bias shape", with(nil, nil, nil, nil, nil, nil, f32(ops.Shape{2}, 1, 2)), "bias has shape [2], want [3]"},
		{"float16 A", with(nil, opstest.ToHalf(opstest.RandF32(1, 2, 40))), "A"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := opstest.Run(c.node)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("error %v, want one containing %q", err, c.err)
			}
		})
	}
	missing := good
	missing.Attrs = ops.AttrMap{"K": ops.IntAttr(40), "N": ops.IntAttr(3)}
	if _, err := opstest.Run(missing); err == nil || !strings.Contains(err.Error(), "needs the attribute block_size") {
		t.Fatalf("no block_size: error %v", err)
	}
}

func TestMatMulNBitsRunAllocatesNothing(t *testing.T) {
	opstest.CheckRunAllocatesNothing(t, map[string]opstest.Node{
		"one row":   newNBitsCase(1, []int{1, 64}, 8, 4, 32, "packed", true).node,
		"many rows": newNBitsCase(2, []int{6, 300}, 8, 4, 32, "float", true).node,
	})
}

// The column split over threads (one row) and the threaded GEMM (many rows) give the serial result.
func TestMatMulNBitsThreads(t *testing.T) {
	pool := ops.NewPool(3)
	defer pool.Close()
	for _, c := range []nbitsCase{
		newNBitsCase(1, []int{1, 200}, 50, 4, 32, "packed", true),
		newNBitsCase(2, []int{40, 200}, 150, 4, 32, "", true),
	} {
		p := opstest.MustPrepare(t, c.node)
		p.Ctx.Pool, p.Ctx.Threads = pool, pool.Threads()
		if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
			t.Fatal(err)
		}
		if err := ops.AllClose(opstest.ToF64(p.Out[0]), c.want, 1e-4, 1e-4); err != nil {
			t.Fatalf("A %v: %v", c.aShape, err)
		}
	}
}
