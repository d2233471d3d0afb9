package signal

// Fast Fourier transforms for DFT and STFT, on gonum's dsp/fourier (a Go translation of FFTPACK). FFTPACK
// is O(N log N) only for lengths made of small primes: its generic pass for a prime factor p costs about
// N·p, so a prime length is the direct O(N²) sum again. Lengths with a large prime factor therefore go
// through Bluestein's algorithm (the chirp z-transform): with jk = (j² + k² - (k-j)²)/2,
//
//	X[k] = c[k] · Σ_j (x[j]·c[j]) · conj(c[k-j]),   c[j] = e^(-πi·j²/N)
//
// a convolution, done circularly by power-of-two FFTs of length M ≥ 2N-1.

import (
	"math"
	"math/bits"
	"math/cmplx"
	"sync"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/onnxrun/onnxrun/ops"
)

// bluesteinMinPrime is the smallest largest-prime-factor for which a length goes through Bluestein's
// algorithm. Its cost hardly depends on the factors (two FFTs of M, 2N ≤ M < 4N), FFTPACK's grows with
// the prime p as N·p. BenchmarkFFTLengths at N ≈ 4096 (busy machine, rough): FFTPACK is 1.6 times faster
// for p = 127, the two are even for 193 and 257, Bluestein is 1.5 times faster for 397 and 6 times for
// 1021. Both are equally accurate there (4e-15 of the largest value).
const bluesteinMinPrime = 256

// maxFFTPackFactors: FFTPACK keeps a length's factors in a 15-int array after N and their count, and
// indexes past it (a panic) on a length with more. 2^26 (13 factors of 4) is the largest power of two it
// takes, so Bluestein's M ≤ 2^26 and N ≤ 2^25.
const maxFFTPackFactors = 13

// fftFactors returns how many factors FFTPACK splits n into (4s first, then a 2, then odd numbers) and
// the largest prime among them.
func fftFactors(n int) (count, largestPrime int) {
	largestPrime = 1
	for n%4 == 0 {
		n /= 4
		count++
		largestPrime = 2
	}
	if n%2 == 0 {
		n /= 2
		count++
		largestPrime = 2
	}
	for p := 3; p*p <= n; p += 2 {
		for n%p == 0 {
			n /= p
			count++
			largestPrime = p
		}
	}
	if n > 1 {
		count++
		largestPrime = n
	}
	return count, largestPrime
}

// fftPlan computes transforms of one length n, in complex128 and unnormalised. Its tables are read-only
// once made, but gonum's transforms keep their work arrays inside and the plan holds the kernel's buffers,
// so a plan serves one Run at a time: kernels hand them out through fftPlans.
type fftPlan struct {
	n int
	// cmplx has length n, or Bluestein's M; nil when the kernel only needs real transforms.
	cmplx *fourier.CmplxFFT
	// real has length n; nil for Bluestein lengths and kernels that only need complex transforms.
	real *fourier.FFT
	// chirp (n values e^(-πi·j²/N)) and chirpSpectrum (the M-point FFT of conj(c[|j|]) laid out circularly,
	// divided by M) are Bluestein's tables, shared by every copy of a plan; nil for a smooth n.
	chirp, chirpSpectrum []complex128
	// signal (n) holds a kernel's signal and then its spectrum, samples (n) a real signal, work (M)
	// Bluestein's convolution.
	signal  []complex128
	samples []float64
	work    []complex128
}

// newFFTPlan plans transforms of length n: complex ones when needComplex, and real-to-half-spectrum ones
// (rfft, irfft) when needReal and n suits FFTPACK (a Bluestein length does those as complex transforms).
// It fails only for a length too long for FFTPACK's power-of-two transforms.
func newFFTPlan(n int, needComplex, needReal bool) (*fftPlan, error) {
	if needsBluestein(n) {
		return newBluesteinPlan(n)
	}
	return newFFTPackPlan(n, needComplex, needReal), nil
}

// needsBluestein reports whether transforms of length n go through Bluestein's algorithm: when n has a
// large prime factor, or more factors than FFTPACK can hold.
func needsBluestein(n int) bool {
	factors, largest := fftFactors(n)
	return largest >= bluesteinMinPrime || factors > maxFFTPackFactors
}

// newFFTPackPlan plans transforms of length n with FFTPACK alone.
func newFFTPackPlan(n int, needComplex, needReal bool) *fftPlan {
	p := &fftPlan{n: n, signal: make([]complex128, n)}
	if needReal {
		p.real, p.samples = fourier.NewFFT(n), make([]float64, n)
	}
	if needComplex || !needReal {
		p.cmplx = fourier.NewCmplxFFT(n)
	}
	return p
}

