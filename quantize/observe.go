package quantize

import (
	"context"
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// tensorStats is what calibration learns about one float tensor.
type tensorStats struct {
	min, max float64
	hist     *Histogram // for the histogram methods, filled by the second pass
}

// calibrate runs the float model over every input set of data with the named tensors observed (graph
// inputs among them included) and returns their ranges as method chooses them. Tensors that are never
// observed as float32 (shapes, indexes) are left out of the result.
func calibrate(m *onnx.Model, data [][]*ops.Tensor, wanted map[string]bool, method Method, percentile float64) (map[string][2]float64, error) {
	if len(data) == 0 {
		return nil, &Error{Msg: "static quantization needs calibration data: no input sets given"}
	}
	// NoOptimize keeps every node output of the file under its own name (runtime.Session.RunWithObserver).
	plan, err := runtime.Compile(m, runtime.Options{NoOptimize: true})
	if err != nil {
		return nil, fmt.Errorf("quantize: compile the float model for calibration: %w", err)
	}
	var inputNames []string
	for _, in := range plan.Inputs() {
		inputNames = append(inputNames, in.Name)
	}
	stats := map[string]*tensorStats{}
	pass := func(see func(name string, values []float32)) error {
		sess := plan.NewSession()
		for i, inputs := range data {
			for j, t := range inputs {
				if j < len(inputNames) && wanted[inputNames[j]] && t.DType() == ops.Float32 {
					see(inputNames[j], t.Float32s())
				}
			}
			_, err := sess.RunWithObserver(context.Background(), inputs, func(name string, t *ops.Tensor) {
				if wanted[name] && t.DType() == ops.Float32 {
					see(name, t.Float32s())
				}
			})
			if err != nil {
				return fmt.Errorf("quantize: calibration input set %d: %w", i, err)
			}
		}
		return nil
	}
	err = pass(func(name string, values []float32) {
		s := stats[name]
		if s == nil {
			s = &tensorStats{min: math.Inf(1), max: math.Inf(-1)}
			stats[name] = s
		}
		for _, v := range values {
			x := float64(v)
			if x < s.min {
				s.min = x
			}
			if x > s.max {
				s.max = x
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if method.needsHistogram() {
		for _, s := range stats {
			if method == Entropy {
				s.hist = NewHistogram(0, max(math.Abs(s.min), math.Abs(s.max)), HistogramBins)
			} else {
				s.hist = NewHistogram(s.min, s.max, HistogramBins)
			}
		}
		if err := pass(func(name string, values []float32) { stats[name].hist.Add(values, method == Entropy) }); err != nil {
			return nil, err
		}
	}
	ranges := map[string][2]float64{}
	for name, s := range stats {
		lo, hi := s.min, s.max
		switch method {
		case Percentile:
			lo, hi = PercentileRange(s.hist, percentile)
		case Entropy:
			// uint8 has 256 levels: 128 on each side of a signed tensor's zero, all 256 above a
			// non-negative one's (ReLU outputs, images), which the comparison should be against.
			levels := QuantizedBins
			if s.min >= 0 {
				levels = 2 * QuantizedBins
			}
			t := EntropyThreshold(s.hist, levels)
			lo, hi = max(lo, -t), min(hi, t)
		}
		ranges[name] = [2]float64{lo, hi}
	}
	return ranges, nil
}
