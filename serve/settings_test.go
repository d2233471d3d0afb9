package serve

import (
	"strings"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/ops"
)

func TestModelSettingsApplyOverridesOnlyWhatIsSet(t *testing.T) {
	s, err := parseModelSettings("lenet.json", []byte(`{"threads": 2, "max_batch_delay": "3ms", "queue_size": 7, "max_queue_delay": "15ms",
		"shapes": {"x": [1, 1, 28, 28]},
		"preprocess": {"width": 28, "height": 28, "channels": 1, "mean": [0.5], "std": [0.25], "labels": ["a", "b"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	base := Config{Sessions: 3, Threads: 1, MaxBatch: 4, InputShapes: map[string]ops.Shape{"y": {2}}}
	got := s.Apply(base)
	if got.Threads != 2 || got.Sessions != 3 || got.MaxBatch != 4 || got.QueueSize != 7 || got.MaxBatchDelay != 3*time.Millisecond ||
		got.MaxQueueDelay != 15*time.Millisecond {
		t.Errorf("Apply = threads %d sessions %d max batch %d queue %d delay %v queue delay %v; want 2 3 4 7 3ms 15ms",
			got.Threads, got.Sessions, got.MaxBatch, got.QueueSize, got.MaxBatchDelay, got.MaxQueueDelay)
	}
	if len(got.InputShapes) != 2 || got.InputShapes["x"].String() != (ops.Shape{1, 1, 28, 28}).String() || got.InputShapes["y"][0] != 2 {
		t.Errorf("pins = %v, want x [1 1 28 28] and y [2]", got.InputShapes)
	}
	if len(base.InputShapes) != 1 {
		t.Errorf("Apply changed the base config's pins: %v", base.InputShapes)
	}
	if p := s.Preprocess; p == nil || p.Width != 28 || len(p.Labels) != 2 {
		t.Errorf("preprocess = %+v", p)
	}
}

func TestModelSettingsRefusesMistakes(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"thread": 2}`, `unknown field "thread"`},
		{`{"threads": 0}`, "threads is 0"},
		{`{"max_batch_delay": 5}`, "duration"},
		{`{"max_batch_delay": "-1s"}`, "negative"},
		{`{"shapes": {"x": [1, 0]}}`, `input "x"`},
		{`{"preprocess": {"width": 28, "height": 28, "channels": 2}}`, "channels is 2"},
		{`{"preprocess": {"width": 28, "height": 28, "channels": 3, "mean": [1, 2]}}`, "mean has 2 values"},
		{`{"preprocess": {"width": 28, "height": 28, "channels": 1, "std": [0]}}`, "divides by zero"},
		{`{"preprocess": {"width": 28, "height": 28, "channels": 1, "layout": "CHW"}}`, `layout "CHW"`},
		{`{} {}`, "more than one"},
	} {
		_, err := parseModelSettings("m.json", []byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "m.json: ") {
			t.Errorf("%s: error %v, want one naming m.json and containing %q", tc.json, err, tc.want)
		}
	}
}
