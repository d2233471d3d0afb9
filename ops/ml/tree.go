package ml

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// branchMode is the comparison a tree node makes, numbered as TreeEnsemble-5's nodes_modes.
type branchMode uint8

const (
	branchLEQ branchMode = iota
	branchLT
	branchGTE
	branchGT
	branchEQ
	branchNEQ
	branchMember
)

// legacyModes are the older operators' nodes_modes strings, by branchMode (LEAF marks a leaf there).
var legacyModes = []string{"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"}

// ref points at a node (ref >= 0) or at a leaf (ref < 0, leaf index ^ref).
type ref int32

func leafRef(i int) ref      { return ref(^int32(i)) }
func (r ref) isLeaf() bool   { return r < 0 }
func (r ref) leafIndex() int { return int(^r) }

// treeNode is an interior node: go to child[0] when the comparison holds (or the feature is missing and
// missingTrue is set), else child[1].
type treeNode struct {
	feature     int
	mode        branchMode
	missingTrue bool
	value       float64
	members     []float64 // branchMember: the set, NaN-free
	child       [2]ref
}

// vote adds weight to a target (a class, for classifiers) when a row reaches its leaf.
type vote struct {
	target int
	weight float64
}

// aggregate is how the votes of the trees combine, numbered as TreeEnsemble-5's aggregate_function.
type aggregate uint8

const (
	aggregateAverage aggregate = iota
	aggregateSum
	aggregateMin
	aggregateMax
)

var aggregateNames = []string{"AVERAGE", "SUM", "MIN", "MAX"}

// forest is a validated tree ensemble: every ref in range, no cycles, every vote's target below targets.
type forest struct {
	nodes     []treeNode
	leaves    [][]vote
	roots     []ref
	targets   int
	aggregate aggregate
	features  int // 1 + the largest feature index a node reads
}

// validate checks the refs, targets and acyclicity, and records the feature count the trees need.
func (f *forest) validate() error {
	for i, nd := range f.nodes {
		for _, c := range nd.child {
			if err := f.checkRef(c, fmt.Sprintf("node %d's child", i)); err != nil {
				return err
			}
		}
		if nd.feature < 0 {
			return ops.Invalidf("node %d reads feature %d", i, nd.feature)
		}
		f.features = max(f.features, nd.feature+1)
	}
	for i, r := range f.roots {
		if err := f.checkRef(r, fmt.Sprintf("tree %d's root", i)); err != nil {
			return err
		}
	}
	for i, votes := range f.leaves {
		for _, v := range votes {
			if v.target < 0 || v.target >= f.targets {
				return ops.Invalidf("leaf %d votes for target %d, want 0 to %d", i, v.target, f.targets-1)
			}
		}
	}
	return f.checkAcyclic()
}

func (f *forest) checkRef(r ref, what string) error {
	if r.isLeaf() {
		if r.leafIndex() >= len(f.leaves) {
			return ops.Invalidf("%s is leaf %d of %d", what, r.leafIndex(), len(f.leaves))
		}
		return nil
	}
	if int(r) >= len(f.nodes) {
		return ops.Invalidf("%s is node %d of %d", what, int(r), len(f.nodes))
	}
	return nil
}

// checkAcyclic refuses a node that leads back to itself, which would make the walk endless: a depth-first
// search over every tree, colouring nodes on the current path.
func (f *forest) checkAcyclic() error {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, len(f.nodes))
	type frame struct {
		node int
		next int // the child to visit next
	}
	var stack []frame
	for _, root := range f.roots {
		if root.isLeaf() || state[root] == done {
			continue
		}
		stack = append(stack[:0], frame{node: int(root)})
		state[root] = onPath
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next == 2 {
				state[top.node] = done
				stack = stack[:len(stack)-1]
				continue
			}
			c := f.nodes[top.node].child[top.next]
			top.next++
			if c.isLeaf() {
				continue
			}
			switch state[c] {
			case onPath:
				return ops.Invalidf("the trees have a cycle through node %d", int(c))
			case unseen:
				state[c] = onPath
				stack = append(stack, frame{node: int(c)})
			}
		}
	}
	return nil
}

// goesTrue reports whether a row with value x at the node's feature takes the true branch.
func (nd *treeNode) goesTrue(x float64) bool {
	if math.IsNaN(x) {
		return nd.missingTrue
	}
	switch nd.mode {
	case branchLEQ:
		return x <= nd.value
	case branchLT:
		return x < nd.value
	case branchGTE:
		return x >= nd.value
	case branchGT:
		return x > nd.value
	case branchEQ:
		return x == nd.value
	case branchNEQ:
		return x != nd.value
	}
	for _, m := range nd.members {
		if x == m {
			return true
		}
	}
	return false
}

// leaf walks one tree for a row and returns the leaf reached. Validation guarantees the walk ends.
func (f *forest) leaf(root ref, row []float64) int {
	r := root
	for !r.isLeaf() {
		nd := &f.nodes[r]
		if nd.goesTrue(row[nd.feature]) {
			r = nd.child[0]
		} else {
			r = nd.child[1]
		}
	}
	return r.leafIndex()
}

// predict writes the aggregated votes of every tree for one row into scores (len targets); seen is
// scratch of the same length. A target no leaf votes for scores 0.
func (f *forest) predict(scores, seen, row []float64) {
	for t := range scores {
		scores[t], seen[t] = 0, 0
	}
	for _, root := range f.roots {
		for _, v := range f.leaves[f.leaf(root, row)] {
			s := &scores[v.target]
			switch {
			case seen[v.target] == 0:
				*s = v.weight
			case f.aggregate == aggregateMin:
				*s = math.Min(*s, v.weight)
			case f.aggregate == aggregateMax:
				*s = math.Max(*s, v.weight)
			default:
				*s += v.weight
			}
			seen[v.target] = 1
		}
	}
	if f.aggregate == aggregateAverage && len(f.roots) > 0 {
		for t := range scores {
			scores[t] /= float64(len(f.roots))
		}
	}
}
