package onnx

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// externalTensor is a FLOAT tensor of dims [3] whose data is described by the given external_data pairs.
func externalTensor(kv ...string) *onnxpb.TensorProto {
	tp := &onnxpb.TensorProto{
		Name:         proto.String("W"),
		DataType:     proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
		Dims:         []int64{3},
		DataLocation: onnxpb.TensorProto_EXTERNAL.Enum(),
	}
	for i := 0; i+1 < len(kv); i += 2 {
		tp.ExternalData = append(tp.ExternalData, &onnxpb.StringStringEntryProto{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return tp
}

// externalFixture lays out, in a fresh temporary folder:
//
//	model/            the model's folder
//	model/w.bin       8 junk bytes, the 12 bytes of {1, 2, 3} as float32, 4 trailing bytes
//	model/sub/w.bin   the 12 bytes alone
//	outside/secret.bin  12 bytes outside the model's folder
//
// and returns the root and the model folder.
func externalFixture(t *testing.T) (root, modelDir string) {
	t.Helper()
	root = t.TempDir()
	modelDir = filepath.Join(root, "model")
	for _, d := range []string{modelDir, filepath.Join(modelDir, "sub"), filepath.Join(root, "outside")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	values := leBytes(t, []float32{1, 2, 3})
	junk := []byte("JUNKJUNK")
	writeFile(t, filepath.Join(modelDir, "w.bin"), append(append(append([]byte{}, junk...), values...), "TAIL"...))
	writeFile(t, filepath.Join(modelDir, "sub", "w.bin"), values)
	writeFile(t, filepath.Join(root, "outside", "secret.bin"), leBytes(t, []float32{6, 6, 6}))
	return root, modelDir
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks not available: %v", err)
	}
}

// loadAndRead saves a model holding tp in dir, loads it back and reads the tensor; the error comes from
// whichever step fails (structural problems at Load, file problems at TensorArray).
func loadAndRead(t *testing.T, dir string, tp *onnxpb.TensorProto) (*Array, error) {
	t.Helper()
	path := filepath.Join(dir, "model.onnx")
	writeFile(t, path, marshal(t, testModel(tp)))
	m, err := Load(path)
	if err != nil {
		return nil, err
	}
	return m.TensorArray(m.Proto.GetGraph().GetInitializer()[0])
}

func TestExternalDataGood(t *testing.T) {
	want := []float32{1, 2, 3}
	tests := []struct {
		name  string
		setup func(t *testing.T, root, modelDir string) (dir string)
		tp    *onnxpb.TensorProto
	}{
		{"offset and length", nil, externalTensor("location", "w.bin", "offset", "8", "length", "12")},
		{"offset, no length", nil, externalTensor("location", "w.bin", "offset", "8")},
		{"whole file", nil, externalTensor("location", "sub/w.bin")},
		{"checksum and unknown keys ignored", nil, externalTensor("location", "sub/w.bin", "checksum", "abc", "basepath", "/elsewhere", "x-vendor", "1")},
		{"dot components", nil, externalTensor("location", "./sub/./w.bin")},
		{"symlink inside the folder", func(t *testing.T, root, modelDir string) string {
			symlink(t, filepath.Join(modelDir, "sub", "w.bin"), filepath.Join(modelDir, "link.bin"))
			return modelDir
		}, externalTensor("location", "link.bin")},
		{"model folder reached through a symlink", func(t *testing.T, root, modelDir string) string {
			symlink(t, modelDir, filepath.Join(root, "alias"))
			return filepath.Join(root, "alias")
		}, externalTensor("location", "sub/w.bin")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, dir := externalFixture(t)
			if tt.setup != nil {
				dir = tt.setup(t, root, dir)
			}
			a, err := loadAndRead(t, dir, tt.tp)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a.Data, want) || !reflect.DeepEqual(a.Dims, []int64{3}) {
				t.Errorf("got %v dims %v, want %v", a.Data, a.Dims, want)
			}
		})
	}
}

func TestExternalDataRejected(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(t *testing.T, root, modelDir string)
		tp          *onnxpb.TensorProto
		unsupported bool
		msg         string
	}{
		{"absolute", nil, externalTensor("location", "/etc/passwd"), false, `location "/etc/passwd" is absolute`},
		{"absolute to the fixture", nil, nil, false, "is absolute"}, // tp filled in below with the real path
		{"dot-dot", nil, externalTensor("location", "../outside/secret.bin"), false, `location "../outside/secret.bin" contains ".."`},
		{"dot-dot inside", nil, externalTensor("location", "sub/../../outside/secret.bin"), false, `contains ".."`},
		{"dot-dot with backslashes", nil, externalTensor("location", `sub\..\..\outside\secret.bin`), false, `contains ".."`},
		{"symlink escape", func(t *testing.T, root, modelDir string) {
			symlink(t, filepath.Join(root, "outside", "secret.bin"), filepath.Join(modelDir, "evil.bin"))
		}, externalTensor("location", "evil.bin"), false, "outside the model folder"},
		{"relative symlink escape", func(t *testing.T, root, modelDir string) {
			symlink(t, "../outside/secret.bin", filepath.Join(modelDir, "evil.bin"))
		}, externalTensor("location", "evil.bin"), false, "outside the model folder"},
		{"parent folder symlink escape", func(t *testing.T, root, modelDir string) {
			symlink(t, filepath.Join(root, "outside"), filepath.Join(modelDir, "d"))
		}, externalTensor("location", "d/secret.bin"), false, "outside the model folder"},
		{"offset past EOF", nil, externalTensor("location", "w.bin", "offset", "100"), false,
			`external data offset 100 + the 12 bytes the dims need is past the end of "w.bin" (24 bytes)`},
		{"offset+length past EOF", nil, externalTensor("location", "sub/w.bin", "offset", "4", "length", "12"), false,
			`external data offset 4 + length 12 is past the end of "sub/w.bin" (12 bytes)`},
		{"no length, too short after offset", nil, externalTensor("location", "sub/w.bin", "offset", "1"), false, "is past the end"},
		{"length does not match dims", nil, externalTensor("location", "w.bin", "length", "8"), false,
			`tensor "W": dims [3] need 12 bytes, external_data length is 8`},
		{"negative offset", nil, externalTensor("location", "w.bin", "offset", "-1"), false, `external_data offset "-1" is not a non-negative integer`},
		{"bad length", nil, externalTensor("location", "w.bin", "length", "12abc"), false, `external_data length "12abc" is not a non-negative integer`},
		{"huge length", nil, externalTensor("location", "w.bin", "length", "99999999999999999999"), false, "is not a non-negative integer"},
		{"no location", nil, externalTensor("offset", "0"), false, "external_data has no location"},
		{"duplicate key", nil, externalTensor("location", "w.bin", "location", "sub/w.bin"), false, `external_data key "location" given twice`},
		{"missing file", nil, externalTensor("location", "nope.bin"), false, `external data "nope.bin"`},
		{"directory", nil, externalTensor("location", "sub"), false, `external data "sub" is not a regular file`},
		{"no external_data entries", nil, externalTensor(), false, "external_data has no location"},
		{"string tensor", nil, func() *onnxpb.TensorProto {
			tp := externalTensor("location", "w.bin")
			tp.DataType = proto.Int32(int32(onnxpb.TensorProto_STRING))
			return tp
		}(), false, "STRING tensors cannot use external data"},
		{"over the limit", nil, func() *onnxpb.TensorProto {
			tp := externalTensor("location", "w.bin")
			tp.Dims = []int64{1 << 40}
			return tp
		}(), true, "over the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, dir := externalFixture(t)
			if tt.setup != nil {
				tt.setup(t, root, dir)
			}
			tp := tt.tp
			if tp == nil {
				tp = externalTensor("location", filepath.Join(root, "outside", "secret.bin"))
			}
			a, err := loadAndRead(t, dir, tp)
			if err == nil {
				t.Fatalf("read %v, want an error containing %q", a.Data, tt.msg)
			}
			checkErr(t, err, tt.unsupported, tt.msg)
			// A server passes these messages to clients: a link's target must not show.
			if strings.Contains(tt.msg, "outside the model folder") && strings.Contains(err.Error(), filepath.Join(root, "outside")) {
				t.Errorf("the error names where the link leads: %v", err)
			}
		})
	}
}

