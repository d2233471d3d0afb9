package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// Sequences and optionals through If, Loop and SequenceMap. The exporter declares tensors only, so these
// models are built with it and then retyped: every graph input or output (of the model and of its bodies)
// named in the map is given that type.

func tensorTypeProto(dt onnxpb.TensorProto_DataType) *onnxpb.TypeProto {
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt))}}}
}

func seqTypeProto(dt onnxpb.TensorProto_DataType) *onnxpb.TypeProto {
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{SequenceType: &onnxpb.TypeProto_Sequence{ElemType: tensorTypeProto(dt)}}}
}

func optTypeProto(elem *onnxpb.TypeProto) *onnxpb.TypeProto {
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_OptionalType{OptionalType: &onnxpb.TypeProto_Optional{ElemType: elem}}}
}

func retype(g *onnxpb.GraphProto, types map[string]*onnxpb.TypeProto) {
	for _, vis := range [][]*onnxpb.ValueInfoProto{g.Input, g.Output} {
		for _, vi := range vis {
			if tp, ok := types[vi.GetName()]; ok {
				vi.Type = tp
			}
		}
	}
	for _, n := range g.Node {
		for _, a := range n.Attribute {
			if a.G != nil {
				retype(a.G, types)
			}
		}
	}
}

func compileTyped(t *testing.T, b *exporter.Graph, opset int64, types map[string]*onnxpb.TypeProto) (*runtime.Plan, error) {
	t.Helper()
	m, err := b.Model(exporter.ModelOptions{Opset: opset})
	if err != nil {
		t.Fatal(err)
	}
	retype(m.Proto.Graph, types)
	raw, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if m, err = onnx.Decode(raw); err != nil {
		t.Fatal(err)
	}
	return runtime.Compile(m, runtime.Options{Threads: 1})
}

