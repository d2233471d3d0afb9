package quantize

import (
	"context"
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// Report compares a float model with its quantized copy on one dataset.
type Report struct {
	Examples int
	// MaxAbsDiff and MeanAbsDiff compare the first outputs element by element.
	MaxAbsDiff, MeanAbsDiff float64
	// Agreement is the fraction of examples whose top-1 class (argmax of the first output's last axis)
	// both models agree on.
	Agreement float64
	// HasLabels says whether FloatAccuracy and QuantizedAccuracy (top-1, 0 to 1) were measured.
	HasLabels                        bool
	FloatAccuracy, QuantizedAccuracy float64
}

func (r *Report) String() string {
	s := fmt.Sprintf("%d examples: output difference max %.4g mean %.4g; top-1 agreement %.2f%%",
		r.Examples, r.MaxAbsDiff, r.MeanAbsDiff, 100*r.Agreement)
	if r.HasLabels {
		s += fmt.Sprintf("; top-1 accuracy float %.2f%%, quantized %.2f%% (%+.2f points)",
			100*r.FloatAccuracy, 100*r.QuantizedAccuracy, 100*(r.QuantizedAccuracy-r.FloatAccuracy))
	}
	return s
}

// Compare runs floatModel and quantized over every input set of inputs and compares their first outputs.
// labels, when not nil, holds one class per example, in the order of the input sets' first dimension.
func Compare(floatModel, quantized *onnx.Model, inputs [][]*ops.Tensor, labels []int) (*Report, error) {
	run := func(m *onnx.Model, what string) ([][]float32, int, error) {
		plan, err := runtime.Compile(m, runtime.Options{})
		if err != nil {
			return nil, 0, fmt.Errorf("quantize: compile the %s model: %w", what, err)
		}
		sess := plan.NewSession()
		var rows [][]float32
		classes := 0
		for i, in := range inputs {
			outs, err := sess.Run(context.Background(), in)
			if err != nil {
				return nil, 0, fmt.Errorf("quantize: run the %s model on input set %d: %w", what, i, err)
			}
			y := outs[0]
			if y.DType() != ops.Float32 || y.Rank() < 1 {
				return nil, 0, &Error{Msg: fmt.Sprintf("the %s model's first output is %s %v; comparing needs float32 [N,...]", what, y.DType(), y.Shape())}
			}
			data := y.Float32s()
			n := y.Shape()[0]
			if n == 0 {
				continue
			}
			classes = len(data) / n
			for e := range n {
				rows = append(rows, append([]float32(nil), data[e*classes:(e+1)*classes]...))
			}
		}
		return rows, classes, nil
	}
	want, _, err := run(floatModel, "float")
	if err != nil {
		return nil, err
	}
	got, _, err := run(quantized, "quantized")
	if err != nil {
		return nil, err
	}
	if labels != nil && len(labels) != len(want) {
		return nil, &Error{Msg: fmt.Sprintf("%d labels for %d examples", len(labels), len(want))}
	}
	r := &Report{Examples: len(want), HasLabels: labels != nil}
	if r.Examples == 0 {
		return r, nil
	}
	sum, count := 0.0, 0
	agree, floatRight, quantRight := 0, 0, 0
	for e := range want {
		for j := range want[e] {
			d := math.Abs(float64(got[e][j] - want[e][j]))
			r.MaxAbsDiff = max(r.MaxAbsDiff, d)
			sum += d
			count++
		}
		fw, qw := argmax(want[e]), argmax(got[e])
		if fw == qw {
			agree++
		}
		if labels != nil {
			if fw == labels[e] {
				floatRight++
			}
			if qw == labels[e] {
				quantRight++
			}
		}
	}
	n := float64(r.Examples)
	r.MeanAbsDiff = sum / float64(max(count, 1))
	r.Agreement = float64(agree) / n
	r.FloatAccuracy, r.QuantizedAccuracy = float64(floatRight)/n, float64(quantRight)/n
	return r, nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
