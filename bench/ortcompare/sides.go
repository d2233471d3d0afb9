package main

import (
	"context"
	"fmt"
	"math"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// side is one runtime set up to run a workload again and again on the same inputs, writing into the same
// outputs: neither side allocates per run, so the comparison is of the kernels and the executor.
type side interface {
	run() error
	outputs() [][]float32 // valid after a run
	close()
}

// onnxrunSide runs a workload through runtime.Session.
type onnxrunSide struct {
	plan   *runtime.Plan
	sess   *runtime.Session
	inputs []*ops.Tensor
	outs   []*ops.Tensor
	ctx    context.Context
}

func newOnnxrunSide(w *workload, threads int) (*onnxrunSide, time.Duration, error) {
	t0 := time.Now()
	m, err := onnx.Decode(w.modelBytes)
	if err != nil {
		return nil, 0, fmt.Errorf("onnxrun: %s: %w", w.modelPath, err)
	}
	plan, err := runtime.Compile(m, runtime.Options{Threads: threads})
	if err != nil {
		return nil, 0, fmt.Errorf("onnxrun: %s: %w", w.modelPath, err)
	}
	load := time.Since(t0)
	s := &onnxrunSide{plan: plan, sess: plan.NewSession(), ctx: context.Background()}
	for i := range w.inputs {
		s.inputs = append(s.inputs, ops.FromSlice(w.inputShapes[i], w.inputs[i]))
	}
	return s, load, nil
}

func (s *onnxrunSide) run() error {
	outs, err := s.sess.Run(s.ctx, s.inputs)
	s.outs = outs
	return err
}

func (s *onnxrunSide) outputs() [][]float32 {
	out := make([][]float32, len(s.outs))
	for i, t := range s.outs {
		out[i] = t.Float32s()
	}
	return out
}

func (s *onnxrunSide) close() { s.sess.Close() }

// ortSide runs a workload through ONNX Runtime's C API with preallocated input and output tensors.
type ortSide struct {
	sess *ort.DynamicAdvancedSession
	in   []ort.Value
	out  []*ort.Tensor[float32]
	vals []ort.Value
}

// ortOptions are the settings of the ORT side: threads inside operators as asked, one thread between
// operators (sequential execution, like onnxrun), every graph optimisation, everything else at ORT's
// defaults (memory arena and pattern on, worker threads allowed to spin).
func ortOptions(threads int, profilePrefix string) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	for _, set := range []func() error{
		func() error { return opts.SetIntraOpNumThreads(threads) },
		func() error { return opts.SetInterOpNumThreads(1) },
		func() error { return opts.SetExecutionMode(ort.ExecutionModeSequential) },
		func() error { return opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll) },
	} {
		if err := set(); err != nil {
			opts.Destroy()
			return nil, err
		}
	}
	if profilePrefix != "" {
		if err := opts.EnableProfiling(profilePrefix); err != nil {
			opts.Destroy()
			return nil, err
		}
	}
	return opts, nil
}

func newORTSide(w *workload, threads int, profilePrefix string) (*ortSide, time.Duration, error) {
	opts, err := ortOptions(threads, profilePrefix)
	if err != nil {
		return nil, 0, fmt.Errorf("ORT session options: %w", err)
	}
	defer opts.Destroy()
	t0 := time.Now()
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(w.modelBytes, w.inputNames, w.outputNames, opts)
	if err != nil {
		return nil, 0, fmt.Errorf("ORT: %s: %w", w.modelPath, err)
	}
	load := time.Since(t0)
	s := &ortSide{sess: sess}
	for i, data := range w.inputs {
		t, err := ort.NewTensor(ortShape(w.inputShapes[i]), data)
		if err != nil {
			s.close()
			return nil, 0, fmt.Errorf("ORT input %q: %w", w.inputNames[i], err)
		}
		s.in = append(s.in, t)
	}
	for i, shape := range w.outputShapes {
		t, err := ort.NewEmptyTensor[float32](ortShape(shape))
		if err != nil {
			s.close()
			return nil, 0, fmt.Errorf("ORT output %q: %w", w.outputNames[i], err)
		}
		s.out = append(s.out, t)
		s.vals = append(s.vals, t)
	}
	return s, load, nil
}

func ortShape(s ops.Shape) ort.Shape {
	dims := make([]int64, len(s))
	for i, d := range s {
		dims[i] = int64(d)
	}
	return ort.NewShape(dims...)
}

func (s *ortSide) run() error { return s.sess.Run(s.in, s.vals) }

func (s *ortSide) outputs() [][]float32 {
	out := make([][]float32, len(s.out))
	for i, t := range s.out {
		out[i] = t.GetData()
	}
	return out
}

func (s *ortSide) close() {
	for _, v := range s.in {
		v.Destroy()
	}
	for _, v := range s.out {
		v.Destroy()
	}
	if s.sess != nil {
		s.sess.Destroy()
	}
}

// maxDiff is the largest |a-b| over all outputs, and the largest |b| for scale.
func maxDiff(a, b [][]float32) (diff, scale float64) {
	for i := range a {
		for j := range a[i] {
			diff = math.Max(diff, math.Abs(float64(a[i][j])-float64(b[i][j])))
			scale = math.Max(scale, math.Abs(float64(b[i][j])))
		}
	}
	return diff, scale
}
