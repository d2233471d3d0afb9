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
