package main

import (
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/onnxrun/onnxrun/ops"
)

// printClasses reads a float output as class scores. A [K] or [1,K] output (K >= 2) gets its top classes
// with scores and softmax probabilities, or only probabilities when the values already are a
// distribution; an [N,K] output gets the argmax of each row.
func printClasses(w io.Writer, t *ops.Tensor, top int) { printLabeledClasses(w, t, top, nil) }

// printLabeledClasses is printClasses with the classes named by labels (by index; a class past the end
// of labels goes unnamed).
func printLabeledClasses(w io.Writer, t *ops.Tensor, top int, labels []string) {
	if top == 0 || !t.DType().IsFloat() {
		return
	}
	shape := t.Shape()
	switch {
	case len(shape) == 1 && shape[0] >= 2, len(shape) == 2 && shape[0] == 1 && shape[1] >= 2:
		printTopK(w, t.AsFloat64s(), top, labels)
	case len(shape) == 2 && shape[0] > 1 && shape[1] >= 2:
		fmt.Fprintf(w, "argmax of each row:\n%s\n", formatArray(argmaxRows(t.AsFloat64s(), shape[0], shape[1])))
	}
}

func printTopK(w io.Writer, scores []float64, top int, labels []string) {
	order := rankClasses(scores)
	n := min(top, len(scores))
	label := func(c int) string {
		if c < len(labels) {
			return "  " + labels[c]
		}
		return ""
	}
	labelHeader := ""
	if len(labels) > 0 {
		labelHeader = "  label"
	}
	if isDistribution(scores) {
		fmt.Fprintf(w, "top %d of %d classes (the values are probabilities):\n  class  probability%s\n", n, len(scores), labelHeader)
		for _, c := range order[:n] {
			fmt.Fprintf(w, "  %5d  %11s%s\n", c, formatProbability(scores[c]), label(c))
		}
		return
	}
	probs := softmax(scores)
	fmt.Fprintf(w, "top %d of %d classes:\n  class       score  softmax%s\n", n, len(scores), labelHeader)
	for _, c := range order[:n] {
		fmt.Fprintf(w, "  %5d  %10.5g  %7s%s\n", c, scores[c], formatProbability(probs[c]), label(c))
	}
}

// formatProbability shows 4 decimals, switching to scientific notation for the tiny probabilities of
// unlikely classes, which would otherwise all read 0.0000.
func formatProbability(p float64) string {
	if p != 0 && p < 5e-5 {
		return fmt.Sprintf("%.1e", p)
	}
	return fmt.Sprintf("%.4f", p)
}

// rankClasses returns class indices by descending score; ties keep the lower index first and NaNs go
// last.
func rankClasses(scores []float64) []int {
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := scores[order[a]], scores[order[b]]
		if math.IsNaN(y) {
			return !math.IsNaN(x)
		}
		return x > y
	})
	return order
}

// isDistribution reports whether scores look like probabilities already (a Softmax output): all in
// [0, 1] and summing to 1 within float32 rounding over many classes.
func isDistribution(scores []float64) bool {
	sum := 0.0
	for _, s := range scores {
		if !(s >= 0 && s <= 1) {
			return false
		}
		sum += s
	}
	return math.Abs(sum-1) <= 1e-3
}

// softmax computes exp(s - max) / sum, stable for large scores.
func softmax(scores []float64) []float64 {
	m := math.Inf(-1)
	for _, s := range scores {
		m = max(m, s)
	}
	out := make([]float64, len(scores))
	sum := 0.0
	for i, s := range scores {
		out[i] = math.Exp(s - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// argmaxRows returns, for each of the rows of an [rows, k] matrix, the index of its largest value
// (the first one on ties, NaNs ignored).
func argmaxRows(values []float64, rows, k int) *ops.Tensor {
	out := make([]int64, rows)
	for r := range rows {
		row := values[r*k : (r+1)*k]
		out[r] = int64(rankClasses(row)[0])
	}
	return ops.FromSlice(ops.Shape{rows}, out)
}
