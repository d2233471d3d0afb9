package runtime

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// A pass rewrites the graph in place, through a rewriter, and reports whether it changed anything. Passes run in order, the
// whole list repeated until none changes the graph (a fixpoint), each change logged by name. A pass that
// needs shapes reads them from shapes (what holds of the graph at its declared input shapes whatever the
// symbolic dimensions: see probeShapes) and leaves alone any node whose values it does not find there. Each pass lives in its own file,
// pass_<name>.go, with a test that runs a graph before and after it on random inputs.
type pass struct {
	name string
	run  func(r *rewriter, shapes map[string]ops.ValueInfo) (changed bool, err error)
}

// passes is the optimisation pipeline. Constant folding is not here: it happens while planning shapes,
// where every value's shape is known (see specialize.go).
var passes = []pass{
	{"fold-constant-if", foldConstantIf},
	{"eliminate-identity", eliminateIdentity},
	{"eliminate-dead-nodes", eliminateDeadNodes},
	// The qdq passes come before the float fusions, which would take a QDQ node unit apart (a Conv → Relu
	// becoming a FusedConv hides the Conv from qdq-fuse-conv); each leaves the float graph where it does not fit.
	{"qdq-drop-clamp", dropQDQClamp},
	{"qdq-drop-round-trip", dropQDQRoundTrip},
	{"qdq-fuse-transparent", fuseQDQTransparent},
	{"qdq-fuse-matmul", fuseQDQMatMul},
	{"qdq-fuse-conv", fuseQDQConv},
	{"qdq-fuse-contrib", fuseQDQContrib},
	{"qdq-fuse-dynamic-matmul", fuseDynamicMatMul},
	{"fold-batchnorm-into-conv", foldBatchNormIntoConv},
	{"merge-pad-into-conv-pool", mergePadIntoConvPool},
	{"fold-transpose-into-matmul", foldTransposeIntoMatMul},
	{"fuse-matmul-add-into-gemm", fuseMatMulAddIntoGemm},
	{"fuse-squeeze-excite", fuseSqueezeExcite}, // before fuse-activation and fuse-elementwise take the block apart
	{"recognise-gelu", recogniseGelu},          // before fuse-activation, which puts the Gelu in a product's epilogue
	{"fuse-activation", fuseActivation},
	{"fuse-layernorm", fuseLayerNorm},
	{"fuse-attention", fuseAttention},
	{"fuse-elementwise", fuseElementwise},
	{"batchnorm-to-scale-shift", batchNormToScaleShift},
}

// runPasses runs the pipeline to its fixpoint. Each pass gets a fresh rewriter (an index of the graph built
// in one walk) and the shapes probed since the graph last changed, so a round that changes nothing costs
// one probe and one index per pass: Compile stays linear in the node count.
func runPasses(g *Graph, probe func(*Graph) map[string]ops.ValueInfo, logf func(string, ...any)) error {
	var shapes map[string]ops.ValueInfo
	for round := 0; round < 16; round++ {
		changedAny := false
		for _, p := range passes {
			if shapes == nil {
				shapes = probe(g)
			}
			r := newRewriter(g)
			changed, err := p.run(r, shapes)
			r.finish()
			if err != nil {
				return err
			}
			if verifyRewrites {
				if err := r.verify(); err != nil {
					return fmt.Errorf("pass %s left its index stale: %w", p.name, err)
				}
			}
			if changed {
				changedAny = true
				shapes = nil
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

func constFloat32(g *Graph, name string) []float32 {
	t, ok := g.Constants[name]
	if !ok || t.DType() != ops.Float32 {
		return nil
	}
	return t.Float32s()
}

// nodeAttrs reads a node's attributes the way its kernel does, through ops.AttrReader and its coercions
// (an INT where a FLOAT is meant, a one-element list for a scalar), so that a pass and the kernel never
// read one attribute two ways. A pass checks Err before it rewrites: a node with an attribute of the wrong
// kind is left to its kernel, which rejects it.
func nodeAttrs(n *Node) *ops.AttrReader { return ops.NewAttrReader(n.Attrs) }
