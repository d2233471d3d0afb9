#!/usr/bin/env python3
"""Trains the seed's LeNet or the residual CNN in PyTorch exactly as `onnxrun train` does, and prints its
throughput.

Same network: with --arch lenet (the default) the seed's LeNet (Conv 6@3x3 relu, AvgPool 2, Conv 16@3x3
relu, AvgPool 2, Flatten, Dense 120 relu, Dense 84 relu, Dense 10; 60,074 parameters); with --arch
resnet-small models.SmallResNet (`onnxrun train --arch resnet-small`: a 3x3 stem of 16, BatchNorm, ReLU,
then one residual block per width 16, 32, 64, the second and third with stride 2 and a 1x1 projection,
GlobalAveragePool, Dense 10; BatchNorm in training mode with PyTorch's momentum 0.1, i.e. onnxrun's 0.9,
and eps 1e-5; 78,090 parameters, checked at start). Same data (the MNIST IDX files, pixels / 255), same loss (softmax
cross-entropy), same optimizer (Adam, lr 0.001, eps 1e-7) and batch size, same threads (torch's and
OpenBLAS's). Only the training steps are timed (forward, loss, backward, update, and the per-batch copy
of the images), as onnxrun's per-epoch img/s figure does. Prints one JSON line, naming the BLAS.

usage: python3 scripts/bench_train_torch.py --data data/mnist --batch 128 --threads 2 --limit 20000 [--arch resnet-small]
Needs Debian's python3-torch (PyTorch 1.13): apt-get install python3-torch.
"""
import argparse, ctypes, gzip, json, os, struct, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 2051:
        r, c = struct.unpack(">II", data[8:16])
        return np.frombuffer(data[16:], np.uint8).reshape(n, 1, r, c)
    return np.frombuffer(data[8:], np.uint8)


def find(d, name):
    for p in (os.path.join(d, name + ".gz"), os.path.join(d, name)):
        if os.path.exists(p):
            return p
    raise SystemExit(f"{d}: {name}(.gz) is missing (run make data)")


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 3)
        self.c2 = nn.Conv2d(6, 16, 3)
        self.f1 = nn.Linear(400, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.avg_pool2d(F.relu(self.c1(x)), 2)
        x = F.avg_pool2d(F.relu(self.c2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.f1(x))
        x = F.relu(self.f2(x))
        return self.f3(x)


class Block(nn.Module):
    """models.NewResNet's block: conv3x3-BN-ReLU-conv3x3-BN, plus the input (or its 1x1 projection, BN'd,
    when the stride or the width changes), then ReLU. Every convolution keeps its bias, as onnxrun's do."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.proj is None else self.proj(x)))


class SmallResNet(nn.Module):
    """models.SmallResNet: widths 16, 32, 64 at 28x28, 14x14 and 7x7, one block each, 10 classes."""

    def __init__(self, widths=(16, 32, 64), classes=10):
        super().__init__()
        self.stem = nn.Conv2d(1, widths[0], 3, 1, 1)
        self.stem_bn = nn.BatchNorm2d(widths[0])
        blocks, cin = [], widths[0]
        for s, w in enumerate(widths):
            blocks.append(Block(cin, w, 2 if s > 0 else 1))
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.stem_bn(self.stem(x))))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# The networks and their parameter counts in `onnxrun train`'s model summary.
ARCHS = {"lenet": (LeNet, 60074), "resnet-small": (SmallResNet, 78090)}


def set_blas_threads(n):
    """Gives the BLAS behind torch's Linear layers n threads, as torch.set_num_threads does not, and returns
    its name and thread count (OpenBLAS only; other BLAS libraries are named but left alone)."""
    try:
        lib = ctypes.CDLL("libblas.so.3")  # the copy libtorch_cpu.so loaded
    except OSError:
        return "no libblas.so.3", 0
    if not hasattr(lib, "openblas_set_num_threads"):
        return "not OpenBLAS", 0
    lib.openblas_set_num_threads(n)
    lib.openblas_get_config.restype = ctypes.c_char_p
    return lib.openblas_get_config().decode(), lib.openblas_get_num_threads()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="lenet", choices=sorted(ARCHS))
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images (0: all)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    blas, blas_threads = set_blas_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr = idx(find(a.data, "train-images-idx3-ubyte"))
    ytr = idx(find(a.data, "train-labels-idx1-ubyte")).astype(np.int64)
    if a.limit:
        xtr, ytr = xtr[: a.limit], ytr[: a.limit]
    images = torch.from_numpy(xtr.copy())  # uint8, scaled per batch like onnxrun's trainer
    labels = torch.from_numpy(ytr.copy())
    make, want_params = ARCHS[a.arch]
    net = make()
    params = sum(p.numel() for p in net.parameters())
    if params != want_params:
        raise SystemExit(f"{a.arch}: {params} parameters, onnxrun's has {want_params}: the twin has drifted")
    net.train()  # BatchNorm on the batch's statistics, as onnxrun's training steps
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    g = torch.Generator().manual_seed(a.seed)
    total, seconds, loss_sum = 0, 0.0, 0.0
    for _ in range(a.epochs):
        perm = torch.randperm(len(images), generator=g)
        t0 = time.perf_counter()
        for i in range(0, len(images), a.batch):
            b = perm[i : i + a.batch]
            x = images[b].float().div_(255)
            loss = F.cross_entropy(net(x), labels[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(b)
            total += len(b)
        seconds += time.perf_counter() - t0
    print(json.dumps({"framework": f"pytorch {torch.__version__}", "arch": a.arch, "params": params, "threads": a.threads, "batch": a.batch,
                      "images": total, "seconds": round(seconds, 3), "images_per_sec": round(total / seconds, 1),
                      "mean_loss": round(loss_sum / total, 4), "torch_threads": torch.get_num_threads(),
                      "blas": blas, "blas_threads": blas_threads}))


if __name__ == "__main__":
    main()
