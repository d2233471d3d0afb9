package tensorio

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

func TestNPZRoundTrip(t *testing.T) {
	arrays := []NamedTensor{
		{"logits", sample(t, ops.Float32, ops.Shape{2, 10})},
		{"ids", sample(t, ops.Int64, ops.Shape{3})},
		{"mask", sample(t, ops.Bool, ops.Shape{2, 2})},
		{"scalar", sample(t, ops.Float64, ops.Shape{})},
		{"half", sample(t, ops.Float16, ops.Shape{4})},
		{"dir/name.with.dots", sample(t, ops.Uint8, ops.Shape{0, 3})},
	}
	path := filepath.Join(t.TempDir(), "out.npz")
	if err := WriteNPZ(path, arrays); err != nil {
		t.Fatal(err)
	}
	got, err := ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(arrays) {
		t.Fatalf("read %d arrays, wrote %d", len(got), len(arrays))
	}
	for i, a := range arrays {
		if got[i].Name != a.Name {
			t.Errorf("array %d is named %q, want %q (archive order)", i, got[i].Name, a.Name)
		}
		assertSameTensor(t, got[i].Tensor, a.Tensor)
	}
	// Members are stored uncompressed, NAME.npy, as numpy.savez writes them.
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for i, f := range zr.File {
		if f.Name != arrays[i].Name+".npy" || f.Method != zip.Store {
			t.Errorf("member %d: %q method %d, want %q stored", i, f.Name, f.Method, arrays[i].Name+".npy")
		}
	}
}

// writeZip builds an archive member by member: name → bytes, deflated like numpy.savez_compressed.
func writeZip(t *testing.T, members [][2]string, method uint16) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m[0], Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(m[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.npz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func npyBytes(t *testing.T, x *ops.Tensor) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteNPY(&b, x); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReadNPZCompressedAndLookup(t *testing.T) {
	x := ops.FromSlice(ops.Shape{2}, []float32{1, 2})
	y := ops.FromSlice(ops.Shape{1}, []int32{7})
	path := writeZip(t, [][2]string{{"x.npy", npyBytes(t, x)}, {"notes.txt", "skipped"}, {"y.npy", npyBytes(t, y)}}, zip.Deflate)
	arrays, err := ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(arrays) != 2 || arrays[0].Name != "x" || arrays[1].Name != "y" {
		t.Fatalf("arrays %v: want x and y, notes.txt skipped", NPZNames(arrays))
	}
	got, err := ReadFile(path + ":y")
	if err != nil || !reflect.DeepEqual(got.Int32s(), []int32{7}) {
		t.Errorf("ReadFile(FILE.npz:y) = %v, %v", got, err)
	}
	_, err = ReadFile(path)
	if err == nil || !strings.Contains(err.Error(), "holds 2 arrays (x, y): name the one to read as "+path+":NAME") {
		t.Errorf("ReadFile of a two-array archive: %v", err)
	}
	_, err = ReadNPZArray(path, "z")
	if err == nil || !strings.Contains(err.Error(), `no array named "z"; the archive holds x, y`) {
		t.Errorf("missing array: %v", err)
	}
	one := writeZip(t, [][2]string{{"arr_0.npy", npyBytes(t, x)}}, zip.Store)
	if got, err := ReadFile(one); err != nil || !reflect.DeepEqual(got.Float32s(), []float32{1, 2}) {
		t.Errorf("ReadFile of a one-array archive = %v, %v", got, err)
	}
}

func TestReadNPZCorrupt(t *testing.T) {
	good := npyBytes(t, ops.FromSlice(ops.Shape{4}, []float32{1, 2, 3, 4}))
	notZip := filepath.Join(t.TempDir(), "plain.npz")
	if err := os.WriteFile(notZip, []byte("PK not really a zip archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{"not a zip", notZip, "plain.npz: malformed .npz: not a zip archive"},
		{"truncated member", writeZip(t, [][2]string{{"x.npy", good[:len(good)-3]}}, zip.Deflate), "a.npz[x.npy]: malformed .npy: shape (4,) of float32"},
		{"trailing bytes in a member", writeZip(t, [][2]string{{"x.npy", good + "junk"}}, zip.Store), "a.npz[x.npy]: malformed .npy"},
		{"member is no npy", writeZip(t, [][2]string{{"x.npy", "hello"}}, zip.Store), "a.npz[x.npy]: malformed .npy: 5 bytes"},
		{"array stored twice", writeZip(t, [][2]string{{"x.npy", good}, {"x.npy", good}}, zip.Store), `the array "x" is stored twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadNPZ(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("%T is not a *FormatError", err)
			}
		})
	}
	// A flipped data byte fails the member's CRC.
	path := writeZip(t, [][2]string{{"x.npy", good}}, zip.Store)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte(good)) + len(good) - 1
	raw[i] ^= 0xff
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadNPZ(path); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupted data: got %v, want a checksum error", err)
	}
	// The size limit applies to each array before its data is read.
	big := writeZip(t, [][2]string{{"x.npy", good}}, zip.Store)
	if _, err := (Limits{MaxBytes: 8}).ReadNPZ(big); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("MaxBytes 8 on a 16-byte array: %v", err)
	}
}

func TestWriteNPZErrors(t *testing.T) {
	x := ops.FromSlice(ops.Shape{1}, []float32{1})
	dir := t.TempDir()
	for _, tc := range []struct {
		arrays []NamedTensor
		want   string
	}{
		{[]NamedTensor{{"", x}}, `array name ""`},
		{[]NamedTensor{{"a/", x}}, `array name "a/"`},
		{[]NamedTensor{{"a", x}, {"a", x}}, `array name "a" is given twice`},
		{[]NamedTensor{{"a", nil}}, `array "a" is nil`},
		{[]NamedTensor{{"c", ops.FromSlice(ops.Shape{1}, []complex64{1})}}, "dtype complex64 has no .npy form"},
	} {
		path := filepath.Join(dir, "bad.npz")
		err := WriteNPZ(path, tc.arrays)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", NPZNames(tc.arrays), err, tc.want)
		}
		if _, statErr := os.Stat(path); statErr == nil {
			t.Errorf("%v: a failed write left %s behind", NPZNames(tc.arrays), path)
		}
	}
}
