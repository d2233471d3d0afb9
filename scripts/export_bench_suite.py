#!/usr/bin/env python3
"""Export the rest of issue 15's real-architecture suite to ONNX, with random weights, for make bench-compare.

    export_bench_suite.py SHARED OUTDIR [NAME ...]

../shared/tools/make_big_models.py makes ResNet-50, MobileNetV2, EfficientNet-B0, SqueezeNet 1.1, ViT-B/16 and
the BERT-base encoder; this script makes the others, with the same file conventions and the same care that
outputs are not degenerate (its helpers are imported from SHARED/tools/make_big_models.py, not copied):

  mobilenet_v3_large   torchvision, [N,3,224,224]
  shufflenet_v2        torchvision shufflenet_v2_x1_0, [N,3,224,224]
  deeplabv3_mbv3       torchvision segmentation deeplabv3_mobilenet_v3_large (21 classes, no aux head), [N,3,256,256]
  yolo_small           a YOLOv5s-shaped detector written here: Conv-BN-SiLU, C3 blocks, SPPF, an upsample+Concat
                       neck (FPN+PAN), 3 heads whose sigmoids are flattened and concatenated, [N,3,320,320]
  unet                 a U-Net (16..256 channels, 4 levels, ConvTranspose up, skip Concats), [N,3,256,256]
  gpt2_step            a GPT-2-small-shaped decoder step with a KV cache: 12 pre-LayerNorm layers, d 768, 12 heads,
                       GELU in its tanh form, one new token's hidden state [N,1,768] and past_0..past_11
                       [2,N,12,128,64] in; the final LayerNorm's hidden state [N,1,768] and present_0..present_11
                       [2,N,12,129,64] out (no vocabulary projection: the step's cost is the layers'). Each layer
                       has its own weights.
  bert_base_shared     the BERT-base encoder of make_big_models.py (12 post-LayerNorm layers, d 768, 12 heads, ff
                       3072, GELU) with one layer's weights shared by all 12 layers (ALBERT-style), [N,128,768]: a
                       27 MB file whose every weight is read by 12 nodes, for issue 20's "weights held once".

Per model, in OUTDIR: NAME.onnx (symbolic batch N), NAME_b1static.onnx (batch fixed at 1, for FLOP counters),
NAME_in_1.npy and NAME_in_8.npy (the first input at batch 1 and 8, the same first row), for a model with more
inputs NAME_in_1.INPUT.npy and NAME_in_8.INPUT.npy for each further input, NAME_torch_out_8.npy (torch's first
output for the 8 rows) and, for further outputs, NAME_torch_out_8.OUTPUT.npy; and one line in
OUTDIR/manifest.jsonl (the error, for a model that did not export).

Weights: torch.manual_seed(0); weights initialised to all zeros are re-drawn from N(0, 0.02) and BatchNorm
running statistics are set by training-mode passes on other random batches (make_big_models.py's fix_zero_init
and calibrate_bn), so activations keep their scale.
"""
import json
import math
import os
import sys
import traceback

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

if len(sys.argv) < 3:
    print(__doc__, file=sys.stderr)
    sys.exit(2)
sys.path.insert(0, os.path.join(sys.argv[1], "tools"))
import make_big_models as big  # noqa: E402  (the shared folder's helpers: fix_zero_init, calibrate_bn, check_onnx)

SEED = 0


def image_input_of(size):
    """ImageNet-normalised uniform pixels at size x size, as make_big_models.image_input at 224."""

    def make(n, seed=1234):
        rng = np.random.default_rng(seed)
        x = rng.uniform(0.0, 1.0, size=(n, 3, size, size)).astype(np.float32)
        mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
        std = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)
        return [("input", ((x - mean) / std).astype(np.float32))]

    return make


