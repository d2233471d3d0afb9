#!/usr/bin/python3
"""Writes models/testdata/resnet_bn.onnx, a small torchvision-style residual CNN with BatchNorm (random
weights, fixed seed), and models/testdata/resnet_bn_reference.json, PyTorch's gradients of it in training
mode, for models/import_resnet_test.go (`onnxrun train --from` on a residual CNN with BatchNorm).

The network, on 1x28x28 images: a 3x3 stem of 8 filters with BatchNorm and ReLU, then two of
torchvision's BasicBlocks (conv3x3-BN-ReLU-conv3x3-BN, added to the input, then ReLU): one at 8 filters,
one at 16 filters and stride 2 whose shortcut is a 1x1 stride-2 conv with BatchNorm (torchvision's
"downsample"), GlobalAveragePool, Flatten and a Linear head of 10 classes. It is exported as
torchvision models are, in eval mode at opset 13 with a dynamic batch, with the BatchNormalization nodes
kept (constant folding would fold them into the convolutions).

The reference holds a batch of 4 images x and labels y, and after one forward and backward in training
mode (batch statistics) with the mean cross-entropy loss: the loss, the logits, the gradient of every
parameter (named as the ONNX initializers are) and every BatchNorm's running mean and variance after the
step. BatchNorm's weights and biases and the running statistics are randomised, so that a running average
or a shift wired to the wrong place shows.

Run with Debian's python3 (torch 1.13): /usr/bin/python3 scripts/make_resnet_import_model.py
"""
import json
import os

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(19)
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "testdata")


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock, with its names."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + identity)


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = BasicBlock(8, 8)
        self.layer2 = BasicBlock(8, 16, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def tensor(t):
    return {"shape": list(t.shape), "data": [float("%.9g" % float(v)) for v in t.detach().reshape(-1)]}


net = SmallResNet()
with torch.no_grad():
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.3, 0.3)
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)

net.eval()
path = os.path.join(HERE, "resnet_bn.onnx")
torch.onnx.export(net, torch.zeros(1, 1, 28, 28), path, opset_version=13, input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, training=torch.onnx.TrainingMode.PRESERVE,
                  do_constant_folding=False)
model = onnx.load(path)
ops = [n.op_type for n in model.graph.node]
assert ops.count("BatchNormalization") == 6 and ops.count("Add") == 2, ops
# ONNX initializer names are the state_dict's (PyTorch keeps them when nothing is folded).
inits = {i.name for i in model.graph.initializer}

x = torch.rand(4, 1, 28, 28)
y = torch.tensor([3, 1, 7, 0])
net.train()
logits = net(x)
loss = F.cross_entropy(logits, y)
loss.backward()
ref = {"x": tensor(x), "labels": y.tolist(), "loss": float(loss), "logits": tensor(logits)}
for name, p in net.named_parameters():
    assert name in inits, (name, sorted(inits))
    ref["d/" + name] = tensor(p.grad)
for name, b in net.named_buffers():
    if not name.endswith("num_batches_tracked"):
        assert name in inits, (name, sorted(inits))
        ref["after/" + name] = tensor(b)
with open(os.path.join(HERE, "resnet_bn_reference.json"), "w") as f:
    json.dump(ref, f, separators=(",", ":"))
    f.write("\n")
print("wrote", path, "and resnet_bn_reference.json:", sum(p.numel() for p in net.parameters()), "parameters;", ops)
