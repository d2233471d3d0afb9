package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entries lists the names in dir, so that a leftover temporary file shows.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileReplacesWholeFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(path, []byte("old content, longer than the new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(path, 0o644, []byte("new")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new" {
		t.Fatalf("read back %q, %v; want \"new\"", got, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, %v; want 0644", st.Mode().Perm(), err)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Fatalf("folder holds %q, want only model.onnx", names)
	}
}

// TestFailedWriteKeepsOldFile fails the write half-way and expects the old file untouched and no
// temporary file left behind.
func TestFailedWriteKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := WriteFile(path, 0o644, func(w io.Writer) error {
		if _, err := w.Write([]byte(strings.Repeat("x", 3<<20))); err != nil { // past the buffer: bytes reach the temp file
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v: want it to wrap %v and name %s", err, boom, path)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("the old file now holds %d bytes, want \"old\"", len(got))
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "model.onnx" {
		t.Fatalf("folder holds %q, want only model.onnx", names)
	}
}

// TestFailedRenameLeavesNoTemp writes over a folder: the rename fails, and the temporary file must go.
func TestFailedRenameLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "taken")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "inside"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(target, 0o644, []byte("x")); err == nil {
		t.Fatal("writing over a non-empty folder succeeded")
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "taken" {
		t.Fatalf("folder holds %q, want only the folder \"taken\"", names)
	}
}

func TestMissingFolderIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "model.onnx")
	if err := WriteBytes(path, 0o644, nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one naming %s", err, path)
	}
}

// TestRemoveTemps leaves a temporary file as a killed writer would and expects RemoveTemps to delete it and
// nothing else (not the file itself, nor the temporary files of another name).
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt")
	for _, name := range []string{"ckpt", ".ckpt.tmp-123", ".other.tmp-4"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := RemoveTemps(path)
	if err != nil || n != 1 {
		t.Fatalf("removed %d, %v; want 1", n, err)
	}
	if names := entries(t, dir); strings.Join(names, " ") != ".other.tmp-4 ckpt" {
		t.Fatalf("folder holds %q, want .other.tmp-4 and ckpt", names)
	}
}
