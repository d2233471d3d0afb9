package ml

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// TreeEnsemble evaluates a forest of decision trees over each row of X [N, F] and writes the aggregated
// leaf weights, [N, n_targets] in X's type. Interior nodes (nodes_*) compare one feature with a split
// (BRANCH_LEQ, LT, GTE, GT, EQ, NEQ) or test it for membership in a set (MEMBER, the sets being the
// NaN-separated runs of membership_values, in node order); a NaN feature takes the true branch where
// nodes_missing_value_tracks_true says so. Children are nodes or, where nodes_trueleafs/falseleafs say
// so, leaves (leaf_*), each adding its weight to one target. Trees start at tree_roots.
// https://onnx.ai/onnx/operators/onnx_aionnxml_TreeEnsemble.html — opset 5.
//
// TreeEnsembleRegressor and TreeEnsembleClassifier are the older encoding: every node, leaves included
// (mode LEAF), is named by (tree id, node id), and votes name their leaf the same way; each tree's root
// is its first node. The regressor writes [N, n_targets] floats plus base_values, the classifier the
// label of the highest score and the [N, classes] scores. The *_as_tensor attributes of opset 3 carry
// the same numbers in double precision and win over the float lists.
// https://onnx.ai/onnx/operators/onnx_aionnxml_TreeEnsembleRegressor.html — opsets 1, 3 (deprecated in 5).
// https://onnx.ai/onnx/operators/onnx_aionnxml_TreeEnsembleClassifier.html — opsets 1, 3 (deprecated in 5).
func init() {
	ops.Register(Domain, "TreeEnsemble", ops.Since(5, buildTreeEnsemble))
	ops.Register(Domain, "TreeEnsembleRegressor", append(ops.SameBuilder(buildTreeRegressor, 1, 3), ops.RemovedIn(5))...)
	ops.Register(Domain, "TreeEnsembleClassifier", append(ops.SameBuilder(buildTreeClassifier, 1, 3), ops.RemovedIn(5))...)
}

type treeOutput uint8

const (
	treeValues     treeOutput = iota // TreeEnsemble: X's type
	treeRegression                   // TreeEnsembleRegressor: float32
	treeClasses                      // TreeEnsembleClassifier: labels and float32 scores
)

type treeOp struct {
	forest    forest
	output    treeOutput
	transform postTransform
	base      []float64 // added to the aggregated scores; empty or one per target
	labels    classLabels
	// binaryClass is, for a two-class classifier whose leaves all vote for one class, that class: its
	// score s is then written as [1-s, s] (or [-s, s] before a transform), as ONNX Runtime does.
	binaryClass int
}

// floatsOrTensor reads a float list attribute, or its double-precision name+"_as_tensor" twin.
func floatsOrTensor(r *ops.AttrReader, name string) []float64 {
	if t := r.Tensor(name + "_as_tensor"); t != nil {
		return t.AsFloat64s()
	}
	fs := r.Floats(name, nil)
	out := make([]float64, len(fs))
	for i, v := range fs {
		out[i] = float64(v)
	}
	return out
}

// tensorFloats reads a tensor attribute of floating-point numbers (nil when absent).
func tensorFloats(r *ops.AttrReader, name string) ([]float64, error) {
	t := r.Tensor(name)
	if t == nil {
		return nil, nil
	}
	if !t.DType().IsFloat() {
		return nil, &ops.AttrError{Name: name, Msg: fmt.Sprintf("is a %s tensor, want a floating-point one", t.DType())}
	}
	return t.AsFloat64s(), nil
}

// checkIndex refuses an id outside [0, n).
func checkIndex(name string, i int, v int64, n int) error {
	if v < 0 || v >= int64(n) {
		return &ops.AttrError{Name: name, Msg: fmt.Sprintf("element %d is %d, want 0 to %d", i, v, n-1)}
	}
	return nil
}

