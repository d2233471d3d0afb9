#!/usr/bin/env python3
"""Make issue 16 item 5's quantized test models, with ONNX Runtime's outputs.

ONNX Runtime's quantizer (onnxruntime.quantization) is Python-only and not installable here, so this script
writes the same shapes of graph with onnx.helper from float models:

    <model>_qop_static   quantize_static, QOperator format: QuantizeLinear at the input, QLinearConv,
                         com.microsoft QLinearAdd / QLinearGlobalAveragePool / QLinearAveragePool / QGemm,
                         QLinearMatMul, MaxPool/Flatten/Reshape on the uint8 tensor, DequantizeLinear at the
                         outputs; activations uint8 asymmetric, weights int8 symmetric per tensor, bias int32
    <model>_qdq_static   quantize_static, QDQ format: QuantizeLinear -> DequantizeLinear pairs on every
                         activation a quantized op reads or writes, weights int8 symmetric per output channel
                         through DequantizeLinear with axis, bias int32 through DequantizeLinear
    <model>_dynamic      quantize_dynamic: DynamicQuantizeLinear, ConvInteger (uint8 weights) and
                         MatMulInteger (int8 weights), Cast to float, Mul by the input and weight scales,
                         Add of the float bias
    tv_<model>_qnnpack   torchvision's quantizable MobileNetV2 / ResNet-18 quantized with torch's qnnpack
                         engine (fuse, prepare, calibrate, convert) and exported as QDQ at opset 13, where
                         torch's exporter can (see make_torchvision_quantized)

As ORT's quantizer does, a Relu or Clip right after a Conv, Gemm or Add is folded into the quantized op: the
op's output takes the activation's calibrated range, whose zero point (uint8, range starting at 0) clips.

Calibration is min/max (ORT's MinMax calibrator): the float model, with every activation made a graph
output, runs in ONNX Runtime over a few fixed-seed inputs (as ORT's calibrator does); ranges are widened to
include 0, uint8 scale = (max - min) / 255, zero point = round(-min / scale).

The QOperator models have, beside each float output (dequantized), the uint8 tensor it was dequantized
from as an extra output named <output>_quantized: that one is compared within one quantization level
(controlflow.json "output_tolerance": {"levels": 1}); the float outputs within the tolerance recorded there
with its reason (one output step for the static models; see DYNAMIC_RELATIVE_ATOL for the dynamic ones).
Each controlflow.json also records how far the quantized model's output is from the float model's
("float_model_agreement"), as evidence that the graph computes the model it came from.

Each model goes to OUT_DIR/<name>/ in ONNX's backend-test layout, with controlflow.json (the conformance
suite's spec file: tolerances per output) and provenance:

    model.onnx
    test_data_set_0/input_0.pb, output_K.pb   an input and ONNX Runtime's outputs for it (TensorProto)
    controlflow.json

Needs Debian's python3-torch, python3-torchvision, python3-onnx, numpy (run with /usr/bin/python3), Node and
onnxruntime-node in ORT_DIR (make quant-models does all of it). The float MobileNetV2 and ResNet-50 are
torchvision's with random weights (seed 0) and batch-norm statistics from random data (normalised_torchvision);
they and their inputs at batch 1 and 8 are kept in OUT_DIR/float for make bench-compare SUITE=int8.

usage: make_quant_models.py [--models REGEXP] [--ort-run PATH] [--shared DIR] [--lenet PATH] OUT_DIR
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torchvision
from onnx import TensorProto, helper, numpy_helper, shape_inference

from ortref import default_ort_run, ort_outputs, ort_version  # scripts/ortref.py

SEED = 0
MS = "com.microsoft"
ACT = "activation"

# Tolerance of the dequantized float outputs against ONNX Runtime's (documented in controlflow.json).
# Static models: the integer outputs may differ by one level (ORT requantizes in float32, rounding half to
# even, and an exact kernel may land one level off at an intermediate layer), so the float output may
# differ by one output step; atol is that step plus a little rounding, rtol covers nothing more.
# Dynamic models: each layer requantizes its input at run time from the input's own min/max, so a one-level
# difference in one layer moves the next layer's scale; the float outputs are held to 2% of their largest
# magnitude (|logit|). onnxrun matches ORT exactly on every dynamic model today (ConvInteger and
# MatMulInteger are exact in both), so this leaves room for a faster kernel's float rounding only.
DYNAMIC_RELATIVE_ATOL = 0.02


# ---- the float graph -------------------------------------------------------------------------------------

class FloatGraph:
    """A float model's graph with Constant nodes made initializers and, with fold, every Relu/Clip that
    follows a Conv, Gemm or Add (its only reader) folded into it: the folded op writes the activation's
    output, whose calibrated range (from the unfolded graph) starts at 0, so that quantizing it clips."""

    def __init__(self, model, fold):
        model = shape_inference.infer_shapes(model)
        self.model = model
        g = model.graph
        self.opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
        self.inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        self.inputs = [i for i in g.input if i.name not in self.inits]
        self.outputs = list(g.output)
        nodes = []
        for n in g.node:
            if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
                self.inits[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
                continue
            if n.op_type == "Identity" and n.input[0] in self.inits:
                # torch's exporter writes one initializer for equal weights and Identity nodes for the others.
                self.inits[n.output[0]] = self.inits[n.input[0]]
                continue
            copy = onnx.NodeProto()
            copy.CopyFrom(n)  # folding rewrites outputs: the caller's model stays as it was
            nodes.append(copy)
        readers = {}
        for n in nodes:
            for x in n.input:
                readers.setdefault(x, []).append(n)
        out_names = {o.name for o in self.outputs}
        producer = {o: n for n in nodes for o in n.output}
        self.nodes = []
        removed = set()
        for n in nodes:
            if fold and n.op_type in ("Relu", "Clip") and id(n) not in removed:
                src = producer.get(n.input[0])
                if (src is not None and src.op_type in ("Conv", "Gemm", "Add") and len(readers[n.input[0]]) == 1
                        and n.input[0] not in out_names and self.clip_starts_at_zero(n)):
                    src.output[0] = n.output[0]
                    removed.add(id(n))
                    continue
            self.nodes.append(n)
        self.activations = [o for n in self.nodes for o in n.output if o]

    def clip_starts_at_zero(self, n):
        if n.op_type == "Relu":
            return True
        lo = n.input[1] if len(n.input) > 1 else ""
        lo = self.inits.get(lo) if lo else next((a.f for a in n.attribute if a.name == "min"), None)
        return lo is not None and float(np.asarray(lo)) == 0.0

    def float_model(self, extra_outputs=()):
        g = helper.make_graph(self.nodes, "float", list(self.inputs),
                              list(self.outputs) + [helper.make_empty_tensor_value_info(x) for x in extra_outputs],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in self.inits.items()])
        # make_empty_tensor_value_info leaves the type empty, which ORT refuses on a graph output.
        for vi in g.output[len(self.outputs):]:
            vi.type.tensor_type.elem_type = TensorProto.FLOAT
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)])
        m.ir_version = self.model.ir_version
        return m


def calibrate(fg, inputs, ort_run):
    """Min/max of every float activation over the inputs, in ONNX Runtime."""
    acts = [a for a in fg.activations if a not in {o.name for o in fg.outputs}]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "calibrate.onnx")
        onnx.save(fg.float_model(acts), path)
        ranges = {}
        for x in inputs:
            outs, names = ort_outputs(ort_run, path, [x])
            for a, name in zip(outs, names):
                if a.dtype != np.float32:
                    continue
                lo, hi = float(a.min()), float(a.max())
                if name in ranges:
                    lo, hi = min(lo, ranges[name][0]), max(hi, ranges[name][1])
                ranges[name] = (lo, hi)
    return ranges


def u8_params(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = np.float32((hi - lo) / 255.0) if hi > lo else np.float32(1.0)
    zp = np.uint8(np.clip(np.round(-lo / scale), 0, 255))
    return scale, zp


def s8_symmetric(w, axis=None):
    """int8 weights with zero point 0: per tensor (axis None) or per slice of axis."""
    if axis is None:
        scale = np.float32(max(np.abs(w).max(), 1e-8) / 127.0)
        return np.clip(np.round(w / scale), -127, 127).astype(np.int8), scale
    red = tuple(i for i in range(w.ndim) if i != axis)
    scale = (np.maximum(np.abs(w).max(axis=red), 1e-8) / 127.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    return np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8), scale


def bias_i32(b, scale):
    return np.round(b.astype(np.float64) / np.asarray(scale, np.float64)).astype(np.int32)


# ---- writers ----------------------------------------------------------------------------------------------

class Writer:
    """Collects nodes and initializers of the quantized graph."""

    def __init__(self):
        self.nodes, self.inits, self.names = [], [], set()

    def const(self, name, value):
        if name not in self.names:
            self.names.add(name)
            self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op, ins, outs, domain="", name=None, **attrs):
        self.nodes.append(helper.make_node(op, ins, outs, name=name or outs[0] + "_" + op, domain=domain or None, **attrs))


PASS_THROUGH = {"MaxPool", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose"}


def quant_params(w, ranges, x):
    scale, zp = u8_params(*ranges[x])
    return w.const(x + "_scale", scale), w.const(x + "_zero_point", zp)


def write_qoperator(fg, ranges):
    """ORT's QOperator format (quantize_static, per-tensor int8 weights, uint8 activations)."""
    w = Writer()
    q = {}  # float tensor name -> (uint8 name, scale name, zero point name)
    out_names = {o.name for o in fg.outputs}
    params = dict(ranges)

    def quantized(x):
        if x not in q:
            s, z = quant_params(w, params, x)
            w.node("QuantizeLinear", [x, s, z], [x + "_quantized"])
            q[x] = (x + "_quantized", s, z)
        return q[x]

    def out_of(x):
        s, z = quant_params(w, params, x)
        q[x] = (x + "_quantized", s, z)
        return q[x]

    floats = set(i.name for i in fg.inputs)  # float tensors available as float
    for n in fg.nodes:
        a = dict((at.name, helper.get_attribute_value(at)) for at in n.attribute)
        y = n.output[0]
        if n.op_type == "Conv" and n.input[1] in fg.inits:
            xq, xs, xz = quantized(n.input[0])
            wq, ws = s8_symmetric(fg.inits[n.input[1]])
            yq, ys, yz = out_of(y)
            ins = [xq, xs, xz, w.const(n.input[1] + "_quantized", wq), w.const(n.input[1] + "_scale", ws),
                   w.const(n.input[1] + "_zero_point", np.int8(0)), ys, yz]
            if len(n.input) > 2 and n.input[2]:
                ins.append(w.const(n.input[2] + "_quantized", bias_i32(fg.inits[n.input[2]], params_scale(params, n.input[0]) * ws)))
            w.node("QLinearConv", ins, [yq], name=n.name + "_quant", **a)
        elif n.op_type == "Gemm" and n.input[1] in fg.inits and a.get("transA", 0) == 0:
            xq, xs, xz = quantized(n.input[0])
            wq, ws = s8_symmetric(fg.inits[n.input[1]])
            yq, ys, yz = out_of(y)
            alpha = a.get("alpha", 1.0)
            c = ""
            if len(n.input) > 2 and n.input[2]:
                bias = fg.inits[n.input[2]] * a.get("beta", 1.0)
                c = w.const(n.input[2] + "_quantized", bias_i32(bias, alpha * params_scale(params, n.input[0]) * ws))
            w.node("QGemm", [xq, xs, xz, w.const(n.input[1] + "_quantized", wq), w.const(n.input[1] + "_scale", ws),
                             w.const(n.input[1] + "_zero_point", np.int8(0)), c, ys, yz], [yq], domain=MS,
                   name=n.name + "_quant", alpha=alpha, transA=0, transB=a.get("transB", 0))
        elif n.op_type == "MatMul" and n.input[1] in fg.inits and fg.inits[n.input[1]].ndim == 2:
            xq, xs, xz = quantized(n.input[0])
            wq, ws = s8_symmetric(fg.inits[n.input[1]])
            yq, ys, yz = out_of(y)
            w.node("QLinearMatMul", [xq, xs, xz, w.const(n.input[1] + "_quantized", wq), w.const(n.input[1] + "_scale", ws),
                                     w.const(n.input[1] + "_zero_point", np.int8(0)), ys, yz], [yq], name=n.name + "_quant")
        elif n.op_type in ("Add", "Mul") and all(x in ranges for x in n.input):
            (aq, as_, az), (bq, bs, bz) = quantized(n.input[0]), quantized(n.input[1])
            yq, ys, yz = out_of(y)
            w.node("QLinear" + n.op_type, [aq, as_, az, bq, bs, bz, ys, yz], [yq], domain=MS, name=n.name + "_quant")
        elif n.op_type == "GlobalAveragePool":
            xq, xs, xz = quantized(n.input[0])
            yq, ys, yz = out_of(y)
            w.node("QLinearGlobalAveragePool", [xq, xs, xz, ys, yz], [yq], domain=MS, name=n.name + "_quant", channels_last=0)
        elif n.op_type == "AveragePool":
            xq, xs, xz = quantized(n.input[0])
            yq, ys, yz = out_of(y)
            w.node("QLinearAveragePool", [xq, xs, xz, ys, yz], [yq], domain=MS, name=n.name + "_quant", **a)
        elif n.op_type in PASS_THROUGH and (n.input[0] in q or n.input[0] in ranges):
            xq, xs, xz = quantized(n.input[0])
            params[y] = params[n.input[0]]
            q[y] = (y + "_quantized", xs, xz)
            for k in n.input[1:]:
                if k in fg.inits:
                    w.const(k, fg.inits[k])
            w.node(n.op_type, [xq] + list(n.input[1:]), [y + "_quantized"], name=n.name + "_quant", **a)
        else:
            # A float op: its quantized inputs are dequantized for it.
            ins = []
            for x in n.input:
                if x in fg.inits:
                    ins.append(w.const(x, fg.inits[x]))
                elif x in q and x not in floats:
                    xq, xs, xz = q[x]
                    w.node("DequantizeLinear", [xq, xs, xz], [x])
                    floats.add(x)
                    ins.append(x)
                else:
                    ins.append(x)
            w.node(n.op_type, ins, list(n.output), name=n.name, **a)
            floats.update(n.output)
            continue
    outputs = []
    for o in fg.outputs:
        if o.name in q and o.name not in floats:
            xq, xs, xz = q[o.name]
            w.node("DequantizeLinear", [xq, xs, xz], [o.name])
            outputs.append(o)
            quant = onnx.ValueInfoProto()
            quant.CopyFrom(o)
            quant.name = xq
            quant.type.tensor_type.elem_type = TensorProto.UINT8
            outputs.append(quant)
        else:
            outputs.append(o)
    return finish_graph(fg, w, outputs, "qoperator", [MS])


