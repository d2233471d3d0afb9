package tensorio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/ops"
)

// sample builds a tensor of dtype dt and the given shape whose element i (row-major) is a simple function
// of i, the same one the numpy scripts below use: floats (i-5)/4, signed ints i-5, unsigned ints 3i,
// bools i%3 == 0.
func sample(t testing.TB, dt ops.DType, shape ops.Shape) *ops.Tensor {
	t.Helper()
	n := shape.Size()
	var data any
	switch dt {
	case ops.Float32:
		data = fill(n, func(i int) float32 { return float32(i-5) / 4 })
	case ops.Float64:
		data = fill(n, func(i int) float64 { return float64(i-5) / 4 })
	case ops.Float16:
		data = fill(n, func(i int) ops.Float16Bits { return ops.Float16FromFloat32(float32(i-5) / 4) })
	case ops.Int8:
		data = fill(n, func(i int) int8 { return int8(i - 5) })
	case ops.Int16:
		data = fill(n, func(i int) int16 { return int16(i - 5) })
	case ops.Int32:
		data = fill(n, func(i int) int32 { return int32(i - 5) })
	case ops.Int64:
		data = fill(n, func(i int) int64 { return int64(i - 5) })
	case ops.Uint8:
		data = fill(n, func(i int) uint8 { return uint8(3 * i) })
	case ops.Uint16:
		data = fill(n, func(i int) uint16 { return uint16(3 * i) })
	case ops.Uint32:
		data = fill(n, func(i int) uint32 { return uint32(3 * i) })
	case ops.Uint64:
		data = fill(n, func(i int) uint64 { return uint64(3 * i) })
	case ops.Bool:
		data = fill(n, func(i int) bool { return i%3 == 0 })
	default:
		t.Fatalf("sample: no generator for %s", dt)
	}
	x, err := ops.FromData(dt, shape, data)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func fill[T any](n int, f func(int) T) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = f(i)
	}
	return s
}

// npyDTypes are the element types .npy reading and writing support, with numpy's typestr kind and size.
var npyDTypes = []struct {
	dt   ops.DType
	kind string
}{
	{ops.Float16, "f2"}, {ops.Float32, "f4"}, {ops.Float64, "f8"},
	{ops.Int8, "i1"}, {ops.Int16, "i2"}, {ops.Int32, "i4"}, {ops.Int64, "i8"},
	{ops.Uint8, "u1"}, {ops.Uint16, "u2"}, {ops.Uint32, "u4"}, {ops.Uint64, "u8"},
	{ops.Bool, "b1"},
}

func assertSameTensor(t *testing.T, got, want *ops.Tensor) {
	t.Helper()
	if got.DType() != want.DType() || !got.Shape().Equal(want.Shape()) {
		t.Fatalf("got %s%v, want %s%v", got.DType(), got.Shape(), want.DType(), want.Shape())
	}
	if !reflect.DeepEqual(got.Data(), want.Data()) {
		t.Fatalf("data differs:\n got  %v\n want %v", got.Data(), want.Data())
	}
}

func TestNPYRoundTrip(t *testing.T) {
	shapes := []ops.Shape{{}, {0}, {1}, {7}, {2, 3}, {0, 3}, {2, 3, 4}, {1, 1, 2, 1, 3}}
	for _, d := range npyDTypes {
		for _, shape := range shapes {
			t.Run(fmt.Sprintf("%s%v", d.dt, shape), func(t *testing.T) {
				want := sample(t, d.dt, shape)
				var buf bytes.Buffer
				if err := WriteNPY(&buf, want); err != nil {
					t.Fatal(err)
				}
				if buf.Len() < 64 || !bytes.HasPrefix(buf.Bytes(), []byte(npyMagic+"\x01\x00")) {
					t.Fatalf("bad prefix %q", buf.Bytes()[:min(10, buf.Len())])
				}
				headerEnd := 10 + int(binary.LittleEndian.Uint16(buf.Bytes()[8:]))
				if headerEnd%64 != 0 || buf.Bytes()[headerEnd-1] != '\n' {
					t.Errorf("data starts at %d, want a multiple of 64 after a newline", headerEnd)
				}
				if wantLen := headerEnd + shape.Size()*d.dt.Size(); buf.Len() != wantLen {
					t.Errorf("wrote %d bytes, want %d", buf.Len(), wantLen)
				}
				got, err := ReadNPY(&buf)
				if err != nil {
					t.Fatal(err)
				}
				assertSameTensor(t, got, want)
			})
		}
	}
}

func TestNPYFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, d := range npyDTypes {
		want := sample(t, d.dt, ops.Shape{3, 5})
		path := filepath.Join(dir, d.kind+".npy")
		if err := WriteNPYFile(path, want); err != nil {
			t.Fatal(err)
		}
		got, err := ReadNPYFile(path)
		if err != nil {
			t.Fatal(err)
		}
		assertSameTensor(t, got, want)
		got, err = ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		assertSameTensor(t, got, want)
	}
}

func TestWriteNPYRefusesTypesWithoutNPYForm(t *testing.T) {
	for _, x := range []*ops.Tensor{
		ops.FromSlice(ops.Shape{1}, []ops.BFloat16Bits{0x3f80}),
		ops.FromSlice(ops.Shape{1}, []complex64{1}),
	} {
		err := WriteNPY(io.Discard, x)
		var unsupported *UnsupportedError
		if !errors.As(err, &unsupported) || !strings.Contains(err.Error(), x.DType().String()) {
			t.Errorf("%s: got %v, want an UnsupportedError naming the dtype", x.DType(), err)
		}
	}
}

func TestWriteNPYFileRemovesFileOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.npy")
	if err := WriteNPYFile(path, ops.FromSlice(ops.Shape{1}, []complex64{1})); err == nil {
		t.Fatal("want an error")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the failed write left %s behind (stat: %v)", path, err)
	}
}

// TestReadNumpyFixtures reads the checked-in files numpy wrote (see testdata/README.md).
func TestReadNumpyFixtures(t *testing.T) {
	tests := []struct {
		file string
		want *ops.Tensor
	}{
		{"f4_2x3.npy", ops.FromSlice(ops.Shape{2, 3}, []float32{0, 0.25, 0.5, 0.75, 1, 1.25})},
		{"f8_bigendian_2x3.npy", ops.FromSlice(ops.Shape{2, 3}, []float64{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5})},
		{"i4_fortran_2x3x4.npy", ops.FromSlice(ops.Shape{2, 3, 4}, fill(24, func(i int) int32 { return int32(i) }))},
		{"bool_4.npy", ops.FromSlice(ops.Shape{4}, []bool{true, false, false, true})},
		{"f2_3.npy", ops.FromSlice(ops.Shape{3}, []ops.Float16Bits{0x3800, 0xc000, 0x7bff})},
		{"u1_scalar.npy", ops.Scalar(uint8(7))},
		{"i8_v2_3.npy", ops.FromSlice(ops.Shape{3}, []int64{-1, 0, 1 << 40})},
		{"u2_v3_2.npy", ops.FromSlice(ops.Shape{2}, []uint16{1, 65535})},
		{"unicode_U2.npy", ops.FromSlice(ops.Shape{2}, []string{"ab", "c"})},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ReadNPYFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			assertSameTensor(t, got, tc.want)
		})
	}
}

func TestReadNumpyFixturesUnsupported(t *testing.T) {
	for file, want := range map[string]string{
		"complex_c8.npy":  "descr '<c8' (complex)",
		"no_such_file.pb": "no such file",
	} {
		_, err := ReadFile(filepath.Join("testdata", file))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), file) {
			t.Errorf("%s: got %v, want an error naming the file and containing %q", file, err, want)
		}
	}
}

// npyFile assembles a .npy file by hand from a version, a header text and data bytes.
func npyFile(major byte, header string, data []byte) []byte {
	b := []byte(npyMagic)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
	}
	b = append(b, header...)
	return append(b, data...)
}

