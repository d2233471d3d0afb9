package conformance

import "sort"

// Family is a group of ONNX features outside the CNN and common-math set: the operators (and element
// types) a model would need beyond what onnxrun is built around, and what supporting them would take.
// A case belongs to the first family one of its operators or input/output types falls in; a case in no
// family is in the core set, where every test is expected to pass.
type Family struct {
	Key   string   // short identifier, used in reports
	Title string   // a heading for people
	Ops   []string // operator types, "domain::Op" outside the default domain
	// Types are element types of graph inputs or outputs that put a case in the family, as ONNX's
	// TensorProto.DataType names them ("FLOAT8E4M3FN"), or "sequence", "optional", "map" for values that
	// are not tensors.
	Types []string
	// Work says what supporting the family would take.
	Work string
}

// CoreFamily is the family key of cases in the CNN and common-math set.
const CoreFamily = "core"

// Families lists the groups left outside the core set, in the order a case is matched against them.
var Families = []Family{
	{
		Key: "control-flow", Title: "Control flow",
		Ops: []string{"If", "Loop", "Scan"},
		Work: "If, Loop and Scan (runtime/controlflow.go, loop.go, scan.go): bodies are nested plans, outer " +
			"values their implicit inputs, carried values any kind of value (tensors, sequences, optionals); " +
			"a constant If is folded at compile time. Also checked on six real models against ONNX Runtime " +
			"(`make controlflow-models`: torch.jit.script loops, a tf2onnx-style LSTM, a VAD-like If, three " +
			"torchvision detectors). Nothing is left.",
	},
	{
		Key: "quantization", Title: "Quantization",
		Ops: []string{"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv",
			"QLinearMatMul", "MatMulInteger", "ConvInteger"},
		Work: "int8/uint8 kernels with per-tensor, per-axis and (opset 21+) blocked scales and zero points, " +
			"round-half-to-even with saturation, and an integer GEMM (8-bit inputs, int32 accumulation) under " +
			"QLinearConv, QLinearMatMul and the *Integer ops. The int4 and float8 variants also need the " +
			"low-precision types.",
	},
	{
		Key: "strings", Title: "Text features",
		Ops: []string{"TfIdfVectorizer"},
		Work: "TfIdfVectorizer (ops/text): n-gram counting (with skips) over int or string pools, the TF, IDF " +
			"and TFIDF weightings. (The string operators StringConcat, StringSplit, StringNormalizer and " +
			"RegexFullMatch are in the core set.) Nothing is left.",
	},
	{
		Key: "sequences", Title: "Sequences and optionals",
		Ops: []string{"SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase", "SequenceInsert",
			"SequenceLength", "SequenceMap", "SplitToSequence", "ConcatFromSequence", "Optional",
			"OptionalGetElement", "OptionalHasElement"},
		Types: []string{"sequence", "optional", "map"},
		Work: "Sequences, optionals and maps are runtime values (ops/value.go; kernels in ops/sequence, " +
			"SequenceMap in runtime), graph inputs and outputs through the Go API and the CLI, read from " +
			"SequenceProto/OptionalProto/MapProto files. Nothing is left.",
	},
	{
		Key: "attention", Title: "Linear and flex attention (opsets 26-27)",
		Ops: []string{"LinearAttention", "ai.onnx.preview::FlexAttention"},
		Work: "LinearAttention (ops/attention) and FlexAttention, whose score_mod and prob_mod subgraphs run " +
			"once per Run on the whole score tensor (runtime/flexattention.go). Both are plain float64 loops, " +
			"correct but not yet fast. (Attention, RotaryEmbedding and TensorScatter are in the core set.)",
	},
	{
		Key: "image-decoding", Title: "Image decoding",
		Ops: []string{"ImageDecoder"},
		Work: "ImageDecoder (ops/imagecodec) decodes BMP, JPEG, PNG, PNM, TIFF and WebP; JPEG matches Pillow's " +
			"libjpeg within 2 levels (Go's inverse DCT rounds otherwise). JPEG 2000 would need a decoder of its own.",
	},
	{
		Key: "classical-ml", Title: "Classical ML (ai.onnx.ml)",
		Ops: []string{"ai.onnx.ml::LabelEncoder", "ai.onnx.ml::TreeEnsemble", "ai.onnx.ml::TreeEnsembleClassifier",
			"ai.onnx.ml::TreeEnsembleRegressor", "ai.onnx.ml::Binarizer", "ai.onnx.ml::ArrayFeatureExtractor"},
		Work: "Every ai.onnx.ml operator has a kernel (ops/ml), also checked against scikit-learn's own " +
			"predictions on 21 exported models (conformance/testdata/sklearn), among them a classifier whose " +
			"probabilities go through ZipMap as a seq(map(string, float)) and a DictVectorizer -> " +
			"LinearRegression pipeline fed one map; ZipMap, DictVectorizer and CastMap also match ONNX " +
			"Runtime (crosscheck/maps_test.go). Nothing is left.",
	},
	{
		Key: "random", Title: "Random generators",
		Ops: []string{"Bernoulli", "RandomUniform", "RandomUniformLike", "RandomNormal", "RandomNormalLike",
			"Multinomial"},
		Work: "Generators whose references come from numpy's random streams, which no other generator reproduces " +
			"value for value: Bernoulli's cases are checked by their distribution (the bernoulli rules of " +
			"overrides.txt); RandomUniform, RandomNormal, RandomNormalLike and Multinomial have no kernel.",
	},
	{
		Key: "low-precision", Title: "8-, 4- and 2-bit element types",
		Types: []string{"FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
			"FLOAT4E2M1", "FLOAT8E8M0", "UINT2", "INT2"},
		Work: "New element types in ops (held one per byte, packed in TensorProto), conversions with ONNX's " +
			"saturate and rounding rules, and the Cast, CastLike, QuantizeLinear and DequantizeLinear variants " +
			"that use them.",
	},
}

var familyByOp, familyByType = func() (map[string]string, map[string]string) {
	byOp, byType := map[string]string{}, map[string]string{}
	for _, f := range Families {
		for _, op := range f.Ops {
			byOp[op] = f.Key
		}
		for _, t := range f.Types {
			byType[t] = f.Key
		}
	}
	return byOp, byType
}()

// FamilyOfOp returns the family of an operator type ("domain::Op" outside the default domain), or
// CoreFamily.
func FamilyOfOp(op string) string {
	if f, ok := familyByOp[op]; ok {
		return f
	}
	return CoreFamily
}

// FamilyByKey returns the family with that key, or nil.
func FamilyByKey(key string) *Family {
	for i := range Families {
		if Families[i].Key == key {
			return &Families[i]
		}
	}
	return nil
}

// classify returns the family of a case from its operator types and the types of its graph inputs and
// outputs: the earliest family in Families that claims one of them, else CoreFamily.
func classify(opTypes, ioTypes []string) string {
	best := len(Families)
	for _, op := range opTypes {
		if f, ok := familyByOp[op]; ok {
			best = min(best, familyIndex(f))
		}
	}
	for _, t := range ioTypes {
		if f, ok := familyByType[t]; ok {
			best = min(best, familyIndex(f))
		}
	}
	if best == len(Families) {
		return CoreFamily
	}
	return Families[best].Key
}

func familyIndex(key string) int {
	for i, f := range Families {
		if f.Key == key {
			return i
		}
	}
	return len(Families)
}

// sortedKeys returns the keys of a set, sorted.
func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
