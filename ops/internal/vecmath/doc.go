// Package vecmath computes float32 transcendental functions over slices: Exp, Log, Sigmoid, Tanh, Erf,
// GeluErf, GeluTanh and SiLU element by element, Softmax and LogSoftmax over one row, and Softplus and
// Swish (any alpha) made of them over L1-sized blocks (composite.go). They are what the float32 kernels of
// the ONNX operators of the same names call on contiguous data.
//
// # Variants
//
// Each function has a pure-Go twin (this package's scalar.go) and, on amd64 without -tags noasm, AVX2+FMA
// and AVX-512 assembly running the same algorithm on 8 or 16 lanes; isa.Pick chooses one per function when
// the package initialises. The twin rounds every operation to float32 and uses a fused multiply-add where
// the assembly does, so the variants agree to the bit except on rare double-rounding ties of the twin's
// emulated FMA (the tests allow 1 ULP between them). The slices' tails, shorter than a vector, go through
// masked loads and stores (AVX-512) or the twin (AVX2).
//
// # Algorithms
//
// The polynomial coefficients are this package's own fits (fit/fit.py: relative-error least squares on
// Chebyshev nodes, close to minimax), listed with their intervals and fit errors in coeffs.go.
//
//   - exp: n = round(x·log₂e), r = x - n·ln2 in two FMA steps (ln 2 split into 16 + 24 bits), |r| ≤ ln2/2;
//     e^r = 1 + r + c₂r² + … + c₆r⁶ (Horner, FMA); times 2^n in two halves (2^⌊n/2⌋·2^(n-⌊n/2⌋)), so that
//     denormal results are rounded once. x is clamped to [-104, 89] first: above, +Inf; below, 0.
//   - sigmoid: 1/(1+e^-x); SiLU: x/(1+e^-x); GELU (tanh form): x/(1+e^{-2u}) with u = √(2/π)(x+0.044715x³),
//     since 1+tanh u = 2σ(2u) - the same value without the cancellation of 1+tanh for negative x.
//   - tanh: for |x| < 0.625, x + x³·P(x²) (degree 11 odd); above, ±(1 - 2/(e^{2|x|}+1)).
//   - erf: for |x| < 1, x·P(x²) (degree 13 odd); for 1 ≤ |x| < 4, ±(1 - e^{h(|x|)}) with h a degree-10
//     fit of ln erfc; from 4 on, ±1 (erfc(4) < 2^-25). GELU (erf form) reuses both pieces and writes
//     1+erf(z) as 2-erfc(z) or erfc(|z|), so negative inputs keep their relative accuracy.
//   - log: x = m·2^e with m in [√½, √2) (denormals scaled by 2^23 first), f = m-1,
//     ln x = e·ln2 + f - f²/2 + f³·P(f) (P of degree 6).
//   - Softmax: the row's max m, then e^{x-m} stored and summed (sixteen float32 partial sums), then a
//     scaling by the reciprocal of the sum. LogSoftmax: (x - m) - ln Σ e^{x-m} (x - m first: exact near
//     the maximum even when m is large).
//
// # Error bounds
//
// Each function's doc comment states its bound and its special values; the tests check them against
// float64 math on a million seeded samples and on edge values (make test), and `make check-math` checks
// every one of the 2^32 float32 inputs and prints the largest error found per function. Its run on
// 2026-12-07 (commit 2fe8b51, AVX-512 variants, about 28 minutes on one core; gelu_tanh again after its
// absolute bound was corrected to 2e-9) found, in ULP (and in absolute error below the relative range):
//
//	exp 0.904, log 1.162, sigmoid 2.481, silu 2.394, tanh 1.371, erf 2.762,
//	gelu_erf 21.38 (4.36e-8 where |f| < 1e-3), gelu_tanh 13.05 (1.07e-9 where |f| < 1e-3)
//
// all within the stated bounds.
//
// # Aliasing
//
// dst may be src (the same slice); other overlaps are not allowed. len(dst) ≥ len(src).
package vecmath
