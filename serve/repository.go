package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// The model repository (Triton's model repository extension, which KServe's REST protocol shares): the
// models of Config.ModelDir are loaded at start, the directory is scanned again every
// Config.PollInterval (and on Rescan), and with Config.ModelControl clients load and unload models by name.

// ExtensionModelRepository is the repository extension's name in the server metadata.
const ExtensionModelRepository = "model_repository"

// RepositoryIndexRequest is the optional body of POST /v2/repository/index.
type RepositoryIndexRequest struct {
	// Ready, when true, lists only the models that serve now.
	Ready bool `json:"ready,omitempty"`
}

// RepositoryIndexEntry is one model in the repository index.
type RepositoryIndexEntry struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	State   string `json:"state"` // StateReady, StateUnavailable or StateLoading
	Reason  string `json:"reason,omitempty"`
}

// loadModelDir loads every model of the model directory at start. A model that fails fails the start,
// as a model given by file does: a server that comes up without part of its models is harder to notice
// than one that does not come up. An empty directory is fine when models can arrive later (polling or
// model control).
func (s *Server) loadModelDir() error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	found, err := s.scanDir()
	if err != nil {
		return err
	}
	if len(found) == 0 && (s.cfg.ModelName != "" || s.cfg.PollInterval <= 0 && !s.cfg.ModelControl) {
		return errNoModelsIn(s.cfg.ModelDir) // a model name promises a model now
	}
	for _, src := range found {
		if s.reg.dirEntry(src.Name).exists {
			return fmt.Errorf("serve: two models are named %q: one given directly and %s", src.Name, src.Path)
		}
		if err := s.loadFromDir(src); err != nil {
			return err
		}
	}
	return nil
}

// loadFromDir loads (or reloads) a model of the model directory and installs it; on failure a model
// already serving the name keeps serving, and the failure is counted in the metrics and shown in the
// index (the caller reports the error: at start it fails New, later it is logged). s.loadMu is held.
func (s *Server) loadFromDir(src ModelSource) error {
	stamp, err := stampOf(src)
	if err == nil {
		err = confineSource(s.cfg.ModelDir, src)
	}
	if err == nil {
		s.reg.loading(src)
		start := time.Now()
		var m *Model
		if m, err = loadConfined(s.cfg.ModelDir, src, s.cfg); err == nil {
			m.stats = s.stats
			s.reg.install(m, true, src, stamp)
			s.stats.observeLoad(src.Name, true)
			s.modelServing(src.Name, true)
			s.cfg.Logf("model %q loaded from %s in %v", src.Name, src.Path, time.Since(start).Round(time.Millisecond))
			return nil
		}
	}
	s.reg.failed(src, stamp, s.hidePaths(err.Error()))
	s.stats.observeLoad(src.Name, false)
	return err // Load's errors name the model and the file
}

// Rescan scans the model directory once: a new model loads, a changed one (its file or settings file
// replaced, rewritten, added or removed) reloads, and one whose file is gone unloads once its requests are
// done. A model that fails to load is reported and retried only when its files change again; a model
// unloaded by request stays unloaded. The poller calls it every Config.PollInterval.
func (s *Server) Rescan() error {
	if s.cfg.ModelDir == "" {
		return errors.New("serve: no model directory to scan")
	}
	// One scan at a time, and no load or unload request in the middle of one, so that what a scan
	// decides from the registry still holds when it acts.
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if s.draining.Load() {
		return errShuttingDown // Shutdown closes the models: load no new ones
	}
	found, err := s.scanDir()
	if err != nil {
		// A directory briefly unreadable (a volume being remounted) must not unload every model.
		s.cfg.Logf("model directory %s: %v; keeping the models loaded", s.cfg.ModelDir, err)
		return err
	}
	present := map[string]bool{}
	var failures []string
	for _, src := range found {
		present[src.Name] = true
		e := s.reg.dirEntry(src.Name)
		switch {
		case e.exists && !e.fromDir:
			continue // a model given directly owns the name
		case e.unloaded:
			continue
		}
		stamp, err := stampOf(src)
		if err != nil {
			continue // removed while scanning: the next scan sees it gone
		}
		if e.exists && e.src == src && e.stamp.same(stamp) {
			continue
		}
		if err := s.loadFromDir(src); err != nil {
			s.cfg.Logf("model directory %s: %v (a model already loaded under that name keeps serving)", s.cfg.ModelDir, err)
			failures = append(failures, err.Error())
		}
	}
	for _, name := range s.reg.dirNames() {
		if !present[name] {
			s.unloadGone(name)
		}
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "; "))
	}
	return nil
}

func (s *Server) unloadGone(name string) {
	s.reg.remove(name)
	s.modelServing(name, false)
	s.cfg.Logf("model %q: its file is gone from %s; unloaded once its requests are done", name, s.cfg.ModelDir)
}

// poll rescans the model directory every interval until stop is closed.
func (s *Server) poll(interval time.Duration, stop <-chan struct{}) {
	defer close(s.pollDone)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			s.Rescan() // failures are logged and in the index
		}
	}
}

// stopPolling stops the poller and waits for a scan in progress.
func (s *Server) stopPolling() {
	if s.pollStop == nil {
		return
	}
	s.pollOnce.Do(func() { close(s.pollStop) })
	<-s.pollDone
}

// modelServing tells the grpc.health.v1 service that a model now serves (SERVING), or no longer does
// (NOT_SERVING). Once Shutdown has begun, the health server keeps every status NOT_SERVING whatever this sets.
func (s *Server) modelServing(name string, serving bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus(name, st)
}

