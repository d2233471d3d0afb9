package elementwise

import (
	"math"
	"strconv"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// Cast: https://onnx.ai/onnx/operators/onnx__Cast.html, opsets 1, 6, 9, 13, 19, 21, 23, 24, 25.
// CastLike: https://onnx.ai/onnx/operators/onnx__CastLike.html, opsets 15, 19, 21, 23, 24, 25.
//
// Numbers convert as a C cast: integers wrap, floats round to nearest even, floats truncate towards zero
// into integers, anything nonzero (NaN included) is true. float16 and bfloat16 go through float64 with a
// single rounding. Numbers format to strings as ONNX Runtime does ("%.8g", "NaN", "INF", "-INF", integers
// in decimal, bools as 1 and 0); strings parse as C's strtod (floats: "1e-5", "inf", "NaN", any case) and
// strtoll (integers: the leading integer, so "100.5" gives 100).
//
// The float8, float4, 4-bit and 2-bit types of opsets 19 to 25 convert through float64 (their values are
// exact there) with one rounding into the target (see castnarrow.go): into float8 types out-of-range values
// and infinities saturate to the largest finite value unless saturate=0 (then Inf for E5M2, NaN for the
// others), into float8e8m0 round_mode chooses the power of two, into float4e2m1 values always saturate, and
// into the 4-bit and 2-bit integers integers keep their low bits and floats truncate first, as for int8.
func init() {
	// opset 1: 'to' is a type name string; opset 6: 'to' is a DataType number
	// opset 9: string; opset 13: bfloat16
	// opset 19: float8 types and saturate; opset 21: int4/uint4; opset 23: float4e2m1
	// opset 24: float8e8m0 and round_mode; opset 25: int2/uint2
	ops.Register("", "Cast", ops.SameBuilder(buildCast, 1, 6, 9, 13, 19, 21, 23, 24, 25)...)
	// CastLike follows Cast's type additions from opset 19 on.
	ops.Register("", "CastLike", ops.SameBuilder(buildCast, 15, 19, 21, 23, 24, 25)...)
}

// castTypes is what Cast can take and make at each opset, among the types onnxrun holds.
var castTypes = typeSince{
	{1, numericNoBF | bools},
	{9, numericNoBF | bools | setOf(ops.String)},
	{13, numeric | bools | setOf(ops.String)},
	{19, numeric | bools | setOf(ops.String) | float8s},
	{21, numeric | bools | setOf(ops.String) | float8s | setOf(ops.Uint4, ops.Int4)},
	{23, numeric | bools | setOf(ops.String) | float8s | setOf(ops.Uint4, ops.Int4, ops.Float4E2M1)},
	{24, numeric | bools | setOf(ops.String) | float8s | setOf(ops.Uint4, ops.Int4, ops.Float4E2M1, ops.Float8E8M0)},
	{25, numeric | bools | setOf(ops.String) | narrowTypes},
}

// float8s are the float8 types of opset 19; narrowTypes all the one-byte storage types of opsets 19 to 25.
var (
	float8s     = setOf(ops.Float8E4M3FN, ops.Float8E4M3FNUZ, ops.Float8E5M2, ops.Float8E5M2FNUZ)
	narrowTypes = float8s | setOf(ops.Uint4, ops.Int4, ops.Float4E2M1, ops.Float8E8M0, ops.Uint2, ops.Int2)
)

// onnxTypeNames maps Cast-1's 'to' strings (TensorProto.DataType names) to dtypes.
var onnxTypeNames = map[string]ops.DType{
	"FLOAT": ops.Float32, "UINT8": ops.Uint8, "INT8": ops.Int8, "UINT16": ops.Uint16, "INT16": ops.Int16,
	"INT32": ops.Int32, "INT64": ops.Int64, "STRING": ops.String, "BOOL": ops.Bool, "FLOAT16": ops.Float16,
	"DOUBLE": ops.Float64, "UINT32": ops.Uint32, "UINT64": ops.Uint64, "COMPLEX64": ops.Complex64,
	"COMPLEX128": ops.Complex128, "BFLOAT16": ops.BFloat16,
}

type castOp struct {
	nodeMeta
	types    typeSet
	to       ops.DType // Undefined for CastLike: the second input's type
	saturate bool      // into float8 types: out-of-range values clamp (opset 19 on; the default)
	round    ops.E8M0Rounding
}

// e8m0Rounding maps round_mode (opset 24) to the rounding into float8e8m0.
var e8m0Rounding = map[string]ops.E8M0Rounding{"up": ops.E8M0RoundUp, "down": ops.E8M0RoundDown, "nearest": ops.E8M0RoundNearest}

func buildCast(n ops.NodeInfo) (ops.Op, error) {
	like := n.OpType == "CastLike"
	if like {
		if err := checkArity(n, 2, 2); err != nil {
			return nil, err
		}
	} else if err := checkArity(n, 1, 1); err != nil {
		return nil, err
	}
	if err := checkOutputs(n, 1); err != nil {
		return nil, err
	}
	o := &castOp{nodeMeta: metaOf(n), types: castTypes.at(n.Opset)}
	r := ops.NewAttrReader(n.Attrs)
	mode := r.String("round_mode", "up")
	round, ok := e8m0Rounding[mode]
	if !ok {
		return nil, &ops.AttrError{Name: "round_mode", Msg: "is " + strconv.Quote(mode) + `, want "up", "down" or "nearest"`}
	}
	o.round, o.saturate = round, r.Int("saturate", 1) != 0
	if err := r.Err(); err != nil {
		return nil, err
	}
	if like {
		return o, nil
	}
	if !r.Has("to") {
		return nil, &ops.AttrError{Name: "to", Msg: "is required"}
	}
	var to int64
	if n.Opset < 6 {
		name := r.String("to", "")
		dt, ok := onnxTypeNames[strings.ToUpper(name)]
		if !ok {
			return nil, &ops.AttrError{Name: "to", Msg: "is " + strconv.Quote(name) + ", not a tensor type name"}
		}
		to = int64(dt)
	} else {
		to = r.Int("to", 0)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	dt, err := o.checkTarget(to)
	if err != nil {
		return nil, err
	}
	o.to = dt
	return o, nil
}

// checkTarget validates a DataType number as a Cast target.
func (o *castOp) checkTarget(to int64) (ops.DType, error) {
	if to < 1 || to > int64(ops.Int2) {
		return 0, &ops.AttrError{Name: "to", Msg: "is " + strconv.FormatInt(to, 10) + ", not a tensor DataType"}
	}
	dt := ops.DType(to)
	if !o.types.Has(dt) {
		return 0, ops.Invalidf("%s-%d: cannot cast to %s, want one of %v", o.opType, o.opset, dt, o.types)
	}
	return dt, nil
}

func (o *castOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if len(in) < 1 || !in[0].Present() {
		return nil, ops.Invalidf("%s-%d: input is missing", o.opType, o.opset)
	}
	if dt := in[0].DType; !o.types.Has(dt) { // not checkType: a narrow type here is wrong for the opset, not unsupported
		return nil, ops.Invalidf("%s-%d: input input has type %s, want one of %v", o.opType, o.opset, dt, o.types)
	}
	to := o.to
	if to == ops.Undefined {
		if len(in) < 2 || !in[1].Present() {
			return nil, ops.Invalidf("%s-%d: target_type is missing", o.opType, o.opset)
		}
		var err error
		if to, err = o.checkTarget(int64(in[1].DType)); err != nil {
			return nil, err
		}
	}
	return []ops.ValueInfo{{DType: to, Shape: in[0].Shape.Clone()}}, nil
}

func (o *castOp) Prepare(in []ops.ValueInfo, out []ops.ValueInfo) (ops.Kernel, error) {
	if narrowTypes.Has(in[0].DType) || narrowTypes.Has(out[0].DType) {
		if k := castNarrow(in[0].DType, out[0].DType, narrowParams{saturate: o.saturate, round: o.round}); k != nil {
			return k, nil
		}
	} else if k := castKernel(in[0].DType, out[0].DType); k != nil {
		return k, nil
	}
	return nil, ops.Unsupportedf("%s-%d: no kernel from %s to %s", o.opType, o.opset, in[0].DType, out[0].DType)
}

// castKernel returns the kernel converting src elements to dst, or nil for a pair it does not handle.
func castKernel(src, dst ops.DType) ops.Kernel {
	switch src {
	case ops.Float32:
		return castFrom[float32](dst)
	case ops.Float64:
		return castFrom[float64](dst)
	case ops.Int8:
		return castFrom[int8](dst)
	case ops.Int16:
		return castFrom[int16](dst)
	case ops.Int32:
		return castFrom[int32](dst)
	case ops.Int64:
		return castFrom[int64](dst)
	case ops.Uint8:
		return castFrom[uint8](dst)
	case ops.Uint16:
		return castFrom[uint16](dst)
	case ops.Uint32:
		return castFrom[uint32](dst)
	case ops.Uint64:
		return castFrom[uint64](dst)
	case ops.Float16:
		return castFrom[ops.Float16Bits](dst)
	case ops.BFloat16:
		return castFrom[ops.BFloat16Bits](dst)
	case ops.Bool:
		return castFromBool(dst)
	case ops.String:
		return castFromString(dst)
	}
	return nil
}

func castFrom[S numElem](dst ops.DType) ops.Kernel {
	switch dst {
	case ops.Float32:
		return numCast[S, float32]()
	case ops.Float64:
		return numCast[S, float64]()
	case ops.Int8:
		return numCast[S, int8]()
	case ops.Int16:
		return numCast[S, int16]()
	case ops.Int32:
		return numCast[S, int32]()
	case ops.Int64:
		return numCast[S, int64]()
	case ops.Uint8:
		return numCast[S, uint8]()
	case ops.Uint16:
		return numCast[S, uint16]()
	case ops.Uint32:
		return numCast[S, uint32]()
	case ops.Uint64:
		return numCast[S, uint64]()
	case ops.Float16:
		return numCast[S, ops.Float16Bits]()
	case ops.BFloat16:
		return numCast[S, ops.BFloat16Bits]()
	case ops.Bool:
		if isHalf[S]() {
			to := toF64[S]()
			return mapKernel[S, bool]{func(s S) bool { return to(s) != 0 }}
		}
		return mapKernel[S, bool]{func(s S) bool { return s != 0 }}
	case ops.String:
		return mapKernel[S, string]{formatNumber[S]()}
	}
	return nil
}

// formatNumber formats as ONNX Runtime's Cast does: floats with "%.8g" (so float64 loses digits, as there),
// "NaN", "INF" and "-INF"; integers in decimal.
func formatNumber[S numElem]() func(S) string {
	dt := ops.DTypeOf[S]()
	switch {
	case dt.IsFloat():
		to := toF64[S]()
		return func(s S) string {
			v := to(s)
			switch {
			case math.IsNaN(v):
				return "NaN"
			case math.IsInf(v, 1):
				return "INF"
			case math.IsInf(v, -1):
				return "-INF"
			}
			return strconv.FormatFloat(v, 'g', 8, 64)
		}
	case dt.IsSigned():
		return func(s S) string { return strconv.FormatInt(int64(s), 10) }
	}
	return func(s S) string { return strconv.FormatUint(uint64(s), 10) }
}

func castFromBool(dst ops.DType) ops.Kernel {
	switch dst {
	case ops.Float32:
		return boolTo[float32]()
	case ops.Float64:
		return boolTo[float64]()
	case ops.Int8:
		return boolTo[int8]()
	case ops.Int16:
		return boolTo[int16]()
	case ops.Int32:
		return boolTo[int32]()
	case ops.Int64:
		return boolTo[int64]()
	case ops.Uint8:
		return boolTo[uint8]()
	case ops.Uint16:
		return boolTo[uint16]()
	case ops.Uint32:
		return boolTo[uint32]()
	case ops.Uint64:
		return boolTo[uint64]()
	case ops.Float16:
		return boolTo[ops.Float16Bits]()
	case ops.BFloat16:
		return boolTo[ops.BFloat16Bits]()
	case ops.Bool:
		return mapKernel[bool, bool]{func(b bool) bool { return b }}
	case ops.String:
		return mapKernel[bool, string]{func(b bool) string {
			if b {
				return "1"
			}
			return "0"
		}}
	}
	return nil
}

func boolTo[D numElem]() ops.Kernel {
	from := fromF64[D]()
	one, zero := from(1), from(0)
	return mapKernel[bool, D]{func(b bool) D {
		if b {
			return one
		}
		return zero
	}}
}

func castFromString(dst ops.DType) ops.Kernel {
	switch dst {
	case ops.Float32:
		return parseKernel[float32]{parseNumber[float32]()}
	case ops.Float64:
		return parseKernel[float64]{parseNumber[float64]()}
	case ops.Int8:
		return parseKernel[int8]{parseNumber[int8]()}
	case ops.Int16:
		return parseKernel[int16]{parseNumber[int16]()}
	case ops.Int32:
		return parseKernel[int32]{parseNumber[int32]()}
	case ops.Int64:
		return parseKernel[int64]{parseNumber[int64]()}
	case ops.Uint8:
		return parseKernel[uint8]{parseNumber[uint8]()}
	case ops.Uint16:
		return parseKernel[uint16]{parseNumber[uint16]()}
	case ops.Uint32:
		return parseKernel[uint32]{parseNumber[uint32]()}
	case ops.Uint64:
		return parseKernel[uint64]{parseNumber[uint64]()}
	case ops.Float16:
		return parseKernel[ops.Float16Bits]{parseNumber[ops.Float16Bits]()}
	case ops.BFloat16:
		return parseKernel[ops.BFloat16Bits]{parseNumber[ops.BFloat16Bits]()}
	case ops.Bool:
		return parseKernel[bool]{parseBool}
	case ops.String:
		return mapKernel[string, string]{func(s string) string { return s }}
	}
	return nil
}

// parseKernel converts strings, failing the run on a string that is not a number: unlike shapes, tensor
// contents cannot be checked before Run.
type parseKernel[D ops.Elem] struct{ parse func(string) (D, bool) }

func (k parseKernel[D]) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	x, y := ops.Data[string](in[0]), ops.Data[D](out[0])
	for i, s := range x {
		v, ok := k.parse(s)
		if !ok {
			return ops.Invalidf("Cast: element %d, %q, is not a %s", i, s, ops.DTypeOf[D]())
		}
		y[i] = v
	}
	return nil
}

func parseNumber[D numElem]() func(string) (D, bool) {
	dt := ops.DTypeOf[D]()
	if dt.IsFloat() {
		from := fromF64[D]()
		return func(s string) (D, bool) {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil && !isRangeError(err) { // out of range parses to ±Inf or 0, as strtod
				return 0, false
			}
			return from(v), true
		}
	}
	signed := dt.IsSigned()
	return func(s string) (D, bool) {
		digits := leadingInteger(s)
		if signed {
			v, err := strconv.ParseInt(digits, 10, 64)
			return D(v), err == nil
		}
		if strings.HasPrefix(digits, "-") { // strtoull negates in unsigned arithmetic
			v, err := strconv.ParseUint(digits[1:], 10, 64)
			return D(-v), err == nil
		}
		v, err := strconv.ParseUint(strings.TrimPrefix(digits, "+"), 10, 64)
		return D(v), err == nil
	}
}

func isRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// leadingInteger returns the optional sign and digits that start s after leading white space, as strtoll
// reads them.
func leadingInteger(s string) string {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	return s[:end]
}

var parseUint64 = parseNumber[uint64]()

// parseBool reads a string as an unsigned integer (nonzero is true), as ONNX Runtime does; "true" and
// "false" in any case are accepted too.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	v, ok := parseUint64(s)
	return v != 0, ok
}

// numCast returns the kernel converting S elements to D. Between Go's own number types that is D(s) in
// a loop the compiler sees through (mapKernel calls a function per element, several times slower): the
// Cast from int32 to float32 after every ConvInteger of a dynamically quantized model runs it. The
// half-precision types convert through float64 (convertNum).
func numCast[S, D numElem]() ops.Kernel {
	if isHalf[S]() || isHalf[D]() {
		return mapKernel[S, D]{convertNum[S, D]()}
	}
	return convertKernel[S, D]{}
}

// convertKernel is numCast's kernel between Go number types: out[i] = D(in[i]).
type convertKernel[S, D numElem] struct{}

func (convertKernel[S, D]) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	x, y := ops.Data[S](in[0]), ops.Data[D](out[0])
	y = y[:len(x)]
	for i, v := range x {
		y[i] = D(v)
	}
	return nil
}
