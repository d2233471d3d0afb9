package elementwise

import (
	"strconv"

	"github.com/onnxrun/onnxrun/ops"
)

// typeSet is the spec's type constraint, a set of dtypes.
type typeSet = ops.DTypeSet

func setOf(dts ...ops.DType) typeSet { return ops.DTypes(dts...) }

// The type lists that recur in the spec's constraints.
var (
	floatsNoBF16 = setOf(ops.Float16, ops.Float32, ops.Float64)
	floats       = floatsNoBF16 | setOf(ops.BFloat16)
	signedInts   = setOf(ops.Int8, ops.Int16, ops.Int32, ops.Int64)
	unsignedInts = setOf(ops.Uint8, ops.Uint16, ops.Uint32, ops.Uint64)
	allInts      = signedInts | unsignedInts
	numeric      = allInts | floats
	numericNoBF  = allInts | floatsNoBF16
	bools        = setOf(ops.Bool)
	// i32to64 is the "uint32, uint64, int32, int64" of opsets 6 to 13 of the arithmetic operators.
	i32to64 = setOf(ops.Int32, ops.Int64, ops.Uint32, ops.Uint64)
	// allTypes is every dtype a tensor can have (Where, Cast).
	allTypes = numeric | bools | setOf(ops.String, ops.Complex64, ops.Complex128)
)

// typeSince gives an operator's allowed input types from each opset that changed them: the entry with the
// largest since <= opset applies.
type typeSince []struct {
	since int
	types typeSet
}

func (t typeSince) at(opset int) typeSet {
	var s typeSet
	for _, e := range t {
		if e.since <= opset {
			s = e.types
		}
	}
	return s
}

// checkType returns an ErrInvalid error when dt is not in allowed, or ErrUnsupported for the narrow storage
// types (float8, int4, ...), which only Cast and CastLike convert here.
func checkType(n *nodeMeta, input string, dt ops.DType, allowed typeSet) error {
	if narrowTypes.Has(dt) && !allowed.Has(dt) {
		return ops.Unsupportedf("%s-%d: input %s is %s: onnxrun has no %s kernel for %s", n.opType, n.opset, input, dt, dt, n.opType)
	}
	if !allowed.Has(dt) {
		return ops.Invalidf("%s-%d: input %s has type %s, want one of %v", n.opType, n.opset, input, dt, allowed)
	}
	return nil
}

// nodeMeta is what every elementwise Op remembers of its node, for messages and per-opset behaviour.
type nodeMeta struct {
	opType    string
	opset     int
	numInputs int
}

func metaOf(n ops.NodeInfo) nodeMeta {
	return nodeMeta{opType: n.OpType, opset: n.Opset, numInputs: n.NumInputs}
}

// checkArity returns an error when the node has fewer than lo or more than hi inputs (hi < 0: no limit).
func checkArity(n ops.NodeInfo, lo, hi int) error {
	if n.NumInputs < lo || (hi >= 0 && n.NumInputs > hi) {
		switch {
		case lo == hi:
			return ops.Invalidf("%s-%d takes %s, node has %d", n.OpType, n.Opset, plural(lo, "input"), n.NumInputs)
		case hi < 0:
			return ops.Invalidf("%s-%d takes at least %s, node has %d", n.OpType, n.Opset, plural(lo, "input"), n.NumInputs)
		}
		return ops.Invalidf("%s-%d takes %d to %d inputs, node has %d", n.OpType, n.Opset, lo, hi, n.NumInputs)
	}
	return nil
}

// checkInputs checks that the first count inputs are present and share one dtype from allowed, and returns it.
func checkInputs(n *nodeMeta, in []ops.ValueInfo, count int, allowed typeSet, names ...string) (ops.DType, error) {
	if len(in) < count {
		return 0, ops.Invalidf("%s-%d needs %d inputs, got %d", n.opType, n.opset, count, len(in))
	}
	name := func(i int) string {
		if i < len(names) {
			return names[i]
		}
		return "#" + strconv.Itoa(i)
	}
	dt := in[0].DType
	for i := 0; i < count; i++ {
		if !in[i].Present() {
			return 0, ops.Invalidf("%s-%d: input %s is missing", n.opType, n.opset, name(i))
		}
		if err := checkType(n, name(i), in[i].DType, allowed); err != nil {
			return 0, err
		}
		if in[i].DType != dt {
			return 0, ops.Invalidf("%s-%d: input %s is %s but %s is %s; they must have the same type",
				n.opType, n.opset, name(i), in[i].DType, name(0), dt)
		}
	}
	return dt, nil
}

func itoa(i int) string { return strconv.Itoa(i) }

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
