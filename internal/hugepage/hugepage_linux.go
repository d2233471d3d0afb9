package hugepage

import "syscall"

// adviseHuge marks b (2 MiB-aligned) for transparent huge pages. An error (a kernel without THP) only
// means ordinary pages, so it is ignored.
func adviseHuge(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }
