package models

import (
	"fmt"

	"github.com/onnxrun/onnxrun/ops"
)

// ResNetConfig describes a small residual CNN: a 3x3 stem, then one stage per width, each of Blocks
// residual blocks (the first block of every stage after the first halves the size with stride 2 and a
// 1x1 stride-2 projection on the skip path), then GlobalAveragePool and a Dense head.
type ResNetConfig struct {
	Input   ops.Shape // [channels height width]
	Widths  []int     // filters of the stem and first stage, then of each further stage
	Blocks  int       // residual blocks per stage
	Classes int
}

// SmallResNet is the built-in "resnet-small" for 28x28 images: widths 16, 32, 64 at 28x28, 14x14 and 7x7,
// one block each: 78,090 parameters for 10 classes.
func SmallResNet() ResNetConfig {
	return ResNetConfig{Input: ops.Shape{1, 28, 28}, Widths: []int{16, 32, 64}, Blocks: 1, Classes: 10}
}

// NewResNet builds the network cfg describes, with zero parameters (call Init). A block is
// conv3x3-BN-ReLU-conv3x3-BN, added to its input (or to its 1x1 projection, BN'd, when the stride or the
// width changes), then ReLU. The convolutions before a BatchNorm keep their bias, so that folding the
// BatchNorms into them at export leaves one Conv per convolution.
func NewResNet(cfg ResNetConfig) (*Network, error) {
	if len(cfg.Input) != 3 || len(cfg.Widths) == 0 || cfg.Blocks < 1 || cfg.Classes < 1 {
		return nil, fmt.Errorf("models: ResNet input %v, widths %v, %d blocks per stage and %d classes: want [channels height width], at least one width, one block and one class",
			cfg.Input, cfg.Widths, cfg.Blocks, cfg.Classes)
	}
	g := NewGraph(cfg.Input)
	g.Layer(&Conv2D{LayerName: "stem", Filters: cfg.Widths[0], Kernel: 3, Padding: Same})
	g.Layer(&BatchNorm{LayerName: "stem_bn", Activation: ReLU})
	prev, prevWidth := "stem_bn", cfg.Widths[0]
	for s, width := range cfg.Widths {
		for b := 0; b < cfg.Blocks; b++ {
			stride := 1
			if s > 0 && b == 0 {
				stride = 2
			}
			name := fmt.Sprintf("stage%d_block%d", s+1, b+1)
			g.Layer(&Conv2D{LayerName: name + "_conv1", Filters: width, Kernel: 3, Stride: stride, Padding: Same}, prev)
			g.Layer(&BatchNorm{LayerName: name + "_bn1", Activation: ReLU})
			g.Layer(&Conv2D{LayerName: name + "_conv2", Filters: width, Kernel: 3, Padding: Same})
			g.Layer(&BatchNorm{LayerName: name + "_bn2"})
			skip := prev
			if stride != 1 || width != prevWidth {
				g.Layer(&Conv2D{LayerName: name + "_proj", Filters: width, Kernel: 1, Stride: stride, Padding: Same}, prev)
				g.Layer(&BatchNorm{LayerName: name + "_proj_bn"})
				skip = name + "_proj_bn"
			}
			g.Layer(&Add{LayerName: name + "_add", Activation: ReLU}, name+"_bn2", skip)
			prev, prevWidth = name+"_add", width
		}
	}
	g.Layer(&GlobalAveragePool{LayerName: "gap"}, prev)
	g.Layer(&Dense{LayerName: "head", Units: cfg.Classes})
	return g.Build()
}
