package bench

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
)

// The machine a run was on and how busy it was: what makes a figure checkable (every figure with the
// command that made it, on a quiet machine, with the CPU and its ISA flags). bench/ortcompare and the
// serve package's load test both report them.

// Machine is the CPU as /proc/cpuinfo describes it.
type Machine struct {
	Model  string   // "model name"
	Family string   // "family 25 model 97": tells Zen 3 from Zen 4 when the name does not
	Flags  []string // the ISA flags that matter to float32 kernels, in relevantFlags' order
	CPUs   int
}

// relevantFlags are the /proc/cpuinfo flags that decide which kernels can run and how fast.
var relevantFlags = []string{"sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni",
	"avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512ifma", "avx512vbmi",
	"amx_tile", "amx_bf16", "amx_int8"}

func (m Machine) String() string {
	return fmt.Sprintf("%s (%s), %d CPUs; ISA flags: %s", m.Model, m.Family, m.CPUs, strings.Join(m.Flags, " "))
}

// ReadMachine describes this machine's CPU (its first processor in /proc/cpuinfo; "unknown CPU" where there
// is none).
func ReadMachine() Machine {
	m := Machine{Model: "unknown CPU", Family: "family ?", CPUs: goruntime.NumCPU()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		m = ParseCPUInfo(f, m)
	}
	return m
}

// ParseCPUInfo reads the first processor's entry of a /proc/cpuinfo text into m.
func ParseCPUInfo(r io.Reader, m Machine) Machine {
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
			m.Model = v
		case "cpu family":
			fam = v
		case "model":
			model = v
		case "flags":
			have := strings.Fields(v)
			m.Flags = nil
			for _, f := range relevantFlags {
				if slices.Contains(have, f) {
					m.Flags = append(m.Flags, f)
				}
			}
		}
	}
	if fam != "" {
		m.Family = fmt.Sprintf("family %s model %s", fam, model)
	}
	return m
}

// LoadAverage is the 1-minute load average of /proc/loadavg ("?" where there is none): how many
// processes wanted a CPU, to judge how quiet the machine was.
// It is a variable so that tests can set the load.
var LoadAverage = func() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// IsQuiet reports whether a load average read by LoadAverage is below limit.
func IsQuiet(load string, limit float64) bool {
	v, err := strconv.ParseFloat(load, 64)
	return err == nil && v < limit
}

// WaitQuiet polls the load average every few seconds until it is below limit or wait has passed, and
// returns the last reading and the time spent. After a run, the run's own threads have raised the
// 1-minute average (2 busy threads hold it near 2; it decays by e every minute once they stop, so
// from 2 to 0.5 takes about 85 s): waiting tells a machine that is quiet again from one where other
// work goes on.
func WaitQuiet(limit float64, wait time.Duration, log io.Writer) (load string, waited time.Duration) {
	t0 := time.Now()
	load = LoadAverage()
	for !IsQuiet(load, limit) && time.Since(t0) < wait {
		fmt.Fprintf(log, "load average %s, waiting for it to fall below %.2f (%s of %s)...\n", load, limit,
			time.Since(t0).Round(time.Second), wait)
		time.Sleep(min(5*time.Second, max(0, wait-time.Since(t0))))
		load = LoadAverage()
	}
	return load, time.Since(t0).Round(time.Second)
}
