package models

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// LeNetConfig is the seed's LeNet with the choices a user varies. SeedLeNet gives the seed's values.
type LeNetConfig struct {
	Input      ops.Shape  // [channels height width]; [1 28 28] for MNIST
	Filters    [2]int     // filters of the two convolutions (6, 16)
	Kernel     int        // square kernel size of both convolutions (3)
	Padding    Padding    // Valid (the seed) or Same
	Pool       PoolKind   // AveragePool (the seed) or MaxPool, 2x2
	Activation Activation // of the convolutions and the hidden dense layers (ReLU)
	Hidden     [2]int     // units of the two hidden dense layers (120, 84)
	Dropout    float64    // rate of a Dropout after each hidden dense layer; 0 adds none
	Classes    int        // outputs of the last dense layer, which has no activation (10)
}

// SeedLeNet is the network of the seed lecture's Keras example: Conv 6@3x3 relu, AveragePooling 2,
// Conv 16@3x3 relu, AveragePooling 2, Flatten, Dense 120 relu, Dense 84 relu, Dense 10: 60,074 parameters
// (60, 880, 48,120, 10,164 and 850). The lecture's last Dense has a relu too; here it gives logits, which
// the softmax cross-entropy needs to train well.
func SeedLeNet() LeNetConfig {
	return LeNetConfig{Input: ops.Shape{1, 28, 28}, Filters: [2]int{6, 16}, Kernel: 3, Pool: AveragePool,
		Activation: ReLU, Hidden: [2]int{120, 84}, Classes: 10}
}

// NewLeNet builds the network that cfg describes, with zero parameters (call Init).
func NewLeNet(cfg LeNetConfig) (*Network, error) {
	if len(cfg.Input) != 3 {
		return nil, fmt.Errorf("models: LeNet input %v, want [channels height width]", cfg.Input)
	}
	layers := []Layer{
		&Conv2D{Filters: cfg.Filters[0], Kernel: cfg.Kernel, Padding: cfg.Padding, Activation: cfg.Activation},
		&Pool2D{Kind: cfg.Pool, Size: 2},
		&Conv2D{Filters: cfg.Filters[1], Kernel: cfg.Kernel, Padding: cfg.Padding, Activation: cfg.Activation},
		&Pool2D{Kind: cfg.Pool, Size: 2},
		&Flatten{},
	}
	for _, units := range cfg.Hidden {
		layers = append(layers, &Dense{Units: units, Activation: cfg.Activation})
		if cfg.Dropout > 0 {
			layers = append(layers, &Dropout{Rate: cfg.Dropout})
		}
	}
	layers = append(layers, &Dense{Units: cfg.Classes})
	return NewSequential(cfg.Input, layers...)
}
