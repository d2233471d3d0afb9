//go:build !amd64 || noasm

package isa

// cpuLevel is PureGo where there is no assembly (another GOARCH, or -tags noasm).
func cpuLevel() Level { return PureGo }
