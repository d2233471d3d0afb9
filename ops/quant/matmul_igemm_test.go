package quant

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func randQuant(r *rand.Rand, dt ops.DType, shape ops.Shape) *ops.Tensor {
	t := ops.New(dt, shape)
	b := bytesOf(t.Data())
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return t
}

// matmulTwinCase is one MatMulInteger / QLinearMatMul node with random 8-bit inputs.
type matmulTwinCase struct {
	aShape, bShape   ops.Shape
	aType, bType     ops.DType
	azShape, bzShape ops.Shape // zero points (and, for QLinearMatMul, scales) shapes
	constB           bool
	yType            ops.DType // QLinearMatMul's output type; Undefined for MatMulInteger
	aScaleV, bScaleV float32
}

func matmulTwinCases() []matmulTwinCase {
	var cases []matmulTwinCase
	for _, types := range [][2]ops.DType{{ops.Uint8, ops.Int8}, {ops.Int8, ops.Int8}, {ops.Uint8, ops.Uint8}, {ops.Int8, ops.Uint8}} {
		for _, constB := range []bool{false, true} {
			cases = append(cases,
				matmulTwinCase{aShape: ops.Shape{7, 37}, bShape: ops.Shape{37, 19}, azShape: ops.Shape{}, bzShape: ops.Shape{19}},
				matmulTwinCase{aShape: ops.Shape{2, 3, 9, 70}, bShape: ops.Shape{3, 70, 33}, azShape: ops.Shape{9}, bzShape: ops.Shape{1}},
				matmulTwinCase{aShape: ops.Shape{2, 5, 13}, bShape: ops.Shape{2, 13, 4}, azShape: ops.Shape{2, 5, 1}, bzShape: ops.Shape{2, 1, 4}},
				matmulTwinCase{aShape: ops.Shape{45}, bShape: ops.Shape{45, 20}, azShape: ops.Shape{1}, bzShape: ops.Shape{}},
			)
			for i := len(cases) - 4; i < len(cases); i++ {
				cases[i].aType, cases[i].bType, cases[i].constB = types[0], types[1], constB
			}
		}
	}
	return cases
}

func (c matmulTwinCase) String() string {
	return fmt.Sprintf("A%v%v/B%v%v/za%v/zb%v/const%v/y%v", c.aType, c.aShape, c.bType, c.bShape, c.azShape, c.bzShape, c.constB, c.yType)
}

// TestMatMulIntegerMatchesReferenceLoop runs the igemm-backed kernel and the reference loop it replaced on
// the same random inputs: every type pair, batches broadcast, every zero point layout, B constant
// (prepacked) or not. Results are exact integers, so they must be equal.
func TestMatMulIntegerMatchesReferenceLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	pool := ops.NewPool(2)
	defer pool.Close()
	for _, c := range matmulTwinCases() {
		a, b := randQuant(r, c.aType, c.aShape), randQuant(r, c.bType, c.bShape)
		n := opstest.Node{OpType: "MatMulInteger", Opset: 10,
			Inputs: []*ops.Tensor{a, b, randQuant(r, c.aType, c.azShape), randQuant(r, c.bType, c.bzShape)}}
		if !c.constB {
			n.NonConstInputs = []int{1}
		}
		p := opstest.MustPrepare(t, n)
		p.Ctx.Pool = pool
		if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		want := ops.New(ops.Int32, p.Out[0].Shape())
		p.Kernel.(*matMulIntegerKernel).runReference(p.In, []*ops.Tensor{want})
		if err := ops.AllClose(p.Out[0], want, 0, 0); err != nil {
			t.Fatalf("%v: %v", c, err)
		}
	}
}

// TestQLinearMatMulMatchesReferenceLoop compares the igemm path with the reference loop. The reference
// multiplies the exact accumulator by the multiplier in float64; the igemm epilogue rounds that product
// to float32 first (as ORT does), which can move a value lying within float32 rounding of a .5 tie by
// one step: the test allows that single step on at most 1 element in 1,000 and nothing more.
func TestQLinearMatMulMatchesReferenceLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	scale := func(shape ops.Shape, base float32) *ops.Tensor {
		s := ops.New(ops.Float32, shape)
		for i := range s.Float32s() {
			s.Float32s()[i] = base * (1 + r.Float32())
		}
		return s
	}
	total, offByOne := 0, 0
	for _, c := range matmulTwinCases() {
		for _, yType := range []ops.DType{ops.Uint8, ops.Int8} {
			a, b := randQuant(r, c.aType, c.aShape), randQuant(r, c.bType, c.bShape)
			n := opstest.Node{OpType: "QLinearMatMul", Opset: 10, Inputs: []*ops.Tensor{
				a, scale(c.azShape, 0.02), randQuant(r, c.aType, c.azShape),
				b, scale(c.bzShape, 0.01), randQuant(r, c.bType, c.bzShape),
				scale(ops.Shape{}, 0.3), randQuant(r, yType, ops.Shape{})}}
			if !c.constB {
				n.NonConstInputs = []int{3}
			}
			p := opstest.MustPrepare(t, n)
			k := p.Kernel.(*qLinearMatMulKernel)
			if k.fast == nil {
				t.Fatalf("%v: 8-bit QLinearMatMul with float32 scales did not take the integer GEMM", c)
			}
			if err := k.Run(p.Ctx, p.In, p.Out); err != nil {
				t.Fatalf("%v: %v", c, err)
			}
			want := ops.New(yType, p.Out[0].Shape())
			k.runReference(p.In, []*ops.Tensor{want})
			got, exp := bytesOf(p.Out[0].Data()), bytesOf(want.Data())
			for i := range exp {
				d := int(value8(got[i], yType)) - int(value8(exp[i], yType))
				total++
				switch {
				case d == 0:
				case d == 1 || d == -1:
					offByOne++
				default:
					t.Fatalf("%v y %v: element %d = %d, reference %d", c, yType, i, value8(got[i], yType), value8(exp[i], yType))
				}
			}
		}
	}
	if offByOne*1000 > total {
		t.Errorf("%d of %d elements differ from the reference by one step", offByOne, total)
	}
}

func value8(b byte, dt ops.DType) int {
	if dt == ops.Int8 {
		return int(int8(b))
	}
	return int(b)
}

func TestIgemmMatMulsAllocateNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	a, b := randQuant(r, ops.Uint8, ops.Shape{2, 30, 64}), randQuant(r, ops.Int8, ops.Shape{64, 40})
	f := func(v float32) *ops.Tensor { return ops.FromSlice(ops.Shape{}, []float32{v}) }
	opstest.CheckRunAllocatesNothing(t, map[string]opstest.Node{
		"MatMulInteger": {OpType: "MatMulInteger", Opset: 10, Inputs: []*ops.Tensor{a, b, u8(ops.Shape{}, 3), i8(ops.Shape{40}, make([]int8, 40)...)}},
		"QLinearMatMul": {OpType: "QLinearMatMul", Opset: 10, Inputs: []*ops.Tensor{a, f(0.1), u8(ops.Shape{}, 3), b, f(0.2), i8(ops.Shape{}, 0), f(0.5), u8(ops.Shape{}, 9)},
			NonConstInputs: []int{3}},
	})
}
