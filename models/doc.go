// Package models trains small convolutional networks in Go and exports them to ONNX: the seed's LeNet
// (NewLeNet), a small residual CNN with BatchNorm (NewResNet, SmallResNet), and any Sequential stack or
// Graph of the same layers, trained on MNIST or Fashion-MNIST read from IDX files, with SGD (momentum) or
// Adam, and written out through package exporter.
//
// # Layers and kernels
//
// A Network is a graph of layers: Conv2D (with stride and valid or same padding) and Dense, each with an
// optional activation as in Keras (relu, sigmoid, tanh, gelu, silu), BatchNorm, Pool2D (max or average),
// GlobalAveragePool, Flatten, Dropout and Add. NewSequential chains layers, each reading the previous
// one's output; a Graph (NewGraph, Graph.Layer(layer, from...)) lets a layer read earlier outputs by name,
// and Add sums two or more of them: the residual connection. Both build the same Network and run the same
// forward and backward loop: layers in the order given, and backwards in reverse, the gradients of an
// output that several layers read summed in a fixed order. The forward pass runs the very operator kernels that
// inference runs: each layer looks its ops up in the registry (ops.Lookup("", "Conv", 13) → Builder →
// InferShapes → Prepare → Kernel.Run), so a faster kernel speeds training as well. The backward pass runs
// the gradient kernels of ops/cnn (ConvGrad, GemmGrad, MaxPoolGrad, AveragePoolGrad, ReluGrad, ... in domain
// ops.TrainingDomain) through the same interface (GlobalAveragePool's gradient is AveragePoolGrad over one
// whole-image window, Add's the identity through the Add kernel's inputs); BatchNorm, GELU, SiLU, Dropout,
// augmentation and the softmax cross-entropy loss are plain loops here.
//
// # BatchNorm
//
// In training a BatchNorm normalizes with the statistics of each thread's shard of the batch and, after
// every step, moves its running averages (Network.Buffers, not trained by gradients) towards the whole
// batch's, combined from the shards in order; inference and the export use the running averages. The
// export keeps it as BatchNormalization or, with ExportOptions.FoldBatchNorm, folds it into the Conv2D or
// Dense before it. TestLayersMatchPyTorch and TestResidualBlockMatchesPyTorch compare BatchNorm, GELU,
// SiLU, GlobalAveragePool and a residual block with PyTorch (models/testdata/train_references.json, made by
// scripts/make_train_references.py).
//
// # Threads and determinism
//
// A training step splits the mini-batch into one contiguous shard per thread. Each thread has a worker with
// its own kernels, activations, scratch memory and gradient buffers; the gradients are then summed in a
// fixed order and the optimizer updates the shared parameters. Parameters start from Glorot-uniform
// weights and zero biases (Keras's defaults), data is shuffled and dropout masks drawn from PCG generators
// seeded by Config.Seed, so the same seed and thread count give the same run, bit for bit. Augmentation
// (Config.Augment: shifts, flips, rotations) draws from a generator per example, seeded by Config.Seed and
// the example's position in the run, so it does not depend on the thread count either.
//
// # Layout
//
// Tensors are NCHW float32, images scaled to [0, 1]. Dense weights are [out, in] and run as Gemm with
// transB=1, the layout PyTorch exports; Conv weights are [filters, channels, kh, kw].
//
// # Errors
//
// Layer shapes are checked when the Network is built (NewSequential), with errors naming the layer and the
// sizes. Data files that are missing, truncated or not IDX give an *IDXError naming the file.
package models
