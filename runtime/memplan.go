package runtime

import (
	"fmt"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// placementKind says where a value's data lives at run time.
type placementKind uint8

const (
	placeNone   placementKind = iota // never materialised (folded away or unused)
	placeInput                       // the caller's tensor
	placeConst                       // an initializer or folded constant, shared by all sessions
	placeBuffer                      // a slice of one of the session's arena buffers
	placeAlias                       // a view of another value's data (Reshape, Flatten, ...)
)

type placement struct {
	kind    placementKind
	buffer  int     // placeBuffer: index into memoryPlan.buffers
	aliasOf valueID // placeAlias: the value whose data this one shares (itself never an alias)
	offset  int     // placeAlias: the element where this value starts in aliasOf's data (a Slice, Split or Concat block)
}

// bufferSpec is one arena buffer: values of one dtype whose lifetimes do not overlap share it.
type bufferSpec struct {
	dtype ops.DType
	elems int
}

// memoryPlan places every value of a specialisation. Buffers are assigned greedily in step order: a value
// takes a free buffer of its dtype (the smallest that fits, else the largest one, grown) and gives it back
// after its last use. Graph outputs are never given back, so they stay valid until the next Run.
type memoryPlan struct {
	place       []placement
	buffers     []bufferSpec
	scratch     int // float32 elements of shared kernel scratch
	totalBytes  int64
	naiveBytes  int64 // what one buffer per value would have taken, for the dump
	inputAlias  []valueID
	outputAlias []valueID
}

func planMemory(p *Plan, s *specialization) (memoryPlan, error) {
	mp := memoryPlan{place: make([]placement, p.numValues)}
	for _, id := range p.inputs {
		mp.place[id].kind = placeInput
	}
	for id, info := range s.infos {
		if info.Const != nil {
			mp.place[id].kind = placeConst
		}
	}
	const forever = 1 << 30
	lastUse := make([]int, p.numValues)
	for i := range lastUse {
		lastUse[i] = -1
	}
	isOutput := make([]bool, p.numValues)
	for _, id := range p.outputs {
		isOutput[id] = true
		lastUse[id] = forever
	}
	for si, st := range s.steps {
		for _, id := range st.in {
			if id != noValue {
				lastUse[id] = max(lastUse[id], si)
			}
		}
	}
	// root returns the value whose buffer id's data lives in, and the element where id starts in it.
	root := func(id valueID) (valueID, int) {
		if pl := mp.place[id]; pl.kind == placeAlias {
			return pl.aliasOf, pl.offset
		}
		return id, 0
	}
	// Decide aliases first, walking backwards would miss chains; forwards is enough because a view's root
	// is already placed when the view is met.
	for si := range s.steps {
		st := &s.steps[si]
		al, isAliaser := p.nodes[st.node].node.Op.(ops.Aliaser)
		bv, isBlock := st.kernel.(ops.BlockViewer)
		if !isAliaser && !(isBlock && blockViews) {
			continue
		}
		all := true
		for oj, oid := range st.out {
			if oid == noValue {
				continue
			}
			var ij, off int
			ok := false
			if isAliaser {
				ij, ok = al.AliasOf(oj)
				ok = ok && ij < len(st.in) && st.in[ij] != noValue &&
					s.infos[st.in[ij]].Shape.Size() == s.infos[oid].Shape.Size()
			} else {
				// A block of its input (Slice, Split): never of a graph input, which the caller may reuse
				// after Run, nor a graph output, which would keep its whole input alive.
				var n int
				ij, off, n, ok = bv.BlockOf(oj)
				ok = ok && ij < len(st.in) && st.in[ij] != noValue && !isOutput[oid] &&
					n == s.infos[oid].Shape.Size() && off+n <= s.infos[st.in[ij]].Shape.Size()
			}
			if !ok {
				all = false
				continue
			}
			src, srcOff := root(st.in[ij])
			srcKind := mp.place[src].kind
			// A view of a constant would hand callers (or later in-place kernels) shared read-only memory.
			if srcKind == placeConst || s.infos[src].DType != s.infos[oid].DType ||
				!isAliaser && srcKind == placeInput {
				all = false
				continue
			}
			mp.place[oid] = placement{kind: placeAlias, aliasOf: src, offset: srcOff + off}
			if isOutput[oid] && srcKind == placeInput {
				mp.outputAlias = append(mp.outputAlias, oid)
			}
			if srcKind == placeInput {
				mp.inputAlias = append(mp.inputAlias, oid)
			}
		}
		st.aliasOnly = all
	}
	// A Concat's inputs may become blocks of its output, which must then exist from the first of their
	// producers on.
	birth := make([]int, p.numValues)
	for i := range birth {
		birth[i] = -1
	}
	for si, st := range s.steps {
		for _, id := range st.out {
			birth[id] = si
		}
	}
	if concatBlocks {
		planConcatBlocks(p, s, &mp, isOutput, birth)
	}
	// A view keeps its root alive.
	for id := range mp.place {
		if mp.place[id].kind == placeAlias {
			r := mp.place[id].aliasOf
			lastUse[r] = max(lastUse[r], lastUse[id])
		}
	}
	bornAt := make([][]valueID, len(s.steps))
	for id, si := range birth {
		if si >= 0 {
			bornAt[si] = append(bornAt[si], valueID(id))
		}
	}
	diesAt := make([][]valueID, len(s.steps))
	for id, last := range lastUse {
		if last >= 0 && last < len(s.steps) && mp.place[id].kind != placeAlias && mp.place[id].kind != placeConst &&
			mp.place[id].kind != placeInput && birth[id] >= 0 {
			diesAt[last] = append(diesAt[last], valueID(id))
		}
	}
	var free []int // indexes of free buffers
	release := func(id valueID) {
		if mp.place[id].kind == placeBuffer {
			free = append(free, mp.place[id].buffer)
		}
	}
	for si, st := range s.steps {
		if sc, ok := st.kernel.(ops.Scratcher); ok {
			mp.scratch = max(mp.scratch, sc.ScratchSize())
		}
		for _, id := range bornAt[si] {
			if mp.place[id].kind != placeNone {
				continue
			}
			info := s.infos[id]
			need := info.Shape.Size()
			mp.naiveBytes += int64(need) * int64(info.DType.Size())
			best, bestFit := -1, false
			for fi, b := range free {
				bs := mp.buffers[b]
				if bs.dtype != info.DType {
					continue
				}
				fits := bs.elems >= need
				switch {
				case best < 0,
					fits && !bestFit,
					fits && bestFit && bs.elems < mp.buffers[free[best]].elems,
					!fits && !bestFit && bs.elems > mp.buffers[free[best]].elems:
					best, bestFit = fi, fits
				}
			}
			var b int
			if best >= 0 {
				b = free[best]
				free = append(free[:best], free[best+1:]...)
				mp.buffers[b].elems = max(mp.buffers[b].elems, need)
			} else {
				b = len(mp.buffers)
				mp.buffers = append(mp.buffers, bufferSpec{dtype: info.DType, elems: need})
			}
			mp.place[id] = placement{kind: placeBuffer, buffer: b}
		}
		// Give back the buffers whose last reader is this step, and those of values nobody reads. A buffer
		// read only through views dies with its last view's reader, a step that never names it: so the
		// list is by lifetime, not by the step's inputs.
		for _, id := range diesAt[si] {
			release(id)
		}
		for _, id := range bornAt[si] {
			if lastUse[id] < si && mp.place[id].kind == placeBuffer {
				release(id)
			}
		}
	}
	for _, b := range mp.buffers {
		mp.totalBytes += int64(b.elems) * int64(b.dtype.Size())
	}
	mp.totalBytes += int64(mp.scratch) * 4
	if mp.totalBytes > p.opts.MaxPlanBytes {
		return mp, fmt.Errorf("%w: the plan for input shapes %v needs %d bytes of buffers, over the limit of %d (Options.MaxPlanBytes)", ErrUnsupported, s.inputShapes, mp.totalBytes, p.opts.MaxPlanBytes)
	}
	return mp, nil
}

// concatBlocks enables planConcatBlocks and blockViews the views of Slice and Split outputs; tests turn them
// off to compare with the copying kernels.
var concatBlocks, blockViews = true, true

// planConcatBlocks turns Concats into no-ops where it is safe: when every dimension before the axis is 1,
// each input is one contiguous block of the output, so an input that one step produces and only the Concat
// reads (once) can be written by its producer straight into its block. The inputs become views of the
// output at their offsets and the output is born at the first producer (birth is updated). The others
// (graph inputs, constants, views such as Reshape or Slice outputs, values with views of their own, values
// read elsewhere, graph outputs) are copied by the Concat's kernel, which is skipped only when no input is
// left to copy.
func planConcatBlocks(p *Plan, s *specialization, mp *memoryPlan, isOutput []bool, birth []int) {
	reads := make([]int, p.numValues)
	for _, st := range s.steps {
		for _, id := range st.in {
			if id != noValue {
				reads[id]++
			}
		}
	}
	hasViews := make([]bool, p.numValues)
	for _, pl := range mp.place {
		if pl.kind == placeAlias {
			hasViews[pl.aliasOf] = true
		}
	}
	for si := range s.steps {
		st := &s.steps[si]
		cc, ok := p.nodes[st.node].node.Op.(ops.Concatenator)
		if !ok || len(st.out) != 1 || len(st.in) == 0 {
			continue
		}
		out := st.out[0]
		outInfo := s.infos[out]
		axis, ok := cc.ConcatAxis(len(outInfo.Shape))
		if !ok || mp.place[out].kind != placeNone || outInfo.Shape[:axis].Size() != 1 {
			continue
		}
		offset, all := 0, true
		for _, id := range st.in {
			if id == noValue {
				all = false
				break
			}
			size := s.infos[id].Shape.Size()
			if id == out || mp.place[id].kind != placeNone || isOutput[id] || hasViews[id] || reads[id] != 1 ||
				birth[id] < 0 || birth[id] >= si || s.infos[id].DType != outInfo.DType {
				all = false
				offset += size
				continue
			}
			mp.place[id] = placement{kind: placeAlias, aliasOf: out, offset: offset}
			offset += size
			birth[out] = min(birth[out], birth[id])
			birth[id] = -1
			hasViews[out] = true
		}
		// With some inputs left out, the kernel still runs: it copies those and sees that the others start
		// where their blocks are.
		st.aliasOnly = all
	}
}

// String prints the specialisation: steps in order with their value slots and the arena layout, the way
// `onnxrun inspect --plan` shows it.
func (s *specialization) describe(p *Plan) string {
	var b strings.Builder
	if s.dynamic {
		fmt.Fprintf(&b, "dynamic plan (shapes depend on input values): %v\n", s.dynamicReason)
		return b.String()
	}
	fmt.Fprintf(&b, "%d steps; %d buffers hold %d bytes of values (%d if each had its own); %d bytes of kernel scratch\n",
		len(s.steps), len(s.memory.buffers), s.memory.totalBytes-int64(s.memory.scratch)*4, s.memory.naiveBytes, s.memory.scratch*4)
	for i, st := range s.steps {
		pn := p.nodes[st.node]
		fmt.Fprintf(&b, "%3d %-20s %-24q", i, pn.node.OpType, pn.label)
		for _, id := range st.out {
			pl := s.memory.place[id]
			info := s.infos[id]
			switch pl.kind {
			case placeBuffer:
				fmt.Fprintf(&b, " -> %s%v@buf%d", info.DType, info.Shape, pl.buffer)
			case placeAlias:
				if pl.offset != 0 || s.infos[pl.aliasOf].Shape.Size() != info.Shape.Size() {
					fmt.Fprintf(&b, " -> %s%v=view(%s@%d)", info.DType, info.Shape, p.names[pl.aliasOf], pl.offset)
				} else {
					fmt.Fprintf(&b, " -> %s%v=view(%s)", info.DType, info.Shape, p.names[pl.aliasOf])
				}
			default:
				fmt.Fprintf(&b, " -> %s%v", info.DType, info.Shape)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
