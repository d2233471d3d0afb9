package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onnxrun/onnxrun/ops"
)

// ModelSettings are one model's own settings, read from NAME.json beside NAME.onnx (or settings.json in a
// model's folder). A field left out keeps the server's setting (Config): a settings file only overrides.
//
//	{
//	  "threads": 2, "sessions": 1, "max_batch": 8, "max_batch_delay": "3ms", "queue_size": 64,
//	  "max_queue_delay": "20ms", "shapes": {"input": [1, 1, 28, 28]},
//	  "preprocess": {"input": "input", "width": 28, "height": 28, "channels": 1, "layout": "NCHW",
//	                 "scale": 0.00392156862745098, "mean": [0.1307], "std": [0.3081], "invert": true,
//	                 "labels": ["zero", "one", ...]}
//	}
type ModelSettings struct {
	Threads       *int               `json:"threads,omitempty"`
	Sessions      *int               `json:"sessions,omitempty"`
	MaxBatch      *int               `json:"max_batch,omitempty"`
	MaxBatchDelay *Duration          `json:"max_batch_delay,omitempty"`
	QueueSize     *int               `json:"queue_size,omitempty"`
	MaxQueueDelay *Duration          `json:"max_queue_delay,omitempty"`
	Shapes        map[string][]int64 `json:"shapes,omitempty"`
	Preprocess    *ImagePreprocess   `json:"preprocess,omitempty"`
}

// ImagePreprocess says how an image becomes an image model's input tensor, for clients that send images
// (the try-it page): resize to Width x Height, take Channels channels (1: gray, 3: RGB), multiply each
// 0..255 value by Scale, invert it (1-v after scaling, for models trained on white-on-black digits) when
// Invert is set, subtract Mean and divide by Std per channel, and lay it out as Layout (NCHW or NHWC) with
// a batch of one.
type ImagePreprocess struct {
	Input    string    `json:"input,omitempty"` // the input it feeds (default: the model's only input)
	Width    int       `json:"width"`
	Height   int       `json:"height"`
	Channels int       `json:"channels"`
	Layout   string    `json:"layout,omitempty"` // NCHW (default) or NHWC
	Scale    float64   `json:"scale,omitempty"`  // default 1/255
	Invert   bool      `json:"invert,omitempty"`
	Mean     []float64 `json:"mean,omitempty"` // one value, or one per channel (default 0)
	Std      []float64 `json:"std,omitempty"`  // one value, or one per channel (default 1)
	Labels   []string  `json:"labels,omitempty"`
}

// Duration is a time.Duration written in JSON as Go's duration text ("2ms", "1.5s").
type Duration time.Duration

// UnmarshalJSON reads "2ms"-style text.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is text such as \"2ms\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// ReadModelSettings reads a settings file strictly: an unknown field or a bad value is an error naming the
// file, so that a typo does not silently serve with the defaults.
func ReadModelSettings(path string) (ModelSettings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ModelSettings{}, err
	}
	return parseModelSettings(path, data)
}

func parseModelSettings(path string, data []byte) (ModelSettings, error) {
	var s ModelSettings
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return ModelSettings{}, fmt.Errorf("%s: %w", path, err)
	}
	if dec.More() {
		return ModelSettings{}, fmt.Errorf("%s: more than one JSON value", path)
	}
	if err := s.check(); err != nil {
		return ModelSettings{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (s ModelSettings) check() error {
	for _, f := range []struct {
		name string
		v    *int
		min  int
	}{{"threads", s.Threads, 1}, {"sessions", s.Sessions, 1}, {"max_batch", s.MaxBatch, 1}, {"queue_size", s.QueueSize, 1}} {
		if f.v != nil && *f.v < f.min {
			return fmt.Errorf("%s is %d, it must be at least %d", f.name, *f.v, f.min)
		}
	}
	for name, dims := range s.Shapes {
		for _, d := range dims {
			if d < 1 {
				return fmt.Errorf("shapes: input %q: dimension %d in %v: a pinned dimension is at least 1", name, d, dims)
			}
		}
	}
	if p := s.Preprocess; p != nil {
		return p.check()
	}
	return nil
}

func (p *ImagePreprocess) check() error {
	switch {
	case p.Width < 1 || p.Height < 1 || p.Width > 4096 || p.Height > 4096:
		return fmt.Errorf("preprocess: size %dx%d: width and height must be 1..4096", p.Width, p.Height)
	case p.Channels != 1 && p.Channels != 3:
		return fmt.Errorf("preprocess: channels is %d, it must be 1 (gray) or 3 (RGB)", p.Channels)
	}
	switch strings.ToUpper(p.Layout) {
	case "", "NCHW", "NHWC":
	default:
		return fmt.Errorf("preprocess: layout %q: it must be NCHW or NHWC", p.Layout)
	}
	for _, f := range []struct {
		name string
		v    []float64
	}{{"mean", p.Mean}, {"std", p.Std}} {
		if len(f.v) != 0 && len(f.v) != 1 && len(f.v) != p.Channels {
			return fmt.Errorf("preprocess: %s has %d values: give one, or one per channel (%d)", f.name, len(f.v), p.Channels)
		}
	}
	for _, s := range p.Std {
		if s == 0 {
			return errors.New("preprocess: a std of 0 divides by zero")
		}
	}
	return nil
}

// Apply returns cfg with the settings' overrides in it. Shapes become input pins (Config.InputShapes)
// merged over cfg's.
func (s ModelSettings) Apply(cfg Config) Config {
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setInt(&cfg.Threads, s.Threads)
	setInt(&cfg.Sessions, s.Sessions)
	setInt(&cfg.MaxBatch, s.MaxBatch)
	setInt(&cfg.QueueSize, s.QueueSize)
	if s.MaxBatchDelay != nil {
		cfg.MaxBatchDelay = time.Duration(*s.MaxBatchDelay)
	}
	if s.MaxQueueDelay != nil {
		cfg.MaxQueueDelay = time.Duration(*s.MaxQueueDelay)
	}
	if len(s.Shapes) > 0 {
		pins := make(map[string]ops.Shape, len(cfg.InputShapes)+len(s.Shapes))
		for name, shape := range cfg.InputShapes {
			pins[name] = shape
		}
		for name, dims := range s.Shapes {
			shape := make(ops.Shape, len(dims))
			for i, d := range dims {
				shape[i] = int(d)
			}
			pins[name] = shape
		}
		cfg.InputShapes = pins
	}
	return cfg
}

// SettingsFile is where a model file's settings are: NAME.json beside NAME.onnx, or settings.json beside a
// folder's model.onnx.
func (src ModelSource) SettingsFile() string {
	if filepath.Base(src.Path) == "model.onnx" {
		return filepath.Join(filepath.Dir(src.Path), "settings.json")
	}
	return strings.TrimSuffix(src.Path, filepath.Ext(src.Path)) + ".json"
}

// readSourceSettings reads src's settings file; a model without one has the zero ModelSettings.
func readSourceSettings(src ModelSource) (ModelSettings, error) {
	s, err := ReadModelSettings(src.SettingsFile())
	if errors.Is(err, fs.ErrNotExist) {
		return ModelSettings{}, nil
	}
	return s, err
}