class FirstOutput(nn.Module):
    """torchvision's segmentation models return a dict; the export wants the "out" tensor."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def deeplab():
    return FirstOutput(torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(
        weights=None, weights_backbone=None, num_classes=21, aux_loss=False))


# --- a YOLOv5s-shaped detector -------------------------------------------------------------------------------

class ConvBNSiLU(nn.Module):
    def __init__(self, cin, cout, k=1, s=1, p=None):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, k // 2 if p is None else p, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.silu(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut=True):
        super().__init__()
        self.cv1 = ConvBNSiLU(c, c, 1)
        self.cv2 = ConvBNSiLU(c, c, 3)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3(nn.Module):
    def __init__(self, cin, cout, n=1, shortcut=True):
        super().__init__()
        h = cout // 2
        self.cv1 = ConvBNSiLU(cin, h)
        self.cv2 = ConvBNSiLU(cin, h)
        self.cv3 = ConvBNSiLU(2 * h, cout)
        self.m = nn.Sequential(*[Bottleneck(h, shortcut) for _ in range(n)])

    def forward(self, x):
        return self.cv3(torch.cat([self.m(self.cv1(x)), self.cv2(x)], 1))


class SPPF(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        h = cin // 2
        self.cv1 = ConvBNSiLU(cin, h)
        self.cv2 = ConvBNSiLU(4 * h, cout)
        self.pool = nn.MaxPool2d(5, 1, 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.pool(x)
        y2 = self.pool(y1)
        return self.cv2(torch.cat([x, y1, y2, self.pool(y2)], 1))


class YoloSmall(nn.Module):
    """YOLOv5s's layout (width 0.5, depth 0.33): backbone, SPPF, FPN+PAN neck, three 255-channel heads."""

    ANCHORS, CLASSES = 3, 80

    def __init__(self):
        super().__init__()
        self.stem = ConvBNSiLU(3, 32, 6, 2, 2)  # YOLOv5's 6x6 stem, padding 2: 320 -> 160
        self.b1 = nn.Sequential(ConvBNSiLU(32, 64, 3, 2), C3(64, 64, 1))
        self.b2 = nn.Sequential(ConvBNSiLU(64, 128, 3, 2), C3(128, 128, 2))  # P3
        self.b3 = nn.Sequential(ConvBNSiLU(128, 256, 3, 2), C3(256, 256, 3))  # P4
        self.b4 = nn.Sequential(ConvBNSiLU(256, 512, 3, 2), C3(512, 512, 1), SPPF(512, 512))  # P5
        self.lat5 = ConvBNSiLU(512, 256)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.td4 = C3(512, 256, 1, False)
        self.lat4 = ConvBNSiLU(256, 128)
        self.td3 = C3(256, 128, 1, False)  # out P3
        self.down3 = ConvBNSiLU(128, 128, 3, 2)
        self.bu4 = C3(256, 256, 1, False)  # out P4
        self.down4 = ConvBNSiLU(256, 256, 3, 2)
        self.bu5 = C3(512, 512, 1, False)  # out P5
        out = self.ANCHORS * (self.CLASSES + 5)
        self.heads = nn.ModuleList([nn.Conv2d(c, out, 1) for c in (128, 256, 512)])

    def forward(self, x):
        p3 = self.b2(self.b1(self.stem(x)))
        p4 = self.b3(p3)
        p5 = self.b4(p4)
        l5 = self.lat5(p5)
        t4 = self.td4(torch.cat([self.up(l5), p4], 1))
        l4 = self.lat4(t4)
        o3 = self.td3(torch.cat([self.up(l4), p3], 1))
        o4 = self.bu4(torch.cat([self.down3(o3), l4], 1))
        o5 = self.bu5(torch.cat([self.down4(o4), l5], 1))
        outs = []
        for head, f in zip(self.heads, (o3, o4, o5)):
            y = head(f)
            n, _, h, w = y.shape
            y = y.reshape(n, self.ANCHORS, self.CLASSES + 5, h, w).permute(0, 1, 3, 4, 2)
            outs.append(torch.sigmoid(y).reshape(n, -1, self.CLASSES + 5))
        return torch.cat(outs, 1)  # [N, boxes, 85]


# --- a U-Net -------------------------------------------------------------------------------------------------

class DoubleConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                                  nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

    def forward(self, x):
        return self.body(x)


class UNet(nn.Module):
    def __init__(self, widths=(16, 32, 64, 128, 256), classes=2):
        super().__init__()
        self.downs = nn.ModuleList()
        cin = 3
        for w in widths:
            self.downs.append(DoubleConv(cin, w))
            cin = w
        self.ups = nn.ModuleList()
        self.up_convs = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.ups.append(nn.ConvTranspose2d(cin, w, 2, stride=2))
            self.up_convs.append(DoubleConv(2 * w, w))
            cin = w
        self.head = nn.Conv2d(cin, classes, 1)

    def forward(self, x):
        skips = []
        for i, d in enumerate(self.downs):
            x = d(x)
            if i < len(self.downs) - 1:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, conv, skip in zip(self.ups, self.up_convs, reversed(skips)):
            x = conv(torch.cat([up(x), skip], 1))
        return self.head(x)


