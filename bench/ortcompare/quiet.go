package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/onnxrun/onnxrun/bench/fmapeak"
	"github.com/onnxrun/onnxrun/ops/cnn"
)

// The machine a run was on, how busy it was, and what its cores can do: what makes the figures
// checkable (issue 12: every figure with the command that made it, on a quiet machine, with the CPU and
// its ISA flags).

// machine is the CPU as /proc/cpuinfo describes it.
type machine struct {
	model  string   // "model name"
	family string   // "family 25 model 97": tells Zen 3 from Zen 4 when the name does not
	flags  []string // the ISA flags that matter to float32 kernels, in relevantFlags' order
	cpus   int
}

// relevantFlags are the /proc/cpuinfo flags that decide which kernels can run and how fast.
var relevantFlags = []string{"sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni",
	"avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512ifma", "avx512vbmi",
	"amx_tile", "amx_bf16", "amx_int8"}

func (m machine) String() string {
	return fmt.Sprintf("%s (%s), %d CPUs; ISA flags: %s", m.model, m.family, m.cpus, strings.Join(m.flags, " "))
}

func readMachine() machine {
	m := machine{model: "unknown CPU", family: "family ?", cpus: goruntime.NumCPU()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		m = parseCPUInfo(f, m)
	}
	return m
}

// parseCPUInfo reads the first processor's entry.
func parseCPUInfo(r io.Reader, m machine) machine {
	var fam, model string
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			if strings.TrimSpace(sc.Text()) == "" && fam != "" {
				break // end of the first processor
			}
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name":
			m.model = v
		case "cpu family":
			fam = v
		case "model":
			model = v
		case "flags":
			have := strings.Fields(v)
			m.flags = nil
			for _, f := range relevantFlags {
				if slices.Contains(have, f) {
					m.flags = append(m.flags, f)
				}
			}
		}
	}
	if fam != "" {
		m.family = fmt.Sprintf("family %s model %s", fam, model)
	}
	return m
}

// loadAverage is the 1-minute load average of /proc/loadavg ("?" where there is none): how many
// processes wanted a CPU, to judge how quiet the machine was.
// It is a variable so that tests can set the load.
var loadAverage = func() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// isQuiet reports whether a load average read by loadAverage is below limit.
func isQuiet(load string, limit float64) bool {
	v, err := strconv.ParseFloat(load, 64)
	return err == nil && v < limit
}

// waitQuiet polls the load average every few seconds until it is below limit or wait has passed, and
// returns the last reading and the time spent. After a run, the run's own threads have raised the
// 1-minute average (2 busy threads hold it near 2; it decays by e every minute once they stop, so
// from 2 to 0.5 takes about 85 s): waiting tells a machine that is quiet again from one where other
// work goes on.
func waitQuiet(limit float64, wait time.Duration, log io.Writer) (load string, waited time.Duration) {
	t0 := time.Now()
	load = loadAverage()
	for !isQuiet(load, limit) && time.Since(t0) < wait {
		fmt.Fprintf(log, "ortcompare: load average %s, waiting for it to fall below %.2f (%s of %s)...\n", load, limit,
			time.Since(t0).Round(time.Second), wait)
		time.Sleep(min(5*time.Second, max(0, wait-time.Since(t0))))
		load = loadAverage()
	}
	return load, time.Since(t0).Round(time.Second)
}

// peaks are the FMA peaks measured for the report.
type peaks struct {
	sgemmKernel string           // ops/cnn.SGEMMKernel
	sgemmISA    fmapeak.ISA      // the ISA whose peak "% of peak" uses
	byCores     map[int]float64  // that ISA's GFLOP/s by cores
	all         []fmapeak.Result // every ISA at every core count
	overridden  float64          // -peak per core, when given
}

// sgemmISA is the fmapeak kernel of the same instructions as the SGEMM micro-kernel.
func sgemmISA(kernel string) fmapeak.ISA {
	if kernel == "avx2fma" {
		return fmapeak.AVX2
	}
	return fmapeak.Go
}

// measurePeaks measures every ISA's FMA peak at 1 core and at each thread count of cfg (skipping the
// pure-Go loop unless the SGEMM kernel is the pure-Go one); with -peak set, that figure per core
// replaces the measured one in "% of peak" but the measurements are still reported.
func measurePeaks(cfg *config, log io.Writer) (*peaks, error) {
	p := &peaks{sgemmKernel: cnn.SGEMMKernel(), byCores: map[int]float64{}, overridden: cfg.peakPerCore}
	p.sgemmISA = sgemmISA(p.sgemmKernel)
	cores := []int{1}
	for _, t := range cfg.threads {
		if !slices.Contains(cores, t) && t <= goruntime.GOMAXPROCS(0) {
			cores = append(cores, t)
		}
	}
	for _, isa := range fmapeak.Available() {
		if isa == fmapeak.Go && p.sgemmISA != fmapeak.Go {
			continue
		}
		for _, c := range cores {
			r, err := fmapeak.Measure(isa, c, cfg.peakTrials, cfg.peakTrial)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(log, "ortcompare: FMA peak: %s\n", r)
			p.all = append(p.all, r)
			if isa == p.sgemmISA {
				p.byCores[c] = r.GFLOPS
			}
		}
	}
	return p, nil
}

// forThreads is the peak "% of peak" divides by at threads threads: -peak per core times threads when
// given, else the measured peak of the SGEMM kernel's ISA on that many cores (or one core's times
// threads, when that many were not measured).
func (p *peaks) forThreads(threads int) float64 {
	if p.overridden > 0 {
		return p.overridden * float64(threads)
	}
	if g, ok := p.byCores[threads]; ok {
		return g
	}
	return p.byCores[1] * float64(threads)
}
