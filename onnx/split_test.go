package onnx

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// splitDecode is Load's streaming path on b: the model it gives, or errNotSplit.
func splitDecode(b []byte) (*onnxpb.ModelProto, error) {
	stripped, raws, err := splitModel(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	return DecodeOptions{}.unmarshalSplit(stripped, raws)
}

// checkSplitMatches requires the streaming path to give what protobuf-go gives for the whole of b, or to
// give up (errNotSplit) only where protobuf-go fails too or where wantSplit is false.
func checkSplitMatches(t *testing.T, name string, b []byte, wantSplit bool) {
	t.Helper()
	got, err := splitDecode(b)
	whole, wholeErr := DecodeOptions{}.unmarshal(b)
	switch {
	case err != nil && !errors.Is(err, errNotSplit):
		t.Errorf("%s: split failed with %v, want errNotSplit or success", name, err)
	case err != nil && wantSplit && wholeErr == nil:
		t.Errorf("%s: the split gave up on a file protobuf-go decodes", name)
	case err == nil && wholeErr != nil:
		t.Errorf("%s: the split accepted a file protobuf-go rejects (%v)", name, wholeErr)
	case err == nil && !proto.Equal(got, whole):
		t.Errorf("%s: the split decoded a different model from protobuf-go", name)
	}
	// The split over a mapped file (here heap bytes: the walk is the same) decodes the same, or gives up
	// on the same files.
	stripped, raws, mappedErr := splitMapped(b)
	if mappedErr == nil {
		var mapped *onnxpb.ModelProto
		if mapped, mappedErr = (DecodeOptions{}).unmarshalSplit(stripped, raws); mappedErr == nil && !proto.Equal(mapped, got) {
			t.Errorf("%s: the split over mapped bytes decoded a different model from the streaming one", name)
		}
	}
	if (mappedErr == nil) != (err == nil) {
		t.Errorf("%s: the split over mapped bytes gave %v, the streaming one %v", name, mappedErr, err)
	}
}

// TestSplitModelMatchesProtobuf compares the streaming decode with protobuf-go's on every node-test and
// reference model: equal messages, and no model left to the fallback.
func TestSplitModelMatchesProtobuf(t *testing.T) {
	paths := corpusModels(t)
	more, _ := filepath.Glob(filepath.Join(sharedDir(t), "models", "*", "*.onnx"))
	for _, path := range append(paths, more...) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkSplitMatches(t, path, b, true)
	}
	t.Logf("%d models", len(paths)+len(more))
}

// TestSplitModelHostile feeds the streaming decode files it must either decode as protobuf-go does or hand
// back to it: wire types and lengths that do not fit, truncation, and the protobuf corners (repeated
// message fields merge, a repeated bytes field keeps its last value, unknown fields are kept).
func TestSplitModelHostile(t *testing.T) {
	w := &onnxpb.TensorProto{Name: proto.String("W"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{2}, RawData: make([]byte, 8)}
	valid := marshal(t, testModel(w))
	tensor := func(fields ...[]byte) []byte { return bytes.Join(fields, nil) }
	field := func(num protowire.Number, body []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), body)
	}
	modelWith := func(initializers ...[]byte) []byte {
		g := field(1, marshal(t, &onnxpb.NodeProto{OpType: proto.String("Identity"), Input: []string{"W"}, Output: []string{"y"}}))
		for _, init := range initializers {
			g = append(g, field(graphInitializerField, init)...)
		}
		m := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 8) // ir_version
		m = append(m, field(8, marshal(t, &onnxpb.OperatorSetIdProto{Version: proto.Int64(13)}))...)
		return append(m, field(modelGraphField, g)...)
	}
	name := field(8, []byte("W"))
	dims := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 2)
	dtype := protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 1)
	raw := field(tensorRawDataField, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	cases := []struct {
		name      string
		b         []byte
		wantSplit bool
	}{
		{"valid", valid, true},
		{"empty file", nil, true},
		{"raw_data twice: the last wins", modelWith(tensor(name, field(tensorRawDataField, []byte{9}), dims, dtype, raw)), true},
		{"empty raw_data", modelWith(tensor(name, field(tensorRawDataField, nil))), true},
		{"no raw_data", modelWith(tensor(name, dims, dtype)), true},
		{"unknown field in a tensor", modelWith(tensor(name, field(999, []byte("x")), dims, dtype, raw)), true},
		{"two graph fields merge", append(modelWith(tensor(name, raw)), field(modelGraphField, field(graphInitializerField, tensor(field(8, []byte("V")), raw)))...), true},
		{"padded varint length (re-encoding would change unknown fields: left to protobuf-go)", append(append(protowire.AppendTag(nil, 3, protowire.BytesType), 0x83, 0x80, 0x00), "abc"...), false},
		{"raw_data as a varint", modelWith(tensor(name, protowire.AppendVarint(protowire.AppendTag(nil, tensorRawDataField, protowire.VarintType), 5))), false},
		{"graph as a fixed32", append(protowire.AppendTag(nil, modelGraphField, protowire.Fixed32Type), 1, 2, 3, 4), false},
		{"a group", modelWith(tensor(name, protowire.AppendTag(nil, 20, protowire.StartGroupType), protowire.AppendTag(nil, 20, protowire.EndGroupType))), false},
		{"truncated", valid[:len(valid)-3], false},
		{"raw_data longer than its tensor", modelWith(append(tensor(name), append(protowire.AppendTag(nil, tensorRawDataField, protowire.BytesType), 100)...)), false},
		{"length past the file", append(protowire.AppendTag(nil, modelGraphField, protowire.BytesType), 0xff, 0xff, 0xff, 0xff, 0x0f), false},
		{"varint overflow", append(protowire.AppendTag(nil, 1, protowire.VarintType), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), false},
		{"field number 0", []byte{0x02, 0x00}, false},
	}
	for _, c := range cases {
		checkSplitMatches(t, c.name, c.b, c.wantSplit)
	}
	// The merged graph fields keep both initializers, each with its own raw_data.
	m, err := splitDecode(cases[6].b)
	if err != nil || len(m.GetGraph().GetInitializer()) != 2 || m.Graph.Initializer[1].GetName() != "V" || len(m.Graph.Initializer[1].RawData) != 8 {
		t.Errorf("two graph fields: got %v, %v; want initializers W and V with 8 bytes each", m, err)
	}
}

