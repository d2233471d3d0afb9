package serve

import (
	"bytes"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics in Prometheus's text exposition format (version 0.0.4), written by hand: the format is a few
// lines per series, and a client library would be the server's only dependency outside the project.
//
//	onnxrun_requests_total{endpoint,model,code}           counter    every HTTP request, by route and status
//	onnxrun_request_duration_seconds{endpoint,model}      histogram  time from request to response
//	onnxrun_inference_duration_seconds{model}             histogram  time in Session.Run, per run (per batch)
//	onnxrun_batch_size{model}                             histogram  rows per run: > 1 means batching works
//	onnxrun_in_flight_requests                            gauge      requests being handled now
//	onnxrun_model_loads_total{model,result}               counter    model repository loads, result "ok" or "failed"
//	onnxrun_queue_size{model}                             gauge      requests waiting for the model now
//	onnxrun_queue_capacity{model}                         gauge      the most that may wait (Config.QueueSize)
//	onnxrun_rejected_requests_total{model,reason}         counter    requests refused with 503 (reason queue_full or queue_delay)
//
// onnxrun_queue_size is the signal to autoscale on (a HorizontalPodAutoscaler on its average per pod, or
// its ratio to onnxrun_queue_capacity): it grows before latency does and before requests are refused.
//
// The model label is empty for routes without a model and for names the server does not serve (so a scan
// of random URLs cannot grow the series without bound).

// latencyBuckets are upper bounds in seconds, from 100µs (a LeNet run) to the default request timeout.
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

var batchBuckets = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}

type metrics struct {
	requests  *counterVec
	duration  *histogramVec
	inference *histogramVec
	batchSize *histogramVec
	loads     *counterVec
	rejected  *counterVec
	inFlight  atomic.Int64
}

func newMetrics() *metrics {
	return &metrics{
		requests: newCounterVec("onnxrun_requests_total",
			"HTTP requests handled, by endpoint, model and status code.", "endpoint", "model", "code"),
		duration: newHistogramVec("onnxrun_request_duration_seconds",
			"Time from receiving a request to writing its response, in seconds.", latencyBuckets, "endpoint", "model"),
		inference: newHistogramVec("onnxrun_inference_duration_seconds",
			"Time one model run takes (a whole batch when batching), in seconds.", latencyBuckets, "model"),
		batchSize: newHistogramVec("onnxrun_batch_size",
			"Rows in each model run: the sum of the batched requests' first dimensions.", batchBuckets, "model"),
		loads: newCounterVec("onnxrun_model_loads_total",
			"Model loads and reloads from the model repository, by model and result (ok or failed).", "model", "result"),
		rejected: newCounterVec("onnxrun_rejected_requests_total",
			"Requests refused at once with 503 (gRPC RESOURCE_EXHAUSTED) and Retry-After, by model and reason.", "model", "reason"),
	}
}

// observeRejected counts a request admission refused, for the reason it gave.
func (m *metrics) observeRejected(model, reason string) {
	if m == nil {
		return
	}
	m.rejected.inc(model, reason)
}

// observeRequest records a finished HTTP request. A nil *metrics records nothing (a Model used without
// a Server).
func (m *metrics) observeRequest(endpoint, model string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.inc(endpoint, model, strconv.Itoa(code))
	m.duration.observe(d.Seconds(), endpoint, model)
}

// observeRun records one model run of rows rows.
func (m *metrics) observeRun(model string, rows int, d time.Duration) {
	if m == nil {
		return
	}
	m.inference.observe(d.Seconds(), model)
	m.batchSize.observe(float64(rows), model)
}

// observeLoad records a model repository load of model.
func (m *metrics) observeLoad(model string, ok bool) {
	result := "failed"
	if ok {
		result = "ok"
	}
	m.loads.inc(model, result)
}

// write renders every metric family.
func (m *metrics) write(w io.Writer) error {
	var b bytes.Buffer
	m.requests.write(&b)
	m.duration.write(&b)
	m.inference.write(&b)
	m.batchSize.write(&b)
	m.loads.write(&b)
	m.rejected.write(&b)
	b.WriteString("# HELP onnxrun_in_flight_requests Requests being handled now.\n# TYPE onnxrun_in_flight_requests gauge\n")
	b.WriteString("onnxrun_in_flight_requests " + strconv.FormatInt(m.inFlight.Load(), 10) + "\n")
	_, err := w.Write(b.Bytes())
	return err
}

