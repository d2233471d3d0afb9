package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// Client calls an Open Inference Protocol server over HTTP: onnxrun's, or any other that speaks the
// protocol (Triton, MLServer, KServe's runtimes).
type Client struct {
	// BaseURL is the server's address, such as http://127.0.0.1:8080.
	BaseURL string
	// HTTP is the client used; nil means http.DefaultClient.
	HTTP *http.Client
	// BinaryOutputs asks the server for every output as raw bytes (the binary tensor data extension), unless
	// a request's own parameters say otherwise: cheaper to send and to parse than JSON numbers for large
	// outputs. Inputs are sent as raw bytes when made with NewBinaryInput.
	BinaryOutputs bool
}

// StatusError is a non-2xx answer: its status and the server's "error" message.
type StatusError struct {
	StatusCode int
	Msg        string
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.StatusCode, e.Msg) }

// Infer posts req to /v2/models/MODEL/infer. Inputs with BinaryData go as raw bytes after the JSON; outputs
// the server sends as raw bytes come back in their BinaryData.
func (c *Client) Infer(ctx context.Context, model string, req *InferRequest) (*InferResponse, error) {
	path := "/v2/models/" + url.PathEscape(model) + "/infer"
	body, headerLength, err := c.encodeInfer(req)
	if err != nil {
		return nil, err
	}
	data, respHeaderLength, err := c.send(ctx, http.MethodPost, path, body, headerLength)
	if err != nil {
		return nil, err
	}
	header, rest, err := splitBody(data, respHeaderLength)
	if err != nil {
		return nil, fmt.Errorf("POST %s: malformed response: %v", path, err)
	}
	var resp InferResponse
	if err := json.Unmarshal(header, &resp); err != nil {
		return nil, fmt.Errorf("POST %s: malformed response: %v", path, err)
	}
	if err := attachOutputBinary(resp.Outputs, rest); err != nil {
		return nil, fmt.Errorf("POST %s: malformed response: %v", path, err)
	}
	return &resp, nil
}

// encodeInfer makes the body of req: JSON, then the inputs' binary data if any has some, in which case
// headerLength is the JSON's length. req itself is left as it is.
func (c *Client) encodeInfer(req *InferRequest) (body []byte, headerLength int, err error) {
	out := *req
	if c.BinaryOutputs {
		if _, set := req.Parameters[paramBinaryDataOutput]; !set {
			out.Parameters = maps.Clone(req.Parameters)
			if out.Parameters == nil {
				out.Parameters = map[string]any{}
			}
			out.Parameters[paramBinaryDataOutput] = true
		}
	}
	size := 0
	out.Inputs = slices.Clone(req.Inputs)
	for i := range out.Inputs {
		in := &out.Inputs[i]
		if in.BinaryData == nil {
			continue
		}
		in.Parameters = maps.Clone(in.Parameters)
		if in.Parameters == nil {
			in.Parameters = map[string]any{}
		}
		in.Parameters[paramBinaryDataSize] = len(in.BinaryData)
		size += len(in.BinaryData)
	}
	body, err = json.Marshal(&out)
	if err != nil || size == 0 {
		return body, 0, err
	}
	headerLength = len(body)
	body = slices.Grow(body, size)
	for _, in := range out.Inputs {
		body = append(body, in.BinaryData...)
	}
	return body, headerLength, nil
}

// attachOutputBinary hands each output that gives "binary_data_size" its bytes from rest, in order.
func attachOutputBinary(outputs []ResponseOutput, rest []byte) error {
	off := int64(0)
	for i := range outputs {
		o := &outputs[i]
		size, ok, err := binarySize(o.Parameters)
		if err != nil {
			return fmt.Errorf("output %q: %v", o.Name, err)
		}
		if !ok {
			continue
		}
		if size > int64(len(rest))-off {
			return fmt.Errorf("output %q: %s is %d but only %d bytes of binary data remain", o.Name, paramBinaryDataSize, size, int64(len(rest))-off)
		}
		o.BinaryData = rest[off : off+size : off+size]
		off += size
	}
	if extra := int64(len(rest)) - off; extra > 0 {
		return fmt.Errorf("%d bytes of binary data follow the outputs' %d", extra, off)
	}
	return nil
}

