package serverproc

import (
	"context"
	"os"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/serve"
	"github.com/onnxrun/onnxrun/serve/internal/loadgen"
)

// TestMain lets the test binary serve as the child process Start starts.
func TestMain(m *testing.M) { RunTests(m) }

const lenet = "../../../models/lenet/lenet.onnx"

func TestChildServesAndStops(t *testing.T) {
	p, err := Start(Spec{Models: []Model{{Name: "lenet", Path: lenet}}, GRPC: true, QueueSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	if p.PID() == os.Getpid() {
		t.Fatal("the server runs in this process")
	}
	meta, err := (&serve.Client{BaseURL: "http://" + p.HTTPAddr}).ModelMetadata(context.Background(), "lenet")
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Inputs) != 1 || p.GRPCAddr == "" || p.QueueSizes["lenet"] != 7 {
		t.Errorf("metadata %+v, gRPC address %q, queue sizes %v; want one input, an address, lenet's queue of 7", meta, p.GRPCAddr, p.QueueSizes)
	}
	if goruntime.GOOS == "linux" {
		if m, ok := loadgen.ReadProcessMemory(p.PID()); !ok || m.RSS <= 0 || m.HWM < m.RSS {
			t.Errorf("the child's memory: %+v, %v", m, ok)
		}
		if _, ok := loadgen.ReadProcessCPU(p.PID()); !ok {
			t.Error("the child's CPU time is unreadable")
		}
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, ok := loadgen.ReadProcessMemory(p.PID()); ok {
		t.Error("the child's /proc entry is still there after Stop")
	}
}

func TestChildThatCannotLoadIsReported(t *testing.T) {
	_, err := Start(Spec{Models: []Model{{Name: "gone", Path: "no-such-model.onnx"}}})
	if err == nil || !strings.Contains(err.Error(), "no-such-model.onnx") {
		t.Fatalf("error %v, want one naming the missing file", err)
	}
}
