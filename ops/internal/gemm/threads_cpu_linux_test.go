package gemm

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

// processCPUTime is the CPU time (user + system) all threads of the process
// have used so far.
func processCPUTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMultiplyThreadsCPU reports, beside wall time, the CPU time one
// product costs all threads together (cpu-ms/op) at 1 and 2 threads: on a
// machine shared with other work, wall time says little about a split, and
// the CPU time at 2 threads against 1 is what the split adds (duplicated
// packing, waiting). The shapes are splitShapes as the operators pass them.
func BenchmarkMultiplyThreadsCPU(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	pool := parallel.NewPool(2)
	defer pool.Close()
	for _, s := range splitShapes {
		p := s.params()
		a, bm := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n)
		if p.PackedA != nil {
			p.PackedA = PackA(false, s.m, s.k, a, s.k)
		} else {
			p.A = a
		}
		if p.PackedB != nil {
			p.PackedB = PackB(true, s.k, s.n, bm, s.k)
		} else {
			p.B = bm
		}
		p.Alpha, p.C, p.LDC = 1, make([]float32, s.m*s.n), s.n
		for _, threads := range []int{1, 2} {
			p.Pool = nil
			if threads == 2 {
				p.Pool = pool
			}
			b.Run(fmt.Sprintf("%s/threads=%d", s.name, threads), func(b *testing.B) {
				Multiply(p) // warm the buffer pool
				b.ResetTimer()
				start := processCPUTime(b)
				for b.Loop() {
					Multiply(p)
				}
				cpu := processCPUTime(b) - start
				b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
				reportGFLOPS(b, s.m, s.n, s.k)
			})
		}
	}
}
