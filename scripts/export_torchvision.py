#!/usr/bin/env python3
"""Export torchvision's classic ImageNet CNNs to ONNX, with ONNX Runtime's outputs as the reference.

For each model it writes OUT_DIR/<name>/ in the layout of ../shared/models, which `onnxrun conformance`
and conformance.TestTorchvisionModels read:

    model.onnx       exported by torch.onnx.export, batch 1, 3x224x224
    input_0.npy      a fixed random input, N(0, 1) like a normalised image
    expected_0.npy   ONNX Runtime's output for it (npm's onnxruntime-node, via ../shared/tools/ort_run.js)
    torch_0.npy      PyTorch's own output, kept to show how far the two references are apart
    info.json        versions, opset, seed, and that distance

No weights can be downloaded here, so every model is randomly initialised with a fixed seed (torchvision's
own initialisation), which is as good as trained weights for checking that two engines compute the same
function. Random BatchNorm statistics would leave activations unnormalised through 50+ layers, so the
running statistics are first estimated on a few random batches (train mode, no gradient), as training
would, and the model is exported in eval mode.

Needs Debian's python3-torch and python3-torchvision (apt-get install -y python3-torch python3-torchvision;
run with /usr/bin/python3, not a pyenv python), Node, and `npm install --ignore-scripts onnxruntime-node` in
the folder named by ORT_DIR (make torchvision-models does all of it).

usage: export_torchvision.py [--models alexnet,vgg16,...] [--ort-run PATH] OUT_DIR
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torchvision

from ortref import default_ort_run, ort_version  # scripts/ortref.py

# name -> (constructor, opset). The opsets differ on purpose, to cover several of the exporter's
# spellings of the same layers.
MODELS = {
    "alexnet": (lambda: torchvision.models.alexnet(weights=None), 11),
    "vgg16": (lambda: torchvision.models.vgg16(weights=None), 13),
    "resnet50": (lambda: torchvision.models.resnet50(weights=None), 17),
    "squeezenet1_1": (lambda: torchvision.models.squeezenet1_1(weights=None), 9),
    "googlenet": (lambda: torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True), 13),
    "densenet121": (lambda: torchvision.models.densenet121(weights=None), 13),
    "shufflenet_v2_x1_0": (lambda: torchvision.models.shufflenet_v2_x1_0(weights=None), 13),
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None), 13),
    "mobilenet_v3_small": (lambda: torchvision.models.mobilenet_v3_small(weights=None), 17),
}

SEED = 0
SIZE = 224


def calibrate_batchnorm(model, batches=3, batch_size=4):
    """Estimate BatchNorm running statistics on random inputs: a cumulative average (momentum None)."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return 0
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    gen = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(batch_size, 3, SIZE, SIZE, generator=gen))
    return len(bns)


def export(name, out_root, ort_run):
    build, opset = MODELS[name]
    out = os.path.join(out_root, name)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    model = build()
    n_bn = calibrate_batchnorm(model)
    model.eval()

    x = torch.randn(1, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(SEED + 2))
    with torch.no_grad():
        y = model(x)
    np.save(os.path.join(out, "input_0.npy"), x.numpy())
    np.save(os.path.join(out, "torch_0.npy"), y.numpy())

    path = os.path.join(out, "model.onnx")
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["logits"],
                      do_constant_folding=True)

    # ONNX Runtime's output is the reference (as for ../shared/models).
    for stale in ("expected_0.npy",):
        if os.path.exists(os.path.join(out, stale)):
            os.remove(os.path.join(out, stale))
    run = subprocess.run(["node", ort_run, path, out, os.path.join(out, "input_0.npy")],
                         capture_output=True, text=True)
    report = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr.strip()
    if run.returncode != 0:
        raise SystemExit(f"{name}: ONNX Runtime failed (exit {run.returncode}): {report}")
    ort = np.load(os.path.join(out, "expected_0.npy"))
    diff = float(np.abs(ort - y.numpy()).max())
    info = {
        "model": name, "torch": torch.__version__, "torchvision": torchvision.__version__, "opset": opset,
        "seed": SEED, "input": [1, 3, SIZE, SIZE], "batchnorm_layers_calibrated": n_bn,
        "params": sum(p.numel() for p in model.parameters()),
        "max_abs_output": float(np.abs(ort).max()), "torch_vs_onnxruntime_max_abs_diff": diff,
        "onnxruntime_node": ort_version(),
    }
    with open(os.path.join(out, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="folder to write one sub-folder per model into (e.g. .cache/torchvision)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of: " + ", ".join(MODELS))
    ap.add_argument("--ort-run", default=default_ort_run(), help="path of ort_run.js (default: ../shared/tools)")
    args = ap.parse_args()
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown models {unknown}; known: {', '.join(MODELS)}")
    if not os.path.exists(args.ort_run):
        ap.error(f"{args.ort_run} not found: give --ort-run")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for name in names:
        start = time.time()
        info = export(name, args.out, args.ort_run)
        print(f"{name:20s} opset {info['opset']:2d}  {info['params'] / 1e6:6.1f}M params  "
              f"|torch - ort| {info['torch_vs_onnxruntime_max_abs_diff']:.2e} (max |y| {info['max_abs_output']:.3g})  "
              f"{time.time() - start:.0f}s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
