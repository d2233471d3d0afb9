// Package models trains small convolutional networks in Go and exports them to ONNX: the seed's LeNet
// (NewLeNet) and any Sequential stack of the same layers, trained on MNIST or Fashion-MNIST read from IDX
// files, on a folder of images with one subfolder per class, or on an .npz file (LoadData), with SGD
// (momentum) or Adam, and written out through package exporter.
//
// # Layers and kernels
//
// A Network is a Sequential list of layers: Conv2D and Dense (each with an optional activation, as in
// Keras), Pool2D (max or average), Flatten and Dropout. The forward pass runs the very operator kernels that
// inference runs: each layer looks its ops up in the registry (ops.Lookup("", "Conv", 13) → Builder →
// InferShapes → Prepare → Kernel.Run), so a faster kernel speeds training as well. The backward pass runs
// the gradient kernels of ops/cnn (ConvGrad, GemmGrad, MaxPoolGrad, AveragePoolGrad, ReluGrad, ... in domain
// ops.TrainingDomain) through the same interface; only Dropout and the softmax cross-entropy loss are plain
// loops here.
//
// # Threads and determinism
//
// A training step splits the mini-batch into one contiguous shard per thread. Each thread has a worker with
// its own kernels, activations, scratch memory and gradient buffers; the gradients are then summed in a
// fixed order and the optimizer updates the shared parameters. Parameters start from Glorot-uniform
// weights and zero biases (Keras's defaults), data is shuffled and dropout masks drawn from PCG generators
// seeded by Config.Seed, so the same seed and thread count give the same run, bit for bit.
//
// # Validation and test
//
// Train holds Config.ValSplit examples of the training set out (SplitValidation: a seeded random draw,
// not the last examples, because a dataset's order follows its classes or writers) and validates on them
// after every epoch; EpochStats.ValLoss and ValAccuracy, the progress line and the curves show them, and
// Config.KeepBest ends the run with the weights of the best validation epoch (History.BestEpoch). The test
// set is evaluated once, after training, into History.TestAccuracy: nothing is chosen on it.
//
// # Layout
//
// Tensors are NCHW float32: IDX images scaled to [0, 1], image folders and uint8 .npz arrays normalised
// as DataOptions says, float32 .npz arrays as they are. Dense weights are [out, in] and run as Gemm with
// transB=1, the layout PyTorch exports; Conv weights are [filters, channels, kh, kw].
//
// # Errors
//
// Layer shapes are checked when the Network is built (NewSequential), with errors naming the layer and the
// sizes. Data that is missing, truncated, not IDX, an unreadable image, a folder without class subfolders
// or an .npz whose x and y disagree give a *DataError naming the file (*IDXError is the same type).
package models
