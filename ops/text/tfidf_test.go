package text

import (
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// tfidfAttrs is the attribute set of ONNX's node tests: the 1-grams 2 3 5 4 and the 2-grams (5,6) (7,8) (6,7).
func tfidfAttrs(mode string, minGram, maxGram, maxSkip int64) ops.AttrMap {
	return ops.AttrMap{
		"mode":            ops.StringAttr(mode),
		"min_gram_length": ops.IntAttr(minGram),
		"max_gram_length": ops.IntAttr(maxGram),
		"max_skip_count":  ops.IntAttr(maxSkip),
		"ngram_counts":    ops.IntsAttr(0, 4),
		"ngram_indexes":   ops.IntsAttr(0, 1, 2, 3, 4, 5, 6),
		"pool_int64s":     ops.IntsAttr(2, 3, 5, 4, 5, 6, 7, 8, 6, 7),
	}
}

func with(m ops.AttrMap, name string, a ops.Attr) ops.AttrMap {
	out := ops.AttrMap{}
	for k, v := range m {
		out[k] = v
	}
	out[name] = a
	return out
}

func without(m ops.AttrMap, name string) ops.AttrMap {
	out := with(m, name, ops.Attr{})
	delete(out, name)
	return out
}

var tokens = []int32{1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8}

func TestTfIdfVectorizer(t *testing.T) {
	weights := ops.FloatsAttr(1, 2, 3, 4, 5, 6, 7)
	strPool := ops.AttrMap{
		"mode": ops.StringAttr("TF"), "min_gram_length": ops.IntAttr(1), "max_gram_length": ops.IntAttr(2),
		"max_skip_count": ops.IntAttr(0), "ngram_counts": ops.IntsAttr(0, 2),
		// the 1-grams "a" "b", the 2-gram ("b", "a"); "b" and ("b","a") share output 1
		"ngram_indexes": ops.IntsAttr(0, 1, 1), "pool_strings": ops.StringsAttr("a", "b", "b", "a"),
	}
	opstest.RunCases(t, []opstest.Case{
		// The expectations of ONNX's node tests, from the same attributes and tokens.
		{Name: "bigrams skip 0", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TF", 2, 2, 0),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{12}, tokens)},
			Want:   []*ops.Tensor{opstest.F32(ops.Shape{7}, 0, 0, 0, 0, 1, 1, 1)}},
		{Name: "bigrams skip 5", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TF", 2, 2, 5),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{12}, tokens)},
			Want:   []*ops.Tensor{opstest.F32(ops.Shape{7}, 0, 0, 0, 0, 1, 3, 1)}},
		// 1-grams count once whatever the skip: 3 appears three times, not 3*6.
		{Name: "uni and bigrams skip 5", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TF", 1, 2, 5),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{12}, tokens)},
			Want:   []*ops.Tensor{opstest.F32(ops.Shape{7}, 0, 3, 1, 0, 1, 3, 1)}},
		{Name: "batch rows do not share n-grams", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TF", 1, 2, 5),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{2, 6}, tokens)},
			Want:   []*ops.Tensor{opstest.F32(ops.Shape{2, 7}, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1)}},
		{Name: "int64 tokens", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TF", 2, 2, 0),
			Inputs: []*ops.Tensor{opstest.I64(ops.Shape{3}, 5, 6, 5)},
			Want:   []*ops.Tensor{opstest.F32(ops.Shape{7}, 0, 0, 0, 0, 1, 0, 0)}},
		{Name: "IDF caps the count at one and weighs it", Op: "TfIdfVectorizer", Opset: 9,
			Attrs:  with(tfidfAttrs("IDF", 1, 2, 5), "weights", weights),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{12}, tokens)},
			Want:   []*ops.Tensor{opstest.F32(ops.Shape{7}, 0, 2, 3, 0, 5, 6, 7)}},
		{Name: "TFIDF weighs the count", Op: "TfIdfVectorizer", Opset: 9,
			Attrs:  with(tfidfAttrs("TFIDF", 1, 2, 5), "weights", weights),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{12}, tokens)},
			Want:   []*ops.Tensor{opstest.F32(ops.Shape{7}, 0, 6, 3, 0, 5, 18, 7)}},
		{Name: "IDF without weights is presence", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("IDF", 1, 2, 5),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{12}, tokens)},
			Want:   []*ops.Tensor{opstest.F32(ops.Shape{7}, 0, 1, 1, 0, 1, 1, 1)}},
		{Name: "empty 1-gram group", Op: "TfIdfVectorizer", Opset: 9,
			Attrs: ops.AttrMap{"mode": ops.StringAttr("TF"), "min_gram_length": ops.IntAttr(2), "max_gram_length": ops.IntAttr(2),
				"max_skip_count": ops.IntAttr(0), "ngram_counts": ops.IntsAttr(0, 0), "ngram_indexes": ops.IntsAttr(0, 1, 2),
				"pool_int64s": ops.IntsAttr(5, 6, 7, 8, 6, 7)},
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{12}, tokens)},
			Want:   []*ops.Tensor{opstest.F32(ops.Shape{3}, 1, 1, 1)}},
		{Name: "strings, two pool n-grams on one output", Op: "TfIdfVectorizer", Opset: 9, Attrs: strPool,
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{5}, []string{"b", "a", "c", "b", "a"})},
			Want:   []*ops.Tensor{opstest.F32(ops.Shape{2}, 2, 4)}},
		{Name: "no tokens", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TF", 1, 2, 5),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{3, 0}, []int32{})},
			Want:   []*ops.Tensor{ops.New(ops.Float32, ops.Shape{3, 7})}},
		{Name: "skip far beyond the row", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TF", 1, 2, 1<<40),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{3}, []int32{5, 0, 6})},
			Want:   []*ops.Tensor{opstest.F32(ops.Shape{7}, 0, 0, 1, 0, 1, 0, 0)}},

		// Hostile or malformed attributes and inputs.
		{Name: "bad mode", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("BM25", 1, 2, 0),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int32{1})}, ErrSub: `"mode"`, ErrIs: ops.ErrInvalid},
		{Name: "min above max", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TF", 3, 2, 0),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int32{1})}, ErrSub: "min <= max"},
		{Name: "negative skip", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TF", 1, 2, -1),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int32{1})}, ErrSub: "max_skip_count"},
		{Name: "both pools", Op: "TfIdfVectorizer", Opset: 9, Attrs: with(tfidfAttrs("TF", 1, 2, 0), "pool_strings", ops.StringsAttr("a")),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int32{1})}, ErrSub: "exactly one"},
		{Name: "no pool", Op: "TfIdfVectorizer", Opset: 9, Attrs: without(tfidfAttrs("TF", 1, 2, 0), "pool_int64s"),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int32{1})}, ErrSub: "exactly one"},
		{Name: "missing required", Op: "TfIdfVectorizer", Opset: 9, Attrs: without(tfidfAttrs("TF", 1, 2, 0), "ngram_indexes"),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int32{1})}, ErrSub: `"ngram_indexes" is required`},
		{Name: "bigram group of odd length", Op: "TfIdfVectorizer", Opset: 9, Attrs: with(tfidfAttrs("TF", 1, 2, 0), "ngram_counts", ops.IntsAttr(0, 5)),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int32{1})}, ErrSub: "not a multiple of 2"},
		{Name: "counts beyond the pool", Op: "TfIdfVectorizer", Opset: 9, Attrs: with(tfidfAttrs("TF", 1, 2, 0), "ngram_counts", ops.IntsAttr(0, 40)),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int32{1})}, ErrSub: "within the pool"},
		{Name: "counts descending", Op: "TfIdfVectorizer", Opset: 9, Attrs: with(tfidfAttrs("TF", 1, 2, 0), "ngram_counts", ops.IntsAttr(4, 0)),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int32{1})}, ErrSub: "ascending"},
		{Name: "indexes short", Op: "TfIdfVectorizer", Opset: 9, Attrs: with(tfidfAttrs("TF", 1, 2, 0), "ngram_indexes", ops.IntsAttr(0, 1)),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int32{1})}, ErrSub: "7 n-grams"},
		{Name: "index huge", Op: "TfIdfVectorizer", Opset: 9, Attrs: with(tfidfAttrs("TF", 1, 2, 0), "ngram_indexes", ops.IntsAttr(0, 1, 2, 3, 4, 5, 1<<40)),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int32{1})}, ErrSub: "2^31"},
		{Name: "index negative", Op: "TfIdfVectorizer", Opset: 9, Attrs: with(tfidfAttrs("TF", 1, 2, 0), "ngram_indexes", ops.IntsAttr(0, 1, 2, 3, 4, 5, -1)),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int32{1})}, ErrSub: "is -1"},
		{Name: "weights short", Op: "TfIdfVectorizer", Opset: 9, Attrs: with(tfidfAttrs("TFIDF", 1, 2, 0), "weights", ops.FloatsAttr(1)),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int32{1})}, ErrSub: `"weights" has 1 entries`},
		{Name: "string tokens for an int pool", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TF", 1, 2, 0),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []string{"a"})}, ErrSub: "int32 or int64"},
		{Name: "int tokens for a string pool", Op: "TfIdfVectorizer", Opset: 9, Attrs: strPool,
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int64{1})}, ErrSub: "string tokens"},
		{Name: "float tokens", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TF", 1, 2, 0),
			Inputs: []*ops.Tensor{opstest.F32(ops.Shape{1}, 1)}, ErrSub: "int32 or int64"},
		{Name: "rank 3", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TF", 1, 2, 0),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1, 1, 1}, []int32{1})}, ErrSub: "want [C] or [N, C]"},
		{Name: "scalar", Op: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TF", 1, 2, 0),
			Inputs: []*ops.Tensor{ops.Scalar(int32(1))}, ErrSub: "want [C] or [N, C]"},
	})
}

func TestRunAllocatesNothing(t *testing.T) {
	opstest.CheckRunAllocatesNothing(t, map[string]opstest.Node{
		"TfIdfVectorizer int32": {OpType: "TfIdfVectorizer", Opset: 9, Attrs: tfidfAttrs("TFIDF", 1, 2, 3),
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{2, 6}, tokens)}},
		"TfIdfVectorizer strings": {OpType: "TfIdfVectorizer", Opset: 9, Attrs: ops.AttrMap{
			"mode": ops.StringAttr("TF"), "min_gram_length": ops.IntAttr(1), "max_gram_length": ops.IntAttr(2),
			"max_skip_count": ops.IntAttr(1), "ngram_counts": ops.IntsAttr(0, 1), "ngram_indexes": ops.IntsAttr(0, 1),
			"pool_strings": ops.StringsAttr("a", "a", "b")},
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{4}, []string{"a", "b", "a", "b"})}},
	})
}
