package vecmath

import (
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestExhaustive checks the chosen variant of every function on all 2^32 float32 inputs against float64
// math, within the bound its doc comment states, and logs the largest error found per function. It takes
// minutes, so it runs only under ONNXRUN_CHECK_MATH=1 (make check-math). ONNXRUN_CHECK_MATH_FUNCS=exp,tanh
// limits it to some functions, ONNXRUN_CHECK_MATH_STRIDE=n checks every n-th bit pattern only.
func TestExhaustive(t *testing.T) {
	if os.Getenv("ONNXRUN_CHECK_MATH") != "1" {
		t.Skip("exhaustive float32 check: set ONNXRUN_CHECK_MATH=1 (make check-math)")
	}
	stride := uint64(1)
	if s := os.Getenv("ONNXRUN_CHECK_MATH_STRIDE"); s != "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n == 0 {
			t.Fatalf("ONNXRUN_CHECK_MATH_STRIDE=%q: want a positive integer", s)
		}
		stride = n
	}
	only := os.Getenv("ONNXRUN_CHECK_MATH_FUNCS")
	for _, r := range references {
		if only != "" && !strings.Contains(","+only+",", ","+r.name+",") {
			continue
		}
		st, failures, first := exhaustive(&r, stride)
		t.Logf("%s (%s): max %.3f ULP (at %g), max abs %.3g where |f| < %g (at %g), %d failures",
			r.name, isaName(r.family), st.maxULP, st.worstULP, st.maxAbs, r.relFrom, st.worstAbs, failures)
		if failures > 0 {
			t.Errorf("%s: %d inputs outside the bound, first: %s", r.name, failures, first)
		}
	}
}

func isaName(f *family) string {
	best := f.variants[0]
	for _, v := range runnable(f) {
		if v.Level > best.Level {
			best = v
		}
	}
	return best.Name
}

// exhaustive runs r's chosen kernel over every stride-th bit pattern on all CPUs.
func exhaustive(r *reference, stride uint64) (errorStats, int, string) {
	const block = 1 << 16
	workers := runtime.GOMAXPROCS(0)
	var (
		mu       sync.Mutex
		total    errorStats
		failures int
		first    string
		wg       sync.WaitGroup
	)
	next := make(chan uint64, workers)
	go func() {
		for start := uint64(0); start < 1<<32; start += block * stride {
			next <- start
		}
		close(next)
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := make([]float32, block)
			dst := make([]float32, block)
			for start := range next {
				n := 0
				for b := start; b < 1<<32 && n < block; b += stride {
					src[n] = math.Float32frombits(uint32(b))
					n++
				}
				r.family.chosen(dst[:n], src[:n])
				var st errorStats
				fails, msg := 0, ""
				for i := 0; i < n; i++ {
					if m := r.check(src[i], dst[i], &st); m != "" {
						if fails == 0 {
							msg = m
						}
						fails++
					}
				}
				mu.Lock()
				if st.maxULP > total.maxULP {
					total.maxULP, total.worstULP = st.maxULP, st.worstULP
				}
				if st.maxAbs > total.maxAbs {
					total.maxAbs, total.worstAbs = st.maxAbs, st.worstAbs
				}
				if failures == 0 && fails > 0 {
					first = msg
				}
				failures += fails
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return total, failures, first
}
