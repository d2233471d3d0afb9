package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/runtime"
)

// ThreadsReport is where a model's second (and further) thread pays and where it is lost: the same
// model profiled on one thread and on Threads threads, step by step. The two sessions run alternately in
// one process, so a machine busy with other work slows both alike and the ratios stay usable where
// absolute times are not.
type ThreadsReport struct {
	Model   string
	Batch   int
	Threads int
	// One and Many are the whole runs' mean times (kernels and the run's own work) at 1 and at Threads.
	One, Many time.Duration
	Steps     []ThreadStep
}

// ThreadStep is one kernel call at 1 and at ThreadsReport.Threads threads.
type ThreadStep struct {
	Index  int // position in the plan
	Node   string
	OpType string
	Output ops.Shape
	// One and Many are its mean times per run.
	One, Many time.Duration
	// Lost is the time per run above a perfect split (Many - One/Threads): what the threads fail to
	// win back on this step. The report lists the steps by it, largest first.
	Lost time.Duration
	// ForksPerRun is the parallel sections the kernel opened per run at Threads threads, UnitsPerFork the
	// work units each was cut into (0 when it did not fork): below about 2·Threads units a late worker or
	// one uneven unit idles the others.
	ForksPerRun  float64
	UnitsPerFork float64
}

// Speedup is One/Many, 0 before any time is measured.
func (s ThreadStep) Speedup() float64 { return speedup(s.One, s.Many) }

// Speedup is the whole run's One/Many.
func (r *ThreadsReport) Speedup() float64 { return speedup(r.One, r.Many) }

func speedup(one, many time.Duration) float64 {
	if many <= 0 {
		return 0
	}
	return float64(one) / float64(many)
}

// CompareThreads profiles the model file at path on one thread and on threads threads (cfg.Threads is
// ignored; cfg.ProfileMeasure, or DefaultProfileMeasure, says how long each is profiled), alternating a
// profiled run of each.
func CompareThreads(ctx context.Context, path string, cfg Config, threads int) (*ThreadsReport, error) {
	if threads < 2 {
		return nil, fmt.Errorf("bench: comparing threads needs 2 or more threads against 1, got %d", threads)
	}
	if cfg.Batch == 0 {
		cfg.Batch = 1
	}
	if cfg.ProfileMeasure == (Measure{}) {
		cfg.ProfileMeasure = DefaultProfileMeasure
	}
	var sides [2]struct {
		sess   *runtime.Session
		inputs []*ops.Tensor
		prof   *runtime.Profile
	}
	for i, t := range []int{1, threads} {
		plan, err := runtime.Load(path, runtime.Options{Threads: t, NoOptimize: cfg.NoOptimize, InputShapes: cfg.Shapes, NoMmap: cfg.NoMmap})
		if err != nil {
			return nil, err
		}
		specs := plan.Inputs()
		shapes, err := InputShapes(specs, cfg.Batch, cfg.Shapes)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		if sides[i].inputs, err = RandomInputs(specs, shapes, cfg.Seed); err != nil {
			return nil, err
		}
		if sides[i].prof, err = plan.NewProfile(shapes...); err != nil {
			return nil, err
		}
		sides[i].sess = plan.NewSession()
		defer sides[i].sess.Close()
	}
	// One profiled run of each side per sample; the measure's time covers both.
	if _, err := cfg.ProfileMeasure.Time(func() error {
		for _, s := range sides {
			if _, err := s.sess.RunProfiled(ctx, s.inputs, s.prof); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("%s: profiling: %w", path, err)
	}
	r, err := compareProfiles(sides[0].prof, sides[1].prof, threads)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.Model, r.Batch = path, cfg.Batch
	return r, nil
}

// compareProfiles pairs the steps of one plan profiled at 1 and at threads threads.
func compareProfiles(one, many *runtime.Profile, threads int) (*ThreadsReport, error) {
	if one.Dynamic || many.Dynamic {
		return nil, fmt.Errorf("the plan is dynamic (shapes depend on input values): there are no steps to compare")
	}
	if len(one.Steps) != len(many.Steps) {
		return nil, fmt.Errorf("the plans at 1 and %d threads have %d and %d steps", threads, len(one.Steps), len(many.Steps))
	}
	r := &ThreadsReport{Threads: threads, One: one.Mean(), Many: many.Mean()}
	runsOne, runsMany := time.Duration(max(one.Runs, 1)), time.Duration(max(many.Runs, 1))
	for i, a := range one.Steps {
		b := many.Steps[i]
		if a.Node != b.Node {
			return nil, fmt.Errorf("step %d is %q at 1 thread and %q at %d", i, a.Node, b.Node, threads)
		}
		st := ThreadStep{Index: i, Node: a.Node, OpType: opName(a), One: a.Time / runsOne, Many: b.Time / runsMany,
			ForksPerRun: float64(b.Forks) / float64(runsMany)}
		if len(a.OutputShapes) > 0 {
			st.Output = a.OutputShapes[0]
		}
		st.Lost = st.Many - st.One/time.Duration(threads)
		if b.Forks > 0 {
			st.UnitsPerFork = float64(b.Units) / float64(b.Forks)
		}
		r.Steps = append(r.Steps, st)
	}
	slices.SortStableFunc(r.Steps, func(x, y ThreadStep) int { return int(y.Lost - x.Lost) })
	return r, nil
}

// WriteText prints the report: the whole run's speed-up, then the top steps (all when top <= 0) by the
// time lost to a perfect split, with their times, speed-up, forks per run and units per fork.
func (r *ThreadsReport) WriteText(w io.Writer, top int) {
	var lost time.Duration
	for _, st := range r.Steps {
		lost += max(st.Lost, 0)
	}
	fmt.Fprintf(w, "%s, batch %d: 1 thread %s ms, %d threads %s ms per run (profiled), %.2fx; %s ms per run lost to a perfect split\n\n",
		r.Model, r.Batch, Millis(r.One), r.Threads, Millis(r.Many), r.Speedup(), Millis(lost))
	steps := r.Steps
	title := "steps by time lost, largest first"
	if top > 0 && top < len(steps) {
		title = fmt.Sprintf("the %d of %d steps that lose most", top, len(steps))
		steps = steps[:top]
	}
	fmt.Fprintln(w, title+":")
	t := textTable{header: []string{"#", "node", "op type", "output", "ms 1t", fmt.Sprintf("ms %dt", r.Threads), "speed-up", "lost ms", "forks", "units/fork"}, left: 4}
	for _, st := range steps {
		t.add(fmt.Sprint(st.Index), st.Node, st.OpType, shapeString(st.Output), Millis(st.One), Millis(st.Many),
			fmt.Sprintf("%.2fx", st.Speedup()), Millis(st.Lost), fmt.Sprintf("%.3g", st.ForksPerRun), fmt.Sprintf("%.3g", st.UnitsPerFork))
	}
	t.write(w)
}