func mustCompileTyped(t *testing.T, b *exporter.Graph, opset int64, types map[string]*onnxpb.TypeProto) *runtime.Plan {
	t.Helper()
	p, err := compileTyped(t, b, opset, types)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func floats(v ...float32) *ops.Tensor { return ops.FromSlice(ops.Shape{len(v)}, v) }

// firstFloats lists the first element of each tensor of a sequence.
func firstFloats(seq *ops.Tensor) []float32 {
	var got []float32
	for _, e := range seq.Elements() {
		got = append(got, e.Float32s()[0])
	}
	return got
}

// A Loop carries a sequence grown by SequenceInsert at every iteration next to a tensor, and a second
// sequence that its body returns untouched. Each element must keep the value of its own iteration (the
// carried tensor's buffer is reused: a sequence that kept it would show the last value everywhere), and a
// second Run of the session starts from its own inputs.
func TestLoopCarriesSequences(t *testing.T) {
	body := exporter.NewGraph("grow")
	body.Input("iter", i64T)
	body.Input("cond_in", boolT)
	body.Input("seq_in", f32)
	body.Input("kept_in", f32)
	x := body.Input("x_in", f32, 2)
	one := body.Initializer("one", arr([]int64{1}, 1))
	body.NodeNamed("next", "Add", "", []string{x, one}, []string{"x_out"}, nil)
	body.NodeNamed("insert", "SequenceInsert", "", []string{"seq_in", "x_out"}, []string{"seq_out"}, nil)
	body.NodeNamed("cond", "Identity", "", []string{"cond_in"}, []string{"cond_out"}, nil)
	body.Output("cond_out", boolT)
	body.Output("seq_out", f32)
	body.Output("kept_in", f32) // returned as it came in: the plan of the body holds no node for it
	body.Output("x_out", f32, 2)

	b := exporter.NewGraph("loop_seq")
	m := b.Input("M", i64T)
	x0 := b.Input("x", f32, 2)
	b.NodeNamed("empty", "SequenceEmpty", "", nil, []string{"empty"}, exporter.Attrs{"dtype": int64(onnxpb.TensorProto_FLOAT)})
	b.NodeNamed("kept", "SequenceConstruct", "", []string{x0}, []string{"kept"}, nil)
	b.NodeNamed("loop", "Loop", "", []string{m, "", "empty", "kept", x0}, []string{"seq", "kept_final", "x_final"}, exporter.Attrs{"body": body})
	b.Output("seq", f32)
	b.Output("kept_final", f32)
	b.Output("x_final", f32, 2)
	seq := seqTypeProto(onnxpb.TensorProto_FLOAT)
	p := mustCompileTyped(t, b, 13, map[string]*onnxpb.TypeProto{"seq_in": seq, "seq_out": seq, "kept_in": seq, "seq": seq, "kept_final": seq})

	s := p.NewSession()
	defer s.Close()
	for _, c := range []struct {
		m    int64
		x    float32
		want []float32
	}{{3, 10, []float32{11, 12, 13}}, {1, 0, []float32{1}}, {0, 5, nil}} {
		outs, err := s.Run(context.Background(), []*ops.Tensor{ops.Scalar(c.m), floats(c.x, -c.x)})
		if err != nil {
			t.Fatalf("M=%d: %v", c.m, err)
		}
		if outs[0].Kind() != ops.KindSequence || fmt.Sprint(firstFloats(outs[0])) != fmt.Sprint(c.want) {
			t.Errorf("M=%d: seq is %v; want a sequence whose elements start with %v", c.m, outs[0], c.want)
		}
		if kept := firstFloats(outs[1]); outs[1].Kind() != ops.KindSequence || len(kept) != 1 || kept[0] != c.x {
			t.Errorf("M=%d: kept_final is %v; want the sequence [x] the loop was given", c.m, outs[1])
		}
		if got := outs[2].Float32s()[0]; got != c.x+float32(c.m) {
			t.Errorf("M=%d: x_final[0] = %v, want %v", c.m, got, c.x+float32(c.m))
		}
	}
}

// A body in which no node reads the carried sequence, which it returns as it came in, is planned
// statically (the kernels see tensors only): its input slot must hold the sequence itself.
func TestLoopPassesSequenceThrough(t *testing.T) {
	body := exporter.NewGraph("pass")
	body.Input("iter", i64T)
	body.Input("cond_in", boolT)
	body.Input("kept_in", f32)
	x := body.Input("x_in", f32, 2)
	one := body.Initializer("one", arr([]int64{1}, 1))
	body.NodeNamed("next", "Add", "", []string{x, one}, []string{"x_out"}, nil)
	body.NodeNamed("cond", "Identity", "", []string{"cond_in"}, []string{"cond_out"}, nil)
	body.Output("cond_out", boolT)
	body.Output("kept_in", f32)
	body.Output("x_out", f32, 2)

	b := exporter.NewGraph("loop_pass")
	m := b.Input("M", i64T)
	x0 := b.Input("x", f32, 2)
	b.NodeNamed("kept", "SequenceConstruct", "", []string{x0, x0}, []string{"kept"}, nil)
	b.NodeNamed("loop", "Loop", "", []string{m, "", "kept", x0}, []string{"kept_final", "x_final"}, exporter.Attrs{"body": body})
	b.Output("kept_final", f32)
	b.Output("x_final", f32, 2)
	seq := seqTypeProto(onnxpb.TensorProto_FLOAT)
	p := mustCompileTyped(t, b, 13, map[string]*onnxpb.TypeProto{"kept_in": seq, "kept_final": seq})
	outs := run1(t, p, ops.Scalar(int64(3)), floats(7, 8))
	if got := firstFloats(outs[0]); outs[0].Kind() != ops.KindSequence || fmt.Sprint(got) != "[7 7]" {
		t.Errorf("kept_final is %v; want the sequence [x, x] the loop was given", outs[0])
	}
	if got := outs[1].Float32s()[0]; got != 10 {
		t.Errorf("x_final[0] = %v, want 10", got)
	}
}

// If reads a sequence and an optional of the outer graph through its captures and returns a sequence and
// an optional, whichever branch runs.
func TestIfReturnsSequencesAndOptionals(t *testing.T) {
	then := exporter.NewGraph("then")
	then.NodeNamed("grow", "SequenceInsert", "", []string{"s", "a"}, []string{"then_seq"}, nil)
	then.NodeNamed("wrap", "Optional", "", []string{"a"}, []string{"then_opt"}, nil)
	then.Output("then_seq", f32)
	then.Output("then_opt", f32)
	els := exporter.NewGraph("else")
	els.NodeNamed("shrink", "SequenceErase", "", []string{"s"}, []string{"else_seq"}, nil)
	els.NodeNamed("none", "Identity", "", []string{"none"}, []string{"else_opt"}, nil)
	els.Output("else_seq", f32)
	els.Output("else_opt", f32)

	b := exporter.NewGraph("if_seq")
	cond := b.Input("cond", boolT)
	a := b.Input("a", f32, 1)
	b.Input("none", f32)
	b.NodeNamed("pair", "SequenceConstruct", "", []string{a, a}, []string{"s"}, nil)
	b.NodeNamed("sel", "If", "", []string{cond}, []string{"seq", "opt"}, exporter.Attrs{"then_branch": then, "else_branch": els})
	b.Output("seq", f32)
	b.Output("opt", f32)
	seq := seqTypeProto(onnxpb.TensorProto_FLOAT)
	opt := optTypeProto(tensorTypeProto(onnxpb.TensorProto_FLOAT))
	p := mustCompileTyped(t, b, 16, map[string]*onnxpb.TypeProto{"then_seq": seq, "else_seq": seq, "seq": seq, "then_opt": opt, "else_opt": opt, "opt": opt, "none": opt})
	for _, c := range []struct {
		cond    bool
		length  int
		present bool
	}{{true, 3, true}, {false, 1, false}} {
		outs := run1(t, p, ops.Scalar(c.cond), floats(4), ops.NewOptional(ops.TensorType(ops.Float32), nil))
		if n := len(outs[0].Elements()); outs[0].Kind() != ops.KindSequence || n != c.length {
			t.Errorf("cond=%v: seq is %v; want a sequence of %d", c.cond, outs[0], c.length)
		}
		if outs[1].Kind() != ops.KindOptional || outs[1].HasElement() != c.present {
			t.Errorf("cond=%v: opt is %v; want an optional holding a value: %v", c.cond, outs[1], c.present)
		}
	}
}

// checkNodeError asserts that err is a typed error naming node and saying want.
func checkNodeError(t *testing.T, err error, node string, sentinel error, want string) {
	t.Helper()
	var ne *runtime.NodeError
	if !errors.As(err, &ne) || ne.Node != node || !errors.Is(err, sentinel) || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v; want a *NodeError for node %q matching %v and containing %q", err, node, sentinel, want)
	}
}

