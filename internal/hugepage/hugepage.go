package hugepage

import "unsafe"

// pageBytes is the size of a transparent huge page on amd64 and arm64 (with 4 KiB base pages).
const pageBytes = 2 << 20

// minBytes is the smallest buffer advised: one twice the huge page always holds an aligned one.
const minBytes = 2 * pageBytes

// Bytes returns a new zeroed []byte of length n, advised for huge pages when it is large.
func Bytes(n int) []byte {
	b := make([]byte, n)
	advise(b)
	return b
}

// Float32s returns a new zeroed []float32 of length n, advised for huge pages when it is large.
func Float32s(n int) []float32 {
	s := make([]float32, n)
	advise(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*4))
	return s
}

// advise asks for huge pages on b's 2 MiB-aligned interior, before anything touches it.
func advise(b []byte) {
	if len(b) < minBytes {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (start + pageBytes - 1) &^ (pageBytes - 1)
	hi := (start + uintptr(len(b))) &^ (pageBytes - 1)
	if lo < hi {
		adviseHuge(b[lo-start : hi-start])
	}
}
