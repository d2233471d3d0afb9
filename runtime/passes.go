package runtime

import (
	"github.com/onnxrun/onnxrun/ops"
)

// A pass rewrites the graph in place and reports whether it changed anything. Passes run in order, the
// whole list repeated until none changes the graph (a fixpoint), each change logged by name. A pass that
// needs shapes reads them from shapes (the graph planned at its declared input shapes, symbolic dimensions
// at 1) and leaves alone any node whose values it does not find there. Each pass lives in its own file,
// pass_<name>.go, with a test that runs a graph before and after it on random inputs.
type pass struct {
	name string
	run  func(g *Graph, shapes map[string]ops.ValueInfo) (changed bool, err error)
}

// passes is the optimisation pipeline. Constant folding is not here: it happens while planning shapes,
// where every value's shape is known (see specialize.go).
var passes = []pass{
	{"eliminate-identity", eliminateIdentity},
	{"eliminate-dead-nodes", eliminateDeadNodes},
	{"fold-batchnorm-into-conv", foldBatchNormIntoConv},
	{"merge-pad-into-conv-pool", mergePadIntoConvPool},
	{"fold-transpose-into-matmul", foldTransposeIntoMatMul},
	{"fuse-matmul-add-into-gemm", fuseMatMulAddIntoGemm},
	{"fuse-activation", fuseActivation},
}

func runPasses(g *Graph, probe func(*Graph) map[string]ops.ValueInfo, logf func(string, ...any)) error {
	for round := 0; round < 16; round++ {
		changedAny := false
		for _, p := range passes {
			changed, err := p.run(g, probe(g))
			if err != nil {
				return err
			}
			if changed {
				changedAny = true
				if err := bindKernels(g); err != nil {
					return err
				}
				if logf != nil {
					logf("pass %s changed the graph (%d nodes)", p.name, len(g.Nodes))
				}
			}
		}
		if !changedAny {
			return nil
		}
	}
	return nil
}

func isGraphOutput(g *Graph, name string) bool {
	for _, o := range g.Outputs {
		if o.Name == name {
			return true
		}
	}
	return false
}

// consumers returns the nodes that read name, and whether the graph returns it.
func consumers(g *Graph, name string) (nodes []*Node, isOutput bool) {
	for _, m := range g.Nodes {
		for _, in := range m.Inputs {
			if in == name {
				nodes = append(nodes, m)
				break
			}
		}
	}
	return nodes, isGraphOutput(g, name)
}

// soleConsumer returns the one node that reads name, if exactly one does and the graph does not return it.
func soleConsumer(g *Graph, name string) *Node {
	nodes, out := consumers(g, name)
	if out || len(nodes) != 1 {
		return nil
	}
	return nodes[0]
}

func producer(g *Graph, name string) *Node {
	for _, m := range g.Nodes {
		for _, o := range m.Outputs {
			if o == name {
				return m
			}
		}
	}
	return nil
}

func removeNodes(g *Graph, dead ...*Node) {
	kept := g.Nodes[:0]
	for _, n := range g.Nodes {
		drop := false
		for _, d := range dead {
			drop = drop || n == d
		}
		if !drop {
			kept = append(kept, n)
		}
	}
	g.Nodes = kept
}

// addConstant stores t under a fresh name derived from base and returns the name.
func addConstant(g *Graph, base string, t *ops.Tensor) string {
	name := base
	for i := 1; ; i++ {
		if _, taken := g.Constants[name]; !taken && producer(g, name) == nil {
			break
		}
		name = base + "_" + itoa(i)
	}
	g.Constants[name] = t
	return name
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for ; i > 0; i /= 10 {
		n--
		b[n] = byte('0' + i%10)
	}
	return string(b[n:])
}

func constFloat32(g *Graph, name string) []float32 {
	t, ok := g.Constants[name]
	if !ok || t.DType() != ops.Float32 {
		return nil
	}
	return t.Float32s()
}

func attrInt(n *Node, name string, def int64) int64 {
	if a, ok := n.Attrs[name]; ok && a.Type == ops.AttrInt {
		return a.Int
	}
	return def
}

func attrFloat(n *Node, name string, def float32) float32 {
	if a, ok := n.Attrs[name]; ok && a.Type == ops.AttrFloat {
		return a.Float
	}
	return def
}

func attrInts(n *Node, name string) []int64 {
	if a, ok := n.Attrs[name]; ok && a.Type == ops.AttrInts {
		return a.Ints
	}
	return nil
}

func attrString(n *Node, name, def string) string {
	if a, ok := n.Attrs[name]; ok && a.Type == ops.AttrString {
		return a.String
	}
	return def
}
