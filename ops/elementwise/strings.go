package elementwise

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/onnxrun/onnxrun/ops"
)

// The string operators: StringConcat (https://onnx.ai/onnx/operators/onnx__StringConcat.html, opset 20)
// joins two string tensors element-wise with numpy broadcasting; RegexFullMatch (onnx__RegexFullMatch.html,
// opset 20) tells which elements match an RE2 pattern whole, with Go's regexp, which implements RE2's
// syntax; StringSplit (onnx__StringSplit.html, opset 20) splits every element on a delimiter (runs of
// whitespace without one) into a new last axis padded with "", as Python's str.split does, up to maxsplit
// splits; StringNormalizer (onnx__StringNormalizer.html, opset 10) drops stop words from a [C] or [1, C]
// tensor and changes the case of the rest. Case folding uses Unicode's rules (the locale attribute is not
// read). StringSplit and StringNormalizer shape their output by the data, so they plan with their input's
// value.
func init() {
	ops.Register("", "StringConcat", ops.SameBuilder(func(n ops.NodeInfo) (ops.Op, error) {
		return newBinaryOp(n, 0, setOf(ops.String), ops.String, func(_, _ ops.DType, plan *bcastPlan) ops.Kernel {
			return newBinary(plan, func(a, b string) string { return a + b })
		})
	}, 20)...)
	ops.Register("", "RegexFullMatch", ops.SameBuilder(buildRegexFullMatch, 20)...)
	ops.Register("", "StringSplit", ops.SameBuilder(buildStringSplit, 20)...)
	ops.Register("", "StringNormalizer", ops.SameBuilder(buildStringNormalizer, 10)...)
}

func buildRegexFullMatch(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	pattern := r.String("pattern", "")
	if err := r.Err(); err != nil {
		return nil, err
	}
	if !r.Has("pattern") {
		return nil, &ops.AttrError{Name: "pattern", Msg: "is required"}
	}
	re, err := regexp.Compile(`\A(?:` + pattern + `)\z`)
	if err != nil {
		return nil, &ops.AttrError{Name: "pattern", Msg: fmt.Sprintf("is not a valid RE2 pattern: %v", err)}
	}
	return newUnary(n, setOf(ops.String), ops.Bool, func(ops.DType) ops.Kernel {
		return mapKernel[string, bool]{f: re.MatchString}
	})
}

// stringSplitOp splits on delimiter ("" for runs of whitespace), at most maxSplit times (-1: no limit).
type stringSplitOp struct {
	delimiter string
	maxSplit  int
}

func buildStringSplit(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &stringSplitOp{delimiter: r.String("delimiter", ""), maxSplit: int(r.Int("maxsplit", -1))}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if r.Has("maxsplit") && op.maxSplit < 0 {
		return nil, &ops.AttrError{Name: "maxsplit", Msg: fmt.Sprintf("is %d, want 0 or more", op.maxSplit)}
	}
	return op, nil
}

func (op *stringSplitOp) ShapeInputs() []int { return []int{0} }

// split is Python's str.split(delimiter or None, maxsplit).
func (op *stringSplitOp) split(s string) []string {
	if op.delimiter != "" {
		n := -1
		if op.maxSplit >= 0 {
			n = op.maxSplit + 1
		}
		return strings.SplitN(s, op.delimiter, n)
	}
	var parts []string
	rest := strings.TrimLeftFunc(s, unicode.IsSpace)
	for rest != "" {
		if op.maxSplit >= 0 && len(parts) == op.maxSplit {
			parts = append(parts, rest) // the unsplit remainder keeps its trailing whitespace
			break
		}
		end := strings.IndexFunc(rest, unicode.IsSpace)
		if end < 0 {
			parts = append(parts, rest)
			break
		}
		parts = append(parts, rest[:end])
		rest = strings.TrimLeftFunc(rest[end:], unicode.IsSpace)
	}
	return parts
}

func checkStrings(in []ops.ValueInfo, opType string) error {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return err
	}
	if in[0].DType != ops.String {
		return ops.Invalidf("%s takes strings, X is %s", opType, in[0].DType)
	}
	return nil
}

