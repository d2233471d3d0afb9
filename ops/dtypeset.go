package ops

import "strings"

// DTypeSet is a set of dtypes, one bit per DType: the "T: tensor(float), tensor(int32), ..." type constraints of
// the ONNX spec, which Builders and InferShapes check inputs against.
type DTypeSet uint64

// DTypes returns the set holding the given dtypes.
func DTypes(dts ...DType) DTypeSet {
	var s DTypeSet
	for _, dt := range dts {
		s |= 1 << dt
	}
	return s
}

// Has reports whether dt is in the set.
func (s DTypeSet) Has(dt DType) bool { return dt < 64 && s&(1<<dt) != 0 }

// With returns the set extended by more dtypes (the opset that widened a constraint).
func (s DTypeSet) With(more ...DType) DTypeSet { return s | DTypes(more...) }

// String lists the dtypes in DType order, as error messages show them.
func (s DTypeSet) String() string {
	var names []string
	for dt := DType(1); dt < 64; dt++ {
		if s.Has(dt) {
			names = append(names, dt.String())
		}
	}
	return "{" + strings.Join(names, ", ") + "}"
}

// Check returns an ErrInvalid error naming the op, the input, its dtype and the allowed ones when dt is not in
// the set.
func (s DTypeSet) Check(opType string, opset int, input string, dt DType) error {
	if s.Has(dt) {
		return nil
	}
	return Invalidf("%s input %s has dtype %s, opset %d allows %s", opType, input, dt, opset, s)
}
