#!/usr/bin/python3
"""Writes models/testdata/train_references.json: forward outputs and gradients, computed by PyTorch, of
the trainer's layers on fixed small inputs and weights, for models/reference_test.go.

Each case holds its inputs (x; the parameters, named as PyTorch's state_dict names them, which is how
onnxrun names them too), the upstream gradient dy (the loss is sum(y * dy)), and PyTorch's results: y,
dx and d<parameter> for every parameter, and for BatchNorm the running averages after the step.

Run with Debian's python3 (torch 1.13): /usr/bin/python3 scripts/make_train_references.py
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(17)
torch.set_default_dtype(torch.float64)  # references in float64; the Go test compares float32 results


def tensor(t):
    return {"shape": list(t.shape), "data": [round(float(v), 12) for v in t.detach().reshape(-1)]}


def run(module, x, names):
    """Forward in training mode, backward of sum(y * dy); returns the case's tensors."""
    x = x.clone().requires_grad_(True)
    case = {"x": tensor(x)}
    for name, p in module.named_parameters():
        case[name] = tensor(p)
    for name, b in module.named_buffers():
        if name.endswith("num_batches_tracked"):
            continue
        case[name + "_before"] = tensor(b)
    module.train()
    y = module(x)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    case["dy"], case["y"], case["dx"] = tensor(dy), tensor(y), tensor(x.grad)
    for name, p in module.named_parameters():
        case["d" + name] = tensor(p.grad)
    for name, b in module.named_buffers():
        if not name.endswith("num_batches_tracked"):
            case[name] = tensor(b)
    assert set(n for n, _ in module.named_parameters()) <= set(names), names
    return case


def randomize_bn(bn):
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)


class Act(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)


class GAP(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


class Block(nn.Module):
    """conv-bn-relu-conv-bn plus a 1x1 stride-2 projection (bn'd), added, relu: models.NewResNet's block.
    Padding 1 with stride 2 on an even size is onnxrun's same padding only when the begin pad is 0, so
    the strided 3x3 convolution pads explicitly (0 before, 1 after) as SAME_UPPER does."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=2, padding=0)
        self.bn1 = nn.BatchNorm2d(cout, momentum=0.1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(cout, momentum=0.1)
        self.proj = nn.Conv2d(cin, cout, 1, stride=2)
        self.proj_bn = nn.BatchNorm2d(cout, momentum=0.1)
        for bn in (self.bn1, self.bn2, self.proj_bn):
            randomize_bn(bn)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(F.pad(x, (0, 1, 0, 1)))))
        h = self.bn2(self.conv2(h))
        return F.relu(h + self.proj_bn(self.proj(x)))


cases = {}
bn = nn.BatchNorm2d(3, momentum=0.1, eps=1e-5)
randomize_bn(bn)
cases["batchnorm"] = run(bn, torch.randn(4, 3, 5, 5) * 2 + 1, ["weight", "bias"])
cases["gelu"] = run(Act(lambda x: F.gelu(x)), torch.randn(2, 3, 4, 4) * 2, [])
cases["silu"] = run(Act(F.silu), torch.randn(2, 3, 4, 4) * 2, [])
cases["gap"] = run(GAP(), torch.randn(2, 3, 4, 4), [])
block = Block(2, 4)
cases["residual_block"] = run(block, torch.randn(3, 2, 6, 6), [n for n, _ in block.named_parameters()])

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "testdata", "train_references.json")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump({"generator": "scripts/make_train_references.py, torch " + torch.__version__, "cases": cases}, f)
print("wrote", os.path.normpath(out), os.path.getsize(out), "bytes")
