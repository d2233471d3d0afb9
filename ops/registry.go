package ops

import (
	"fmt"
	"sort"
	"sync"
)

// MaxOpset is the highest default-domain opset the conformance suite has run against (ONNX 1.23 writes
// opsets up to 28). Models importing a
// newer opset are refused (a newer opset may change an operator's meaning), unless the runtime is told
// otherwise.
const MaxOpset = 28

// OpsetRange is a closed range of opset versions [Min, Max] over which one Builder implements an operator.
type OpsetRange struct{ Min, Max int }

// Opsets returns the closed range [min, max].
func Opsets(min, max int) OpsetRange { return OpsetRange{min, max} }

// Contains reports whether v is in the range.
func (r OpsetRange) Contains(v int) bool { return v >= r.Min && v <= r.Max }

func (r OpsetRange) String() string { return fmt.Sprintf("%d-%d", r.Min, r.Max) }

// Priority orders several registrations of one operator for the same opsets: a kernel chosen at start-up for
// the CPU (Arch) takes precedence over the portable one (Generic), which always exists as the reference.
type Priority int

const (
	Generic Priority = 0
	Arch    Priority = 10
)

// Registration is one entry of the operator table.
type Registration struct {
	Domain   string
	OpType   string
	Range    OpsetRange
	Priority Priority
	Build    Builder
}

var registry = struct {
	sync.RWMutex
	byOp map[opKey][]Registration
}{byOp: map[opKey][]Registration{}}

type opKey struct{ domain, opType string }

// Register adds a builder for op type in domain over the closed opset range. Registering two builders of the
// same priority over overlapping ranges panics at init: the table must say exactly one thing per opset.
func Register(domain, opType string, r OpsetRange, build Builder) {
	RegisterPriority(domain, opType, r, Generic, build)
}

// RegisterPriority is Register for a CPU-specific or otherwise preferred variant.
func RegisterPriority(domain, opType string, r OpsetRange, p Priority, build Builder) {
	if r.Min > r.Max || r.Min < 1 {
		panic(errBadRange)
	}
	domain = NormalizeDomain(domain)
	registry.Lock()
	defer registry.Unlock()
	k := opKey{domain, opType}
	for _, e := range registry.byOp[k] {
		if e.Priority == p && e.Range.Min <= r.Max && r.Min <= e.Range.Max {
			panic(errRangeOverlap + ": " + domain + "::" + opType)
		}
	}
	registry.byOp[k] = append(registry.byOp[k], Registration{domain, opType, r, p, build})
}

// NormalizeDomain maps the two spellings of the default ONNX domain, "" and "ai.onnx", to "".
func NormalizeDomain(d string) string {
	if d == "ai.onnx" {
		return ""
	}
	return d
}

// Lookup returns the builder for op type at the given opset, preferring the highest priority. ok is false
// when no registration covers that opset; ranges then lists the opsets that are covered (nil if the op is
// unknown), for the error message.
func Lookup(domain, opType string, opset int) (b Builder, ranges []OpsetRange, ok bool) {
	domain = NormalizeDomain(domain)
	registry.RLock()
	defer registry.RUnlock()
	best := -1
	entries := registry.byOp[opKey{domain, opType}]
	for i, e := range entries {
		if e.Range.Contains(opset) && (best < 0 || e.Priority > entries[best].Priority) {
			best = i
		}
	}
	if best >= 0 {
		return entries[best].Build, nil, true
	}
	for _, e := range entries {
		ranges = append(ranges, e.Range)
	}
	return nil, ranges, false
}

// Registrations returns a copy of the whole table sorted by domain, op type and range: for the README's
// supported-ops table, `onnxrun ops`, and the test that walks the table.
func Registrations() []Registration {
	registry.RLock()
	defer registry.RUnlock()
	var all []Registration
	for _, es := range registry.byOp {
		all = append(all, es...)
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Domain != b.Domain {
			return a.Domain < b.Domain
		}
		if a.OpType != b.OpType {
			return a.OpType < b.OpType
		}
		if a.Range.Min != b.Range.Min {
			return a.Range.Min < b.Range.Min
		}
		return a.Priority < b.Priority
	})
	return all
}
