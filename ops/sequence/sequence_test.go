package sequence_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	_ "github.com/onnxrun/onnxrun/ops/array" // SplitToSequence, ConcatFromSequence
	_ "github.com/onnxrun/onnxrun/ops/sequence"
)

// run instantiates one node on constant inputs (nil for an absent one) and runs it, as the runtime's
// dynamic path does.
func run(t *testing.T, op string, opset int, attrs ops.AttrMap, in ...*ops.Tensor) ([]*ops.Tensor, error) {
	t.Helper()
	infos := make([]ops.ValueInfo, len(in))
	for i, x := range in {
		if x != nil {
			infos[i] = ops.ConstInfo(x)
		}
	}
	inst, err := ops.Instantiate(ops.NodeInfo{OpType: op, Opset: opset, Attrs: attrs}, infos)
	if err != nil {
		return nil, err
	}
	outs := make([]*ops.Tensor, len(inst.Outputs))
	for i, o := range inst.Outputs {
		outs[i] = ops.NewValue(o)
	}
	return outs, inst.Kernel.Run(ops.SerialContext(), in, outs)
}

func floats(shape ops.Shape, v ...float32) *ops.Tensor { return ops.FromSlice(shape, v) }

func seqOf(elems ...*ops.Tensor) *ops.Tensor {
	return ops.NewSequence(ops.TensorType(ops.Float32), elems)
}

func TestSequenceOps(t *testing.T) {
	a, b, c := floats(ops.Shape{2}, 1, 2), floats(ops.Shape{1}, 3), floats(ops.Shape{3}, 4, 5, 6)
	outs, err := run(t, "SequenceConstruct", 11, nil, a, b)
	if err != nil {
		t.Fatal(err)
	}
	s := outs[0]
	if s.Kind() != ops.KindSequence || len(s.Elements()) != 2 || s.Elements()[0] == a {
		t.Fatalf("SequenceConstruct gave %v; want a sequence of 2 copies", s)
	}
	a.Float32s()[0] = 99 // the sequence owns copies: writing the input does not change it
	if s.Elements()[0].Float32s()[0] != 1 {
		t.Fatal("SequenceConstruct kept a reference to its input")
	}
	outs, err = run(t, "SequenceInsert", 11, nil, s, c, ops.Scalar(int64(-1)))
	if err != nil {
		t.Fatal(err)
	}
	ins := outs[0].Elements()
	if len(ins) != 3 || ins[1].Len() != 3 || ins[2].Len() != 1 {
		t.Fatalf("SequenceInsert at -1 gave %v; want c before the last element", outs[0])
	}
	outs, err = run(t, "SequenceAt", 11, nil, outs[0], ops.Scalar(int32(1)))
	if err != nil || outs[0].Float32s()[2] != 6 {
		t.Fatalf("SequenceAt 1 = %v, %v; want c", outs, err)
	}
	outs, err = run(t, "SequenceErase", 11, nil, s)
	if err != nil || len(outs[0].Elements()) != 1 {
		t.Fatalf("SequenceErase (last) = %v, %v", outs, err)
	}
	outs, err = run(t, "SequenceLength", 11, nil, s)
	if err != nil || outs[0].Int64s()[0] != 2 {
		t.Fatalf("SequenceLength = %v, %v; want 2", outs, err)
	}
	outs, err = run(t, "ConcatFromSequence", 11, ops.AttrMap{"axis": ops.IntAttr(0)}, seqOf(b, c))
	if err != nil || !outs[0].Shape().Equal(ops.Shape{4}) || outs[0].Float32s()[3] != 6 {
		t.Fatalf("ConcatFromSequence = %v, %v; want [3 4 5 6]", outs, err)
	}
	outs, err = run(t, "ConcatFromSequence", 11, ops.AttrMap{"axis": ops.IntAttr(-1), "new_axis": ops.IntAttr(1)}, seqOf(c, c))
	if err != nil || !outs[0].Shape().Equal(ops.Shape{3, 2}) || outs[0].Float32s()[1] != 4 {
		t.Fatalf("ConcatFromSequence new_axis = %v, %v; want [[4 4] [5 5] [6 6]]", outs, err)
	}
	outs, err = run(t, "SplitToSequence", 11, ops.AttrMap{"keepdims": ops.IntAttr(0)}, floats(ops.Shape{3, 1}, 1, 2, 3))
	if err != nil || len(outs[0].Elements()) != 3 || !outs[0].Elements()[2].Shape().Equal(ops.Shape{1}) {
		t.Fatalf("SplitToSequence keepdims=0 = %v, %v; want 3 elements of shape [1]", outs, err)
	}
	outs, err = run(t, "SplitToSequence", 11, nil, floats(ops.Shape{5}, 1, 2, 3, 4, 5), ops.Scalar(int64(2)))
	if err != nil || len(outs[0].Elements()) != 3 || outs[0].Elements()[2].Len() != 1 {
		t.Fatalf("SplitToSequence by 2 = %v, %v; want chunks of 2, 2, 1", outs, err)
	}
	outs, err = run(t, "SequenceEmpty", 11, ops.AttrMap{"dtype": ops.IntAttr(int64(ops.Int64))})
	if err != nil || !outs[0].Type().Equal(ops.SequenceOf(ops.TensorType(ops.Int64))) || len(outs[0].Elements()) != 0 {
		t.Fatalf("SequenceEmpty = %v, %v", outs, err)
	}
}

