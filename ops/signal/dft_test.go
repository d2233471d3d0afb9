package signal

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func dftNode(attrs ops.AttrMap, in ...*ops.Tensor) opstest.Node {
	return opstest.Node{OpType: "DFT", Opset: 20, Attrs: attrs, Inputs: in}
}

// An impulse has a flat spectrum, a constant a single line; the inverse undoes the forward transform, and
// the one-sided pair (rfft, irfft) round-trips a real signal.
func TestDFT(t *testing.T) {
	impulse := opstest.F32(ops.Shape{1, 4, 1}, 1, 0, 0, 0)
	got := opstest.MustRun(t, dftNode(nil, impulse))[0]
	if err := opstest.CloseTo(got.Float32s(), []float64{1, 0, 1, 0, 1, 0, 1, 0}, 1e-7, 1e-7); err != nil {
		t.Errorf("impulse: %v", err)
	}
	constant := opstest.F32(ops.Shape{1, 4, 1}, 2, 2, 2, 2)
	got = opstest.MustRun(t, dftNode(nil, constant))[0]
	if err := opstest.CloseTo(got.Float32s(), []float64{8, 0, 0, 0, 0, 0, 0, 0}, 1e-7, 1e-6); err != nil {
		t.Errorf("constant: %v", err)
	}
	x := opstest.RandF32(3, 2, 5, 2)
	back := opstest.MustRun(t, dftNode(ops.AttrMap{"inverse": ops.IntAttr(1)}, opstest.MustRun(t, dftNode(nil, x))[0]))[0]
	if err := opstest.Close(back, x, 1e-5, 1e-6); err != nil {
		t.Errorf("inverse of forward: %v", err)
	}
	real := opstest.RandF32(4, 3, 6, 1)
	half := opstest.MustRun(t, dftNode(ops.AttrMap{"onesided": ops.IntAttr(1)}, real))[0]
	if !half.Shape().Equal(ops.Shape{3, 4, 2}) {
		t.Fatalf("rfft of 6 samples: shape %v, want [3 4 2]", half.Shape())
	}
	again := opstest.MustRun(t, dftNode(ops.AttrMap{"onesided": ops.IntAttr(1), "inverse": ops.IntAttr(1)}, half))[0]
	if err := opstest.Close(again, real, 1e-5, 1e-6); err != nil {
		t.Errorf("irfft of rfft: %v", err)
	}
	// dft_length pads with zeros: the impulse padded to 8 is still flat. axis 1 of rank 3 is the signal.
	got = opstest.MustRun(t, dftNode(nil, impulse, ops.Scalar(int64(8)), ops.Scalar(int64(1))))[0]
	if !got.Shape().Equal(ops.Shape{1, 8, 2}) {
		t.Errorf("dft_length 8: shape %v", got.Shape())
	}
	if _, err := opstest.Run(dftNode(nil, impulse, nil, ops.Scalar(int64(2)))); err == nil || !strings.Contains(err.Error(), "axis 2 is not a signal axis") {
		t.Errorf("axis on the complex axis: got %v", err)
	}
}