// compileOrRun compiles the model and runs it on in; the error of whichever fails.
func compileOrRun(t *testing.T, b *exporter.Graph, opset int64, types map[string]*onnxpb.TypeProto, in ...*ops.Tensor) error {
	t.Helper()
	p, err := compileTyped(t, b, opset, types)
	if err != nil {
		return err
	}
	s := p.NewSession()
	defer s.Close()
	_, err = s.Run(context.Background(), in)
	return err
}

// A body that returns a sequence where it declares a tensor is refused with an error naming the node,
// whether the sequence is known at Compile (built from constants) or only at Run.
func TestBodyReturnsSequenceWhereTensorIsDeclared(t *testing.T) {
	for _, fromInput := range []bool{false, true} {
		t.Run(fmt.Sprintf("If/from input %v", fromInput), func(t *testing.T) {
			b := exporter.NewGraph("if_bad")
			cond := b.Input("cond", boolT)
			src := b.Initializer("c", arr([]int64{1}, 2))
			var in []*ops.Tensor
			if fromInput {
				src = b.Input("a", f32, 1)
				in = []*ops.Tensor{ops.Scalar(true), floats(2)}
			} else {
				in = []*ops.Tensor{ops.Scalar(true)}
			}
			then := exporter.NewGraph("then")
			then.NodeNamed("wrap", "SequenceConstruct", "", []string{src}, []string{"then_out"}, nil)
			then.Output("then_out", f32, 1) // declared a tensor
			els := exporter.NewGraph("else")
			els.NodeNamed("same", "Identity", "", []string{src}, []string{"else_out"}, nil)
			els.Output("else_out", f32, 1)
			b.NodeNamed("sel", "If", "", []string{cond}, []string{"y"}, exporter.Attrs{"then_branch": then, "else_branch": els})
			b.Output("y", f32, 1)
			err := compileOrRun(t, b, 13, nil, in...)
			checkNodeError(t, err, "sel", ops.ErrInvalid, `output 0 ("then_out") is a seq(tensor(float32)) where the body declares tensor(float32)`)
		})
	}
	t.Run("Loop", func(t *testing.T) {
		body := exporter.NewGraph("body")
		body.Input("iter", i64T)
		body.Input("cond_in", boolT)
		x := body.Input("x_in", f32, 1)
		body.NodeNamed("wrap", "SequenceConstruct", "", []string{x}, []string{"x_out"}, nil)
		body.NodeNamed("cond", "Identity", "", []string{"cond_in"}, []string{"cond_out"}, nil)
		body.Output("cond_out", boolT)
		body.Output("x_out", f32, 1) // declared a tensor
		b := exporter.NewGraph("loop_bad")
		m := b.Input("M", i64T)
		x0 := b.Input("x", f32, 1)
		b.NodeNamed("loop", "Loop", "", []string{m, "", x0}, []string{"y"}, exporter.Attrs{"body": body})
		b.Output("y", f32, 1)
		err := compileOrRun(t, b, 13, nil, ops.Scalar(int64(2)), floats(1))
		checkNodeError(t, err, "loop", ops.ErrInvalid, `output 1 ("x_out") is a seq(tensor(float32)) where the body declares tensor(float32)`)
	})
}