func TestReadNPYByteOrderAndLayout(t *testing.T) {
	be16 := func(v ...uint16) []byte {
		var b []byte
		for _, x := range v {
			b = binary.BigEndian.AppendUint16(b, x)
		}
		return b
	}
	le32 := func(v ...int32) []byte {
		var b []byte
		for _, x := range v {
			b = binary.LittleEndian.AppendUint32(b, uint32(x))
		}
		return b
	}
	utf32 := func(order binary.AppendByteOrder, runes ...rune) []byte {
		var b []byte
		for _, r := range runes {
			b = order.AppendUint32(b, uint32(r))
		}
		return b
	}
	tests := []struct {
		name   string
		header string
		data   []byte
		want   *ops.Tensor
	}{
		{"big-endian int16", "{'descr': '>i2', 'fortran_order': False, 'shape': (3,), }",
			be16(1, 0xfffe, 0x0102), ops.FromSlice(ops.Shape{3}, []int16{1, -2, 0x0102})},
		{"big-endian float32", "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
			binary.BigEndian.AppendUint32(nil, math.Float32bits(-1.5)), ops.FromSlice(ops.Shape{1}, []float32{-1.5})},
		{"fortran 2x3", "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }",
			le32(0, 3, 1, 4, 2, 5), ops.FromSlice(ops.Shape{2, 3}, []int32{0, 1, 2, 3, 4, 5})},
		{"fortran 1-D is unchanged", "{'descr': '<i4', 'fortran_order': True, 'shape': (3,), }",
			le32(7, 8, 9), ops.FromSlice(ops.Shape{3}, []int32{7, 8, 9})},
		{"fortran with a zero dim", "{'descr': '<i4', 'fortran_order': True, 'shape': (0, 3), }",
			nil, ops.FromSlice(ops.Shape{0, 3}, []int32{})},
		{"big-endian fortran float16", "{'descr': '>f2', 'fortran_order': True, 'shape': (2, 2), }",
			be16(0x3c00, 0x4200, 0x4000, 0x4400), ops.FromSlice(ops.Shape{2, 2}, []ops.Float16Bits{0x3c00, 0x4000, 0x4200, 0x4400})},
		{"bool descr '?' and nonzero bytes", "{'descr': '?', 'fortran_order': False, 'shape': (3,)}",
			[]byte{0, 1, 2}, ops.FromSlice(ops.Shape{3}, []bool{false, true, true})},
		{"double quotes, no spaces, python2 long", `{"descr":"|u1","fortran_order":False,"shape":(2L,)}`,
			[]byte{9, 10}, ops.FromSlice(ops.Shape{2}, []uint8{9, 10})},
		{"keys in another order", "{'shape': (), 'fortran_order': False, 'descr': '<i4'}",
			le32(-3), ops.Scalar(int32(-3))},
		{"big-endian unicode", "{'descr': '>U2', 'fortran_order': False, 'shape': (2,), }",
			utf32(binary.BigEndian, 'h', 'i', 'é', 0), ops.FromSlice(ops.Shape{2}, []string{"hi", "é"})},
		{"fortran unicode", "{'descr': '<U1', 'fortran_order': True, 'shape': (2, 2), }",
			utf32(binary.LittleEndian, 'a', 'c', 'b', 'd'), ops.FromSlice(ops.Shape{2, 2}, []string{"a", "b", "c", "d"})},
		{"an inner NUL is kept", "{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }",
			utf32(binary.LittleEndian, 'a', 0, 'b'), ops.FromSlice(ops.Shape{1}, []string{"a\x00b"})},
		{"byte strings", "{'descr': '|S3', 'fortran_order': False, 'shape': (2,), }",
			[]byte("ab\x00xyz"), ops.FromSlice(ops.Shape{2}, []string{"ab", "xyz"})},
		{"old name 'a' for bytes", "{'descr': '|a2', 'fortran_order': False, 'shape': (1,), }",
			[]byte("q\x00"), ops.FromSlice(ops.Shape{1}, []string{"q"})},
		{"width 0", "{'descr': '<U0', 'fortran_order': False, 'shape': (3,), }",
			nil, ops.FromSlice(ops.Shape{3}, []string{"", "", ""})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadNPY(bytes.NewReader(npyFile(1, tc.header, tc.data)))
			if err != nil {
				t.Fatal(err)
			}
			assertSameTensor(t, got, tc.want)
		})
	}
}

func TestFortranLarger(t *testing.T) {
	// A 3x4x5 array: the element at C index (i, j, k) sits at i + 3j + 12k in Fortran order.
	shape := ops.Shape{3, 4, 5}
	f := make([]int32, 60)
	for i := range 3 {
		for j := range 4 {
			for k := range 5 {
				f[i+3*j+12*k] = int32(100*i + 10*j + k)
			}
		}
	}
	var data []byte
	for _, v := range f {
		data = binary.LittleEndian.AppendUint32(data, uint32(v))
	}
	got, err := ReadNPY(bytes.NewReader(npyFile(1, "{'descr': '<i4', 'fortran_order': True, 'shape': (3, 4, 5), }", data)))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int32, 0, 60)
	for i := range 3 {
		for j := range 4 {
			for k := range 5 {
				want = append(want, int32(100*i+10*j+k))
			}
		}
	}
	assertSameTensor(t, got, ops.FromSlice(shape, want))
}

