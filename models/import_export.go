package models

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// Imported reports whether the network was built by ImportONNX (and so exports as its source model).
func (n *Network) Imported() bool { return n.source != nil }

// SourceOpset is the default-domain opset of the model an imported network came from, 0 otherwise.
func (n *Network) SourceOpset() int {
	if n.source == nil {
		return 0
	}
	v, _ := n.source.model.OpsetFor("")
	return int(v)
}

// ExportImported writes an imported network back as its source model: the same graph, node names, input
// and output names, layout (an NHWC model stays NHWC, with its Transposes and shape subgraph) and
// opset_import, with the trained weights (and BatchNorm running averages) in place of the initializers it was imported from. When
// ImportOptions.NumClasses replaced the head, its initializers get the new shapes, the graph output's
// last dimension becomes the new class count and the graph's value_info (optional shape hints, some now
// wrong) is dropped. docString and metadata, when not empty, replace the model's.
func (n *Network) ExportImported(docString string, metadata map[string]string) (*onnx.Model, error) {
	if n.source == nil {
		return nil, errNotImported
	}
	mp := proto.Clone(n.source.model.Proto).(*onnxpb.ModelProto)
	g := mp.GetGraph()
	byName := map[string]*Param{}
	for _, p := range append(slices.Clip(n.params), n.buffers...) { // BatchNorm's running averages go back too
		byName[p.Name] = p
	}
	for i, init := range g.GetInitializer() {
		p, ok := byName[init.GetName()]
		if !ok {
			continue
		}
		dims, ok := n.source.paramDims[p.Name]
		if !ok {
			return nil, fmt.Errorf("models: export: no initializer shape recorded for %q", p.Name)
		}
		t, err := onnx.NewTensorProto(p.Name, &onnx.Array{DataType: onnxpb.TensorProto_FLOAT, Dims: dims, Data: slices.Clone(p.Value)})
		if err != nil {
			return nil, fmt.Errorf("models: export: %w", err)
		}
		t.DocString = init.DocString
		g.Initializer[i] = t
	}
	if n.source.head != nil {
		g.ValueInfo = nil
		out := g.GetOutput()[0]
		if tt := out.GetType().GetTensorType(); tt != nil && tt.GetShape() != nil && len(tt.GetShape().GetDim()) > 0 {
			dims := tt.GetShape().GetDim()
			dims[len(dims)-1] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(n.source.classes)}}
		}
	}
	if docString != "" {
		mp.DocString = proto.String(docString)
	}
	if len(metadata) > 0 {
		mp.MetadataProps = nil
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			mp.MetadataProps = append(mp.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(metadata[k])})
		}
	}
	return &onnx.Model{Proto: mp}, nil
}
