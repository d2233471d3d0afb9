// Package hugepage allocates the large buffers a model keeps for its lifetime (its weights as read from the
// file, their packed forms) so that the kernel may back them with transparent huge pages.
//
// Loading a model touches its weights' memory for the first time, and on Linux each first touch of a 4 KiB
// page is a page fault: a 330 MB model then takes some 80,000 faults for its weights and as many for their
// packed copies, which was most of the time `runtime.Load` spent in the kernel. Where transparent huge
// pages are in "madvise" mode (the default of most distributions), memory asked for with
// madvise(MADV_HUGEPAGE) is faulted in 2 MiB at a time instead: 512 times fewer faults, and fewer TLB
// misses when the kernels stream the weights. The Go runtime does not ask for huge pages for its heap, so
// this package asks for the buffers it allocates. Elsewhere (other systems, modes "never" or "always")
// the advice changes nothing and the buffers are ordinary slices.
//
// Only the 2 MiB-aligned interior of a buffer can be a huge page, so buffers below minBytes are not
// advised: most of them would hold no aligned 2 MiB at all.
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
