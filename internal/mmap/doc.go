// Package mmap maps a file read-only into memory, for the model decoder (package onnx) to use weights in
// place instead of reading them into the Go heap.
//
// Map is implemented with golang.org/x/sys/unix on the Unix systems listed in map_unix.go. Elsewhere
// (js/wasm, windows, plan9) Supported is false and Map returns ErrUnsupported: the caller reads the file
// as it would without mapping, so every platform gets the same results and only the memory differs.
//
// # Invariants
//
// A mapping is PROT_READ and MAP_PRIVATE: writing into it faults (the process dies with "unexpected fault
// address"), so whoever holds its bytes must treat them as read-only constants. The bytes are not Go heap
// memory: the collector neither scans nor frees them, and a slice into them does not keep them mapped;
// Unmap is explicit, after the last use (package onnx counts the users of a mapping for that).
package mmap

import "errors"

// ErrUnsupported is Map's error on a platform this package does not map files on.
var ErrUnsupported = errors.New("mmap: memory-mapped files are not supported on this platform")