// A signal of one frame: the STFT is the DFT of the windowed frame.
func TestSTFT(t *testing.T) {
	x := opstest.RandF32(5, 1, 8, 1)
	w := opstest.F32(ops.Shape{8}, 0, 0.5, 1, 1, 1, 1, 0.5, 0)
	got := opstest.MustRun(t, opstest.Node{OpType: "STFT", Opset: 17, Inputs: []*ops.Tensor{x, ops.Scalar(int64(8)), w}})[0]
	windowed := make([]float32, 8)
	for i, v := range x.Float32s() {
		windowed[i] = v * w.Float32s()[i]
	}
	want := opstest.MustRun(t, dftNode(ops.AttrMap{"onesided": ops.IntAttr(1)}, opstest.F32(ops.Shape{1, 8, 1}, windowed...)))[0]
	if !got.Shape().Equal(ops.Shape{1, 1, 5, 2}) {
		t.Fatalf("shape %v, want [1 1 5 2]", got.Shape())
	}
	if err := opstest.CloseTo(got.Float32s(), opstest.Float64s(want.Float32s()), 1e-6, 1e-7); err != nil {
		t.Errorf("one frame: %v", err)
	}
	// frame_step 3 over 8 samples with frames of 4: 1 + (8-4)/3 = 2 frames.
	got = opstest.MustRun(t, opstest.Node{OpType: "STFT", Opset: 17, Inputs: []*ops.Tensor{x, ops.Scalar(int64(3)), nil, ops.Scalar(int64(4))}})[0]
	if !got.Shape().Equal(ops.Shape{1, 2, 3, 2}) {
		t.Errorf("two frames: shape %v, want [1 2 3 2]", got.Shape())
	}
	if math.IsNaN(float64(got.Float32s()[0])) {
		t.Error("NaN in the output")
	}
}

// dftDirect is the plain-Go twin of the FFTs of fft.go, the direct sum of the DFT's doc comment: it writes
// the first len(outRe) frequencies (samples, inverse) of the transform of the signal (re, im), whose
// length is the transform's N, to (outRe, outIm).
func dftDirect(re, im []float64, inverse bool, outRe, outIm []float64) {
	n := len(re)
	sign := -1.0
	if inverse {
		sign = 1
	}
	// e^(±2πi·m/N) for m < N, indexed by f·t mod N so every angle is small and exact.
	cos, sin := make([]float64, n), make([]float64, n)
	for m := range cos {
		sin[m], cos[m] = math.Sincos(sign * 2 * math.Pi * float64(m) / float64(n))
	}
	for f := range outRe {
		var sr, si float64
		for t, m := 0, 0; t < n; t, m = t+1, (m+f)%n {
			sr += re[t]*cos[m] - im[t]*sin[m]
			si += re[t]*sin[m] + im[t]*cos[m]
		}
		if inverse {
			sr /= float64(n)
			si /= float64(n)
		}
		outRe[f], outIm[f] = sr, si
	}
}

// dftReference is the DFT operator by the direct sum, for input values x of the layout s describes.
func dftReference(x []float64, s dftShape, inverse, onesided bool) []float64 {
	outLast := 2
	if onesided && inverse {
		outLast = 1
	}
	y := make([]float64, s.outer*s.outDim*s.inner*outLast)
	re, im := make([]float64, s.n), make([]float64, s.n)
	outRe, outIm := make([]float64, s.outDim), make([]float64, s.outDim)
	for o := 0; o < s.outer; o++ {
		for i := 0; i < s.inner; i++ {
			clear(re)
			clear(im)
			for t := 0; t < min(s.dim, s.n); t++ {
				at := ((o*s.dim+t)*s.inner + i) * s.complexIn
				re[t] = x[at]
				if s.complexIn == 2 {
					im[t] = x[at+1]
				}
			}
			if onesided && inverse {
				for t := s.n/2 + 1; t < s.n; t++ {
					re[t], im[t] = re[s.n-t], -im[s.n-t]
				}
			}
			dftDirect(re, im, inverse, outRe, outIm)
			for f := 0; f < s.outDim; f++ {
				at := ((o*s.outDim+f)*s.inner + i) * outLast
				y[at] = outRe[f]
				if outLast == 2 {
					y[at+1] = outIm[f]
				}
			}
		}
	}
	return y
}

// fftTestLengths: powers of two, 2^a·3^b·5^c, small and large primes, lengths with a prime factor below
// and above bluesteinMinPrime (2·67, 2·257, 4·1021).
var fftTestLengths = []int{1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 17, 30, 45, 64, 67, 97, 100, 128, 134, 243, 257, 360, 512, 514, 1000, 1024, 4084, 4093, 4096}

