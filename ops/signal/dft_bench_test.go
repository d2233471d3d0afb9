package signal

import (
	"strconv"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// BenchmarkDFT times one complex float32 DFT of a smooth length (4096 = 2^12), a prime one (4093) and a
// length with a large prime factor (4·1021); "65536" is the size issue 12 quotes (about 100 s per run
// with the direct sum: measure that one with -benchtime 1x). BenchmarkSTFT is one second of 16 kHz
// audio in the usual speech front-end framings: 25 ms frames (400, a length with factor 5) and 512-point
// frames, both with a 10 ms hop (160) and a window.
func BenchmarkDFT(b *testing.B) {
	for _, c := range []struct {
		name string
		n    int
	}{{"4096", 4096}, {"prime-4093", 4093}, {"4x1021", 4 * 1021}, {"65536", 65536}} {
		b.Run(c.name, func(b *testing.B) {
			p := opstest.MustPrepare(b, dftNode(nil, opstest.RandF32(1, 1, c.n, 2)))
			runBench(b, p)
		})
	}
}

func BenchmarkSTFT(b *testing.B) {
	for _, frame := range []int{400, 512} {
		b.Run("16k-1s/frame"+strconv.Itoa(frame)+"-hop160", func(b *testing.B) {
			signal, window := opstest.RandF32(1, 1, 16000, 1), opstest.RandF32(2, frame)
			p := opstest.MustPrepare(b, opstest.NewNode("STFT", 17, nil, signal, ops.Scalar(int64(160)), window))
			runBench(b, p)
		})
	}
}

func runBench(b *testing.B, p *opstest.Prepared) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Kernel.Run(p.Ctx, p.In, p.Out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFFTLengths compares FFTPACK with Bluestein's algorithm on complex transforms of lengths
// p·2^k ≤ 4096 for primes p around bluesteinMinPrime, the measurement that picks it.
func BenchmarkFFTLengths(b *testing.B) {
	for _, prime := range []int{31, 127, 193, 257, 397, 1021} {
		n := prime
		for n*2 <= 4096 {
			n *= 2
		}
		bluestein, err := newBluesteinPlan(n)
		if err != nil {
			b.Fatal(err)
		}
		for name, p := range map[string]*fftPlan{"fftpack": newFFTPackPlan(n, true, false), "bluestein": bluestein} {
			b.Run(strconv.Itoa(prime)+"x"+strconv.Itoa(n/prime)+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					p.transform(false)
				}
			})
		}
	}
}