def params_scale(params, x):
    return u8_params(*params[x])[0]


QDQ_OPS = {"Conv", "Gemm", "MatMul", "Add", "Mul", "GlobalAveragePool", "AveragePool", "MaxPool"}


def write_qdq(fg, ranges):
    """ORT's QDQ format (quantize_static with per_channel=True): Q->DQ on the activations, DQ on the
    int8 per-channel weights and int32 bias. The producer of a quantized activation x writes
    x_QuantizeLinear_Input, and DequantizeLinear writes x again, so readers and graph outputs keep names."""
    w = Writer()
    params = dict(ranges)
    qdq = set()
    rename = {}

    graph_inputs = {i.name for i in fg.inputs}
    alias = {}  # a quantized graph input -> its DequantizeLinear's output, which its readers read

    def activation_qdq(x):
        if x in qdq or x in fg.inits:
            return
        qdq.add(x)
        s, z = quant_params(w, params, x)
        q_in, dq_out = x, x
        if x in graph_inputs:
            dq_out = alias[x] = x + "_DequantizeLinear_Output"
        else:
            q_in = rename[x] = x + "_QuantizeLinear_Input"
        w.node("QuantizeLinear", [q_in, s, z], [x + "_QuantizeLinear_Output"], name=x + "_QuantizeLinear")
        w.node("DequantizeLinear", [x + "_QuantizeLinear_Output", s, z], [dq_out], name=x + "_DequantizeLinear")

    quantized_nodes = []
    for n in fg.nodes:
        if n.op_type not in QDQ_OPS or not all(x in ranges or x in fg.inits or x in {i.name for i in fg.inputs} or not x
                                                for x in n.input):
            quantized_nodes.append((n, False))
            continue
        if n.op_type in ("Add", "Mul") and any(x in fg.inits for x in n.input):
            quantized_nodes.append((n, False))
            continue
        quantized_nodes.append((n, True))
    for n, quant in quantized_nodes:
        a = dict((at.name, helper.get_attribute_value(at)) for at in n.attribute)
        ins = list(n.input)
        if quant:
            activation_qdq(n.input[0])
            if n.op_type in ("Conv", "Gemm", "MatMul") and n.input[1] in fg.inits:
                wt = fg.inits[n.input[1]]
                axis = 0 if n.op_type == "Conv" else (0 if a.get("transB", 0) else 1)
                if wt.ndim != 2 and n.op_type != "Conv":
                    axis = None
                wq, ws = s8_symmetric(wt, axis)
                zp = np.zeros(ws.shape, np.int8) if axis is not None else np.int8(0)
                w.const(n.input[1] + "_quantized", wq)
                dq_attrs = {"axis": axis} if axis is not None else {}
                w.node("DequantizeLinear", [n.input[1] + "_quantized", w.const(n.input[1] + "_scale", ws),
                                            w.const(n.input[1] + "_zero_point", zp)], [n.input[1] + "_DequantizeLinear_Output"], **dq_attrs)
                ins[1] = n.input[1] + "_DequantizeLinear_Output"
                if len(n.input) > 2 and n.input[2] and n.op_type in ("Conv", "Gemm"):
                    bscale = (params_scale(params, n.input[0]) * ws * (a.get("alpha", 1.0) if n.op_type == "Gemm" else 1.0)).astype(np.float32)
                    bias = fg.inits[n.input[2]] * (a.get("beta", 1.0) if n.op_type == "Gemm" else 1.0)
                    w.const(n.input[2] + "_quantized", bias_i32(bias, bscale))
                    w.node("DequantizeLinear", [n.input[2] + "_quantized", w.const(n.input[2] + "_scale", np.atleast_1d(bscale)),
                                                w.const(n.input[2] + "_zero_point", np.zeros(np.atleast_1d(bscale).shape, np.int32))],
                           [n.input[2] + "_DequantizeLinear_Output"], axis=0)
                    ins[2] = n.input[2] + "_DequantizeLinear_Output"
                    if n.op_type == "Gemm":
                        a["beta"] = 1.0
            else:
                for x in n.input[1:]:
                    activation_qdq(x)
            if n.op_type == "MaxPool":
                params[n.output[0]] = params[n.input[0]]
        for x in ins:
            if x in fg.inits:
                w.const(x, fg.inits[x])
        w.node(n.op_type, [alias.get(x, x) for x in ins], list(n.output), name=n.name, **a)
        if quant:
            activation_qdq(n.output[0])
    for node in w.nodes:
        if node.op_type not in ("QuantizeLinear", "DequantizeLinear"):
            for k, o in enumerate(node.output):
                if o in rename:
                    node.output[k] = rename[o]
    return finish_graph(fg, w, list(fg.outputs), "qdq", [])


