package onnx

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// TestCorpusRoundTrip decodes every model of the node tests and reference models, re-encodes it and
// decodes the result again: the two messages must be equal, our schema must have understood every field,
// and every initializer must either convert to an Array of its declared size or be reported unsupported.
func TestCorpusRoundTrip(t *testing.T) {
	var models, tensors, unsupported, sameBytes int
	for _, path := range corpusModels(t) {
		name := filepath.Base(filepath.Dir(path))
		m, err := Load(path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		models++
		if p := unknownFields(m.Proto.ProtoReflect(), "model"); p != "" {
			t.Errorf("%s: unknown fields at %s: the schema misses something", name, p)
		}
		b, err := m.Encode()
		if err != nil {
			t.Errorf("%s: encode: %v", name, err)
			continue
		}
		if orig, err := os.ReadFile(path); err == nil && bytes.Equal(orig, b) {
			sameBytes++ // informative only: byte equality is not promised
		}
		again, err := Decode(b)
		if err != nil {
			t.Errorf("%s: decode after encode: %v", name, err)
			continue
		}
		if !proto.Equal(m.Proto, again.Proto) {
			t.Errorf("%s: decode → encode → decode changed the model", name)
		}
		for _, init := range corpusTensors(m.Proto.GetGraph()) {
			a, err := m.TensorArray(init)
			var u *UnsupportedError
			switch {
			case errors.As(err, &u):
				unsupported++
			case err != nil:
				t.Errorf("%s: %v", name, err)
			default:
				tensors++
				checkArrayShape(t, name, a, init.GetDims())
			}
		}
	}
	t.Logf("%d models round-tripped (%d re-encoded byte for byte); %d tensors read, %d unsupported",
		models, sameBytes, tensors, unsupported)
}

// corpusTensors lists a graph's initializers and the tensors held by its nodes' attributes (Constant
// values, ConstantOfShape fills, ...).
func corpusTensors(g *onnxpb.GraphProto) []*onnxpb.TensorProto {
	tensors := append([]*onnxpb.TensorProto(nil), g.GetInitializer()...)
	for _, n := range g.GetNode() {
		for _, a := range n.GetAttribute() {
			if a.T != nil {
				tensors = append(tensors, a.T)
			}
			tensors = append(tensors, a.GetTensors()...)
		}
	}
	return tensors
}

func checkArrayShape(t *testing.T, name string, a *Array, dims []int64) {
	t.Helper()
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	if int64(a.Len()) != n || !arrayTypeMatches(a.DataType, a.Data) {
		t.Errorf("%s: %s array of %T with %d elements, dims %v", name, a.DataType, a.Data, a.Len(), dims)
	}
}

var pbName = regexp.MustCompile(`^(input|output)_(\d+)\.pb$`)

// TestReferenceTensorFiles reads every input_K.pb / output_K.pb of the node tests. Tensor-typed values
// must convert with the element type and a shape compatible with the model's declaration (or be
// reported unsupported for FLOAT8/INT4-like types); sequences, maps and optionals must parse as the
// matching onnx-data message with no unknown fields.
func TestReferenceTensorFiles(t *testing.T) {
	shared := sharedDir(t)
	files, err := filepath.Glob(filepath.Join(shared, "onnx-node-tests", "*", "test_data_set_*", "*.pb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .pb files under %s/onnx-node-tests (%v)", shared, err)
	}
	models := map[string]*Model{}
	var tensors, unsupported, other int
	for _, path := range files {
		caseDir := filepath.Dir(filepath.Dir(path))
		caseName := filepath.Base(caseDir)
		m := models[caseDir]
		if m == nil {
			if m, err = Load(filepath.Join(caseDir, "model.onnx")); err != nil {
				t.Errorf("%s: %v", caseName, err)
				continue
			}
			models[caseDir] = m
		}
		match := pbName.FindStringSubmatch(filepath.Base(path))
		if match == nil {
			t.Errorf("%s: unexpected file %s", caseName, path)
			continue
		}
		k, _ := strconv.Atoi(match[2])
		values := m.Proto.GetGraph().GetOutput()
		if match[1] == "input" {
			values = graphInputs(m.Proto.GetGraph())
		}
		if k >= len(values) {
			t.Errorf("%s: %s has no matching graph %s (%d declared)", caseName, filepath.Base(path), match[1], len(values))
			continue
		}
		label := fmt.Sprintf("%s/%s/%s", caseName, filepath.Base(filepath.Dir(path)), filepath.Base(path))
		typ := values[k].GetType()
		if typ.GetTensorType() == nil {
			if err := readNonTensor(path, typ); err != nil {
				t.Errorf("%s: %v", label, err)
			}
			other++
			continue
		}
		tp, a, err := ReadTensorFile(path)
		var u *UnsupportedError
		if errors.As(err, &u) {
			unsupported++
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", label, err)
			continue
		}
		tensors++
		checkArrayShape(t, label, a, tp.GetDims())
		elem, dims, ok := ValueInfoShape(values[k])
		if elem != a.DataType {
			t.Errorf("%s: element type %s, model declares %s", label, a.DataType, elem)
		}
		if ok && !shapeFits(dims, a.Dims) {
			t.Errorf("%s: dims %v do not fit declared shape %v", label, a.Dims, dims)
		}
	}
	t.Logf("%d files: %d tensors read, %d unsupported element types, %d sequences/maps/optionals", len(files), tensors, unsupported, other)
}

// graphInputs are the inputs a caller feeds: graph inputs that no initializer provides.
func graphInputs(g *onnxpb.GraphProto) []*onnxpb.ValueInfoProto {
	inits := map[string]bool{}
	for _, init := range g.GetInitializer() {
		inits[init.GetName()] = true
	}
	var in []*onnxpb.ValueInfoProto
	for _, vi := range g.GetInput() {
		if !inits[vi.GetName()] {
			in = append(in, vi)
		}
	}
	return in
}

func shapeFits(declared []Dim, dims []int64) bool {
	if len(declared) != len(dims) {
		return false
	}
	for i, d := range declared {
		if d.Known() && d.Value != dims[i] {
			return false
		}
	}
	return true
}

// readNonTensor parses a test data file holding a sequence, map or optional value.
func readNonTensor(path string, typ *onnxpb.TypeProto) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var msg proto.Message
	switch {
	case typ.GetSequenceType() != nil:
		msg = &onnxpb.SequenceProto{}
	case typ.GetMapType() != nil:
		msg = &onnxpb.MapProto{}
	case typ.GetOptionalType() != nil:
		msg = &onnxpb.OptionalProto{}
	default:
		return fmt.Errorf("value of type %v", typ)
	}
	if err := proto.Unmarshal(b, msg); err != nil {
		return err
	}
	if p := unknownFields(msg.ProtoReflect(), "value"); p != "" {
		return fmt.Errorf("unknown fields at %s", p)
	}
	return readNestedTensors(msg)
}

// readNestedTensors converts every tensor inside a sequence, map or optional value.
func readNestedTensors(msg proto.Message) error {
	var tensors []*onnxpb.TensorProto
	var walk func(proto.Message)
	walk = func(msg proto.Message) {
		switch v := msg.(type) {
		case *onnxpb.SequenceProto:
			tensors = append(tensors, v.GetTensorValues()...)
			for _, s := range v.GetSequenceValues() {
				walk(s)
			}
			for _, m := range v.GetMapValues() {
				walk(m)
			}
			for _, o := range v.GetOptionalValues() {
				walk(o)
			}
		case *onnxpb.MapProto:
			if v.Values != nil {
				walk(v.Values)
			}
		case *onnxpb.OptionalProto:
			if v.TensorValue != nil {
				tensors = append(tensors, v.TensorValue)
			}
			if v.SequenceValue != nil {
				walk(v.SequenceValue)
			}
			if v.MapValue != nil {
				walk(v.MapValue)
			}
			if v.OptionalValue != nil {
				walk(v.OptionalValue)
			}
		}
	}
	walk(msg)
	for _, tp := range tensors {
		if _, err := ReadTensor(tp, "", Limits{}); err != nil {
			return err
		}
	}
	return nil
}
