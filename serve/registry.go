package serve

import (
	"os"
	"sort"
	"strings"
	"sync"
)

// The states a model has in the repository index (POST /v2/repository/index), Triton's names.
const (
	StateReady       = "READY"       // serving
	StateUnavailable = "UNAVAILABLE" // not serving: failed to load, or unloaded; the reason says which
	StateLoading     = "LOADING"     // being compiled for the first time
)

// registry is the set of models a Server serves, which changes at run time: the model directory's
// scanner and the load/unload endpoints install, replace and remove models while requests run.
//
// A request looks its model up once and holds it (acquire) until it has answered: a reload swaps in the
// new Model for the requests that come next, while those in flight finish on the old one, which is
// closed only when its last holder lets go. So a request never sees two versions of a model, and a
// model's sessions and batcher are never closed under a running request.
type registry struct {
	mu      sync.Mutex
	entries map[string]*entry
}

// entry is one model name: what serves it now, if anything, and what the index reports about it.
type entry struct {
	name    string
	current *heldModel // nil when nothing serves the name
	state   string
	reason  string

	// For models from the model directory: the files the last load attempt read (successful or not), so
	// that the scanner retries a broken file only once it changes again.
	fromDir  bool
	src      ModelSource
	stamp    fileStamp
	unloaded bool // unloaded by request: the scanner leaves it alone until a load request
}

// heldModel is a Model with the count of requests holding it.
type heldModel struct {
	m       *Model
	holders int  // guarded by registry.mu
	retired bool // replaced or removed: closed when holders reaches 0
}

func newRegistry() *registry { return &registry{entries: map[string]*entry{}} }

// acquire returns the model serving name and the function that lets it go, which the caller must call
// once it is done with the model. ok is false when nothing serves name.
func (r *registry) acquire(name string) (m *Model, release func(), ok bool) {
	r.mu.Lock()
	e := r.entries[name]
	if e == nil || e.current == nil {
		r.mu.Unlock()
		return nil, nil, false
	}
	h := e.current
	h.holders++
	r.mu.Unlock()
	var once sync.Once
	return h.m, func() { once.Do(func() { r.letGo(h) }) }, true
}

func (r *registry) letGo(h *heldModel) {
	r.mu.Lock()
	h.holders--
	closeNow := h.retired && h.holders == 0
	r.mu.Unlock()
	if closeNow {
		h.m.Close()
	}
}

// retireLocked marks h replaced and reports whether it can be closed now; r.mu is held.
func retireLocked(h *heldModel) (closeNow bool) {
	if h == nil {
		return false
	}
	h.retired = true
	return h.holders == 0
}

// install makes m serve name, replacing (and retiring) what served it before.
func (r *registry) install(m *Model, fromDir bool, src ModelSource, stamp fileStamp) {
	r.mu.Lock()
	e := r.entryLocked(m.name)
	old := e.current
	e.current = &heldModel{m: m}
	e.state, e.reason = StateReady, ""
	e.fromDir, e.src, e.stamp, e.unloaded = fromDir, src, stamp, false
	closeNow := retireLocked(old)
	r.mu.Unlock()
	if closeNow {
		old.m.Close()
	}
}

func (r *registry) entryLocked(name string) *entry {
	e := r.entries[name]
	if e == nil {
		e = &entry{name: name}
		r.entries[name] = e
	}
	return e
}

// loading marks a model directory entry as being loaded from src (LOADING unless a model still serves it).
func (r *registry) loading(src ModelSource) {
	r.mu.Lock()
	e := r.entryLocked(src.Name)
	e.fromDir, e.src = true, src
	if e.current == nil {
		e.state, e.reason = StateLoading, ""
	}
	r.mu.Unlock()
}

// failed records a failed load of src: a model that served the name keeps serving (READY, with the
// failure as the reason), else the name is UNAVAILABLE.
func (r *registry) failed(src ModelSource, stamp fileStamp, reason string) {
	r.mu.Lock()
	e := r.entryLocked(src.Name)
	e.fromDir, e.src, e.stamp = true, src, stamp
	if e.current != nil {
		e.state, e.reason = StateReady, "serving the previous version; loading the new files failed: "+reason
	} else {
		e.state, e.reason = StateUnavailable, reason
	}
	r.mu.Unlock()
}

