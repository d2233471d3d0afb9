package gemm

import "fmt"

// Error reports Params that Multiply cannot run, naming the field and values.
type Error struct {
	Field string
	Msg   string
}

func (e *Error) Error() string { return "gemm: " + e.Field + ": " + e.Msg }

func errorf(field, format string, args ...any) error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// needLen is the minimum length of a row-major rows×cols matrix with stride ld.
func needLen(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

// checkMatrix validates one stored operand (rows×cols as stored, stride ld).
func checkMatrix(name string, data []float32, rows, cols, ld int) error {
	if rows == 0 || cols == 0 {
		return nil // nothing is read or written
	}
	if ld < cols {
		return errorf("LD"+name, "%d < stored width %d", ld, cols)
	}
	if need := needLen(rows, cols, ld); len(data) < need {
		return errorf(name, "len %d < %d needed for %d×%d with stride %d", len(data), need, rows, cols, ld)
	}
	return nil
}

// Validate reports the first problem that would make Multiply read or write
// out of range or misinterpret a field; nil means Multiply may be called.
func (p *Params) Validate() error {
	if p.M < 0 || p.N < 0 || p.K < 0 {
		return errorf("M,N,K", "negative size %d×%d×%d", p.M, p.N, p.K)
	}
	if p.PackedA != nil {
		if p.PackedA.m != p.M || p.PackedA.k != p.K {
			return errorf("PackedA", "packed %d×%d != M×K = %d×%d", p.PackedA.m, p.PackedA.k, p.M, p.K)
		}
	} else {
		rows, cols := p.M, p.K
		if p.TransA {
			rows, cols = cols, rows
		}
		if err := checkMatrix("A", p.A, rows, cols, p.LDA); err != nil {
			return err
		}
	}
	if p.PackedB != nil {
		if p.PackedB.k != p.K || p.PackedB.n != p.N {
			return errorf("PackedB", "packed %d×%d != K×N = %d×%d", p.PackedB.k, p.PackedB.n, p.K, p.N)
		}
	} else if p.BPacker == nil {
		rows, cols := p.K, p.N
		if p.TransB {
			rows, cols = cols, rows
		}
		if err := checkMatrix("B", p.B, rows, cols, p.LDB); err != nil {
			return err
		}
	}
	if err := checkMatrix("C", p.C, p.M, p.N, p.LDC); err != nil {
		return err
	}
	e := &p.Epilogue
	switch e.BiasMode {
	case BiasNone:
	case BiasPerRow:
		if len(e.Bias) < p.M {
			return errorf("Epilogue.Bias", "per-row bias len %d < M=%d", len(e.Bias), p.M)
		}
	case BiasPerCol:
		if len(e.Bias) < p.N {
			return errorf("Epilogue.Bias", "per-column bias len %d < N=%d", len(e.Bias), p.N)
		}
	default:
		return errorf("Epilogue.BiasMode", "unknown mode %d", e.BiasMode)
	}
	switch e.Act {
	case ActNone, ActReLU:
	case ActClip:
		if e.Min > e.Max {
			return errorf("Epilogue", "Clip Min=%g > Max=%g", e.Min, e.Max)
		}
	default:
		return errorf("Epilogue.Act", "unknown activation %d", e.Act)
	}
	return nil
}