// Scan's states and scan outputs are tensors: a body that returns a sequence for its scan output (declared
// with no kind) is refused with an error naming the node, not copied as a tensor it is not.
func TestScanBodyReturningSequence(t *testing.T) {
	for _, fromInput := range []bool{false, true} {
		t.Run(fmt.Sprintf("from input %v", fromInput), func(t *testing.T) {
			body := exporter.NewGraph("body")
			st := body.Input("s", f32, 1)
			x := body.Input("x_t", f32, 1)
			src := body.Initializer("c", arr([]int64{1}, 2))
			if fromInput {
				src = x
			}
			body.NodeNamed("acc", "Add", "", []string{st, x}, []string{"s_out"}, nil)
			body.NodeNamed("wrap", "SequenceConstruct", "", []string{src}, []string{"y_t"}, nil)
			body.Output("s_out", f32, 1)
			body.Output("y_t", f32)
			b := exporter.NewGraph("scan_bad")
			b.Input("s0", f32, 1)
			b.Input("xs", f32, 3, 1)
			b.NodeNamed("scan", "Scan", "", []string{"s0", "xs"}, []string{"s", "ys"}, exporter.Attrs{"body": body, "num_scan_inputs": int64(1)})
			b.Output("s", f32, 1)
			b.Output("ys", f32, 3, 1)
			err := compileOrRun(t, b, 16, map[string]*onnxpb.TypeProto{"y_t": tensorTypeProto(onnxpb.TensorProto_UNDEFINED)},
				floats(0), ops.FromSlice(ops.Shape{3, 1}, []float32{1, 2, 3}))
			checkNodeError(t, err, "scan", ops.ErrInvalid, "body output 1 is a seq(tensor(float32)); Scan's states and scan outputs are tensors")
		})
	}
}

// sequenceMapModel is SequenceMap(xs, extra) with the body (x, e) -> (x + e + bias, Shape(x)), where bias
// is a value of the outer graph read through a capture; extra is a tensor or a sequence.
func sequenceMapModel(t *testing.T, extraIsSeq bool) *runtime.Plan {
	t.Helper()
	body := exporter.NewGraph("map_body")
	x := body.Input("x", f32, "n")
	e := body.Input("e", f32, "n")
	body.NodeNamed("add", "Add", "", []string{x, e}, []string{"sum"}, nil)
	body.NodeNamed("shift", "Add", "", []string{"sum", "bias"}, []string{"y"}, nil)
	body.NodeNamed("shape", "Shape", "", []string{x}, []string{"shape"}, nil)
	body.Output("y", f32, "n")
	body.Output("shape", i64T, 1)

	b := exporter.NewGraph("seqmap")
	b.Input("xs", f32)
	b.Input("extra", f32, "n")
	b.Initializer("bias", arr([]int64{1}, 100))
	b.NodeNamed("map", "SequenceMap", "", []string{"xs", "extra"}, []string{"ys", "shapes"}, exporter.Attrs{"body": body})
	b.Output("ys", f32)
	b.Output("shapes", i64T)
	types := map[string]*onnxpb.TypeProto{"xs": seqTypeProto(onnxpb.TensorProto_FLOAT), "ys": seqTypeProto(onnxpb.TensorProto_FLOAT), "shapes": seqTypeProto(i64T)}
	if extraIsSeq {
		types["extra"] = seqTypeProto(onnxpb.TensorProto_FLOAT)
	}
	return mustCompileTyped(t, b, 17, types)
}