// unload stops serving name; the entry stays in the index as UNAVAILABLE with reason. ok is false when
// nothing served name.
func (r *registry) unload(name, reason string) (ok bool) {
	r.mu.Lock()
	e := r.entries[name]
	if e == nil || e.current == nil {
		r.mu.Unlock()
		return false
	}
	old := e.current
	e.current, e.unloaded = nil, true
	e.state, e.reason = StateUnavailable, reason
	closeNow := retireLocked(old)
	r.mu.Unlock()
	if closeNow {
		old.m.Close()
	}
	return true
}

// remove forgets name altogether (its file is gone), retiring its model.
func (r *registry) remove(name string) {
	r.mu.Lock()
	e := r.entries[name]
	delete(r.entries, name)
	var old *heldModel
	if e != nil {
		old = e.current
	}
	closeNow := retireLocked(old)
	r.mu.Unlock()
	if closeNow {
		old.m.Close()
	}
}

// closeAll retires every model: those no request holds close now, the others when let go.
func (r *registry) closeAll() {
	r.mu.Lock()
	var closeNow []*Model
	for _, e := range r.entries {
		if retireLocked(e.current) {
			closeNow = append(closeNow, e.current.m)
		}
		e.current = nil
	}
	r.mu.Unlock()
	for _, m := range closeNow {
		m.Close()
	}
}

// serving lists the models serving now, sorted by name. They are not held: for reading what does not
// change (names, metadata, settings) or for draining.
func (r *registry) serving() []*Model {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ms []*Model
	for _, e := range r.entries {
		if e.current != nil {
			ms = append(ms, e.current.m)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].name < ms[j].name })
	return ms
}

// isServing reports whether a model serves name now.
func (r *registry) isServing(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[name]
	return e != nil && e.current != nil
}

// servingNames lists the names served now, for error messages.
func (r *registry) servingNames() string {
	ms := r.serving()
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.name
	}
	if len(names) == 0 {
		return "no models"
	}
	return strings.Join(names, ", ")
}

// dirEntry is a copy of what the scanner needs to know about a name.
type dirEntry struct {
	exists, fromDir, unloaded bool
	src                       ModelSource
	stamp                     fileStamp
}

func (r *registry) dirEntry(name string) dirEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[name]
	if e == nil {
		return dirEntry{}
	}
	return dirEntry{exists: true, fromDir: e.fromDir, unloaded: e.unloaded, src: e.src, stamp: e.stamp}
}

// dirNames lists the names that came from the model directory.
func (r *registry) dirNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for name, e := range r.entries {
		if e.fromDir {
			names = append(names, name)
		}
	}
	return names
}

// index is the repository index: every name with its state, sorted by name.
func (r *registry) index(version string) []RepositoryIndexEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	idx := make([]RepositoryIndexEntry, 0, len(r.entries))
	for _, e := range r.entries {
		ie := RepositoryIndexEntry{Name: e.name, State: e.state, Reason: e.reason}
		if e.current != nil {
			ie.Version = e.current.m.version
		} else {
			ie.Version = version
		}
		idx = append(idx, ie)
	}
	sort.Slice(idx, func(i, j int) bool { return idx[i].Name < idx[j].Name })
	return idx
}

// fileStamp identifies the versions of a model's files: a file replaced (a new inode), rewritten (size or
// modification time) or a settings file appearing or disappearing changes it.
type fileStamp struct {
	model, settings os.FileInfo // settings is nil when there is no settings file
}

// stampOf stats src's model file and its settings file, if any.
func stampOf(src ModelSource) (fileStamp, error) {
	model, err := os.Stat(src.Path)
	if err != nil {
		return fileStamp{}, err
	}
	st := fileStamp{model: model}
	if settings, err := os.Stat(src.SettingsFile()); err == nil {
		st.settings = settings
	}
	return st, nil
}

func (a fileStamp) same(b fileStamp) bool {
	return sameVersion(a.model, b.model) && sameVersion(a.settings, b.settings)
}

func sameVersion(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
