//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package mmap

import (
	"fmt"
	"math"
	"os"

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
