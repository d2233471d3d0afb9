package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

func floatTensorType() *onnxpb.TypeProto {
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(1)}}}
}

// seqValue and optionalValue declare a seq(tensor(float32)) and an optional(tensor(float32)).
func seqValue(name string) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{
		SequenceType: &onnxpb.TypeProto_Sequence{ElemType: floatTensorType()}}}}
}

func optionalValue(name string) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_OptionalType{
		OptionalType: &onnxpb.TypeProto_Optional{ElemType: floatTensorType()}}}}
}

// sequenceModel writes an opset-18 model with inputs x float32[3] and items seq(tensor(float32)), and
// outputs longer = items with x appended, n = the length of items, some = Optional(x) and nothing = an
// empty optional(tensor(float32)).
func sequenceModel(t *testing.T, dir string) string {
	scalar := &onnxpb.ValueInfoProto{Name: proto.String("n"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(7), Shape: &onnxpb.TensorShapeProto{}}}}}
	typeAttr := &onnxpb.AttributeProto{Name: proto.String("type"), Type: onnxpb.AttributeProto_TYPE_PROTO.Enum(), Tp: floatTensorType()}
	return writeOpsetModel(t, dir, "seqs.onnx", 18, []*onnxpb.NodeProto{
		{OpType: proto.String("SequenceInsert"), Input: []string{"items", "x"}, Output: []string{"longer"}},
		{OpType: proto.String("SequenceLength"), Input: []string{"items"}, Output: []string{"n"}},
		{OpType: proto.String("Optional"), Input: []string{"x"}, Output: []string{"some"}},
		{OpType: proto.String("Optional"), Output: []string{"nothing"}, Attribute: []*onnxpb.AttributeProto{typeAttr}},
	}, []*onnxpb.ValueInfoProto{tensorValue("x", 1, 3), seqValue("items")},
		[]*onnxpb.ValueInfoProto{seqValue("longer"), scalar, optionalValue("some"), optionalValue("nothing")})
}

// writeSequenceDir writes elems as dir/0.npy, dir/1.npy, ...
func writeSequenceDir(t *testing.T, dir string, elems ...*ops.Tensor) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, e := range elems {
		writeNPY(t, filepath.Join(dir, []string{"0.npy", "1.npy", "2.npy"}[i]), e)
	}
	return dir
}

func readFloats(t *testing.T, path string) []float32 {
	t.Helper()
	x, err := tensorio.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return x.Float32s()
}