func buildTreeEnsemble(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	featureIDs := r.Ints("nodes_featureids", nil)
	trueIDs, trueLeafs := r.Ints("nodes_truenodeids", nil), r.Ints("nodes_trueleafs", nil)
	falseIDs, falseLeafs := r.Ints("nodes_falsenodeids", nil), r.Ints("nodes_falseleafs", nil)
	missing := r.Ints("nodes_missing_value_tracks_true", nil)
	targetIDs := r.Ints("leaf_targetids", nil)
	roots := r.Ints("tree_roots", nil)
	nTargets := r.Int("n_targets", 0)
	agg := r.Int("aggregate_function", int64(aggregateSum))
	transform := r.Int("post_transform", int64(transformNone))
	modesT := r.Tensor("nodes_modes")
	if err := r.Err(); err != nil {
		return nil, err
	}
	splits, err := tensorFloats(r, "nodes_splits")
	if err != nil {
		return nil, err
	}
	weights, err := tensorFloats(r, "leaf_weights")
	if err != nil {
		return nil, err
	}
	members, err := tensorFloats(r, "membership_values")
	if err != nil {
		return nil, err
	}
	if modesT == nil || (modesT.DType() != ops.Uint8 && modesT.DType() != ops.Int32 && modesT.DType() != ops.Int64) {
		return nil, &ops.AttrError{Name: "nodes_modes", Msg: "is missing or not a uint8 tensor"}
	}
	modes := modesT.AsInt64s()
	nn := len(featureIDs)
	for _, a := range []struct {
		name string
		n    int
	}{{"nodes_splits", len(splits)}, {"nodes_modes", len(modes)}, {"nodes_truenodeids", len(trueIDs)},
		{"nodes_trueleafs", len(trueLeafs)}, {"nodes_falsenodeids", len(falseIDs)}, {"nodes_falseleafs", len(falseLeafs)}} {
		if err := checkLen(a.name, a.n, nn, "one per node, as nodes_featureids"); err != nil {
			return nil, err
		}
	}
	if len(missing) != 0 {
		if err := checkLen("nodes_missing_value_tracks_true", len(missing), nn, "none or one per node"); err != nil {
			return nil, err
		}
	}
	if err := checkLen("leaf_weights", len(weights), len(targetIDs), "one per leaf, as leaf_targetids"); err != nil {
		return nil, err
	}
	if nTargets < 1 || nTargets > math.MaxInt32 {
		return nil, &ops.AttrError{Name: "n_targets", Msg: fmt.Sprintf("is %d, want at least 1", nTargets)}
	}
	if agg < 0 || agg >= int64(len(aggregateNames)) {
		return nil, &ops.AttrError{Name: "aggregate_function", Msg: fmt.Sprintf("is %d, want 0 to 3 (%q)", agg, aggregateNames)}
	}
	if transform < 0 || transform >= int64(len(postTransformNames)) {
		return nil, &ops.AttrError{Name: "post_transform", Msg: fmt.Sprintf("is %d, want 0 to 4 (%q)", transform, postTransformNames)}
	}
	op := &treeOp{output: treeValues, transform: postTransform(transform), binaryClass: -1}
	f := &op.forest
	f.targets, f.aggregate = int(nTargets), aggregate(agg)
	f.leaves = make([][]vote, len(targetIDs))
	for i, t := range targetIDs {
		f.leaves[i] = []vote{{target: int(t), weight: weights[i]}}
		if err := checkIndex("leaf_targetids", i, t, f.targets); err != nil {
			return nil, err
		}
	}
	child := func(name string, i int, id, isLeaf int64) (ref, error) {
		if isLeaf != 0 {
			if err := checkIndex(name, i, id, len(targetIDs)); err != nil {
				return 0, err
			}
			return leafRef(int(id)), nil
		}
		if err := checkIndex(name, i, id, nn); err != nil {
			return 0, err
		}
		return ref(id), nil
	}
	f.nodes = make([]treeNode, nn)
	for i := range f.nodes {
		nd := &f.nodes[i]
		if modes[i] < 0 || modes[i] > int64(branchMember) {
			return nil, &ops.AttrError{Name: "nodes_modes", Msg: fmt.Sprintf("element %d is %d, want 0 to 6", i, modes[i])}
		}
		if featureIDs[i] < 0 || featureIDs[i] > math.MaxInt32 {
			return nil, &ops.AttrError{Name: "nodes_featureids", Msg: fmt.Sprintf("element %d is %d", i, featureIDs[i])}
		}
		nd.mode, nd.feature, nd.value = branchMode(modes[i]), int(featureIDs[i]), splits[i]
		nd.missingTrue = len(missing) > 0 && missing[i] != 0
		if nd.child[0], err = child("nodes_truenodeids", i, trueIDs[i], trueLeafs[i]); err != nil {
			return nil, err
		}
		if nd.child[1], err = child("nodes_falsenodeids", i, falseIDs[i], falseLeafs[i]); err != nil {
			return nil, err
		}
		if nd.mode == branchMember {
			end := 0
			for end < len(members) && !math.IsNaN(members[end]) {
				end++
			}
			if len(members) == 0 {
				return nil, &ops.AttrError{Name: "membership_values", Msg: fmt.Sprintf("has no set left for MEMBER node %d", i)}
			}
			nd.members = members[:end]
			members = members[min(end+1, len(members)):]
		}
	}
	for i, root := range roots {
		if err := checkIndex("tree_roots", i, root, nn); err != nil {
			return nil, err
		}
		// A tree that is one leaf is written as a node whose two branches lead to the same leaf.
		if trueLeafs[root] != 0 && falseLeafs[root] != 0 && trueIDs[root] == falseIDs[root] {
			f.roots = append(f.roots, leafRef(int(trueIDs[root])))
		} else {
			f.roots = append(f.roots, ref(root))
		}
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return op, nil
}

// legacyForest reads the (tree id, node id) encoding of TreeEnsembleRegressor and TreeEnsembleClassifier,
// with votes in prefix+"treeids", "nodeids", "ids" and "weights".
func legacyForest(r *ops.AttrReader, prefix string, targets int) (*forest, []int64, error) {
	treeIDs, nodeIDs := r.Ints("nodes_treeids", nil), r.Ints("nodes_nodeids", nil)
	featureIDs, modes := r.Ints("nodes_featureids", nil), r.Strings("nodes_modes", nil)
	trueIDs, falseIDs := r.Ints("nodes_truenodeids", nil), r.Ints("nodes_falsenodeids", nil)
	missing := r.Ints("nodes_missing_value_tracks_true", nil)
	values := floatsOrTensor(r, "nodes_values")
	voteTrees, voteNodes, voteIDs := r.Ints(prefix+"treeids", nil), r.Ints(prefix+"nodeids", nil), r.Ints(prefix+"ids", nil)
	voteWeights := floatsOrTensor(r, prefix+"weights")
	if err := r.Err(); err != nil {
		return nil, nil, err
	}
	nn := len(treeIDs)
	for _, a := range []struct {
		name string
		n    int
	}{{"nodes_nodeids", len(nodeIDs)}, {"nodes_featureids", len(featureIDs)}, {"nodes_modes", len(modes)},
		{"nodes_truenodeids", len(trueIDs)}, {"nodes_falsenodeids", len(falseIDs)}} {
		if err := checkLen(a.name, a.n, nn, "one per node, as nodes_treeids"); err != nil {
			return nil, nil, err
		}
	}
	for _, a := range []struct {
		name string
		n    int
	}{{"nodes_values", len(values)}, {"nodes_missing_value_tracks_true", len(missing)}} {
		if a.n != 0 {
			if err := checkLen(a.name, a.n, nn, "none or one per node"); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, a := range []struct {
		name string
		n    int
	}{{prefix + "nodeids", len(voteNodes)}, {prefix + "ids", len(voteIDs)}, {prefix + "weights", len(voteWeights)}} {
		if err := checkLen(a.name, a.n, len(voteTrees), "one per vote, as "+prefix+"treeids"); err != nil {
			return nil, nil, err
		}
	}
	index := make(map[nodeKey]int, nn)
	slot := make([]ref, nn) // each node's place among the branches or the leaves
	f := &forest{targets: targets, aggregate: aggregateSum}
	var rootOf []nodeKey
	haveTree := map[int64]bool{}
	for i := 0; i < nn; i++ {
		k := nodeKey{treeIDs[i], nodeIDs[i]}
		if _, dup := index[k]; dup {
			return nil, nil, ops.Invalidf("node %d repeats tree %d's node id %d", i, k.tree, k.node)
		}
		index[k] = i
		if !haveTree[k.tree] {
			haveTree[k.tree] = true
			rootOf = append(rootOf, k)
		}
		if modes[i] == "LEAF" {
			slot[i] = leafRef(len(f.leaves))
			f.leaves = append(f.leaves, nil)
			continue
		}
		mode := -1
		for m, name := range legacyModes {
			if modes[i] == name {
				mode = m
			}
		}
		if mode < 0 {
			return nil, nil, &ops.AttrError{Name: "nodes_modes", Msg: fmt.Sprintf("element %d is %q, want LEAF or one of %q", i, modes[i], legacyModes)}
		}
		if featureIDs[i] < 0 || featureIDs[i] > math.MaxInt32 {
			return nil, nil, &ops.AttrError{Name: "nodes_featureids", Msg: fmt.Sprintf("element %d is %d", i, featureIDs[i])}
		}
		nd := treeNode{mode: branchMode(mode), feature: int(featureIDs[i]), missingTrue: len(missing) > 0 && missing[i] != 0}
		if len(values) > 0 {
			nd.value = values[i]
		}
		slot[i] = ref(len(f.nodes))
		f.nodes = append(f.nodes, nd)
	}
	for i := 0; i < nn; i++ {
		if slot[i].isLeaf() {
			continue
		}
		nd := &f.nodes[slot[i]]
		for c, id := range [2]int64{trueIDs[i], falseIDs[i]} {
			j, ok := index[nodeKey{treeIDs[i], id}]
			if !ok {
				return nil, nil, ops.Invalidf("node %d of tree %d leads to node id %d, which the tree does not have", nodeIDs[i], treeIDs[i], id)
			}
			nd.child[c] = slot[j]
		}
	}
	for _, k := range rootOf {
		f.roots = append(f.roots, slot[index[k]])
	}
	for i := range voteTrees {
		j, ok := index[nodeKey{voteTrees[i], voteNodes[i]}]
		if !ok || !slot[j].isLeaf() {
			return nil, nil, ops.Invalidf("vote %d is for node %d of tree %d, which is not a leaf", i, voteNodes[i], voteTrees[i])
		}
		if err := checkIndex(prefix+"ids", i, voteIDs[i], targets); err != nil {
			return nil, nil, err
		}
		l := slot[j].leafIndex()
		f.leaves[l] = append(f.leaves[l], vote{target: int(voteIDs[i]), weight: voteWeights[i]})
	}
	if err := f.validate(); err != nil {
		return nil, nil, err
	}
	return f, voteIDs, nil
}

// nodeKey names a node of the older encoding.
type nodeKey struct{ tree, node int64 }

func buildTreeRegressor(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	nTargets := r.Int("n_targets", 1)
	agg := r.String("aggregate_function", "SUM")
	transform := r.String("post_transform", "NONE")
	base := floatsOrTensor(r, "base_values")
	if err := r.Err(); err != nil {
		return nil, err
	}
	if nTargets < 1 || nTargets > math.MaxInt32 {
		return nil, &ops.AttrError{Name: "n_targets", Msg: fmt.Sprintf("is %d, want at least 1", nTargets)}
	}
	op := &treeOp{output: treeRegression, base: base, binaryClass: -1}
	var err error
	if op.transform, err = parsePostTransform(transform); err != nil {
		return nil, err
	}
	f, _, err := legacyForest(r, "target_", int(nTargets))
	if err != nil {
		return nil, err
	}
	op.forest = *f
	op.forest.aggregate = 255
	for i, name := range aggregateNames {
		if agg == name {
			op.forest.aggregate = aggregate(i)
		}
	}
	if op.forest.aggregate == 255 {
		return nil, &ops.AttrError{Name: "aggregate_function", Msg: fmt.Sprintf("is %q, want one of %q", agg, aggregateNames)}
	}
	if len(base) != 0 {
		if err := checkLen("base_values", len(base), int(nTargets), "none or one per target"); err != nil {
			return nil, err
		}
	}
	return op, nil
}

func buildTreeClassifier(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	transform := r.String("post_transform", "NONE")
	base := floatsOrTensor(r, "base_values")
	labels, err := readClassLabels(r, "classlabels_int64s")
	if err != nil {
		return nil, err
	}
	op := &treeOp{output: treeClasses, base: base, labels: labels, binaryClass: -1}
	if op.transform, err = parsePostTransform(transform); err != nil {
		return nil, err
	}
	classes := labels.len()
	if classes < 2 {
		return nil, ops.Unsupportedf("one class label: the binary encoding with a single label is not implemented")
	}
	f, ids, err := legacyForest(r, "class_", classes)
	if err != nil {
		return nil, err
	}
	op.forest = *f
	if classes == 2 && len(ids) > 0 {
		op.binaryClass = int(ids[0])
		for _, id := range ids {
			if int(id) != op.binaryClass {
				op.binaryClass = -1
			}
		}
	}
	if len(base) != 0 && len(base) != classes && !(op.binaryClass >= 0 && len(base) == 1) {
		return nil, &ops.AttrError{Name: "base_values", Msg: fmt.Sprintf("has %d elements, want none or %d (one per class)", len(base), classes)}
	}
	if n.NumOutputs < 1 || n.NumOutputs > 2 {
		return nil, ops.Invalidf("%d outputs, want Y and optionally Z", n.NumOutputs)
	}
	return op, nil
}

func (op *treeOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	allowed := numericInputs
	if op.output == treeValues {
		allowed = ops.DTypes(ops.Float32, ops.Float64, ops.Float16)
	}
	n, c, err := featureMatrix(in[0], allowed)
	if err != nil {
		return nil, err
	}
	if c < op.forest.features {
		return nil, ops.Invalidf("the trees read feature %d, the input has %d features", op.forest.features-1, c)
	}
	scores := ops.Shape{n, op.forest.targets}
	switch op.output {
	case treeValues:
		return []ops.ValueInfo{{DType: in[0].DType, Shape: scores}}, nil
	case treeRegression:
		return []ops.ValueInfo{{DType: ops.Float32, Shape: scores}}, nil
	}
	return []ops.ValueInfo{{DType: op.labels.dtype(), Shape: ops.Shape{n}}, {DType: ops.Float32, Shape: scores}}, nil
}

func (op *treeOp) Prepare(in, out []ops.ValueInfo) (ops.Kernel, error) {
	k := &treeKernel{op: op, features: in[0].Shape[len(in[0].Shape)-1]}
	// TreeEnsemble-5 over float16 widens X and writes Y through float32 scratch; widening is exact, so
	// every split compares as it would in half precision, and the scores round to float16 once.
	k.half = ops.HalfScratch(in[0].DType, in[0].Shape.Size(), out[0].Shape.Size())
	return k, nil
}

type treeKernel struct {
	op       *treeOp
	features int
	half     int // float32 scratch for a float16 X and Y, after the float64 rows
}

func (k *treeKernel) rowScratch() int {
	return ops.Float64ScratchLen(k.features + 2*k.op.forest.targets)
}

func (k *treeKernel) ScratchSize() int { return k.rowScratch() + k.half }

func (k *treeKernel) Run(ctx *ops.ExecContext, in, out []*ops.Tensor) error {
	op, t := k.op, k.op.forest.targets
	buf := ops.Float64View(ctx.Scratch, k.features+2*t)
	row, scores, seen := buf[:k.features], buf[k.features:k.features+t], buf[k.features+t:]
	n := out[0].Shape()[0]
	scoresOut := out[len(out)-1]
	if op.output == treeClasses && len(out) < 2 {
		scoresOut = nil
	}
	var d32 []float32
	var d64 []float64
	if scoresOut != nil {
		switch d := scoresOut.Data().(type) {
		case []float32:
			d32 = d
		case []float64:
			d64 = d
		}
	}
	var w ops.Widener
	var f features
	if k.half > 0 {
		w = ops.NewWidener(ctx.Scratch[k.rowScratch():])
		f = features{f32: w.In(in[0])}
		d32 = w.Out(out[0])
	} else {
		f = readFeatures(in[0])
	}
	for i := 0; i < n; i++ {
		f.row(row, i)
		op.forest.predict(scores, seen, row)
		switch {
		case op.binaryClass >= 0:
			s := scores[op.binaryClass]
			if len(op.base) > 0 {
				s += op.base[min(op.binaryClass, len(op.base)-1)]
			}
			scores[1] = s
			if op.transform == transformNone || op.transform == transformProbit {
				scores[0] = 1 - s
			} else {
				scores[0] = -s
			}
		case len(op.base) > 0:
			for j := range scores {
				scores[j] += op.base[j]
			}
		}
		op.transform.apply(scores)
		if op.output == treeClasses {
			op.labels.write(out[0], i, argmax(scores))
		}
		if d64 != nil {
			copy(d64[i*t:], scores)
		}
		if d32 != nil {
			for j, s := range scores {
				d32[i*t+j] = float32(s)
			}
		}
	}
	if k.half > 0 {
		w.Narrow()
	}
	return nil
}
