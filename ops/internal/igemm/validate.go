package igemm

import "fmt"

// Error reports Params that Multiply cannot run, naming the field and the values.
type Error struct {
	Field string
	Msg   string
}

func (e *Error) Error() string { return "igemm: " + e.Field + ": " + e.Msg }

func errorf(field, format string, args ...any) error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// checkMatrix validates one stored operand (rows×cols as stored, stride ld) of length n.
func checkMatrix(name string, n, rows, cols, ld int) error {
	if rows == 0 || cols == 0 {
		return nil
	}
	if ld < cols {
		return errorf("LD"+name, "%d < stored width %d", ld, cols)
	}
	if need := (rows-1)*ld + cols; n < need {
		return errorf(name, "len %d < %d needed for %d×%d with stride %d", n, need, rows, cols, ld)
	}
	return nil
}

// checkCount validates a per-tensor / per-row (column) vector: allowed lengths are listed in ok.
func checkCount(name string, n int, ok ...int) error {
	for _, want := range ok {
		if n == want {
			return nil
		}
	}
	return errorf(name, "len %d, want one of %v", n, ok)
}

// Validate reports the first problem that would make Multiply read or write out of range or
// misread a field; nil means Multiply may be called with p.
func (p *Params) Validate() error {
	if p.M < 0 || p.N < 0 || p.K < 0 {
		return errorf("M,N,K", "negative size %d×%d×%d", p.M, p.N, p.K)
	}
	if pa := p.PackedA; pa != nil {
		if pa.m != p.M || pa.k != p.K {
			return errorf("PackedA", "packed %d×%d != M×K = %d×%d", pa.m, pa.k, p.M, p.K)
		}
	} else if err := checkMatrix("A", len(p.A), p.M, p.K, p.LDA); err != nil {
		return err
	}
	if pb := p.PackedB; pb != nil {
		if pb.k != p.K || pb.n != p.N {
			return errorf("PackedB", "packed %d×%d != K×N = %d×%d", pb.k, pb.n, p.K, p.N)
		}
	} else {
		rows, cols := p.K, p.N
		if p.BTrans {
			rows, cols = cols, rows
		}
		if err := checkMatrix("B", len(p.B), rows, cols, p.LDB); err != nil {
			return err
		}
	}
	if err := checkCount("AZero", len(p.AZero), 0, 1, p.M); err != nil {
		return err
	}
	if err := checkCount("BZero", len(p.BZero), 0, 1, p.N); err != nil {
		return err
	}
	r := p.Requant
	if r == nil {
		return checkMatrix("C", len(p.C), p.M, p.N, p.LDC)
	}
	if err := checkMatrix("Requant.Y", len(r.Y), p.M, p.N, r.LDY); err != nil {
		return err
	}
	if err := checkCount("Requant.AScale", len(r.AScale), 1, p.M); err != nil {
		return err
	}
	if err := checkCount("Requant.BScale", len(r.BScale), 1, p.N); err != nil {
		return err
	}
	lo, hi := int32(0), int32(255)
	if r.YSigned {
		lo, hi = -128, 127
	}
	if r.YZero < lo || r.YZero > hi {
		return errorf("Requant.YZero", "%d outside the output type's range [%d, %d]", r.YZero, lo, hi)
	}
	switch r.BiasMode {
	case BiasNone:
	case BiasPerRow:
		if len(r.Bias) < p.M {
			return errorf("Requant.Bias", "per-row bias len %d < M=%d", len(r.Bias), p.M)
		}
	case BiasPerCol:
		if len(r.Bias) < p.N {
			return errorf("Requant.Bias", "per-column bias len %d < N=%d", len(r.Bias), p.N)
		}
	default:
		return errorf("Requant.BiasMode", "unknown mode %d", r.BiasMode)
	}
	return nil
}
