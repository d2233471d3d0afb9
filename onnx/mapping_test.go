package onnx

import (
	"path/filepath"
	"reflect"
	goruntime "runtime"
	"strings"
	"testing"
	"unsafe"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// floatInit is a FLOAT initializer named name holding values as raw_data.
func floatInit(t *testing.T, name string, values []float32) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
		Dims: []int64{int64(len(values))}, RawData: leBytes(t, values)}
}

// TestMmapUsesAlignedRawDataInPlace: initializers whose names have 1 to 4 letters put their raw_data at
// every offset modulo 4 in the file; a mapped load uses the 4-byte-aligned ones in place (Holds) and copies
// the others, and every array equals what a read load gives, bit for bit.
func TestMmapUsesAlignedRawDataInPlace(t *testing.T) {
	testenv.RequireMmap(t)
	var inits []*onnxpb.TensorProto
	for i, name := range []string{"a", "ab", "abc", "abcd", "abcde"} {
		inits = append(inits, floatInit(t, name, []float32{float32(i), -1.5, 3.25e-38, float32(i) * 7}))
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	writeFile(t, path, marshal(t, testModel(inits...)))

	read, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := DecodeOptions{Mmap: true}.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mapping := m.Mapping()
	if mapping == nil {
		t.Fatal("a mapped load has no Mapping")
	}
	if !proto.Equal(m.Proto, read.Proto) {
		t.Fatal("the mapped and the read load decode different models")
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(mapping.regions[0])))
	inPlace, copied := 0, 0
	for i, tp := range m.Proto.Graph.Initializer {
		offset := uintptr(unsafe.Pointer(unsafe.SliceData(tp.RawData))) - base
		got, err := m.TakeTensor(tp, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := read.TensorArray(read.Proto.Graph.Initializer[i])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: mapped %v, read %v", tp.GetName(), got, want)
		}
		aligned := offset%4 == 0 && littleEndian
		if mapping.Holds(got) != aligned {
			t.Errorf("%s at file offset %d: Holds = %v, want %v (aligned for float32: %v)", tp.GetName(), offset, mapping.Holds(got), aligned, aligned)
		}
		if aligned {
			inPlace++
		} else {
			copied++
		}
	}
	if inPlace == 0 || copied == 0 {
		t.Fatalf("the fixture gave %d aligned and %d misaligned raw_data; it needs both", inPlace, copied)
	}
}

// TestMmapLoadAllocatesNoWeight: a mapped load of a 16 MiB initializer leaves its bytes in the file's
// pages, where the read load (TestLoadReadsWeightsOnce) allocates them once.
func TestMmapLoadAllocatesNoWeight(t *testing.T) {
	testenv.RequireMmap(t)
	const size = 16 << 20
	path := filepath.Join(t.TempDir(), "big.onnx")
	writeFile(t, path, marshal(t, testModel(floatInit(t, "W", make([]float32, size/4)))))
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	m, err := DecodeOptions{Mmap: true}.Load(path)
	goruntime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := len(m.Proto.Graph.Initializer[0].RawData); got != size {
		t.Fatalf("raw_data has %d bytes, want %d", got, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/8 {
		t.Errorf("a mapped Load allocated %d bytes for a %d-byte weight, want a small fraction of it", alloc, size)
	}
}

// TestMmapReferenceCount: the files stay mapped until the last of the Model's and the acquired references
// is released, and a released mapping cannot be acquired again.
func TestMmapReferenceCount(t *testing.T) {
	testenv.RequireMmap(t)
	path := filepath.Join(t.TempDir(), "model.onnx")
	writeFile(t, path, marshal(t, testModel(floatInit(t, "W", []float32{1, 2}))))
	m, err := DecodeOptions{Mmap: true}.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	mapping := m.Mapping()
	if !mapping.Acquire() {
		t.Fatal("Acquire failed on a live mapping")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil { // twice: no second release
		t.Fatal(err)
	}
	if mapping.Released() {
		t.Fatal("the mapping was released while a reference was held")
	}
	if err := mapping.Release(); err != nil {
		t.Fatal(err)
	}
	if !mapping.Released() {
		t.Fatal("the last Release left the files mapped")
	}
	if mapping.Acquire() {
		t.Error("a released mapping was acquired again")
	}
}

// TestMmapExternalData: external data files are mapped into the model's Mapping, used in place at an
// aligned offset and copied at a misaligned one, with the same confinement as a read.
func TestMmapExternalData(t *testing.T) {
	testenv.RequireMmap(t)
	root, modelDir := externalFixture(t)
	symlink(t, filepath.Join(root, "outside", "secret.bin"), filepath.Join(modelDir, "escape.bin"))
	misaligned := filepath.Join(modelDir, "odd.bin")
	writeFile(t, misaligned, append([]byte{0}, leBytes(t, []float32{1, 2, 3})...))
	cases := []struct {
		name    string
		kv      []string
		inPlace bool
		errHas  string
	}{
		{"aligned, offset 8", []string{"location", "w.bin", "offset", "8", "length", "12"}, true, ""},
		{"aligned, whole file", []string{"location", "sub/w.bin"}, true, ""},
		{"misaligned, offset 1", []string{"location", "odd.bin", "offset", "1"}, false, ""},
		{"symlink out of the folder", []string{"location", "escape.bin"}, false, "outside the model folder"},
		{"past the end", []string{"location", "sub/w.bin", "offset", "4"}, false, "past the end"},
	}
	for _, c := range cases {
		path := filepath.Join(modelDir, "model.onnx")
		writeFile(t, path, marshal(t, testModel(externalTensor(c.kv...))))
		m, err := DecodeOptions{Mmap: true}.Load(path)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		a, err := m.TakeTensor(m.Proto.Graph.Initializer[0], Limits{})
		switch {
		case c.errHas != "":
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.errHas)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case !reflect.DeepEqual(a.Data, []float32{1, 2, 3}):
			t.Errorf("%s: got %v, want [1 2 3]", c.name, a.Data)
		case m.Mapping().Holds(a) != (c.inPlace && littleEndian):
			t.Errorf("%s: Holds = %v, want %v", c.name, m.Mapping().Holds(a), c.inPlace)
		}
		if err := m.Close(); err != nil {
			t.Errorf("%s: Close: %v", c.name, err)
		}
	}
}

// TestMmapHostileFiles: truncated files and raw_data running past the end of the file give the read
// load's errors from a mapped load.
func TestMmapHostileFiles(t *testing.T) {
	testenv.RequireMmap(t)
	valid := marshal(t, testModel(floatInit(t, "W", []float32{1, 2, 3, 4})))
	rawAt := strings.Index(string(valid), string(leBytes(t, []float32{1, 2, 3, 4})))
	dir := t.TempDir()
	for name, b := range map[string][]byte{
		"truncated in raw_data": valid[:rawAt+5],
		"truncated by one byte": valid[:len(valid)-1],
		"empty":                 {},
		"garbage":               []byte("\x3a\xff\xff\xff\xff\x0f not a model"),
	} {
		path := filepath.Join(dir, "model.onnx")
		writeFile(t, path, b)
		_, readErr := Load(path)
		m, err := DecodeOptions{Mmap: true}.Load(path)
		if err == nil {
			m.Close()
		}
		if (err == nil) != (readErr == nil) || err != nil && err.Error() != readErr.Error() {
			t.Errorf("%s: mapped load gave %v, read load %v", name, err, readErr)
		}
	}
}
