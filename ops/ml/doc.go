// Package ml implements the operators of ONNX's traditional machine-learning domain, ai.onnx.ml: what
// scikit-learn, LightGBM and XGBoost exports are made of. Importing the package declares the domain (opsets
// up to 5) and registers its kernels (see ops.Register); the runtime imports it.
//
// # Layout
//
//   - linear.go: LinearClassifier and LinearRegressor;
//   - svm.go: SVMClassifier (libsvm's one-against-one votes and pairwise-coupled probabilities) and
//     SVMRegressor (also one-class SVMs);
//   - tree.go: the decision forest every tree operator compiles to, its validation and its walk;
//     treeensemble.go: TreeEnsemble (opset 5) and the older TreeEnsembleClassifier and
//     TreeEnsembleRegressor (opsets 1 and 3, whose *_as_tensor attributes carry doubles);
//   - transform.go: Scaler, Normalizer, Binarizer, Imputer, ArrayFeatureExtractor and FeatureVectorizer;
//   - encode.go: OneHotEncoder, LabelEncoder (opsets 1, 2 and 4) and CategoryMapper;
//   - maps.go: ZipMap (scores to a sequence of maps, a classifier's output_probability), DictVectorizer
//     and CastMap (maps to tensors), the operators that take or give ops.KindMap values;
//   - common.go: the post transforms (NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, PROBIT), class labels and
//     the numeric input rows the classifiers and regressors read.
//
// # Semantics
//
// The spec leaves much unsaid (how a binary classifier with one score column writes two, how a leaf
// without a vote for a target aggregates); where it does, the kernels follow ONNX's reference
// implementation (onnx/reference/ops/aionnxml), which follows ONNX Runtime. Scores are computed in
// float64 and written as float32 (TreeEnsemble-5 writes its input's type, float16 too, through
// ops.Widener). Features are read from float32, float64, int32 or int64 inputs of shape [N, C] or [C]
// (one row), and TreeEnsemble-5's from float16 as well.
//
// # Errors
//
// Builders check every attribute a kernel indexes with: lengths that must match, node and leaf ids in
// range, trees without cycles, class ids below the class count. A model that breaks these fails to
// compile with an error wrapping ops.ErrInvalid; Run then trusts the tables. Errors that depend on data
// (an index input out of range, a category OneHotEncoder must not meet) are returned by Run.
package ml
