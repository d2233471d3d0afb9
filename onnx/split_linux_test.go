package onnx

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// TestLoadFromPipe: a file that is not regular (a named pipe) is read once, through the handle Load
// opened, and decoded whole.
func TestLoadFromPipe(t *testing.T) {
	w := &onnxpb.TensorProto{Name: proto.String("W"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{2}, RawData: make([]byte, 8)}
	b := marshal(t, testModel(w))
	path := filepath.Join(t.TempDir(), "pipe.onnx")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err) // every Linux has named pipes
	}
	go func() {
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			f.Write(b)
			f.Close()
		}
	}()
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Proto.GetGraph().GetInitializer(); len(got) != 1 || len(got[0].RawData) != 8 {
		t.Errorf("decoded initializers %v, want W with 8 bytes", got)
	}
}
