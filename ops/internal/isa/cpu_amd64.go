//go:build amd64 && !noasm

package isa

import "golang.org/x/sys/cpu"

// cpuLevel reads the CPU's features (x/sys/cpu also checks that the OS saves the wide registers).
func cpuLevel() Level {
	x := cpu.X86
	switch {
	case x.HasAVX512F && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL && x.HasAVX2 && x.HasFMA:
		return AVX512
	case x.HasAVX2 && x.HasFMA && x.HasAVX:
		return AVX2
	}
	return PureGo
}