def write_dynamic(fg):
    """ORT's quantize_dynamic: DynamicQuantizeLinear on the activation, ConvInteger with uint8 weights or
    MatMulInteger with int8 weights, Cast, Mul by the two scales, Add of the bias."""
    w = Writer()
    dq = {}

    def dynamic(x):
        if x not in dq:
            dq[x] = (x + "_quantized", x + "_scale", x + "_zero_point")
            w.node("DynamicQuantizeLinear", [x], list(dq[x]), name=x + "_QuantizeLinear")
        return dq[x]

    for n in fg.nodes:
        a = dict((at.name, helper.get_attribute_value(at)) for at in n.attribute)
        y = n.output[0]
        is_conv = n.op_type == "Conv" and n.input[1] in fg.inits
        is_gemm = n.op_type == "Gemm" and n.input[1] in fg.inits and a.get("transA", 0) == 0 and a.get("alpha", 1.0) == 1.0
        is_matmul = n.op_type == "MatMul" and n.input[1] in fg.inits and fg.inits[n.input[1]].ndim == 2
        if not (is_conv or is_gemm or is_matmul):
            for x in n.input:
                if x in fg.inits:
                    w.const(x, fg.inits[x])
            w.node(n.op_type, list(n.input), list(n.output), name=n.name, **a)
            continue
        xq, xs, xz = dynamic(n.input[0])
        wt = fg.inits[n.input[1]]
        if is_conv:
            # ConvInteger: ORT's CPU kernel takes uint8 weights, so ORT's quantizer writes them asymmetric.
            lo, hi = float(min(wt.min(), 0)), float(max(wt.max(), 0))
            ws, wz = u8_params(lo, hi)
            wq = np.clip(np.round(wt / ws) + int(wz), 0, 255).astype(np.uint8)
            w.node("ConvInteger", [xq, w.const(n.input[1] + "_quantized", wq), xz, w.const(n.input[1] + "_zero_point", wz)],
                   [y + "_output_quantized"], name=n.name + "_quant", **a)
        else:
            if is_gemm and a.get("transB", 0):
                wt = wt.T
            wq, ws = s8_symmetric(np.ascontiguousarray(wt))
            w.node("MatMulInteger", [xq, w.const(n.input[1] + "_quantized", wq), xz, w.const(n.input[1] + "_zero_point", np.int8(0))],
                   [y + "_output_quantized"], name=n.name + "_quant")
        w.node("Cast", [y + "_output_quantized"], [y + "_output_quantized_cast"], to=TensorProto.FLOAT)
        w.node("Mul", [xs, w.const(n.input[1] + "_scale", np.float32(ws))], [y + "_scales_mul"])
        has_bias = len(n.input) > 2 and n.input[2]
        w.node("Mul", [y + "_output_quantized_cast", y + "_scales_mul"], [y + "_mul" if has_bias else y])
        if has_bias:
            bias = fg.inits[n.input[2]] * (a.get("beta", 1.0) if is_gemm else 1.0)
            if is_conv:
                bias = bias.reshape(-1, *([1] * (wt.ndim - 2)))
            w.node("Add", [y + "_mul", w.const(n.input[2] + "_float", bias.astype(np.float32))], [y])
    return finish_graph(fg, w, list(fg.outputs), "dynamic", [MS])


