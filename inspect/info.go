package inspect

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// Info is what a model file says about itself, and what onnxrun can make of it. Its JSON form (field
// tags) is what `onnxrun inspect --json` prints.
type Info struct {
	IRVersion       int64      `json:"ir_version"`
	Producer        string     `json:"producer,omitempty"`
	ProducerVersion string     `json:"producer_version,omitempty"`
	Domain          string     `json:"domain,omitempty"`
	ModelVersion    int64      `json:"model_version,omitempty"`
	Doc             string     `json:"doc_string,omitempty"`
	Graph           string     `json:"graph"`
	Opsets          []Opset    `json:"opset_import"`
	Metadata        []Property `json:"metadata"`
	Inputs          []Value    `json:"inputs"`
	Outputs         []Value    `json:"outputs"`
	// Nodes counts the main graph's nodes; Ops is their histogram, most frequent first.
	Nodes int       `json:"nodes"`
	Ops   []OpCount `json:"ops"`
	// Subgraphs counts the graphs held in node attributes (If, Loop, Scan bodies), Functions the model's
	// local functions.
	Subgraphs int      `json:"subgraphs,omitempty"`
	Functions []string `json:"functions,omitempty"`
	// Initializers counts the main graph's initializers; InitializerElems and InitializerBytes add up their
	// elements and their size as stored (strings by their bytes). ExternalInitializers counts those whose
	// data lives in a separate file.
	Initializers         int   `json:"initializers"`
	InitializerElems     int64 `json:"initializer_elements"`
	InitializerBytes     int64 `json:"initializer_bytes"`
	ExternalInitializers int   `json:"external_initializers,omitempty"`
	// Bodies describes every subgraph, depth first: each right after the node that holds it (Depth 1 for
	// a body of a main-graph node, 2 for a body inside a body, ...). BodyNodes and BodyInitializerElems
	// add up their nodes and initializer elements, which Nodes and Initializers leave out.
	Bodies               []Body `json:"bodies,omitempty"`
	BodyNodes            int    `json:"body_nodes,omitempty"`
	BodyInitializerElems int64  `json:"body_initializer_elements,omitempty"`
	// Unsupported lists the operators of the main graph and of its subgraphs that onnxrun has no kernel
	// for at the model's opset, with how many nodes use each; empty when the model can compile.
	Unsupported []Unsupported `json:"unsupported"`
}

// Body is one subgraph: the attribute Attribute of node Node (a path through the enclosing bodies for a
// nested one: "outer_if/then_branch/loop"), its nodes and operators, and its own initializers.
type Body struct {
	Node             string    `json:"node"`
	OpType           string    `json:"op_type"`
	Attribute        string    `json:"attribute"`
	Depth            int       `json:"depth"`
	Nodes            int       `json:"nodes"`
	Ops              []OpCount `json:"ops"`
	Initializers     int       `json:"initializers"`
	InitializerElems int64     `json:"initializer_elements"`
	InitializerBytes int64     `json:"initializer_bytes"`
}

// Opset is one opset_import entry; Domain is "ai.onnx" for the default domain.
type Opset struct {
	Domain  string `json:"domain"`
	Version int64  `json:"version"`
}

// Property is one metadata_props entry.
type Property struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Value is a graph input or output. Shape is nil when the model declares no shape (any rank); each
// dimension is a size, a symbol by name, or unknown.
type Value struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []Dim  `json:"shape"`
	Doc   string `json:"doc_string,omitempty"`
}

// Dim is one declared dimension: Size when Param is "" and Size >= 0; a symbol when Param is set;
// unknown otherwise. It encodes in JSON as a number, a string or null.
type Dim struct {
	Size  int64
	Param string
}

// String prints a size as its number, a symbol by name, an unknown dimension as "?".
func (d Dim) String() string {
	switch {
	case d.Param != "":
		return d.Param
	case d.Size < 0:
		return "?"
	}
	return strconv.FormatInt(d.Size, 10)
}

