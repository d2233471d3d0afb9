package elementwise_test

import (
	"os"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/ops"
)

// myOps is every operator this package implements.
var myOps = []string{
	"Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Erf", "Sin", "Cos", "Tan",
	"Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "IsNaN", "IsInf", "Not", "BitwiseNot",
	"Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Mish",
	"Gelu", "Sigmoid", "Tanh", "ThresholdedRelu", "Shrink",
	"Add", "Sub", "Mul", "Div", "Pow", "Mod", "BitShift", "Max", "Min", "Mean", "Sum", "And", "Or", "Xor",
	"BitwiseAnd", "BitwiseOr", "BitwiseXor", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Where",
	"Clip", "Cast", "CastLike",
}

// TestRegistrationsMatchSpec checks, against Operators.md, that each operator has one registration per
// version the spec lists (up to ops.MaxOpset), starting exactly at those versions and leaving no gap.
func TestRegistrationsMatchSpec(t *testing.T) {
	spec, err := os.ReadFile(testenv.Shared(t, "onnx-spec", "Operators.md"))
	if err != nil {
		t.Fatal(err)
	}
	ranges := map[string][]ops.OpsetRange{}
	for _, r := range ops.Registrations() {
		if r.Domain == "" {
			ranges[r.OpType] = append(ranges[r.OpType], r.Range)
		}
	}
	for _, op := range myOps {
		t.Run(op, func(t *testing.T) {
			want := specVersions(t, string(spec), op)
			got := ranges[op]
			sort.Slice(got, func(i, j int) bool { return got[i].Min < got[j].Min })
			if len(got) != len(want) {
				t.Fatalf("registered %v, spec versions %v", got, want)
			}
			for i, r := range got {
				hi := ops.MaxOpset
				if i+1 < len(want) {
					hi = want[i+1] - 1
				}
				if r.Min != want[i] || r.Max != hi {
					t.Errorf("range %d is %v, want %d-%d (spec versions %v)", i, r, want[i], hi, want)
				}
			}
		})
	}
}

// specVersions reads an operator's versions from Operators.md: its current "since version" and the "Other
// versions" links, keeping those up to ops.MaxOpset.
func specVersions(t *testing.T, spec, op string) []int {
	t.Helper()
	section := regexp.MustCompile(`(?s)### <a name="` + op + `"></a>.*?#### Version\n\n(.*?)\n\n(Other versions of this operator: (.*?)\n)?`)
	m := section.FindStringSubmatch(spec)
	if m == nil {
		t.Fatalf("%s not found in Operators.md", op)
	}
	var versions []int
	for _, v := range regexp.MustCompile(op+`-(\d+)`).FindAllStringSubmatch(m[3], -1) {
		n, _ := strconv.Atoi(v[1])
		versions = append(versions, n)
	}
	since := regexp.MustCompile(`since version (\d+)`).FindStringSubmatch(m[1])
	n, _ := strconv.Atoi(since[1])
	versions = append(versions, n)
	sort.Ints(versions)
	var kept []int
	for _, v := range versions {
		if v <= ops.MaxOpset {
			kept = append(kept, v)
		}
	}
	return kept
}
