#!/usr/bin/python3
"""Fit small scikit-learn models and write each as an ai.onnx.ml graph with scikit-learn's predictions.

For each model it writes OUT_DIR/<name>/ in the layout of ../shared/models, which conformance.RunModelDir
and conformance.TestScikitLearnModels read:

    model.onnx        the fitted estimator as skl2onnx would convert it (see below)
    input_0.npy ...   the inputs (float32 features, or int64/string columns for the encoders)
    expected_0.npy    scikit-learn's first output: labels (predict) for a classifier, else the prediction
    expected_1.npy    for a classifier, its scores: predict_proba, or decision_function as the ONNX
                      operator writes it (see the SVC and linear cases)

A value that is not a tensor is written as NAME_i.pb instead: a MapProto (DictVectorizer's input, one
Python dict) or a SequenceProto of MapProtos (ZipMap's output, predict_proba as one dict per row, what
skl2onnx's output_probability is).

skl2onnx is not packaged for Debian and there is no PyPI here, so each graph is written with onnx.helper
from the fitted estimator's attributes, following skl2onnx's converters (the attribute layout, the sign
conventions and the float32 threshold adjustment of its tree converter). Everything is seeded: running the
script again writes the same numbers (the .onnx bytes may differ only if onnx's serialiser does).

Features are drawn as float32 and scikit-learn predicts on those same values widened to float64, so the
only difference between the two engines is the float32 rounding of the model's parameters.

Needs Debian's python3-sklearn, python3-onnx and python3-numpy; run with /usr/bin/python3 (a pyenv python3
may come first in PATH).

usage: sklearn_references.py OUT_DIR     (the repository's copy: conformance/testdata/sklearn)
"""
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import make_classification, make_regression
from sklearn.feature_extraction import DictVectorizer
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Binarizer, LabelEncoder, Normalizer, OneHotEncoder, StandardScaler
from sklearn.svm import SVC, SVR, LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

ML = "ai.onnx.ml"
SEED = 7
FEATURES = 4
ROWS = 40  # rows of each test input; the models are fitted on 120 others


def classification(classes):
    x, y = make_classification(n_samples=120 + ROWS, n_features=FEATURES, n_informative=3, n_redundant=1,
                               n_classes=classes, n_clusters_per_class=1, class_sep=0.8, random_state=SEED)
    x = x.astype(np.float32).astype(np.float64)
    return x[:120], y[:120], x[120:]


def regression():
    x, y = make_regression(n_samples=120 + ROWS, n_features=FEATURES, n_informative=3, noise=5.0,
                           random_state=SEED)
    x = x.astype(np.float32).astype(np.float64)
    return x[:120], y[:120], x[120:]


def float_input(name="X", cols=FEATURES, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, [None, cols])


def save(out, name, nodes, inputs, outputs, feeds, wants, ml_opset=3, check=True):
    graph = helper.make_graph(nodes, name, inputs, outputs)
    model = helper.make_model(graph, producer_name="scripts/sklearn_references.py",
                              opset_imports=[helper.make_opsetid("", 15), helper.make_opsetid(ML, ml_opset)])
    model.ir_version = 8
    if check:  # onnx 1.12's checker knows ai.onnx.ml up to opset 3
        onnx.checker.check_model(model)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for prefix, values in (("input", feeds), ("expected", wants)):
        for i, a in enumerate(values):
            if isinstance(a, np.ndarray):
                np.save(os.path.join(d, "%s_%d.npy" % (prefix, i)), a)
            else:
                with open(os.path.join(d, "%s_%d.pb" % (prefix, i)), "wb") as f:
                    f.write(a.SerializeToString())


# --- maps ----------------------------------------------------------------------------------------------

def map_type(key_elem):
    """The TypeProto of map(key_elem, tensor(float)), as skl2onnx declares ZipMap's and DictVectorizer's."""
    t = onnx.TypeProto()
    t.map_type.key_type = key_elem
    t.map_type.value_type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, None))
    return t


