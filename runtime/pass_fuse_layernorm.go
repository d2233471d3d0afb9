package runtime

import (
	"github.com/onnxrun/onnxrun/ops"
)

// fuseLayerNorm rewrites the LayerNormalization that exporters write out op by op (torch before opset 17,
// whose BERT and ViT exports hold 25 of them) into the one LayerNormalization node of opset 17:
//
//	mean = ReduceMean(X, axes=[-1])      d = Sub(X, mean)
//	var  = ReduceMean(Pow(d, 2) | Mul(d, d), axes=[-1])
//	n    = Div(d, Sqrt(Add(var, eps)))  | Mul(d, Reciprocal(Sqrt(Add(var, eps))))
//	Y    = Add(Mul(n, gamma), beta)     (the Mul and the Add optional)
//
// ⇒ LayerNormalization(X, gamma, beta, axis=-1, epsilon=eps), whose kernel reads X once for its statistics
// and once to write Y, where the pattern makes nine passes over memory (and Pow a math.Pow per element).
// It needs float32 X of known last dimension C, every intermediate value read by the pattern alone,
// ReduceMean keeping its dimension, eps a constant scalar, gamma and beta float32 constants holding one
// value per column (shape [C], [1, C], ...); a missing gamma becomes ones. The fused node takes the place of
// the last node it replaces.
func fuseLayerNorm(r *rewriter, shapes map[string]ops.ValueInfo) (bool, error) {
	changed := false
	for _, mean := range r.nodes() {
		if r.live(mean) && fuseLayerNormAt(r, mean, shapes) {
			changed = true
		}
	}
	return changed, nil
}

// fuseLayerNormAt matches the pattern from its first ReduceMean and rewrites it.
func fuseLayerNormAt(r *rewriter, mean *Node, shapes map[string]ops.ValueInfo) bool {
	g := knownConstants{r.g, shapes}
	if !isOp(mean, "ReduceMean", 1) || len(mean.Inputs) == 0 {
		return false
	}
	x := mean.Inputs[0]
	xInfo, ok := shapes[x]
	if !ok || xInfo.DType != ops.Float32 || len(xInfo.Shape) == 0 {
		return false
	}
	rank, columns := len(xInfo.Shape), xInfo.Shape[len(xInfo.Shape)-1]
	if columns <= 0 || !meansLastAxis(g, mean, rank) {
		return false
	}
	replaced := []*Node{mean}
	sub := r.soleConsumer(mean.Outputs[0])
	if !isOp(sub, "Sub", 1) || len(sub.Inputs) != 2 || sub.Inputs[0] != x || sub.Inputs[1] != mean.Outputs[0] {
		return false
	}
	replaced = append(replaced, sub)
	d := sub.Outputs[0]
	users, isOutput := r.consumers(d)
	if isOutput || len(users) != 2 {
		return false
	}
	square, divide := users[0], users[1]
	if !squares(g, square, d) {
		square, divide = divide, square
	}
	if !squares(g, square, d) {
		return false
	}
	replaced = append(replaced, square)
	variance := r.soleConsumer(square.Outputs[0])
	if !isOp(variance, "ReduceMean", 1) || len(variance.Inputs) == 0 || variance.Inputs[0] != square.Outputs[0] || !meansLastAxis(g, variance, rank) {
		return false
	}
	replaced = append(replaced, variance)
	addEps := r.soleConsumer(variance.Outputs[0])
	if !isOp(addEps, "Add", 1) || len(addEps.Inputs) != 2 {
		return false
	}
	eps, ok := scalarFloat32(g, otherInput(addEps, variance.Outputs[0]))
	if !ok || !(eps >= 0) {
		return false
	}
	replaced = append(replaced, addEps)
	sqrt := r.soleConsumer(addEps.Outputs[0])
	if !isOp(sqrt, "Sqrt", 1) || len(sqrt.Inputs) != 1 {
		return false
	}
	replaced = append(replaced, sqrt)
	stddev := sqrt.Outputs[0]
	switch {
	case isOp(divide, "Div", 1) && len(divide.Inputs) == 2 && divide.Inputs[0] == d && divide.Inputs[1] == stddev && r.soleConsumer(stddev) == divide:
	case isOp(divide, "Mul", 1) && len(divide.Inputs) == 2 && otherInput(divide, d) != "":
		recip := r.producerOf(otherInput(divide, d))
		if !isOp(recip, "Reciprocal", 1) || len(recip.Inputs) != 1 || recip.Inputs[0] != stddev || r.soleConsumer(stddev) != recip || r.soleConsumer(recip.Outputs[0]) != divide {
			return false
		}
		replaced = append(replaced, recip)
	default:
		return false
	}
	replaced = append(replaced, divide)
	last := divide
	gamma, beta := "", ""
	if mul := r.soleConsumer(last.Outputs[0]); isOp(mul, "Mul", 1) && len(mul.Inputs) == 2 {
		if c := otherInput(mul, last.Outputs[0]); perColumnConstant(g, c, rank, columns) {
			gamma, last = c, mul
			replaced = append(replaced, mul)
		}
	}
	if add := r.soleConsumer(last.Outputs[0]); isOp(add, "Add", 1) && len(add.Inputs) == 2 {
		if c := otherInput(add, last.Outputs[0]); perColumnConstant(g, c, rank, columns) {
			beta, last = c, add
			replaced = append(replaced, add)
		}
	}
	if gamma == "" {
		ones := ops.New(ops.Float32, ops.Shape{columns})
		for i := range ones.Float32s() {
			ones.Float32s()[i] = 1
		}
		gamma = r.addConstant(x+"/layernorm_scale", ones)
	}
	inputs := []string{x, gamma}
	if beta != "" {
		inputs = append(inputs, beta)
	}
	fused := &Node{Name: mean.Name, OpType: "LayerNormalization", Opset: 17, Inputs: inputs, Outputs: []string{last.Outputs[0]},
		Attrs: ops.AttrMap{"axis": ops.IntAttr(-1), "epsilon": ops.FloatAttr(eps)}}
	for _, n := range replaced {
		if n != last {
			r.remove(n)
		}
	}
	r.replace(last, fused)
	return true
}

