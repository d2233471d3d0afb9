package onnxpb

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/onnxrun/onnxrun/internal/testenv"
)

// extraFields are fields our schema has and ../shared/onnx-spec/onnx.proto does not: they come from the
// ONNX-ML variant of the schema.
var extraFields = map[string]bool{"TypeProto.opaque_type": true}

// TestWireCompatibleWithSpec compiles the specification's onnx.proto with protoc and checks that every
// message, field and enum value it defines exists in our schema with the same number, wire type, label,
// packing and oneof membership, so that our encoding of any ONNX message is ONNX's.
func TestWireCompatibleWithSpec(t *testing.T) {
	specDir := filepath.Dir(testenv.Shared(t, "onnx-spec", "onnx.proto"))
	protoc := testenv.RequireTool(t, "protoc", "apt-get install protobuf-compiler")
	out := filepath.Join(t.TempDir(), "spec.pb")
	cmd := exec.Command(protoc, "--proto_path="+specDir, "--descriptor_set_out="+out, "onnx.proto")
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
	spec := set.GetFile()[0]
	ours := protodesc.ToFileDescriptorProto(File_onnx_onnxpb_onnx_proto)

	oursMsgs := map[string]*descriptorpb.DescriptorProto{}
	oursEnums := map[string]*descriptorpb.EnumDescriptorProto{}
	index("", ours.GetMessageType(), ours.GetEnumType(), oursMsgs, oursEnums)
	specMsgs := map[string]*descriptorpb.DescriptorProto{}
	specEnums := map[string]*descriptorpb.EnumDescriptorProto{}
	index("", spec.GetMessageType(), spec.GetEnumType(), specMsgs, specEnums)

	typeName := func(pkg, name string) string { return strings.TrimPrefix(name, "."+pkg+".") }
	for name, sm := range specMsgs {
		om := oursMsgs[name]
		if om == nil {
			t.Errorf("message %s missing", name)
			continue
		}
		ofields := map[int32]*descriptorpb.FieldDescriptorProto{}
		for _, f := range om.GetField() {
			ofields[f.GetNumber()] = f
		}
		for _, sf := range sm.GetField() {
			of := ofields[sf.GetNumber()]
			where := name + "." + sf.GetName()
			switch {
			case of == nil:
				t.Errorf("%s (%d) missing", where, sf.GetNumber())
				continue
			case of.GetName() != sf.GetName():
				t.Errorf("%s: field %d is named %s", where, sf.GetNumber(), of.GetName())
			case of.GetType() != sf.GetType() || of.GetLabel() != sf.GetLabel():
				t.Errorf("%s: %v %v, spec %v %v", where, of.GetLabel(), of.GetType(), sf.GetLabel(), sf.GetType())
			case typeName(ours.GetPackage(), of.GetTypeName()) != typeName(spec.GetPackage(), sf.GetTypeName()):
				t.Errorf("%s: type %s, spec %s", where, of.GetTypeName(), sf.GetTypeName())
			case of.GetOptions().GetPacked() != sf.GetOptions().GetPacked():
				t.Errorf("%s: packed %v, spec %v", where, of.GetOptions().GetPacked(), sf.GetOptions().GetPacked())
			case oneofName(om, of) != oneofName(sm, sf):
				t.Errorf("%s: oneof %q, spec %q", where, oneofName(om, of), oneofName(sm, sf))
			}
			delete(ofields, sf.GetNumber())
		}
		for _, of := range ofields {
			if !extraFields[name+"."+of.GetName()] {
				t.Errorf("%s.%s (%d) is not in the spec", name, of.GetName(), of.GetNumber())
			}
			for _, r := range sm.GetReservedRange() {
				if of.GetNumber() >= r.GetStart() && of.GetNumber() < r.GetEnd() {
					t.Errorf("%s.%s uses number %d, which the spec reserves", name, of.GetName(), of.GetNumber())
				}
			}
		}
	}
	for name, se := range specEnums {
		oe := oursEnums[name]
		if oe == nil {
			t.Errorf("enum %s missing", name)
			continue
		}
		values := map[string]int32{}
		for _, v := range oe.GetValue() {
			values[v.GetName()] = v.GetNumber()
		}
		for _, v := range se.GetValue() {
			if got, ok := values[v.GetName()]; !ok || got != v.GetNumber() {
				t.Errorf("enum %s.%s = %d, spec %d", name, v.GetName(), got, v.GetNumber())
			}
		}
		if len(values) != len(se.GetValue()) {
			t.Errorf("enum %s has %d values, spec %d", name, len(values), len(se.GetValue()))
		}
	}
	t.Logf("%d messages and %d enums of the spec checked", len(specMsgs), len(specEnums))
}

func index(prefix string, msgs []*descriptorpb.DescriptorProto, enums []*descriptorpb.EnumDescriptorProto,
	outMsgs map[string]*descriptorpb.DescriptorProto, outEnums map[string]*descriptorpb.EnumDescriptorProto) {
	for _, e := range enums {
		outEnums[prefix+e.GetName()] = e
	}
	for _, m := range msgs {
		outMsgs[prefix+m.GetName()] = m
		index(prefix+m.GetName()+".", m.GetNestedType(), m.GetEnumType(), outMsgs, outEnums)
	}
}

// oneofName is the name of the real oneof f belongs to, or "".
func oneofName(m *descriptorpb.DescriptorProto, f *descriptorpb.FieldDescriptorProto) string {
	if f.OneofIndex == nil || f.GetProto3Optional() {
		return ""
	}
	return m.GetOneofDecl()[f.GetOneofIndex()].GetName()
}
