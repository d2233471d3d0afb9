//go:build amd64 && !noasm

package nn

const asmBuild = true
