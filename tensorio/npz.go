package tensorio

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/onnxrun/onnxrun/internal/atomicfile"
	"github.com/onnxrun/onnxrun/ops"
)

// maxNPZArrays bounds the number of members of an .npz archive that is read: a zip's central directory
// is small on disk for many entries, and each becomes a tensor.
const maxNPZArrays = 1 << 16

// NamedTensor is one array of an .npz archive: its name (the member's file name without ".npy", as
// numpy.load gives it) and its data.
type NamedTensor struct {
	Name   string
	Tensor *ops.Tensor
}

// ReadNPZ reads every array of an .npz archive (numpy.savez or savez_compressed) under the default
// Limits. See Limits.ReadNPZ.
func ReadNPZ(path string) ([]NamedTensor, error) { return Limits{}.ReadNPZ(path) }

// ReadNPZ reads every array of an .npz archive, in the archive's order. Each member is a .npy file,
// stored or deflated, read with ReadNPY's checks: Limits.MaxBytes bounds each array, and a member's data
// must be exactly as long as its header declares. Members whose names do not end in ".npy" are skipped,
// as numpy.load skips them. Errors name the member as FILE.npz[NAME.npy].
func (l Limits) ReadNPZ(path string) ([]NamedTensor, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		if errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrAlgorithm) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &FormatError{File: path, Format: "npz", What: "not a zip archive", Err: err}
		}
		return nil, err
	}
	defer zr.Close()
	return l.readNPZ(&zr.Reader, path)
}

func (l Limits) readNPZ(zr *zip.Reader, path string) ([]NamedTensor, error) {
	if len(zr.File) > maxNPZArrays {
		return nil, &FormatError{File: path, Format: "npz", What: fmt.Sprintf("%d members, over the limit of %d", len(zr.File), maxNPZArrays)}
	}
	var out []NamedTensor
	seen := map[string]bool{}
	for _, f := range zr.File {
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok || f.FileInfo().IsDir() {
			continue
		}
		if seen[name] {
			return nil, &FormatError{File: path, Format: "npz", What: fmt.Sprintf("the array %q is stored twice", name)}
		}
		seen[name] = true
		member := fmt.Sprintf("%s[%s]", path, f.Name)
		rc, err := f.Open()
		if err != nil {
			return nil, &FormatError{File: member, Format: "npz", What: "opening the member", Err: err}
		}
		size := int64(f.UncompressedSize64)
		if f.UncompressedSize64 > 1<<62 {
			size = -1
		}
		t, err := l.readNPY(rc, member, size)
		if err == nil {
			// The zip reader checks the member's CRC when it reaches the end: read on to it, so that a
			// damaged member is an error and not wrong numbers.
			if _, cerr := io.Copy(io.Discard, io.LimitReader(rc, 1)); cerr != nil {
				err = &FormatError{File: member, Format: "npz", What: "reading the member", Err: cerr}
			}
		}
		rc.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, NamedTensor{Name: name, Tensor: t})
	}
	return out, nil
}

// WriteNPZ writes arrays to an .npz archive as numpy.savez does: one uncompressed NAME.npy member per
// array, in the order given, readable by numpy.load. Names must be non-empty and distinct; a name may
// hold "/" (numpy allows it) but not end in one. The file is removed again if writing fails.
func WriteNPZ(path string, arrays []NamedTensor) error {
	seen := map[string]bool{}
	for _, a := range arrays {
		if err := CheckNPZName(a.Name); err != nil {
			err.(*UnsupportedError).File = path
			return err
		}
		switch {
		case seen[a.Name]:
			return &UnsupportedError{File: path, What: fmt.Sprintf("array name %q is given twice", a.Name)}
		case a.Tensor == nil:
			return &UnsupportedError{File: path, What: fmt.Sprintf("array %q is nil", a.Name)}
		}
		seen[a.Name] = true
	}
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		for _, a := range arrays {
			fw, err := zw.CreateHeader(&zip.FileHeader{Name: a.Name + ".npy", Method: zip.Store})
			if err != nil {
				return err
			}
			if err := writeNPY(fw, a.Tensor, path+"["+a.Name+".npy]"); err != nil {
				return err
			}
		}
		return zw.Close()
	})
}

// CheckNPZName reports whether name can name an array of an .npz archive (WriteNPZ's rule), so that a
// caller can refuse it before computing the array. The error is an *UnsupportedError.
func CheckNPZName(name string) error {
	if name == "" || strings.HasSuffix(name, "/") {
		return &UnsupportedError{What: fmt.Sprintf("array name %q: an .npz member needs a non-empty name not ending in /", name)}
	}
	return nil
}

// NPZNames lists the array names of an .npz archive without reading the arrays, sorted, for messages.
func NPZNames(arrays []NamedTensor) []string {
	names := make([]string, len(arrays))
	for i, a := range arrays {
		names[i] = a.Name
	}
	sort.Strings(names)
	return names
}

// lookupNPZ returns the array called name, or the only array when name is "" and there is one.
func lookupNPZ(arrays []NamedTensor, name, path string) (*ops.Tensor, error) {
	if name == "" {
		if len(arrays) == 1 {
			return arrays[0].Tensor, nil
		}
		return nil, &UnsupportedError{File: path, What: fmt.Sprintf("the archive holds %d arrays (%s): name the one to read as %s:NAME",
			len(arrays), strings.Join(NPZNames(arrays), ", "), path)}
	}
	for _, a := range arrays {
		if a.Name == name {
			return a.Tensor, nil
		}
	}
	return nil, &UnsupportedError{File: path, What: fmt.Sprintf("no array named %q; the archive holds %s", name, strings.Join(NPZNames(arrays), ", "))}
}

// ReadNPZArray reads one array of an .npz archive: the one called name, or, when name is "", the only
// array the archive holds.
func ReadNPZArray(path, name string) (*ops.Tensor, error) {
	arrays, err := ReadNPZ(path)
	if err != nil {
		return nil, err
	}
	return lookupNPZ(arrays, name, path)
}

// fileExists reports whether path names an existing file, for telling FILE.npz:NAME from a file name
// that holds a colon.
func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// splitNPZPath splits FILE.npz:NAME into the archive and the array name, unless a file of that whole
// name exists.
func splitNPZPath(path string) (archive, name string, ok bool) {
	i := strings.LastIndex(strings.ToLower(path), ".npz:")
	if i < 0 || fileExists(path) {
		return "", "", false
	}
	return path[:i+4], path[i+5:], true
}
