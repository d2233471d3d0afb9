package runtime_test

import (
	"os"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/runtime"
)

// The torch exports of the BERT-base encoder and ViT-B/16 (opset 13, `make big-models`) lose every
// decomposed LayerNorm and attention to the fuse-layernorm and fuse-attention passes: no Pow, ReduceMean or
// Softmax is left, and each layer has two LayerNormalization nodes and one FusedAttention (ViT one more
// LayerNormalization, its final norm). Every GELU ends in the epilogue of its MLP's first FusedGemm: no Erf
// is left, and each layer has one FusedGemm with activation Gelu.
func TestPassesFuseTransformerExports(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles two 330 MB models")
	}
	for _, c := range []struct {
		model                  string
		layerNorms, attentions int
	}{
		{"bert_base_enc", 24, 12},
		{"vit_b_16", 25, 12},
	} {
		t.Run(c.model, func(t *testing.T) {
			// The big models are optional material (750 MB that `make big-models` exports for bench-compare), not
			// part of the shared set CI requires: absent, the test skips even under CI=true.
			path := testenv.RepoPath(t, ".cache/big-models/"+c.model+"_b1static.onnx")
			if _, err := os.Stat(path); err != nil {
				t.Skipf("missing %s: run `make big-models`", path)
			}
			p, err := runtime.Load(path, runtime.Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, n := range p.Graph().Nodes {
				count[n.OpType]++
				if a, ok := n.Attrs["activation"]; ok && n.OpType == "FusedGemm" && a.String == "Gelu" {
					count["FusedGemm+Gelu"]++
				}
			}
			if count["FusedGemm+Gelu"] != c.attentions || count["Erf"] != 0 {
				t.Errorf("compiled graph has %d FusedGemm with Gelu (want %d, one a layer) and %d Erf", count["FusedGemm+Gelu"], c.attentions, count["Erf"])
			}
			if count["LayerNormalization"] != c.layerNorms || count["FusedAttention"] != c.attentions ||
				count["Pow"]+count["ReduceMean"]+count["Softmax"] != 0 {
				t.Fatalf("compiled graph has %d LayerNormalization (want %d), %d FusedAttention (want %d), %d Pow, %d ReduceMean, %d Softmax",
					count["LayerNormalization"], c.layerNorms, count["FusedAttention"], c.attentions, count["Pow"], count["ReduceMean"], count["Softmax"])
			}
		})
	}
}
