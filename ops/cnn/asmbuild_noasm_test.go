//go:build !amd64 || noasm

package cnn

const asmBuild = false
