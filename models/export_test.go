package models

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/inspect"
	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// seedLeNet is the seed's LeNet with Glorot weights and small random biases.
func seedLeNet(t testing.TB, cfg LeNetConfig) *Network {
	t.Helper()
	net, err := NewLeNet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(1)
	rng := rand.New(rand.NewPCG(2, 2))
	for _, p := range net.Params() {
		if p.fanIn == 0 {
			for i := range p.Value {
				p.Value[i] = float32(rng.Float64()*0.2 - 0.1)
			}
		}
	}
	return net
}

func randomImages(n int, seed uint64) *ops.Tensor {
	rng := rand.New(rand.NewPCG(seed, seed))
	x := ops.New(ops.Float32, ops.Shape{n, 1, 28, 28})
	for i := range x.Float32s() {
		x.Float32s()[i] = float32(rng.Float64())
	}
	return x
}

// closeTo reports the first element where got and want differ by more than tol*(1+|want|).
func closeTo(got, want []float32, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) || math.IsNaN(d) {
			return fmt.Errorf("element %d: %v, want %v (difference %.3g)", i, got[i], want[i], d)
		}
	}
	return nil
}

// TestExportRoundTrip exports the LeNet at every supported opset, decodes it, checks what the file
// declares, runs it in onnxrun's runtime and compares with the trainer's own forward pass.
func TestExportRoundTrip(t *testing.T) {
	variants := []struct {
		name string
		cfg  func(*LeNetConfig)
	}{
		{"seed", func(*LeNetConfig) {}},
		{"max pool tanh same dropout", func(c *LeNetConfig) {
			c.Pool, c.Activation, c.Padding, c.Dropout, c.Filters, c.Kernel = MaxPool, Tanh, Same, 0.5, [2]int{4, 8}, 5
		}},
	}
	x := randomImages(7, 1)
	for _, v := range variants {
		cfg := SeedLeNet()
		v.cfg(&cfg)
		net := seedLeNet(t, cfg)
		want, err := net.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		for opset := MinExportOpset; opset <= MaxExportOpset; opset++ {
			for _, softmax := range []bool{false, true} {
				if softmax && opset != 13 && opset != 9 {
					continue
				}
				t.Run(fmt.Sprintf("%s/opset%d/softmax=%v", v.name, opset, softmax), func(t *testing.T) {
					m, err := net.Export(ExportOptions{Opset: opset, Softmax: softmax, ProducerVersion: "test", DocString: "doc"})
					if err != nil {
						t.Fatal(err)
					}
					b, err := m.Encode()
					if err != nil {
						t.Fatal(err)
					}
					m, err = onnx.Decode(b)
					if err != nil {
						t.Fatal(err)
					}
					checkDeclarations(t, m, net, opset, softmax)
					plan, err := runtime.Compile(m, runtime.Options{Threads: 1})
					if err != nil {
						t.Fatal(err)
					}
					sess := plan.NewSession()
					defer sess.Close()
					out, err := sess.Run(context.Background(), []*ops.Tensor{x})
					if err != nil {
						t.Fatal(err)
					}
					ref := want.Float32s()
					if softmax {
						ref = softmaxRows(ref, 10)
					}
					if err := closeTo(out[0].Float32s(), ref, 1e-5); err != nil {
						t.Fatalf("runtime output vs trainer's forward pass: %v", err)
					}
				})
			}
		}
	}
}

func softmaxRows(x []float32, classes int) []float32 {
	out := make([]float32, len(x))
	for r := 0; r < len(x)/classes; r++ {
		row := x[r*classes : (r+1)*classes]
		top := float64(row[argmax(row)])
		sum := 0.0
		for _, v := range row {
			sum += math.Exp(float64(v) - top)
		}
		for j, v := range row {
			out[r*classes+j] = float32(math.Exp(float64(v)-top) / sum)
		}
	}
	return out
}

