#!/usr/bin/env python3
"""Export models with symbolic height and width, with ONNX Runtime's outputs at two sizes.

Issue 14 asks that a model whose spatial size is symbolic ([1,3,H,W]: detectors, segmenters, text
recognisers) compile once and run at any size, matching ONNX Runtime at each. This writes, for each model,
OUT_DIR/<name>/ in the layout conformance.RunModelDir reads:

    model.onnx                 exported by torch.onnx.export with dynamic_axes on H and W (and the output's)
    input_0.npy, expected_0.npy                    the first size: a fixed N(0, 1) input, ONNX Runtime's output
    data_set_<H>x<W>/input_0.npy, expected_0.npy   the second size, run by the same compiled plan
    info.json                  versions, opset, seed, sizes, PyTorch's distance from ONNX Runtime

The models:
  - lraspp_mobilenet_v3_large, torchvision's LR-ASPP MobileNetV3-Large segmenter: a strided backbone, a
    squeeze-excitation head and two bilinear Resizes whose output sizes come from the input's Shape, so
    that every size the graph computes follows H and W;
  - tiny_detector, a face-detector-like CNN of torchvision blocks whose unpadded MaxPools fit no 1x1 input
    (the failure of issue 14), with a top-down Resize + Add and per-pixel heads.
Weights are random with a fixed seed, BatchNorm statistics estimated on random batches
(export_torchvision.calibrate_batchnorm), as for the ImageNet CNNs.

Needs what export_torchvision.py needs (Debian's python3-torch and python3-torchvision, run with
/usr/bin/python3; Node and npm's onnxruntime-node in ORT_DIR); `make symbolic-size-models` does it all.

usage: export_symbolic_size.py [--ort-run PATH] OUT_DIR
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torchvision

from export_torchvision import SEED, calibrate_batchnorm, default_ort_run, ort_version

# Two sizes that differ in both dimensions, neither a multiple of the backbone's stride of 16 nor square,
# so that rounding in the strided layers and in the Resizes back to the input size is exercised.
SIZES = [(200, 152), (136, 264)]
OPSET = 13


class TinyDetector(torch.nn.Module):
    """A face-detector-like CNN of torchvision blocks: unpadded MaxPools (which no 1x1 input fits), a
    top-down path that resizes a coarse map to the size of a finer one (read from its Shape) and adds them,
    and per-pixel heads. Compilers that plan a symbolic H or W as 1 fail on its first MaxPool."""

    def __init__(self):
        super().__init__()
        block = torchvision.ops.misc.Conv2dNormActivation
        self.stem = torch.nn.Sequential(block(3, 8, 3), torch.nn.MaxPool2d(2))
        self.c2 = torch.nn.Sequential(block(8, 16, 3), torch.nn.MaxPool2d(2))
        self.c3 = torch.nn.Sequential(block(16, 32, 3, stride=2), block(32, 32, 3, groups=32))
        self.lateral = torch.nn.Conv2d(16, 32, 1)
        self.scores = torch.nn.Conv2d(32, 2, 3, padding=1)
        self.boxes = torch.nn.Conv2d(32, 4, 1)

    def forward(self, x):
        c2 = self.c2(self.stem(x))
        c3 = self.c3(c2)
        p2 = self.lateral(c2) + torch.nn.functional.interpolate(c3, size=c2.shape[-2:], mode="nearest")
        return torch.cat([self.scores(p2).softmax(1), self.boxes(p2)], 1)


class SegmentationOut(torch.nn.Module):
    """torchvision's segmentation models return {"out": tensor}; ONNX wants a tensor."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def run_ort(ort_run, model_path, out_dir, input_path):
    """Runs ONNX Runtime on one input, writing out_dir/expected_0.npy, and returns it."""
    expected = os.path.join(out_dir, "expected_0.npy")
    if os.path.exists(expected):
        os.remove(expected)
    run = subprocess.run(["node", ort_run, model_path, out_dir, input_path], capture_output=True, text=True)
    if run.returncode != 0:
        report = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr.strip()
        raise SystemExit(f"{model_path}: ONNX Runtime failed (exit {run.returncode}): {report}")
    return np.load(expected)


# name -> (constructor of the exported module, the module whose BatchNorms are calibrated, output channels)
def lraspp():
    net = torchvision.models.segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=6)
    return SegmentationOut(net), net, 6


def tiny_detector():
    net = TinyDetector()
    return net, net, 6


MODELS = {"lraspp_mobilenet_v3_large": lraspp, "tiny_detector": tiny_detector}


def export(name, out_root, ort_run):
    out = os.path.join(out_root, name)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    model, net, channels = MODELS[name]()
    n_bn = calibrate_batchnorm(net)
    model.eval()

    path = os.path.join(out, "model.onnx")
    first = torch.randn(1, 3, *SIZES[0], generator=torch.Generator().manual_seed(SEED + 2))
    torch.onnx.export(model, first, path, opset_version=OPSET, input_names=["image"], output_names=["out"],
                      dynamic_axes={"image": {2: "height", 3: "width"}, "out": {2: "out_height", 3: "out_width"}},
                      do_constant_folding=True)

    sizes = []
    for k, (h, w) in enumerate(SIZES):
        folder = out if k == 0 else os.path.join(out, f"data_set_{h}x{w}")
        os.makedirs(folder, exist_ok=True)
        x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(SEED + 2 + k))
        with torch.no_grad():
            y = model(x).numpy()
        input_path = os.path.join(folder, "input_0.npy")
        np.save(input_path, x.numpy())
        ort = run_ort(ort_run, path, folder, input_path)
        if ort.shape != y.shape or ort.shape[:2] != (1, channels):
            raise SystemExit(f"{name}: ONNX Runtime gives {ort.shape} at {h}x{w}, PyTorch {y.shape}")
        sizes.append({"input": [1, 3, h, w], "output": list(ort.shape), "max_abs_output": float(np.abs(ort).max()),
                      "output_std": float(ort.std()), "torch_vs_onnxruntime_max_abs_diff": float(np.abs(ort - y).max())})
    info = {"model": name, "torch": torch.__version__, "torchvision": torchvision.__version__, "opset": OPSET,
            "seed": SEED, "batchnorm_layers_calibrated": n_bn, "params": sum(p.numel() for p in model.parameters()),
            "sizes": sizes, "onnxruntime_node": ort_version()}
    with open(os.path.join(out, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="folder to write one sub-folder per model into (e.g. .cache/symbolic)")
    ap.add_argument("--ort-run", default=default_ort_run(), help="path of ort_run.js (default: ../shared/tools)")
    args = ap.parse_args()
    if not os.path.exists(args.ort_run):
        ap.error(f"{args.ort_run} not found: give --ort-run")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for name in MODELS:
        info = export(name, args.out, args.ort_run)
        for s in info["sizes"]:
            print(f"{name:26s} {s['input']} -> {s['output']}: |torch - ort| {s['torch_vs_onnxruntime_max_abs_diff']:.2e} "
                  f"(max |y| {s['max_abs_output']:.3g}, std {s['output_std']:.3g})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
