package serve

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// The JSON objects of the Open Inference Protocol's REST API (KServe "v2"), named as the protocol names them.
// Client and server share them.

// ServerMetadata is the body of GET /v2.
type ServerMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

// ModelMetadata is the body of GET /v2/models/{name}[/versions/{version}].
type ModelMetadata struct {
	Name     string           `json:"name"`
	Versions []string         `json:"versions,omitempty"`
	Platform string           `json:"platform"`
	Inputs   []TensorMetadata `json:"inputs"`
	Outputs  []TensorMetadata `json:"outputs"`
}

// TensorMetadata describes one model input or output. A variable-size dimension is -1.
type TensorMetadata struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// LiveResponse is the body of GET /v2/health/live.
type LiveResponse struct {
	Live bool `json:"live"`
}

// ReadyResponse is the body of GET /v2/health/ready.
type ReadyResponse struct {
	Ready bool `json:"ready"`
}

// ModelReadyResponse is the body of GET /v2/models/{name}/ready.
type ModelReadyResponse struct {
	Name  string `json:"name"`
	Ready bool   `json:"ready"`
}

// InferRequest is the body of POST /v2/models/{name}/infer.
type InferRequest struct {
	ID         string          `json:"id,omitempty"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Inputs     []RequestInput  `json:"inputs"`
	Outputs    []RequestOutput `json:"outputs,omitempty"`
}

// RequestInput is one input tensor of a request. Data is a JSON array in row-major order, either flat or
// nested as the shape ([[1,2],[3,4]] or [1,2,3,4] for shape [2,2]); it stays raw so that the server parses
// it once, straight into a slice of the right element type.
type RequestInput struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	// BinaryData is the tensor's raw bytes under the binary tensor data extension (binary.go), sent after
	// the JSON with "binary_data_size" in Parameters instead of Data.
	BinaryData []byte `json:"-"`
}

// RequestOutput names an output the client wants; without any, the response holds every output.
type RequestOutput struct {
	Name       string         `json:"name"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// InferResponse is the answer to an InferRequest.
type InferResponse struct {
	ModelName    string           `json:"model_name"`
	ModelVersion string           `json:"model_version,omitempty"`
	ID           string           `json:"id,omitempty"`
	Parameters   map[string]any   `json:"parameters,omitempty"`
	Outputs      []ResponseOutput `json:"outputs"`
}

// ResponseOutput is one output tensor of a response, its data flat in row-major order.
type ResponseOutput struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
	// BinaryData is the tensor's raw bytes when the request asked for it in binary (binary.go); Parameters
	// then gives "binary_data_size" and Data is empty.
	BinaryData []byte `json:"-"`
}

// ErrorResponse is the body of every 4xx and 5xx answer.
type ErrorResponse struct {
	Error string `json:"error"`
}

// Platform is what model metadata gives as the platform, the protocol's name for ONNX models.
const Platform = "onnx_onnxv1"

// datatypes maps the protocol's tensor datatypes to onnxrun's. BF16 is not in the protocol's table but is
// what Triton, which shares the protocol, calls bfloat16; BYTES holds strings.
var datatypes = map[string]ops.DType{
	"BOOL": ops.Bool, "UINT8": ops.Uint8, "UINT16": ops.Uint16, "UINT32": ops.Uint32, "UINT64": ops.Uint64,
	"INT8": ops.Int8, "INT16": ops.Int16, "INT32": ops.Int32, "INT64": ops.Int64,
	"FP16": ops.Float16, "FP32": ops.Float32, "FP64": ops.Float64, "BF16": ops.BFloat16, "BYTES": ops.String,
}

// DTypeOf returns the onnxrun dtype of a protocol datatype; ok is false for a name the protocol lacks.
// Names are case-sensitive, as the protocol says of all strings.
func DTypeOf(datatype string) (dt ops.DType, ok bool) {
	dt, ok = datatypes[datatype]
	return dt, ok
}

// Datatype returns the protocol's name for dt, or "" when the protocol cannot carry it (complex numbers).
func Datatype(dt ops.DType) string {
	if int(dt) < len(datatypeNames) {
		return datatypeNames[dt]
	}
	return ""
}

// datatypeNames is datatypes inverted, indexed by DType (a small integer), for the per-response lookups.
var datatypeNames = func() (names [ops.BFloat16 + 1]string) {
	for name, dt := range datatypes {
		names[dt] = name
	}
	return names
}()

// datatypeList is every datatype name, sorted, for error messages.
func datatypeList() string {
	names := make([]string, 0, len(datatypes))
	for name := range datatypes {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// protocolDims is shape as the protocol writes it.
func protocolDims(shape ops.Shape) []int64 {
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d)
	}
	return dims
}
