// Package models trains small convolutional networks in Go and exports them to ONNX: the seed's LeNet
// (NewLeNet), a small residual CNN with BatchNorm (NewResNet, SmallResNet), any Sequential stack or Graph
// of the same layers, and CNNs imported from ONNX (ImportONNX), trained on MNIST or Fashion-MNIST read from
// IDX files, on a folder of images with one subfolder per class, or on an .npz file (LoadData), with SGD
// (momentum) or Adam, and written out through package exporter.
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
// scripts/make_train_references.py); TestImportResNetMatchesPyTorch compares a whole imported residual CNN
// with BatchNorm, its gradients and running averages after a step (models/testdata/resnet_bn.onnx and
// resnet_bn_reference.json, made by scripts/make_resnet_import_model.py).
//
// # Imported models
//
// ImportONNX turns an ONNX CNN into a trainable Network (import.go, layers in import_layers.go), starting
// from the model's initializers: `onnxrun train --from`. Each node reads one activation (the output of
// any earlier node, or the input) and constants, except an Add of two activations of the same shape,
// which becomes an Add layer: the join of a residual connection, whose gradient reaches both branches
// (a torchvision ResNet's BasicBlock, with or without its downsample shortcut). The nodes: Conv (its bias
// may be the Add of a per-channel constant after it, as CNTK writes it), Gemm, MatMul followed by the Add
// of a bias, BatchNormalization (a BatchNorm layer, trained as the model was: batch statistics in
// training, the running mean and variance, starting from the model's, moved by its momentum after every
// step and written back at export with scale and bias), Relu, LeakyRelu, Tanh, Sigmoid, Clip, MaxPool, AveragePool, GlobalAveragePool, Flatten (axis 1), Reshape
// and Transpose that keep the batch axis first (so a Keras model stays NHWC, its input [H W C] and its
// Transposes layers), constant Pad of height and width, Dropout, Identity and a final Softmax or
// LogSoftmax, which the network leaves to the loss. Nodes whose inputs are all constants (Constant, and
// the Shape → Gather → Concat subgraphs that compute a Reshape target) are folded by their own kernels at a
// fixed probe batch; a target whose first entry is that batch (or -1, 0, or the batch a fixed-batch
// model declares) keeps the batch axis. Anything else is an
// *UnsupportedNodeError naming the node, its op type and why. Layer names are the ONNX node names,
// parameter names the initializer names; Network.Freeze keeps parameters out of training by either, or a
// prefix; ImportOptions.NumClasses replaces the last Gemm or MatMul+Add by a fresh Glorot-initialised head.
// ExportImported writes the source model back with the trained initializers: same graph, node names,
// input and output names, layout and opset_import.
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
// # Validation and test
//
// Train holds Config.ValSplit examples of the training set out (SplitValidation: a seeded random draw,
// not the last examples, because a dataset's order follows its classes or writers) and validates on them
// after every epoch; EpochStats.ValLoss and ValAccuracy, the progress line and the curves show them, and
// Config.KeepBest ends the run with the weights of the best validation epoch (History.BestEpoch). The test
// set is evaluated once, after training, into History.TestAccuracy: nothing is chosen on it.
//
// # Checkpoints
//
// With Config.CheckpointDir set, Fit writes the run's whole state to CheckpointFile in that folder every
// Config.CheckpointEverySteps optimizer steps and after every Config.CheckpointEveryEpochs epochs, each
// checkpoint replacing the last through internal/atomicfile (temporary file in the folder, fsync, rename,
// fsync of the folder): a crash leaves the previous checkpoint or the new one, whole. Trainer.Resume loads
// it and Fit continues; the run then ends with the weights of an uninterrupted run, bit for bit, because
// everything a step depends on is restored: the weights, the optimizer's step count and buffers, the
// shuffle generator and every worker's dropout generator, the epoch, the examples done in it and the
// epoch's permutation, the learning rate after decay, BatchNorm's running averages, and the epoch's running
// sums and History so far (the examples seen, which seed augmentation, follow from the position). A
// checkpoint whose run differs from the resuming one in what changes the result (a layer, the batch size,
// the thread count, the seed, the optimizer or its settings and initial learning rate, the decay, the
// training set's name and size, the frozen parameters, the model an imported network came from
// (ImportOptions.Origin), or fewer epochs than it has done) is refused with a *CompatError naming
// the difference; a damaged file gives a *CheckpointError.
//
// The file (version 1), all integers little-endian:
//
//	"onnxrun-checkpoint\n"   magic, 19 bytes
//	uint32                    format version (1)
//	uint64                    length H of the header
//	H bytes                   JSON header: the compatibility record, position, sums, learning rate,
//	                          optimizer step, PCG states (MarshalBinary, base64), the History (gob,
//	                          base64, as it holds NaN), Tensors (name and length of each array below)
//	                          and OrderLen
//	float32 arrays            in Tensors order: the parameters ("conv1.weight", ...), then the
//	                          optimizer's buffers of the parameters not frozen ("m/conv1.weight",
//	                          "v/..." for Adam, "velocity/..." for SGD), absent before the first step; BatchNorm's running averages
//	                          (Network.Buffers, "state/bn1.running_mean", ...); with Config.KeepBest
//	                          the best validation epoch's weights so far ("best/conv1.weight", ...)
//	uint32 × OrderLen         the training set's current permutation
//	uint32                    CRC-32 (IEEE) of everything before it
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
