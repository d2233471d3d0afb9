package norm

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops/opstest"
)

func TestRegistrationsFollowSpec(t *testing.T) {
	opstest.CheckRegistrationsFollowSpec(t, []string{
		"BatchNormalization", "GroupNormalization", "InstanceNormalization", "LRN", "LayerNormalization",
		"LpNormalization", "MeanVarianceNormalization", "RMSNormalization",
	})
}
