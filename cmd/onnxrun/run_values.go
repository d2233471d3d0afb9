package main

// Sequences, optionals and maps on run's command line. Tensor files hold tensors only, so a non-tensor
// value is laid out as a tree of them, the same way for reading, writing, printing and dumping:
//
//	sequence NAME   DIR/NAME/0.npy, DIR/NAME/1.npy, ...   (.npz: NAME_0, NAME_1, ...)
//	optional NAME   what it holds, under NAME; nothing at all when it is empty ("NAME: none")
//	map NAME        DIR/NAME/keys.npy and DIR/NAME/values.npy   (.npz: NAME_keys, NAME_values)
//
// nested the same way (a sequence of sequences: DIR/NAME/0/1.npy, NAME_0_1). A SequenceProto or
// OptionalProto .pb file is read as well, through tensorio.ReadValuePB.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
	"github.com/onnxrun/onnxrun/tensorio"
)

// valueVisitor receives the parts of a value that walkValue finds: each tensor with the path of names
// leading to it from the value (none for the value itself), and each empty sequence or optional.
type valueVisitor struct {
	tensor func(path []string, t *ops.Tensor) error
	empty  func(path []string, kind ops.ValueKind) error
}

// walkValue visits the tensors inside v in order: a sequence's elements under their index, an optional's
// content under the optional's own path, a map's keys and values under "keys" and "values".
func walkValue(v *ops.Tensor, path []string, visit valueVisitor) error {
	switch v.Kind() {
	case ops.KindTensor:
		return visit.tensor(path, v)
	case ops.KindOptional:
		if !v.HasElement() {
			return visit.empty(path, ops.KindOptional)
		}
		return walkValue(v.Element(), path, visit)
	case ops.KindMap:
		if err := visit.tensor(append(path[:len(path):len(path)], "keys"), v.MapKeys()); err != nil {
			return err
		}
		return visit.tensor(append(path[:len(path):len(path)], "values"), v.MapValues())
	}
	if len(v.Elements()) == 0 {
		return visit.empty(path, ops.KindSequence)
	}
	for i, e := range v.Elements() {
		if err := walkValue(e, append(path[:len(path):len(path)], strconv.Itoa(i)), visit); err != nil {
			return err
		}
	}
	return nil
}

// isTensorLike reports whether a value of type t is written as one tensor file: a tensor, or an optional
// of one (written as its content, or not at all).
func isTensorLike(t *ops.ValueType) bool {
	for t != nil && t.Kind == ops.KindOptional {
		t = t.Elem
	}
	return t == nil || t.Kind == ops.KindTensor
}

// writeValueFiles writes v as base.EXT for a tensor, and as files under the folder base otherwise (see
// the top of this file); it prints one "wrote" line per file, and "NAME: none" for an empty optional.
func writeValueFiles(w io.Writer, name, base, ext string, v *ops.Tensor) error {
	return walkValue(v, nil, valueVisitor{
		tensor: func(path []string, t *ops.Tensor) error {
			file := filepath.Join(append([]string{base}, path...)...) + ext
			if len(path) > 0 {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					return err
				}
			}
			if err := tensorio.WriteFile(file, t); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote %s\n", file)
			return nil
		},
		empty: func(path []string, kind ops.ValueKind) error {
			if kind == ops.KindOptional {
				fmt.Fprintf(w, "%s: none\n", strings.Join(append([]string{name}, path...), "/"))
				return nil
			}
			// An empty folder, so that the sequence reads back as an empty one.
			dir := filepath.Join(append([]string{base}, path...)...)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote %s%c (an empty sequence)\n", dir, filepath.Separator)
			return nil
		},
	})
}

