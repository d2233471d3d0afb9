package text

import (
	"fmt"
	"math"

	"github.com/onnxrun/onnxrun/ops"
)

// TfIdfVectorizer counts, in each row of a [C] or [N, C] tensor of int32, int64 or string tokens, the
// n-grams of a pool: https://onnx.ai/onnx/operators/onnx__TfIdfVectorizer.html. Opset 9 (its only version).
//
// The reference loop, per row x of length C and output row y (zeroed first):
//
//	for n := min_gram_length; n <= max_gram_length; n++
//	  for skip := 0; skip <= max_skip_count; skip++   // only skip 0 for n == 1: a 1-gram has no gaps
//	    for start := 0; start+(n-1)*(skip+1) < C; start++
//	      if g := (x[start], x[start+skip+1], ..., x[start+(n-1)*(skip+1)]) is the pool's n-gram i:
//	        TF: y[ngram_indexes[i]] += 1; IDF: y[ngram_indexes[i]] = weights[i]; TFIDF: y[ngram_indexes[i]] += weights[i]
//
// The output row has max(ngram_indexes)+1 entries; n-grams not in the pool count for nothing.
func init() {
	ops.Register("", "TfIdfVectorizer", ops.Since(9, buildTfIdfVectorizer))
}

// tfidfMode is the weighting of the counts.
type tfidfMode uint8

const (
	modeTF    tfidfMode = iota // the count
	modeIDF                    // weights[i] where the count is at least 1
	modeTFIDF                  // the count times weights[i]
)

// maxOutputWidth bounds max(ngram_indexes)+1 so that a hostile attribute cannot ask for a row of 2^63
// floats; 2^31 is far beyond any vocabulary.
const maxOutputWidth = 1 << 31

type tfidfOp struct {
	mode             tfidfMode
	minGram, maxGram int
	maxSkip          int
	width            int       // output row length, max(ngram_indexes)+1
	indexes          []int     // ngram_indexes: the output entry of each pool n-gram
	weights          []float32 // per pool n-gram; all ones when the attribute is absent
	ints             *trieNode[int64]
	strs             *trieNode[string]
}

// trieNode is one n-gram prefix of the pool: id is the index of the pool n-gram it completes (into
// ngram_indexes and weights), or -1 when the prefix is not itself a pool n-gram.
type trieNode[K comparable] struct {
	next map[K]*trieNode[K]
	id   int
}

func newTrieNode[K comparable]() *trieNode[K] { return &trieNode[K]{id: -1} }

// insert adds the n-gram gram with pool index id; a repeated n-gram keeps its first index.
func (t *trieNode[K]) insert(gram []K, id int) {
	node := t
	for _, tok := range gram {
		child := node.next[tok]
		if child == nil {
			if node.next == nil {
				node.next = map[K]*trieNode[K]{}
			}
			child = newTrieNode[K]()
			node.next[tok] = child
		}
		node = child
	}
	if node.id < 0 {
		node.id = id
	}
}

func buildTfIdfVectorizer(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	modeName := r.String("mode", "")
	minGram := r.Int("min_gram_length", 0)
	maxGram := r.Int("max_gram_length", 0)
	maxSkip := r.Int("max_skip_count", 0)
	counts := r.Ints("ngram_counts", nil)
	indexes := r.Ints("ngram_indexes", nil)
	poolInts := r.Ints("pool_int64s", nil)
	poolStrs := r.Strings("pool_strings", nil)
	weights := r.Floats("weights", nil)
	if err := r.Err(); err != nil {
		return nil, err
	}
	for _, name := range []string{"mode", "min_gram_length", "max_gram_length", "max_skip_count", "ngram_counts", "ngram_indexes"} {
		if !r.Has(name) {
			return nil, &ops.AttrError{Name: name, Msg: "is required"}
		}
	}
	op := &tfidfOp{}
	switch modeName {
	case "TF":
		op.mode = modeTF
	case "IDF":
		op.mode = modeIDF
	case "TFIDF":
		op.mode = modeTFIDF
	default:
		return nil, &ops.AttrError{Name: "mode", Msg: fmt.Sprintf("is %q, want TF, IDF or TFIDF", modeName)}
	}
	if minGram < 1 || maxGram < minGram {
		return nil, &ops.AttrError{Name: "min_gram_length", Msg: fmt.Sprintf("is %d with max_gram_length %d, want 1 <= min <= max", minGram, maxGram)}
	}
	if maxSkip < 0 {
		return nil, &ops.AttrError{Name: "max_skip_count", Msg: fmt.Sprintf("is %d, want 0 or more", maxSkip)}
	}
	hasInts, hasStrs := r.Has("pool_int64s"), r.Has("pool_strings")
	if hasInts == hasStrs {
		return nil, &ops.AttrError{Name: "pool_int64s", Msg: "and pool_strings: exactly one must be given"}
	}
	poolLen := len(poolInts)
	if hasStrs {
		poolLen = len(poolStrs)
	}
	// ngram_counts[k] is where the (k+1)-grams start in the pool; the last group runs to the pool's end.
	if len(counts) == 0 {
		return nil, &ops.AttrError{Name: "ngram_counts", Msg: "is empty, want the start of each n-gram group in the pool"}
	}
	groups := make([][2]int, len(counts)) // [start, end) of each group
	ngrams := 0
	for k, start := range counts {
		end := int64(poolLen)
		if k+1 < len(counts) {
			end = counts[k+1]
		}
		if start < 0 || start > end || end > int64(poolLen) {
			return nil, &ops.AttrError{Name: "ngram_counts", Msg: fmt.Sprintf("is %v, want ascending starts within the pool of %d tokens", counts, poolLen)}
		}
		size := int(k + 1)
		if (end-start)%int64(size) != 0 {
			return nil, &ops.AttrError{Name: "ngram_counts", Msg: fmt.Sprintf("gives the %d-grams %d tokens (pool[%d:%d]), not a multiple of %d", size, end-start, start, end, size)}
		}
		groups[k] = [2]int{int(start), int(end)}
		ngrams += int(end-start) / size
	}
	if len(indexes) != ngrams {
		return nil, &ops.AttrError{Name: "ngram_indexes", Msg: fmt.Sprintf("has %d entries, the pool holds %d n-grams", len(indexes), ngrams)}
	}
	if r.Has("weights") && len(weights) != ngrams {
		return nil, &ops.AttrError{Name: "weights", Msg: fmt.Sprintf("has %d entries, the pool holds %d n-grams", len(weights), ngrams)}
	}
	for i, idx := range indexes {
		if idx < 0 || idx >= maxOutputWidth {
			return nil, &ops.AttrError{Name: "ngram_indexes", Msg: fmt.Sprintf("[%d] is %d, want 0 <= index < 2^31", i, idx)}
		}
		op.width = max(op.width, int(idx)+1)
		op.indexes = append(op.indexes, int(idx))
	}
	op.weights = weights
	if !r.Has("weights") {
		op.weights = make([]float32, ngrams)
		for i := range op.weights {
			op.weights[i] = 1
		}
	}
	op.minGram, op.maxGram, op.maxSkip = int(minGram), int(maxGram), int(min(maxSkip, math.MaxInt32))
	// Only the groups of lengths min..max can match; the ids still count every group so that they index
	// ngram_indexes and weights.
	if hasInts {
		op.ints = newTrieNode[int64]()
	} else {
		op.strs = newTrieNode[string]()
	}
	id := 0
	for k, g := range groups {
		size := k + 1
		for at := g[0]; at < g[1]; at += size {
			if size >= op.minGram && size <= op.maxGram {
				if hasInts {
					op.ints.insert(poolInts[at:at+size], id)
				} else {
					op.strs.insert(poolStrs[at:at+size], id)
				}
			}
			id++
		}
	}
	return op, nil
}

