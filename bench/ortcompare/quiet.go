package main

import (
	"fmt"
	"io"
	goruntime "runtime"
	"slices"

	"github.com/onnxrun/onnxrun/bench/fmapeak"
	"github.com/onnxrun/onnxrun/ops/cnn"
)

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
	switch kernel {
	case "avx2fma":
		return fmapeak.AVX2
	case "avx512":
		return fmapeak.AVX512
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
