package cnn

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops/opstest"
)

func TestRegistrationsFollowSpec(t *testing.T) {
	opstest.CheckRegistrationsFollowSpec(t, []string{
		"AveragePool", "CausalConvWithState", "Conv", "ConvInteger", "ConvTranspose", "Dropout", "GlobalAveragePool",
		"GlobalLpPool", "GlobalMaxPool", "LpPool", "MaxPool", "MaxUnpool",
	})
}
