package onnx

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// sharedDir returns the reference material folder ../shared next to the repository root, or skips the test.
func sharedDir(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping tests that read ../shared")
	}
	return testenv.Shared(t)
}

// corpusModels lists every model.onnx of the node tests and the reference models.
func corpusModels(t testing.TB) []string {
	shared := sharedDir(t)
	var paths []string
	for _, pattern := range []string{"onnx-node-tests/*/model.onnx", "models/*/model.onnx"} {
		m, err := filepath.Glob(filepath.Join(shared, pattern))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		t.Fatalf("no model.onnx under %s/onnx-node-tests or %s/models", shared, shared)
	}
	return paths
}

// unknownFields returns the path of the first message in m that holds fields our schema does not
// declare, or "" if there is none. Unknown fields would still round-trip, but they mean the schema
// misses something ONNX writes.
func unknownFields(m protoreflect.Message, path string) string {
	if len(m.GetUnknown()) > 0 {
		return path
	}
	found := ""
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		switch {
		case fd.IsList():
			for i := 0; i < v.List().Len() && found == ""; i++ {
				found = unknownFields(v.List().Get(i).Message(), path+"."+string(fd.Name()))
			}
		case fd.IsMap():
		default:
			found = unknownFields(v.Message(), path+"."+string(fd.Name()))
		}
		return found == ""
	})
	return found
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// testModel is a minimal valid model (IR 8, opset 13) whose graph returns its first initializer.
func testModel(inits ...*onnxpb.TensorProto) *onnxpb.ModelProto {
	g := &onnxpb.GraphProto{Name: proto.String("g"), Initializer: inits}
	if len(inits) > 0 {
		g.Node = []*onnxpb.NodeProto{{OpType: proto.String("Identity"), Input: []string{inits[0].GetName()}, Output: []string{"y"}}}
		g.Output = []*onnxpb.ValueInfoProto{{Name: proto.String("y")}}
	}
	return &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}},
		Graph:       g,
	}
}

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