// scanDir lists the models of the model directory under the names they serve as: their own, or
// Config.ModelName for the folder's one model.
func (s *Server) scanDir() ([]ModelSource, error) {
	found, err := scanModelDir(s.cfg.ModelDir)
	if err != nil || s.cfg.ModelName == "" {
		return found, err
	}
	if len(found) > 1 {
		return nil, fmt.Errorf("%s: the model name %q (--model-name) names the folder's one model, but it holds %d (%s)",
			s.cfg.ModelDir, s.cfg.ModelName, len(found), SourceNames(found))
	}
	for i := range found {
		found[i].Name = s.cfg.ModelName
	}
	return found, nil
}

// SourceNames lists the models' names, comma-separated, for a message.
func SourceNames(sources []ModelSource) string {
	names := make([]string, len(sources))
	for i, src := range sources {
		names[i] = src.Name
	}
	return strings.Join(names, ", ")
}

// errNoModelsIn is ModelsInDir's error for a directory without models.
func errNoModelsIn(dir string) error {
	return fmt.Errorf("%s: no models found (looked for NAME.onnx files and NAME/ folders holding model.onnx or one .onnx file)", dir)
}

// repositoryIndex answers POST /v2/repository/index.
func (s *Server) repositoryIndex(c *call) error {
	var req RepositoryIndexRequest
	if err := s.readRepositoryBody(c, &req); err != nil {
		return err
	}
	idx := s.reg.index(s.cfg.ModelVersion)
	if req.Ready {
		ready := idx[:0]
		for _, e := range idx {
			if e.State == StateReady {
				ready = append(ready, e)
			}
		}
		idx = ready
	}
	writeJSON(c.w, http.StatusOK, idx)
	return nil
}

// readRepositoryBody reads a repository request's optional JSON body into v.
func (s *Server) readRepositoryBody(c *call, v any) error {
	buf := bodyBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer bodyBuffers.Put(buf)
	if err := s.readBody(c, buf); err != nil {
		return err
	}
	if len(strings.TrimSpace(buf.String())) == 0 {
		return nil
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		return badRequestf("malformed JSON in the request body: %v", err)
	}
	return nil
}

// repositoryModel checks a load or unload request: model control must be on and the name a plain file
// name, since it names a file in the model directory.
func (s *Server) repositoryModel(c *call, action string) (string, error) {
	name := c.r.PathValue("name")
	if err := checkRepositoryName(name); err != nil {
		return "", err
	}
	if !s.cfg.ModelControl {
		return "", &Error{Status: http.StatusForbidden, Msg: fmt.Sprintf("cannot %s model %q: model control is off (start the server with --model-control)", action, name)}
	}
	return name, nil
}

// checkRepositoryName refuses a name that is not a plain file name: it must not reach outside the model
// directory.
func checkRepositoryName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return badRequestf("model name %q is not a file name", name)
	case strings.ContainsAny(name, "/\\\x00") || strings.Contains(name, ".."):
		return badRequestf("model name %q: a model name is a plain file name, without '/', '\\', NUL or '..'", name)
	case filepath.IsAbs(name) || filepath.VolumeName(name) != "":
		return badRequestf("model name %q is an absolute path; give the model's name", name)
	}
	if err := checkModelName(name); err != nil {
		return badRequestf("%v", err)
	}
	return nil
}

// loadModel answers POST /v2/repository/models/NAME/load: it loads the model NAME of the model directory,
// or reloads it if it is loaded.
func (s *Server) loadModel(c *call) error {
	name, err := s.repositoryModel(c, "load")
	if err != nil {
		return err
	}
	if s.cfg.ModelDir == "" {
		return notFoundf("cannot load model %q: the server has no model directory (--model-dir)", name)
	}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if s.draining.Load() {
		return errShuttingDown
	}
	if e := s.reg.dirEntry(name); e.exists && !e.fromDir {
		return badRequestf("model %q was given to the server directly, not from the model directory; it cannot be reloaded", name)
	}
	found, err := s.scanDir()
	if err != nil {
		return &Error{Status: http.StatusInternalServerError, Msg: "reading the model directory: " + s.hidePaths(err.Error())}
	}
	for _, src := range found {
		if src.Name != name {
			continue
		}
		if err := s.loadFromDir(src); err != nil {
			s.cfg.Logf("load request: %v", err)
			return badRequestf("loading model %q failed: %s", name, s.hidePaths(err.Error()))
		}
		c.model = name
		writeJSON(c.w, http.StatusOK, struct{}{})
		return nil
	}
	return notFoundf("no model %q in the model directory (looked for %s.onnx and %s/)", name, name, name)
}

// unloadModel answers POST /v2/repository/models/NAME/unload: the model stops taking requests at once and
// is closed when those in flight are done. The scanner leaves it unloaded until a load request.
func (s *Server) unloadModel(c *call) error {
	name, err := s.repositoryModel(c, "unload")
	if err != nil {
		return err
	}
	s.loadMu.Lock()
	ok := s.reg.unload(name, "unloaded by request")
	s.loadMu.Unlock()
	if !ok {
		return notFoundf("model %q is not loaded; this server serves %s", name, s.reg.servingNames())
	}
	s.modelServing(name, false)
	s.cfg.Logf("model %q unloaded by request", name)
	writeJSON(c.w, http.StatusOK, struct{}{})
	return nil
}
