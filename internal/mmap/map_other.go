//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package mmap

import "os"

// Supported reports whether Map maps files on this platform.
const Supported = false

// Map returns ErrUnsupported: the caller reads the file instead.
func Map(f *os.File, size int64) ([]byte, error) { return nil, ErrUnsupported }

// Unmap has nothing to release where Map maps nothing.
func Unmap(data []byte) error { return nil }

// DontNeed has no pages to give back where Map maps nothing.
func DontNeed(data []byte) {}