// TestSequenceInputsAndOutputs: a sequence input read from a folder of element files; sequence and
// optional outputs printed element by element, written as DIR/NAME/0.npy, ... (which read back as a
// sequence input), and an empty optional printed and written as "NAME: none" with no file.
func TestSequenceInputsAndOutputs(t *testing.T) {
	dir := t.TempDir()
	model := sequenceModel(t, dir)
	x := writeNPY(t, filepath.Join(dir, "x.npy"), ops.FromSlice(ops.Shape{3}, []float32{7, 8, 9}))
	items := writeSequenceDir(t, filepath.Join(dir, "items"),
		ops.FromSlice(ops.Shape{2}, []float32{1, 2}), ops.FromSlice(ops.Shape{1}, []float32{3}))
	out := filepath.Join(dir, "out")
	status, stdout, stderr := runCLI(model, x, items, "-o", out+"/")
	if status != exitOK || stderr != "" {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	for _, want := range []string{
		"output \"longer\": seq(tensor(float32)) of 3 elements\nlonger[0]: float32[2]\n[1. 2.]\nlonger[1]: float32[1]\n[3.]\nlonger[2]: float32[3]\n[7. 8. 9.]\n",
		"output \"n\": int64[]\n2\n",
		"output \"some\": optional(tensor(float32))\nsome: float32[3]\n[7. 8. 9.]\n",
		"output \"nothing\": optional(tensor(float32))\nnothing: none\n",
		"wrote " + filepath.Join(out, "longer", "2.npy") + "\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.HasSuffix(stdout, "wrote "+filepath.Join(out, "some.npy")+"\nnothing: none\n") {
		t.Errorf("-o DIR does not end by saying the empty optional has no file:\n%s", stdout)
	}
	for file, want := range map[string][]float32{"longer/0.npy": {1, 2}, "longer/1.npy": {3}, "longer/2.npy": {7, 8, 9}, "some.npy": {7, 8, 9}} {
		if got := readFloats(t, filepath.Join(out, file)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s holds %v, want %v", file, got, want)
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(out, "nothing*")); len(matches) > 0 {
		t.Errorf("the empty optional was written: %v", matches)
	}

	// The written folder is a sequence input in turn.
	status, stdout, stderr = runCLI(model, "items="+filepath.Join(out, "longer"), "x="+x)
	if status != exitOK || !strings.Contains(stdout, "output \"longer\": seq(tensor(float32)) of 4 elements\n") || !strings.Contains(stdout, "output \"n\": int64[]\n3\n") {
		t.Errorf("feeding the written folder back: status %d, stderr %q, stdout:\n%s", status, stderr, stdout)
	}
}

// TestSequenceNPZ: -o F.npz writes a sequence as NAME_0, NAME_1, ... and no array for an empty optional;
// an archive given alone feeds a sequence input from its arrays NAME_0, NAME_1, ...
func TestSequenceNPZ(t *testing.T) {
	dir := t.TempDir()
	model := sequenceModel(t, dir)
	inputs := filepath.Join(dir, "in.npz")
	if err := tensorio.WriteNPZ(inputs, []tensorio.NamedTensor{
		{Name: "items_1", Tensor: ops.FromSlice(ops.Shape{1}, []float32{3})},
		{Name: "x", Tensor: ops.FromSlice(ops.Shape{3}, []float32{7, 8, 9})},
		{Name: "items_0", Tensor: ops.FromSlice(ops.Shape{2}, []float32{1, 2})},
	}); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "out.npz")
	status, stdout, stderr := runCLI(model, inputs, "-o", archive)
	if status != exitOK || stderr != "" {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	if !strings.HasSuffix(stdout, "nothing: none\nwrote "+archive+"\n") {
		t.Errorf("stdout does not end with the empty optional and the archive:\n%s", stdout)
	}
	arrays, err := tensorio.ReadNPZ(archive)
	if err != nil {
		t.Fatal(err)
	}
	if got := tensorio.NPZNames(arrays); !reflect.DeepEqual(got, []string{"longer_0", "longer_1", "longer_2", "n", "some"}) {
		t.Errorf("the archive holds %v", got)
	}
	for _, a := range arrays {
		if a.Name == "longer_2" && !reflect.DeepEqual(a.Tensor.Float32s(), []float32{7, 8, 9}) {
			t.Errorf("longer_2 = %v, want x", a.Tensor.Float32s())
		}
	}
}

// TestValueProtoInputs runs ONNX node tests from their SequenceProto and OptionalProto files, writes a
// sequence output, and gives an optional input a tensor file (the optional then holds it).
func TestValueProtoInputs(t *testing.T) {
	insert := testenv.Shared(t, "onnx-node-tests", "test_sequence_insert_at_back")
	data := filepath.Join(insert, "test_data_set_0")
	out := filepath.Join(t.TempDir(), "out") + "/"
	status, stdout, stderr := runCLI(filepath.Join(insert, "model.onnx"), filepath.Join(data, "input_0.pb"), filepath.Join(data, "input_1.pb"), "-o", out)
	if status != exitOK {
		t.Fatalf("status %d: %s", status, stderr)
	}
	if !strings.Contains(stdout, "output \"output_sequence\": seq(tensor(int64)) of 4 elements\noutput_sequence[0]: int64[4]\n[1 2 3 4]\n") {
		t.Errorf("stdout:\n%s", stdout)
	}
	last, err := tensorio.ReadFile(filepath.Join(out, "output_sequence", "3.npy"))
	if err != nil || !reflect.DeepEqual(last.Int64s(), []int64{10, 11, 12}) {
		t.Errorf("output_sequence/3.npy: %v, %v; want [10 11 12]", last, err)
	}
	status, _, stderr = runCLI(filepath.Join(insert, "model.onnx"), filepath.Join(data, "input_0.pb"), filepath.Join(data, "input_1.pb"), "-o", filepath.Join(t.TempDir(), "seq.npy"))
	if status != exitUsage {
		t.Errorf("-o FILE.npy for a sequence: status %d, want %d", status, exitUsage)
	}
	oneErrorLine(t, stderr, `output "output_sequence" is a seq(tensor(int64)), which takes several files: give a directory or an .npz archive`)

	hasElement := testenv.Shared(t, "onnx-node-tests", "test_optional_has_element_empty_optional_input")
	model := filepath.Join(hasElement, "model.onnx")
	status, stdout, stderr = runCLI(model, filepath.Join(hasElement, "test_data_set_0", "input_0.pb"))
	if status != exitOK || !strings.Contains(stdout, "output \"output\": bool[]\nFalse\n") {
		t.Errorf("an empty OptionalProto: status %d, stderr %q, stdout:\n%s", status, stderr, stdout)
	}
	present := writeNPY(t, filepath.Join(t.TempDir(), "present.npy"), ops.FromSlice(ops.Shape{2}, []int32{1, 2}))
	status, stdout, stderr = runCLI(model, present)
	if status != exitOK || !strings.Contains(stdout, "output \"output\": bool[]\nTrue\n") {
		t.Errorf("a tensor file for an optional: status %d, stderr %q, stdout:\n%s", status, stderr, stdout)
	}
}

func TestSequenceInputErrors(t *testing.T) {
	dir := t.TempDir()
	model := sequenceModel(t, dir)
	x := writeNPY(t, filepath.Join(dir, "x.npy"), ops.FromSlice(ops.Shape{3}, []float32{7, 8, 9}))
	one := ops.FromSlice(ops.Shape{1}, []float32{3})
	gap := writeSequenceDir(t, filepath.Join(dir, "gap"), one)
	writeNPY(t, filepath.Join(gap, "2.npy"), one)
	wrongDType := writeSequenceDir(t, filepath.Join(dir, "f64"), one, ops.FromSlice(ops.Shape{2}, []float64{1, 2}))
	stray := writeSequenceDir(t, filepath.Join(dir, "stray"), one)
	if err := os.WriteFile(filepath.Join(stray, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"a tensor file for a sequence", []string{model, x, "items=" + x},
			[]string{`input "items": expected seq(tensor(float32)), got a float32[3] tensor from ` + x, "give a sequence as a folder of 0.npy, 1.npy, ..., as the arrays items_0, items_1, ..."}},
		{"a gap", []string{model, x, gap}, []string{`input "items": ` + gap + " holds 2 elements but no element 1"}},
		{"an element of another dtype", []string{model, x, wrongDType},
			[]string{`input "items": the element ` + filepath.Join(wrongDType, "1.npy") + " is float64[2], the sequence holds tensor(float32)"}},
		{"a stray file", []string{model, x, stray}, []string{`input "items": ` + stray + " holds notes.txt", "files 0.npy, 1.npy, ..."}},
		{"random", []string{model, x, "--random"}, []string{`input "items" is a seq(tensor(float32)): --random makes tensors only`}},
		{"a folder for a tensor", []string{model, gap, x}, []string{`input "x" is a float32[3] tensor, but ` + gap + " is a folder (the form of a sequence)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, stderr := runCLI(tc.args...)
			if status != exitError {
				t.Fatalf("status %d, want %d: %s", status, exitError, stderr)
			}
			oneErrorLine(t, stderr, tc.want...)
		})
	}
}

// TestDumpIntermediateSequences: --dump-intermediate writes a sequence as NAME/0.npy, ... listed one line
// per element, and lists an empty optional with no file.
func TestDumpIntermediateSequences(t *testing.T) {
	dir := t.TempDir()
	model := sequenceModel(t, dir)
	x := writeNPY(t, filepath.Join(dir, "x.npy"), ops.FromSlice(ops.Shape{3}, []float32{7, 8, 9}))
	items := writeSequenceDir(t, filepath.Join(dir, "items"), ops.FromSlice(ops.Shape{2}, []float32{1, 2}))
	dump := filepath.Join(dir, "dump")
	status, _, stderr := runCLI("run", "--dump-intermediate", dump, model, x, items)
	if status != exitOK || !strings.HasPrefix(stderr, "wrote 4 node outputs to "+dump) {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	index, err := os.ReadFile(filepath.Join(dump, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"longer/0.npy\tlonger[0]\tfloat32\t[2]\n", "longer/1.npy\tlonger[1]\tfloat32\t[3]\n",
		"some.npy\tsome\tfloat32\t[3]\n", "-\tnothing\toptional(tensor(float32))\tnone\n",
	} {
		if !strings.Contains(string(index), want) {
			t.Errorf("index.tsv lacks %q:\n%s", want, index)
		}
	}
	if got := readFloats(t, filepath.Join(dump, "longer", "1.npy")); !reflect.DeepEqual(got, []float32{7, 8, 9}) {
		t.Errorf("longer/1.npy holds %v, want x", got)
	}
}
