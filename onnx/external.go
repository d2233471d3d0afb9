package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// externalRef is a parsed TensorProto.external_data list.
type externalRef struct {
	location  string // slash-separated, relative, no ".." (checked)
	offset    int64
	length    int64
	hasLength bool
}

// parseExternal reads and checks the external_data keys of t without touching the file system. The
// location must be a relative path without "..": the spec calls it relative to the model's folder and
// forbids up-directory components, and anything else could name a file outside the folder. Offset and
// length must be non-negative decimal integers. Unknown keys ("checksum", "basepath", producer extras) are
// ignored; a key given twice is an error, since which one wins would be a guess.
func parseExternal(where string, t *onnxpb.TensorProto) (externalRef, error) {
	var ref externalRef
	seen := map[string]bool{}
	for _, kv := range t.GetExternalData() {
		key, val := kv.GetKey(), kv.GetValue()
		switch key {
		case "location", "offset", "length":
		default:
			continue
		}
		if seen[key] {
			return ref, formatErr(where, fmt.Sprintf("external_data key %q given twice", key))
		}
		seen[key] = true
		switch key {
		case "location":
			ref.location = val
		case "offset", "length":
			v, err := strconv.ParseInt(val, 10, 64)
			if err != nil || v < 0 {
				return ref, formatErr(where, fmt.Sprintf("external_data %s %q is not a non-negative integer", key, val))
			}
			if key == "offset" {
				ref.offset = v
			} else {
				ref.length, ref.hasLength = v, true
			}
		}
	}
	loc := ref.location
	switch {
	case loc == "":
		return ref, formatErr(where, "external_data has no location")
	case strings.ContainsRune(loc, 0):
		return ref, formatErr(where, fmt.Sprintf("external_data location %q contains a NUL byte", loc))
	case strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, `\`) || filepath.IsAbs(loc) || filepath.VolumeName(loc) != "":
		return ref, formatErr(where, fmt.Sprintf("external_data location %q is absolute; it must be relative to the model's folder", loc))
	}
	// Split on both separators: a backslash is a separator on Windows even though ONNX paths are POSIX.
	for _, part := range strings.FieldsFunc(loc, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return ref, formatErr(where, fmt.Sprintf("external_data location %q contains \"..\"", loc))
		}
	}
	return ref, nil
}

// readExternal reads the want bytes ref points to, inside dir. With a mapping (not nil, not released) the
// file is mapped into it instead, once per model, and the result is a slice of the mapped pages (mapped
// true): read-only, valid while the mapping is. Three checks keep the read inside the
// model's folder: parseExternal has rejected absolute paths and "..", the symlink-resolved file must lie
// under the symlink-resolved folder (which names the problem in the error), and the file is opened through
// an os.Root on that folder, which refuses to leave it even if a symlink is swapped in after the check.
// Hard links to files elsewhere are not detected.
func readExternal(where string, ref externalRef, dir string, want int64, mapping *Mapping) (raw []byte, mapped bool, err error) {
	if dir == "" {
		return nil, false, unsupportedErr(where, fmt.Sprintf(
			"external data (location %q) needs the model's folder, and none is known: the model was decoded from bytes; use Load, or DecodeOptions.Dir", ref.location))
	}
	ioErr := func(what string, err error) error { return &FormatError{Where: where, What: what, Err: err} }
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, false, ioErr("external data folder", err)
	}
	realDir, err := filepath.EvalSymlinks(absDir)
	if err != nil {
		return nil, false, ioErr("external data folder", err)
	}
	realPath, err := filepath.EvalSymlinks(filepath.Join(realDir, filepath.FromSlash(ref.location)))
	if err != nil {
		return nil, false, ioErr(fmt.Sprintf("external data %q", ref.location), err)
	}
	rel, err := filepath.Rel(realDir, realPath)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		// The message names neither path: it may reach a client of the server (a load request's answer), and
		// where a link leads outside the folder is no business of theirs.
		return nil, false, formatErr(where, fmt.Sprintf("external data location %q resolves to a file outside the model folder (symlinks followed)", ref.location))
	}

	root, err := os.OpenRoot(realDir)
	if err != nil {
		return nil, false, ioErr("external data folder", err)
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		return nil, false, ioErr(fmt.Sprintf("external data %q", ref.location), err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, ioErr(fmt.Sprintf("external data %q", ref.location), err)
	}
	if !fi.Mode().IsRegular() {
		return nil, false, formatErr(where, fmt.Sprintf("external data %q is not a regular file (mode %v)", ref.location, fi.Mode()))
	}

	// Without a length key the data runs to the end of the file by the spec; we read just the bytes the
	// dims need and tolerate trailing bytes, as readers commonly do.
	size := fi.Size()
	length := want
	if ref.hasLength {
		length = ref.length
	}
	if ref.offset > size || length > size-ref.offset {
		span := fmt.Sprintf("length %d", length)
		if !ref.hasLength {
			span = fmt.Sprintf("the %d bytes the dims need", length)
		}
		return nil, false, formatErr(where, fmt.Sprintf("external data offset %d + %s is past the end of %q (%d bytes)",
			ref.offset, span, ref.location, size))
	}
	if length != want {
		return nil, false, formatErr(where, fmt.Sprintf("needs %d bytes, external data length is %d", want, length))
	}
	if mapping != nil && length > 0 {
		if data, ok := mapping.mapExternal(realPath, f, size); ok {
			return data[ref.offset : ref.offset+length : ref.offset+length], true, nil
		}
	}
	buf := make([]byte, length)
	if _, err := f.ReadAt(buf, ref.offset); err != nil {
		return nil, false, ioErr(fmt.Sprintf("external data %q", ref.location), err)
	}
	return buf, false, nil
}