def map_proto(d):
    """A MapProto of a dict from str or int keys to floats, each value a float32 scalar tensor."""
    m = onnx.MapProto()
    keys = list(d)
    if isinstance(keys[0], str):
        m.key_type = TensorProto.STRING
        m.string_keys.extend(k.encode() for k in keys)
    else:
        m.key_type = TensorProto.INT64
        m.keys.extend(int(k) for k in keys)
    m.values.CopyFrom(helper.make_sequence("", onnx.SequenceProto.TENSOR,
                                           [numpy_helper.from_array(np.array(d[k], dtype=np.float32)) for k in keys]))
    return m


def seq_of_maps(labels, rows):
    """predict_proba's rows as ZipMap writes them: one map per row from each class label to its probability."""
    return helper.make_sequence("", onnx.SequenceProto.MAP, [map_proto(dict(zip(labels, row))) for row in rows])


def logistic_regression_zipmap(out):
    # A classifier as skl2onnx converts it by default: the label, and the probabilities through ZipMap as a
    # seq(map(string, float)) keyed by the class names.
    x, y, xt = classification(3)
    names = np.array(["cat", "dog", "fox"])
    m = LogisticRegression(random_state=SEED).fit(x, names[y])
    labels = [str(c) for c in m.classes_]
    nodes = [
        helper.make_node("LinearClassifier", ["X"], ["output_label", "probability_tensor"], domain=ML,
                         coefficients=f32(m.coef_).ravel().tolist(), intercepts=f32(m.intercept_).tolist(),
                         classlabels_strings=labels, post_transform="SOFTMAX"),
        helper.make_node("ZipMap", ["probability_tensor"], ["output_probability"], domain=ML,
                         classlabels_strings=labels),
    ]
    outputs = [helper.make_tensor_value_info("output_label", TensorProto.STRING, [None]),
               helper.make_value_info("output_probability", helper.make_sequence_type_proto(map_type(TensorProto.STRING)))]
    save(out, "logistic_regression_zipmap", nodes, [float_input()], outputs,
         [f32(xt)], [m.predict(xt).astype(np.str_), seq_of_maps(labels, f32(m.predict_proba(xt)))])


def dict_vectorizer_linear_regression(out):
    # A pipeline over one dict of named features: DictVectorizer orders them by its sorted vocabulary, and a
    # feature it never saw ("unseen") is dropped, by scikit-learn and by the operator alike.
    x, y, xt = regression()
    names = ["f%d" % i for i in range(FEATURES)]
    pipe = make_pipeline(DictVectorizer(sparse=False), LinearRegression())
    pipe.fit([dict(zip(names, row)) for row in x], y)
    dv, reg = pipe.steps[0][1], pipe.steps[1][1]
    sample = {n: float(v) for n, v in zip(reversed(names), reversed(xt[0].tolist()))}
    sample["unseen"] = 123.0
    nodes = [
        helper.make_node("DictVectorizer", ["X"], ["features"], domain=ML,
                         string_vocabulary=[str(n) for n in dv.feature_names_]),
        helper.make_node("LinearRegressor", ["features"], ["variable"], domain=ML,
                         coefficients=f32(reg.coef_).tolist(), intercepts=[float(reg.intercept_)]),
    ]
    save(out, "dict_vectorizer_linear_regression", nodes,
         [helper.make_value_info("X", map_type(TensorProto.STRING))],
         [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [1, 1])],
         [map_proto(sample)], [f32(pipe.predict([sample])).reshape(1, 1)])


def classifier_outputs(n_scores):
    return [helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, n_scores])]


def f32(a):
    return np.asarray(a, dtype=np.float32)


# --- linear models -------------------------------------------------------------------------------------