// npzArrays lists v as .npz arrays named NAME, NAME_0, NAME_keys, ... (see the top of this file); it
// prints "NAME: none" for an empty optional, and says when an empty sequence leaves no array.
func npzArrays(w io.Writer, name string, v *ops.Tensor) ([]tensorio.NamedTensor, error) {
	var arrays []tensorio.NamedTensor
	join := func(path []string) string { return strings.Join(append([]string{name}, path...), "_") }
	err := walkValue(v, nil, valueVisitor{
		tensor: func(path []string, t *ops.Tensor) error {
			arrays = append(arrays, tensorio.NamedTensor{Name: join(path), Tensor: t})
			return nil
		},
		empty: func(path []string, kind ops.ValueKind) error {
			if kind == ops.KindOptional {
				fmt.Fprintf(w, "%s: none\n", join(path))
			} else {
				fmt.Fprintf(w, "%s: an empty sequence, no array written\n", join(path))
			}
			return nil
		},
	})
	return arrays, err
}

// printValue prints a non-tensor output after its header line: each tensor inside labelled with its
// place (seq[0], seq[1][2], opt), a map as one "key: value" line per entry, an empty optional as
// "NAME: none".
func printValue(w io.Writer, name string, v *ops.Tensor) {
	label := func(path []string) string { return elementLabel(name, path) }
	var show func(path []string, v *ops.Tensor)
	show = func(path []string, v *ops.Tensor) {
		switch v.Kind() {
		case ops.KindTensor:
			fmt.Fprintf(w, "%s: %s%v\n%s\n", label(path), v.DType(), v.Shape(), formatArray(v))
		case ops.KindOptional:
			if !v.HasElement() {
				fmt.Fprintf(w, "%s: none\n", label(path))
				return
			}
			show(path, v.Element())
		case ops.KindMap:
			keys, values := v.MapKeys(), v.MapValues()
			fmt.Fprintf(w, "%s: %s of %d entries\n", label(path), v.Type(), keys.Len())
			for i := range keys.Len() {
				fmt.Fprintf(w, "  %s: %s\n", mapEntry(keys, i), mapEntry(values, i))
			}
		case ops.KindSequence:
			if len(path) > 0 {
				fmt.Fprintf(w, "%s: %s of %d elements\n", label(path), v.Type(), len(v.Elements()))
			}
			for i, e := range v.Elements() {
				show(append(path[:len(path):len(path)], strconv.Itoa(i)), e)
			}
		}
	}
	show(nil, v)
}

// elementLabel names a tensor inside value name by its path: seq[0], seq[1][keys].
func elementLabel(name string, path []string) string {
	for _, p := range path {
		name += "[" + p + "]"
	}
	return name
}

// mapEntry renders element i of a map's keys or values tensor as a scalar: strings quoted, numbers as
// numpy prints a 0-d array.
func mapEntry(t *ops.Tensor, i int) string {
	if t.DType() == ops.String {
		return strconv.Quote(t.Data().([]string)[i])
	}
	one, err := ops.FromData(t.DType(), ops.Shape{}, ops.Slice(t.Data(), i, i+1))
	if err != nil {
		return "?"
	}
	return formatScalar(one)
}

// outputHeader is the line that introduces output spec's value t.
func outputHeader(spec runtime.ValueSpec, t *ops.Tensor) string {
	switch t.Kind() {
	case ops.KindTensor:
		return fmt.Sprintf("output %q: %s%v", spec.Name, t.DType(), t.Shape())
	case ops.KindSequence:
		return fmt.Sprintf("output %q: %s of %d elements", spec.Name, t.Type(), len(t.Elements()))
	}
	return fmt.Sprintf("output %q: %s", spec.Name, t.Type())
}

