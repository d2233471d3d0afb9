#!/usr/bin/env python3
"""Exports two small transformers shaped like the suite's BERT-base encoder and ViT-B/16, for the tests of
the transformer fusions (runtime.TestPassesFuseTransformerExports).

The suite's big exports (`make big-models`, about 750 MB) are what bench-compare runs; these have the same
structure, exported by the same torch modules at the same opset, so torch writes the same decomposed
LayerNorm, attention and GELU patterns, but with 2 layers of width 64 they export in seconds and CI can make
them:

  bert_small_enc_b1static.onnx  nn.TransformerEncoder (post-norm, GELU, batch_first), 2 layers, d_model 64,
                                4 heads, ff 128, input [1, 16, 64]
  vit_small_b1static.onnx       torchvision's VisionTransformer, image 32, patch 8, 2 layers, 4 heads,
                                hidden 64, mlp 128, input [1, 3, 32, 32]

Usage: export_small_transformers.py OUTDIR
"""
import os
import sys

import torch
import torch.nn as nn
import torchvision


def bert_small():
    layer = nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128, dropout=0.0,
                                       activation="gelu", batch_first=True, norm_first=False)
    enc = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
    # Every layer its own weights, as make_big_models.py draws them (a deep copy would share one set).
    with torch.no_grad():
        for l in enc.layers:
            for name, p in l.named_parameters():
                if p.dim() >= 2:
                    nn.init.xavier_uniform_(p)
                elif "norm" in name and name.endswith("weight"):
                    p.uniform_(0.8, 1.2)
                else:
                    p.uniform_(-0.02, 0.02)
    return enc, torch.randn(1, 16, 64)


def vit_small():
    model = torchvision.models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4,
                                                 hidden_dim=64, mlp_dim=128, num_classes=10)
    return model, torch.randn(1, 3, 32, 32)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(7)
    for name, make in (("bert_small_enc", bert_small), ("vit_small", vit_small)):
        model, x = make()
        model.eval()
        path = os.path.join(out, name + "_b1static.onnx")
        # With gradients on, as make_big_models.py exports: under no_grad torch's fused encoder fast path
        # (aten::_transformer_encoder_layer_fwd) takes over and has no ONNX export.
        torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["output"])
        print(path)


if __name__ == "__main__":
    main()