// MarshalJSON encodes a size as a number, a symbol as a string and an unknown dimension as null.
func (d Dim) MarshalJSON() ([]byte, error) {
	switch {
	case d.Param != "":
		return json.Marshal(d.Param)
	case d.Size < 0:
		return []byte("null"), nil
	}
	return []byte(strconv.FormatInt(d.Size, 10)), nil
}

// UnmarshalJSON is MarshalJSON's inverse.
func (d *Dim) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	switch {
	case s == "null":
		*d = Dim{Size: -1}
		return nil
	case strings.HasPrefix(s, `"`):
		*d = Dim{Size: -1}
		return json.Unmarshal(b, &d.Param)
	}
	*d = Dim{}
	return json.Unmarshal(b, &d.Size)
}

// ShapeString renders a declared shape as [N,1,28,28], or [?] for an unknown rank.
func (v Value) ShapeString() string {
	if v.Shape == nil {
		return "[?]"
	}
	parts := make([]string, len(v.Shape))
	for i, d := range v.Shape {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// OpCount is one line of the operator histogram.
type OpCount struct {
	Domain string `json:"domain,omitempty"`
	OpType string `json:"op_type"`
	Count  int    `json:"count"`
}

// Unsupported is an operator onnxrun cannot run at the model's opset. Have lists the opset ranges it does
// have a kernel for (empty when the operator is unknown altogether).
type Unsupported struct {
	Domain string   `json:"domain,omitempty"`
	OpType string   `json:"op_type"`
	Opset  int      `json:"opset"`
	Count  int      `json:"count"`
	Have   []string `json:"have,omitempty"`
	Nodes  []string `json:"nodes"`
}

// Describe gathers what m says about itself. It reads sizes from the tensors' headers and never decodes
// initializer data.
func Describe(m *onnx.Model) *Info {
	mp := m.Proto
	g := mp.GetGraph()
	info := &Info{
		IRVersion: mp.GetIrVersion(), Producer: mp.GetProducerName(), ProducerVersion: mp.GetProducerVersion(),
		Domain: mp.GetDomain(), ModelVersion: mp.GetModelVersion(), Doc: mp.GetDocString(), Graph: g.GetName(),
		Opsets: []Opset{}, Metadata: []Property{}, Inputs: []Value{}, Outputs: []Value{}, Ops: []OpCount{},
		Unsupported: []Unsupported{},
	}
	opsets := map[string]int64{}
	for _, imp := range mp.GetOpsetImport() {
		d := imp.GetDomain()
		if d == "" {
			d = "ai.onnx"
		}
		info.Opsets = append(info.Opsets, Opset{Domain: d, Version: imp.GetVersion()})
		opsets[ops.NormalizeDomain(imp.GetDomain())] = imp.GetVersion()
	}
	for _, p := range mp.GetMetadataProps() {
		info.Metadata = append(info.Metadata, Property{Key: p.GetKey(), Value: p.GetValue()})
	}
	for _, f := range mp.GetFunctions() {
		info.Functions = append(info.Functions, qualified(f.GetDomain(), f.GetName()))
	}
	isInit := map[string]bool{}
	for _, t := range g.GetInitializer() {
		isInit[t.GetName()] = true
	}
	info.Initializers, info.InitializerElems, info.InitializerBytes, info.ExternalInitializers = countInitializers(g)
	for _, vi := range g.GetInput() {
		if !isInit[vi.GetName()] { // IR < 4 lists initializers among the inputs
			info.Inputs = append(info.Inputs, describeValue(vi))
		}
	}
	for _, vi := range g.GetOutput() {
		info.Outputs = append(info.Outputs, describeValue(vi))
	}

	d := &describer{info: info, opsets: opsets, unsupported: map[[2]string]*Unsupported{}}
	info.Nodes = len(g.GetNode())
	info.Ops = d.nodes(g, "", 1)
	unsupported := d.unsupported
	for _, u := range unsupported {
		info.Unsupported = append(info.Unsupported, *u)
	}
	sort.Slice(info.Unsupported, func(a, b int) bool {
		return qualified(info.Unsupported[a].Domain, info.Unsupported[a].OpType) < qualified(info.Unsupported[b].Domain, info.Unsupported[b].OpType)
	})
	return info
}

// describer walks a graph and the subgraphs of its nodes, depth first, so that each body is listed
// right after the node that holds it, and gathers the unsupported operators of all of them.
type describer struct {
	info        *Info
	opsets      map[string]int64
	unsupported map[[2]string]*Unsupported
}

// nodes counts g's operators (its histogram is returned, most frequent first), notes the unsupported
// ones, and describes every subgraph its nodes hold at the given depth. path names g's owner for labels
// of unsupported nodes inside bodies ("loop/body/add").
func (d *describer) nodes(g *onnxpb.GraphProto, path string, depth int) []OpCount {
	counts := map[[2]string]int{}
	for i, n := range g.GetNode() {
		key := [2]string{ops.NormalizeDomain(n.GetDomain()), n.GetOpType()}
		counts[key]++
		d.info.Subgraphs += countSubgraphs(n)
		opset, imported := d.opsets[key[0]]
		if imported && key[0] == "" && opset > ops.MaxOpset {
			opset = ops.MaxOpset // what Compile uses with --allow-newer-opset; the opset itself is reported apart
		}
		label := path + nodeLabel(n, i)
		if _, have, ok := ops.Lookup(key[0], key[1], int(opset)); !ok || !imported {
			u := d.unsupported[key]
			if u == nil {
				u = &Unsupported{Domain: key[0], OpType: key[1], Opset: int(opset)}
				for _, r := range have {
					u.Have = append(u.Have, r.String())
				}
				d.unsupported[key] = u
			}
			u.Count++
			u.Nodes = append(u.Nodes, label)
		}
		for _, a := range n.GetAttribute() {
			sub := a.GetG()
			if sub == nil {
				continue
			}
			body := Body{Node: label, OpType: n.GetOpType(), Attribute: a.GetName(), Depth: depth, Nodes: len(sub.GetNode())}
			body.Initializers, body.InitializerElems, body.InitializerBytes, _ = countInitializers(sub)
			at := len(d.info.Bodies)
			d.info.Bodies = append(d.info.Bodies, body)
			d.info.Bodies[at].Ops = d.nodes(sub, label+"/"+a.GetName()+"/", depth+1)
			d.info.BodyNodes += body.Nodes
			d.info.BodyInitializerElems += body.InitializerElems
		}
	}
	out := make([]OpCount, 0, len(counts))
	for key, c := range counts {
		out = append(out, OpCount{Domain: key[0], OpType: key[1], Count: c})
	}
	sort.Slice(out, func(a, b int) bool {
		x, y := out[a], out[b]
		if x.Count != y.Count {
			return x.Count > y.Count
		}
		return qualified(x.Domain, x.OpType) < qualified(y.Domain, y.OpType)
	})
	return out
}

// countInitializers counts g's initializers, their elements and bytes as stored, and those stored in
// external files.
func countInitializers(g *onnxpb.GraphProto) (count int, elems, bytes int64, external int) {
	for _, t := range g.GetInitializer() {
		count++
		e, b := tensorSize(t)
		elems += e
		bytes += b
		if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
			external++
		}
	}
	return count, elems, bytes, external
}

func describeValue(vi *onnxpb.ValueInfoProto) Value {
	v := Value{Name: vi.GetName(), Doc: vi.GetDocString()}
	elem, dims, ok := onnx.ValueInfoShape(vi)
	v.DType = dtypeName(elem)
	if vi.GetType().GetTensorType() == nil {
		v.DType = typeKind(vi.GetType())
	}
	if ok {
		v.Shape = make([]Dim, len(dims))
		for i, d := range dims {
			v.Shape[i] = Dim{Size: d.Value, Param: d.Param}
		}
	}
	return v
}

// typeKind names a non-tensor type: sequence, map, optional, sparse_tensor.
func typeKind(t *onnxpb.TypeProto) string {
	switch {
	case t.GetSequenceType() != nil:
		return "sequence"
	case t.GetMapType() != nil:
		return "map"
	case t.GetOptionalType() != nil:
		return "optional"
	case t.GetSparseTensorType() != nil:
		return "sparse_tensor"
	}
	return "undefined"
}

func countSubgraphs(n *onnxpb.NodeProto) int {
	c := 0
	for _, a := range n.GetAttribute() {
		if a.GetG() != nil {
			c++
		}
		c += len(a.GetGraphs())
	}
	return c
}

// qualified names an op or function with its domain, the default domain left out.
func qualified(domain, name string) string {
	if domain == "" || domain == "ai.onnx" {
		return name
	}
	return domain + ":" + name
}

// nodeLabel names a node as the runtime does: its name, else its first output, else #index:OpType.
func nodeLabel(n *onnxpb.NodeProto, idx int) string {
	if n.GetName() != "" {
		return n.GetName()
	}
	for _, o := range n.GetOutput() {
		if o != "" {
			return o
		}
	}
	return fmt.Sprintf("#%d:%s", idx, n.GetOpType())
}

// dtypeName names an element type as onnxrun prints it: numpy's names for the types ops knows, ONNX's
// name in lower case for the others (float8e4m3fn, int4).
func dtypeName(dt onnxpb.TensorProto_DataType) string {
	if dt > 0 && dt <= onnxpb.TensorProto_BFLOAT16 {
		return ops.DType(dt).String()
	}
	if name, ok := onnxpb.TensorProto_DataType_name[int32(dt)]; ok {
		return strings.ToLower(name)
	}
	return fmt.Sprintf("dtype(%d)", int32(dt))
}

// elemBits is the stored size of one element in bits (4 for the 4-bit types), 0 for strings and
// unknown types.
func elemBits(dt onnxpb.TensorProto_DataType) int64 {
	switch dt {
	case onnxpb.TensorProto_STRING, onnxpb.TensorProto_UNDEFINED:
		return 0
	case onnxpb.TensorProto_FLOAT8E4M3FN, onnxpb.TensorProto_FLOAT8E4M3FNUZ, onnxpb.TensorProto_FLOAT8E5M2,
		onnxpb.TensorProto_FLOAT8E5M2FNUZ, onnxpb.TensorProto_FLOAT8E8M0:
		return 8
	case onnxpb.TensorProto_UINT4, onnxpb.TensorProto_INT4, onnxpb.TensorProto_FLOAT4E2M1:
		return 4
	case onnxpb.TensorProto_UINT2, onnxpb.TensorProto_INT2:
		return 2
	case onnxpb.TensorProto_COMPLEX128:
		return 128
	}
	if dt <= onnxpb.TensorProto_BFLOAT16 {
		return int64(ops.DType(dt).Size()) * 8
	}
	return 0
}

// tensorSize is a tensor's element count (from its dims) and stored size in bytes (strings by their
// bytes). A negative or overflowing dimension product counts as 0.
func tensorSize(t *onnxpb.TensorProto) (elems, bytes int64) {
	elems = 1
	for _, d := range t.GetDims() {
		if d < 0 || (d > 0 && elems > (1<<62)/d) {
			return 0, 0
		}
		elems *= d
	}
	if t.GetDataType() == int32(onnxpb.TensorProto_STRING) {
		for _, s := range t.GetStringData() {
			bytes += int64(len(s))
		}
		return elems, bytes
	}
	return elems, (elems*elemBits(onnxpb.TensorProto_DataType(t.GetDataType())) + 7) / 8
}

// WriteText prints the description as aligned "key  value" lines, sections indented below their key.
func (info *Info) WriteText(w io.Writer) error {
	var b strings.Builder
	kv := func(k, v string) { fmt.Fprintf(&b, "%-13s %s\n", k, v) }
	kv("ir_version", strconv.FormatInt(info.IRVersion, 10))
	producer := strings.TrimSpace(info.Producer + " " + info.ProducerVersion)
	if producer == "" {
		producer = "(not given)"
	}
	kv("producer", producer)
	if info.Domain != "" {
		kv("domain", info.Domain)
	}
	if info.ModelVersion != 0 {
		kv("model_version", strconv.FormatInt(info.ModelVersion, 10))
	}
	var opsets []string
	for _, o := range info.Opsets {
		opset := fmt.Sprintf("%s v%d", o.Domain, o.Version)
		if o.Domain == "ai.onnx" && o.Version > ops.MaxOpset {
			opset += fmt.Sprintf(" (newer than v%d, the newest onnxrun is tested with)", ops.MaxOpset)
		}
		opsets = append(opsets, opset)
	}
	kv("opset_import", strings.Join(opsets, ", "))
	if info.Graph != "" {
		kv("graph", info.Graph)
	}
	if info.Doc != "" {
		kv("doc_string", oneLine(info.Doc))
	}
	if len(info.Metadata) == 0 {
		kv("metadata", "(none)")
	} else {
		kv("metadata", "")
		width := 0
		for _, p := range info.Metadata {
			width = max(width, len(p.Key))
		}
		for _, p := range info.Metadata {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, p.Key, oneLine(p.Value))
		}
	}
	values := func(title string, vs []Value) {
		kv(title, fmt.Sprint(len(vs)))
		width := 0
		for _, v := range vs {
			width = max(width, len(v.Name))
		}
		for _, v := range vs {
			line := fmt.Sprintf("  %-*s  %s%s", width, v.Name, v.DType, v.ShapeString())
			if v.Doc != "" {
				line += "  " + oneLine(v.Doc)
			}
			b.WriteString(line + "\n")
		}
	}
	values("inputs", info.Inputs)
	values("outputs", info.Outputs)
	kv("nodes", fmt.Sprint(info.Nodes))
	width := 0
	for _, o := range info.Ops {
		width = max(width, len(qualified(o.Domain, o.OpType)))
	}
	for _, o := range info.Ops {
		fmt.Fprintf(&b, "  %-*s  %d\n", width, qualified(o.Domain, o.OpType), o.Count)
	}
	if info.Subgraphs > 0 {
		kv("subgraphs", fmt.Sprintf("%d (%d nodes, %s initializer elements)", info.Subgraphs, info.BodyNodes, Thousands(info.BodyInitializerElems)))
		for _, body := range info.Bodies {
			opsList := make([]string, len(body.Ops))
			for i, o := range body.Ops {
				opsList[i] = fmt.Sprintf("%s %d", qualified(o.Domain, o.OpType), o.Count)
			}
			fmt.Fprintf(&b, "%s%s (%s) %s: %d nodes (%s), %d initializers (%s elements)\n", strings.Repeat("  ", body.Depth),
				body.Node, body.OpType, body.Attribute, body.Nodes, strings.Join(opsList, ", "), body.Initializers, Thousands(body.InitializerElems))
		}
	}
	if len(info.Functions) > 0 {
		kv("functions", strings.Join(info.Functions, ", "))
	}
	inits := fmt.Sprintf("%d (%s elements, %s)", info.Initializers, Thousands(info.InitializerElems), ByteSize(info.InitializerBytes))
	if info.ExternalInitializers > 0 {
		inits += fmt.Sprintf(", %d in external files", info.ExternalInitializers)
	}
	kv("initializers", inits)
	if len(info.Unsupported) == 0 {
		kv("unsupported", "none: onnxrun has a kernel for every operator")
	} else {
		kv("unsupported", fmt.Sprintf("%d operators onnxrun has no kernel for", len(info.Unsupported)))
		for _, u := range info.Unsupported {
			have := "unknown to onnxrun"
			if len(u.Have) > 0 {
				have = "onnxrun has opsets " + strings.Join(u.Have, ", ")
			}
			fmt.Fprintf(&b, "  %s (opset %d, %d nodes, e.g. %q): %s\n", qualified(u.Domain, u.OpType), u.Opset, u.Count, u.Nodes[0], have)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Thousands formats n with commas between groups of three digits: 60074 → "60,074".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ByteSize formats a size in bytes as Keras does in model.summary(): two decimals and a binary unit,
// 240296 → "234.66 KB".
func ByteSize(n int64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	v := float64(n)
	u := 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return fmt.Sprintf("%.2f %s", v, units[u])
}