def finish_graph(fg, w, outputs, suffix, domains):
    g = helper.make_graph(w.nodes, fg.model.graph.name + "_" + suffix, list(fg.inputs), outputs, w.inits)
    ops = [helper.make_opsetid("", max(fg.opset, 13))] + [helper.make_opsetid(d, 1) for d in domains]
    m = helper.make_model(g, opset_imports=ops, producer_name="onnxrun scripts/make_quant_models.py")
    m.ir_version = 7
    return m


# ---- the models ---------------------------------------------------------------------------------------------

def float_sources(args):
    """name -> (float ModelProto, input shape at batch 1)."""
    out = {}
    out["lenet"] = (onnx.load(args.lenet), (1, 1, 28, 28))
    out["mnist8_cntk"] = (onnx.load(os.path.join(args.shared, "models", "mnist8_cntk", "model.onnx")), (1, 1, 28, 28))
    for name, ctor in (("mobilenet_v2", torchvision.models.mobilenet_v2), ("resnet50", torchvision.models.resnet50)):
        out[name] = (normalised_torchvision(args.out, name, ctor), (1, 3, 224, 224))
    return out


def normalised_torchvision(out_root, name, ctor):
    """torchvision's model with random weights (seed 0) whose batch norms have met data: a few batches in
    training mode set their running statistics (cumulative average). Straight from its initialiser (running
    mean 0, variance 1) the activations grow layer after layer: make big-models' ResNet-50 gives logits of
    about 4e6, which an 8-bit model can only represent as noise. The float model and its inputs at batch 1
    and 8 go to OUT_DIR/float (base.onnx, base_in_B.npy, as make big-models names them) for the int8 suite
    of make bench-compare, which measures onnxrun's float32 on the same model."""
    torch.manual_seed(SEED)
    model = ctor(weights=None)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None
            m.reset_running_stats()
    gen = torch.Generator().manual_seed(SEED + 7)
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.randn(8, 3, 224, 224, generator=gen))
    model.eval()
    d = os.path.join(out_root, "float")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name + ".onnx")
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    for batch in (1, 8):
        np.save(os.path.join(d, f"{name}_in_{batch}.npy"), inputs_for((batch, 3, 224, 224), 1, SEED + 100)[0])
    return onnx.load(path)