func floatSeq(elems ...*ops.Tensor) *ops.Tensor {
	return ops.NewSequence(ops.TensorType(ops.Float32), elems)
}

func TestSequenceMap(t *testing.T) {
	xs := floatSeq(floats(1, 2), floats(3, 4, 5), floats(6))
	t.Run("tensor extra input", func(t *testing.T) {
		outs := run1(t, sequenceMapModel(t, false), xs, floats(10))
		ys, shapes := outs[0].Elements(), outs[1].Elements()
		if len(ys) != 3 || len(shapes) != 3 {
			t.Fatalf("got %v and %v; want sequences of 3", outs[0], outs[1])
		}
		if got := fmt.Sprint(ys[0].Float32s(), ys[1].Float32s(), ys[2].Float32s()); got != "[111 112] [113 114 115] [116]" {
			t.Errorf("ys = %s; want x + 10 + 100 for each element", got)
		}
		if got := fmt.Sprint(shapes[0].Int64s(), shapes[1].Int64s(), shapes[2].Int64s()); got != "[2] [3] [1]" {
			t.Errorf("shapes = %s", got)
		}
	})
	t.Run("sequence extra input", func(t *testing.T) {
		p := sequenceMapModel(t, true)
		outs := run1(t, p, xs, floatSeq(floats(1), floats(2), floats(3)))
		ys := outs[0].Elements()
		if got := fmt.Sprint(ys[0].Float32s(), ys[1].Float32s(), ys[2].Float32s()); got != "[102 103] [105 106 107] [109]" {
			t.Errorf("ys = %s; want x + e[i] + 100 for each element", got)
		}
		empty := run1(t, p, floatSeq(), floatSeq())
		if len(empty[0].Elements()) != 0 || empty[1].Type().String() != "seq(tensor(int64))" {
			t.Errorf("on empty sequences: %v and %v; want empty sequences of the declared element types", empty[0], empty[1])
		}

		s := p.NewSession()
		defer s.Close()
		_, err := s.Run(context.Background(), []*ops.Tensor{xs, floatSeq(floats(1), floats(2))})
		checkNodeError(t, err, "map", runtime.ErrBadInput, "input 1 is a sequence of 2 elements and input_sequence one of 3")
	})
	t.Run("input_sequence is a tensor", func(t *testing.T) {
		body := exporter.NewGraph("map_body")
		x := body.Input("x", f32, 1)
		body.NodeNamed("same", "Identity", "", []string{x}, []string{"y"}, nil)
		body.Output("y", f32, 1)
		b := exporter.NewGraph("seqmap_bad")
		b.Input("xs", f32, 1)
		b.NodeNamed("map", "SequenceMap", "", []string{"xs"}, []string{"ys"}, exporter.Attrs{"body": body})
		b.Output("ys", f32)
		err := compileOrRun(t, b, 17, map[string]*onnxpb.TypeProto{"ys": seqTypeProto(onnxpb.TensorProto_FLOAT)}, floats(1))
		checkNodeError(t, err, "map", ops.ErrInvalid, "input 0 (input_sequence) is a tensor(float32), must be a sequence")
	})
	t.Run("body returns a sequence", func(t *testing.T) {
		body := exporter.NewGraph("map_body")
		x := body.Input("x", f32, 1)
		body.NodeNamed("wrap", "SequenceConstruct", "", []string{x}, []string{"y"}, nil)
		body.Output("y", f32) // no declared kind: caught when the value comes out
		b := exporter.NewGraph("seqmap_bad")
		b.Input("xs", f32)
		b.NodeNamed("map", "SequenceMap", "", []string{"xs"}, []string{"ys"}, exporter.Attrs{"body": body})
		b.Output("ys", f32)
		seq := seqTypeProto(onnxpb.TensorProto_FLOAT)
		err := compileOrRun(t, b, 17, map[string]*onnxpb.TypeProto{"xs": seq, "ys": seq, "y": tensorTypeProto(onnxpb.TensorProto_UNDEFINED)}, floatSeq(floats(1)))
		checkNodeError(t, err, "map", ops.ErrInvalid, "element 0: body output 0 is a seq(tensor(float32)); SequenceMap's body returns tensors")
	})
}
