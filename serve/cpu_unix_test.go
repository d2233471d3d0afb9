//go:build unix

package serve

import (
	"syscall"
	"time"
)

// processCPUTime is the user and system CPU time the process has used; ok is false where it is unknown.
func processCPUTime() (cpu time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
