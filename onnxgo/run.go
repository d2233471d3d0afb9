package onnxgo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	onnxgo "github.com/owulveryck/onnx-go"
	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorconv"
)

// compiled is the graph turned into an onnxrun Plan for one set of inputs (which nodes the caller feeds,
// with which dtypes and shapes); Run compiles again only when that set changes.
type compiled struct {
	key   string
	opset int
	plan  *runtime.Plan
	sess  *runtime.Session
	feeds []*Node // in the plan's input order
	outs  []*Node // in the plan's output order
}

// Run computes the graph: on the first call (and when the inputs change in dtype or shape) it builds
// an ONNX model from the recorded operations, with the nodes the caller set after decoding as inputs and
// every other tensor as an initializer, and compiles it; then it runs the plan and stores each output in
// its node, where Model.GetOutputTensors finds it. An operator onnxrun cannot run at the opset comes back
// as onnx-go's *ErrNotImplemented.
func (g *Graph) Run() error {
	if len(g.operations) == 0 {
		return errors.New("onnxgo: the graph has no operation; decode a model into it first")
	}
	feeds := g.feeds()
	inputs := make([]*ops.Tensor, len(feeds))
	var key strings.Builder
	for i, n := range feeds {
		t, err := fromGorgonia(n.t)
		if err == nil && n.hasDeclared {
			t, err = toDeclared(t, n.declared)
		}
		if err != nil {
			return fmt.Errorf("onnxgo: input %s: %w", n, err)
		}
		inputs[i] = t
		fmt.Fprintf(&key, "%d:%s%v|", n.id, t.DType(), t.Shape())
	}
	if g.compiled == nil || g.compiled.key != key.String() {
		g.Close()
		c, err := g.compile(feeds, inputs)
		if err != nil {
			return err
		}
		c.key = key.String()
		g.compiled = c
	}
	c := g.compiled
	outs, err := c.sess.Run(context.Background(), inputs)
	if err != nil {
		return notImplemented(err)
	}
	for i, n := range c.outs {
		t, err := toGorgonia(outs[i])
		if err != nil {
			return fmt.Errorf("onnxgo: output %s: %w", n, err)
		}
		n.t = t // not SetTensor: an output is no input
	}
	return nil
}

// feeds lists the nodes the caller set: sources (produced by no operation) given a tensor after the
// model was decoded, in ID order, which is the order of the model's inputs.
func (g *Graph) feeds() []*Node {
	var feeds []*Node
	for _, n := range g.nodes {
		if n != nil && n.producer == nil && n.userSet && n.t != nil && n.name != "" {
			feeds = append(feeds, n)
		}
	}
	return feeds
}

// valueName is a node's ONNX value name: its own, or v<ID> for a node without one.
func valueName(n *Node) string {
	if n.name != "" {
		return n.name
	}
	return "v" + strconv.FormatInt(n.id, 10)
}

// absent reports a node that stands for no value: onnx-go's "" (an omitted optional input or output) and
// the fake input it gives operations without inputs (Constant), which carries no tensor.
func absent(n *Node) bool {
	return n == nil || n.name == "" || (n.producer == nil && n.t == nil)
}