// maxRelErr is the largest |got-want| over the largest |want| (at least 1): FFT rounding errors scale with
// the spectrum's magnitude, not with each value's.
func maxRelErr(got, want []float64) float64 {
	scale, worst := 1.0, 0.0
	for i := range want {
		scale = math.Max(scale, math.Abs(want[i]))
		worst = math.Max(worst, math.Abs(got[i]-want[i]))
	}
	return worst / scale
}

func randSignal(seed int64, n int) (re, im []float64) {
	r := rand.New(rand.NewSource(seed))
	re, im = make([]float64, n), make([]float64, n)
	for i := range re {
		re[i], im[i] = r.Float64()*2-1, r.Float64()*2-1
	}
	return re, im
}

// Both plans (FFTPACK and Bluestein, whichever the length would pick) against the direct sum, complex
// forward and inverse and FFTPACK's real pair, in float64. The bound, 1e-12 of the largest value, is
// about 200 times the error both reach at N = 4096 (5e-15).
func TestFFTPlansMatchDirectSum(t *testing.T) {
	const tol = 1e-12
	for _, n := range fftTestLengths {
		re, im := randSignal(int64(n), n)
		// FFTPACK's generic pass for a large prime is also less accurate (4e-10 at 4093): only the lengths
		// it is picked for are held to tol.
		plans := map[string]*fftPlan{"fftpack": newFFTPackPlan(n, true, true)}
		if _, largest := fftFactors(n); largest >= bluesteinMinPrime {
			delete(plans, "fftpack")
		}
		if n > 1 {
			b, err := newBluesteinPlan(n)
			if err != nil {
				t.Fatal(err)
			}
			plans["bluestein"] = b
		}
		for name, p := range plans {
			for _, inverse := range []bool{false, true} {
				wantRe, wantIm := make([]float64, n), make([]float64, n)
				dftDirect(re, im, inverse, wantRe, wantIm)
				for i := range p.signal {
					p.signal[i] = complex(re[i], im[i])
				}
				p.transform(inverse)
				got, want := make([]float64, 0, 2*n), make([]float64, 0, 2*n)
				for i, v := range p.signal {
					if inverse {
						v /= complex(float64(n), 0)
					}
					got, want = append(got, real(v), imag(v)), append(want, wantRe[i], wantIm[i])
				}
				if e := maxRelErr(got, want); e > tol {
					t.Errorf("%s n=%d inverse=%v: error %.2g > %g", name, n, inverse, e, tol)
				}
			}
		}
		// The real forward transform and back.
		p := plans["fftpack"]
		if p == nil {
			continue
		}
		zero := make([]float64, n)
		wantRe, wantIm := make([]float64, n), make([]float64, n)
		dftDirect(re, zero, false, wantRe, wantIm)
		copy(p.samples, re)
		p.forwardReal(true)
		got, want := make([]float64, 0, 2*n), make([]float64, 0, 2*n)
		for i, v := range p.signal {
			got, want = append(got, real(v), imag(v)), append(want, wantRe[i], wantIm[i])
		}
		if e := maxRelErr(got, want); e > tol {
			t.Errorf("real forward n=%d: error %.2g > %g", n, e, tol)
		}
		p.inverseReal()
		for i := range p.samples {
			p.samples[i] /= float64(n)
		}
		if e := maxRelErr(p.samples, re); e > tol {
			t.Errorf("real inverse n=%d: error %.2g > %g", n, e, tol)
		}
	}
}