// isOp reports whether n is the default-domain op opType with the given number of outputs.
func isOp(n *Node, opType string, outputs int) bool {
	return n != nil && n.Domain == "" && n.OpType == opType && len(n.Outputs) == outputs
}

// otherInput returns the input of the two-input node n that is not name ("" if neither or both are).
func otherInput(n *Node, name string) string {
	switch {
	case n.Inputs[0] == name && n.Inputs[1] != name:
		return n.Inputs[1]
	case n.Inputs[1] == name && n.Inputs[0] != name:
		return n.Inputs[0]
	}
	return ""
}

// knownConstants finds the tensors known at compile time: the graph's constants (initializers) and the
// values the shape probes folded (Constant nodes and what is computed from constants alone).
type knownConstants struct {
	g      *Graph
	shapes map[string]ops.ValueInfo
}

func (k knownConstants) tensor(name string) *ops.Tensor {
	if t, ok := k.g.Constants[name]; ok {
		return t
	}
	return k.shapes[name].Const
}

// scalarFloat32 returns the value of a one-element float32 constant.
func scalarFloat32(g knownConstants, name string) (float32, bool) {
	if t := g.tensor(name); t != nil && t.DType() == ops.Float32 && t.Len() == 1 {
		return t.Float32s()[0], true
	}
	return 0, false
}

// squares reports whether n computes name squared: Pow(name, 2) or Mul(name, name).
func squares(g knownConstants, n *Node, name string) bool {
	switch {
	case isOp(n, "Pow", 1) && len(n.Inputs) == 2 && n.Inputs[0] == name:
		e, ok := scalarFloat32(g, n.Inputs[1])
		return ok && e == 2
	case isOp(n, "Mul", 1) && len(n.Inputs) == 2:
		return n.Inputs[0] == name && n.Inputs[1] == name
	}
	return false
}

// meansLastAxis reports whether the ReduceMean n averages over the last axis alone of a rank-rank input
// and keeps it: axes [-1] or [rank-1], as an attribute (before opset 18) or a constant input (since).
func meansLastAxis(g knownConstants, n *Node, rank int) bool {
	attrs := nodeAttrs(n)
	keep := attrs.Int("keepdims", 1)
	axes := attrs.Ints("axes", nil)
	if attrs.Err() != nil || keep != 1 {
		return false
	}
	if len(n.Inputs) > 1 && n.Inputs[1] != "" {
		t := g.tensor(n.Inputs[1])
		if t == nil || t.DType() != ops.Int64 || axes != nil {
			return false
		}
		axes = t.Int64s()
	}
	return len(axes) == 1 && (axes[0] == -1 || axes[0] == int64(rank-1))
}

// perColumnConstant reports whether name is a float32 constant of one value per column: shape [..., C]
// with every other dimension 1 and rank at most the input's, so that broadcasting it changes no shape.
func perColumnConstant(g knownConstants, name string, rank, columns int) bool {
	t := g.tensor(name)
	if t == nil || t.DType() != ops.Float32 || t.Rank() == 0 || t.Rank() > rank || t.Len() != columns {
		return false
	}
	return t.Shape()[t.Rank()-1] == columns
}
