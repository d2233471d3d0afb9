package runtime

// What a plan and its sessions hold, for `onnxrun bench` and the server's /metrics (issue 20 item 4).

// WeightBytes adds up the sizes of the plan's constants: the initializers, after the graph passes folded
// what they could (BatchNormalization into Conv, say).
func (p *Plan) WeightBytes() int64 {
	var n int64
	for _, t := range p.graph.Constants {
		n += int64(t.Len()) * int64(t.DType().Size())
	}
	return n
}

// MemoryBytes is what the session holds for the shapes it last ran: arena, the buffers of the
// intermediate values (sized by their liveness, see the memory plan), and scratch, the kernels' shared
// working memory (im2col, packed panels). Both are 0 before the first run and for a plan whose shapes
// depend on input values (such a run allocates as it goes). The buffers a control-flow body keeps in the
// session are not included. Like Run, it belongs to the goroutine using the session.
func (s *Session) MemoryBytes() (arena, scratch int64) {
	if s.bound == nil {
		return 0, 0
	}
	mp := &s.bound.spec.memory
	scratch = int64(mp.scratch) * 4
	return mp.totalBytes - scratch, scratch
}