func TestOptionalOps(t *testing.T) {
	x := floats(ops.Shape{2}, 1, 2)
	outs, err := run(t, "Optional", 15, nil, x)
	if err != nil || !outs[0].HasElement() {
		t.Fatalf("Optional(x) = %v, %v", outs, err)
	}
	full := outs[0]
	typ := ops.TensorType(ops.Float32)
	empty := ops.NewOptional(typ, nil)
	for _, tt := range []struct {
		v    *ops.Tensor
		want bool
	}{{full, true}, {empty, false}, {x, true}, {nil, false}} {
		outs, err := run(t, "OptionalHasElement", 18, nil, tt.v)
		if err != nil || outs[0].Bools()[0] != tt.want {
			t.Errorf("OptionalHasElement(%v) = %v, %v; want %v", tt.v, outs, err, tt.want)
		}
	}
	outs, err = run(t, "OptionalGetElement", 18, nil, full)
	if err != nil || outs[0].Float32s()[1] != 2 {
		t.Fatalf("OptionalGetElement = %v, %v", outs, err)
	}
	if _, err := run(t, "OptionalGetElement", 15, nil, empty); !errors.Is(err, ops.ErrInvalid) || !strings.Contains(err.Error(), "optional is empty") {
		t.Errorf("OptionalGetElement of an empty optional: %v; want an invalid error", err)
	}
	if _, err := run(t, "Optional", 15, nil, nil); err == nil || !strings.Contains(err.Error(), `"type" is required`) {
		t.Errorf("Optional with no input and no type: %v", err)
	}
}

