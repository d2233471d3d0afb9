package models

import "math"

// softmaxCrossEntropy computes, for n rows of logits over `classes` classes, the summed cross-entropy
// -log softmax(logits)[label] and the number of rows whose largest logit is the label's, and writes
// dL/dlogits = (softmax - onehot(label)) * scale into dlogits (scale = 1/batch gives the batch mean's
// gradient). Sums run in float64 with the row maximum subtracted, so large logits do not overflow.
func softmaxCrossEntropy(logits []float32, labels []uint8, classes int, scale float32, dlogits []float32) (loss float64, correct int) {
	for i, label := range labels {
		row := logits[i*classes : (i+1)*classes]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == int(label) {
			correct++
		}
		top := float64(row[best])
		sum := 0.0
		for _, v := range row {
			sum += math.Exp(float64(v) - top)
		}
		logSum := math.Log(sum) + top
		loss += logSum - float64(row[label])
		if dlogits == nil {
			continue
		}
		d := dlogits[i*classes : (i+1)*classes]
		for j, v := range row {
			p := math.Exp(float64(v) - logSum)
			if j == int(label) {
				p--
			}
			d[j] = float32(p) * scale
		}
	}
	return loss, correct
}

// argmax returns the index of the largest value (the first one on ties).
func argmax(row []float32) int {
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}
