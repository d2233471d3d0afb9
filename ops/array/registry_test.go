package array

import (
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/ops"
)

var packageOps = []string{"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Transpose", "Concat", "Split",
	"Slice", "Pad", "Expand", "Tile", "Shape", "Size", "Gather", "GatherElements", "GatherND", "Scatter",
	"ScatterElements", "ScatterND", "Constant", "ConstantOfShape", "Range", "Trilu", "OneHot", "NonZero",
	"Compress", "DepthToSpace", "SpaceToDepth"}

// Every opset version Operators.md lists for these ops, up to ops.MaxOpset, has a builder, and so does
// every opset in between.
func TestRegistryCoversSpecVersions(t *testing.T) {
	spec, err := os.ReadFile(testenv.Shared(t, "onnx-spec", "Operators.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range packageOps {
		row := regexp.MustCompile(`(?m)^\|<a href="#` + op + `">` + op + `</a>[^|]*\|(.*)$`).FindSubmatch(spec)
		if row == nil {
			t.Errorf("%s: no row in Operators.md", op)
			continue
		}
		first := ops.MaxOpset + 1
		for _, m := range regexp.MustCompile(`Changelog\.md#`+op+`-(\d+)`).FindAllSubmatch(row[1], -1) {
			v, _ := strconv.Atoi(string(m[1]))
			first = min(first, v)
			if v > ops.MaxOpset {
				continue
			}
			if _, _, ok := ops.Lookup("", op, v); !ok {
				t.Errorf("%s: opset %d is not registered", op, v)
			}
		}
		for v := first; v <= ops.MaxOpset; v++ {
			if _, _, ok := ops.Lookup("", op, v); !ok {
				t.Errorf("%s: opset %d (after its first version %d) is not registered", op, v, first)
			}
		}
		if _, _, ok := ops.Lookup("", op, first-1); ok && first > 1 {
			t.Errorf("%s: registered at opset %d, before its first version %d", op, first-1, first)
		}
	}
}
