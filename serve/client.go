package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
}

// StatusError is a non-2xx answer: its status and the server's "error" message.
type StatusError struct {
	StatusCode int
	Msg        string
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.StatusCode, e.Msg) }

// Infer posts req to /v2/models/MODEL/infer.
func (c *Client) Infer(ctx context.Context, model string, req *InferRequest) (*InferResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var resp InferResponse
	if err := c.do(ctx, http.MethodPost, "/v2/models/"+url.PathEscape(model)+"/infer", body, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
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
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e ErrorResponse
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return &StatusError{StatusCode: resp.StatusCode, Msg: e.Error}
	}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s %s: malformed response: %v", method, path, err)
	}
	return nil
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
	shape := make([]int64, t.Rank())
	for i, d := range t.Shape() {
		shape[i] = int64(d)
	}
	return RequestInput{Name: name, Shape: shape, Datatype: dt, Data: data}, nil
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
	if _, err := shape.CheckedSize(int64(len(o.Data))); err != nil {
		return nil, fmt.Errorf("output %q: shape %v holds more elements than its %d bytes of data", o.Name, o.Shape, len(o.Data))
	}
	data, err := decodeData(o.Data, dt, shape)
	if err != nil {
		return nil, fmt.Errorf("output %q: %w", o.Name, err)
	}
	return ops.FromData(dt, shape, data)
}
