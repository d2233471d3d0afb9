package serve

import (
	"bytes"
	"strconv"
)

// The memory each model holds, as gauges on /metrics (issue 20 item 4), next to the families of
// metrics.go:
//
//	onnxrun_model_weight_bytes{model}                 gauge  the plan's constants (Plan.WeightBytes)
//	onnxrun_model_session_arena_bytes{model}          gauge  intermediate-value buffers, added over the sessions
//	onnxrun_model_session_scratch_bytes{model}        gauge  kernel scratch, added over the sessions
//	onnxrun_model_sessions{model,state}               gauge  sessions in the pool, "allocated" those holding buffers
//
// A session allocates its buffers at its first run and re-sizes them when its input shapes change, so the
// arena gauges grow with traffic up to sessions × the largest plan's arena. Each session's figures are
// taken when it goes back to the pool, so a scrape never touches a session that is running.

// writeModelMemory renders the memory gauges of models, in their order.
func writeModelMemory(b *bytes.Buffer, models []*Model) {
	type row struct {
		model  string
		weight int64
		mem    poolMemory
	}
	rows := make([]row, len(models))
	for i, m := range models {
		rows[i] = row{model: m.name, weight: m.plan.WeightBytes(), mem: m.pool.memory()}
	}
	gauge := func(name, help string, value func(r row) int64) {
		header(b, name, help, "gauge")
		for _, r := range rows {
			b.WriteString(name)
			writeLabels(b, []string{"model"}, []string{r.model}, "")
			b.WriteString(" " + strconv.FormatInt(value(r), 10) + "\n")
		}
	}
	gauge("onnxrun_model_weight_bytes", "Bytes of the model's weights: its constants after the graph passes.",
		func(r row) int64 { return r.weight })
	gauge("onnxrun_model_session_arena_bytes", "Bytes of intermediate-value buffers the model's sessions hold, added over the sessions.",
		func(r row) int64 { return r.mem.arena })
	gauge("onnxrun_model_session_scratch_bytes", "Bytes of kernel scratch the model's sessions hold, added over the sessions.",
		func(r row) int64 { return r.mem.scratch })
	header(b, "onnxrun_model_sessions", "Sessions in the model's pool (state=\"pool\") and those holding buffers (state=\"allocated\").", "gauge")
	for _, r := range rows {
		for _, s := range []struct {
			state string
			n     int
		}{{"pool", r.mem.available}, {"allocated", r.mem.sessions}} {
			b.WriteString("onnxrun_model_sessions")
			writeLabels(b, []string{"model", "state"}, []string{r.model, s.state}, "")
			b.WriteString(" " + strconv.Itoa(s.n) + "\n")
		}
	}
}