// readValueInput reads a sequence or optional input of type typ from src: a folder of element files, the
// .npz arrays NAME_0, NAME_1, ... (already read by matchNPZ), a SequenceProto or OptionalProto .pb file,
// or, for an optional, a tensor file (the optional then holds it).
func readValueInput(spec runtime.ValueSpec, src inputSource) (*ops.Tensor, error) {
	typ := *spec.Type
	where := src.path
	if src.elems != nil {
		return ops.NewSequence(*typ.Elem, src.elems), nil
	}
	if src.path == "" {
		return nil, fmt.Errorf("input %q is a %s: --random makes tensors only; give it as a file", spec.Name, typ)
	}
	var t *ops.Tensor
	var err error
	switch {
	case src.tensor != nil:
		t = src.tensor
	case isDir(src.path):
		if typ.Kind != ops.KindSequence {
			return nil, fmt.Errorf("input %q is a %s, not a sequence: a folder cannot hold it; give a file", spec.Name, typ)
		}
		return readSequenceDir(spec.Name, src.path, typ)
	case strings.EqualFold(filepath.Ext(src.path), ".pb"):
		t, err = tensorio.ReadValuePB(src.path, typ)
		if err != nil {
			return nil, fmt.Errorf("input %q (%s): %w", spec.Name, typ, err)
		}
		return t, nil
	case isNPZ(src.path) && typ.Kind == ops.KindSequence:
		return readSequenceNPZ(spec.Name, src.path, typ)
	default:
		if err = checkExtension(src.path); err == nil {
			t, err = tensorio.ReadFile(src.path)
		}
	}
	if err != nil {
		return nil, err
	}
	// A tensor file: it can only be what an optional holds.
	if typ.Kind == ops.KindOptional && typ.Elem != nil && typ.Elem.Kind == ops.KindTensor {
		if t.DType() != typ.Elem.DType {
			return nil, fmt.Errorf("input %q: expected %s, got a %s%v tensor from %s", spec.Name, typ, t.DType(), t.Shape(), where)
		}
		return ops.NewOptional(*typ.Elem, t), nil
	}
	return nil, fmt.Errorf("input %q: expected %s, got a %s%v tensor from %s; %s", spec.Name, typ, t.DType(), t.Shape(), where, howToGive(spec.Name, typ))
}

// howToGive says how a value of type typ is given on the command line.
func howToGive(name string, typ ops.ValueType) string {
	if typ.Kind == ops.KindSequence {
		return fmt.Sprintf("give a sequence as a folder of 0.npy, 1.npy, ..., as the arrays %s_0, %s_1, ... of an .npz archive, or as a SequenceProto .pb file", name, name)
	}
	return fmt.Sprintf("give a %s as a %s .pb file", typ, map[ops.ValueKind]string{ops.KindOptional: "OptionalProto", ops.KindMap: "MapProto"}[typ.Kind])
}

// readSequenceDir reads the sequence of type typ that folder dir holds: element i in the file i.npy or
// i.pb (leading zeros allowed: 000.npy), or the folder i for a sequence of sequences. The indexes must
// run from 0 without gaps. Hidden files (.DS_Store) are skipped; anything else is an error.
func readSequenceDir(name, dir string, typ ops.ValueType) (*ops.Tensor, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	elemType := *typ.Elem
	byIndex := map[int]string{}
	for _, e := range entries {
		file := e.Name()
		if strings.HasPrefix(file, ".") {
			continue
		}
		stem, ext := file, ""
		if !e.IsDir() {
			ext = filepath.Ext(file)
			stem = strings.TrimSuffix(file, ext)
		}
		i, err := strconv.Atoi(stem)
		okKind := e.IsDir() == (elemType.Kind == ops.KindSequence) && (e.IsDir() || strings.EqualFold(ext, ".npy") || strings.EqualFold(ext, ".pb"))
		if err != nil || i < 0 || strings.HasPrefix(stem, "+") || !okKind {
			want := "files 0.npy, 1.npy, ... (or .pb)"
			if elemType.Kind == ops.KindSequence {
				want = "folders 0, 1, ..."
			}
			return nil, fmt.Errorf("input %q: %s holds %s: a folder for a %s holds the %s, one per element", name, dir, file, typ, want)
		}
		if other, dup := byIndex[i]; dup {
			return nil, fmt.Errorf("input %q: %s holds element %d twice, as %s and %s", name, dir, i, other, file)
		}
		byIndex[i] = file
	}
	elems := make([]*ops.Tensor, len(byIndex))
	for i := range elems {
		file, ok := byIndex[i]
		if !ok {
			return nil, fmt.Errorf("input %q: %s holds %d elements but no element %d (the files must be numbered from 0 without gaps)", name, dir, len(byIndex), i)
		}
		path := filepath.Join(dir, file)
		var e *ops.Tensor
		switch {
		case elemType.Kind == ops.KindSequence:
			e, err = readSequenceDir(name, path, elemType)
		case strings.EqualFold(filepath.Ext(file), ".pb"):
			e, err = tensorio.ReadValuePB(path, elemType)
		default:
			e, err = tensorio.ReadNPYFile(path)
		}
		if err != nil {
			return nil, err
		}
		if err := checkElement(name, e, elemType, path); err != nil {
			return nil, err
		}
		elems[i] = e
	}
	return ops.NewSequence(elemType, elems), nil
}