def logistic_regression(out, classes):
    x, y, xt = classification(classes)
    m = LogisticRegression(random_state=SEED).fit(x, y)
    coef, intercept = m.coef_, m.intercept_
    if classes == 2:
        # skl2onnx writes the binary model as two rows (-w, w), so the LOGISTIC transform gives [1-p, p].
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
        transform = "LOGISTIC"
    else:
        transform = "SOFTMAX"  # lbfgs fits the multinomial model
    node = helper.make_node("LinearClassifier", ["X"], ["label", "scores"], domain=ML,
                            coefficients=f32(coef).ravel().tolist(), intercepts=f32(intercept).tolist(),
                            classlabels_ints=[int(c) for c in m.classes_], post_transform=transform)
    save(out, "logistic_regression_%dclass" % classes, [node], [float_input()], classifier_outputs(classes),
         [f32(xt)], [m.predict(xt).astype(np.int64), f32(m.predict_proba(xt))])


def linear_svc(out):
    x, y, xt = classification(3)
    m = LinearSVC(random_state=SEED, max_iter=20000).fit(x, y)
    node = helper.make_node("LinearClassifier", ["X"], ["label", "scores"], domain=ML,
                            coefficients=f32(m.coef_).ravel().tolist(), intercepts=f32(m.intercept_).tolist(),
                            classlabels_ints=[int(c) for c in m.classes_], post_transform="NONE")
    save(out, "linear_svc_3class", [node], [float_input()], classifier_outputs(3),
         [f32(xt)], [m.predict(xt).astype(np.int64), f32(m.decision_function(xt))])