// Lengths FFTPACK does well stay with it; a large prime factor, or more factors than FFTPACK's table
// holds (3^14 and 2·3^13 would index past it and panic), goes through Bluestein; a length whose
// Bluestein FFT is beyond FFTPACK is an error at Prepare, not a panic.
func TestFFTLengthChoice(t *testing.T) {
	for _, c := range []struct {
		n         int
		bluestein bool
	}{{4096, false}, {400, false}, {2 * 3 * 5 * 7 * 11 * 13, false}, {2 * 251, false}, {1 << 26, false}, {3 << 24, false}, {3 << 25, true},
		{2 * 257, true}, {4093, true}, {4 * 1021, true}, {4782969, true}, {2 * 1594323, true}, {1 << 27, true}} {
		if got := needsBluestein(c.n); got != c.bluestein {
			t.Errorf("n=%d: Bluestein %v, want %v", c.n, got, c.bluestein)
		}
		if c.n <= 4096 {
			if p, err := newFFTPlan(c.n, true, false); err != nil || (p.chirp != nil) != c.bluestein {
				t.Errorf("n=%d: plan with Bluestein tables %v (error %v), want %v", c.n, err == nil && p.chirp != nil, err, c.bluestein)
			}
		}
	}
	if _, err := newFFTPlan(1<<25+3, true, false); !errors.Is(err, ops.ErrUnsupported) {
		t.Errorf("n=2^25+3: error %v, want ErrUnsupported", err)
	}
}

