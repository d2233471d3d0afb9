package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

// The committed OPERATORS.md must match the registry; regenerate with `make docs`.
func TestOperatorsDocIsCurrent(t *testing.T) {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile(testenv.RepoPath(t, "OPERATORS.md"))
	if err != nil {
		t.Fatalf("OPERATORS.md: %v (run `make docs`)", err)
	}
	if !bytes.Equal(have, buf.Bytes()) {
		t.Fatal("OPERATORS.md is out of date with the kernel registry: run `make docs`")
	}
}
