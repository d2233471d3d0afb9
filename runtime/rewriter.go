package runtime

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
)

// errReplaceNotLive is a pass misusing replace: a broken invariant of the compiler, not of the model.
var errReplaceNotLive = errors.New("runtime: rewriter.replace of a node not in the graph, or by one already in it")

// rewriter is the graph as a pass sees it: the nodes with an index of who produces and who reads every
// value, so that a pass asks "what reads this?" in constant time instead of scanning the graph (a scan per
// node made Compile quadratic in the node count). A pass changes the graph only through the rewriter's
// methods, which keep the index current; removed nodes leave holes in g.Nodes that finish closes.
type rewriter struct {
	g        *Graph
	producer map[string]*Node   // value name → the node that writes it
	users    map[string][]*Node // value name → the nodes that read it, each once, in no set order
	outputs  map[string]bool    // graph outputs
	inputs   map[string]bool    // graph inputs
	pos      map[*Node]int      // live node → its index in g.Nodes
}

func newRewriter(g *Graph) *rewriter {
	r := &rewriter{g: g, producer: make(map[string]*Node, len(g.Nodes)), users: make(map[string][]*Node, len(g.Nodes)),
		outputs: map[string]bool{}, inputs: map[string]bool{}, pos: make(map[*Node]int, len(g.Nodes))}
	for _, o := range g.Outputs {
		r.outputs[o.Name] = true
	}
	for _, in := range g.Inputs {
		r.inputs[in.Name] = true
	}
	for i, n := range g.Nodes {
		r.pos[n] = i
		r.link(n)
	}
	return r
}

