package tensorio

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/ops"
)

func TestPBRoundTrip(t *testing.T) {
	dir := t.TempDir()
	tensors := []*ops.Tensor{
		ops.FromSlice(ops.Shape{2}, []string{"hello", ""}),
		ops.FromSlice(ops.Shape{1, 2}, []ops.BFloat16Bits{0x3f80, 0xc000}),
		ops.Scalar(float32(2.5)),
		ops.FromSlice(ops.Shape{0, 4}, []float32{}),
		// The narrow types: bit patterns one per byte in memory, packed in the file (odd counts pad).
		ops.FromSlice(ops.Shape{3}, []ops.Int4Value{-8, 7, -1}),
		ops.FromSlice(ops.Shape{3}, []ops.Uint4Value{15, 0, 3}),
		ops.FromSlice(ops.Shape{5}, []ops.Int2Value{-2, 1, -1, 0, 1}),
		ops.FromSlice(ops.Shape{5}, []ops.Uint2Value{0, 1, 2, 3, 3}),
		ops.FromSlice(ops.Shape{3}, []ops.Float4E2M1Bits{0x1, 0xf, 0x8}),
		ops.FromSlice(ops.Shape{2}, []ops.Float8E4M3FNBits{0x38, 0xff}),
		ops.FromSlice(ops.Shape{2}, []ops.Float8E4M3FNUZBits{0x80, 0x01}),
		ops.FromSlice(ops.Shape{2}, []ops.Float8E5M2Bits{0x7c, 0xfb}),
		ops.FromSlice(ops.Shape{2}, []ops.Float8E5M2FNUZBits{0x7f, 0x40}),
		ops.FromSlice(ops.Shape{2}, []ops.Float8E8M0Bits{0x00, 0xfe}),
	}
	for _, d := range npyDTypes {
		tensors = append(tensors, sample(t, d.dt, ops.Shape{2, 3}))
	}
	for i, want := range tensors {
		path := filepath.Join(dir, "t.pb")
		if err := WritePB(path, want); err != nil {
			t.Fatalf("#%d %s: %v", i, want, err)
		}
		got, err := ReadPB(path)
		if err != nil {
			t.Fatalf("#%d %s: %v", i, want, err)
		}
		assertSameTensor(t, got, want)
	}
}

func TestReadPBCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.pb")
	// Field 1 (dims), varint type, then a truncated varint.
	if err := os.WriteFile(path, []byte{0x08, 0xff}, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadPB(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("got %v, want an error naming %s", err, path)
	}
}

// TestReadPBBackendTest reads a TensorProto written by the ONNX project, when ../shared is present.
func TestReadPBBackendTest(t *testing.T) {
	path := testenv.Shared(t, "onnx-node-tests", "test_abs", "test_data_set_0", "input_0.pb")
	x, err := ReadPB(path)
	if err != nil {
		t.Fatal(err)
	}
	if x.DType() != ops.Float32 || !x.Shape().Equal(ops.Shape{3, 4, 5}) {
		t.Fatalf("got %s, want float32[3,4,5]", x)
	}
	for _, v := range x.Float32s() {
		if math.IsNaN(float64(v)) {
			t.Fatal("NaN in test_abs input")
		}
	}
}

// TestReadValuePB reads the ONNX node tests' SequenceProto and OptionalProto files as the declared types,
// and refuses a sequence file read as another type with an error naming the file.
func TestReadValuePB(t *testing.T) {
	insert := testenv.Shared(t, "onnx-node-tests", "test_sequence_insert_at_back", "test_data_set_0")
	seqType := ops.SequenceOf(ops.TensorType(ops.Int64))
	seq, err := ReadValuePB(filepath.Join(insert, "input_0.pb"), seqType)
	if err != nil {
		t.Fatal(err)
	}
	if !seq.Type().Equal(seqType) || len(seq.Elements()) != 3 || seq.Elements()[1].String() != ops.FromSlice(ops.Shape{3}, []int64{5, 6, 7}).String() {
		t.Errorf("read %v, want the sequence [1 2 3 4], [5 6 7], [8 9]", seq)
	}
	tensor, err := ReadValuePB(filepath.Join(insert, "input_1.pb"), ops.TensorType(ops.Int64))
	if err != nil || tensor.Kind() != ops.KindTensor || tensor.Len() != 3 {
		t.Errorf("a TensorProto read as a tensor: %v, %v", tensor, err)
	}
	_, err = ReadValuePB(filepath.Join(insert, "input_0.pb"), ops.SequenceOf(ops.TensorType(ops.Float32)))
	if err == nil || !strings.Contains(err.Error(), "input_0.pb") || !strings.Contains(err.Error(), "seq(tensor(float32))") {
		t.Errorf("an int64 sequence read as a float32 one: got error %v", err)
	}

	empty := testenv.Shared(t, "onnx-node-tests", "test_optional_has_element_empty_optional_input", "test_data_set_0", "input_0.pb")
	opt, err := ReadValuePB(empty, ops.OptionalOf(ops.TensorType(ops.Int32)))
	if err != nil {
		t.Fatal(err)
	}
	if opt.Kind() != ops.KindOptional || opt.HasElement() {
		t.Errorf("read %v, want an empty optional", opt)
	}
}
