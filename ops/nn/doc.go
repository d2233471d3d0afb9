// Package nn implements ONNX's neural-network operators: Conv, ConvTranspose, ConvInteger,
// CausalConvWithState, MaxPool, AveragePool, LpPool, MaxUnpool, the Global pools, BatchNormalization,
// InstanceNormalization, LayerNormalization, GroupNormalization, RMSNormalization, LpNormalization, LRN,
// MeanVarianceNormalization and Dropout. Importing the package registers them (see ops.Register) for every
// opset version Operators.md lists up to ops.MaxOpset; each op's file links its spec page and says what
// changed between versions. Ops that ONNX defines as functions (LayerNormalization, GroupNormalization,
// RMSNormalization, MeanVarianceNormalization) are implemented directly.
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
// Conv lowers float32 to im2col plus one GEMM per image and group (ops/internal/gemm's Multiply): constant
// weights are packed once in Prepare, the bias is the GEMM's per-row epilogue, the session's worker pool
// splits large products, and 1x1 stride-1 kernels skip im2col. Other float types use convDirect, the plain
// loop that is also the reference the GEMM path is tested against. ConvTranspose multiplies Wᵀ by the input
// the same way and scatters the columns into the output (col2im); its reference scatters cell by cell.
//
// # Types
//
// Kernels are generic over float32 and float64 (MaxPool also over int8 and uint8, ConvInteger over 8-bit
// integers with int32 sums). float16 and bfloat16 tensors are widened to float32 in the scratch memory the
// planner provides (ops.Scratcher), computed in float32 and rounded back. Normalisation statistics are
// accumulated in float64. Run allocates nothing (alloc_test.go holds every kernel to that).
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
package nn
