"""Derives the polynomial coefficients of package vecmath (run with /usr/bin/python3; numpy only).

Each fit is a weighted least-squares fit on 4000 Chebyshev nodes of the interval, weighted so that it
minimises the relative error (the absolute error for erfc's exponent), which lands within a few percent of
the minimax error; the printed max error is measured on 200k points in float64. The constraints (the
leading Taylor terms kept exact) are stated per fit. Output: Go constants to paste into coeffs.go.
"""
import numpy as np
from math import erf, erfc, log, sqrt

def nodes(a, b, n=4000):
    k = np.arange(n)
    return (a + b) / 2 + (b - a) / 2 * np.cos((2 * k + 1) * np.pi / (2 * n))

def fit(name, a, b, target, basis_powers, fixed, weight):
    """target(x) ~ fixed(x) + sum c_i * x**p_i; returns c."""
    x = nodes(a, b)
    w = weight(x)
    A = np.stack([x ** p for p in basis_powers], axis=1) * w[:, None]
    rhs = (target(x) - fixed(x)) * w
    c, *_ = np.linalg.lstsq(A, rhs, rcond=None)
    xs = np.linspace(a, b, 200001)
    approx = fixed(xs) + sum(ci * xs ** p for ci, p in zip(c, basis_powers))
    err = np.max(np.abs((approx - target(xs)) * weight(xs)))
    print(f"// {name}: on [{a:.6g}, {b:.6g}], powers {basis_powers}, max weighted error {err:.3g}")
    for p, ci in zip(basis_powers, c):
        print(f"\t{name}C{p} = {np.float32(ci)!r}")
    return c

ln2 = log(2)
# exp(r) on |r| <= ln2/2: 1 + r + sum_{k=2..6} c_k r^k, relative error.
fit("exp", -ln2 / 2, ln2 / 2, np.exp, [2, 3, 4, 5, 6], lambda x: 1 + x, lambda x: 1 / np.exp(x))
# log(1+f) on [sqrt(.5)-1, sqrt(2)-1]: f - f^2/2 + sum_{k=3..9} c_k f^k, absolute error (log(1+f) ~ f, relative near 0).
fit("log", sqrt(0.5) - 1, sqrt(2) - 1, np.log1p, list(range(3, 10)), lambda x: x - x * x / 2,
    lambda x: 1 / np.maximum(np.abs(np.log1p(x)), 1e-30))
# tanh(x) on [0, 0.625]: x + sum c_k x^k over odd k = 3..11, relative error.
fit("tanh", 1e-6, 0.625, np.tanh, [3, 5, 7, 9, 11], lambda x: x, lambda x: 1 / np.tanh(x))
# erf(x) on [0, 1]: sum c_k x^k over odd k = 1..13, relative error.
verf = np.vectorize(erf)
verfc = np.vectorize(erfc)
fit("erf", 1e-6, 1.0, verf, list(range(1, 14, 2)), lambda x: 0 * x, lambda x: 1 / verf(x))
# log(erfc(x)) on [1, 4]: polynomial of degree 0..10 in x, absolute error (= relative error of erfc).
fit("erfc", 1.0, 4.0, lambda x: np.log(verfc(x)), list(range(0, 11)), lambda x: 0 * x, lambda x: 1 + 0 * x)