func TestReadNPYCorrupt(t *testing.T) {
	hdr := func(descr, fortran, shape string) string {
		return fmt.Sprintf("{'descr': %s, 'fortran_order': %s, 'shape': %s, }", descr, fortran, shape)
	}
	f4 := func(shape string) string { return hdr("'<f4'", "False", shape) }
	format, unsupported := "format", "unsupported"
	tests := []struct {
		name  string
		input []byte
		kind  string // which error type
		want  string // substring of the message
	}{
		{"empty", nil, format, "0 bytes, too short"},
		{"short magic", []byte("\x93NUM"), format, "4 bytes, too short"},
		{"not npy", []byte("PK\x03\x04zipfile!"), format, "does not start with the .npy magic"},
		{"version 4.0", []byte(npyMagic + "\x04\x00\x10\x00"), unsupported, "format version 4.0"},
		{"version 1.1", []byte(npyMagic + "\x01\x01\x10\x00"), unsupported, "format version 1.1"},
		{"no length", []byte(npyMagic + "\x01\x00\x10"), format, "inside the header length"},
		{"header longer than file", []byte(npyMagic + "\x01\x00\x40\x00{'descr'"), format, "after 8 of the 64 header bytes"},
		{"huge header length", []byte(npyMagic + "\x02\x00\xff\xff\xff\xff"), format, "header length 4294967295 is over the limit"},
		{"header not a dict", npyFile(1, "('<f4', False, (1,))", nil), format, "is a tuple, not a dict"},
		{"header garbage", npyFile(1, "{'descr': <f4}", nil), format, "unexpected \"<f4}\""},
		{"unterminated string", npyFile(1, "{'descr': '<f4", nil), format, "unterminated string"},
		{"trailing text", npyFile(1, f4("(1,)")+" x", []byte{0, 0, 0, 0}), format, "after the value"},
		{"function call", npyFile(1, hdr("'<f4'", "False", "eval('1')"), nil), format, "unexpected name \"eval\""},
		{"missing key", npyFile(1, "{'descr': '<f4', 'shape': (1,)}", nil), format, "no \"fortran_order\" key"},
		{"extra key", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", nil), format, "unexpected keys \"x\""},
		{"duplicate key", npyFile(1, "{'descr': '<f4', 'descr': '<f4'}", nil), format, "appears twice"},
		{"descr not a string", npyFile(1, hdr("4", "False", "(1,)"), nil), format, "descr is a int"},
		{"unknown descr", npyFile(1, hdr("'<x4'", "False", "(1,)"), nil), unsupported, "descr '<x4' is not a type"},
		{"empty descr", npyFile(1, hdr("'<'", "False", "(1,)"), nil), format, "descr '<' has no type"},
		{"odd size", npyFile(1, hdr("'<i3'", "False", "(1,)"), nil), unsupported, "descr '<i3' (3-byte int)"},
		{"long double", npyFile(1, hdr("'<f16'", "False", "(1,)"), nil), unsupported, "descr '<f16' (16-byte float)"},
		{"object", npyFile(1, hdr("'|O'", "False", "(1,)"), nil), unsupported, "descr '|O' (Python objects)"},
		{"datetime", npyFile(1, hdr("'<M8[s]'", "False", "(1,)"), nil), unsupported, "descr '<M8[s]' (datetime64)"},
		{"complex", npyFile(1, hdr("'<c16'", "False", "(1,)"), nil), unsupported, "descr '<c16' (complex)"},
		{"datetime", npyFile(1, hdr("'<M8[ns]'", "False", "(1,)"), nil), unsupported, "'<M8[ns]' (datetime64)"},
		{"structured", npyFile(1, hdr("[('a', '<f4'), ('b', '<i4')]", "False", "(1,)"), nil), unsupported, "structured dtype"},
		{"fortran not bool", npyFile(1, hdr("'<f4'", "0", "(1,)"), nil), format, "fortran_order is a int"},
		{"shape not a tuple", npyFile(1, f4("[1, 2]"), nil), format, "shape is a list, not a tuple"},
		{"shape parenthesised int", npyFile(1, f4("(3)"), nil), format, "shape is a int, not a tuple"},
		{"shape of strings", npyFile(1, f4("('1',)"), nil), format, "shape dimension 0 is a str"},
		{"shape float", npyFile(1, f4("(1.5,)"), nil), format, "is not an integer"},
		{"negative dim", npyFile(1, f4("(3, -1)"), nil), format, "shape dimension 1 is negative (-1)"},
		{"dim over int64", npyFile(1, f4("(99999999999999999999,)"), nil), format, "does not fit in 64 bits"},
		{"element overflow", npyFile(1, f4("(4294967296, 4294967296)"), nil), format, "more elements than fit in 64 bits"},
		{"byte overflow", npyFile(1, hdr("'<f8'", "False", "(1152921504606846976, 2)"), nil), format, "more bytes than fit in 64 bits"},
		{"over the size limit", npyFile(1, f4("(1073741824, 2)"), nil), unsupported, "needs 8589934592 bytes, over the limit of 4294967296"},
		{"truncated data", npyFile(1, f4("(2, 3)"), make([]byte, 20)), format, "needs 24 data bytes, only 20 remain"},
		{"deep nesting", npyFile(1, strings.Repeat("(", 100)+strings.Repeat(")", 100), nil), format, "nested more than 16 levels"},
		{"invalid utf-8 in v3", npyFile(3, "{'descr': '\xff'}", nil), format, "not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, err := ReadNPY(bytes.NewReader(tc.input))
			if err == nil {
				t.Fatalf("read %v, want an error containing %q", x, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to contain %q", err, tc.want)
			}
			var fe *FormatError
			var ue *UnsupportedError
			if tc.kind == format && !errors.As(err, &fe) || tc.kind == unsupported && !errors.As(err, &ue) {
				t.Errorf("got %T, want a %s error", err, tc.kind)
			}
		})
	}
}

