package quant

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// Tests of the GEMM-shaped com.microsoft operators (QGemm, MatMulIntegerToFloat, DynamicQuantizeMatMul)
// against plain loops written from their definitions, on odd sizes.

func msNode(op string, attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
	return opstest.Node{Domain: ops.MicrosoftDomain, OpType: op, Opset: 1, Attrs: attrs, Inputs: in}
}

// randInt8s returns a uint8 or int8 tensor of uniform values over the whole type.
func randInt8s(r *rand.Rand, dt ops.DType, shape ...int) *ops.Tensor {
	s := ops.Shape(shape)
	if dt == ops.Uint8 {
		v := make([]uint8, s.Size())
		for i := range v {
			v[i] = uint8(r.Intn(256))
		}
		return ops.FromSlice(s, v)
	}
	v := make([]int8, s.Size())
	for i := range v {
		v[i] = int8(r.Intn(256) - 128)
	}
	return ops.FromSlice(s, v)
}

func randScales(r *rand.Rand, n int) *ops.Tensor {
	v := make([]float32, n)
	for i := range v {
		v[i] = 0.001 + r.Float32()*0.02
	}
	return ops.FromSlice(ops.Shape{n}, v)
}

func intAt(t *ops.Tensor, i int) int64 { return int64(t.AsFloat64s()[i]) }

// refQGemm is QGemm's definition: the exact int sum, converted to float32 and scaled by a multiplier formed
// in float32, then rounded half to even and saturated for a quantized output.
func refQGemm(transA, transB bool, alpha float32, a, as, azp, b, bs, bzp, c, ys, yzp *ops.Tensor) *ops.Tensor {
	m, k := a.Shape()[0], a.Shape()[1]
	if transA {
		m, k = k, m
	}
	n := b.Shape()[1]
	if transB {
		n = b.Shape()[0]
	}
	av, bv := a.AsFloat64s(), b.AsFloat64s()
	outF := make([]float32, m*n)
	outQ := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			zb := intAt(bzp, 0)
			bsj := bs.Float32s()[0]
			if bs.Shape().Size() > 1 {
				zb, bsj = intAt(bzp, j), bs.Float32s()[j]
			}
			var acc int64
			for p := 0; p < k; p++ {
				ai, bi := i*k+p, p*n+j
				if transA {
					ai = p*m + i
				}
				if transB {
					bi = j*k + p
				}
				acc += (int64(av[ai]) - intAt(azp, 0)) * (int64(bv[bi]) - zb)
			}
			if c != nil {
				cs := c.Shape()
				ci := 0
				if len(cs) >= 1 && cs[len(cs)-1] == n {
					ci += j
				}
				if len(cs) == 2 && cs[0] == m {
					ci += i * cs[1]
				}
				acc += intAt(c, ci)
			}
			if ys == nil {
				outF[i*n+j] = float32(acc) * (alpha * as.Float32s()[0] * bsj)
				continue
			}
			mult := alpha * as.Float32s()[0] * bsj / ys.Float32s()[0]
			lo, hi, _ := intRange(yzp.DType())
			outQ[i*n+j] = max(lo, min(hi, math.RoundToEven(float64(float32(acc)*mult))+float64(intAt(yzp, 0))))
		}
	}
	if ys == nil {
		return ops.FromSlice(ops.Shape{m, n}, outF)
	}
	out := ops.New(yzp.DType(), ops.Shape{m, n})
	for i, v := range outQ {
		storeQuantized(out.Data(), i, v, 0, true)
	}
	return out
}

