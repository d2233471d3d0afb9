package serve

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/exporter"
)

// Unloading a model returns its memory (issue 20 item 5): a server loads a model with 8 MiB of weights,
// answers requests at two batch sizes, shuts down (closing the model); once nothing refers to it, the
// live heap comes back to what it was before the load, within a tenth of what the loaded model held.
func TestUnloadReturnsMemory(t *testing.T) {
	before := liveHeapBytes()
	loaded := serveAndShutDown(t)
	after := liveHeapBytes()
	held := int64(loaded) - int64(before)
	const weights = 2 * 1024 * 1024 * 4
	if held < weights {
		t.Fatalf("the loaded model held %d bytes of heap, less than its %d bytes of weights: the measure misses it", held, weights)
	}
	if left := int64(after) - int64(before); left > held/10 {
		t.Errorf("after unloading, the heap is %d bytes above its size before the load, over a tenth of the %d the model held", left, held)
	}
}

// liveHeapBytes is the heap in use once two collections have run (the second empties sync.Pools' victim
// caches).
func liveHeapBytes() uint64 {
	goruntime.GC()
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// serveAndShutDown builds a model of two 1024×1024 Gemms, serves requests at two batch sizes on two
// sessions, and returns the live heap while it was loaded, after which it shuts the server down.
func serveAndShutDown(t *testing.T) uint64 {
	const width = 1024
	b := exporter.NewGraph("wide")
	x := b.Input("x", f32, "N", width)
	h := x
	for _, name := range []string{"W1", "W2"} {
		w := make([]float32, width*width)
		for i := range w {
			w[i] = float32(i%7) / 7
		}
		h = b.Node("Gemm", []string{h, b.Float32Initializer(name, []int{width, width}, w)}, nil)
	}
	b.Rename(h, "y")
	b.Output("y", f32, "N", width)
	cfg := Config{Sessions: 2}
	m := newModel(t, "wide", b, cfg)
	s, err := New(cfg.withDefaults(), m)
	if err != nil {
		t.Fatal(err)
	}
	for _, rows := range []int{1, 3} {
		in := make([][]float32, rows)
		for r := range in {
			in[r] = make([]float32, width)
		}
		body, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "x", "shape": []int{rows, width}, "datatype": "FP32", "data": in}}})
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v2/models/wide/infer", strings.NewReader(string(body))))
		if rec.Code != http.StatusOK {
			t.Fatalf("infer at %d rows: %d %s", rows, rec.Code, rec.Body.String())
		}
	}
	loaded := liveHeapBytes()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	return loaded
}
