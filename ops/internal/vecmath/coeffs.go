package vecmath

// Polynomial coefficients, derived by fit/fit.py (a relative-error weighted least-squares fit on Chebyshev
// nodes, within a few percent of the minimax error; the comment of each group gives the interval and the
// fit's own error in float64, before float32 rounding). The assembly loads the same values (as bit
// patterns, see the *_amd64.s files), so that the pure-Go twins and the assembly agree.
const (
	// exp(r) = 1 + r + c2 r² + ... + c6 r⁶ on |r| ≤ ln2/2; fit error 3.6e-9 relative.
	expC2 float32 = 0.49999988
	expC3 float32 = 0.16666518
	expC4 float32 = 0.041669533
	expC5 float32 = 0.008368916
	expC6 float32 = 0.0013751407

	// log(1+f) = f - f²/2 + c3 f³ + ... + c9 f⁹ on [√½-1, √2-1]; fit error 3.4e-8 relative.
	logC3 float32 = 0.33333972
	logC4 float32 = -0.2500097
	logC5 float32 = 0.19960597
	logC6 float32 = -0.16587949
	logC7 float32 = 0.14950979
	logC8 float32 = -0.14197472
	logC9 float32 = 0.08506954

	// tanh(x) = x + c3 x³ + ... + c11 x¹¹ on [0, 0.625]; fit error 4.6e-9 relative.
	tanhC3  float32 = -0.33333287
	tanhC5  float32 = 0.13331513
	tanhC7  float32 = -0.05374466
	tanhC9  float32 = 0.020653125
	tanhC11 float32 = -0.0057189628

	// erf(x) = c1 x + c3 x³ + ... + c13 x¹³ on [0, 1]; fit error 1.4e-9 relative.
	erfC1  float32 = 1.1283792
	erfC3  float32 = -0.3761263
	erfC5  float32 = 0.11283612
	erfC7  float32 = -0.02685481
	erfC9  float32 = 0.0051900535
	erfC11 float32 = -0.0008024354
	erfC13 float32 = 7.89821e-05

	// log(erfc(x)) = c0 + c1 x + ... + c10 x¹⁰ on [1, 4]; fit error 1.9e-9 absolute (relative in erfc).
	erfcC0  float32 = 0.00026400376
	erfcC1  float32 = -1.129922
	erfcC2  float32 = -0.63258183
	erfcC3  float32 = -0.109025255
	erfcC4  float32 = 0.025484068
	erfcC5  float32 = -0.004206083
	erfcC6  float32 = 0.00037656378
	erfcC7  float32 = 1.2279263e-05
	erfcC8  float32 = -8.2188e-06
	erfcC9  float32 = 9.60385e-07
	erfcC10 float32 = -4.1048544e-08
)

// Range-reduction and clamping constants.
const (
	log2e float32 = 1.442695041            // 1/ln 2
	ln2Hi float32 = 0.693145751953125      // ln 2 rounded to 16 significant bits: n·ln2Hi is exact for |n| ≤ 256
	ln2Lo float32 = 1.4286068202862268e-06 // ln 2 - ln2Hi
	// expMax and expMin clamp exp's argument: e^89 overflows float32 (to +Inf through the scaling) and
	// e^-104 is below half the smallest denormal (to 0), so no input outside them changes the result.
	expMax float32 = 89
	expMin float32 = -104
	// tanhSmall is where tanh leaves its odd polynomial for 1 - 2/(e^{2|x|}+1).
	tanhSmall float32 = 0.625
	// erfSmall is where erf leaves its odd polynomial for 1 - e^{h(|x|)}; erfOne is where erfc(x) < 2^-25,
	// so that erf(x) rounds to 1 (and GeluErf(-x) is below 5e-8 in magnitude).
	erfSmall float32 = 1
	erfOne   float32 = 4
	sqrt1_2  float32 = 0.70710678118654752
	// geluTanhA and geluTanhB give GeluTanh's exponent: -2·√(2/π)·(x + 0.044715x³) = x·(A + B·x²).
	geluTanhA float32 = -2 * 0.7978845608028654
	geluTanhB float32 = -2 * 0.7978845608028654 * 0.044715
)