func (op *stringSplitOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := checkStrings(in, "StringSplit"); err != nil {
		return nil, err
	}
	if in[0].Const == nil {
		return nil, ops.Dynamicf("how many substrings StringSplit makes depends on the strings")
	}
	most := 0
	for _, s := range in[0].Const.Data().([]string) {
		most = max(most, len(op.split(s)))
	}
	shape := append(in[0].Shape.Clone(), most)
	return []ops.ValueInfo{{DType: ops.String, Shape: shape}, {DType: ops.Int64, Shape: in[0].Shape.Clone()}}, nil
}

func (op *stringSplitOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	if err := checkStrings(in, "StringSplit"); err != nil {
		return nil, err
	}
	return op, nil
}

// Run fills the substrings, padded with "", and their counts; planning with the input's value sized Y.
func (op *stringSplitOp) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	x := in[0].Data().([]string)
	y := out[0].Data().([]string)
	width := 0
	if len(x) > 0 {
		width = len(y) / len(x)
	}
	var counts []int64
	if len(out) > 1 && out[1] != nil {
		counts = out[1].Int64s()
	}
	for i, s := range x {
		parts := op.split(s)
		if len(parts) > width {
			return fmt.Errorf("StringSplit: element %d splits into %d substrings, the plan has room for %d", i, len(parts), width)
		}
		row := y[i*width : (i+1)*width]
		copy(row, parts)
		clear(row[len(parts):])
		if counts != nil {
			counts[i] = int64(len(parts))
		}
	}
	return nil
}

type stringNormalizerOp struct {
	lower, upper  bool
	caseSensitive bool
	stopwords     map[string]bool
}

func buildStringNormalizer(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	op := &stringNormalizerOp{caseSensitive: r.Int("is_case_sensitive", 0) != 0, stopwords: map[string]bool{}}
	action := r.String("case_change_action", "NONE")
	words := r.Strings("stopwords", nil)
	if err := r.Err(); err != nil {
		return nil, err
	}
	switch action {
	case "NONE":
	case "LOWER":
		op.lower = true
	case "UPPER":
		op.upper = true
	default:
		return nil, &ops.AttrError{Name: "case_change_action", Msg: fmt.Sprintf("is %q, want NONE, LOWER or UPPER", action)}
	}
	for _, w := range words {
		op.stopwords[op.key(w)] = true
	}
	return op, nil
}

// key is how a word is looked up among the stop words.
func (op *stringNormalizerOp) key(w string) string {
	if op.caseSensitive {
		return w
	}
	return strings.ToLower(w)
}

func (op *stringNormalizerOp) ShapeInputs() []int { return []int{0} }

// kept returns the strings that are not stop words, case changed.
func (op *stringNormalizerOp) kept(x []string) []string {
	var out []string
	for _, s := range x {
		if op.stopwords[op.key(s)] {
			continue
		}
		switch {
		case op.lower:
			s = strings.ToLower(s)
		case op.upper:
			s = strings.ToUpper(s)
		}
		out = append(out, s)
	}
	return out
}

func (op *stringNormalizerOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := checkStrings(in, "StringNormalizer"); err != nil {
		return nil, err
	}
	shape := in[0].Shape
	if !(len(shape) == 1 || len(shape) == 2 && shape[0] == 1) {
		return nil, ops.Invalidf("X has shape %v, want [C] or [1, C]", shape)
	}
	if in[0].Const == nil {
		return nil, ops.Dynamicf("how many strings StringNormalizer keeps depends on the strings")
	}
	n := max(1, len(op.kept(in[0].Const.Data().([]string)))) // everything dropped: one empty string
	if len(shape) == 1 {
		return []ops.ValueInfo{{DType: ops.String, Shape: ops.Shape{n}}}, nil
	}
	return []ops.ValueInfo{{DType: ops.String, Shape: ops.Shape{1, n}}}, nil
}

func (op *stringNormalizerOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	if err := checkStrings(in, "StringNormalizer"); err != nil {
		return nil, err
	}
	return op, nil
}

func (op *stringNormalizerOp) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	kept := op.kept(in[0].Data().([]string))
	y := out[0].Data().([]string)
	if len(kept) == 0 {
		kept = []string{""}
	}
	if len(kept) != len(y) {
		return fmt.Errorf("StringNormalizer kept %d strings, the plan has room for %d", len(kept), len(y))
	}
	copy(y, kept)
	return nil
}
