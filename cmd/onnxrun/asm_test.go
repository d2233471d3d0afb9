//go:build !noasm

package main

// builtWithNoasm is set under -tags noasm, where every kernel family must run pure Go.
const builtWithNoasm = false