func TestQGemmAgainstLoop(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, tc := range []struct {
		m, k, n        int
		at, bt, yt     ops.DType // yt Float32: float output
		transA, transB bool
		perCol         bool
		bias           ops.Shape // nil: no C
	}{
		{1, 13, 7, ops.Uint8, ops.Int8, ops.Uint8, false, true, true, ops.Shape{7}},
		{5, 17, 9, ops.Uint8, ops.Uint8, ops.Float32, false, false, false, nil},
		{7, 3, 1, ops.Int8, ops.Int8, ops.Int8, true, false, true, ops.Shape{7, 1}},
		{6, 33, 17, ops.Uint8, ops.Int8, ops.Float32, true, true, true, ops.Shape{6, 17}},
		{3, 1, 5, ops.Int8, ops.Uint8, ops.Uint8, false, false, false, ops.Shape{}},
	} {
		name := fmt.Sprintf("%dx%dx%d_%s_%s_to_%s_tA%t_tB%t_percol%t_bias%v", tc.m, tc.k, tc.n, tc.at, tc.bt, tc.yt, tc.transA, tc.transB, tc.perCol, tc.bias)
		t.Run(name, func(t *testing.T) {
			aShape, bShape := []int{tc.m, tc.k}, []int{tc.k, tc.n}
			if tc.transA {
				aShape = []int{tc.k, tc.m}
			}
			if tc.transB {
				bShape = []int{tc.n, tc.k}
			}
			a, b := randInt8s(r, tc.at, aShape...), randInt8s(r, tc.bt, bShape...)
			azp := randInt8s(r, tc.at)
			nb := 1
			if tc.perCol {
				nb = tc.n
			}
			bs := randScales(r, nb)
			bzp := randInt8s(r, tc.bt, nb)
			if !tc.perCol {
				bs, bzp = ops.FromSlice(ops.Shape{}, bs.Float32s()), randInt8s(r, tc.bt)
			}
			var c *ops.Tensor
			if tc.bias != nil {
				v := make([]int32, tc.bias.Size())
				for i := range v {
					v[i] = int32(r.Intn(20001) - 10000)
				}
				c = ops.FromSlice(tc.bias, v)
			}
			as := scalarF32(0.02)
			var ys, yzp *ops.Tensor
			if tc.yt != ops.Float32 {
				ys, yzp = scalarF32(float32(tc.k)*0.002), randInt8s(r, tc.yt)
			}
			alpha := float32(0.75)
			attrs := ops.AttrMap{"alpha": ops.FloatAttr(alpha), "transA": ops.IntAttr(b2i(tc.transA)), "transB": ops.IntAttr(b2i(tc.transB))}
			in := []*ops.Tensor{a, as, azp, b, bs, bzp, c, ys, yzp}
			if ys == nil {
				in = in[:7]
			}
			got, err := opstest.Run(msNode("QGemm", attrs, in...))
			if err != nil {
				t.Fatal(err)
			}
			want := refQGemm(tc.transA, tc.transB, alpha, a, as, azp, b, bs, bzp, c, ys, yzp)
			if err := ops.AllClose(got[0], want, 1e-6, 0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// refIntToFloat is MatMulIntegerToFloat's definition for a 2-D or batched 3-D A and a 2-D B.
func refIntToFloat(a *ops.Tensor, as float32, azp int64, b *ops.Tensor, bs *ops.Tensor, bzp *ops.Tensor, bias []float32) *ops.Tensor {
	sa := a.Shape()
	m, k := sa[len(sa)-2], sa[len(sa)-1]
	batches := sa.Size() / (m * k)
	n := b.Shape()[1]
	av, bv := a.AsFloat64s(), b.AsFloat64s()
	out := make([]float32, batches*m*n)
	for bi := 0; bi < batches; bi++ {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var zb int64
				if bzp != nil {
					zb = intAt(bzp, min(j, bzp.Shape().Size()-1))
				}
				var acc int64
				for p := 0; p < k; p++ {
					acc += (int64(av[(bi*m+i)*k+p]) - azp) * (int64(bv[p*n+j]) - zb)
				}
				v := float32(acc) * (as * bs.Float32s()[min(j, bs.Shape().Size()-1)])
				if bias != nil {
					v += bias[j]
				}
				out[(bi*m+i)*n+j] = v
			}
		}
	}
	shape := append(sa[:len(sa)-1].Clone(), n)
	return ops.FromSlice(shape, out)
}

func TestMatMulIntegerToFloatAgainstLoop(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, tc := range []struct {
		aShape []int
		n      int
		at, bt ops.DType
		perCol bool
		zps    bool
		bias   bool
	}{
		{[]int{1, 19}, 11, ops.Uint8, ops.Int8, true, true, true},
		{[]int{2, 5, 13}, 7, ops.Uint8, ops.Uint8, false, true, false},
		{[]int{7, 3}, 1, ops.Int8, ops.Int8, true, false, true},
		{[]int{4, 31}, 17, ops.Int8, ops.Uint8, false, true, true},
	} {
		name := fmt.Sprintf("%v_n%d_%s_%s_percol%t_zps%t_bias%t", tc.aShape, tc.n, tc.at, tc.bt, tc.perCol, tc.zps, tc.bias)
		t.Run(name, func(t *testing.T) {
			k := tc.aShape[len(tc.aShape)-1]
			a, b := randInt8s(r, tc.at, tc.aShape...), randInt8s(r, tc.bt, k, tc.n)
			bs, bzp := randScales(r, tc.n), randInt8s(r, tc.bt, tc.n)
			if !tc.perCol {
				bs, bzp = scalarF32(0.0125), randInt8s(r, tc.bt)
			}
			as, azp := scalarF32(0.03), randInt8s(r, tc.at)
			var bias *ops.Tensor
			var biasV []float32
			if tc.bias {
				bias = opstest.RandF32(3, tc.n)
				biasV = bias.Float32s()
			}
			in := []*ops.Tensor{a, b, as, bs, azp, bzp, bias}
			wantAZP, wantBZP := intAt(azp, 0), bzp
			if !tc.zps {
				in[4], in[5] = nil, nil
				wantAZP, wantBZP = 0, nil
			}
			got, err := opstest.Run(msNode("MatMulIntegerToFloat", nil, in...))
			if err != nil {
				t.Fatal(err)
			}
			want := refIntToFloat(a, 0.03, wantAZP, b, bs, wantBZP, biasV)
			if err := ops.AllClose(got[0], want, 1e-6, 1e-7); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDynamicQuantizeMatMulAgainstLoop(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, tc := range []struct {
		aShape []int
		n      int
		bt     ops.DType
		perCol bool
	}{
		{[]int{1, 23}, 9, ops.Int8, true},
		{[]int{3, 4, 10}, 5, ops.Uint8, false},
		{[]int{5, 64}, 33, ops.Int8, false},
	} {
		t.Run(fmt.Sprintf("%v_n%d_%s_percol%t", tc.aShape, tc.n, tc.bt, tc.perCol), func(t *testing.T) {
			k := tc.aShape[len(tc.aShape)-1]
			a := opstest.RandF32(int64(k), tc.aShape...)
			b := randInt8s(r, tc.bt, k, tc.n)
			bs, bzp := randScales(r, tc.n), randInt8s(r, tc.bt, tc.n)
			if !tc.perCol {
				bs, bzp = scalarF32(0.0125), randInt8s(r, tc.bt)
			}
			bias := opstest.RandF32(5, tc.n)
			got, err := opstest.Run(msNode("DynamicQuantizeMatMul", nil, a, b, bs, bzp, bias))
			if err != nil {
				t.Fatal(err)
			}
			// DynamicQuantizeLinear's own kernel quantizes A for the reference.
			q, err := opstest.Run(opstest.Node{OpType: "DynamicQuantizeLinear", Opset: 11, Inputs: []*ops.Tensor{a}, NumOutputs: 3})
			if err != nil {
				t.Fatal(err)
			}
			want := refIntToFloat(q[0], q[1].Float32s()[0], intAt(q[2], 0), b, bs, bzp, bias.Float32s())
			if err := ops.AllClose(got[0], want, 1e-6, 1e-7); err != nil {
				t.Fatal(err)
			}
			// And the result approximates the float product: each term is off by at most half a step of A
			// times |B - b_zero_point| · b_scale <= 255 · 0.021.
			wantF := refFloatMatMul(a, b, bs, bzp, bias.Float32s())
			step := float64(q[1].Float32s()[0])
			if err := ops.AllClose(opstest.ToF64(got[0]), wantF, 0, step/2*255*0.021*float64(k)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// refFloatMatMul is A · dequantize(B) + bias in float64, for a float A.
func refFloatMatMul(a, b, bs, bzp *ops.Tensor, bias []float32) *ops.Tensor {
	sa := a.Shape()
	k := sa[len(sa)-1]
	rows := sa.Size() / k
	n := b.Shape()[1]
	av, bv := a.AsFloat64s(), b.AsFloat64s()
	out := make([]float64, rows*n)
	for i := 0; i < rows; i++ {
		for j := 0; j < n; j++ {
			col := min(j, bs.Shape().Size()-1)
			s := float64(bs.Float32s()[col])
			z := float64(intAt(bzp, col))
			v := float64(bias[j])
			for p := 0; p < k; p++ {
				v += av[i*k+p] * (bv[p*n+j] - z) * s
			}
			out[i*n+j] = v
		}
	}
	return ops.FromSlice(append(sa[:len(sa)-1].Clone(), n), out)
}

func TestGemmShapedContribErrors(t *testing.T) {
	u := u8(ops.Shape{2, 3}, 1, 2, 3, 4, 5, 6)
	w := i8(ops.Shape{3, 2}, 1, 2, 3, 4, 5, 6)
	one := scalarF32(0.5)
	zu, zi := u8(ops.Shape{}, 1), i8(ops.Shape{}, 0)
	for _, c := range []struct {
		name string
		node opstest.Node
		err  string
	}{
		{"QGemm K mismatch", msNode("QGemm", ops.AttrMap{"transB": ops.IntAttr(1)}, u, one, zu, w, one, zi), "K=3 != 2"},
		{"QGemm float A", msNode("QGemm", nil, opstest.F32(ops.Shape{2, 3}, 1, 2, 3, 4, 5, 6), one, zu, w, one, zi), "A"},
		{"QGemm a_zero_point type", msNode("QGemm", nil, u, one, zi, w, one, zi), "must match"},
		{"QGemm per-row a_scale", msNode("QGemm", nil, u, opstest.F32(ops.Shape{2}, 1, 1), zu, w, one, zi), "a_scale has shape [2]"},
		{"QGemm b_scale length", msNode("QGemm", nil, u, one, zu, w, opstest.F32(ops.Shape{3}, 1, 1, 1), i8(ops.Shape{3}, 0, 0, 0)), "[2] (N)"},
		{"QGemm C shape", msNode("QGemm", nil, u, one, zu, w, one, zi, ops.FromSlice(ops.Shape{3}, []int32{1, 2, 3})), "broadcastable to [2 2]"},
		{"QGemm C type", msNode("QGemm", nil, u, one, zu, w, one, zi, opstest.F32(ops.Shape{2}, 1, 2)), "C"},
		{"QGemm y_scale without zero point", msNode("QGemm", nil, u, one, zu, w, one, zi, nil, one), "only one of y_scale and y_zero_point"},
		{"MatMulIntegerToFloat K", msNode("MatMulIntegerToFloat", nil, u, u, one, one), "A's K=3 != B's K=2"},
		{"MatMulIntegerToFloat bias", msNode("MatMulIntegerToFloat", nil, u, w, one, one, nil, nil, opstest.F32(ops.Shape{3}, 1, 2, 3)), "bias has shape [3], want [2]"},
		{"MatMulIntegerToFloat b_zero_point type", msNode("MatMulIntegerToFloat", nil, u, w, one, one, zu, zu), "must match"},
		{"MatMulIntegerToFloat a_scale per row", msNode("MatMulIntegerToFloat", nil, u, w, opstest.F32(ops.Shape{2}, 1, 1), one), "a_scale has shape [2]"},
		{"DynamicQuantizeMatMul quantized A", msNode("DynamicQuantizeMatMul", nil, u, w, one), "A"},
		{"DynamicQuantizeMatMul b_scale", msNode("DynamicQuantizeMatMul", nil, opstest.F32(ops.Shape{1, 3}, 1, 2, 3), w, opstest.F32(ops.Shape{3}, 1, 1, 1)), "b_scale has shape [3]"},
		{"DynamicQuantizeMatMul input count", msNode("DynamicQuantizeMatMul", nil, u, w), "3 to 5 inputs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := opstest.Run(c.node)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("error %v, want one containing %q", err, c.err)
			}
		})
	}
}

func TestGemmShapedContribRunAllocatesNothing(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	a, b := randInt8s(r, ops.Uint8, 5, 9), randInt8s(r, ops.Int8, 9, 4)
	bs, bzp := randScales(r, 4), randInt8s(r, ops.Int8, 4)
	opstest.CheckRunAllocatesNothing(t, map[string]opstest.Node{
		"QGemm quantized": msNode("QGemm", nil, a, scalarF32(0.1), u8(ops.Shape{}, 3), b, bs, bzp,
			ops.FromSlice(ops.Shape{4}, []int32{1, 2, 3, 4}), scalarF32(0.5), i8(ops.Shape{}, 1)),
		"QGemm float":           msNode("QGemm", nil, a, scalarF32(0.1), u8(ops.Shape{}, 3), b, bs, bzp),
		"MatMulIntegerToFloat":  msNode("MatMulIntegerToFloat", nil, a, b, scalarF32(0.1), bs, u8(ops.Shape{}, 3), bzp, opstest.RandF32(1, 4)),
		"DynamicQuantizeMatMul": msNode("DynamicQuantizeMatMul", nil, opstest.RandF32(2, 5, 9), b, bs, bzp, opstest.RandF32(1, 4)),
	})
}