// onlyReader hides bytes.Reader's Len, so ReadNPY cannot know how much data follows.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestReadNPYStreams(t *testing.T) {
	a := sample(t, ops.Float32, ops.Shape{2, 2})
	b := sample(t, ops.Int64, ops.Shape{3})
	var buf bytes.Buffer
	if err := WriteNPY(&buf, a); err != nil {
		t.Fatal(err)
	}
	if err := WriteNPY(&buf, b); err != nil {
		t.Fatal(err)
	}
	r := onlyReader{bytes.NewReader(buf.Bytes())}
	for _, want := range []*ops.Tensor{a, b} {
		got, err := ReadNPY(r)
		if err != nil {
			t.Fatal(err)
		}
		assertSameTensor(t, got, want)
	}
	if _, err := ReadNPY(r); err == nil || !strings.Contains(err.Error(), "0 bytes, too short") {
		t.Errorf("after the last array: got %v, want a too-short error", err)
	}

	// A stream that declares 4 GiB but holds 8 bytes fails after reading what is there.
	big := npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1073741823,), }", make([]byte, 8))
	_, err := ReadNPY(onlyReader{bytes.NewReader(big)})
	if err == nil || !strings.Contains(err.Error(), "truncated: shape (1073741823,) of float32 ('<f4') needs 4294967292 data bytes, the data ends after 8") {
		t.Errorf("short stream: got %v", err)
	}
}

func TestReadNPYFileSize(t *testing.T) {
	dir := t.TempDir()
	good := npyFile(1, "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", []byte{1, 0, 2, 0})
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated.npy", good[:len(good)-1], "needs 4 data bytes, the file has 3 after its"},
		{"trailing.npy", append(append([]byte{}, good...), 0), "needs 4 data bytes, the file has 1 more after them"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadNPYFile(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), path+": malformed .npy: ") {
			t.Errorf("%s: got %v, want %q after the path", tc.name, err, tc.want)
		}
	}
}

func TestLimits(t *testing.T) {
	x := sample(t, ops.Float64, ops.Shape{4, 4})
	var buf bytes.Buffer
	if err := WriteNPY(&buf, x); err != nil {
		t.Fatal(err)
	}
	if _, err := (Limits{MaxBytes: 127}).ReadNPY(bytes.NewReader(buf.Bytes())); err == nil || !strings.Contains(err.Error(), "needs 128 bytes, over the limit of 127") {
		t.Errorf("MaxBytes 127: got %v", err)
	}
	if _, err := (Limits{MaxBytes: 128}).ReadNPY(bytes.NewReader(buf.Bytes())); err != nil {
		t.Errorf("MaxBytes 128: %v", err)
	}
	if _, err := (Limits{MaxBytes: -1}).ReadNPY(bytes.NewReader(buf.Bytes())); err != nil {
		t.Errorf("no limit: %v", err)
	}
}

