package onnx

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"unsafe"

	"github.com/onnxrun/onnxrun/internal/mmap"
)

// Mapping is the memory-mapped files a Model's tensors may use in place: the model file, and the external
// data files read through Model.TakeTensor. Their pages are read-only (see package internal/mmap) and are
// not Go memory, so the collector cannot tell when they are last used: a Mapping counts its users instead,
// and unmaps every file when the last one releases it. The Model holds the first reference (Model.Close
// releases it); whoever keeps tensors that alias the mapping past the Model (a compiled runtime.Plan and
// its Sessions) takes one of its own with Acquire and gives it back with Release.
type Mapping struct {
	mu       sync.Mutex
	refs     int
	regions  [][]byte          // as mmap.Map returned them, for Unmap
	external map[string][]byte // external data files by resolved path, each mapped once
}

func newMapping(data []byte) *Mapping {
	return &Mapping{refs: 1, regions: [][]byte{data}}
}

// Acquire takes a reference; it reports false when the mapping is already released (and nothing may be
// read from it any more).
func (m *Mapping) Acquire() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refs <= 0 {
		return false
	}
	m.refs++
	return true
}

// Release gives back a reference; the last one unmaps every file of the mapping. Releasing more often than
// acquiring is a no-op.
func (m *Mapping) Release() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refs <= 0 {
		return nil
	}
	m.refs--
	if m.refs > 0 {
		return nil
	}
	var errs []error
	for _, r := range m.regions {
		errs = append(errs, mmap.Unmap(r))
	}
	m.regions, m.external = nil, nil
	return errors.Join(errs...)
}

// Released reports whether the last reference is gone and the files are unmapped.
func (m *Mapping) Released() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refs <= 0
}

// Contains reports whether p points into one of the mapped files: a tensor whose data starts there must
// not be written to, nor outlive the mapping.
func (m *Mapping) Contains(p unsafe.Pointer) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.regions {
		start := uintptr(unsafe.Pointer(unsafe.SliceData(r)))
		if a := uintptr(p); a >= start && a < start+uintptr(len(r)) {
			return true
		}
	}
	return false
}

// Holds reports whether a's elements lie in the mapped files (Model.TakeTensor used them in place): they
// are read-only, and valid only while the mapping is. An Array marks nothing itself, so that its literal
// form stays the three fields callers write.
func (m *Mapping) Holds(a *Array) bool {
	if a == nil || a.Len() == 0 {
		return false
	}
	return m.Contains(reflect.ValueOf(a.Data).UnsafePointer())
}

// Trim takes every page of the mapped files out of the process's resident set, as advice to the kernel
// (internal/mmap.DontNeed): the pages the process reads again come back from the file with the same bytes,
// the others (weights read only while compiling, to be packed or folded) stay out. The runtime trims once
// a plan is compiled, so that its resident size counts the mapped weights it runs with, not every byte
// compiling touched.
func (m *Mapping) Trim() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refs <= 0 {
		return
	}
	for _, r := range m.regions {
		mmap.DontNeed(r)
	}
}

// dropCopied gives back the resident pages of raw, mapped bytes that were just copied into an array of
// their own (misaligned, or of a type Array stores differently), so that the weight is not resident
// twice until Trim.
func (m *Mapping) dropCopied(raw []byte) {
	if len(raw) == 0 || !m.Contains(unsafe.Pointer(unsafe.SliceData(raw))) {
		return
	}
	mmap.DontNeed(raw)
}

// mapExternal returns the whole of the external data file f (at resolved path realPath) mapped, mapping it
// on first use. ok is false when it cannot be mapped (the platform, an empty file, a released mapping):
// the caller reads the file instead.
func (m *Mapping) mapExternal(realPath string, f *os.File, size int64) (data []byte, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refs <= 0 {
		return nil, false
	}
	if data, ok := m.external[realPath]; ok {
		return data, len(data) == int(size)
	}
	data, err := mmap.Map(f, size)
	if err != nil {
		return nil, false
	}
	if m.external == nil {
		m.external = map[string][]byte{}
	}
	m.external[realPath] = data
	m.regions = append(m.regions, data)
	return data, true
}

// String names the mapping's state, for logs and test failures.
func (m *Mapping) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprintf("mapping of %d files, %d references", len(m.regions), m.refs)
}