def scaler_normalizer_linear_regression(out):
    x, y, xt = regression()
    pipe = make_pipeline(StandardScaler(), Normalizer(norm="l2"), LinearRegression()).fit(x, y)
    scaler, _, reg = pipe.steps[0][1], pipe.steps[1][1], pipe.steps[2][1]
    nodes = [
        helper.make_node("Scaler", ["X"], ["scaled"], domain=ML, offset=f32(scaler.mean_).tolist(),
                         scale=f32(1 / scaler.scale_).tolist()),
        helper.make_node("Normalizer", ["scaled"], ["normalized"], domain=ML, norm="L2"),
        helper.make_node("LinearRegressor", ["normalized"], ["variable"], domain=ML,
                         coefficients=f32(reg.coef_).tolist(), intercepts=[float(reg.intercept_)]),
    ]
    save(out, "scaler_normalizer_linear_regression", nodes, [float_input()],
         [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
         [f32(xt)], [f32(pipe.predict(xt)).reshape(-1, 1)])


# --- support vector machines ---------------------------------------------------------------------------

def svc_attrs(m):
    coef, rho = m.dual_coef_, m.intercept_
    if len(m.classes_) == 2:
        # scikit-learn negates libsvm's binary dual coefficients and intercept so that a positive
        # decision_function means classes_[1]; skl2onnx negates them back, so the operator computes libsvm's
        # own value s, whose positive sign votes for classes_[0].
        coef, rho = -coef, -rho
    attrs = dict(kernel_type=m.kernel.upper(), kernel_params=[float(m._gamma), float(m.coef0), float(m.degree)],
                 support_vectors=f32(m.support_vectors_).ravel().tolist(), vectors_per_class=m.n_support_.tolist(),
                 coefficients=f32(coef).ravel().tolist(), rho=f32(rho).tolist(),
                 classlabels_ints=[int(c) for c in m.classes_], post_transform="NONE")
    if m.probability:
        attrs.update(prob_a=f32(m.probA_).tolist(), prob_b=f32(m.probB_).tolist())
    return attrs


def svc_binary(out):
    x, y, xt = classification(2)
    m = SVC(kernel="rbf", gamma="scale", random_state=SEED).fit(x, y)
    node = helper.make_node("SVMClassifier", ["X"], ["label", "scores"], domain=ML, **svc_attrs(m))
    # The operator writes libsvm's value s as [-s, s] (ONNX Runtime's layout), and s = -decision_function:
    # so the scores are [decision_function, -decision_function]. (skl2onnx's raw_scores option appends a
    # Mul by -1 to give [-d, d]; its default graph, written here, does not.)
    d = m.decision_function(xt)
    save(out, "svc_rbf_binary", [node], [float_input()], classifier_outputs(2),
         [f32(xt)], [m.predict(xt).astype(np.int64), f32(np.stack([d, -d], axis=1))])


def svc_ovo(out):
    x, y, xt = classification(3)
    m = SVC(kernel="rbf", gamma="scale", decision_function_shape="ovo", random_state=SEED).fit(x, y)
    node = helper.make_node("SVMClassifier", ["X"], ["label", "scores"], domain=ML, **svc_attrs(m))
    # One score per pair of classes (0,1), (0,2), (1,2), as libsvm and decision_function(ovo) give them.
    save(out, "svc_rbf_3class_ovo", [node], [float_input()], classifier_outputs(3),
         [f32(xt)], [m.predict(xt).astype(np.int64), f32(m.decision_function(xt))])


def svc_probability(out):
    x, y, xt = classification(3)
    m = SVC(kernel="rbf", gamma="scale", probability=True, random_state=SEED).fit(x, y)
    node = helper.make_node("SVMClassifier", ["X"], ["label", "scores"], domain=ML, **svc_attrs(m))
    # predict still takes the one-against-one vote; predict_proba couples the pairwise sigmoids.
    save(out, "svc_rbf_3class_probability", [node], [float_input()], classifier_outputs(3),
         [f32(xt)], [m.predict(xt).astype(np.int64), f32(m.predict_proba(xt))])


def svr(out):
    x, y, xt = regression()
    m = SVR(kernel="rbf", gamma="scale", C=50.0).fit(x, y)
    node = helper.make_node("SVMRegressor", ["X"], ["variable"], domain=ML, kernel_type="RBF",
                            kernel_params=[float(m._gamma), float(m.coef0), float(m.degree)],
                            support_vectors=f32(m.support_vectors_).ravel().tolist(), n_supports=len(m.support_),
                            coefficients=f32(m.dual_coef_).ravel().tolist(), rho=f32(m.intercept_).tolist(),
                            post_transform="NONE")
    save(out, "svr_rbf", [node], [float_input()],
         [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
         [f32(xt)], [f32(m.predict(xt)).reshape(-1, 1)])


# --- trees ---------------------------------------------------------------------------------------------

def float32_threshold(t):
    """scikit-learn compares (float)x <= t with t a double; the float32 w with (float)x <= t <=> x <= w
    is t rounded down to float32 (skl2onnx's sklearn_threshold)."""
    w = np.float32(t)
    if w > t:
        w = np.nextafter(w, np.float32(-np.inf), dtype=np.float32)
    return float(w)


def is_leaf(tree, i):
    return tree.children_left[i] == -1


def old_tree_nodes(trees, leaf_votes):
    """The opset 1/3 encoding of a forest: every node named by (tree id, node id), leaves included, and
    leaf_votes(tree_index, tree, node) -> [(target or class id, weight)] for each leaf."""
    a = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
                         "nodes_truenodeids", "nodes_falsenodeids", "ids", "treeids", "nodeids", "weights"]}
    for t, tree in enumerate(trees):
        for i in range(tree.node_count):
            leaf = is_leaf(tree, i)
            a["nodes_treeids"].append(t)
            a["nodes_nodeids"].append(i)
            a["nodes_featureids"].append(0 if leaf else int(tree.feature[i]))
            a["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            a["nodes_values"].append(0.0 if leaf else float32_threshold(tree.threshold[i]))
            a["nodes_truenodeids"].append(0 if leaf else int(tree.children_left[i]))
            a["nodes_falsenodeids"].append(0 if leaf else int(tree.children_right[i]))
            if leaf:
                for target, w in leaf_votes(t, tree, i):
                    a["treeids"].append(t)
                    a["nodeids"].append(i)
                    a["ids"].append(target)
                    a["weights"].append(float(np.float32(w)))
    return a


def tree_classifier_node(a, classes, **extra):
    return helper.make_node(
        "TreeEnsembleClassifier", ["X"], ["label", "scores"], domain=ML,
        **{k: a[k] for k in a if k.startswith("nodes_")},
        class_treeids=a["treeids"], class_nodeids=a["nodeids"], class_ids=a["ids"], class_weights=a["weights"],
        classlabels_int64s=[int(c) for c in classes], **extra)


def tree_regressor_node(a, **extra):
    return helper.make_node(
        "TreeEnsembleRegressor", ["X"], ["variable"], domain=ML,
        **{k: a[k] for k in a if k.startswith("nodes_")},
        target_treeids=a["treeids"], target_nodeids=a["nodeids"], target_ids=a["ids"], target_weights=a["weights"],
        n_targets=1, **extra)


def proportions(tree_weight):
    """A classifier leaf's votes: its class proportions times tree_weight; a binary classifier's leaves vote
    for class 1 only (skl2onnx's encoding, which the operator writes back as [1-p, p])."""
    def votes(_, tree, i):
        v = tree.value[i][0]
        v = v / v.sum() * tree_weight
        if len(v) == 2:
            return [(0, v[1])]
        return list(enumerate(v))
    return votes


def decision_tree_classifier(out):
    x, y, xt = classification(3)
    m = DecisionTreeClassifier(max_depth=5, random_state=SEED).fit(x, y)
    node = tree_classifier_node(old_tree_nodes([m.tree_], proportions(1.0)), m.classes_, post_transform="NONE")
    save(out, "decision_tree_classifier", [node], [float_input()], classifier_outputs(3),
         [f32(xt)], [m.predict(xt).astype(np.int64), f32(m.predict_proba(xt))])


def decision_tree_regressor(out):
    x, y, xt = regression()
    m = DecisionTreeRegressor(max_depth=5, random_state=SEED).fit(x, y)
    a = old_tree_nodes([m.tree_], lambda _, tree, i: [(0, tree.value[i][0][0])])
    save(out, "decision_tree_regressor", [tree_regressor_node(a, aggregate_function="SUM")], [float_input()],
         [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
         [f32(xt)], [f32(m.predict(xt)).reshape(-1, 1)])


def random_forest_classifier(out):
    x, y, xt = classification(2)
    m = RandomForestClassifier(n_estimators=7, max_depth=4, random_state=SEED).fit(x, y)
    trees = [e.tree_ for e in m.estimators_]
    node = tree_classifier_node(old_tree_nodes(trees, proportions(1.0 / len(trees))), m.classes_,
                                post_transform="NONE")
    save(out, "random_forest_classifier_binary", [node], [float_input()], classifier_outputs(2),
         [f32(xt)], [m.predict(xt).astype(np.int64), f32(m.predict_proba(xt))])


def random_forest_regressor_te5(out):
    """TreeEnsemble (ai.onnx.ml opset 5): interior nodes only, children that are leaves flagged by
    nodes_trueleafs/falseleafs, one leaf table, the forest averaged (aggregate_function 0)."""
    x, y, xt = regression()
    m = RandomForestRegressor(n_estimators=6, max_depth=4, random_state=SEED).fit(x, y)
    feat, splits, true_ids, false_ids, true_leaf, false_leaf, roots = [], [], [], [], [], [], []
    leaf_weights = []
    for tree in (e.tree_ for e in m.estimators_):
        assert not is_leaf(tree, 0), "a tree that is one leaf has no TreeEnsemble encoding"
        node_index, leaf_index = {}, {}
        for i in range(tree.node_count):  # number interior nodes and leaves in the forest's tables
            if is_leaf(tree, i):
                leaf_index[i] = len(leaf_weights)
                leaf_weights.append(tree.value[i][0][0])
            else:
                node_index[i] = len(feat) + len(node_index)
        roots.append(node_index[0])
        for i in sorted(node_index):
            feat.append(int(tree.feature[i]))
            splits.append(float32_threshold(tree.threshold[i]))
            for child, ids, flags in ((tree.children_left[i], true_ids, true_leaf),
                                      (tree.children_right[i], false_ids, false_leaf)):
                leaf = is_leaf(tree, child)
                ids.append(leaf_index[child] if leaf else node_index[child])
                flags.append(int(leaf))
    node = helper.make_node(
        "TreeEnsemble", ["X"], ["variable"], domain=ML, n_targets=1, aggregate_function=0, post_transform=0,
        tree_roots=roots, nodes_featureids=feat,
        nodes_splits=numpy_helper.from_array(f32(splits), "nodes_splits"),
        nodes_modes=numpy_helper.from_array(np.zeros(len(feat), dtype=np.uint8), "nodes_modes"),  # BRANCH_LEQ
        nodes_truenodeids=true_ids, nodes_falsenodeids=false_ids,
        nodes_trueleafs=true_leaf, nodes_falseleafs=false_leaf,
        leaf_targetids=[0] * len(leaf_weights), leaf_weights=numpy_helper.from_array(f32(leaf_weights), "leaf_weights"))
    save(out, "random_forest_regressor_te5", [node], [float_input()],
         [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
         [f32(xt)], [f32(m.predict(xt)).reshape(-1, 1)], ml_opset=5, check=False)


def gradient_boosting_classifier(out, classes):
    x, y, xt = classification(classes)
    m = GradientBoostingClassifier(n_estimators=12, max_depth=3, learning_rate=0.3, random_state=SEED).fit(x, y)
    # estimators_[i][k] is stage i's tree for column k of the raw score (one column when binary); each leaf
    # adds learning_rate * value to its column, on top of the initial estimator's raw prediction.
    columns = m.estimators_.shape[1]
    trees = [m.estimators_[i][k].tree_ for i in range(m.estimators_.shape[0]) for k in range(columns)]
    a = old_tree_nodes(trees, lambda t, tree, i: [(t % columns, m.learning_rate * tree.value[i][0][0])])
    base = m._raw_predict_init(xt[:1])[0]
    node = tree_classifier_node(a, m.classes_, base_values=f32(base).tolist(),
                                post_transform="LOGISTIC" if classes == 2 else "SOFTMAX")
    save(out, "gradient_boosting_classifier_%dclass" % classes, [node], [float_input()], classifier_outputs(classes),
         [f32(xt)], [m.predict(xt).astype(np.int64), f32(m.predict_proba(xt))])


def gradient_boosting_regressor(out):
    x, y, xt = regression()
    m = GradientBoostingRegressor(n_estimators=15, max_depth=3, learning_rate=0.2, random_state=SEED).fit(x, y)
    trees = [e[0].tree_ for e in m.estimators_]
    a = old_tree_nodes(trees, lambda _, tree, i: [(0, m.learning_rate * tree.value[i][0][0])])
    base = m._raw_predict_init(xt[:1])[0]
    node = tree_regressor_node(a, aggregate_function="SUM", base_values=f32(base).tolist())
    save(out, "gradient_boosting_regressor", [node], [float_input()],
         [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
         [f32(xt)], [f32(m.predict(xt)).reshape(-1, 1)])


# --- transforms and encoders ---------------------------------------------------------------------------

def one_hot_encoder(out):
    rng = np.random.RandomState(SEED)
    colours = np.array(["red", "green", "blue", "amber"])[rng.randint(0, 4, 60)]
    sizes = np.array([3, 7, 11])[rng.randint(0, 3, 60)].astype(np.int64)
    train = np.stack([colours[:40], sizes[:40].astype(object)], axis=1)
    m = OneHotEncoder().fit(train)
    test = np.stack([colours[40:], sizes[40:].astype(object)], axis=1)
    k0, k1 = len(m.categories_[0]), len(m.categories_[1])
    # skl2onnx encodes each column with its own OneHotEncoder, then concatenates.
    nodes = [
        helper.make_node("OneHotEncoder", ["colour"], ["colour_hot"], domain=ML,
                         cats_strings=[str(c) for c in m.categories_[0]], zeros=0),
        helper.make_node("OneHotEncoder", ["size"], ["size_hot"], domain=ML,
                         cats_int64s=[int(c) for c in m.categories_[1]], zeros=0),
        helper.make_node("Concat", ["colour_hot", "size_hot"], ["encoded"], axis=1),
    ]
    save(out, "one_hot_encoder", nodes,
         [helper.make_tensor_value_info("colour", TensorProto.STRING, [None]),
          helper.make_tensor_value_info("size", TensorProto.INT64, [None])],
         [helper.make_tensor_value_info("encoded", TensorProto.FLOAT, [None, k0 + k1])],
         [colours[40:].astype(np.str_), sizes[40:]], [f32(m.transform(test).toarray())])


def label_encoder(out):
    rng = np.random.RandomState(SEED)
    words = np.array(["setosa", "versicolor", "virginica", "unknown-ish", "Setosa"])
    m = LabelEncoder().fit(words[rng.randint(0, 5, 50)])
    test = words[rng.randint(0, 5, 30)]
    node = helper.make_node("LabelEncoder", ["species"], ["code"], domain=ML,
                            keys_strings=[str(c) for c in m.classes_],
                            values_int64s=list(range(len(m.classes_))), default_int64=-1)
    save(out, "label_encoder_strings", [node], [helper.make_tensor_value_info("species", TensorProto.STRING, [None])],
         [helper.make_tensor_value_info("code", TensorProto.INT64, [None])],
         [test.astype(np.str_)], [m.transform(test).astype(np.int64)], ml_opset=2)


def binarizer(out):
    _, _, xt = regression()
    m = Binarizer(threshold=0.25).fit(xt)
    node = helper.make_node("Binarizer", ["X"], ["Y"], domain=ML, threshold=0.25)
    save(out, "binarizer", [node], [float_input()], [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, FEATURES])],
         [f32(xt)], [f32(m.transform(xt))])


def simple_imputer(out):
    x, _, xt = regression()
    rng = np.random.RandomState(SEED)
    x[rng.rand(*x.shape) < 0.2] = np.nan
    xt = xt.copy()
    xt[rng.rand(*xt.shape) < 0.3] = np.nan
    m = SimpleImputer(strategy="mean").fit(x)
    node = helper.make_node("Imputer", ["X"], ["Y"], domain=ML,
                            imputed_value_floats=f32(m.statistics_).tolist(), replaced_value_float=float("nan"))
    save(out, "simple_imputer", [node], [float_input()], [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, FEATURES])],
         [f32(xt)], [f32(m.transform(xt))])


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    if os.path.isdir(out):
        shutil.rmtree(out)
    logistic_regression(out, 2)
    logistic_regression(out, 3)
    linear_svc(out)
    scaler_normalizer_linear_regression(out)
    svc_binary(out)
    svc_ovo(out)
    svc_probability(out)
    svr(out)
    decision_tree_classifier(out)
    decision_tree_regressor(out)
    random_forest_classifier(out)
    random_forest_regressor_te5(out)
    gradient_boosting_classifier(out, 2)
    gradient_boosting_classifier(out, 3)
    gradient_boosting_regressor(out)
    one_hot_encoder(out)
    label_encoder(out)
    binarizer(out)
    simple_imputer(out)
    logistic_regression_zipmap(out)
    dict_vectorizer_linear_regression(out)


if __name__ == "__main__":
    main()
