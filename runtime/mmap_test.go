package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorio"
)

// markedWeights are n float32s unlikely to occur by chance in a model file, so that a test can find where
// their raw_data lies.
func markedWeights(seed float32, n int) []float32 {
	w := make([]float32, n)
	for i := range w {
		w[i] = seed + float32(i)*0.03125 + 1e-3
	}
	return w
}

func float32Bytes(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, f := range v {
		u := math.Float32bits(f)
		b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	return b
}

// saveWithWeightAt writes m to dir/name, padding the model's doc_string (which the file holds before the
// graph) so that the raw_data of weights starts at a file offset that is rem modulo 4: 0 lets a mapped
// load use it in place, anything else makes it copy.
func saveWithWeightAt(t *testing.T, m *onnx.Model, weights []float32, rem int, dir, name string) string {
	t.Helper()
	marker := float32Bytes(weights)
	for pad := 0; pad < 8; pad++ {
		m.Proto.DocString = proto.String(strings.Repeat("p", pad))
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if at := bytes.Index(b, marker); at >= 0 && at%4 == rem {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return path
		}
	}
	t.Fatalf("no padding puts the weights at offset %d mod 4", rem)
	return ""
}

func load(t *testing.T, path string, noMmap bool) *runtime.Plan {
	t.Helper()
	p, err := runtime.Load(path, runtime.Options{Threads: 1, NoMmap: noMmap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// checkSameBits loads path mapped and read and requires bit-identical outputs on inputs.
func checkSameBits(t *testing.T, path string, inputs ...*ops.Tensor) *runtime.Plan {
	t.Helper()
	mapped, read := load(t, path, false), load(t, path, true)
	if runtime.PlanMapping(mapped) == nil {
		t.Fatal("a mapped load holds no mapping")
	}
	if runtime.PlanMapping(read) != nil {
		t.Fatal("a load with NoMmap holds a mapping")
	}
	got, want := runOnce(t, mapped, inputs...), runOnce(t, read, inputs...)
	for i := range want {
		if !reflect.DeepEqual(bitsOf(got[i]), bitsOf(want[i])) {
			t.Fatalf("output %d differs between the mapped and the read load", i)
		}
	}
	return mapped
}

func randomInput(shape ops.Shape, seed uint64) *ops.Tensor {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := ops.New(ops.Float32, shape)
	for i := range x.Float32s() {
		x.Float32s()[i] = rng.Float32()*2 - 1
	}
	return x
}

// TestMmapLeNetMatchesRead: LeNet loaded mapped gives the outputs of LeNet loaded read, bit for bit.
func TestMmapLeNetMatchesRead(t *testing.T) {
	testenv.RequireMmap(t)
	checkSameBits(t, sharedModel(t, "lenet_torch_opset13"), randomInput(ops.Shape{2, 1, 28, 28}, 7))
}

// TestMmapReferenceModelsMatchRead: every shared reference model gives the same outputs, bit for bit,
// loaded mapped or read; any pass or kernel writing into a mapped weight would fault here.
func TestMmapReferenceModelsMatchRead(t *testing.T) {
	testenv.RequireMmap(t)
	dirs, _ := filepath.Glob(filepath.Join(testenv.Shared(t, "models"), "*"))
	tested := 0
	for _, dir := range dirs {
		x, err := tensorio.ReadNPYFile(filepath.Join(dir, "input_0.npy"))
		if err != nil {
			continue // not a model folder with an input
		}
		mapped, read := load(t, filepath.Join(dir, "model.onnx"), false), load(t, filepath.Join(dir, "model.onnx"), true)
		got, want := runOnce(t, mapped, x), runOnce(t, read, x)
		for i := range want {
			if !reflect.DeepEqual(bitsOf(got[i]), bitsOf(want[i])) {
				t.Errorf("%s: output %d differs between the mapped and the read load", filepath.Base(dir), i)
			}
		}
		tested++
	}
	if tested == 0 {
		t.Fatal("no reference model with an input_0.npy found")
	}
}

// runOnce runs p once in a fresh session and returns copies of the outputs.
func runOnce(t *testing.T, p *runtime.Plan, inputs ...*ops.Tensor) []*ops.Tensor {
	t.Helper()
	s := p.NewSession()
	defer s.Close()
	outs, err := s.Run(context.Background(), inputs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range outs {
		outs[i] = outs[i].Clone()
	}
	return outs
}

// bitsOf is a tensor's data with float32s as bit patterns, so that NaNs compare equal to themselves.
func bitsOf(x *ops.Tensor) any {
	if x.DType() != ops.Float32 {
		return x.Data()
	}
	bits := make([]uint32, x.Len())
	for i, f := range x.Float32s() {
		bits[i] = math.Float32bits(f)
	}
	return bits
}

// affineModel is y = (x + W) * V for x of shape [n], with W and V marked weights.
func affineModel(t *testing.T, n int) (m *onnx.Model, w, v []float32) {
	t.Helper()
	w, v = markedWeights(3, n), markedWeights(-5, n)
	b := exporter.NewGraph("affine")
	x := b.Input("x", f32, n)
	sum := b.Node("Add", []string{x, b.Float32Initializer("W", []int{n}, w)}, nil)
	b.Output(b.Node("Mul", []string{sum, b.Float32Initializer("V", []int{n}, v)}, nil), f32, n)
	m, err := b.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	return m, w, v
}

// TestMmapAlignedAndMisalignedRawData: a weight whose raw_data is aligned in the file is used in the
// mapped pages, a misaligned one is copied, and both give the read load's results bit for bit.
func TestMmapAlignedAndMisalignedRawData(t *testing.T) {
	testenv.RequireMmap(t)
	const n = 64
	for rem := 0; rem < 4; rem++ {
		m, w, _ := affineModel(t, n)
		path := saveWithWeightAt(t, m, w, rem, t.TempDir(), "model.onnx")
		p := checkSameBits(t, path, randomInput(ops.Shape{n}, uint64(rem)))
		if got, want := runtime.ConstantMapped(p, "W"), rem == 0; got != want {
			t.Errorf("raw_data at offset %d mod 4: W in the mapped pages = %v, want %v", rem, got, want)
		}
	}
}

// TestMmapExternalData: a weight in an external data file is mapped and used in place at an aligned
// offset, and gives the read load's results.
func TestMmapExternalData(t *testing.T) {
	testenv.RequireMmap(t)
	const n = 64
	m, w, _ := affineModel(t, n)
	dir := t.TempDir()
	const offset = 4096
	data := append(make([]byte, offset), float32Bytes(w)...)
	if err := os.WriteFile(filepath.Join(dir, "weights.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, init := range m.Proto.Graph.Initializer {
		if init.GetName() != "W" {
			continue
		}
		init.RawData = nil
		init.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		init.ExternalData = []*onnxpb.StringStringEntryProto{
			{Key: proto.String("location"), Value: proto.String("weights.bin")},
			{Key: proto.String("offset"), Value: proto.String("4096")},
			{Key: proto.String("length"), Value: proto.String("256")},
		}
	}
	path := filepath.Join(dir, "model.onnx")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	p := checkSameBits(t, path, randomInput(ops.Shape{n}, 11))
	if !runtime.ConstantMapped(p, "W") {
		t.Error("the external weight was copied, want it used in the mapped file")
	}
}

// TestMmapReleasedAfterPlanAndSessions: the model file stays mapped until the plan and every session made
// from it are closed, in either order, while sessions run concurrently with the plan's Close (run it
// under -race); sessions made after Close fail with ErrClosed.
func TestMmapReleasedAfterPlanAndSessions(t *testing.T) {
	testenv.RequireMmap(t)
	const n = 64
	m, w, _ := affineModel(t, n)
	path := saveWithWeightAt(t, m, w, 0, t.TempDir(), "model.onnx")
	x := randomInput(ops.Shape{n}, 3)
	for _, planFirst := range []bool{true, false} {
		p, err := runtime.Load(path, runtime.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		mapping := runtime.PlanMapping(p)
		if mapping == nil || !runtime.ConstantMapped(p, "W") {
			t.Fatal("the plan does not use the mapped file; the test needs it to")
		}
		sessions := []*runtime.Session{p.NewSession(), p.NewSession()}
		var wg sync.WaitGroup
		for _, s := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 50 {
					if _, err := s.Run(context.Background(), []*ops.Tensor{x}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		if planFirst {
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if mapping.Released() {
				t.Fatal("closing the plan unmapped the file under its running sessions")
			}
			if _, err := p.NewSession().Run(context.Background(), []*ops.Tensor{x}); !errors.Is(err, runtime.ErrClosed) {
				t.Errorf("a session of a closed plan ran: got %v, want ErrClosed", err)
			}
		}
		wg.Wait()
		sessions[0].Close()
		sessions[1].Close()
		sessions[1].Close() // twice: one release only
		if _, err := sessions[0].Run(context.Background(), []*ops.Tensor{x}); !errors.Is(err, runtime.ErrClosed) {
			t.Errorf("a closed session ran: got %v, want ErrClosed", err)
		}
		if !planFirst {
			if mapping.Released() {
				t.Fatal("closing the sessions unmapped the file under its open plan")
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if !mapping.Released() {
			t.Errorf("plan-first %v: the file is still mapped after the plan and its sessions are closed: %v", planFirst, mapping)
		}
	}
}

// TestOutputsDoNotAliasConstants: outputs that are an initializer, or an Identity of one, are copies in
// the session's memory: writing into them neither faults (the initializer is in the mapped file's
// read-only pages) nor changes what the next Run returns. The NonZero variant's shapes depend on the input
// values, which takes Run's dynamic path.
func TestOutputsDoNotAliasConstants(t *testing.T) {
	testenv.RequireMmap(t)
	const n = 64
	for _, dynamic := range []bool{false, true} {
		w := markedWeights(9, n)
		b := exporter.NewGraph("constant_outputs")
		x := b.Input("x", f32, n)
		wName := b.Float32Initializer("W", []int{n}, w)
		b.Output(wName, f32, n)
		b.Output(b.Node("Identity", []string{wName}, nil), f32, n)
		if dynamic {
			b.Output(b.Node("NonZero", []string{x}, nil), onnxpb.TensorProto_INT64, 1, "nz")
		} else {
			b.Output(b.Node("Neg", []string{x}, nil), f32, n)
		}
		m, err := b.Model(exporter.ModelOptions{Opset: 13})
		if err != nil {
			t.Fatal(err)
		}
		p := load(t, saveWithWeightAt(t, m, w, 0, t.TempDir(), "model.onnx"), false)
		if !runtime.ConstantMapped(p, "W") {
			t.Fatal("W is not in the mapped pages; the test needs it to be")
		}
		s := p.NewSession()
		for run := range 2 {
			outs, err := s.Run(context.Background(), []*ops.Tensor{randomInput(ops.Shape{n}, 5)})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				got := outs[i].Float32s()
				for j := range got {
					if got[j] != w[j] {
						t.Fatalf("dynamic %v, run %d: output %d[%d] = %v, want W's %v", dynamic, run, i, j, got[j], w[j])
					}
					got[j] = float32(math.NaN()) // the caller's to overwrite
				}
			}
		}
		s.Close()
	}
}
