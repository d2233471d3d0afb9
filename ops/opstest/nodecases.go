package opstest

import (
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// NodeCase is one row of a table of prepared nodes: a Node, the outputs it must give (nil entries are not
// checked), or the error substring it must fail with. Unlike Case it takes its own tolerance, for kernels
// (normalisations, 16-bit floats) whose references are checked tighter or looser than ONNX's default.
type NodeCase struct {
	Name    string
	Node    Node
	Want    []*ops.Tensor
	WantErr string
	RTol    float64 // 0 means 1e-5
	ATol    float64 // 0 means 1e-6
}

// RunNodeCases runs each case as a subtest.
func RunNodeCases(t *testing.T, cases []NodeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Node.NumOutputs == 0 && len(c.Want) > 1 {
				c.Node.NumOutputs = len(c.Want)
			}
			got, err := Run(c.Node)
			if c.WantErr != "" {
				if err == nil {
					t.Fatalf("no error, want one containing %q", c.WantErr)
				}
				if !strings.Contains(err.Error(), c.WantErr) {
					t.Fatalf("error %q does not contain %q", err, c.WantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rtol, atol := c.RTol, c.ATol
			if rtol == 0 {
				rtol = 1e-5
			}
			if atol == 0 {
				atol = 1e-6
			}
			for i, w := range c.Want {
				if w == nil {
					continue
				}
				if err := Close(got[i], w, rtol, atol); err != nil {
					t.Errorf("output %d: %v\ngot  %v", i, err, got[i].AsFloat64s())
				}
			}
		})
	}
}

// CheckRunAllocatesNothing holds each node's kernel to the contract that Run does no heap allocation. Under
// -race it skips: sync.Pool drops items at random there, so pooled buffers get reallocated and the counts
// mean nothing.
func CheckRunAllocatesNothing(t *testing.T, nodes map[string]Node) {
	t.Helper()
	if RaceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops items)")
	}
	for name, n := range nodes {
		t.Run(name, func(t *testing.T) {
			p := MustPrepare(t, n)
			allocs := testing.AllocsPerRun(5, func() {
				if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("Run allocates %v times per call", allocs)
			}
		})
	}
}
