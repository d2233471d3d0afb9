package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxrun/onnxrun/ops/internal/isa"
)

func runnable(f *family) []isa.Variant[Kernel] { return isa.Runnable(f.variants...) }

// ulpDistance is how many float32 values lie between a and b (0 when equal or both NaN).
func ulpDistance(a, b float32) int64 {
	if a != a && b != b {
		return 0
	}
	if a != a || b != b {
		return math.MaxInt64
	}
	order := func(x float32) int64 {
		bits := int64(math.Float32bits(x))
		if bits&0x80000000 != 0 {
			return -(bits & 0x7fffffff)
		}
		return bits
	}
	d := order(a) - order(b)
	if d < 0 {
		d = -d
	}
	return d
}

// TestVariantsMatchTwin runs every runnable variant of every family on odd lengths (tails of every
// size), in place and into a separate buffer with NaN guard bands, and compares with the pure-Go twin:
// at most 1 ULP apart (the twin's emulated FMA rounds twice), and nothing written outside dst[:len(src)].
func TestVariantsMatchTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, 1000)
	for i := range src {
		src[i] = float32(rng.NormFloat64() * 8)
	}
	copy(src, edgeValues())
	const guard = 16
	for _, f := range families {
		twin := f.variants[0].Fn
		for _, v := range runnable(f) {
			for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 100, 1000} {
				want := make([]float32, n)
				twin(want, src[:n])
				buf := make([]float32, n+2*guard)
				for i := range buf {
					buf[i] = float32(math.NaN())
				}
				v.Fn(buf[guard:guard+n+guard], src[:n])
				inPlace := append([]float32(nil), src[:n]...)
				v.Fn(inPlace, inPlace)
				for i := 0; i < n; i++ {
					if d := ulpDistance(buf[guard+i], want[i]); d > 1 {
						t.Fatalf("%s %s n=%d: f(%g) = %g, twin %g (%d ULP)", f.name, v.Name, n, src[i], buf[guard+i], want[i], d)
					}
					if d := ulpDistance(inPlace[i], want[i]); d > 1 {
						t.Fatalf("%s %s n=%d in place: f(%g) = %g, twin %g", f.name, v.Name, n, src[i], inPlace[i], want[i])
					}
				}
				for i := 0; i < guard; i++ {
					if !math.IsNaN(float64(buf[i])) || !math.IsNaN(float64(buf[guard+n+i])) {
						t.Fatalf("%s %s n=%d: wrote outside dst[:%d]", f.name, v.Name, n, n)
					}
				}
			}
		}
	}
}