// readSequenceNPZ reads the arrays NAME_0, NAME_1, ... of an archive as a sequence of tensors.
func readSequenceNPZ(name, path string, typ ops.ValueType) (*ops.Tensor, error) {
	arrays, err := tensorio.ReadNPZ(path)
	if err != nil {
		return nil, err
	}
	elems, ok, err := sequenceArrays(name, path, typ, arrays)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("input %q: %s has no arrays %s_0, %s_1, ... (it holds %s); %s", name, path, name, name,
			strings.Join(tensorio.NPZNames(arrays), ", "), howToGive(name, typ))
	}
	return ops.NewSequence(*typ.Elem, elems), nil
}

// sequenceArrays picks the arrays NAME_0, NAME_1, ... of an archive: the elements of a sequence of
// tensors, in order. ok is false when there is none; numbers with gaps are an error.
func sequenceArrays(name, path string, typ ops.ValueType, arrays []tensorio.NamedTensor) (elems []*ops.Tensor, ok bool, err error) {
	if typ.Elem == nil || typ.Elem.Kind != ops.KindTensor {
		return nil, false, nil
	}
	byIndex := map[int]*ops.Tensor{}
	for _, a := range arrays {
		suffix, found := strings.CutPrefix(a.Name, name+"_")
		if !found {
			continue
		}
		if i, err := strconv.Atoi(suffix); err == nil && i >= 0 && strconv.Itoa(i) == suffix {
			byIndex[i] = a.Tensor
		}
	}
	if len(byIndex) == 0 {
		return nil, false, nil
	}
	indexes := make([]int, 0, len(byIndex))
	for i := range byIndex {
		indexes = append(indexes, i)
	}
	sort.Ints(indexes)
	elems = make([]*ops.Tensor, len(indexes))
	for k, i := range indexes {
		if i != k {
			return nil, false, fmt.Errorf("input %q: %s has %d arrays %s_N but no %s_%d (they must be numbered from 0 without gaps)", name, path, len(indexes), name, name, k)
		}
		if err := checkElement(name, byIndex[i], *typ.Elem, fmt.Sprintf("%s:%s_%d", path, name, i)); err != nil {
			return nil, false, err
		}
		elems[k] = byIndex[i]
	}
	return elems, true, nil
}

// checkElement checks that an element read from where has the sequence's element type.
func checkElement(name string, e *ops.Tensor, want ops.ValueType, where string) error {
	if !e.Type().Equal(want) {
		got := e.Type().String()
		if e.Kind() == ops.KindTensor {
			got = fmt.Sprintf("%s%v", e.DType(), e.Shape())
		}
		return fmt.Errorf("input %q: the element %s is %s, the sequence holds %s", name, where, got, want)
	}
	return nil
}
