//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package mmap

import (
	"fmt"
	"math"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Supported reports whether Map maps files on this platform.
const Supported = true

// Map maps the first size bytes of f read-only and private. size must be positive and at most the file's
// size; bytes past the end of the file would fault when read.
func Map(f *os.File, size int64) ([]byte, error) {
	if size <= 0 || size > math.MaxInt {
		return nil, fmt.Errorf("mmap %s: cannot map %d bytes", f.Name(), size)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		return nil, &os.PathError{Op: "mmap", Path: f.Name(), Err: err}
	}
	return data, nil
}

// Unmap releases a mapping Map returned. Nothing may read data afterwards.
func Unmap(data []byte) error { return unix.Munmap(data) }

// DontNeed tells the kernel the process no longer needs the whole pages of data, a part of a mapping:
// they leave its resident set. The mapping is read-only and private, so its pages are never dirty and a
// later read faults them back in from the file (the page cache, usually) with the same bytes: advice, not
// a change of contents. Bytes at either end that share a page with other data are left alone.
func DontNeed(data []byte) {
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	first := (start + page - 1) &^ (page - 1)
	last := (start + uintptr(len(data))) &^ (page - 1)
	if last <= first {
		return
	}
	// An error (a kernel that refuses the advice) only means the pages stay resident.
	_ = unix.Madvise(data[first-start:last-start], unix.MADV_DONTNEED)
}
