package conformance

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/internal/testenv"
	"github.com/onnxrun/onnxrun/ops"
)

func TestCompare(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	f32 := func(v ...float32) *ops.Tensor { return ops.FromSlice(ops.Shape{len(v)}, v) }
	f64 := func(v ...float64) *ops.Tensor { return ops.FromSlice(ops.Shape{len(v)}, v) }
	tests := []struct {
		name           string
		got, want      *ops.Tensor
		tol            Tolerance
		mismatches     int
		worstAt        int
		worstAbs       float64
		errSub, strSub string
	}{
		{name: "equal floats", got: f32(1, 2, 3), want: f32(1, 2, 3), tol: DefaultTolerance, worstAt: 0, strSub: "worst |diff| 0"},
		{name: "within rtol", got: f64(1000.9, 2), want: f64(1000, 2), tol: DefaultTolerance, worstAt: 0, worstAbs: 0.9},
		{name: "beyond rtol, worst element reported", got: f64(1.0015, 2, 3.1), want: f64(1, 2, 3), tol: DefaultTolerance,
			mismatches: 2, worstAt: 2, worstAbs: 0.1, strSub: "2 of 3 elements differ; worst at element 2: got 3.1, want 3"},
		{name: "atol alone near zero", got: f64(2e-7), want: f64(0), tol: DefaultTolerance, mismatches: 1, worstAt: 0, worstAbs: 2e-7},
		{name: "NaN equals NaN", got: f64(nan, 1), want: f64(nan, 1), tol: DefaultTolerance, worstAt: 0},
		{name: "NaN against a number", got: f64(1, nan), want: f64(1, 2), tol: DefaultTolerance, mismatches: 1, worstAt: 1,
			strSub: "got NaN, want 2"},
		{name: "infinity equals itself", got: f64(inf, -inf), want: f64(inf, -inf), tol: DefaultTolerance, worstAt: 0},
		{name: "infinity against a large number", got: f64(inf), want: f64(1e300), tol: Tolerance{RTol: 1, ATol: 1}, mismatches: 1, worstAt: 0},
		{name: "integers are exact whatever the tolerance", got: ops.FromSlice(ops.Shape{3}, []int64{1, 2, 4}),
			want: ops.FromSlice(ops.Shape{3}, []int64{1, 2, 3}), tol: Tolerance{RTol: 1, ATol: 1}, mismatches: 1, worstAt: 2},
		{name: "levels let integers differ", got: ops.FromSlice(ops.Shape{3}, []uint8{10, 12, 200}),
			want: ops.FromSlice(ops.Shape{3}, []uint8{11, 10, 200}), tol: Tolerance{Levels: 2}, worstAt: 1, worstAbs: 2},
		{name: "levels exceeded", got: ops.FromSlice(ops.Shape{3}, []uint8{10, 13, 200}),
			want: ops.FromSlice(ops.Shape{3}, []uint8{11, 10, 200}), tol: Tolerance{Levels: 2}, mismatches: 1, worstAt: 1, worstAbs: 3,
			strSub: "got 13, want 10"},
		{name: "large int64 compared without float rounding", got: ops.FromSlice(ops.Shape{1}, []int64{1<<62 + 1}),
			want: ops.FromSlice(ops.Shape{1}, []int64{1 << 62}), tol: DefaultTolerance, mismatches: 1, worstAt: 0},
		{name: "bools", got: ops.FromSlice(ops.Shape{2}, []bool{true, true}), want: ops.FromSlice(ops.Shape{2}, []bool{true, false}),
			tol: DefaultTolerance, mismatches: 1, worstAt: 1, strSub: "got true, want false"},
		{name: "strings", got: ops.FromSlice(ops.Shape{2}, []string{"a", "b"}), want: ops.FromSlice(ops.Shape{2}, []string{"a", "b"}),
			tol: DefaultTolerance, worstAt: 0},
		{name: "float16 through float32", got: ops.FromSlice(ops.Shape{1}, []ops.Float16Bits{ops.Float16FromFloat32(1.5)}),
			want: ops.FromSlice(ops.Shape{1}, []ops.Float16Bits{ops.Float16FromFloat32(1.5)}), tol: DefaultTolerance, worstAt: 0},
		{name: "first of equally bad mismatches", got: ops.FromSlice(ops.Shape{3}, []int32{9, 9, 9}),
			want: ops.FromSlice(ops.Shape{3}, []int32{1, 2, 3}), tol: DefaultTolerance, mismatches: 3, worstAt: 0},
		{name: "dtype differs", got: f64(1), want: f32(1), tol: DefaultTolerance, errSub: "got float64[1], want float32[1]"},
		{name: "shape differs", got: ops.FromSlice(ops.Shape{1, 2}, []float32{1, 2}), want: f32(1, 2), tol: DefaultTolerance,
			errSub: "got float32[1,2], want float32[2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Compare(tt.got, tt.want, tt.tol)
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("error %v, want one containing %q", err, tt.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Mismatches != tt.mismatches || d.At != tt.worstAt || d.OK() != (tt.mismatches == 0) {
				t.Errorf("mismatches %d at %d (OK %v), want %d at %d", d.Mismatches, d.At, d.OK(), tt.mismatches, tt.worstAt)
			}
			if math.Abs(d.WorstAbs-tt.worstAbs) > 1e-9 {
				t.Errorf("worst |diff| %g, want %g", d.WorstAbs, tt.worstAbs)
			}
			if tt.strSub != "" && !strings.Contains(d.String(), tt.strSub) {
				t.Errorf("%q does not contain %q", d.String(), tt.strSub)
			}
		})
	}
}

