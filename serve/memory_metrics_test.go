package serve

import (
	"fmt"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// /metrics gives each model's weights, and its sessions' arena and scratch as they grow: nothing before
// a request, one session's plan at the shapes it ran after one, the sum of both after each session ran.
func TestModelMemoryMetrics(t *testing.T) {
	cfg := Config{Sessions: 2}
	m := newModel(t, "linear", linearGraph(), cfg)
	ts := startServer(t, cfg, m)
	expect := func(arena, scratch int64, allocated int) {
		t.Helper()
		metrics := ts.scrape(t)
		for _, line := range []string{
			`onnxrun_model_weight_bytes{model="linear"} 60`, // W[4,3] and b[3], float32
			fmt.Sprintf(`onnxrun_model_session_arena_bytes{model="linear"} %d`, arena),
			fmt.Sprintf(`onnxrun_model_session_scratch_bytes{model="linear"} %d`, scratch),
			`onnxrun_model_sessions{model="linear",state="pool"} 2`,
			fmt.Sprintf(`onnxrun_model_sessions{model="linear",state="allocated"} %d`, allocated),
		} {
			if !strings.Contains(metrics, line+"\n") {
				t.Errorf("metrics lack %q:\n%s", line, metrics)
			}
		}
	}
	expect(0, 0, 0)

	if err := checkLinear(ts, 3, 1); err != nil {
		t.Fatal(err)
	}
	prof, err := m.plan.NewProfile(ops.Shape{3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if prof.ArenaBytes <= 0 {
		t.Fatalf("the plan at [3,4] has an arena of %d bytes", prof.ArenaBytes)
	}
	expect(prof.ArenaBytes, prof.ScratchBytes, 1)

	// Both sessions at once, each at its own shape: the gauges add them up.
	ps1, err := m.pool.acquire(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	ps2, err := m.pool.acquire(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	var sum, sumScratch int64
	for i, ps := range []*pooledSession{ps1, ps2} {
		shape := ops.Shape{5 + 3*i, 4}
		if _, err := ps.sess.Run(t.Context(), []*ops.Tensor{ops.New(ops.Float32, shape)}); err != nil {
			t.Fatal(err)
		}
		p, err := m.plan.NewProfile(shape)
		if err != nil {
			t.Fatal(err)
		}
		sum, sumScratch = sum+p.ArenaBytes, sumScratch+p.ScratchBytes
	}
	m.pool.release(ps1, "a")
	m.pool.release(ps2, "b")
	expect(sum, sumScratch, 2)
}