// TestNumpyInterop checks both directions against the real numpy, when python3 with numpy is installed:
// numpy writes every dtype in both byte orders and both layouts for ReadNPYFile, and numpy.load reads
// what WriteNPYFile wrote.
func TestNumpyInterop(t *testing.T) {
	python := testenv.RequirePython(t, "apt-get install python3-numpy", "numpy")
	dir := t.TempDir()
	// The same values as sample, computed by numpy.
	script := `
import sys, numpy as np
mode, d = sys.argv[1], sys.argv[2]
kinds = sys.argv[3].split(',')
i = np.arange(24).reshape(2, 3, 4)
def expect(kind):
    if kind[0] == 'f': return (i - 5) / 4
    if kind[0] == 'i': return i - 5
    if kind[0] == 'u': return 3 * i
    return i % 3 == 0
for kind in kinds:
    if mode == 'write':
        for order in '<>':
            for layout in 'CF':
                a = np.asarray(expect(kind), dtype=order + kind, order=layout)
                np.save('%s/%s_%s_%s.npy' % (d, kind, 'be' if order == '>' else 'le', layout), a)
    else:
        a = np.load('%s/go_%s.npy' % (d, kind))
        want = expect(kind).astype('<' + kind)
        assert a.dtype == want.dtype, (kind, a.dtype, want.dtype)
        assert a.shape == want.shape, (kind, a.shape)
        assert (a == want).all(), (kind, a, want)
print('ok')
`
	var kinds []string
	for _, d := range npyDTypes {
		kinds = append(kinds, d.kind)
	}
	if out, err := exec.Command(python, "-c", script, "write", dir, strings.Join(kinds, ",")).CombinedOutput(); err != nil {
		t.Fatalf("numpy could not write the fixtures: %v\n%s", err, out)
	}
	shape := ops.Shape{2, 3, 4}
	for _, d := range npyDTypes {
		want := sample(t, d.dt, shape)
		for _, variant := range []string{"le_C", "le_F", "be_C", "be_F"} {
			got, err := ReadNPYFile(filepath.Join(dir, d.kind+"_"+variant+".npy"))
			if err != nil {
				t.Errorf("%s %s: %v", d.kind, variant, err)
				continue
			}
			assertSameTensor(t, got, want)
		}
		if err := WriteNPYFile(filepath.Join(dir, "go_"+d.kind+".npy"), want); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(python, "-c", script, "read", dir, strings.Join(kinds, ",")).CombinedOutput(); err != nil {
		t.Fatalf("numpy did not read back what WriteNPYFile wrote: %v\n%s", err, out)
	}
}

func TestReadFileExtensions(t *testing.T) {
	dir := t.TempDir()
	x := sample(t, ops.Int32, ops.Shape{2})
	for _, name := range []string{"a.NPY", "b.Pb"} {
		path := filepath.Join(dir, name)
		if err := WriteFile(path, x); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		assertSameTensor(t, got, x)
	}
	for _, name := range []string{"c.txt", "noext"} {
		path := filepath.Join(dir, name)
		if err := WriteFile(path, x); err == nil || !strings.Contains(err.Error(), "must end in .npy or .pb") {
			t.Errorf("WriteFile %s: got %v", name, err)
		}
		if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "must end in .npy or .pb") {
			t.Errorf("ReadFile %s: got %v", name, err)
		}
	}
}

func FuzzReadNPY(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.npy"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(npyFile(1, "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 2), }", []byte{0, 1, 0, 2, 0, 3, 0, 4}))
	f.Add(npyFile(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 0), }", nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		// A small limit keeps the fuzzer from spending its time allocating what a header declares.
		x, err := (Limits{MaxBytes: 1 << 20}).ReadNPY(bytes.NewReader(b))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteNPY(&buf, x); err != nil {
			t.Fatalf("read a %s%v that WriteNPY refuses: %v", x.DType(), x.Shape(), err)
		}
		y, err := ReadNPY(&buf)
		if err != nil {
			t.Fatalf("re-reading what WriteNPY wrote: %v", err)
		}
		if x.DType() != y.DType() || !x.Shape().Equal(y.Shape()) || !sameBits(x, y) {
			t.Fatalf("round trip changed %s%v into %s%v", x.DType(), x.Shape(), y.DType(), y.Shape())
		}
	})
}

// sameBits compares tensors element by element on their encoding, so NaNs compare equal to themselves.
func sameBits(x, y *ops.Tensor) bool {
	if xs, ok := x.Data().([]string); ok {
		return reflect.DeepEqual(xs, y.Data())
	}
	var a, b bytes.Buffer
	if writeNPYData(&a, x.Data()) != nil || writeNPYData(&b, y.Data()) != nil {
		return false
	}
	return bytes.Equal(a.Bytes(), b.Bytes())
}
