// Package quantize rewrites a float32 ONNX model into an 8-bit one, as ONNX Runtime's quantize_dynamic
// and quantize_static do, writing QDQ: the model keeps its float operators, and DequantizeLinear nodes in
// front of them read int8/uint8 tensors. onnxrun and ONNX Runtime both run that form; their QDQ passes fuse
// DequantizeLinear → Conv/MatMul/Gemm/... → QuantizeLinear into integer kernels, and where a pattern is not
// fused it runs in float, correct if slower. `onnxrun quantize` is a thin command over Quantize.
//
// # Modes
//
// Dynamic: the weights of Conv, MatMul and Gemm (a float32 initializer) become int8, symmetric (zero point
// 0, values in [-127, 127]), one scale per tensor or, with Options.PerChannel, per output channel
// (DequantizeLinear's axis: 0 for Conv and for Gemm with transB, else the last). The activation each of them
// reads is quantized at run time: DynamicQuantizeLinear → DequantizeLinear in front of the node, the QDQ
// spelling of ORT's dynamic QOperator form (DynamicQuantizeLinear → ConvInteger/MatMulInteger), chosen so
// that one writer serves both modes and so that the graph's float structure stays readable. Biases stay
// float.
//
// Static: the weights as above; activations uint8 asymmetric (ORT's default QUInt8), their range observed
// by running the float model in onnxrun over Options.Calibration (runtime.Session.RunWithObserver) and
// reduced by a Method: MinMax, Percentile (the central Options.Percentile percent, from a 2,048-bin
// histogram) or Entropy (the KL-divergence threshold of TensorRT and ORT, 2,048 bins against 128 levels, with
// spikes of one repeated value - ReLU zeros, a bias over a blank background - set aside, since one level
// holds them whatever the range).
// The range is widened to hold 0; scale = (max-min)/255, zero point = round(-min/scale). Quantized
// activations are the inputs and outputs of Conv/MatMul/Gemm and of the ops with integer forms (Add, Mul,
// the pools, Concat, Sigmoid, LeakyRelu): each gets one QuantizeLinear → DequantizeLinear pair, read by
// every consumer outside Options.Exclude. Ops without an integer form (Relu, Softmax, LayerNormalization,
// Reshape...) stay float and read the DequantizeLinear output. A Conv or Gemm bias (a 1-D initializer)
// becomes int32 with scale x_scale*w_scale[c] and zero point 0, behind a DequantizeLinear (on axis 0 per
// channel). The output of a Conv/MatMul/Gemm whose one consumer is a Relu is quantized after the Relu, as
// ORT does once it has fused the two (range [0, max]: twice the resolution). Graph outputs stay float (they are not quantized), so a classifier's logits come out unrounded.
//
// Every rounding is round-half-to-even, as ONNX's QuantizeLinear rounds.
//
// # Requirements and errors
//
// The model must import ONNX opset 11 or newer (DynamicQuantizeLinear), and 13 or newer for PerChannel
// (per-axis DequantizeLinear); quantize never raises a model's opset, since some operators changed meaning
// at 13. Per tensor, every scale and zero point is a scalar, so no axis is written. Quantize returns an
// *Error when the model has nothing to quantize (no Conv/MatMul/Gemm with a float32 initializer weight
// outside the exclusions), when an exclusion names no node, or when static quantization has no calibration
// data; model and runtime errors from calibration are wrapped.
//
// A weight read by several nodes is quantized once and shared. Only the main graph is rewritten: the
// bodies of If, Loop and Scan stay float.
//
// # Data and evaluation
//
// LoadData reads input sets from an .npz (one array per input name, optional "labels"), a folder of .npy
// files (batches of a single input) or a folder of MNIST's IDX files (the trainer's layout; MNISTData cuts a
// models.Dataset the same way). Compare runs the float and the quantized model over the same input sets
// and reports the largest and mean absolute difference of the first output, the top-1 agreement and, given
// labels, both top-1 accuracies.
package quantize