# --- a GPT-2-small-shaped decoder step with a KV cache -------------------------------------------------------

GPT_LAYERS, GPT_D, GPT_HEADS, GPT_PAST = 12, 768, 12, 128


class GPTBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(GPT_D)
        self.qkv = nn.Linear(GPT_D, 3 * GPT_D)
        self.proj = nn.Linear(GPT_D, GPT_D)
        self.ln2 = nn.LayerNorm(GPT_D)
        self.fc = nn.Linear(GPT_D, 4 * GPT_D)
        self.out = nn.Linear(4 * GPT_D, GPT_D)

    def forward(self, x, past):  # x [N, 1, D], past [2, N, H, P, dh]
        n, s, d = x.shape
        dh = d // GPT_HEADS
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)

        def heads(t):
            return t.reshape(n, s, GPT_HEADS, dh).transpose(1, 2)  # [N, H, 1, dh]

        k = torch.cat([past[0], heads(k)], dim=2)
        v = torch.cat([past[1], heads(v)], dim=2)
        # one new token sees every past position: no causal mask is needed
        a = torch.softmax(torch.matmul(heads(q), k.transpose(-1, -2)) / math.sqrt(dh), dim=-1)
        c = torch.matmul(a, v).transpose(1, 2).reshape(n, s, d)
        x = x + self.proj(c)
        h = self.fc(self.ln2(x))
        h = 0.5 * h * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * torch.pow(h, 3.0))))  # GPT-2's gelu_new
        return x + self.out(h), torch.stack([k, v])