// ModelMetadata gets /v2/models/MODEL.
func (c *Client) ModelMetadata(ctx context.Context, model string) (*ModelMetadata, error) {
	var md ModelMetadata
	if err := c.do(ctx, http.MethodGet, "/v2/models/"+url.PathEscape(model), nil, &md); err != nil {
		return nil, err
	}
	return &md, nil
}

// ServerMetadata gets /v2.
func (c *Client) ServerMetadata(ctx context.Context) (*ServerMetadata, error) {
	var md ServerMetadata
	if err := c.do(ctx, http.MethodGet, "/v2", nil, &md); err != nil {
		return nil, err
	}
	return &md, nil
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, into any) error {
	data, _, err := c.send(ctx, method, path, body, 0)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s %s: malformed response: %v", method, path, err)
	}
	return nil
}

// send makes one request (body JSON, or with headerLength > 0 a JSON header and binary data) and returns
// the body of a 2xx answer and its Inference-Header-Content-Length.
func (c *Client) send(ctx context.Context, method, path string, body []byte, headerLength int) (data []byte, respHeaderLength string, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, rd)
	if err != nil {
		return nil, "", err
	}
	switch {
	case headerLength > 0:
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set(HeaderContentLength, strconv.Itoa(headerLength))
	case body != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	data, err = io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode/100 != 2 {
		var e ErrorResponse
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return nil, "", &StatusError{StatusCode: resp.StatusCode, Msg: e.Error}
	}
	return data, resp.Header.Get(HeaderContentLength), nil
}

// NewInput makes a request input from a tensor, its data flat.
func NewInput(name string, t *ops.Tensor) (RequestInput, error) {
	dt := Datatype(t.DType())
	if dt == "" {
		return RequestInput{}, fmt.Errorf("input %q: dtype %s has no Open Inference Protocol datatype", name, t.DType())
	}
	data, err := appendData(nil, t)
	if err != nil {
		return RequestInput{}, fmt.Errorf("input %q: %w", name, err)
	}
	return RequestInput{Name: name, Shape: protocolDims(t.Shape()), Datatype: dt, Data: data}, nil
}

// NewBinaryInput makes a request input from a tensor, its data as raw bytes (the binary tensor data
// extension): for a large tensor, a quarter to a third of the bytes of JSON, and no decimal conversions.
func NewBinaryInput(name string, t *ops.Tensor) (RequestInput, error) {
	dt := Datatype(t.DType())
	if dt == "" {
		return RequestInput{}, fmt.Errorf("input %q: dtype %s has no Open Inference Protocol datatype", name, t.DType())
	}
	data, err := appendBinary(nil, t)
	if err != nil {
		return RequestInput{}, fmt.Errorf("input %q: %w", name, err)
	}
	return RequestInput{Name: name, Shape: protocolDims(t.Shape()), Datatype: dt, BinaryData: data}, nil
}

// Tensor parses a response output into a tensor.
func (o *ResponseOutput) Tensor() (*ops.Tensor, error) {
	dt, ok := DTypeOf(o.Datatype)
	if !ok {
		return nil, fmt.Errorf("output %q: unknown datatype %q", o.Name, o.Datatype)
	}
	shape := make(ops.Shape, len(o.Shape))
	for i, d := range o.Shape {
		if d < 0 {
			return nil, fmt.Errorf("output %q: negative dimension in shape %v", o.Name, o.Shape)
		}
		shape[i] = int(d)
	}
	if o.BinaryData != nil {
		data, err := decodeBinary(o.BinaryData, dt, shape)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", o.Name, err)
		}
		return ops.FromData(dt, shape, data)
	}
	if _, err := shape.CheckedSize(int64(len(o.Data))); err != nil {
		return nil, fmt.Errorf("output %q: shape %v holds more elements than its %d bytes of data", o.Name, o.Shape, len(o.Data))
	}
	data, err := decodeData(o.Data, dt, shape)
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", o.Name, err)
	}
	return ops.FromData(dt, shape, data)
}
