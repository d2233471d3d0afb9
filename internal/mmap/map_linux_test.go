package mmap

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// rssFileKiB is the process's resident file-backed memory (RssFile in /proc/self/status).
func rssFileKiB(t *testing.T) int64 {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "RssFile:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("RssFile line %q: %v", line, err)
			}
			return kib
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// TestDontNeedLeavesTheResidentSetAndKeepsTheBytes: reading a mapped file makes its pages resident;
// DontNeed takes them out again, and reading once more gives the same bytes.
func TestDontNeedLeavesTheResidentSetAndKeepsTheBytes(t *testing.T) {
	const size = 16 << 20
	want := bytes.Repeat([]byte("onnxrun!"), size/8)
	path := filepath.Join(t.TempDir(), "weights.bin")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := Map(f, size)
	if err != nil {
		t.Fatal(err)
	}
	defer Unmap(data)

	before := rssFileKiB(t)
	if !bytes.Equal(data, want) { // touches every page
		t.Fatal("the mapping does not hold the file's bytes")
	}
	touched := rssFileKiB(t)
	DontNeed(data)
	dropped := rssFileKiB(t)
	if grew := touched - before; grew < size/1024/2 {
		t.Fatalf("reading %d KiB of mapped file grew RssFile by %d KiB only; the test cannot see DontNeed", size/1024, grew)
	}
	if left := dropped - before; left > (touched-before)/4 {
		t.Errorf("after DontNeed RssFile is %d KiB above where it was before reading (%d KiB after reading), want near 0", left, touched-before)
	}
	if !bytes.Equal(data, want) {
		t.Error("the bytes changed after DontNeed")
	}
}
