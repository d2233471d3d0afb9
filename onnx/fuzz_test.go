package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// fuzzSeedCases are node tests whose models cover initializers-free graphs, constants, subgraphs,
// sequences and strings.
var fuzzSeedCases = []string{
	"test_abs", "test_constant", "test_if", "test_loop11", "test_conv_with_strides_padding",
	"test_sequence_insert_at_back", "test_strnormalizer_export_monday_casesensintive_lower",
	"test_cast_FLOAT_to_FLOAT8E4M3FN",
}

// FuzzDecode feeds arbitrary bytes to Decode. Decode must never panic and must fail only with a
// FormatError or UnsupportedError; a model it accepts must re-encode and decode to an equal message, and
// reading its tensors must not panic either. Seeds come from node-test models (when ../shared exists) and
// small hand-built models.
func FuzzDecode(f *testing.F) {
	addModelSeeds(f)
	opts := DecodeOptions{Limits: Limits{MaxTensorBytes: 1 << 20}}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := opts.Decode(b)
		if err != nil {
			requireTyped(t, err)
			return
		}
		out, err := m.Encode()
		if err != nil {
			t.Fatalf("Encode of a decoded model: %v", err)
		}
		again, err := opts.Decode(out)
		if err != nil {
			t.Fatalf("decode of re-encoded model: %v", err)
		}
		if !proto.Equal(m.Proto, again.Proto) {
			t.Fatal("decode → encode → decode changed the model")
		}
		for _, tp := range corpusTensors(m.Proto.GetGraph()) {
			if _, err := m.TensorArray(tp); err != nil {
				requireTyped(t, err)
			}
		}
	})
}

// addModelSeeds seeds f with the hand-built models and the node-test models of fuzzSeedCases.
func addModelSeeds(f *testing.F) {
	for _, seed := range handSeeds(f) {
		f.Add(seed)
	}
	if shared, ok := testenv.SharedDir(); ok {
		for _, name := range fuzzSeedCases {
			if b, err := os.ReadFile(filepath.Join(shared, "onnx-node-tests", name, "model.onnx")); err == nil {
				f.Add(b)
			}
		}
	}
}

func requireTyped(t *testing.T, err error) {
	t.Helper()
	var f *FormatError
	var u *UnsupportedError
	if !errors.As(err, &f) && !errors.As(err, &u) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

// handSeeds are small valid models with tensors of several layouts.
func handSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, a := range []*Array{
		{onnxpb.TensorProto_FLOAT, []int64{2, 2}, []float32{1, 2, 3, 4}},
		{onnxpb.TensorProto_INT64, []int64{}, []int64{7}},
		{onnxpb.TensorProto_STRING, []int64{2}, []string{"a", "bc"}},
		{onnxpb.TensorProto_BOOL, []int64{3}, []bool{true, false, true}},
	} {
		tp, err := NewTensorProto("W", a)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, marshal(tb, testModel(tp)))
	}
	typed := &onnxpb.TensorProto{Name: proto.String("q"), DataType: proto.Int32(int32(onnxpb.TensorProto_INT8)), Dims: []int64{3}, Int32Data: []int32{-1, 0, 1}}
	seeds = append(seeds, marshal(tb, testModel(typed)))
	return seeds
}

// FuzzSplitModel feeds arbitrary bytes to Load's streaming decode (splitModel): it must never panic, fail
// only with errNotSplit (Load then decodes the whole file), and decode what it accepts exactly as
// protobuf-go decodes the whole file. Seeds are FuzzDecode's.
func FuzzSplitModel(f *testing.F) {
	addModelSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSplitMatches(t, "input", b, false)
	})
}