// TestHostileSequences feeds positions out of range, mismatched shapes and empty sequences: every one is
// an error wrapping ops.ErrInvalid, at plan time and again when the kernel runs on other values than it
// was planned for, never a panic.
func TestHostileSequences(t *testing.T) {
	a, b := floats(ops.Shape{2}, 1, 2), floats(ops.Shape{3}, 1, 2, 3)
	two := seqOf(a, a)
	empty := seqOf()
	concat0 := ops.AttrMap{"axis": ops.IntAttr(0)}
	for _, tt := range []struct {
		name  string
		op    string
		attrs ops.AttrMap
		in    []*ops.Tensor
		want  string
	}{
		{"at past the end", "SequenceAt", nil, []*ops.Tensor{two, ops.Scalar(int64(2))}, "out of range [-2, 1]"},
		{"at before the start", "SequenceAt", nil, []*ops.Tensor{two, ops.Scalar(int64(-3))}, "out of range"},
		{"at huge", "SequenceAt", nil, []*ops.Tensor{two, ops.Scalar(int64(1) << 62)}, "out of range"},
		{"at in empty", "SequenceAt", nil, []*ops.Tensor{empty, ops.Scalar(int64(0))}, "out of range"},
		{"at float position", "SequenceAt", nil, []*ops.Tensor{two, ops.Scalar(float32(0))}, "int32 or int64 scalar"},
		{"at tensor not sequence", "SequenceAt", nil, []*ops.Tensor{a, ops.Scalar(int64(0))}, "not a sequence"},
		{"erase past the end", "SequenceErase", nil, []*ops.Tensor{two, ops.Scalar(int64(2))}, "out of range"},
		{"erase from empty", "SequenceErase", nil, []*ops.Tensor{empty}, "sequence is empty"},
		{"insert past the end", "SequenceInsert", nil, []*ops.Tensor{two, a, ops.Scalar(int64(3))}, "out of range [-2, 2]"},
		{"insert other dtype", "SequenceInsert", nil, []*ops.Tensor{two, ops.Scalar(int64(1))}, "the sequence holds"},
		{"concat mismatched shapes", "ConcatFromSequence", ops.AttrMap{"axis": ops.IntAttr(0), "new_axis": ops.IntAttr(1)}, []*ops.Tensor{seqOf(a, b)}, "differ in dimension"},
		{"concat mismatched ranks", "ConcatFromSequence", concat0, []*ops.Tensor{seqOf(a, floats(ops.Shape{1, 2}, 1, 2))}, "rank"},
		{"concat empty", "ConcatFromSequence", concat0, []*ops.Tensor{empty}, "sequence is empty"},
		{"concat axis out of range", "ConcatFromSequence", ops.AttrMap{"axis": ops.IntAttr(1)}, []*ops.Tensor{two}, "out of range"},
		{"split zero chunk", "SplitToSequence", nil, []*ops.Tensor{b, ops.Scalar(int64(0))}, "must be positive"},
		{"split sizes wrong sum", "SplitToSequence", nil, []*ops.Tensor{b, ops.FromSlice(ops.Shape{2}, []int64{1, 1})}, "sums to 2"},
		{"split negative size", "SplitToSequence", nil, []*ops.Tensor{b, ops.FromSlice(ops.Shape{2}, []int64{-1, 4})}, "outside [0, 3]"},
		{"split scalar", "SplitToSequence", nil, []*ops.Tensor{ops.Scalar(float32(1))}, "out of range"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, tt.op, 11, tt.attrs, tt.in...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want one containing %q", err, tt.want)
			}
		})
	}
}

// TestKernelsCheckWhatTheyRun prepares kernels for valid values and runs them on others: the kernels check
// positions and shapes again instead of trusting the plan, since a sequence's contents are known only now.
func TestKernelsCheckWhatTheyRun(t *testing.T) {
	a := floats(ops.Shape{2}, 1, 2)
	two := seqOf(a, a)
	prepare := func(op string, attrs ops.AttrMap, in ...*ops.Tensor) (ops.Kernel, []*ops.Tensor) {
		infos := make([]ops.ValueInfo, len(in))
		for i, x := range in {
			infos[i] = ops.ConstInfo(x)
		}
		inst, err := ops.Instantiate(ops.NodeInfo{OpType: op, Opset: 11, Attrs: attrs}, infos)
		if err != nil {
			t.Fatal(err)
		}
		outs := make([]*ops.Tensor, len(inst.Outputs))
		for i, o := range inst.Outputs {
			outs[i] = ops.NewValue(o)
		}
		return inst.Kernel, outs
	}
	k, outs := prepare("SequenceAt", nil, two, ops.Scalar(int64(1)))
	if err := k.Run(ops.SerialContext(), []*ops.Tensor{seqOf(a), ops.Scalar(int64(1))}, outs); !errors.Is(err, ops.ErrInvalid) {
		t.Errorf("SequenceAt past the end of a shorter sequence: %v", err)
	}
	if err := k.Run(ops.SerialContext(), []*ops.Tensor{seqOf(floats(ops.Shape{1}, 1)), ops.Scalar(int64(0))}, outs); !errors.Is(err, ops.ErrInvalid) {
		t.Errorf("SequenceAt of an element of another shape: %v", err)
	}
	k, outs = prepare("ConcatFromSequence", ops.AttrMap{"axis": ops.IntAttr(0)}, two)
	if err := k.Run(ops.SerialContext(), []*ops.Tensor{seqOf()}, outs); !errors.Is(err, ops.ErrInvalid) {
		t.Errorf("ConcatFromSequence of an empty sequence: %v", err)
	}
	k, outs = prepare("SequenceErase", nil, two)
	if err := k.Run(ops.SerialContext(), []*ops.Tensor{seqOf()}, outs); !errors.Is(err, ops.ErrInvalid) {
		t.Errorf("SequenceErase of an empty sequence: %v", err)
	}
}
