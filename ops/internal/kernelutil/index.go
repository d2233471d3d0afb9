package kernelutil

import "github.com/onnxrun/onnxrun/ops"

// DimsProduct is the product of shape[from:to].
func DimsProduct(shape ops.Shape, from, to int) int {
	n := 1
	for _, d := range shape[from:to] {
		n *= d
	}
	return n
}

// IntsToInt converts an attribute's []int64 to []int.
func IntsToInt(v []int64) []int {
	if v == nil {
		return nil
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// NextIndex advances a row-major multi-index over dims, wrapping to all zeros after the last one.
func NextIndex(idx, dims []int) {
	for a := len(idx) - 1; a >= 0; a-- {
		idx[a]++
		if idx[a] < dims[a] {
			return
		}
		idx[a] = 0
	}
}
