//go:build unix

package serve

import (
	"os"
	"syscall"
)

// fileIdentity is the device and inode of a file, which change when a symlink swap makes the path name
// another file even if its size and modification time are the same.
func fileIdentity(fi os.FileInfo) (dev, ino uint64) {
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Dev), uint64(sys.Ino)
	}
	return 0, 0
}