// nodes returns the live nodes in order: a copy, so the pass may change the graph while it walks them
// (checking live for the ones it has removed meanwhile).
func (r *rewriter) nodes() []*Node {
	out := make([]*Node, 0, len(r.pos))
	for _, n := range r.g.Nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// live reports whether n is still in the graph.
func (r *rewriter) live(n *Node) bool {
	_, ok := r.pos[n]
	return ok
}

// producerOf returns the node that writes name, or nil (a graph input, a constant, or nothing).
func (r *rewriter) producerOf(name string) *Node { return r.producer[name] }

// consumers returns the nodes that read name, valid until the next change, and whether the graph returns it.
func (r *rewriter) consumers(name string) (nodes []*Node, isOutput bool) {
	return r.users[name], r.outputs[name]
}

// soleConsumer returns the one node that reads name, if exactly one does and the graph does not return it.
func (r *rewriter) soleConsumer(name string) *Node {
	if users := r.users[name]; len(users) == 1 && !r.outputs[name] {
		return users[0]
	}
	return nil
}

// isOutput reports whether the graph returns name.
func (r *rewriter) isOutput(name string) bool { return r.outputs[name] }

// isUsed reports whether a node reads name or the graph returns it.
func (r *rewriter) isUsed(name string) bool { return r.outputs[name] || len(r.users[name]) > 0 }

// edit applies change to n's inputs or outputs (and anything else of n), keeping the index current.
func (r *rewriter) edit(n *Node, change func()) {
	r.unlink(n)
	change()
	r.link(n)
}

// redirect points every node that reads from at to instead (a node removed as a pass-through: its
// readers read its input).
func (r *rewriter) redirect(from, to string) {
	users := r.users[from]
	for _, m := range append([]*Node(nil), users...) {
		r.edit(m, func() {
			for j, in := range m.Inputs {
				if in == from {
					m.Inputs[j] = to
				}
			}
		})
	}
}

// remove takes n out of the graph.
func (r *rewriter) remove(n *Node) {
	i, ok := r.pos[n]
	if !ok {
		return
	}
	r.unlink(n)
	r.g.Nodes[i] = nil
	delete(r.pos, n)
}

// replace puts n where old is in the node order, old leaving the graph. n may be a node removed earlier
// (a pass moving a node down to where its last input is ready), but not a live one.
func (r *rewriter) replace(old, n *Node) {
	i, ok := r.pos[old]
	if !ok || r.live(n) {
		panic(errReplaceNotLive)
	}
	r.unlink(old)
	delete(r.pos, old)
	r.g.Nodes[i] = n
	r.pos[n] = i
	r.link(n)
}

// inline puts nodes where old is in the node order, old leaving the graph: an If replaced by its branch.
func (r *rewriter) inline(old *Node, nodes []*Node) {
	i, ok := r.pos[old]
	if !ok {
		panic(errReplaceNotLive)
	}
	r.unlink(old)
	delete(r.pos, old)
	g := append(append(append([]*Node(nil), r.g.Nodes[:i]...), nodes...), r.g.Nodes[i+1:]...)
	r.g.Nodes = g
	for j, n := range g {
		if n != nil {
			r.pos[n] = j
		}
	}
	for _, n := range nodes {
		r.link(n)
	}
}

// addConstant stores t under a fresh name derived from base and returns the name.
func (r *rewriter) addConstant(base string, t *ops.Tensor) string {
	name := base
	for i := 1; ; i++ {
		_, taken := r.g.Constants[name]
		if !taken && r.producer[name] == nil && !r.inputs[name] && len(r.users[name]) == 0 {
			break
		}
		name = base + "_" + strconv.Itoa(i)
	}
	r.g.Constants[name] = t
	return name
}

// finish closes the holes removed nodes left in g.Nodes. The rewriter is not used after it.
func (r *rewriter) finish() {
	kept := r.g.Nodes[:0]
	for _, n := range r.g.Nodes {
		if n != nil {
			kept = append(kept, n)
		}
	}
	clear(r.g.Nodes[len(kept):])
	r.g.Nodes = kept
}

func (r *rewriter) link(n *Node) {
	for _, o := range n.Outputs {
		if o != "" {
			r.producer[o] = n
		}
	}
	for j, in := range n.Inputs {
		if in == "" || readsEarlier(n.Inputs[:j], in) {
			continue
		}
		r.users[in] = append(r.users[in], n)
	}
}

func (r *rewriter) unlink(n *Node) {
	for _, o := range n.Outputs {
		if o != "" && r.producer[o] == n {
			delete(r.producer, o)
		}
	}
	for j, in := range n.Inputs {
		if in == "" || readsEarlier(n.Inputs[:j], in) {
			continue
		}
		users := r.users[in]
		for k, u := range users {
			if u == n {
				users[k] = users[len(users)-1]
				users[len(users)-1] = nil
				users = users[:len(users)-1]
				break
			}
		}
		if len(users) == 0 {
			delete(r.users, in)
		} else {
			r.users[in] = users
		}
	}
}

// readsEarlier reports whether name is among inputs (a node reading a value twice is one user of it).
func readsEarlier(inputs []string, name string) bool {
	for _, in := range inputs {
		if in == name {
			return true
		}
	}
	return false
}

// verifyRewrites, set by this package's tests (export_test.go), makes runPasses check after every pass that
// the index its rewriter kept is the one a fresh walk of the graph gives: a pass that changed a node behind
// the rewriter's back (not through edit) then fails Compile in every test, and in every fuzzing run.
var verifyRewrites bool

// verify compares r, after finish, with an index built afresh.
func (r *rewriter) verify() error {
	fresh := newRewriter(r.g)
	if len(r.pos) != len(fresh.pos) {
		return fmt.Errorf("rewriter holds %d live nodes, the graph %d", len(r.pos), len(fresh.pos))
	}
	for n := range fresh.pos {
		if !r.live(n) {
			return fmt.Errorf("node %q (%s) is in the graph but not live in the rewriter", n.Name, n.OpType)
		}
	}
	if len(r.producer) != len(fresh.producer) {
		return fmt.Errorf("rewriter knows %d producers, the graph has %d", len(r.producer), len(fresh.producer))
	}
	for name, n := range fresh.producer {
		if r.producer[name] != n {
			return fmt.Errorf("value %q: the rewriter's producer is not the graph's", name)
		}
	}
	if len(r.users) != len(fresh.users) {
		return fmt.Errorf("rewriter knows users of %d values, the graph has %d", len(r.users), len(fresh.users))
	}
	for name, users := range fresh.users {
		kept := r.users[name]
		if len(kept) != len(users) {
			return fmt.Errorf("value %q: the rewriter lists %d users, the graph has %d", name, len(kept), len(users))
		}
		listed := make(map[*Node]bool, len(kept))
		for _, k := range kept {
			listed[k] = true
		}
		for _, u := range users {
			if !listed[u] {
				return fmt.Errorf("value %q: node %q (%s) reads it but the rewriter does not list it", name, u.Name, u.OpType)
			}
		}
	}
	return nil
}