// newBluesteinPlan plans complex transforms of length n by Bluestein's algorithm.
func newBluesteinPlan(n int) (*fftPlan, error) {
	m := 1 << bits.Len(uint(2*n-2))
	if factors, _ := fftFactors(m); factors > maxFFTPackFactors {
		return nil, ops.Unsupportedf("a transform of length %d needs an FFT of %d points, more than the %d the FFT library handles", n, m, 1<<26)
	}
	p := &fftPlan{n: n, signal: make([]complex128, n), cmplx: fourier.NewCmplxFFT(m), work: make([]complex128, m)}
	p.chirp, p.chirpSpectrum = make([]complex128, n), make([]complex128, m)
	for j := range p.chirp {
		// j² mod 2N keeps the angle small and exact for any j < N ≤ 2^25.
		jj := int64(j) * int64(j) % int64(2*n)
		s, c := math.Sincos(-math.Pi * float64(jj) / float64(n))
		p.chirp[j] = complex(c, s)
	}
	scale := complex(1/float64(m), 0)
	p.chirpSpectrum[0] = cmplx.Conj(p.chirp[0]) * scale
	for j := 1; j < n; j++ {
		v := cmplx.Conj(p.chirp[j]) * scale
		p.chirpSpectrum[j], p.chirpSpectrum[m-j] = v, v
	}
	p.cmplx.Coefficients(p.chirpSpectrum, p.chirpSpectrum)
	return p, nil
}

// clone returns a plan with the same tables and its own transforms and buffers.
func (p *fftPlan) clone() *fftPlan {
	q := &fftPlan{n: p.n, chirp: p.chirp, chirpSpectrum: p.chirpSpectrum, signal: make([]complex128, p.n)}
	if p.cmplx != nil {
		q.cmplx = fourier.NewCmplxFFT(p.cmplx.Len())
	}
	if p.real != nil {
		q.real, q.samples = fourier.NewFFT(p.n), make([]float64, p.n)
	}
	if p.work != nil {
		q.work = make([]complex128, len(p.work))
	}
	return q
}

// transform replaces p.signal by its DFT, or its inverse without the 1/N.
func (p *fftPlan) transform(inverse bool) {
	x := p.signal
	if p.chirp == nil {
		if inverse {
			p.cmplx.Sequence(x, x)
		} else {
			p.cmplx.Coefficients(x, x)
		}
		return
	}
	// The inverse is conj(DFT(conj(x))).
	w := p.work
	for j, v := range x {
		if inverse {
			v = cmplx.Conj(v)
		}
		w[j] = v * p.chirp[j]
	}
	clear(w[len(x):])
	p.cmplx.Coefficients(w, w)
	for i, v := range p.chirpSpectrum {
		w[i] *= v
	}
	p.cmplx.Sequence(w, w)
	for k := range x {
		v := w[k] * p.chirp[k]
		if inverse {
			v = cmplx.Conj(v)
		}
		x[k] = v
	}
}

// forwardReal writes the spectrum of the real signal p.samples to p.signal: all n values, the upper ones
// by conjugate symmetry only when full. It needs p.real.
func (p *fftPlan) forwardReal(full bool) {
	n, half := p.n, p.n/2+1
	p.real.Coefficients(p.signal[:half], p.samples)
	if full {
		for k := half; k < n; k++ {
			p.signal[k] = cmplx.Conj(p.signal[n-k])
		}
	}
}

// inverseReal writes to p.samples the real signal, without the 1/N, whose spectrum's first n/2+1 values
// are in p.signal (the imaginary parts of the constant and, for an even n, the Nyquist term are ignored:
// they only add an imaginary part). It needs p.real.
func (p *fftPlan) inverseReal() {
	p.real.Sequence(p.samples, p.signal[:p.n/2+1])
}

// fftPlans hands out copies of one plan, one per concurrent Run: a Kernel is shared by every Session of a
// Plan. A copy is made when all are in use and kept afterwards, so Run allocates only the first time a
// new level of concurrency reaches it.
type fftPlans struct {
	mu    sync.Mutex
	proto *fftPlan
	free  []*fftPlan
}

func newFFTPlans(p *fftPlan) *fftPlans {
	return &fftPlans{proto: p, free: append(make([]*fftPlan, 0, 4), p)}
}

func (ps *fftPlans) get() *fftPlan {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if n := len(ps.free); n > 0 {
		p := ps.free[n-1]
		ps.free = ps.free[:n-1]
		return p
	}
	return ps.proto.clone()
}

func (ps *fftPlans) put(p *fftPlan) {
	ps.mu.Lock()
	ps.free = append(ps.free, p)
	ps.mu.Unlock()
}