// writeQueues renders the queue gauges of models (the server's current ones, in their order).
func writeQueues(b *bytes.Buffer, models []*Model) {
	header(b, "onnxrun_queue_size", "Requests admitted to a model and waiting for a session or a batch to run them.", "gauge")
	for _, m := range models {
		b.WriteString("onnxrun_queue_size")
		writeLabels(b, []string{"model"}, []string{m.name}, "")
		b.WriteString(" " + strconv.FormatInt(max(m.queue.waiting.Load(), 0), 10) + "\n")
	}
	header(b, "onnxrun_queue_capacity", "The most requests that may wait for a model; past it requests get 503 (Config.QueueSize).", "gauge")
	for _, m := range models {
		b.WriteString("onnxrun_queue_capacity")
		writeLabels(b, []string{"model"}, []string{m.name}, "")
		b.WriteString(" " + strconv.FormatInt(m.queue.queueSize, 10) + "\n")
	}
}

// counterVec is a counter family with labels.
type counterVec struct {
	name, help string
	labels     []string
	mu         sync.Mutex
	series     map[string]*counterSeries
}

type counterSeries struct {
	values []string
	n      atomic.Uint64
}

func newCounterVec(name, help string, labels ...string) *counterVec {
	return &counterVec{name: name, help: help, labels: labels, series: map[string]*counterSeries{}}
}

func (c *counterVec) inc(values ...string) {
	key := strings.Join(values, "\xff")
	c.mu.Lock()
	s := c.series[key]
	if s == nil {
		s = &counterSeries{values: values}
		c.series[key] = s
	}
	c.mu.Unlock()
	s.n.Add(1)
}

func (c *counterVec) write(b *bytes.Buffer) {
	header(b, c.name, c.help, "counter")
	c.mu.Lock()
	keys := sortedKeys(c.series)
	for _, k := range keys {
		s := c.series[k]
		b.WriteString(c.name)
		writeLabels(b, c.labels, s.values, "")
		b.WriteString(" " + strconv.FormatUint(s.n.Load(), 10) + "\n")
	}
	c.mu.Unlock()
}

// histogramVec is a histogram family with labels and fixed bucket bounds.
type histogramVec struct {
	name, help string
	labels     []string
	bounds     []float64
	mu         sync.Mutex
	series     map[string]*histogramSeries
}

type histogramSeries struct {
	values []string
	counts []uint64 // per bucket, not cumulative; the last is above every bound
	sum    float64
	count  uint64
}

func newHistogramVec(name, help string, bounds []float64, labels ...string) *histogramVec {
	return &histogramVec{name: name, help: help, labels: labels, bounds: bounds, series: map[string]*histogramSeries{}}
}

func (h *histogramVec) observe(v float64, values ...string) {
	key := strings.Join(values, "\xff")
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v: buckets are "less than or equal"
	h.mu.Lock()
	s := h.series[key]
	if s == nil {
		s = &histogramSeries{values: values, counts: make([]uint64, len(h.bounds)+1)}
		h.series[key] = s
	}
	s.counts[i]++
	s.sum += v
	s.count++
	h.mu.Unlock()
}

func (h *histogramVec) write(b *bytes.Buffer) {
	header(b, h.name, h.help, "histogram")
	h.mu.Lock()
	for _, k := range sortedKeys(h.series) {
		s := h.series[k]
		var cum uint64
		for i, bound := range h.bounds {
			cum += s.counts[i]
			b.WriteString(h.name + "_bucket")
			writeLabels(b, h.labels, s.values, formatValue(bound))
			b.WriteString(" " + strconv.FormatUint(cum, 10) + "\n")
		}
		b.WriteString(h.name + "_bucket")
		writeLabels(b, h.labels, s.values, "+Inf")
		b.WriteString(" " + strconv.FormatUint(s.count, 10) + "\n")
		b.WriteString(h.name + "_sum")
		writeLabels(b, h.labels, s.values, "")
		b.WriteString(" " + formatValue(s.sum) + "\n")
		b.WriteString(h.name + "_count")
		writeLabels(b, h.labels, s.values, "")
		b.WriteString(" " + strconv.FormatUint(s.count, 10) + "\n")
	}
	h.mu.Unlock()
}

func header(b *bytes.Buffer, name, help, kind string) {
	b.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + kind + "\n")
}

// writeLabels writes {name="value",...}, with le="..." last when le is set. Values are escaped as the
// format requires: backslash, double quote and newline.
func writeLabels(b *bytes.Buffer, names, values []string, le string) {
	if len(names) == 0 && le == "" {
		return
	}
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n + `="`)
		labelEscaper.WriteString(b, values[i])
		b.WriteByte('"')
	}
	if le != "" {
		if len(names) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`le="` + le + `"`)
	}
	b.WriteByte('}')
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
