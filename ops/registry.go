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

// The operator domains onnxrun registers kernels in besides the default ONNX domain ("").
const (
	// FusedDomain holds the fused kernels the graph passes write (FusedConv, FusedGemm). Its only opset is 1.
	FusedDomain     = "onnxrun"
	MicrosoftDomain = "com.microsoft" // ONNX Runtime's contrib operators (quantized ops its quantizer writes)
	// TrainingDomain holds the backward (gradient) kernels of the trainer. Its only opset is 1.
	TrainingDomain = "ai.onnxrun.training"
	// PreviewTrainingDomain is ONNX's own training domain (Adagrad, Adam, Momentum). Its only opset is 1.
	PreviewTrainingDomain = "ai.onnx.preview.training"
	// PreviewDomain is ONNX's domain of experimental operators (FlexAttention). Its only opset is 1.
	PreviewDomain = "ai.onnx.preview"
)

// newestOpset is the highest opset of each domain kernels may register in: the last entry of an operator's
// history runs up to it. Registering in a domain missing here panics, so a new domain is declared once.
var newestOpset = map[string]int{"": MaxOpset, FusedDomain: 1, TrainingDomain: 1, PreviewTrainingDomain: 1, PreviewDomain: 1, MicrosoftDomain: 1}

// DeclareDomain declares a custom operator domain whose opsets run up to newest, so that kernels (a
// program's own operators, or a test's) can Register in it. A domain is declared once: declaring it again
// with another newest opset panics, as overlapping registrations do.
func DeclareDomain(domain string, newest int) {
	domain = NormalizeDomain(domain)
	if have, ok := newestOpset[domain]; ok && have != newest {
		panic("ops: domain " + domain + " declared twice with different newest opsets")
	}
	newestOpset[domain] = newest
}

// Version is one entry of an operator's history: Build implements the operator from opset Since up to the
// opset before the next entry's Since, the last entry up to the domain's newest opset. An entry without
// Build (RemovedIn) covers nothing and ends the range before it.
type Version struct {
	Since int
	Build Builder
}

// Since is the history entry for build from opset v on.
func Since(v int, build Builder) Version { return Version{v, build} }

// RemovedIn ends a history: the operator was deprecated or removed in opset v, so no kernel covers v and
// above (Upsample-10, Scatter-11).
func RemovedIn(v int) Version { return Version{Since: v} }

// SameBuilder is the history of an operator whose one builder serves every listed version (ascending); the
// builder reads NodeInfo.Opset for the differences. Listing every version keeps the table saying which
// versions the spec has.
func SameBuilder(build Builder, versions ...int) []Version {
	h := make([]Version, len(versions))
	for i, v := range versions {
		h[i] = Version{v, build}
	}
	return h
}

// Registration is one entry of the operator table.
type Registration struct {
	Domain string
	OpType string
	Range  OpsetRange
	Build  Builder
}

var registry = struct {
	sync.RWMutex
	byOp map[opKey][]Registration
}{byOp: map[opKey][]Registration{}}

type opKey struct{ domain, opType string }

// Register records opType's version history in domain, one closed opset range per entry (see Version): the
// one way kernel packages register, in their init functions. Entries must be in increasing order; those
// above the domain's newest opset are skipped. A history that overlaps a range registered before, an
// unordered history and an undeclared domain panic at init: the table must say exactly one thing per opset.
//
// CPU-specific code is not a separate registration: a kernel keeps one strategy and swaps the routine that
// runs it (assembly or pure Go) at build or start-up time, so the table has one entry per opset.
func Register(domain, opType string, history ...Version) {
	domain = NormalizeDomain(domain)
	newest, ok := newestOpset[domain]
	if !ok {
		panic(errUnknownDomain + ": " + domain)
	}
	for i, h := range history {
		if h.Since > newest || h.Build == nil {
			continue
		}
		last := newest
		if i+1 < len(history) {
			last = min(history[i+1].Since-1, newest)
		}
		register(domain, opType, Opsets(h.Since, last), h.Build)
	}
}

func register(domain, opType string, r OpsetRange, build Builder) {
	if r.Min > r.Max || r.Min < 1 {
		panic(errBadRange + ": " + domain + "::" + opType)
	}
	registry.Lock()
	defer registry.Unlock()
	k := opKey{domain, opType}
	for _, e := range registry.byOp[k] {
		if e.Range.Min <= r.Max && r.Min <= e.Range.Max {
			panic(errRangeOverlap + ": " + domain + "::" + opType)
		}
	}
	registry.byOp[k] = append(registry.byOp[k], Registration{domain, opType, r, build})
}

// NormalizeDomain maps the two spellings of the default ONNX domain, "" and "ai.onnx", to "".
func NormalizeDomain(d string) string {
	if d == "ai.onnx" {
		return ""
	}
	return d
}

// Lookup returns the builder for op type at the given opset. ok is false when no registration covers that
// opset; ranges then lists the opsets that are covered (nil if the op is unknown), for the error message.
func Lookup(domain, opType string, opset int) (b Builder, ranges []OpsetRange, ok bool) {
	domain = NormalizeDomain(domain)
	registry.RLock()
	defer registry.RUnlock()
	entries := registry.byOp[opKey{domain, opType}]
	for _, e := range entries {
		if e.Range.Contains(opset) {
			return e.Build, nil, true
		}
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
		return a.Range.Min < b.Range.Min
	})
	return all
}
