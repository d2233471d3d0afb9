package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// The shipped LeNet declares input [N,1,28,28]: the batch fills N; a fixed first dimension other than the
// batch, or a symbolic one further in, is an error naming the input.
func TestDeclaredShapes(t *testing.T) {
	load := func() *onnx.Model {
		m, err := onnx.Load("../../models/lenet/lenet.onnx")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	got, err := declaredShapes(load(), 8)
	if err != nil || len(got) != 1 || !got[0].Equal(ops.Shape{8, 1, 28, 28}) {
		t.Fatalf("declaredShapes = %v, %v; want [[8 1 28 28]]", got, err)
	}

	fixed := load()
	fixed.Proto.GetGraph().GetInput()[0].GetType().GetTensorType().GetShape().GetDim()[0].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1}
	if got, err := declaredShapes(fixed, 1); err != nil || !got[0].Equal(ops.Shape{1, 1, 28, 28}) {
		t.Errorf("fixed batch 1 at batch 1: %v, %v", got, err)
	}
	if _, err := declaredShapes(fixed, 8); err == nil || !strings.Contains(err.Error(), `input "input" has a fixed batch of 1, not 8`) {
		t.Errorf("fixed batch 1 at batch 8: error %v", err)
	}

	symbolic := load()
	symbolic.Proto.GetGraph().GetInput()[0].GetType().GetTensorType().GetShape().GetDim()[2].Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "H"}
	if _, err := declaredShapes(symbolic, 1); err == nil || !strings.Contains(err.Error(), `input "input": dimension 2 is symbolic`) {
		t.Errorf("symbolic height: error %v", err)
	}
}

// The table's models: the reference first, then the CNN suite at batch 1 and 8 and further files, as
// -only picks them; missing files are notes, not errors.
func TestMemoryModels(t *testing.T) {
	cfg := &config{repo: "../..", shared: t.TempDir(), models: t.TempDir(), suites: map[string]bool{suiteCNN: true, suiteReal: true},
		memoryModels: []string{"../../models/lenet/lenet.onnx"}, only: regexp.MustCompile(`^(vgg|lenet)_b8$`)}
	models, skipped, err := memoryModels(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range models {
		keys = append(keys, m.key)
	}
	if strings.Join(keys, " ") != "lenet_ref lenet_b8" || !models[1].inputShapes[0].Equal(ops.Shape{8, 1, 28, 28}) {
		t.Errorf("models %q (shapes %v), want the reference and the shipped LeNet at batch 8", keys, models[len(models)-1].inputShapes)
	}
	notes := strings.Join(skipped, "\n")
	for _, want := range []string{"LeNet batch 8: ", "VGG CIFAR batch 8: ", "no -big-models folder"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	if strings.Contains(notes, "batch 1:") {
		t.Errorf("notes %q name a batch -only left out", notes)
	}
}

// The whole -memory-table mode on the shipped LeNet given as a further model, one process per runtime:
// the table has its rows with every column filled, and the children report a load peak and a steady
// state within their process's peak.
func TestMemoryTableLeNet(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	out := filepath.Join(t.TempDir(), "memory.md")
	cfg := &config{ortLib: lib, repo: "../..", coldRuns: 1, suites: map[string]bool{}, memoryTable: true, out: out,
		command: "make bench-memory", memoryModels: []string{"../../models/lenet/lenet.onnx"}}
	if err := memoryTableRun(cfg); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	table := string(raw)
	for _, want := range []string{"Made by `make bench-memory`", "Reference peaks (shipped LeNet): onnxrun ", "| lenet batch 1 | ", "| lenet batch 8 | "} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	// The ORT cells of LeNet above itself can be a few KiB either way: only onnxrun's cells must be filled
	// (model memory, steady state, load peak above it, its share of the file, the target).
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "| lenet batch") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 10 {
			t.Fatalf("%d cells in %s", len(cells), line)
		}
		for _, i := range []int{2, 6, 7, 8, 9} {
			if cells[i] == "–" {
				t.Errorf("cell %d empty in %s", i, line)
			}
		}
	}
	if strings.Contains(table, "Not measured") {
		t.Errorf("a failure:\n%s", table)
	}

	m, err := fileColdModel("lenet", "LeNet", "../../models/lenet/lenet.onnx", []ops.Shape{{1, 1, 28, 28}})
	if err != nil {
		t.Fatal(err)
	}
	row, err := measureCold(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*coldSide{&row.onnxrun, &row.ort} {
		if !s.ok() {
			t.Fatal(s.err)
		}
		r := s.reports[0]
		if r.LoadPeak <= 0 || r.Steady <= 0 || r.LoadPeak > r.Peak || r.Steady > r.Peak {
			t.Errorf("%s: load peak %d, steady %d, peak %d", r.Runtime, r.LoadPeak, r.Steady, r.Peak)
		}
	}
}

// -memory-table names its own command in the table and needs processes to make it from.
func TestMemoryTableFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-ort-lib", "x.so", "-memory-table", "-memory-model", "a.onnx", "-memory-model", "b.onnx"})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.memoryTable || cfg.command != "make bench-memory" || strings.Join(cfg.memoryModels, " ") != "a.onnx b.onnx" {
		t.Errorf("config %+v", cfg)
	}
	if _, err := parseFlags([]string{"-ort-lib", "x.so", "-memory-table", "-cold-runs", "0"}); err == nil || !strings.Contains(err.Error(), "-memory-table needs -cold-runs of 1 or more") {
		t.Errorf("-cold-runs 0: error %v", err)
	}
}