// TestLoadMatchesDecode checks Load (streaming) against Decode of the same bytes, errors included, on
// valid and broken files.
func TestLoadMatchesDecode(t *testing.T) {
	w := &onnxpb.TensorProto{Name: proto.String("W"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{2}, RawData: make([]byte, 8)}
	valid := marshal(t, testModel(w))
	short := &onnxpb.TensorProto{Name: proto.String("W"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{3}, RawData: make([]byte, 8)}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"valid": valid, "raw_data too short": marshal(t, testModel(short)), "truncated": valid[:len(valid)-3], "garbage": []byte("not a model")} {
		path := filepath.Join(dir, "model.onnx")
		writeFile(t, path, b)
		for _, mapped := range []bool{false, true} {
			name := fmt.Sprintf("%s (Mmap %v)", name, mapped)
			got, err := DecodeOptions{Mmap: mapped}.Load(path)
			want, wantErr := DecodeOptions{Dir: dir}.Decode(b)
			checkLoadMatchesDecode(t, name, path, got, err, want, wantErr)
			if got != nil {
				got.Close()
			}
		}
	}
}

func checkLoadMatchesDecode(t *testing.T, name, path string, got *Model, err error, want *Model, wantErr error) {
	t.Helper()
	switch {
	case (err == nil) != (wantErr == nil):
		t.Errorf("%s: Load gave %v, Decode %v", name, err, wantErr)
	case err != nil && err.Error() != path+": "+wantErr.Error():
		t.Errorf("%s: Load's error is %q, want Decode's %q after the path", name, err, wantErr)
	case err == nil && !proto.Equal(got.Proto, want.Proto):
		t.Errorf("%s: Load and Decode differ", name)
	}
}

// TestLoadReadsWeightsOnce: loading a model with a 16 MiB initializer allocates about 16 MiB, where
// reading the file and letting protobuf-go copy its raw_data allocated twice that.
func TestLoadReadsWeightsOnce(t *testing.T) {
	const size = 16 << 20
	w := &onnxpb.TensorProto{Name: proto.String("W"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{size / 4}, RawData: make([]byte, size)}
	path := filepath.Join(t.TempDir(), "big.onnx")
	writeFile(t, path, marshal(t, testModel(w)))
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	m, err := Load(path)
	goruntime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(m.Proto.Graph.Initializer[0].RawData); got != size {
		t.Fatalf("raw_data has %d bytes, want %d", got, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size*5/4 {
		t.Errorf("Load allocated %d bytes for a %d-byte weight, want at most 1.25 times", alloc, size)
	}
}
