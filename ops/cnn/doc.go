// Package cnn implements the layers of convolutional networks: Conv (and onnxrun's FusedConv),
// ConvTranspose, ConvInteger, QLinearConv, DeformConv, CausalConvWithState, MaxPool, AveragePool, LpPool, MaxUnpool, the
// Global pools and Dropout, with their assembly and the convolution strategies (direct, 1x1, Winograd,
// depthwise, im2col); and the gradient kernels of the trainer (domain ops.TrainingDomain). Importing the
// package registers them (see ops.Register) for every opset version Operators.md lists up to
// ops.MaxOpset; each op's file links its spec page and says what changed between versions.
//
// The other layers that were once in this package sit in packages named after what they are:
// normalisations in ops/norm, RNN/GRU/LSTM in ops/recurrent, Attention and RotaryEmbedding in
// ops/attention, DFT, STFT and the windows in ops/signal, the losses and optimizers in ops/training.
// Helpers they share with this package are in ops/internal/kernelutil.
//
// # Windows
//
// Conv, ConvTranspose, ConvInteger and the pools share one window type (window.go): kernel_shape, strides,
// pads, dilations, auto_pad and ceil_mode are resolved against the input's spatial shape with integer
// arithmetic only, and a ceil_mode window never starts in the end padding. Prepare then lowers the window to
// a gather: flat index tables saying which input cell each output position reads at each kernel tap.
// Interior positions, whose window lies wholly inside the input, share one table of tap offsets; only border
// positions keep a row of their own, with codes for padding (and for the cells ceil_mode adds past it, which
// AveragePool never counts). Kernels therefore walk flat arrays whatever the number of spatial axes.
//
// ConvTranspose multiplies Wᵀ by the input with ops/internal/gemm and scatters the columns into the output
// (col2im); its reference scatters cell by cell. When the stride equals the kernel and there are no pads
// (U-Net's 2x2 stride-2 upsampling), each output cell is one tap of one input cell: convtranspose_tile.go
// computes bands of input rows whose columns stay in cache and stores each cell once with its bias.
//
// # Convolution strategies
//
// A float32 Conv first drops the kernel taps that read only padding at every output position (a dilated
// kernel wider than its map, conv_trim.go), then picks one strategy at Prepare, by shape (conv_fast.go has
// the rules and the thresholds): a dilated kernel whose taps read the input for at most half of the
// outputs (DeepLabV3's ASPP at dilation 12 on 16x16) runs one GEMM per tap over the outputs it reads the
// input for (conv_taps.go); on a small map whose positions would leave the GEMM's column tiles
// partly empty (ResNet-50's 7x7), the product is computed transposed, Yᵀ = colᵀ·Wᵀ (conv_gemm_t.go); a
// 1x1 stride-1 kernel is one GEMM per image on the input planes as they lie (conv_gemm.go); 3x3 stride-1
// kernels with at least 16 channels each way (and more than 16 output channels) run Winograd's F(4x4,
// 3x3), a quarter of the multiplies, as 36 GEMMs over blocks of tiles (conv_winograd.go); a stride-1
// kernel with at most 64 multiply-adds per output cell (LeNet's layers, a CIFAR net's first) or at most
// 16 output channels runs direct 6x16 register tiles off a padded copy of the image (conv_direct.go);
// depthwise kernels are a per-plane stencil, or a channel-interleaved one on small maps (conv_depthwise.go); anything else unrolls into an im2col
// buffer, in blocks of output rows, and multiplies (conv_gemm.go). Constant weights are packed once per model for the
// GEMM, transformed for Winograd, or laid out for the tiles, by the first Run that needs them (planning a
// shape that never runs packs nothing); the derived forms are cached in the op, so that the several plans
// of a model share them. The hot loops are AVX2+FMA assembly (the direct tile and
// Winograd's 8-tile transforms, *_amd64.s) with Go twins that the noasm build runs and the tests compare
// against. convDirect, the plain loop, stays the reference: every strategy is tested against it on odd
// shapes, and it runs float64 (float16 and bfloat16 widen to float32 through the GEMM path of conv.go).
//
// Work is split over the session's worker pool (ops.ExecContext.Pool) in units that write disjoint outputs:
// images for the GEMM and direct strategies, tile blocks for Winograd, planes for depthwise and the pools;
// with fewer units than threads the GEMM threads itself, and the direct tiles cut the image's padded copy
// by channels and its output by row bands. One thread never touches the pool. Per-thread
// buffers are cut from the plan's scratch, and threaded runs take their task from a sync.Pool, so Run
// allocates nothing at any thread count.
//
// # Fused kernels
//
// FusedConv (domain ops.FusedDomain, "onnxrun") is Conv + residual Add + an activation, written by the graph
// pass runtime/pass_fuse_activation.go: the bias, the residual and Relu or Clip run in the GEMM's epilogue
// (or Winograd's output transform, the direct tile's store, the depthwise kernel's store) while the values
// are in registers; Sigmoid, SiLU, HardSigmoid, HardSwish, LeakyRelu, Tanh and Gelu (ops/internal/activation)
// run over each unit's output (an image's group, a depthwise row) right after the unit. Depthwise 3x3 and
// 5x5 windows with stride 1 or 2, dilated or not, run on vector kernels (AVX-512, AVX2, pure Go, conv_depthwise_kernel.go)
// over a zero-padded copy of each plane; on output planes of at most 256 cells (14x14, 7x7, 16x16) they run
// channel-interleaved instead, 16 channels of one image a unit, one pixel of all 16 a zmm register
// (conv_depthwise_ci.go), so that short rows no longer leave the per-plane costs unspread.
// SqueezeExcite (squeezeexcite.go) is a squeeze-and-excitation block (pool, two 1x1 products with their
// activation and gate, per-channel scale) as one kernel, written by runtime/pass_squeeze_excite.go. Float32
// MaxPool and AveragePool over two axes take pool_fast.go: an interior rectangle without padding tests and
// unrolled 2x2 and 3x3 windows, the border through the gather table; pools at x-stride 1 or 2 without
// dilation take the separable vertical and horizontal passes of pool_sep.go for any window. MaxPool on uint8
// and int8 over two axes (what QDQ graphs leave between quantized convolutions) pools the bytes themselves,
// exactly, in the same separable way (pool_bytes.go): a vertical and a horizontal pass of VPMAXUB/VPMAXSB.
//
// # Quantized convolutions
//
// ConvInteger (int32 output) and QLinearConv (8-bit output) share one fast kernel (qconv_fast.go) over any
// u8/s8 pair of x and w: 1x1 stride-1 convolutions multiply the input planes directly and the others an
// im2col of the 8-bit data padded with x's zero point (1x1 windows at column stride 2 take every other
// cell of X's rows directly, subsampleBytes), on the integer GEMM (ops/internal/igemm), with the
// weights packed at Prepare and QLinearConv's bias, per-channel scales and requantisation in the GEMM's
// epilogue; depthwise layers run an integer stencil (qconv_depthwise.go), 3x3 and 5x5 windows at stride 1
// or 2 (dilated or not) on the float32 depthwise vector kernel, which is exact for 8-bit operands. Requantisation rounds the
// float32 product half to even, as ONNX Runtime does (crosscheck/qconv_test.go compares the bytes).
// The plain loops (convIntegerDirect, qLinearConvKernel) are the reference the tests compare every path with.
//
// # Types
//
// Kernels are generic over float32 and float64 (MaxPool also over int8 and uint8, the quantized
// convolutions over 8-bit integers with int32 sums). float16 and bfloat16 tensors are widened to float32 in the scratch memory the
// planner provides (ops.Scratcher), computed in float32 and rounded back. Run allocates nothing (alloc_test.go holds every kernel to that).
//
// # Gradients
//
// The backward kernels (grad_*.go: ConvGrad, MaxPoolGrad, AveragePoolGrad, GemmGrad, ReluGrad, SigmoidGrad,
// TanhGrad) stay together here, beside the forward kernels they differentiate: ConvGrad reuses Conv's op,
// window and im2col geometry, and the pool gradients reuse the pooling op and its window, which would
// otherwise have to be exported. GemmGrad and the activation gradients share their dtype checks, optional
// outputs and GEMM dispatch (grad_common.go) and the finite-difference tests, so the trainer in package
// models finds its whole backward pass in one package. The losses and ONNX's optimizers, which are
// operators of their own rather than gradients, are in ops/training.
//
// # Dropout
//
// Dropout is the identity unless training_mode (opset 12 on) is true. A node with a training_mode input is
// ops.Nondeterministic and does not alias its input; every other node aliases (ops.Aliaser), so the runtime
// may skip it. Training masks come from MT19937 seeded by the seed attribute, drawing uniforms exactly as
// numpy's legacy RandomState does, so a node with a seed reproduces ONNX's reference outputs. Before opset
// 12 Dropout is always the identity, as in ONNX Runtime, whatever is_test says.
//
// # Errors
//
// Attributes are checked in the Builder and shapes in InferShapes, with errors wrapping ops.ErrInvalid (or
// ops.ErrUnsupported) that name the values involved, e.g. "X has 4 channels, W [2,4,3,3] expects
// W.shape[1]*group = 4*2 = 8". Run only reports what depends on data: a MaxUnpool index outside the output
// or a Dropout ratio outside [0, 1) given at run time.
package cnn