func TestParseOverrides(t *testing.T) {
	tests := []struct {
		name, text string
		want       []Override
		errSub     string
	}{
		{name: "empty and comments", text: "# nothing\n\n   # still nothing\n"},
		{name: "tolerance line", text: "test_a 1e-2 1e-5 float16 accumulates in float32 # note\n",
			want: []Override{{Pattern: "test_a", Tol: Tolerance{RTol: 1e-2, ATol: 1e-5}, Reason: "float16 accumulates in float32", Line: 1}}},
		{name: "known line", text: "\nTestX known the reference is wrong\n",
			want: []Override{{Pattern: "TestX", Known: true, Reason: "the reference is wrong", Line: 2}}},
		{name: "fails line", text: "test_if fails If: no subgraph execution\n",
			want: []Override{{Pattern: "test_if", Fails: true, Reason: "If: no subgraph execution", Line: 1}}},
		{name: "levels line", text: "test_jpeg levels 2 the IDCT rounds otherwise\n",
			want: []Override{{Pattern: "test_jpeg", Tol: Tolerance{Levels: 2}, Reason: "the IDCT rounds otherwise", Line: 1}}},
		{name: "levels not a number", text: "test_jpeg levels two because\n", errSub: `levels "two" must be a whole number >= 1`},
		{name: "levels zero", text: "test_jpeg levels 0 because\n", errSub: "must be a whole number >= 1"},
		{name: "bernoulli line", text: "test_b* bernoulli numpy's stream\n",
			want: []Override{{Pattern: "test_b*", Tol: Tolerance{Draws: BernoulliDraws}, Reason: "numpy's stream", Line: 1}}},
		{name: "bernoulli-1-p line", text: "test_b bernoulli-1-p the body draws 1-p\n",
			want: []Override{{Pattern: "test_b", Tol: Tolerance{Draws: ComplementBernoulliDraws}, Reason: "the body draws 1-p", Line: 1}}},
		{name: "bernoulli without reason", text: "test_b bernoulli\n", errSub: "overrides.txt:1: want NAME"},
		{name: "missing reason", text: "test_a 1e-2 1e-5\n", errSub: "overrides.txt:1: want NAME RTOL ATOL REASON"},
		{name: "known without reason", text: "test_a known\n", errSub: "want NAME RTOL ATOL REASON, NAME levels N REASON, NAME bernoulli[-1-p] REASON, NAME known REASON or NAME fails REASON"},
		{name: "fails without reason", text: "test_a fails   # a comment is no reason\n", errSub: "overrides.txt:1: want NAME"},
		{name: "not numbers", text: "test_a big 1e-5 because\n", errSub: `RTOL "big" and ATOL "1e-5" must be numbers`},
		{name: "negative", text: "test_a -1 0 because\n", errSub: "must be numbers >= 0"},
		{name: "duplicate", text: "test_a 1 1 x\ntest_a known y\n", errSub: "overrides.txt:2: test_a is already on line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOverrides(tt.text)
			if tt.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSub) {
					t.Fatalf("error %v, want one containing %q", err, tt.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("line %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestOverrideMatches(t *testing.T) {
	o := Override{Pattern: "test_resize_*"}
	for name, want := range map[string]bool{"test_resize_upsample": true, "test_resize_": true, "test_resiz": false, "test_conv": false} {
		if got := o.Matches(name); got != want {
			t.Errorf("%q matches %q: %v, want %v", o.Pattern, name, got, want)
		}
	}
	if exact := (Override{Pattern: "test_a"}); exact.Matches("test_ab") {
		t.Error("an exact pattern matched a longer name")
	}
}

// TestOverridesFile checks the shipped overrides.txt: it parses, and each node-test line names a case
// that exists (onnx-go's lines, titled Test..., are checked in conformance/onnxgocases).
func TestOverridesFile(t *testing.T) {
	ovs, err := Overrides()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := Discover(testenv.Shared(t, "onnx-node-tests"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range ovs {
		if strings.HasPrefix(o.Pattern, "Test") {
			continue
		}
		found := false
		for _, c := range cases {
			found = found || o.Matches(c.Name)
		}
		if !found {
			t.Errorf("overrides.txt:%d: %s matches no node test", o.Line, o.Pattern)
		}
	}
}
