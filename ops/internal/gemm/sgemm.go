package gemm

import "github.com/onnxrun/onnxrun/ops/internal/parallel"

// Sgemm computes C = alpha*op(A)*op(B) + beta*C where op(X) is X or X^T.
// All matrices are row-major: A is m×k (k×m if transA), B is k×n (n×k if
// transB), C is m×n, and lda, ldb, ldc are row strides in elements.
// beta == 0 means C is not read (NaN in C is overwritten). The semantics are
// exactly those of SgemmReference, up to float32 rounding order.
//
// Sgemm runs on the calling goroutine; Multiply adds threads, prepacked
// operands, a fused epilogue and caller-provided workspace.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	p := Params{
		TransA: transA, TransB: transB,
		M: m, N: n, K: k,
		Alpha: alpha, A: a, LDA: lda, B: b, LDB: ldb,
		Beta: beta, C: c, LDC: ldc,
	}
	defaultImpl.multiply(&p)
}

// BiasMode says how Epilogue.Bias is broadcast over C.
type BiasMode uint8

const (
	BiasNone   BiasMode = iota // no bias
	BiasPerRow                 // C[i][j] += Bias[i]; len(Bias) >= M (Conv: one per output channel)
	BiasPerCol                 // C[i][j] += Bias[j]; len(Bias) >= N (Gemm/FC: one per output feature)
)

// Activation is the element-wise function applied last by the epilogue.
type Activation uint8

const (
	ActNone Activation = iota // identity
	ActReLU                   // max(x, 0); NaN stays NaN
	ActClip                   // min(max(x, Min), Max); NaN stays NaN
)

// Epilogue is applied to each element of C after the product and the beta
// term, while the tile is still in registers:
//
//	C[i][j] = act(alpha*sum + beta*C[i][j] + bias)
//
// The zero Epilogue does nothing.
type Epilogue struct {
	Bias     []float32
	BiasMode BiasMode
	Act      Activation
	Min, Max float32 // bounds for ActClip
	// Finish, when set, is called on every region of C once its values are final, by the thread that
	// computed it: a last elementwise step the tiles cannot fuse (SiLU, HardSwish...) then runs inside the
	// product's parallel section, on data still in that core's cache, instead of after it on one thread.
	Finish Finisher
}

// Finisher finishes a region of C: rows [i0, i1), columns [j0, j1) of c, rows ldc apart. The regions of
// one Multiply do not overlap and cover C; how C is cut into them depends on the threads, so Finish must
// treat each element on its own.
type Finisher interface {
	Finish(c []float32, ldc, i0, i1, j0, j1 int)
}

// BPacker produces B block by block, in the driver's packed layout.
type BPacker interface {
	// PackB writes rows [p0, p0+kc) × columns [j0, j0+cols) of B into dst as ceil(cols/PanelWidth)
	// panels of PanelWidth*kc values: panel q holds columns j0+q*PanelWidth..., one group of PanelWidth
	// values per row, zero past cols (the layout PackB gives a constant B).
	PackB(dst []float32, p0, kc, j0, cols int)
}

// PanelWidth is the number of columns of a packed B panel (BPacker).
const PanelWidth = nr

// Params describes one call of Multiply. The zero values of the optional
// fields (PackedA, PackedB, Epilogue, Pool, Workspace) mean "not used".
type Params struct {
	TransA, TransB bool // ignored for an operand given prepacked
	M, N, K        int
	Alpha          float32

	A       []float32 // op(A) is M×K; unused when PackedA != nil
	LDA     int
	PackedA *PackedA // A packed once by PackA, e.g. Conv weights

	B       []float32 // op(B) is K×N; unused when PackedB or BPacker != nil
	LDB     int
	PackedB *PackedB // B packed once by PackB, e.g. Gemm/MatMul weights
	// BPacker, when set, packs B's blocks as the driver needs them (B is then never stored as a matrix):
	// a convolution packs its im2col columns straight from the image, without the column buffer.
	BPacker BPacker

	Beta float32 // 0 means C is write-only
	C    []float32
	LDC  int

	Epilogue Epilogue

	// Pool splits the work over M or N panels; nil means the calling
	// goroutine only.
	Pool *parallel.Pool

	// Workspace, if at least WorkspaceSize(M, N, K, Pool.Threads()) long,
	// holds the packing buffers; otherwise they come from an internal
	// sync.Pool. Its contents are not preserved.
	Workspace []float32

	// Done, when not nil, is polled before each macro-tile (well under a
	// millisecond of work apart): once it is closed, Multiply returns early
	// and C is left partly computed. It is a Run's context (ctx.Context.Done()),
	// so that a cancelled run stops inside a long product; the runtime then
	// discards the outputs and reports the context's error.
	Done <-chan struct{}
}

// Multiply computes, for i < M and j < N,
//
//	sum := Σ_{p<K} op(A)[i][p] * op(B)[p][j]
//	C[i*LDC+j] = act(Alpha*sum + Beta*C[i*LDC+j] + bias(i, j))
//
// with the Beta term omitted (C not read) when Beta == 0; MultiplyReference is
// the plain-loop statement of it. Multiply trusts its arguments: check them
// once with Validate at plan time. It does not allocate in steady state.
func Multiply(p *Params) {
	defaultImpl.multiply(p)
}
