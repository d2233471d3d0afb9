package hugepage

import (
	"bufio"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestLargeBuffersAdvised checks in /proc/self/smaps that a large buffer lies in a mapping flagged "hg"
// (MADV_HUGEPAGE).
func TestLargeBuffersAdvised(t *testing.T) {
	if goruntime.GOOS != "linux" {
		t.Skip("madvise(MADV_HUGEPAGE) is Linux's")
	}
	big := Float32s(3 * pageBytes / 4) // 6 MiB
	mid := uintptr(unsafe.Pointer(&big[len(big)/2]))
	if flags := mappingFlags(t, mid); !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("the middle of a 6 MiB buffer lies in a mapping with flags %q, want hg", flags)
	}
	goruntime.KeepAlive(big)
}

// mappingFlags returns the VmFlags of the mapping of /proc/self/smaps that holds addr.
func mappingFlags(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err) // every Linux kernel has smaps
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := mappingRange(line); ok {
			in = lo <= addr && addr < hi
			continue
		}
		if rest, ok := strings.CutPrefix(line, "VmFlags:"); ok && in {
			return strings.TrimSpace(rest)
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return ""
}

// mappingRange parses the "lo-hi perms ..." header line of a mapping.
func mappingRange(line string) (lo, hi uintptr, ok bool) {
	span, _, found := strings.Cut(line, " ")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(span, "-")
	if !found {
		return 0, 0, false
	}
	l, err1 := strconv.ParseUint(a, 16, 64)
	h, err2 := strconv.ParseUint(b, 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(l), uintptr(h), true
}
