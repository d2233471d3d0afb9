//go:build amd64 && !noasm

package gemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/ops/internal/parallel"
)

func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestDevPerf(t *testing.T) {
	sz, _ := strconv.Atoi(os.Getenv("DEVSIZE"))
	if sz == 0 {
		t.Skip()
	}
	runtime.LockOSThread()
	if os.Getenv("DEVNOAINPLACE") != "" {
		aInPlaceEnabled = false
	}
	if v := os.Getenv("DEVMINWORK"); v != "" {
		defaultImpl.minParallelWork, _ = strconv.Atoi(v)
	}

	r := rand.New(rand.NewPCG(3, 4))
	m, n, k := sz, sz, sz
	if v, _ := strconv.Atoi(os.Getenv("DEVM")); v > 0 {
		m = v
	}
	if v, _ := strconv.Atoi(os.Getenv("DEVN")); v > 0 {
		n = v
	}
	if v, _ := strconv.Atoi(os.Getenv("DEVK")); v > 0 {
		k = v
	}
	a := randSlice(r, m*k)
	b := randSlice(r, k*n)
	c := make([]float32, m*n)
	p := &Params{M: m, N: n, K: k, Alpha: 1, A: a, LDA: k, B: b, LDB: n, C: c, LDC: n}
	if os.Getenv("DEVTRANSA") != "" {
		p.TransA, p.LDA = true, m
	}
	if th, _ := strconv.Atoi(os.Getenv("DEVTHREADS")); th > 1 {
		p.Pool = parallel.NewPool(th)
		defer p.Pool.Close()
	}
	if os.Getenv("DEVPACK") != "" {
		p.PackedA = PackA(false, m, k, a, k)
	}
	defaultImpl.multiply(p)
	best, bestCPU := time.Hour, time.Hour
	for it := 0; it < 200; it++ {
		t0, c0 := time.Now(), threadCPU()
		defaultImpl.multiply(p)
		w, cp := time.Since(t0), threadCPU()-c0
		best, bestCPU = min(best, w), min(bestCPU, cp)
	}
	fl := 2 * float64(m*n*k) / 1e9
	fmt.Printf("%dx%dx%d: best wall %.1f GFLOP/s, best cpu %.1f GFLOP/s\n", m, n, k, fl/best.Seconds(), fl/bestCPU.Seconds())
}

func TestDevPeak(t *testing.T) {
	if os.Getenv("DEVPEAK") == "" {
		t.Skip()
	}
	const k = 128
	a := make([]float32, k*mr)
	b := make([]float32, k*nr)
	c := make([]float32, mr*nr)
	args := &tileArgs{alpha: 1}
	best := time.Hour
	for it := 0; it < 50; it++ {
		t0 := time.Now()
		for i := 0; i < 10000; i++ {
			kernel6x16FMAColA(k, &a[0], mr, &b[0], nr, &c[0], nr, args)
		}
		best = min(best, time.Since(t0))
	}
	fmt.Printf("kernel in L1: %.1f GFLOP/s\n", 2*mr*nr*k*10000/best.Seconds()/1e9)
}
