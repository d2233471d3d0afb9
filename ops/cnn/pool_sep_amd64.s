//go:build !noasm

#include "textflag.h"

// The separable pool's passes (pool_sep.go), eight float32 lanes of AVX2, their body in
// pool_sep_pass_amd64.h.
//
// MaxPool: the fold starts from -Inf; VMAXPS with the new value as its first source and the running
// maximum as its second keeps the running maximum unless the new value is larger, NaN included: the
// comparison `w > best ? w : best` of the Go twins, bit for bit; the fix takes the window's first tap
// unless the maximum is larger.
#define POOL_COL ·poolColMaxAVX2
#define POOL_ROW ·poolRowMaxAVX2
#define POOL_INIT MOVL $0xff800000, AX; MOVL AX, X15; VBROADCASTSS X15, Y15
#define POOL_PS VMAXPS
#define POOL_SS VMAXSS
#define POOL_FIX_PS VMAXPS
#define POOL_FIX_SS VMAXSS
#include "pool_sep_pass_amd64.h"
#undef POOL_COL
#undef POOL_ROW
#undef POOL_INIT
#undef POOL_PS
#undef POOL_SS
#undef POOL_FIX_PS
#undef POOL_FIX_SS

// AveragePool: sums from +0 in the order of the Go twins (w + acc), divided by the window's count.
#define POOL_COL ·poolColSumAVX2
#define POOL_ROW ·poolRowSumAVX2
#define POOL_INIT VXORPS Y15, Y15, Y15
#define POOL_PS VADDPS
#define POOL_SS VADDSS
#define POOL_FIX_PS VDIVPS
#define POOL_FIX_SS VDIVSS
#include "pool_sep_pass_amd64.h"

