//go:build !unix

package serve

import "time"

// processCPUTime is unknown outside Unix (getrusage): benchmarks then leave the CPU metric out.
func processCPUTime() (cpu time.Duration, ok bool) { return 0, false }