def inputs_for(shape, n, seed):
    rng = np.random.default_rng(seed)
    if shape[1] == 1:  # MNIST-like: images in [0, 1]
        return [rng.random(shape, dtype=np.float32) for _ in range(n)]
    return [rng.standard_normal(shape, dtype=np.float32) for _ in range(n)]


def save_case(out_root, name, model, x, ort_run, spec, float_ref=None):
    """Writes the model, its input and ONNX Runtime's outputs for it in the backend-test layout, with spec
    as controlflow.json. Where float_ref (the float model's outputs in ONNX Runtime) is given, the spec
    records how far the quantized model's first output is from it, as evidence the graph is the model."""
    out = os.path.join(out_root, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    path = os.path.join(out, "model.onnx")
    onnx.save(model, path)
    onnx.checker.check_model(path)
    outs, names = ort_outputs(ort_run, path, [x])
    d = os.path.join(out, "test_data_set_0")
    os.makedirs(d)
    in_name = [i.name for i in model.graph.input][0]
    with open(os.path.join(d, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, in_name).SerializeToString())
    for k, (a, n) in enumerate(zip(outs, names)):
        with open(os.path.join(d, f"output_{k}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(np.asarray(a), n).SerializeToString())
    if float_ref is not None:
        q, f = outs[0].astype(np.float64), float_ref[0].astype(np.float64)
        spec["float_model_agreement"] = {
            "max_abs_diff_over_max_abs": float(np.abs(q - f).max() / max(np.abs(f).max(), 1e-30)),
            "same_top1": bool((q.reshape(q.shape[0], -1).argmax(1) == f.reshape(f.shape[0], -1).argmax(1)).all())}
        print(f"{name}: against the float model: {spec['float_model_agreement']}", flush=True)
    spec = dict(spec, model=name, seed=SEED, onnx=onnx.__version__, torch=torch.__version__,
                onnxruntime_node=ort_version(), output_names=names)
    with open(os.path.join(out, "controlflow.json"), "w") as f:
        json.dump(spec, f, indent=1)
    print(f"{name}: outputs {[(n, a.dtype.name, list(a.shape)) for a, n in zip(outs, names)]}", flush=True)
    return outs, names


def static_spec(model, float_outputs):
    """Per-output tolerances of a static model: uint8 outputs within one level, each float output within its
    output's quantization step (read from the model's final DequantizeLinear)."""
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    tol, why = {}, []
    for n in model.graph.node:
        if n.op_type == "DequantizeLinear" and n.output[0] in float_outputs and n.input[1] in inits:
            step = float(np.max(inits[n.input[1]]))
            tol[n.output[0]] = {"rtol": 1e-5, "atol": step * 1.01}
            tol[n.input[0]] = {"rtol": 0, "atol": 0, "levels": 1}
            why.append(f"{n.output[0]}: one output step ({step:.4g})")
    return {"output_tolerance": tol,
            "output_tolerance_why": "integer outputs within one quantization level of ONNX Runtime's (it requantizes in "
                                    "float32, an exact kernel may round one level apart); dequantized outputs within one "
                                    "step: " + "; ".join(why),
            "format": "static"}


def make_onnx_helper_models(args, want):
    sources = float_sources(args)
    for base, (model, shape) in sources.items():
        names = [f"{base}_qop_static", f"{base}_qdq_static", f"{base}_dynamic"]
        if not any(want.search(n) for n in names):
            continue
        # Static formats fold the activations into the ops before them; calibration runs the unfolded
        # graph, where a folded op's output name is its activation's, so its range is the activation's.
        fg, plain = FloatGraph(model, fold=True), FloatGraph(model, fold=False)
        ncal = 8 if shape[1] == 1 else 3
        x = inputs_for(shape, 1, SEED + 100)[0]
        outs = [o.name for o in fg.outputs]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "float.onnx")
            onnx.save(plain.float_model(), path)
            float_ref, _ = ort_outputs(args.ort_run, path, [x])
        if want.search(names[0]) or want.search(names[1]):
            cal = inputs_for(shape, ncal, SEED)
            ranges = calibrate(plain, cal, args.ort_run)
            ranges[fg.inputs[0].name] = (float(min(r.min() for r in cal)), float(max(r.max() for r in cal)))
            if want.search(names[0]):
                m = write_qoperator(fg, ranges)
                save_case(args.out, names[0], m, x, args.ort_run, static_spec(m, outs), float_ref)
            if want.search(names[1]):
                m = write_qdq(fg, dict(ranges))
                save_case(args.out, names[1], m, x, args.ort_run, qdq_spec(m, outs, ranges), float_ref)
        if want.search(names[2]):
            save_case(args.out, names[2], write_dynamic(plain), x, args.ort_run, dynamic_spec(outs, float_ref), float_ref)


def qdq_spec(model, outs, ranges):
    tol, why = {}, []
    for o in outs:
        if o in ranges:
            step = float(u8_params(*ranges[o])[0])
            tol[o] = {"rtol": 1e-5, "atol": step * 1.01}
            why.append(f"{o}: one output step ({step:.4g})")
    return {"output_tolerance": tol, "format": "static",
            "output_tolerance_why": "dequantized outputs within one quantization step of ONNX Runtime's (an integer "
                                    "kernel may round one level apart from ORT's float32 requantization): " + "; ".join(why)}


def dynamic_spec(outs, float_ref):
    tol = {}
    for o, r in zip(outs, float_ref):
        tol[o] = {"rtol": 1e-3, "atol": float(DYNAMIC_RELATIVE_ATOL * np.abs(r).max())}
    return {"output_tolerance": tol, "format": "dynamic",
            "output_tolerance_why": f"each layer quantizes its input at run time from its min/max, so one level apart "
                                    f"in one layer moves the next layer's scale: {DYNAMIC_RELATIVE_ATOL:g} of the float "
                                    "model's largest |output| on this input"}


def make_torchvision_quantized(args, want):
    """torchvision's quantizable MobileNetV2 and ResNet-18, quantized with torch's qnnpack engine, exported as
    QDQ at opset 13."""
    from torchvision.models import quantization as tq
    torch.backends.quantized.engine = "qnnpack"
    for base in ("mobilenet_v2", "resnet18"):
        name = f"tv_{base}_qnnpack"
        if not want.search(name):
            continue
        torch.manual_seed(SEED)
        m = getattr(tq, base)(weights=None, quantize=False).eval()
        m.fuse_model()
        m.qconfig = torch.ao.quantization.get_default_qconfig("qnnpack")
        torch.ao.quantization.prepare(m, inplace=True)
        gen = torch.Generator().manual_seed(SEED)
        with torch.no_grad():
            for _ in range(4):
                m(torch.randn(1, 3, 224, 224, generator=gen))
        torch.ao.quantization.convert(m, inplace=True)
        x = torch.randn(1, 3, 224, 224, generator=gen)
        with tempfile.TemporaryDirectory() as tmp:
            p = os.path.join(tmp, "model.onnx")
            torch.onnx.export(m, x, p, opset_version=13, input_names=["input"], output_names=["logits"])
            model = onnx.load(p)
        with torch.no_grad():
            want_out = m(x).numpy()
        outs, _ = save_case(args.out, name, model, x.numpy(), args.ort_run, {
            "format": "qdq_torch",
            "output_tolerance": {"logits": {"rtol": 1e-5, "atol": tv_step(model) * 1.01}},
            "output_tolerance_why": "dequantized logits within one step of the last QuantizeLinear's scale"})
        # torch's own quantized model and ORT should agree to a few steps, or the export is not the model.
        if np.abs(outs[0] - want_out).max() > 8 * tv_step(model):
            print(f"{name}: warning: torch and ORT differ by {np.abs(outs[0] - want_out).max():.4g}", file=sys.stderr)


def tv_step(model):
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in model.graph.node if n.op_type == "Constant"}
    inits.update(consts)
    out = model.graph.output[0].name
    for n in model.graph.node:
        if n.op_type == "DequantizeLinear" and n.output[0] == out:
            return float(np.max(inits[n.input[1]]))
    return 1e-3


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap.add_argument("--models", default=".", help="regexp of the model names to make")
    ap.add_argument("--ort-run", default=default_ort_run())
    ap.add_argument("--shared", default=os.environ.get("ONNXRUN_SHARED", os.path.join(os.path.dirname(repo), "shared")))
    ap.add_argument("--lenet", default=os.path.join(repo, "models", "lenet", "lenet.onnx"))
    ap.add_argument("out")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    want = re.compile(args.models)
    make_onnx_helper_models(args, want)
    make_torchvision_quantized(args, want)


if __name__ == "__main__":
    main()
