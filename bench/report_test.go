package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/runtime"
)

// WriteProfile prints the steps of control-flow bodies indented under their node, per run of the model,
// nested bodies deeper, and leaves out body nodes that never ran.
func TestWriteProfileShowsBodies(t *testing.T) {
	ms := time.Millisecond
	p := &runtime.Profile{Runs: 2, Total: 10 * ms, Steps: []runtime.StepProfile{
		{Node: "embed", OpType: "Gather", Time: 2 * ms},
		{Node: "loop", OpType: "Loop", Time: 8 * ms, Bodies: []runtime.BodyProfile{{Attr: "body", Runs: 2000, Steps: []runtime.BodyStepProfile{
			{Node: "step", Domain: "onnxrun", OpType: "FusedGemm", Calls: 2000, Time: 4 * ms},
			{Node: "folded", OpType: "Shape"},
			{Node: "pick", OpType: "If", Calls: 2000, Time: 2 * ms, Bodies: []runtime.BodyProfile{
				{Attr: "else_branch", Runs: 1999, Steps: []runtime.BodyStepProfile{{Node: "neg", OpType: "Neg", Calls: 1999, Time: ms}}},
				{Attr: "then_branch", Runs: 1},
			}},
		}}}},
	}}
	var out strings.Builder
	WriteProfile(&out, p, 0)
	want := `inside control-flow bodies (per run of the model; calls add up every iteration):
#1 loop (Loop)  4.00 ms/run
  body: 1000 runs/run
    step (onnxrun.FusedGemm)  1000 calls/run  2.00 ms/run
    pick (If)  1000 calls/run  1.00 ms/run
      else_branch: 999.50 runs/run
        neg (Neg)  999.50 calls/run  0.500 ms/run
      then_branch: 0.50 runs/run
`
	if !strings.HasSuffix(out.String(), want) {
		t.Errorf("profile ends\n%s\nwant it to end\n%s", out.String(), want)
	}
	out.Reset()
	p.Steps = p.Steps[:1]
	WriteProfile(&out, p, 0)
	if strings.Contains(out.String(), "inside control-flow bodies") {
		t.Errorf("a plan without control flow gets a bodies section:\n%s", out.String())
	}
}

// WriteProfile adds a forks column (parallel sections per run) when some step of the run forked, and
// leaves it out of a one-thread profile.
func TestWriteProfileShowsForks(t *testing.T) {
	ms := time.Millisecond
	p := &runtime.Profile{Runs: 2, Total: 4 * ms, Steps: []runtime.StepProfile{
		{Node: "conv", OpType: "Conv", Time: 3 * ms, Forks: 6},
		{Node: "relu", OpType: "Relu", Time: ms},
	}}
	var out strings.Builder
	WriteProfile(&out, p, 0)
	lines := strings.Split(out.String(), "\n")
	var header, conv, relu string
	for _, l := range lines {
		switch f := strings.Fields(l); {
		case len(f) > 1 && f[0] == "#":
			header = l
		case len(f) > 1 && f[1] == "conv":
			conv = l
		case len(f) > 1 && f[1] == "relu":
			relu = l
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(header), "forks") || !strings.HasSuffix(strings.TrimSpace(conv), " 3") ||
		!strings.HasSuffix(strings.TrimSpace(relu), " 0") {
		t.Errorf("want a forks column with 3 for conv and 0 for relu:\n%s", out.String())
	}
	p.Steps[0].Forks = 0
	out.Reset()
	WriteProfile(&out, p, 0)
	if strings.Contains(out.String(), "forks") {
		t.Errorf("a profile where nothing forked gets a forks column:\n%s", out.String())
	}
}