func checkDeclarations(t *testing.T, m *onnx.Model, net *Network, opset int, softmax bool) {
	t.Helper()
	mp := m.Proto
	if v, ok := m.OpsetFor(""); !ok || v != int64(opset) {
		t.Errorf("default opset %d, want %d", v, opset)
	}
	if mp.GetProducerName() != "onnxrun" || mp.GetProducerVersion() != "test" || mp.GetDocString() != "doc" {
		t.Errorf("producer %q %q doc %q", mp.GetProducerName(), mp.GetProducerVersion(), mp.GetDocString())
	}
	g := mp.GetGraph()
	if len(g.GetInput()) != 1 || len(g.GetOutput()) != 1 {
		t.Fatalf("%d inputs, %d outputs, want 1 and 1", len(g.GetInput()), len(g.GetOutput()))
	}
	outName := "logits"
	if softmax {
		outName = "probabilities"
	}
	for _, c := range []struct {
		vi   *onnxpb.ValueInfoProto
		name string
		dims string
	}{{g.GetInput()[0], "input", "N,1,28,28"}, {g.GetOutput()[0], outName, "N,10"}} {
		_, dims, ok := onnx.ValueInfoShape(c.vi)
		var ds []string
		for _, d := range dims {
			ds = append(ds, d.String())
		}
		if !ok || c.vi.GetName() != c.name || strings.Join(ds, ",") != c.dims || c.vi.GetDocString() == "" {
			t.Errorf("declared %q %v (doc %q), want %q [%s] with a doc string", c.vi.GetName(), ds, c.vi.GetDocString(), c.name, c.dims)
		}
	}
	// Every value a node makes, but the output, has value_info with the symbolic batch.
	infos := map[string]bool{}
	for _, vi := range g.GetValueInfo() {
		_, dims, _ := onnx.ValueInfoShape(vi)
		if len(dims) == 0 || dims[0].Param != "N" {
			t.Errorf("value_info %q has dims %v, want the batch N first", vi.GetName(), dims)
		}
		infos[vi.GetName()] = true
	}
	for _, n := range g.GetNode() {
		if o := n.GetOutput()[0]; o != outName && !infos[o] {
			t.Errorf("node %q: no value_info for its output %q", n.GetName(), o)
		}
		if n.GetDocString() == "" {
			t.Errorf("node %q has no doc string", n.GetName())
		}
	}
	total := 0
	for _, init := range g.GetInitializer() {
		if len(init.GetRawData()) == 0 || len(init.GetFloatData()) != 0 {
			t.Errorf("initializer %q is not in raw_data", init.GetName())
		}
		total += len(init.GetRawData()) / 4
	}
	if total != net.NumParams() {
		t.Errorf("initializers hold %d values, the network %d", total, net.NumParams())
	}
}

// TestExportedSeedLeNetParameterCount reads the export back with onnxrun's summary and finds the seed's
// parameter counts: 60, 880, 48,120, 10,164 and 850, 60,074 in all.
func TestExportedSeedLeNetParameterCount(t *testing.T) {
	net := seedLeNet(t, SeedLeNet())
	m, err := net.Export(ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := inspect.Summarize(m, inspect.SummaryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var counts []int64
	for _, l := range s.Layers {
		if l.Params > 0 {
			counts = append(counts, l.Params)
		}
	}
	if fmt.Sprint(counts) != "[60 880 48120 10164 850]" || s.TotalParams != 60074 {
		t.Errorf("parameters per layer %v, total %d; want [60 880 48120 10164 850], 60074", counts, s.TotalParams)
	}
	if net.NumParams() != 60074 {
		t.Errorf("network has %d parameters, want 60074", net.NumParams())
	}
}

func TestExportOptionsErrors(t *testing.T) {
	net := seedLeNet(t, SeedLeNet())
	for _, opset := range []int{8, 22} {
		if _, err := net.Export(ExportOptions{Opset: opset}); err == nil || !strings.Contains(err.Error(), "want 9 to 21") {
			t.Errorf("opset %d: error %v, want one naming the range 9 to 21", opset, err)
		}
	}
}

// pythonWithOnnx finds a Python that imports onnx (Debian's python3-onnx is in /usr/bin/python3) and the
// highest opset and IR version its checker knows.
func pythonWithOnnx(t *testing.T) (python string, opsetMax, irMax int) {
	t.Helper()
	python = testenv.RequirePython(t, "apt-get install python3-onnx", "onnx", "onnx.defs")
	out, err := exec.Command(python, "-c", "import onnx, onnx.defs; print(onnx.defs.onnx_opset_version(), onnx.IR_VERSION)").Output()
	if err != nil {
		t.Fatalf("%s: asking onnx for its opset and IR versions: %v", python, err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		t.Fatalf("%s: onnx printed %q, want the opset and IR versions", python, out)
	}
	opsetMax, err1 := strconv.Atoi(f[0])
	irMax, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: onnx printed %q, want two integers", python, out)
	}
	return python, opsetMax, irMax
}

// TestExportPassesOnnxChecker runs python3-onnx's checker with full_check (which also runs ONNX's strict
// shape inference against the declared value_info) on the export at every opset that onnx knows.
func TestExportPassesOnnxChecker(t *testing.T) {
	python, opsetMax, irMax := pythonWithOnnx(t)
	net := seedLeNet(t, SeedLeNet())
	dir := t.TempDir()
	var files []string
	for opset := MinExportOpset; opset <= MaxExportOpset; opset++ {
		m, err := net.Export(ExportOptions{Opset: opset, Softmax: opset%2 == 0})
		if err != nil {
			t.Fatal(err)
		}
		if opset > opsetMax || m.Proto.GetIrVersion() > int64(irMax) {
			t.Logf("opset %d (IR %d): this onnx checks up to opset %d, IR %d; not checked", opset, m.Proto.GetIrVersion(), opsetMax, irMax)
			continue
		}
		p := filepath.Join(dir, fmt.Sprintf("lenet_opset%d.onnx", opset))
		if err := m.Save(p); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	script := `import sys, onnx
for p in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(p), full_check=True)
    print("ok", p)`
	cmd := exec.Command(python, append([]string{"-c", script}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("onnx checker: %v\n%s%s", err, out, stderr.String())
	}
	if n := strings.Count(string(out), "ok "); n != len(files) {
		t.Fatalf("checker passed %d of %d files:\n%s", n, len(files), out)
	}
	t.Logf("onnx checker (full_check) passed %d exports", len(files))
}
