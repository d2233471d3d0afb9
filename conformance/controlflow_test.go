package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

func detections() []Detection {
	return []Detection{
		{Box: [4]float64{10, 20, 110, 220}, Score: 0.91, Label: 3},
		{Box: [4]float64{15, 25, 60, 90}, Score: 0.75, Label: 1},
		{Box: [4]float64{200, 10, 300, 80}, Score: 0.75, Label: 7},
		{Box: [4]float64{0, 0, 30, 30}, Score: 0.52, Label: 3},
	}
}

func TestCompareDetections(t *testing.T) {
	const threshold = 0.5
	tol := ModelTolerance
	reordered := detections()
	reordered[0], reordered[3] = reordered[3], reordered[0]
	reordered[1], reordered[2] = reordered[2], reordered[1]

	moved := detections()
	moved[2].Box[1] += 1

	relabelled := detections()
	relabelled[1].Label = 2

	rescored := detections()
	rescored[0].Score = 0.90

	rounded := detections()
	rounded[0].Box[2] += 1e-3 * tol.RTol // far within 1e-4 + 1e-4*110

	nearThreshold := append(detections(), Detection{Box: [4]float64{1, 2, 3, 4}, Score: threshold + ScoreMargin/2, Label: 5})

	clearOfIt := append(detections(), Detection{Box: [4]float64{1, 2, 3, 4}, Score: threshold + 3*ScoreMargin, Label: 5})

	for _, tc := range []struct {
		name    string
		got     []Detection
		wantErr string // "" to pass
	}{
		{"same", detections(), ""},
		{"reordered", reordered, ""},
		{"within tolerance", rounded, ""},
		{"an extra box at the threshold", nearThreshold, ""},
		{"moved box", moved, "label 7 score 0.75 box [200 10 300 80] has no match"},
		{"changed label", relabelled, "label 1 score 0.75 box [15 25 60 90] has no match"},
		{"changed score", rescored, "label 3 score 0.91"},
		{"an extra box clear of the threshold", clearOfIt, "5 with a score more than"},
		{"a box missing", detections()[1:], "3 with a score more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CompareDetections(tc.got, detections(), threshold, tol, tol)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got %v, want a pass", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("passed, want an error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestDetectionsFromChecksShapes(t *testing.T) {
	boxes := ops.FromSlice(ops.Shape{2, 4}, []float32{0, 0, 1, 1, 2, 2, 3, 3})
	scores := ops.FromSlice(ops.Shape{2}, []float32{0.9, 0.8})
	labels := ops.FromSlice(ops.Shape{2}, []int64{1, 4})
	ds, err := DetectionsFrom(boxes, scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	if ds[1].Label != 4 || ds[1].Box != [4]float64{2, 2, 3, 3} || ds[1].Score != float64(float32(0.8)) {
		t.Fatalf("second detection %v", ds[1])
	}
	if _, err := DetectionsFrom(boxes, ops.FromSlice(ops.Shape{3}, []float32{1, 2, 3}), labels); err == nil {
		t.Fatal("3 scores for 2 boxes: no error")
	}
	if _, err := DetectionsFrom(boxes, scores, scores); err == nil {
		t.Fatal("float labels: no error")
	}
}

// writeSpec writes dir's controlflow.json.
func writeSpec(t *testing.T, dir, json string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, SpecFile), []byte(json), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeRunningSum writes dir/model.onnx: y = x + s, s_out = y, so that s_out fed back as s sums x over
// the chunks.
func writeRunningSum(t *testing.T, dir string) {
	t.Helper()
	g := exporter.NewGraph("running_sum")
	x := g.Input("x", onnxpb.TensorProto_FLOAT, 2)
	s := g.Input("s", onnxpb.TensorProto_FLOAT, 2)
	g.NodeNamed("add", "Add", "", []string{x, s}, []string{"y"}, nil)
	g.NodeNamed("state", "Identity", "", []string{"y"}, []string{"s_out"}, nil)
	g.Output("y", onnxpb.TensorProto_FLOAT, 2)
	g.Output("s_out", onnxpb.TensorProto_FLOAT, 2)
	saveGraph(t, dir, g, 14)
}

// TestCarriedState checks that a spec's carry feeds the engine's own state forward within a sequence of
// chunks, and the files' state at the start of each sequence.
func TestCarriedState(t *testing.T) {
	// Two sequences of two chunks; each chunk adds x = 1. The state files of the second chunks hold 5, a
	// state the model never reaches: only an engine fed its own state gives the references below.
	write := func(t *testing.T, dir string, outputs [][]float32) {
		writeRunningSum(t, dir)
		states := [][]float32{{0, 0}, {5, 5}, {10, 10}, {5, 5}}
		for n, out := range outputs {
			set := filepath.Join(dir, "test_data_set_"+string(rune('0'+n)))
			writeTensors(t, set, "input", vec(1, 1), vec(states[n]...))
			writeTensors(t, set, "output", vec(out...), vec(out...))
		}
		writeSpec(t, dir, `{"carry": [["s_out", "s"]], "chunks": 2}`)
	}
	dir := filepath.Join(t.TempDir(), "carried")
	write(t, dir, [][]float32{{1, 1}, {2, 2}, {11, 11}, {12, 12}})
	if res := RunCase(dir, DefaultTolerance); res.Status != Pass || res.DataSets != 4 {
		t.Fatalf("carried state: %s after %d data sets: %s", res.Status, res.DataSets, res.Reason)
	}

	// The references the files' own states would give: carrying must make them fail.
	dir = filepath.Join(t.TempDir(), "files_state")
	write(t, dir, [][]float32{{1, 1}, {6, 6}, {11, 11}, {6, 6}})
	res := RunCase(dir, DefaultTolerance)
	if res.Status != Fail || !strings.Contains(res.Reason, "test_data_set_1") {
		t.Fatalf("state from the files instead of the engine: %s %s, want a failure in test_data_set_1", res.Status, res.Reason)
	}

	writeSpec(t, dir, `{"carry": [["s_out", "state"]], "chunks": 2}`)
	if res := RunCase(dir, DefaultTolerance); res.Status != Error || !strings.Contains(res.Reason, `no input "state"`) {
		t.Fatalf("carry into a missing input: %s %s", res.Status, res.Reason)
	}
}

// TestDetectionSpec checks that outputs a spec names as detections are compared as sets (a reordered
// reference passes, a moved box fails) and that the other outputs are still compared element by element.
func TestDetectionSpec(t *testing.T) {
	write := func(t *testing.T, dir string, wantBoxes []float32, wantExtra float32) {
		g := exporter.NewGraph("detections")
		b := g.Input("b", onnxpb.TensorProto_FLOAT, 3, 4)
		s := g.Input("s", onnxpb.TensorProto_FLOAT, 3)
		l := g.Input("l", onnxpb.TensorProto_INT64, 3)
		g.NodeNamed("boxes", "Identity", "", []string{b}, []string{"boxes"}, nil)
		g.NodeNamed("scores", "Identity", "", []string{s}, []string{"scores"}, nil)
		g.NodeNamed("labels", "Identity", "", []string{l}, []string{"labels"}, nil)
		g.NodeNamed("pre", "ReduceMax", "", []string{s}, []string{"pre_suppression"}, exporter.Attrs{"keepdims": 0})
		g.Output("boxes", onnxpb.TensorProto_FLOAT, 3, 4)
		g.Output("scores", onnxpb.TensorProto_FLOAT, 3)
		g.Output("labels", onnxpb.TensorProto_INT64, 3)
		g.Output("pre_suppression", onnxpb.TensorProto_FLOAT)
		saveGraph(t, dir, g, 13)
		set := filepath.Join(dir, "test_data_set_0")
		writeTensors(t, set, "input",
			ops.FromSlice(ops.Shape{3, 4}, []float32{0, 0, 10, 10, 5, 5, 20, 20, 1, 2, 3, 4}),
			vec(0.9, 0.8, 0.3), ops.FromSlice(ops.Shape{3}, []int64{1, 2, 3}))
		// The reference in another order: 2nd, 3rd, 1st.
		writeTensors(t, set, "output",
			ops.FromSlice(ops.Shape{3, 4}, wantBoxes), vec(0.8, 0.3, 0.9), ops.FromSlice(ops.Shape{3}, []int64{2, 3, 1}),
			ops.FromSlice(ops.Shape{}, []float32{wantExtra}))
		writeSpec(t, dir, `{"detection": {"boxes": 0, "scores": 1, "labels": 2, "score_threshold": 0.2}}`)
	}
	reordered := []float32{5, 5, 20, 20, 1, 2, 3, 4, 0, 0, 10, 10}
	dir := filepath.Join(t.TempDir(), "reordered")
	write(t, dir, reordered, 0.9)
	if res := RunCase(dir, DefaultTolerance); res.Status != Pass {
		t.Fatalf("reordered detections: %s %s", res.Status, res.Reason)
	}

	moved := append([]float32(nil), reordered...)
	moved[4] += 1
	dir = filepath.Join(t.TempDir(), "moved")
	write(t, dir, moved, 0.9)
	if res := RunCase(dir, DefaultTolerance); res.Status != Fail || !strings.Contains(res.Reason, "no match") {
		t.Fatalf("a moved box: %s %s, want a failure naming the box", res.Status, res.Reason)
	}

	dir = filepath.Join(t.TempDir(), "pre_suppression")
	write(t, dir, reordered, 0.95)
	if res := RunCase(dir, DefaultTolerance); res.Status != Fail || !strings.Contains(res.Reason, "pre_suppression") {
		t.Fatalf("a tensor before suppression off: %s %s, want a failure naming it", res.Status, res.Reason)
	}
}

// TestSuppressionInputs checks that the tensors a spec names as suppression inputs are compared row by
// row, each row within tolerance, a row allowed at another position only where the reference's scores
// there are within tolerance of its own; and that output_tolerance applies to the outputs it names.
func TestSuppressionInputs(t *testing.T) {
	boxes := []float32{0, 0, 10, 10, 5, 5, 20, 20, 0.2, 2, 3, 4, 7, 7, 9, 9}
	scores := []float32{0.9, 0.8000001, 0.8, 0.3}
	labels := []int64{1, 2, 3, 4}
	write := func(t *testing.T, name string, order []int, edit func(b []float32, l []int64), spec string) string {
		dir := filepath.Join(t.TempDir(), name)
		g := exporter.NewGraph("candidates")
		b := g.Input("b", onnxpb.TensorProto_FLOAT, 4, 4)
		s := g.Input("s", onnxpb.TensorProto_FLOAT, 4)
		l := g.Input("l", onnxpb.TensorProto_INT64, 4)
		g.NodeNamed("boxes", "Identity", "", []string{b}, []string{"cand_boxes"}, nil)
		g.NodeNamed("scores", "Identity", "", []string{s}, []string{"cand_scores"}, nil)
		g.NodeNamed("labels", "Identity", "", []string{l}, []string{"cand_labels"}, nil)
		g.Output("cand_boxes", onnxpb.TensorProto_FLOAT, 4, 4)
		g.Output("cand_scores", onnxpb.TensorProto_FLOAT, 4)
		g.Output("cand_labels", onnxpb.TensorProto_INT64, 4)
		saveGraph(t, dir, g, 13)
		var wb, ws []float32
		var wl []int64
		for _, r := range order {
			wb = append(wb, boxes[4*r:4*r+4]...)
			ws = append(ws, scores[r])
			wl = append(wl, labels[r])
		}
		if edit != nil {
			edit(wb, wl)
		}
		set := filepath.Join(dir, "test_data_set_0")
		writeTensors(t, set, "input", ops.FromSlice(ops.Shape{4, 4}, boxes), vec(scores...), ops.FromSlice(ops.Shape{4}, labels))
		writeTensors(t, set, "output", ops.FromSlice(ops.Shape{4, 4}, wb), vec(ws...), ops.FromSlice(ops.Shape{4}, wl))
		writeSpec(t, dir, spec)
		return dir
	}
	const plain = `{"suppression_inputs": ["cand_boxes", "cand_labels", "cand_scores"]}`
	const boxTol = `{"suppression_inputs": ["cand_boxes", "cand_labels", "cand_scores"],
		"output_tolerance": {"cand_boxes": {"rtol": 1e-3, "atol": 1e-2}}}`
	nudge := func(b []float32, _ []int64) { b[8] += 0.005 } // row 2's x1, 0.2: 25 times rtol 1e-3
	relabel := func(_ []float32, l []int64) { l[3] = 5 }
	for _, tc := range []struct {
		name    string
		order   []int
		edit    func([]float32, []int64)
		spec    string
		wantErr string // "" to pass
	}{
		{"same", []int{0, 1, 2, 3}, nil, plain, ""},
		{"near-equal scores swapped", []int{0, 2, 1, 3}, nil, plain, ""},
		{"distant scores swapped", []int{3, 1, 2, 0}, nil, plain, "candidate 0 (cand_boxes [7 7 9 9]"},
		{"a corner off", []int{0, 1, 2, 3}, nudge, plain, "candidate 2"},
		{"a corner within its output's tolerance", []int{0, 1, 2, 3}, nudge, boxTol, ""},
		{"a label off", []int{0, 1, 2, 3}, relabel, boxTol, "candidate 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := RunCase(write(t, "case", tc.order, tc.edit, tc.spec), DefaultTolerance)
			switch {
			case tc.wantErr == "" && res.Status != Pass:
				t.Fatalf("got %s %s, want a pass", res.Status, res.Reason)
			case tc.wantErr != "" && (res.Status != Fail || !strings.Contains(res.Reason, tc.wantErr)):
				t.Fatalf("got %s %s, want a failure containing %q", res.Status, res.Reason, tc.wantErr)
			}
		})
	}
}

// TestDetectionBoxTolerance checks that the detections' corners are held to the box tolerance and their
// scores to the score tolerance.
func TestDetectionBoxTolerance(t *testing.T) {
	strict, pixels := DefaultTolerance, Tolerance{RTol: 1e-3, ATol: 1e-2}
	got := detections()
	got[3].Box[0] += 0.005 // a corner at 0
	if err := CompareDetections(got, detections(), 0.5, strict, strict); err == nil {
		t.Fatal("a corner 0.005 off passed atol 1e-7")
	}
	if err := CompareDetections(got, detections(), 0.5, strict, pixels); err != nil {
		t.Fatalf("a corner 0.005 off within atol 1e-2: %v", err)
	}
	got = detections()
	got[3].Score += 0.005
	if err := CompareDetections(got, detections(), 0.5, strict, pixels); err == nil {
		t.Fatal("a score 0.005 off passed: the box tolerance was applied to it")
	}
}

// TestSpecLevels checks that a spec's levels let an integer output differ by that many units and no more,
// and that an output the spec does not name stays exact.
func TestSpecLevels(t *testing.T) {
	write := func(t *testing.T, name string, want []uint8, spec string) string {
		dir := filepath.Join(t.TempDir(), name)
		g := exporter.NewGraph("requantized")
		x := g.Input("x", onnxpb.TensorProto_UINT8, 3)
		g.NodeNamed("y", "Identity", "", []string{x}, []string{"y_quantized"}, nil)
		g.NodeNamed("z", "Identity", "", []string{x}, []string{"z_quantized"}, nil)
		g.Output("y_quantized", onnxpb.TensorProto_UINT8, 3)
		g.Output("z_quantized", onnxpb.TensorProto_UINT8, 3)
		saveGraph(t, dir, g, 13)
		set := filepath.Join(dir, "test_data_set_0")
		in := ops.FromSlice(ops.Shape{3}, []uint8{0, 128, 255})
		writeTensors(t, set, "input", in)
		writeTensors(t, set, "output", ops.FromSlice(ops.Shape{3}, want), in)
		writeSpec(t, dir, spec)
		return dir
	}
	const oneLevel = `{"output_tolerance": {"y_quantized": {"rtol": 0, "atol": 0, "levels": 1}}}`
	for _, tc := range []struct {
		name    string
		want    []uint8
		spec    string
		wantErr string // "" to pass
	}{
		{"one level apart, levels 1", []uint8{1, 127, 255}, oneLevel, ""},
		{"two levels apart, levels 1", []uint8{0, 130, 255}, oneLevel, "y_quantized"},
		{"one level apart, no levels", []uint8{1, 128, 255}, `{}`, "y_quantized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := RunCase(write(t, "case", tc.want, tc.spec), DefaultTolerance)
			switch {
			case tc.wantErr == "" && res.Status != Pass:
				t.Fatalf("got %s %s, want a pass", res.Status, res.Reason)
			case tc.wantErr != "" && (res.Status != Fail || !strings.Contains(res.Reason, tc.wantErr)):
				t.Fatalf("got %s %s, want a failure containing %q", res.Status, res.Reason, tc.wantErr)
			}
		})
	}
}
