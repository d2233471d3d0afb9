package grpcpb

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

// TestSameWireAsSpec compiles the protocol's grpc_predict_v2.proto (../shared/oip-spec) with protoc and
// checks that our schema has exactly its package, service methods and messages, each field with the same
// name, number, kind, cardinality and oneof, so that every v2 client and server interoperates with ours.
func TestSameWireAsSpec(t *testing.T) {
	specFile := testenv.Shared(t, "oip-spec", "grpc_predict_v2.proto")
	protoc := testenv.RequireTool(t, "protoc", "apt-get install protobuf-compiler")
	out := filepath.Join(t.TempDir(), "spec.pb")
	cmd := exec.Command(protoc, "--proto_path="+filepath.Dir(specFile), "--descriptor_set_out="+out, filepath.Base(specFile))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("protoc: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(b, set); err != nil {
		t.Fatal(err)
	}
	spec, err := protodesc.NewFile(set.GetFile()[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	want, got := wireSignature(spec), wireSignature(File_serve_grpcpb_grpc_predict_v2_proto)
	for line := range want {
		if !got[line] {
			t.Errorf("ours lacks the spec's %s", line)
		}
	}
	for line := range got {
		if !want[line] {
			t.Errorf("ours has %s, which the spec does not", line)
		}
	}
	t.Logf("%d lines of the spec's wire format checked", len(want))
}

// wireSignature lists one line per service method and message field: everything that decides the bytes
// on the wire and the gRPC method paths, and nothing (comments, options) that does not.
func wireSignature(fd protoreflect.FileDescriptor) map[string]bool {
	lines := map[string]bool{}
	services := fd.Services()
	for i := range services.Len() {
		methods := services.Get(i).Methods()
		for j := range methods.Len() {
			m := methods.Get(j)
			lines[fmt.Sprintf("rpc %s(%s) returns (%s)", m.FullName(), m.Input().FullName(), m.Output().FullName())] = true
		}
	}
	var walk func(protoreflect.MessageDescriptors)
	walk = func(msgs protoreflect.MessageDescriptors) {
		for i := range msgs.Len() {
			m := msgs.Get(i)
			fields := m.Fields()
			for j := range fields.Len() {
				f := fields.Get(j)
				typ := f.Kind().String()
				if f.Message() != nil {
					typ = string(f.Message().FullName())
				}
				oneof := ""
				if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
					oneof = " oneof " + string(o.Name())
				}
				lines[fmt.Sprintf("field %s = %d: %s %s packed=%v%s", f.FullName(), f.Number(), f.Cardinality(), typ, f.IsPacked(), oneof)] = true
			}
			walk(m.Messages())
		}
	}
	walk(fd.Messages())
	return lines
}