class GPT2Step(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([GPTBlock() for _ in range(GPT_LAYERS)])
        self.ln_f = nn.LayerNorm(GPT_D)
        with torch.no_grad():  # GPT-2's initialisation, drawn afresh per layer
            for name, p in self.named_parameters():
                if p.dim() >= 2:
                    p.normal_(0.0, 0.02)
                elif "ln" in name and name.endswith("weight"):
                    p.uniform_(0.8, 1.2)
                else:
                    p.uniform_(-0.02, 0.02)

    def forward(self, x, *pasts):
        presents = []
        for block, past in zip(self.blocks, pasts):
            x, present = block(x, past)
            presents.append(present)
        return (self.ln_f(x), *presents)


def gpt2_inputs(n, seed=4321):
    rng = np.random.default_rng(seed)
    dh = GPT_D // GPT_HEADS
    ins = [("hidden", rng.standard_normal(size=(n, 1, GPT_D)).astype(np.float32))]
    for i in range(GPT_LAYERS):
        # past keys and values at the scale of the layers' own projections of unit-variance tokens
        ins.append((f"past_{i}", rng.standard_normal(size=(2, n, GPT_HEADS, GPT_PAST, dh)).astype(np.float32)))
    return ins


GPT2_OUTPUTS = ["hidden_out"] + [f"present_{i}" for i in range(GPT_LAYERS)]


class SharedEncoder(nn.Module):
    """One BERT-base encoder layer applied LAYERS times: the exporter writes its weights once and every layer's
    nodes read the same initializers."""

    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(d_model=big.DMODEL, nhead=big.HEADS, dim_feedforward=big.FF,
                                                dropout=0.0, activation="gelu", batch_first=True, norm_first=False)
        with torch.no_grad():  # as make_big_models.torch_encoder draws each layer's weights
            for name, p in self.layer.named_parameters():
                if p.dim() >= 2:
                    nn.init.xavier_uniform_(p)
                elif "norm" in name and name.endswith("weight"):
                    p.uniform_(0.8, 1.2)
                else:
                    p.uniform_(-0.02, 0.02)

    def forward(self, x):
        for _ in range(big.LAYERS):
            x = self.layer(x)
        return x


def bert_inputs(n, seed=4321):
    return [("input", big.bert_input(n, seed))]


def image_model(name):
    def make():
        return getattr(torchvision.models, name)(weights=None)
    return make


# name, constructor, input maker (n, seed) -> [(input name, array)], output names,
# the batch axis of an input or output by name (None: 0), opsets to try
MODELS = [
    ("mobilenet_v3_large", image_model("mobilenet_v3_large"), image_input_of(224), ["output"], None, [13, 14]),
    ("shufflenet_v2", image_model("shufflenet_v2_x1_0"), image_input_of(224), ["output"], None, [13, 14]),
    ("deeplabv3_mbv3", deeplab, image_input_of(256), ["output"], None, [13, 14]),
    ("yolo_small", YoloSmall, image_input_of(320), ["output"], None, [13, 14]),
    ("unet", UNet, image_input_of(256), ["output"], None, [13, 14]),
    ("bert_base_shared", SharedEncoder, bert_inputs, ["output"], None, [13, 14]),
    ("gpt2_step", GPT2Step, gpt2_inputs, GPT2_OUTPUTS, lambda name: 0 if name.startswith("hidden") else 1, [13, 14]),
]


def batch_slice(arr, axis, n):
    return np.take(arr, np.arange(n), axis=axis)


def export(name, make, make_inputs, output_names, batch_axis_of, opsets, outdir):
    batch_axis_of = batch_axis_of or (lambda _name: 0)
    torch.manual_seed(SEED)
    model = make().eval()
    zero_fixed = big.fix_zero_init(model)
    # calibrate_bn feeds make_input(8, seed=...) as one tensor: only the one-input image models have BatchNorm
    n_bn = big.calibrate_bn(model, lambda n, seed: make_inputs(n, seed)[0][1])
    ins8 = make_inputs(8)
    in_names = [k for k, _ in ins8]
    with torch.no_grad():
        outs8 = model(*[torch.from_numpy(v) for _, v in ins8])
    if not isinstance(outs8, (tuple, list)):
        outs8 = (outs8,)
    outs8 = [o.numpy().astype(np.float32) for o in outs8]
    first = outs8[0]
    rows = first.reshape(8, -1) if batch_axis_of(in_names[0]) == 0 else None
    margin = None
    if rows is not None and rows.shape[1] >= 2:
        top2 = np.sort(rows, axis=1)[:, -2:]
        margin = float((top2[:, 1] - top2[:, 0]).min())
    ins1 = [(k, batch_slice(v, batch_axis_of(k), 1)) for k, v in ins8]
    example = tuple(torch.from_numpy(v) for _, v in ins1)
    dyn = {k: {batch_axis_of(k): "N"} for k in in_names}
    dyn.update({o: {batch_axis_of(o): "N"} for o in output_names})
    path = os.path.join(outdir, name + ".onnx")
    last = None
    for opset in opsets:
        try:
            torch.onnx.export(model, example, path, opset_version=opset, input_names=in_names,
                              output_names=output_names, dynamic_axes=dyn, do_constant_folding=True)
            ops = big.check_onnx(path)
            break
        except Exception as e:  # noqa: BLE001 - report whatever the exporter raised
            last = e
            print(f"{name}: opset {opset} failed: {type(e).__name__}: {e}".splitlines()[0], file=sys.stderr)
            if os.path.exists(path):
                os.remove(path)
    else:
        raise last
    torch.onnx.export(model, example, os.path.join(outdir, name + "_b1static.onnx"), opset_version=opset,
                      input_names=in_names, output_names=output_names, do_constant_folding=True)
    for n, ins in ((1, ins1), (8, ins8)):
        for i, (k, v) in enumerate(ins):
            suffix = "" if i == 0 else "." + k
            np.save(os.path.join(outdir, f"{name}_in_{n}{suffix}.npy"), v)
    for i, o in enumerate(outs8):
        suffix = "" if i == 0 else "." + output_names[i]
        np.save(os.path.join(outdir, f"{name}_torch_out_8{suffix}.npy"), o)
    return {"name": name, "file": name + ".onnx", "opset": opset,
            "inputs": {k: list(v.shape) for k, v in ins8}, "batch_axis": {k: batch_axis_of(k) for k in in_names},
            "input_shape": ["N"] + list(ins8[0][1].shape[1:]), "output_shape": ["N"] + list(first.shape[1:]),
            "ops": ops, "params": int(sum(p.numel() for p in model.parameters())),
            "zero_init_reinitialised": zero_fixed, "batchnorms_calibrated": n_bn,
            "torch_out_max_abs": float(np.abs(first).max()), "torch_out_std": float(first.std()),
            "torch_out_min_top1_margin": margin, "torch": torch.__version__, "torchvision": torchvision.__version__}


def main():
    outdir = sys.argv[2]
    want = set(sys.argv[3:])
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for name, make, make_inputs, outputs, batch_axis_of, opsets in MODELS:
        if want and name not in want:
            continue
        try:
            rec = export(name, make, make_inputs, outputs, batch_axis_of, opsets, outdir)
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            rec = {"name": name, "error": f"{type(e).__name__}: {e}".splitlines()[0]}
        print(json.dumps(rec), flush=True)
        with open(os.path.join(outdir, "manifest.jsonl"), "a") as f:
            f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
