package cnn

import (
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// opCase is one row of an op test table: a node, the outputs it must give (nil entries are not checked), or
// the error substring it must fail with.
type opCase struct {
	name    string
	node    opstest.Node
	want    []*ops.Tensor
	wantErr string
	rtol    float64 // 0 means 1e-5
	atol    float64 // 0 means 1e-6
}

func runCases(t *testing.T, cases []opCase) {
	t.Helper()
	rows := make([]opstest.NodeCase, len(cases))
	for i, c := range cases {
		rows[i] = opstest.NodeCase{Name: c.name, Node: c.node, Want: c.want, WantErr: c.wantErr, RTol: c.rtol, ATol: c.atol}
	}
	opstest.RunNodeCases(t, rows)
}

// The shorthands of opstest under the names this package's tests used before ops/nn was split.
var (
	f32     = opstest.F32
	i64     = opstest.I64
	f64     = opstest.F64
	ints    = opstest.Ints
	randF32 = opstest.RandF32
	toF64   = opstest.ToF64
	toF32   = opstest.ToF32
	toHalf  = opstest.ToHalf
	toBF16  = opstest.ToBF16
	mustRun = opstest.MustRun
	node    = opstest.NewNode
	closeTo = opstest.CloseTo
	fillNaN = opstest.FillNaN
)

const raceEnabled = opstest.RaceEnabled

// maxAbsDiff is the largest |a-b| over two same-sized tensors.
func maxAbsDiff(a, b *ops.Tensor) float64 {
	x, y := a.AsFloat64s(), b.AsFloat64s()
	worst := 0.0
	for i := range x {
		worst = math.Max(worst, math.Abs(x[i]-y[i]))
	}
	return worst
}
