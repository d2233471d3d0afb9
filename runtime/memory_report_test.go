package runtime_test

import (
	"context"
	"testing"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// A session reports no memory before its first run, then the arena and scratch its plan asks for at the
// shapes it last ran (what NewProfile describes), larger at batch 8 than at batch 1; the plan's weights
// are the shipped LeNet's initializers.
func TestSessionMemoryBytes(t *testing.T) {
	m, err := onnx.Load("../models/lenet/lenet.onnx")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := runtime.Compile(m, runtime.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	var initializers int64
	for _, init := range m.Proto.GetGraph().GetInitializer() {
		n := int64(4) // LeNet's initializers are all float32
		for _, d := range init.GetDims() {
			n *= d
		}
		initializers += n
	}
	if got := plan.WeightBytes(); got != initializers || got < 100_000 {
		t.Errorf("WeightBytes = %d, want LeNet's %d bytes of initializers", got, initializers)
	}

	sess := plan.NewSession()
	defer sess.Close()
	if arena, scratch := sess.MemoryBytes(); arena != 0 || scratch != 0 {
		t.Errorf("before the first run: arena %d, scratch %d; want 0", arena, scratch)
	}
	var arenas []int64
	for _, batch := range []int{1, 8} {
		shape := ops.Shape{batch, 1, 28, 28}
		if _, err := sess.Run(context.Background(), []*ops.Tensor{ops.New(ops.Float32, shape)}); err != nil {
			t.Fatal(err)
		}
		prof, err := plan.NewProfile(shape)
		if err != nil {
			t.Fatal(err)
		}
		arena, scratch := sess.MemoryBytes()
		if arena != prof.ArenaBytes || scratch != prof.ScratchBytes || arena <= 0 {
			t.Errorf("batch %d: arena %d, scratch %d; the plan says %d and %d", batch, arena, scratch, prof.ArenaBytes, prof.ScratchBytes)
		}
		arenas = append(arenas, arena)
	}
	if arenas[1] <= arenas[0] {
		t.Errorf("arena at batch 8 %d, not above batch 1's %d", arenas[1], arenas[0])
	}
}
