package runtime_test

import (
	"os"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/runtime"
)

// The torch exports of the BERT-base encoder and ViT-B/16 (opset 13) lose every decomposed LayerNorm and
// attention to the fuse-layernorm and fuse-attention passes: no Pow, ReduceMean or Softmax is left, and each
// layer has two LayerNormalization nodes and one FusedAttention (ViT one more LayerNormalization, its final
// norm). Every GELU ends in the epilogue of its MLP's first FusedGemm: no Erf is left, and each layer has one
// FusedGemm with activation Gelu. The Transposes that move the heads around attention are folded into
// every FusedAttention (q_perm, k_perm, v_perm, y_perm).
//
// The small models (2 layers of width 64, the same torch modules and exporter: `make transformer-models`,
// seconds) are required under CI; the suite's big exports (`make big-models`, 750 MB of optional bench
// material) are checked where they are present.
func TestPassesFuseTransformerExports(t *testing.T) {
	for _, c := range []struct {
		model                  string
		big                    bool
		layerNorms, attentions int
	}{
		{"transformers/bert_small_enc", false, 4, 2},
		{"transformers/vit_small", false, 5, 2},
		{"big-models/bert_base_enc", true, 24, 12},
		{"big-models/vit_b_16", true, 25, 12},
	} {
		t.Run(c.model, func(t *testing.T) {
			path := testenv.RepoPath(t, ".cache/"+c.model+"_b1static.onnx")
			if c.big {
				if testing.Short() {
					t.Skip("compiles a 330 MB model")
				}
				// Absent, the test skips even under CI=true: the big models are optional material.
				if _, err := os.Stat(path); err != nil {
					t.Skipf("missing %s: run `make big-models`", path)
				}
			} else {
				testenv.RequireFile(t, path, "run `make transformer-models`")
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
				if n.OpType == "FusedAttention" && hasAttrs(n, "q_perm", "k_perm", "v_perm", "y_perm") {
					count["FusedAttention in place"]++
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
			if count["FusedAttention in place"] != c.attentions {
				t.Errorf("%d of %d FusedAttention read Q, K and V and write Y through the heads' Transposes, want all", count["FusedAttention in place"], c.attentions)
			}
		})
	}
}

// hasAttrs reports whether the node n sets every one of the named attributes.
func hasAttrs(n *runtime.Node, names ...string) bool {
	for _, name := range names {
		if _, ok := n.Attrs[name]; !ok {
			return false
		}
	}
	return true
}
