package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// ortProfile is what ORT's profiler says about a number of runs (the first run left out).
type ortProfile struct {
	Runs    int
	PerRun  time.Duration // mean model_run time
	Kernels time.Duration // mean time per run inside kernels
	Ops     []opTime      // by op type, slowest first
}

// opTime is the time per run of all the nodes of one op type.
type opTime struct {
	Op     string
	Nodes  int
	PerRun time.Duration
}

// ortEvent is one entry of the Chrome-trace JSON array ORT writes: "Session" events (model_run, ...) and
// "Node" events (<node>_kernel_time, <node>_fence_before, ...), in microseconds.
type ortEvent struct {
	Cat  string `json:"cat"`
	Name string `json:"name"`
	Ts   int64  `json:"ts"`
	Dur  int64  `json:"dur"`
	Args struct {
		OpName string `json:"op_name"`
	} `json:"args"`
}

// parseORTProfile reads ORT's profile JSON. The first model_run, and the node events inside it, are left
// out: it is the run that allocates.
func parseORTProfile(r io.Reader) (*ortProfile, error) {
	var events []ortEvent
	if err := json.NewDecoder(r).Decode(&events); err != nil {
		return nil, fmt.Errorf("ORT profile: %w", err)
	}
	var runs []ortEvent
	for _, e := range events {
		if e.Cat == "Session" && e.Name == "model_run" {
			runs = append(runs, e)
		}
	}
	if len(runs) < 2 {
		return nil, fmt.Errorf("ORT profile: %d model_run events, want at least 2", len(runs))
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Ts < runs[j].Ts })
	cutoff := runs[0].Ts + runs[0].Dur
	runs = runs[1:]
	p := &ortProfile{Runs: len(runs)}
	var total int64
	for _, e := range runs {
		total += e.Dur
	}
	type acc struct {
		us    int64
		nodes map[string]bool
	}
	byOp := map[string]*acc{}
	var kernels int64
	for _, e := range events {
		if e.Cat != "Node" || !strings.HasSuffix(e.Name, "_kernel_time") || e.Ts < cutoff {
			continue
		}
		op := e.Args.OpName
		if op == "" {
			op = "?"
		}
		a := byOp[op]
		if a == nil {
			a = &acc{nodes: map[string]bool{}}
			byOp[op] = a
		}
		a.us += e.Dur
		a.nodes[strings.TrimSuffix(e.Name, "_kernel_time")] = true
		kernels += e.Dur
	}
	perRun := func(us int64) time.Duration {
		return time.Duration(us) * time.Microsecond / time.Duration(p.Runs)
	}
	p.PerRun, p.Kernels = perRun(total), perRun(kernels)
	for op, a := range byOp {
		p.Ops = append(p.Ops, opTime{Op: op, Nodes: len(a.nodes), PerRun: perRun(a.us)})
	}
	slices.SortFunc(p.Ops, func(a, b opTime) int {
		if a.PerRun != b.PerRun {
			return int(b.PerRun - a.PerRun)
		}
		return strings.Compare(a.Op, b.Op)
	})
	return p, nil
}

// category groups op types of either runtime into the kinds of work the report compares: ORT and onnxrun
// fuse and rename differently (ORT's FusedConv, its NCHWc-layout Conv and ReorderInput/Output; onnxrun's
// onnxrun.FusedConv), but a convolution is a convolution.
func category(op string) string {
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	switch op {
	case "Conv", "FusedConv", "ConvTranspose", "NhwcFusedConv", "NhwcConv", "QLinearConv", "ConvInteger":
		return "convolution"
	case "Gemm", "FusedGemm", "MatMul", "FusedMatMul", "MatMulInteger", "QLinearMatMul":
		return "matrix product"
	case "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool":
		return "pooling"
	case "Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "Add", "Sub", "Mul", "Div", "Sum", "BatchNormalization",
		"Softmax", "Gelu", "Erf", "HardSigmoid", "HardSwish", "Dropout":
		return "elementwise"
	case "Reshape", "Flatten", "Transpose", "Pad", "Concat", "Identity", "Squeeze", "Unsqueeze", "Slice",
		"Gather", "Split", "ReorderInput", "ReorderOutput", "Shape", "Cast":
		return "layout and copies"
	}
	return "other"
}

// categories is the order the report lists them in.
var categories = []string{"convolution", "matrix product", "pooling", "elementwise", "layout and copies", "other"}