func softmax64(x []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	var s float64
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Exp(float64(v) - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// TestSoftmax checks Softmax and LogSoftmax, with every variant of their exp-and-sum pass, against
// float64 on rows of odd lengths (in place too), and their non-finite rows.
func TestSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sums, maxes, scales := isa.Runnable(expShiftSumVariants...), isa.Runnable(rowMaxVariants...), isa.Runnable(scaleVariants...)
	for vi, v := range isa.Runnable(expShiftStoreVariants...) {
		saved, savedSum, savedMax, savedScale := expShiftStore, expShiftSum, rowMax, scaleInPlace
		expShiftStore, expShiftSum, rowMax, scaleInPlace = v.Fn, sums[vi].Fn, maxes[vi].Fn, scales[vi].Fn
		for _, n := range []int{1, 3, 16, 17, 197, 1000, 4097, 32, 48} {
			row := make([]float32, n)
			for i := range row {
				row[i] = float32(rng.NormFloat64() * 10)
			}
			want := softmax64(row)
			got := make([]float32, n)
			Softmax(got, row)
			logGot := append([]float32(nil), row...)
			LogSoftmax(logGot, logGot)
			for i := range row {
				// 4 ULP, plus the rounding of x-m in float32 (relative error |x-m|·2^-24 in e^{x-m}).
				shiftULP := math.Abs(float64(row[i]-rowMax(row))) * 0x1p-24 * want[i] / ulp(want[i])
				if d := math.Abs(float64(got[i])-want[i]) / ulp(want[i]); d > 4+shiftULP && want[i] > 0x1p-126 {
					t.Fatalf("%s n=%d: softmax[%d] = %g, want %g (%.1f ULP)", v.Name, n, i, got[i], want[i], d)
				}
				wantLog := math.Log(want[i])
				if d := math.Abs(float64(logGot[i]) - wantLog); d > 2*ulp(wantLog)+2*ulp(float64(row[i])) {
					t.Fatalf("%s n=%d: logsoftmax[%d] = %g, want %g", v.Name, n, i, logGot[i], wantLog)
				}
			}
		}
		expShiftStore, expShiftSum, rowMax, scaleInPlace = saved, savedSum, savedMax, savedScale
	}
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, row := range [][]float32{{1, nan, 2}, {1, inf, 2}, {-inf, -inf}} {
		got := make([]float32, len(row))
		Softmax(got, row)
		logGot := make([]float32, len(row))
		LogSoftmax(logGot, row)
		for i := range row {
			if got[i] == got[i] || logGot[i] == logGot[i] {
				t.Errorf("softmax(%v) = %v, logsoftmax %v, want NaN throughout", row, got, logGot)
			}
		}
	}
	// Far from zero (the ONNX test logsoftmax_large_number): x - m is exact, so the result is as accurate as
	// near zero; subtracting m + log(sum) instead would lose half an ulp of 1e4 (5e-4).
	large := []float32{10000, 10001, 10002, 10003}
	logLarge := make([]float32, 4)
	LogSoftmax(logLarge, large)
	for i, want := range logSoftmax64([]float32{0, 1, 2, 3}) {
		if d := math.Abs(float64(logLarge[i]) - want); d > 1e-6 {
			t.Errorf("logsoftmax(%v)[%d] = %g, want %g (off by %.2g)", large, i, logLarge[i], want, d)
		}
	}
	// A row with -Inf entries among finite ones: those get 0 (and -Inf in log space).
	got := make([]float32, 3)
	Softmax(got, []float32{0, float32(math.Inf(-1)), 0})
	if got[0] != 0.5 || got[1] != 0 || got[2] != 0.5 {
		t.Errorf("softmax(0, -Inf, 0) = %v, want [0.5 0 0.5]", got)
	}
}

// TestRowPassesMatchTwins compares Softmax's max and scale passes of every variant with their twins on
// odd lengths, including an empty row (max -Inf) and the largest element in the tail.
func TestRowPassesMatchTwins(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 32, 33, 47, 64, 1001} {
		row := make([]float32, n)
		for i := range row {
			row[i] = float32(rng.NormFloat64())
		}
		if n > 0 {
			row[n-1] = 100 // the maximum in the last (tail) lane
		}
		for _, v := range isa.Runnable(rowMaxVariants...) {
			if got, want := v.Fn(row), rowMaxGo(row); got != want {
				t.Errorf("rowMax %s n=%d = %g, want %g", v.Name, n, got, want)
			}
		}
		want := append([]float32(nil), row...)
		scaleGo(want, 0.37)
		for _, v := range isa.Runnable(scaleVariants...) {
			got := append(append([]float32(nil), row...), 5) // a guard element
			v.Fn(got[:n], 0.37)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("scale %s n=%d: [%d] = %g, want %g", v.Name, n, i, got[i], want[i])
				}
			}
			if got[n] != 5 {
				t.Errorf("scale %s n=%d wrote past the end", v.Name, n)
			}
		}
	}
}

// logSoftmax64 is log(softmax(row)) in float64.
func logSoftmax64(row []float32) []float64 {
	out := softmax64(row)
	for i, p := range out {
		out[i] = math.Log(p)
	}
	return out
}
