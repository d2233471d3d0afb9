// Package ops holds what every operator kernel shares: the Tensor, its DType and Shape, node attributes,
// the Op and Kernel interfaces, and the registry that binds (domain, op type, opset range) to a Builder.
//
// # Layout
//
// The kernels live in sub-packages by family and register in their init functions with Register, one
// entry per ONNX version of the operator (see Version):
//
//   - ops/cnn: the layers of convolutional networks, Conv, ConvTranspose, ConvInteger, DeformConv,
//     CausalConvWithState, the pools and Dropout, with their assembly and the convolution strategies; the
//     fused FusedConv and SqueezeExcite (FusedDomain); and the gradient kernels of the trainer (TrainingDomain), beside the
//     forward kernels whose internals they reuse;
//   - ops/norm: BatchNormalization, InstanceNormalization, LayerNormalization, GroupNormalization,
//     RMSNormalization, LpNormalization, LRN and MeanVarianceNormalization;
//   - ops/recurrent: RNN, GRU and LSTM;
//   - ops/attention: Attention, RotaryEmbedding, LinearAttention and the arithmetic of FlexAttention
//     (PreviewDomain; registered by the runtime, which runs its modifier subgraphs);
//   - ops/signal: DFT, STFT, the Hann, Hamming and Blackman windows and MelWeightMatrix;
//   - ops/text: TfIdfVectorizer;
//   - ops/imagecodec: ImageDecoder (BMP, JPEG, PNG, PNM, TIFF, WebP);
//   - ops/random: Bernoulli and RandomUniformLike, on the Mersenne Twister of ops/internal/mt19937;
//   - ops/training: the losses NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss and ONNX's optimizers
//     Adagrad, Adam and Momentum (PreviewTrainingDomain);
//   - ops/elementwise: unary and broadcasting binary math, activations, comparisons and logic, Where,
//     Clip, Cast and the string operators;
//   - ops/linalg: MatMul, Gemm, Einsum, Det and the fused FusedGemm;
//   - ops/reduce: Reduce*, ArgMax/ArgMin, the Softmax family, TopK, CumSum and CumProd;
//   - ops/array: data movement (Reshape, Transpose, Gather, Concat, Slice, Pad, Scatter, ...), constants
//     and ranges;
//   - ops/vision: Resize, Upsample, GridSample, AffineGrid, RoiAlign, NonMaxSuppression, Col2Im and
//     CenterCropPad;
//   - ops/sequence: the sequence and optional operators (SequenceAt, Optional, ...);
//   - ops/quant: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger, QLinearMatMul.
//
// Hot loops sit in ops/internal (gemm, parallel, vecmath: vectorised exp, log, sigmoid, tanh, erf, GELU,
// SiLU and softmax rows for float32), and the helpers the layer packages share in
// ops/internal/kernelutil; ops/opstest runs one node for the kernels' tests. The
// runtime imports every kernel package; ops never sees protobuf.
//
// Float16 and bfloat16 kernels compute in float32 through a Widener (half.go). A routine with an
// assembly version keeps one strategy in every build: the assembly and its Go twin do the same tiles,
// and the pure-Go build (-tags noasm) runs the twin. Each such family says which routine this CPU and
// build get through RegisterKernelVariant; KernelVariants lists the choices (onnxrun --version prints them).
//
// # The operator contract
//
// A Builder parses a node's attributes once and returns an Op. At plan time the runtime calls
// Op.InferShapes with each input's dtype, concrete shape and, for constants, its value; then Op.Prepare,
// which returns a Kernel specialised to those shapes (and may prepack constant weights). At run time
// Kernel.Run reads inputs and writes preallocated outputs; it trusts its inputs, never allocates in steady
// state and never panics on data. Optional behaviours (scratch memory, aliasing, FLOP counts) are optional
// interfaces found by type assertion.
//
// # Values that are not tensors
//
// Every runtime slot holds a *Tensor, and a Tensor may hold a sequence, an optional or a map instead of
// dense data (value.go): Kind says which, Type gives the full type (seq(tensor(float32)), ...). A kernel
// reads a sequence input with in[i].Elements(), an optional with in[i].HasElement() and in[i].Element(),
// a map with MapKeys and MapValues, and writes such an output with out[j].SetValue(NewSequence(elem,
// elems)) (or NewOptional, NewMap) into the empty value the runtime hands it (NewValue). At plan time a
// ValueInfo of such a value has Type set and DType the dtype of the tensors inside; InfoOf makes one from a
// type. The elements of a sequence, optional or map are owned and immutable: a kernel that stores a tensor
// input clones it (it may be an arena buffer), and one that derives a sequence from another shares the
// elements it keeps. Only ops implementing AcceptsNonTensors are given such inputs.
//
// # Errors
//
// Errors from Builders and InferShapes wrap ErrInvalid (the model breaks the spec) or ErrUnsupported (valid,
// not implemented) and name attributes and values; the runtime prefixes the node. ErrDynamicShape is not a
// failure but a request to plan at run time. Only broken internal invariants panic, with the constant
// strings of errors.go.
package ops
