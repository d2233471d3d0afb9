#!/usr/bin/env python3
"""Make the control-flow models of the conformance suite (issue 14 item 5), with ONNX Runtime's outputs.

Each model goes to OUT_DIR/<name>/ in ONNX's backend-test layout, which `onnxrun conformance` and
conformance.TestControlFlowModels read:

    model.onnx
    test_data_set_N/input_K.pb, output_K.pb   inputs, and ONNX Runtime's outputs for them (TensorProto)
    controlflow.json                          how the data sets are compared (see below), and provenance

The models:

    jit_loop        torch.jit.script with a for loop over a length taken from the input and a while loop
                    until a norm falls below a threshold: two Loops, one with a data-dependent condition;
                    the length is symbolic and is run at two sizes
    lstm_lm_while   an LSTM language model in the form tf2onnx writes for Keras (a Loop with trip count and
                    condition, a carried counter, h and c, and scan outputs), built with onnx.helper; run
                    at two sequence lengths
    vad_like        a voice-activity-detector-like model (torch.jit.script): If on the sample-rate input
                    choosing between two convolution stacks (whose outputs differ in length), LSTM state in
                    and out; run for 3 consecutive chunks at 16 kHz and 3 at 8 kHz, carrying its state
    ssdlite320_mobilenet_v3_large, retinanet_resnet50_fpn, fasterrcnn_resnet50_fpn
                    torchvision 0.14's detectors at 320x320 (weights=None, weights_backbone=None, opset 11), head
                    biases re-drawn and the score threshold lowered so that each returns at least 10 boxes;
                    the inputs of every NonMaxSuppression are extra graph outputs, so that the tensors
                    before suppression can be compared within tolerance

controlflow.json:
    "carry": [[output, input], ...]  the data sets are consecutive chunks, "chunks" to a sequence: from the
                                     second chunk of a sequence on, the runtime under test feeds its own
                                     output in place of the input (whose file holds ONNX Runtime's)
    "detection": {"boxes": k, "scores": k, "labels": k, "score_threshold": t}
                                     outputs compared as detections after suppression: equal after sorting
                                     wherever a score is more than 1e-4 from t; every other output within
                                     tolerance
    "suppression_inputs": [name, ...] the tensors the suppressions read, compared within tolerance row by row
                                     (one row a candidate); a row may sit at another position only where
                                     the reference's scores there are within tolerance of its own (TopK's
                                     order between near-equal scores is rounding)
    "tolerance": {"rtol": r, "atol": a} when the model's outputs need more than the models' default
    "output_tolerance": {output: {"rtol": r, "atol": a}, ...}, "output_tolerance_why": text
                                     the same for the outputs named (for the detections, the boxes output's
                                     applies to the corners), with the evidence for it

Every model is made with fixed seeds; ONNX Runtime (npm's onnxruntime-node through ../shared/tools/ort_run.js)
runs each and must give at least 10 boxes for a detector, so the models are known good before onnxrun can
run them.

Needs Debian's python3-torch, python3-torchvision and python3-onnx (run with /usr/bin/python3), Node, and
onnxruntime-node in ORT_DIR (make controlflow-models does all of it).

usage: make_controlflow_models.py [--models a,b] [--ort-run PATH] OUT_DIR
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import torch
import torchvision
from onnx import TensorProto, helper, numpy_helper

from ortref import default_ort_run, ort_outputs, ort_version  # scripts/ortref.py

SEED = 0


# ---- the backend-test layout ---------------------------------------------------------------------------

def write_data_set(out, n, inputs, outputs, input_names, output_names):
    d = os.path.join(out, f"test_data_set_{n}")
    os.makedirs(d, exist_ok=True)
    for prefix, arrays, names in (("input", inputs, input_names), ("output", outputs, output_names)):
        for k, (a, name) in enumerate(zip(arrays, names)):
            with open(os.path.join(d, f"{prefix}_{k}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(np.asarray(a), name).SerializeToString())


def graph_input_names(model_path):
    m = onnx.load(model_path, load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    return [i.name for i in m.graph.input if i.name not in inits]


def fresh_dir(out_root, name):
    out = os.path.join(out_root, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    return out


def finish(out, name, sets, ort_run, extra=None, carry=None, chunks=None):
    """Runs every input set in ONNX Runtime (feeding ONNX Runtime's own state forward where carry says so),
    writes the data sets and controlflow.json, and returns the manifest."""
    path = os.path.join(out, "model.onnx")
    onnx.checker.check_model(path)
    in_names = graph_input_names(path)
    all_outs = []
    prev = None
    for n, inputs in enumerate(sets):
        inputs = list(inputs)
        if carry and prev is not None and n % chunks != 0:
            for out_name, in_name in carry:
                inputs[in_names.index(in_name)] = prev[0][prev[1].index(out_name)]
        outs, out_names = ort_outputs(ort_run, path, inputs)
        write_data_set(out, n, inputs, outs, in_names, out_names)
        all_outs.append(outs)
        prev = (outs, out_names)
    manifest = {"model": name, "seed": SEED, "torch": torch.__version__, "torchvision": torchvision.__version__,
                "onnx": onnx.__version__, "onnxruntime_node": ort_version(), "data_sets": len(sets),
                "output_names": prev[1]}
    if carry:
        manifest["carry"] = carry
        manifest["chunks"] = chunks
    manifest.update(extra or {})
    with open(os.path.join(out, "controlflow.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest, all_outs


# ---- 1. torch.jit.script loops --------------------------------------------------------------------------

class ScriptedLoops(torch.nn.Module):
    """A recurrent cell stepped over the rows of x (a for loop whose length is x's first, symbolic
    dimension), then shrunk until its norm falls below a threshold (a while loop on a data-dependent
    condition, capped at 50 steps)."""

    def __init__(self):
        super().__init__()
        self.cell = torch.nn.Linear(16, 16)
        self.recur = torch.nn.Linear(16, 16, bias=False)
        self.shrink = torch.nn.Linear(16, 16)

    def forward(self, x):
        h = torch.zeros(1, 16)
        for t in range(x.size(0)):
            h = torch.tanh(self.cell(x[t:t + 1]) + self.recur(h)) * 3.0
        steps = torch.zeros(1, dtype=torch.long)
        y = h
        while bool((y * y).sum() > 0.25) and bool(steps < 50):  # |y| > 0.5
            y = torch.tanh(self.shrink(y)) * 0.8
            steps = steps + 1
        return h, y, steps


def make_jit_loop(out_root, ort_run):
    name = "jit_loop"
    out = fresh_dir(out_root, name)
    torch.manual_seed(SEED)
    model = torch.jit.script(ScriptedLoops().eval())
    gen = torch.Generator().manual_seed(SEED + 1)
    xs = [torch.randn(n, 16, generator=gen) for n in (5, 9)]
    path = os.path.join(out, "model.onnx")
    torch.onnx.export(model, (xs[0],), path, opset_version=13, input_names=["x"], output_names=["h", "y", "steps"],
                      dynamic_axes={"x": {0: "length"}})
    sets = [[x.numpy()] for x in xs]
    manifest, outs = finish(out, name, sets, ort_run)
    for x, o in zip(xs, outs):
        with torch.no_grad():
            want = model(x)
        check_close(name, [w.numpy() for w in want], o)
        if not 0 < int(o[2][0]) < 50:
            raise SystemExit(f"{name}: the while loop ran {int(o[2][0])} times: the condition decides nothing")
    return manifest, f"lengths 5 and 9, while loop steps {[int(o[2][0]) for o in outs]}"


def check_close(name, want, got, rtol=1e-4, atol=1e-5):
    for k, (w, g) in enumerate(zip(want, got)):
        if w.shape != g.shape or not np.allclose(w, g, rtol=rtol, atol=atol):
            raise SystemExit(f"{name}: output {k}: PyTorch and ONNX Runtime differ (shapes {w.shape} {g.shape})")


# ---- 2. an LSTM language model in tf2onnx's while-loop form ---------------------------------------------

def make_lstm_lm_while(out_root, ort_run):
    """tf2onnx turns a Keras LSTM (unroll=False) into the TensorFlow while loop it came from: a Loop whose
    trip count is the sequence length and whose condition the body recomputes (counter < length), carrying
    the counter, h and c, with the per-step h as a scan output. This builds that shape of graph directly."""
    name = "lstm_lm_while"
    out = fresh_dir(out_root, name)
    rng = np.random.default_rng(SEED)
    vocab, emb, hid = 50, 24, 32
    f32 = lambda *s, scale=0.3: (rng.standard_normal(s) * scale).astype(np.float32)
    inits = [
        numpy_helper.from_array(f32(vocab, emb, scale=1.0), "embedding/embeddings"),
        numpy_helper.from_array(f32(emb, 4 * hid), "lstm/kernel"),
        numpy_helper.from_array(f32(hid, 4 * hid), "lstm/recurrent_kernel"),
        numpy_helper.from_array(f32(4 * hid), "lstm/bias"),
        numpy_helper.from_array(f32(hid, vocab), "dense/kernel"),
        numpy_helper.from_array(f32(vocab, scale=0.1), "dense/bias"),
        numpy_helper.from_array(np.array(True), "lstm/while/cond_init"),
        numpy_helper.from_array(np.array(0, np.int32), "lstm/while/i_init"),
        numpy_helper.from_array(np.array([1], np.int64), "const_axes_1"),
    ]
    # The body, as tf2onnx names it: inputs (iteration, condition, carried...), outputs (condition,
    # carried..., scan outputs...). x_seq and the length come from the outer scope.
    body_nodes = [
        helper.make_node("Gather", ["lstm/transposed_x", "lstm/while/i"], ["lstm/while/x_t"], axis=0),
        helper.make_node("MatMul", ["lstm/while/x_t", "lstm/kernel"], ["lstm/while/xw"]),
        helper.make_node("MatMul", ["lstm/while/h", "lstm/recurrent_kernel"], ["lstm/while/hr"]),
        helper.make_node("Add", ["lstm/while/xw", "lstm/while/hr"], ["lstm/while/z0"]),
        helper.make_node("Add", ["lstm/while/z0", "lstm/bias"], ["lstm/while/z"]),
        helper.make_node("Split", ["lstm/while/z"], ["lstm/while/zi", "lstm/while/zf", "lstm/while/zc", "lstm/while/zo"],
                         axis=1),
        helper.make_node("Sigmoid", ["lstm/while/zi"], ["lstm/while/gi"]),
        helper.make_node("Sigmoid", ["lstm/while/zf"], ["lstm/while/gf"]),
        helper.make_node("Tanh", ["lstm/while/zc"], ["lstm/while/gc"]),
        helper.make_node("Sigmoid", ["lstm/while/zo"], ["lstm/while/go"]),
        helper.make_node("Mul", ["lstm/while/gf", "lstm/while/c"], ["lstm/while/fc"]),
        helper.make_node("Mul", ["lstm/while/gi", "lstm/while/gc"], ["lstm/while/ic"]),
        helper.make_node("Add", ["lstm/while/fc", "lstm/while/ic"], ["lstm/while/c_next"]),
        helper.make_node("Tanh", ["lstm/while/c_next"], ["lstm/while/tc"]),
        helper.make_node("Mul", ["lstm/while/go", "lstm/while/tc"], ["lstm/while/h_next"]),
        helper.make_node("Identity", ["lstm/while/h_next"], ["lstm/while/h_scan"]),
        helper.make_node("Add", ["lstm/while/i", "lstm/while/one"], ["lstm/while/i_next"]),
        helper.make_node("Less", ["lstm/while/i_next", "lstm/length_i32"], ["lstm/while/cond_next"]),
    ]
    body = helper.make_graph(
        body_nodes, "lstm/while_loop_body",
        [helper.make_tensor_value_info("lstm/while/iter", TensorProto.INT64, []),
         helper.make_tensor_value_info("lstm/while/cond", TensorProto.BOOL, []),
         helper.make_tensor_value_info("lstm/while/i", TensorProto.INT32, []),
         helper.make_tensor_value_info("lstm/while/h", TensorProto.FLOAT, ("batch", hid)),
         helper.make_tensor_value_info("lstm/while/c", TensorProto.FLOAT, ("batch", hid))],
        [helper.make_tensor_value_info("lstm/while/cond_next", TensorProto.BOOL, []),
         helper.make_tensor_value_info("lstm/while/i_next", TensorProto.INT32, []),
         helper.make_tensor_value_info("lstm/while/h_next", TensorProto.FLOAT, ("batch", hid)),
         helper.make_tensor_value_info("lstm/while/c_next", TensorProto.FLOAT, ("batch", hid)),
         helper.make_tensor_value_info("lstm/while/h_scan", TensorProto.FLOAT, ("batch", hid))],
        initializer=[numpy_helper.from_array(np.array(1, np.int32), "lstm/while/one")])
    nodes = [
        helper.make_node("Gather", ["embedding/embeddings", "tokens"], ["embedding/out"], axis=0),
        helper.make_node("Transpose", ["embedding/out"], ["lstm/transposed_x"], perm=[1, 0, 2]),
        helper.make_node("Shape", ["lstm/transposed_x"], ["lstm/shape"]),
        helper.make_node("Gather", ["lstm/shape", "const_axes_1"], ["lstm/batch_1d"], axis=0),
        helper.make_node("Slice", ["lstm/shape", "const_zero_1d", "const_axes_1"], ["lstm/length_1d"]),
        helper.make_node("Squeeze", ["lstm/length_1d"], ["lstm/length"]),
        helper.make_node("Cast", ["lstm/length"], ["lstm/length_i32"], to=TensorProto.INT32),
        helper.make_node("Concat", ["lstm/batch_1d", "const_hid_1d"], ["lstm/state_shape"], axis=0),
        helper.make_node("ConstantOfShape", ["lstm/state_shape"], ["lstm/zeros"],
                         value=numpy_helper.from_array(np.zeros(1, np.float32))),
        helper.make_node("Loop", ["lstm/length", "lstm/while/cond_init", "lstm/while/i_init", "lstm/zeros", "lstm/zeros"],
                         ["lstm/while/i_final", "lstm_h", "lstm_c", "lstm/outputs_tbh"], name="lstm/while_loop", body=body),
        helper.make_node("Transpose", ["lstm/outputs_tbh"], ["lstm/outputs"], perm=[1, 0, 2]),
        helper.make_node("MatMul", ["lstm/outputs", "dense/kernel"], ["dense/mm"]),
        helper.make_node("Add", ["dense/mm", "dense/bias"], ["logits"]),
    ]
    inits += [numpy_helper.from_array(np.array([0], np.int64), "const_zero_1d"),
              numpy_helper.from_array(np.array([hid], np.int64), "const_hid_1d")]
    graph = helper.make_graph(
        nodes, "keras_lstm_lm",
        [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["batch", "time"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "time", vocab]),
         helper.make_tensor_value_info("lstm_h", TensorProto.FLOAT, ["batch", hid]),
         helper.make_tensor_value_info("lstm_c", TensorProto.FLOAT, ["batch", hid])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="tf2onnx-style", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    path = os.path.join(out, "model.onnx")
    onnx.save(model, path)

    sets = [[rng.integers(0, vocab, size=(2, t), dtype=np.int64)] for t in (6, 11)]
    manifest, outs = finish(out, name, sets, ort_run)
    # The same LSTM in numpy: ONNX Runtime must agree, or the graph is not the model it claims to be.
    w = {t.name: numpy_helper.to_array(t) for t in inits}
    sig = lambda v: 1 / (1 + np.exp(-v))
    for (tokens,), o in zip(sets, outs):
        x = w["embedding/embeddings"][tokens]
        h = np.zeros((2, hid), np.float32)
        c = np.zeros((2, hid), np.float32)
        hs = []
        for t in range(tokens.shape[1]):
            z = x[:, t] @ w["lstm/kernel"] + h @ w["lstm/recurrent_kernel"] + w["lstm/bias"]
            zi, zf, zc, zo = np.split(z, 4, axis=1)
            c = sig(zf) * c + sig(zi) * np.tanh(zc)
            h = sig(zo) * np.tanh(c)
            hs.append(h)
        logits = np.stack(hs, 1) @ w["dense/kernel"] + w["dense/bias"]
        check_close(name, [logits, h, c], o)
    return manifest, "sequence lengths 6 and 11, batch 2"


# ---- 3. a VAD-like model -----------------------------------------------------------------------------

class VADLike(torch.nn.Module):
    """The shape of the common voice-activity detectors: a branch on the sample rate between two
    convolution front ends (16 kHz and 8 kHz; their outputs differ in length), then an LSTM whose state
    the caller carries from one audio chunk to the next, and a speech probability."""

    def __init__(self):
        super().__init__()
        conv = lambda cin, cout, k, s: torch.nn.Conv1d(cin, cout, k, stride=s, padding=k // 2)
        self.front16k = torch.nn.Sequential(conv(1, 16, 9, 4), torch.nn.ReLU(), conv(16, 32, 5, 2), torch.nn.ReLU())
        self.front8k = torch.nn.Sequential(conv(1, 16, 5, 2), torch.nn.ReLU(), conv(16, 32, 3, 2), torch.nn.ReLU())
        self.lstm = torch.nn.LSTM(32, 32, batch_first=True)
        self.decoder = torch.nn.Linear(32, 1)

    def forward(self, x, sr, h, c):
        if bool(sr == 16000):
            f = self.front16k(x.unsqueeze(1))
        else:
            f = self.front8k(x.unsqueeze(1))
        f = f.transpose(1, 2)
        y, (hn, cn) = self.lstm(f, (h, c))
        prob = torch.sigmoid(self.decoder(y[:, -1]))
        return prob, hn, cn


def make_vad_like(out_root, ort_run):
    name = "vad_like"
    out = fresh_dir(out_root, name)
    torch.manual_seed(SEED)
    model = torch.jit.script(VADLike().eval())
    gen = torch.Generator().manual_seed(SEED + 1)
    h0 = torch.zeros(1, 1, 32)
    c0 = torch.zeros(1, 1, 32)
    path = os.path.join(out, "model.onnx")
    x0 = torch.randn(1, 512, generator=gen)
    torch.onnx.export(model, (x0, torch.tensor(16000), h0, c0), path, opset_version=16,
                      input_names=["input", "sr", "h", "c"], output_names=["output", "hn", "cn"],
                      dynamic_axes={"input": {1: "samples"}})
    sets = []
    for rate, samples in ((16000, 512), (8000, 256)):
        for chunk in range(3):
            x = torch.randn(1, samples, generator=gen) * 0.5
            sets.append([x.numpy(), np.array(rate, np.int64), h0.numpy(), c0.numpy()])
    manifest, outs = finish(out, name, sets, ort_run, carry=[["hn", "h"], ["cn", "c"]], chunks=3)
    # PyTorch over the same chunks, carrying its own state.
    for seq in range(2):
        h, c = h0, c0
        for chunk in range(3):
            n = seq * 3 + chunk
            with torch.no_grad():
                want = model(torch.from_numpy(sets[n][0]), torch.tensor(int(sets[n][1])), h, c)
            check_close(name, [w.numpy() for w in want], outs[n])
            h, c = want[1], want[2]
    return manifest, "3 chunks at 16 kHz (512 samples), 3 at 8 kHz (256), state carried"


# ---- 4. torchvision's detectors ------------------------------------------------------------------------

DETECTORS = {
    # name -> (constructor, image height, width)
    "ssdlite320_mobilenet_v3_large": (
        lambda: torchvision.models.detection.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None), 320, 320),
    "retinanet_resnet50_fpn": (
        lambda: torchvision.models.detection.retinanet_resnet50_fpn(
            weights=None, weights_backbone=None, min_size=320, max_size=320), 320, 320),
    "fasterrcnn_resnet50_fpn": (
        lambda: torchvision.models.detection.fasterrcnn_resnet50_fpn(
            weights=None, weights_backbone=None, min_size=320, max_size=320), 320, 320),
}

# Box corners (pixels of the 320x320 image) that need an absolute tolerance. Faster R-CNN's two stages
# amplify rounding: its boxes before and after suppression differ by up to 0.0085 pixel between ONNX Runtime
# with graph optimizations off and on (ORT_OPT=disabled against all, 1.30.0), whose RPN candidates near 0
# then need atol 3.4e-3 beside rtol 1e-3 (onnxrun's need 5.8e-3); PyTorch and ONNX Runtime are held to 0.01
# pixel below (check_detections). Its scores need nothing more than the default (7.9e-5 apart within ONNX
# Runtime, 2.1e-4 with onnxrun, 2.4e-4 with PyTorch, all within rtol 1e-3).
BOX_TOLERANCE = {
    "fasterrcnn_resnet50_fpn": {
        "tolerance": {"rtol": 1e-3, "atol": 1e-2},
        "why": "box corners in pixels: within ONNX Runtime 1.30 (graph optimizations off against on) the RPN's "
               "candidate boxes need atol 3.4e-3 beside rtol 1e-3 and the final boxes differ by 0.0085 pixel; "
               "PyTorch and ONNX Runtime are checked to 0.01 pixel",
    },
}


def calibrate_batchnorm(modules, run, batches=3):
    """Estimates the BatchNorm running statistics of random initialisation on random inputs (a cumulative
    average), as training would: with the defaults (mean 0, variance 1) activations grow unchecked through
    50 layers and every score saturates."""
    bns = [m for mod in modules for m in mod.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    for mod in modules:
        mod.train()
    gen = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for _ in range(batches):
            run(gen)
    for mod in modules:
        mod.eval()
    return len(bns)


def redraw_head_biases(model, gen):
    """Random initialisation gives the classification heads a prior bias (-4.6 for RetinaNet) or zeros,
    so every score is alike and ties decide which boxes survive. Re-drawn biases spread the scores."""
    heads = []
    if hasattr(model, "head"):  # RetinaNet, SSDlite
        heads.append(model.head)
    if hasattr(model, "roi_heads"):  # Faster R-CNN
        heads += [model.rpn.head, model.roi_heads.box_predictor]
    n = 0
    with torch.no_grad():
        for head in heads:
            for mod in head.modules():
                if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)) and mod.bias is not None:
                    mod.bias.copy_(torch.randn(mod.bias.shape, generator=gen))
                    n += 1
    return n


def expose_suppression_inputs(path, ort_run, inputs):
    """Adds the tensors before suppression as extra graph outputs: the boxes and scores every
    NonMaxSuppression of the main graph reads, and, for one inside a branch or loop body (torchvision's
    batched_nms is scripted, so its NonMaxSuppression sits in an If), every main-graph value that body reads
    (the candidate boxes, scores and classes). inputs (numpy, in the model's input order) are run once to
    learn the rank of each."""
    m = onnx.load(path)
    g = m.graph
    produced = [o for n in g.node for o in n.output]
    existing = {o.name for o in g.output}

    def subgraphs(n):
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield a.g
            yield from a.graphs

    def has_nms(graph):
        return any(n.op_type == "NonMaxSuppression" or any(has_nms(sub) for sub in subgraphs(n)) for n in graph.node)

    def outer_reads(graph):
        local = {i.name for i in graph.input} | {t.name for t in graph.initializer}
        names = []
        for n in graph.node:
            for x in list(n.input) + [r for sub in subgraphs(n) for r in outer_reads(sub)]:
                if x and x not in local and x not in names:
                    names.append(x)
            local |= set(n.output)
        return names

    wanted = []
    for n in g.node:
        if n.op_type == "NonMaxSuppression":
            wanted += list(n.input[:2])
        for sub in subgraphs(n):
            if has_nms(sub):
                wanted += outer_reads(sub)
    added = []
    for name in wanted:
        if name in produced and name not in existing and name not in added:
            added.append(name)
    # ONNX's shape inference gives up before these (the exporter leaves the If's outputs untyped), and the
    # checker wants a type on every graph output: ONNX Runtime infers them, so ask it. Its metadata cannot
    # be taken alone: it reports a shape it could not infer (RetinaNet's concatenated per-level boxes, whose
    # Reshape targets are computed) as no dims, as it does a scalar's, and a graph output declared a scalar
    # is taken for one by ONNX Runtime's shape inference ("Node (/Gather_66) Op (Gather)
    # [ShapeInferenceError] data tensor must have rank >= 1"). The rank comes from running the model.
    for name in added:
        g.output.append(helper.make_empty_tensor_value_info(name))
    onnx.save(m, path)
    run = subprocess.run(["node", ort_run, "--info", path], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"{path}: ONNX Runtime cannot load it with the suppression inputs as outputs: {run.stdout}{run.stderr}")
    meta = {o["name"]: o for o in json.loads(run.stdout.strip().splitlines()[-1])["outputMeta"]}
    outs, out_names = ort_outputs(ort_run, path, inputs)
    elem = {"float32": TensorProto.FLOAT, "int64": TensorProto.INT64, "int32": TensorProto.INT32,
            "bool": TensorProto.BOOL, "float64": TensorProto.DOUBLE}
    del g.output[len(g.output) - len(added):]
    for name in added:
        o = meta[name]
        rank = outs[out_names.index(name)].ndim
        known = o["shape"] if len(o["shape"]) == rank else [None] * rank
        dims = [d if isinstance(d, int) and d > 0 else f"{name.strip('/')}_dim_{k}" for k, d in enumerate(known)]
        g.output.append(helper.make_tensor_value_info(name, elem[o["type"]], dims))
    onnx.save(m, path)
    return added


def make_detector(name, out_root, ort_run):
    build, height, width = DETECTORS[name]
    out = fresh_dir(out_root, name)
    torch.manual_seed(SEED)
    model = build()
    if name.startswith("ssdlite"):
        parts = [model.backbone, model.head]
        run = lambda gen: model.head(list(model.backbone(torch.randn(2, 3, height, width, generator=gen)).values()))
    else:
        parts = [model.backbone]
        run = lambda gen: model.backbone(torch.randn(2, 3, height, width, generator=gen))
    n_bn = calibrate_batchnorm(parts, run)
    n_bias = redraw_head_biases(model, torch.Generator().manual_seed(SEED + 3))
    model.eval()
    gen = torch.Generator().manual_seed(SEED + 2)
    x = torch.rand(3, height, width, generator=gen)

    # The threshold: one that leaves between 20 boxes and the per-image cap (so that the cap is not a second
    # threshold), found by bisection with PyTorch and then checked with ONNX Runtime. Random heads put the
    # scores in a narrow band (SSDlite's softmax over 91 classes: 0.1 to 0.2), so a fixed list would miss it.
    cap = model.detections_per_img if hasattr(model, "detections_per_img") else model.roi_heads.detections_per_img
    lo, hi, threshold = 0.0, 1.0, None
    for _ in range(30):
        mid = round((lo + hi) / 2, 6)
        set_score_threshold(model, mid)
        with torch.no_grad():
            n = len(model([x])[0]["scores"])
        if n < 20:
            hi = mid
        elif n >= cap:
            lo = mid
        else:
            threshold = mid
            break
    if threshold is None:
        raise SystemExit(f"{name}: no score threshold gives between 20 and {cap} boxes")

    path = os.path.join(out, "model.onnx")
    with torch.no_grad():
        want = model([x])[0]
    # The exporter names the outputs in the order of the detection dict's values, which is not the same for
    # every detector (Faster R-CNN's roi_heads give boxes, labels, scores).
    keys = list(want)
    torch.onnx.export(model, ([x],), path, opset_version=11, input_names=["image"], output_names=keys,
                      do_constant_folding=True)
    added = expose_suppression_inputs(path, ort_run, [x.numpy()])
    if not added:
        raise SystemExit(f"{name}: no NonMaxSuppression inputs found to expose")
    extra = {"detection": {"boxes": keys.index("boxes"), "scores": keys.index("scores"),
                           "labels": keys.index("labels"), "score_threshold": threshold},
             "suppression_inputs": added, "batchnorm_layers_calibrated": n_bn, "head_biases_redrawn": n_bias,
             "image": [3, height, width]}
    manifest, outs = finish(out, name, [[x.numpy()]], ort_run, extra=extra)
    if name in BOX_TOLERANCE:
        # The box outputs, [N, 4] floats: the detections' and the suppressions' candidates.
        boxes = [n for n, o in zip(manifest["output_names"], outs[0]) if o.ndim == 2 and o.shape[1] == 4]
        manifest["output_tolerance"] = {n: BOX_TOLERANCE[name]["tolerance"] for n in boxes}
        manifest["output_tolerance_why"] = BOX_TOLERANCE[name]["why"]
        with open(os.path.join(out, "controlflow.json"), "w") as f:
            json.dump(manifest, f, indent=1)
    got = {k: outs[0][i] for i, k in enumerate(keys)}
    if len(got["boxes"]) < 10:
        raise SystemExit(f"{name}: ONNX Runtime gives {len(got['boxes'])} boxes, fewer than 10")
    check_detections(name, {k: v.numpy() for k, v in want.items()}, got)
    op = ops_summary(path)
    return manifest, (f"threshold {threshold}: {len(got['boxes'])} boxes from ONNX Runtime, as PyTorch's; "
                      f"{len(added)} suppression inputs exposed; {op}")


def check_detections(name, want, got):
    """PyTorch's and ONNX Runtime's detections must be the same set: ordered by score (then label and box,
    for ties), the labels equal, the boxes within 0.01 pixel and the scores within 1e-3 (Faster R-CNN's two
    stages put them 2.4e-4 apart)."""
    def ordered(d):
        order = np.lexsort((d["boxes"][:, 0], d["labels"], -d["scores"]))
        return d["boxes"][order], d["scores"][order], d["labels"][order]
    wb, ws, wl = ordered(want)
    gb, gs, gl = ordered(got)
    if len(ws) != len(gs) or not (wl == gl).all() or not np.allclose(ws, gs, rtol=0, atol=1e-3) \
            or not np.allclose(wb, gb, rtol=1e-4, atol=1e-2):
        raise SystemExit(f"{name}: PyTorch's {len(ws)} detections and ONNX Runtime's {len(gs)} differ")


def set_score_threshold(model, t):
    if hasattr(model, "roi_heads"):
        model.roi_heads.score_thresh = t
    else:
        model.score_thresh = t


def ops_summary(path):
    m = onnx.load(path)
    count = {}

    def walk(g):
        for n in g.node:
            count[n.op_type] = count.get(n.op_type, 0) + 1
            for a in n.attribute:
                for sub in ([a.g] if a.type == onnx.AttributeProto.GRAPH else []) + list(a.graphs):
                    walk(sub)
    walk(m.graph)
    return ", ".join(f"{k} {count[k]}" for k in ("If", "Loop", "NonMaxSuppression") if k in count)


MODELS = {
    "jit_loop": make_jit_loop,
    "lstm_lm_while": make_lstm_lm_while,
    "vad_like": make_vad_like,
    **{name: (lambda name: lambda out, ort: make_detector(name, out, ort))(name) for name in DETECTORS},
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="folder to write one sub-folder per model into (e.g. .cache/controlflow)")
    ap.add_argument("--models", default=",".join(MODELS),
                    help="comma-separated subset of: " + ", ".join(MODELS) + " (default: all)")
    ap.add_argument("--ort-run", default=default_ort_run(), help="path of ort_run.js (default: ../shared/tools)")
    args = ap.parse_args()
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown models {unknown}; known: {', '.join(MODELS)}")
    if not os.path.exists(args.ort_run):
        ap.error(f"{args.ort_run} not found: give --ort-run")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    os.makedirs(args.out, exist_ok=True)
    for name in names:
        start = time.time()
        _, summary = MODELS[name](args.out, args.ort_run)
        size = os.path.getsize(os.path.join(args.out, name, "model.onnx"))
        print(f"{name:30s} {size / 1e6:7.1f} MB  {time.time() - start:5.0f}s  {summary}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
