// Package text implements ONNX's text-featurisation operator TfIdfVectorizer (tfidf.go), which counts the
// n-grams of a pool in integer or string token sequences. Importing the package registers it (see
// ops.Register) for every opset version Operators.md lists up to ops.MaxOpset.
//
// # Layout
//
// The pool is turned at Build into a trie keyed by token, one level per n-gram position, so that Run walks
// each candidate n-gram without building a key and allocates nothing (alloc_test.go). The string operators
// that work element by element (StringNormalizer, StringSplit, RegexFullMatch) are in ops/elementwise.
//
// # Errors
//
// Attribute errors (a pool that does not divide into the n-grams ngram_counts describes, ngram_indexes or
// weights of the wrong length, a pool of the wrong kind for the input) are *ops.AttrError or wrap
// ops.ErrInvalid, reported at Build or InferShapes; Run trusts its inputs.
package text
