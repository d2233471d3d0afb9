package elementwise_test

import (
	"errors"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func TestStringOps(t *testing.T) {
	split := func(attrs ops.AttrMap) ops.AttrMap { return attrs }
	runCases(t, []tcase{
		{name: "concat broadcast", op: "StringConcat", opset: 20, inputs: []*ops.Tensor{str(ops.Shape{3}, "cat", "dög", ""), str(ops.Shape{1}, "s")},
			want: str(ops.Shape{3}, "cats", "dögs", "s")},
		{name: "concat number", op: "StringConcat", opset: 20, inputs: []*ops.Tensor{str(ops.Shape{1}, "a"), f32(ops.Shape{1}, 1)}, wantErr: "float32"},
		{name: "regex whole match", op: "RegexFullMatch", opset: 20, attrs: ops.AttrMap{"pattern": ops.StringAttr(`a+b`)},
			inputs: []*ops.Tensor{str(ops.Shape{3}, "aab", "aabc", "xab")}, want: b(ops.Shape{3}, true, false, false)},
		{name: "regex invalid", op: "RegexFullMatch", opset: 20, attrs: ops.AttrMap{"pattern": ops.StringAttr(`(a`)},
			inputs: []*ops.Tensor{str(ops.Shape{1}, "a")}, wantErr: "not a valid RE2 pattern"},
		// Python: " a  b c ".split(None, 1) == ["a", "b c "]; "a,,b".split(",") == ["a", "", "b"].
		{name: "split whitespace maxsplit", op: "StringSplit", opset: 20, attrs: split(ops.AttrMap{"maxsplit": ops.IntAttr(1)}),
			inputs: []*ops.Tensor{str(ops.Shape{2}, " a  b c ", "")}, want: str(ops.Shape{2, 2}, "a", "b c ", "", "")},
		{name: "split delimiter", op: "StringSplit", opset: 20, attrs: split(ops.AttrMap{"delimiter": ops.StringAttr(",")}),
			inputs: []*ops.Tensor{str(ops.Shape{2}, "a,,b", "c")}, want: str(ops.Shape{2, 3}, "a", "", "b", "c", "", "")},
		{name: "normalizer drops and uppers", op: "StringNormalizer", opset: 10,
			attrs:  ops.AttrMap{"stopwords": ops.StringsAttr("the"), "case_change_action": ops.StringAttr("UPPER")},
			inputs: []*ops.Tensor{str(ops.Shape{1, 3}, "The", "big", "cat")}, want: str(ops.Shape{1, 2}, "BIG", "CAT")},
		{name: "normalizer keeps nothing", op: "StringNormalizer", opset: 10, attrs: ops.AttrMap{"stopwords": ops.StringsAttr("a")},
			inputs: []*ops.Tensor{str(ops.Shape{2}, "A", "a")}, want: str(ops.Shape{1}, "")},
		{name: "normalizer rank 3", op: "StringNormalizer", opset: 10, inputs: []*ops.Tensor{str(ops.Shape{1, 1, 1}, "a")}, wantErr: "want [C] or [1, C]"},
	})
	// Split and normalize plan with the strings' values: without them the shape is dynamic.
	_, err := opstest.Run(opstest.Node{OpType: "StringSplit", Opset: 20, Inputs: []*ops.Tensor{str(ops.Shape{1}, "a b")}, NonConstInputs: []int{0}})
	if !errors.Is(err, ops.ErrDynamicShape) {
		t.Errorf("StringSplit without its input's value: got %v, want ErrDynamicShape", err)
	}
}