func TestExternalDataMissingFileWrapsNotExist(t *testing.T) {
	_, dir := externalFixture(t)
	_, err := loadAndRead(t, dir, externalTensor("location", "nope.bin"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestExternalDataNeedsDir(t *testing.T) {
	_, dir := externalFixture(t)
	b := marshal(t, testModel(externalTensor("location", "sub/w.bin")))

	_, err := Decode(b)
	checkErr(t, err, true, `external data (location "sub/w.bin") needs the model's folder`)

	m, err := DecodeOptions{Dir: dir}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.TensorArray(m.Proto.GetGraph().GetInitializer()[0])
	if err != nil || !reflect.DeepEqual(a.Data, []float32{1, 2, 3}) {
		t.Errorf("with Dir: %v, %v", a, err)
	}

	// A Model built by hand without Dir fails at read time with the same explanation.
	m.Dir = ""
	_, err = m.TensorArray(m.Proto.GetGraph().GetInitializer()[0])
	checkErr(t, err, true, "needs the model's folder")
}

// TestExternalDataInSubgraph checks that Decode's walk reaches tensors nested in attributes and subgraphs.
func TestExternalDataInSubgraph(t *testing.T) {
	mp := testModel()
	mp.Graph.Node = []*onnxpb.NodeProto{{
		OpType: proto.String("If"),
		Attribute: []*onnxpb.AttributeProto{{
			Name: proto.String("then_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(),
			G: &onnxpb.GraphProto{Name: proto.String("then"), Node: []*onnxpb.NodeProto{{
				OpType: proto.String("Constant"),
				Attribute: []*onnxpb.AttributeProto{{
					Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: externalTensor("location", "w.bin"),
				}},
			}}},
		}},
	}}
	_, err := Decode(marshal(t, mp))
	checkErr(t, err, true, "needs the model's folder")
	if err != nil && !strings.Contains(err.Error(), `graph "g", node "#0" (If), attribute "then_branch", graph "then", node "#0" (Constant), attribute "value", tensor "W"`) {
		t.Errorf("error %q does not locate the tensor", err)
	}
}