// The DFT operator against dftReference, the direct sum, on every test length: real and complex input,
// forward, inverse and both one-sided forms, float32, float64 and float16, with a signal axis between two
// others. Float outputs are held to their own precision relative to the largest value: 1e-12 (float64),
// 1e-6 (float32, 8 ulps at the largest value), 1e-2 (float16).
func TestDFTMatchesReference(t *testing.T) {
	tolerances := map[ops.DType]float64{ops.Float64: 1e-12, ops.Float32: 1e-6, ops.Float16: 1e-2}
	type config struct {
		complexIn         int
		inverse, onesided bool
	}
	configs := []config{{1, false, false}, {2, false, false}, {2, true, false}, {1, false, true}, {2, false, true}, {2, true, true}, {1, true, true}}
	for _, n := range fftTestLengths {
		for ci, c := range configs {
			dt := []ops.DType{ops.Float32, ops.Float64, ops.Float16}[(n+ci)%3]
			outer, inner := 2, 3
			if n > 1000 { // the direct sum is slow: one signal, four configurations
				if ci%2 == 1 {
					continue
				}
				outer, inner = 1, 1
			}
			dim := n
			if c.inverse && c.onesided {
				dim = n/2 + 1
			}
			x := opstest.RandF32(int64(n*10+ci), outer, dim, inner, c.complexIn)
			x = opstest.FromFloat64s(dt, x.Shape(), x.AsFloat64s())
			attrs := ops.AttrMap{"inverse": ops.IntAttr(boolInt(c.inverse)), "onesided": ops.IntAttr(boolInt(c.onesided))}
			in := []*ops.Tensor{x, ops.Scalar(int64(n)), ops.Scalar(int64(1))}
			got, err := opstest.Run(opstest.Node{OpType: "DFT", Opset: 20, Attrs: attrs, Inputs: in})
			if err != nil {
				t.Fatalf("n=%d %+v: %v", n, c, err)
			}
			op := &dftOp{opset: 20, inverse: c.inverse, onesided: c.onesided}
			s, err := op.shape([]ops.ValueInfo{{DType: dt, Shape: x.Shape()}, {DType: ops.Int64, Shape: ops.Shape{}, Const: in[1]}, {DType: ops.Int64, Shape: ops.Shape{}, Const: in[2]}})
			if err != nil {
				t.Fatal(err)
			}
			want := dftReference(x.AsFloat64s(), s, c.inverse, c.onesided)
			if e := maxRelErr(got[0].AsFloat64s(), want); e > tolerances[dt] {
				t.Errorf("n=%d %s %+v: error %.2g > %g", n, dt, c, e, tolerances[dt])
			}
		}
	}
	// dft_length cuts a longer signal and pads a shorter one, through both kinds of plan.
	for _, c := range []struct{ dim, n int }{{300, 257}, {257, 300}, {100, 4093}, {5000, 4096}} {
		x := opstest.ToF64(opstest.RandF32(int64(c.dim), 1, c.dim, 2))
		got := opstest.MustRun(t, dftNode(nil, x, ops.Scalar(int64(c.n))))[0]
		s := dftShape{outer: 1, dim: c.dim, inner: 1, complexIn: 2, n: c.n, outDim: c.n}
		if e := maxRelErr(got.AsFloat64s(), dftReference(x.AsFloat64s(), s, false, false)); e > 1e-12 {
			t.Errorf("%d samples, dft_length %d: error %.2g", c.dim, c.n, e)
		}
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// STFT against the direct sum of each windowed frame: 1 s of 16 kHz audio in 400-sample frames (a
// smooth length) and a prime frame length, real one-sided and complex two-sided, with a constant window
// and one only known at run time.
func TestSTFTMatchesReference(t *testing.T) {
	for _, c := range []struct {
		name                        string
		length, frame, step, complx int
		constWindow                 bool
	}{
		{"16k-400-160", 16000, 400, 160, 1, true},
		{"prime-frame-257", 3000, 257, 100, 1, true},
		{"complex-two-sided", 2000, 300, 128, 2, true},
		{"window-at-run-time", 2000, 257, 128, 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			x, w := opstest.RandF32(1, 1, c.length, c.complx), opstest.RandF32(2, c.frame)
			onesided := c.complx == 1
			n := opstest.Node{OpType: "STFT", Opset: 17, Attrs: ops.AttrMap{"onesided": ops.IntAttr(boolInt(onesided))},
				Inputs: []*ops.Tensor{x, ops.Scalar(int64(c.step)), w}}
			if !c.constWindow {
				n.NonConstInputs = []int{2}
			}
			got := opstest.MustRun(t, n)[0].AsFloat64s()
			frames, bins := 1+(c.length-c.frame)/c.step, c.frame
			if onesided {
				bins = c.frame/2 + 1
			}
			xs, ws := x.AsFloat64s(), w.AsFloat64s()
			want := make([]float64, 0, frames*bins*2)
			re, im := make([]float64, c.frame), make([]float64, c.frame)
			outRe, outIm := make([]float64, bins), make([]float64, bins)
			for f := 0; f < frames; f++ {
				for t := range re {
					at := (f*c.step + t) * c.complx
					re[t], im[t] = xs[at]*ws[t], 0
					if c.complx == 2 {
						im[t] = xs[at+1] * ws[t]
					}
				}
				dftDirect(re, im, false, outRe, outIm)
				for q := range outRe {
					want = append(want, outRe[q], outIm[q])
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d values, want %d", len(got), len(want))
			}
			if e := maxRelErr(got, want); e > 1e-6 {
				t.Errorf("error %.2g > 1e-6", e)
			}
		})
	}
}

// One kernel serves every Session of a Plan: concurrent Runs each take their own FFT plan (run with -race
// to see a shared work array), and all give the serial result.
func TestDFTConcurrentRuns(t *testing.T) {
	for _, n := range []int{4096, 4093} {
		x := opstest.RandF32(int64(n), 1, n, 2)
		p := opstest.MustPrepare(t, dftNode(nil, x))
		if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
			t.Fatal(err)
		}
		want := p.Out[0]
		outs := make([]*ops.Tensor, 4)
		errs := make(chan error, len(outs))
		for g := range outs {
			outs[g] = ops.New(want.DType(), want.Shape())
			go func(out *ops.Tensor) {
				var err error
				for range 20 {
					if err = p.Kernel.Run(ops.SerialContext(), p.In, []*ops.Tensor{out}); err != nil {
						break
					}
				}
				errs <- err
			}(outs[g])
		}
		for range outs {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for g, out := range outs {
			if err := opstest.Close(out, want, 0, 0); err != nil {
				t.Errorf("n=%d, goroutine %d: %v", n, g, err)
			}
		}
	}
}
