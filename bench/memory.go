package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
)

// ProcMemory is the process's memory as Linux reports it in /proc/self/status, in bytes.
type ProcMemory struct {
	VmHWM  int64 // peak resident set size: the "peak memory" figure
	VmRSS  int64 // resident set size now
	VmPeak int64 // peak virtual size
}

// ReadProcMemory reads /proc/self/status. On systems without it, it returns an error wrapping the
// os.Open failure.
func ReadProcMemory() (ProcMemory, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return ProcMemory{}, err
	}
	defer f.Close()
	return parseProcStatus(f)
}

// parseProcStatus reads the "VmHWM:   1234 kB" lines of a /proc/PID/status file.
func parseProcStatus(r io.Reader) (ProcMemory, error) {
	var m ProcMemory
	fields := map[string]*int64{"VmHWM": &m.VmHWM, "VmRSS": &m.VmRSS, "VmPeak": &m.VmPeak}
	found := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		dst, want := fields[key]
		if !ok || !want {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("bench: /proc status line %q: want \"%s: <n> kB\"", sc.Text(), key)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return m, fmt.Errorf("bench: /proc status line %q: %q is not a size in kB", sc.Text(), f[0])
		}
		*dst = kb << 10
		found++
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if found < len(fields) {
		return m, fmt.Errorf("bench: /proc status has %d of the lines VmHWM, VmRSS, VmPeak", found)
	}
	return m, nil
}

// GoMemory is the Go heap as runtime.ReadMemStats reports it, in bytes.
type GoMemory struct {
	HeapInuse  uint64 // bytes in spans holding live or not yet swept objects
	HeapSys    uint64 // heap memory obtained from the OS: a high-water mark, Go returns it slowly
	TotalAlloc uint64 // bytes allocated over the process's life
	Mallocs    uint64
	NumGC      uint32
}

// ReadGoMemory reads the Go heap statistics (it stops the world briefly: call it outside timed code).
func ReadGoMemory() GoMemory {
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return GoMemory{HeapInuse: ms.HeapInuse, HeapSys: ms.HeapSys, TotalAlloc: ms.TotalAlloc, Mallocs: ms.Mallocs, NumGC: ms.NumGC}
}

// Bytes formats a byte count with a binary unit: "512 B", "1.5 KiB", "230.2 MiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, suffix := range []string{"KiB", "MiB", "GiB"} {
		v /= unit
		if v < unit && v > -unit {
			return fmt.Sprintf("%.1f %s", v, suffix)
		}
	}
	return fmt.Sprintf("%.1f TiB", v/unit)
}