// compile builds the ONNX model and compiles it.
func (g *Graph) compile(feeds []*Node, inputs []*ops.Tensor) (*compiled, error) {
	opset := g.Opset
	if opset == 0 {
		opset = inferOpset(g.operations)
	}
	c := &compiled{opset: opset, feeds: feeds}
	gp := &onnxpb.GraphProto{Name: proto.String("onnxgo")}
	isFeed := map[*Node]bool{}
	for i, n := range feeds {
		isFeed[n] = true
		gp.Input = append(gp.Input, valueInfo(valueName(n), inputs[i].DType(), inputs[i].Shape()))
	}
	read := map[*Node]bool{}
	initialized := map[*Node]bool{}
	for _, o := range g.operations {
		np := &onnxpb.NodeProto{OpType: proto.String(o.opType)}
		ins := o.inputs
		for len(ins) > 0 && absent(ins[len(ins)-1]) {
			ins = ins[:len(ins)-1] // trailing omitted inputs, and Constant's fake one
		}
		for _, in := range ins {
			if absent(in) {
				np.Input = append(np.Input, "")
				continue
			}
			np.Input = append(np.Input, valueName(in))
			read[in] = true
			if in.producer == nil && !isFeed[in] && !initialized[in] {
				initialized[in] = true
				t, err := fromGorgonia(in.t)
				if err != nil {
					return nil, fmt.Errorf("onnxgo: initializer %s: %w", in, err)
				}
				tp, err := onnx.NewTensorProto(valueName(in), tensorconv.ToArray(t))
				if err != nil {
					return nil, fmt.Errorf("onnxgo: initializer %s: %w", in, err)
				}
				gp.Initializer = append(gp.Initializer, tp)
			}
		}
		for _, out := range o.outputs {
			if out.name == "" {
				np.Output = append(np.Output, "")
				continue
			}
			np.Output = append(np.Output, valueName(out))
		}
		names := make([]string, 0, len(o.attrs))
		for name := range o.attrs {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			a, err := attribute(name, o.attrs[name])
			if err != nil {
				return nil, fmt.Errorf("onnxgo: operation %s: %w", o.opType, err)
			}
			if a != nil {
				np.Attribute = append(np.Attribute, a)
			}
		}
		gp.Node = append(gp.Node, np)
	}
	// The outputs: what no operation reads, and the values the model declares (onnx-go gives its
	// declared outputs a placeholder tensor while decoding, as it does value_info entries).
	for _, o := range g.operations {
		for _, out := range o.outputs {
			if out.name != "" && (!read[out] || out.setAtDecode) {
				c.outs = append(c.outs, out)
				gp.Output = append(gp.Output, &onnxpb.ValueInfoProto{Name: proto.String(valueName(out))})
			}
		}
	}
	mp := &onnxpb.ModelProto{
		IrVersion:    proto.Int64(7),
		ProducerName: proto.String("onnxrun/onnxgo"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(int64(opset))}},
		Graph:        gp,
	}
	raw, err := proto.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("onnxgo: encoding the model: %w", err)
	}
	m, err := onnx.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("onnxgo: %w", err)
	}
	plan, err := runtime.Compile(m, runtime.Options{Threads: max(g.Threads, 1)})
	if err != nil {
		return nil, notImplemented(err)
	}
	c.plan = plan
	c.sess = plan.NewSession()
	return c, nil
}

// notImplemented turns onnxrun's "unsupported" errors into onnx-go's *ErrNotImplemented, which code
// written for onnx-go (and its test suite) checks for by type.
func notImplemented(err error) error {
	var u *runtime.UnsupportedError
	if errors.As(err, &u) && len(u.Nodes) > 0 {
		return &onnxgo.ErrNotImplemented{Operator: u.Nodes[0].OpType, Message: err.Error()}
	}
	var n *runtime.NodeError
	if errors.As(err, &n) && errors.Is(err, ops.ErrUnsupported) {
		return &onnxgo.ErrNotImplemented{Operator: n.OpType, Message: err.Error()}
	}
	return fmt.Errorf("onnxgo: %w", err)
}

func valueInfo(name string, dt ops.DType, shape ops.Shape) *onnxpb.ValueInfoProto {
	sp := &onnxpb.TensorShapeProto{}
	for _, d := range shape {
		sp.Dim = append(sp.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt)), Shape: sp}}}}
}

// attribute converts an attribute as onnx-go decoded it back to its protobuf form; nil for onnx-go's
// struct{}{} (an attribute of undefined type).
func attribute(name string, v interface{}) (*onnxpb.AttributeProto, error) {
	a := &onnxpb.AttributeProto{Name: proto.String(name)}
	switch x := v.(type) {
	case struct{}:
		return nil, nil
	case float32:
		a.Type, a.F = onnxpb.AttributeProto_FLOAT.Enum(), proto.Float32(x)
	case float64:
		a.Type, a.F = onnxpb.AttributeProto_FLOAT.Enum(), proto.Float32(float32(x))
	case int64:
		a.Type, a.I = onnxpb.AttributeProto_INT.Enum(), proto.Int64(x)
	case int:
		a.Type, a.I = onnxpb.AttributeProto_INT.Enum(), proto.Int64(int64(x))
	case string:
		a.Type, a.S = onnxpb.AttributeProto_STRING.Enum(), []byte(x)
	case []float32:
		a.Type, a.Floats = onnxpb.AttributeProto_FLOATS.Enum(), x
	case []int64:
		a.Type, a.Ints = onnxpb.AttributeProto_INTS.Enum(), x
	case []int:
		a.Type = onnxpb.AttributeProto_INTS.Enum()
		for _, i := range x {
			a.Ints = append(a.Ints, int64(i))
		}
	case []string:
		a.Type = onnxpb.AttributeProto_STRINGS.Enum()
		for _, s := range x {
			a.Strings = append(a.Strings, []byte(s))
		}
	case tensor.Tensor:
		t, err := fromGorgonia(x)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		tp, err := onnx.NewTensorProto("", tensorconv.ToArray(t))
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		a.Type, a.T = onnxpb.AttributeProto_TENSOR.Enum(), tp
	default:
		return nil, &onnxgo.ErrNotImplemented{AttributeName: name, AttributeValue: v, Message: fmt.Sprintf("onnxgo cannot pass on an attribute of Go type %T", v)}
	}
	return a, nil
}