func (op *tfidfOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	switch {
	case op.ints != nil && x.DType != ops.Int32 && x.DType != ops.Int64:
		return nil, ops.Invalidf("TfIdfVectorizer with pool_int64s takes int32 or int64 tokens, got %s", x.DType)
	case op.strs != nil && x.DType != ops.String:
		return nil, ops.Invalidf("TfIdfVectorizer with pool_strings takes string tokens, got %s", x.DType)
	}
	switch len(x.Shape) {
	case 1:
		return []ops.ValueInfo{{DType: ops.Float32, Shape: ops.Shape{op.width}}}, nil
	case 2:
		return []ops.ValueInfo{{DType: ops.Float32, Shape: ops.Shape{x.Shape[0], op.width}}}, nil
	}
	return nil, ops.Invalidf("TfIdfVectorizer input has shape %v, want [C] or [N, C]", x.Shape)
}

func (op *tfidfOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	cols := in[0].Shape[len(in[0].Shape)-1]
	switch in[0].DType {
	case ops.Int32:
		return tfidfKernel[int32, int64]{op: op, trie: op.ints, cols: cols, key: func(v int32) int64 { return int64(v) }}, nil
	case ops.Int64:
		return tfidfKernel[int64, int64]{op: op, trie: op.ints, cols: cols, key: func(v int64) int64 { return v }}, nil
	default:
		return tfidfKernel[string, string]{op: op, trie: op.strs, cols: cols, key: func(v string) string { return v }}, nil
	}
}

// tfidfKernel counts the pool's n-grams in rows of cols tokens of type T, looked up in the trie as K.
type tfidfKernel[T int32 | int64 | string, K int64 | string] struct {
	op   *tfidfOp
	trie *trieNode[K]
	cols int
	key  func(T) K
}

func (k tfidfKernel[T, K]) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	x, y := ops.Data[T](in[0]), out[0].Float32s()
	clear(y)
	if k.cols == 0 {
		return nil
	}
	for row := 0; row*k.cols < len(x); row++ {
		k.countRow(x[row*k.cols:(row+1)*k.cols], y[row*k.op.width:(row+1)*k.op.width])
	}
	return nil
}

// countRow adds the n-grams of one row of tokens to its output row.
func (k tfidfKernel[T, K]) countRow(x []T, y []float32) {
	op := k.op
	for start := range x {
		// A stride that reaches past the row finds only the 1-gram the first stride counted.
		for stride := 1; stride <= op.maxSkip+1 && (stride == 1 || start+stride < len(x)); stride++ {
			node := k.trie
			for n, pos := 1, start; n <= op.maxGram && pos < len(x); n, pos = n+1, pos+stride {
				node = node.next[k.key(x[pos])]
				if node == nil {
					break
				}
				// A 1-gram is the same token at every stride: count it on the first only.
				if node.id >= 0 && n >= op.minGram && (n > 1 || stride == 1) {
					out := &y[op.indexes[node.id]]
					switch op.mode {
					case modeTF:
						*out++
					case modeIDF:
						*out = op.weights[node.id]
					case modeTFIDF:
						*out += op.weights[node.id]
					}
				}
			}
			if op.maxGram == 1 {
				break // strides beyond the first find no n-gram a 1-gram walk did not
			}
		}
	}
}
