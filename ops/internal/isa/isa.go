package isa

import (
	"fmt"
	"os"
	"strings"
)

// Level is an instruction-set level a kernel variant needs. Levels are ordered: a CPU that runs one
// runs every level below it.
type Level int

const (
	// PureGo is the portable Go code every build has.
	PureGo Level = iota
	// AVX2 is AVX2 with FMA3 on 8-lane ymm registers (Haswell, Zen and later).
	AVX2
	// AVX512 is AVX-512 F, BW, DQ and VL on 16-lane zmm registers (Skylake-SP, Ice Lake, Zen 4 and later).
	AVX512
)

func (l Level) String() string {
	switch l {
	case PureGo:
		return "purego"
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return fmt.Sprintf("isa.Level(%d)", int(l))
}

// ParseLevel reads a level name as String writes it.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "purego", "pure go", "generic", "noasm":
		return PureGo, nil
	case "avx2":
		return AVX2, nil
	case "avx512", "avx-512":
		return AVX512, nil
	}
	return PureGo, fmt.Errorf("isa: unknown instruction-set level %q (want purego, avx2 or avx512)", s)
}

// EnvVar names the environment variable that lowers Max.
const EnvVar = "ONNXRUN_ISA"

var maxLevel, envErr = chooseMax(cpuLevel(), os.Getenv(EnvVar))

// chooseMax is the level kernels may use on a CPU of level cpu with env the value of EnvVar: the
// lower of the two (an environment that asks for more than the CPU has gets the CPU's level).
func chooseMax(cpu Level, env string) (Level, error) {
	if env == "" {
		return cpu, nil
	}
	want, err := ParseLevel(env)
	if err != nil {
		return cpu, err
	}
	return min(want, cpu), nil
}

// CPU is the highest level this CPU and build support, ignoring EnvVar.
func CPU() Level { return cpuLevel() }

// Max is the highest level kernels may use in this process.
func Max() Level { return maxLevel }

// EnvError is the error of an unreadable EnvVar (ignored: Max is then the CPU's level), for tools
// that want to report it.
func EnvError() error { return envErr }

// Variant is one implementation of a kernel family: Fn needs Level.
type Variant[F any] struct {
	Level Level
	// Name describes the implementation for onnxrun --version: "AVX-512 16x... ", "AVX2+FMA", "pure Go".
	Name string
	Fn   F
}

// Pick returns the variant of the highest level not above Max. The variants must include one at
// PureGo; Pick panics otherwise, since that is a programming error in the kernel package's init.
func Pick[F any](variants ...Variant[F]) Variant[F] {
	return PickAt(Max(), variants...)
}

// PickAt is Pick for a given maximum level.
func PickAt[F any](limit Level, variants ...Variant[F]) Variant[F] {
	best := -1
	for i, v := range variants {
		if v.Level <= limit && (best < 0 || v.Level > variants[best].Level) {
			best = i
		}
	}
	if best < 0 {
		panic("isa: no variant at or below " + limit.String() + " (every family needs a pure-Go twin)")
	}
	return variants[best]
}

// Runnable returns the variants this process can run (level not above Max), for tests that compare
// each with its pure-Go twin.
func Runnable[F any](variants ...Variant[F]) []Variant[F] {
	var out []Variant[F]
	for _, v := range variants {
		if v.Level <= Max() {
			out = append(out, v)
		}
	}
	return out
}
