// Package training implements the operators that only training graphs use: the classification losses
// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (loss.go) and the ai.onnx.preview.training
// optimizers Adagrad, Adam and Momentum (optimizers.go). Importing the package registers them (see
// ops.Register) for every opset version Operators.md lists up to ops.MaxOpset. Both compute in float64.
//
// The gradient kernels of the trainer (ConvGrad, MaxPoolGrad, GemmGrad, ReluGrad, ...) are not here: they
// sit in ops/cnn beside the convolution and pooling kernels whose internals they reuse (see the package
// documentation of ops/cnn).
package training
