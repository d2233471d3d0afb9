package tensorio

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/ops"
)

// TestWriteNPYStringsMatchesNumpyBytes compares WriteNPY's output for a string tensor with the file numpy
// itself wrote for np.array(['ab', 'c']) (testdata/unicode_U2.npy): '<U2', UTF-32LE, NUL-padded.
func TestWriteNPYStringsMatchesNumpyBytes(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "unicode_U2.npy"))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := WriteNPY(&got, ops.FromSlice(ops.Shape{2}, []string{"ab", "c"})); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("WriteNPY wrote\n%q\nnumpy wrote\n%q", got.Bytes(), want)
	}
}

func TestNPYStringRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		in    *ops.Tensor
		descr string
	}{
		{"ascii", ops.FromSlice(ops.Shape{2, 2}, []string{"cat", "", "a", "dog"}), "'<U3'"},
		// Width counts code points, not bytes: "é" is 2 bytes, "🙂" 4 bytes and one code point.
		{"non-ascii", ops.FromSlice(ops.Shape{3}, []string{"é", "🙂x", "日本語"}), "'<U3'"},
		{"all empty", ops.FromSlice(ops.Shape{2}, []string{"", ""}), "'<U1'"},
		{"no elements", ops.FromSlice(ops.Shape{0, 2}, []string{}), "'<U1'"},
		{"scalar", ops.Scalar("x"), "'<U1'"},
		{"not UTF-8: bytes", ops.FromSlice(ops.Shape{2}, []string{"a\xff", "bcd"}), "'|S3'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteNPY(&buf, tc.in); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), "'descr': "+tc.descr) {
				t.Errorf("header %q lacks descr %s", buf.String()[:64], tc.descr)
			}
			if buf.Len()%4 != 0 && strings.Contains(tc.descr, "U") {
				t.Errorf("a '<U' file of %d bytes is not made of whole UTF-32 units", buf.Len())
			}
			got, err := ReadNPY(&buf)
			if err != nil {
				t.Fatal(err)
			}
			assertSameTensor(t, got, tc.in)
		})
	}
}

func TestReadNPYStringErrors(t *testing.T) {
	tests := []struct {
		name   string
		header string
		data   []byte
		want   string
	}{
		{"surrogate", "{'descr': '<U1', 'fortran_order': False, 'shape': (1,), }",
			binary.LittleEndian.AppendUint32(nil, 0xD800), "element 0 holds 0xd800, not a Unicode code point"},
		{"beyond Unicode", "{'descr': '<U1', 'fortran_order': False, 'shape': (1,), }",
			binary.LittleEndian.AppendUint32(nil, 0x110000), "not a Unicode code point"},
		{"bad width", "{'descr': '<Ux', 'fortran_order': False, 'shape': (1,), }", nil, "string width \"x\" is not a size"},
		// Width 0 costs no file bytes, but each element is still a string header in memory.
		{"width 0, too many elements", "{'descr': '<U0', 'fortran_order': False, 'shape': (1000000000000,), }", nil, "string headers"},
		{"objects", "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", nil, "descr '|O' (Python objects)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadNPY(bytes.NewReader(npyFile(1, tc.header, tc.data)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestNPZStringRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.npz")
	arrays := []NamedTensor{
		{Name: "words", Tensor: ops.FromSlice(ops.Shape{2}, []string{"onnx", "ü"})},
		{Name: "n", Tensor: ops.FromSlice(ops.Shape{1}, []int64{3})},
	}
	if err := WriteNPZ(path, arrays); err != nil {
		t.Fatal(err)
	}
	got, err := ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "words" {
		t.Fatalf("read back %v", NPZNames(got))
	}
	assertSameTensor(t, got[0].Tensor, arrays[0].Tensor)
}

// TestNumpyReadsStrings checks with the real numpy that string tensors written to .npy and .npz load as
// str arrays (bytes for the non-UTF-8 one) with the same elements, and that numpy's own string files
// read back.
func TestNumpyReadsStrings(t *testing.T) {
	python := testenv.RequirePython(t, "apt-get install python3-numpy", "numpy")
	dir := t.TempDir()
	words := ops.FromSlice(ops.Shape{2, 2}, []string{"cat", "", "日本", "🙂"})
	if err := WriteNPYFile(filepath.Join(dir, "words.npy"), words); err != nil {
		t.Fatal(err)
	}
	if err := WriteNPYFile(filepath.Join(dir, "raw.npy"), ops.FromSlice(ops.Shape{2}, []string{"a\xff", "b"})); err != nil {
		t.Fatal(err)
	}
	if err := WriteNPZ(filepath.Join(dir, "all.npz"), []NamedTensor{{Name: "words", Tensor: words}}); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np
d = sys.argv[1]
want = np.array([['cat', ''], ['日本', '🙂']])
for a in (np.load(d + '/words.npy'), np.load(d + '/all.npz')['words']):
    assert a.dtype == np.dtype('<U3'), a.dtype
    assert a.shape == (2, 2) and (a == want).all(), a
raw = np.load(d + '/raw.npy')
assert raw.dtype == np.dtype('S2') and raw.tolist() == [b'a\xff', b'b'], raw
print('ok')
`
	if out, err := exec.Command(python, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("numpy did not read the strings back: %v\n%s", err, out)
	}
	// And the other way: numpy's big-endian, Fortran-ordered unicode and its byte strings.
	write := `
import sys, numpy as np
d = sys.argv[1]
np.save(d + '/np_u.npy', np.asfortranarray(np.array([['ab', 'é'], ['🙂', '']], dtype='>U2')))
np.save(d + '/np_s.npy', np.array([b'x', b'yz']))
`
	if out, err := exec.Command(python, "-c", write, dir).CombinedOutput(); err != nil {
		t.Fatalf("numpy could not write strings: %v\n%s", err, out)
	}
	for file, want := range map[string]*ops.Tensor{
		"np_u.npy": ops.FromSlice(ops.Shape{2, 2}, []string{"ab", "é", "🙂", ""}),
		"np_s.npy": ops.FromSlice(ops.Shape{2}, []string{"x", "yz"}),
	} {
		got, err := ReadNPYFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		assertSameTensor(t, got, want)
	}
}
