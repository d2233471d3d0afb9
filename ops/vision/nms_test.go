package vision

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func nmsNode(attrs ops.AttrMap, boxes []float32, scores []float32, classes int, maxOut int64, iou, score float32) opstest.Node {
	n := len(boxes) / 4
	return opstest.Node{OpType: "NonMaxSuppression", Opset: 11, Attrs: attrs, Inputs: []*ops.Tensor{
		ops.FromSlice(ops.Shape{1, n, 4}, boxes),
		ops.FromSlice(ops.Shape{1, classes, n}, scores),
		ops.FromSlice(ops.Shape{1}, []int64{maxOut}),
		ops.FromSlice(ops.Shape{1}, []float32{iou}),
		ops.FromSlice(ops.Shape{}, []float32{score}),
	}}
}

// Three boxes: 0 and 1 overlap with IoU 0.6 (1 scores higher), 2 lies apart. Box 0 goes at IoU
// threshold 0.5 but stays at 0.7; the score threshold drops box 2 at 0.3 (its score, not above it).
func TestNonMaxSuppression(t *testing.T) {
	boxes := []float32{
		0, 0, 1, 1,
		0, 0.25, 1, 1.25, // intersection 0.75, union 1.25: IoU 0.6
		5, 5, 6, 6,
	}
	scores := []float32{0.8, 0.9, 0.3}
	cases := []struct {
		name       string
		maxOut     int64
		iou, score float32
		want       []int64
	}{
		{"suppressed", 10, 0.5, 0, []int64{0, 0, 1, 0, 0, 2}},
		{"kept", 10, 0.7, 0, []int64{0, 0, 1, 0, 0, 0, 0, 0, 2}},
		{"score threshold", 10, 0.7, 0.3, []int64{0, 0, 1, 0, 0, 0}},
		{"max output", 1, 0.7, 0, []int64{0, 0, 1}},
		{"no output", 0, 0.7, 0, nil},
		{"negative max output", -4, 0.7, 0, nil},
	}
	for _, c := range cases {
		got, err := opstest.Run(nmsNode(nil, boxes, scores, 1, c.maxOut, c.iou, c.score))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s := got[0].Shape(); !s.Equal(ops.Shape{len(c.want) / 3, 3}) {
			t.Errorf("%s: shape %v, want [%d 3]", c.name, s, len(c.want)/3)
		}
		if g := got[0].Int64s(); len(g) != len(c.want) || (len(g) > 0 && !equalInt64s(g, c.want)) {
			t.Errorf("%s: got %v, want %v", c.name, g, c.want)
		}
	}
	// The same boxes as centers and sizes select the same.
	centers := []float32{0.5, 0.5, 1, 1, 0.75, 0.5, 1, 1, 5.5, 5.5, 1, 1}
	got, err := opstest.Run(nmsNode(ops.AttrMap{"center_point_box": ops.IntAttr(1)}, centers, scores, 1, 10, 0.5, 0))
	if err != nil || !equalInt64s(got[0].Int64s(), []int64{0, 0, 1, 0, 0, 2}) {
		t.Errorf("center_point_box: got %v, %v", got, err)
	}
}

func equalInt64s(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Scores and boxes that are NaN or degenerate select something well formed, and bad arguments are
// errors naming them.
func TestNonMaxSuppressionOddInputs(t *testing.T) {
	nan := float32(math.NaN())
	boxes := []float32{0, 0, 0, 0, nan, 0, 1, 1, 0, 0, 1, 1}
	got, err := opstest.Run(nmsNode(nil, boxes, []float32{nan, 0.5, 0.7}, 1, 5, 0.5, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range got[0].Int64s() {
		if v < 0 || v > 2 {
			t.Fatalf("index %d out of range in %v", v, got[0].Int64s())
		}
	}
	_, err = opstest.Run(nmsNode(nil, boxes, []float32{0.1, 0.5, 0.7}, 1, 5, 1.5, 0))
	if err == nil || !strings.Contains(err.Error(), "iou_threshold is 1.5") {
		t.Errorf("iou_threshold 1.5: got %v", err)
	}
	bad := nmsNode(nil, boxes, []float32{0.1, 0.5, 0.7}, 1, 5, 0.5, 0)
	bad.Inputs[1] = ops.FromSlice(ops.Shape{1, 1, 2}, []float32{0.1, 0.5})
	if _, err = opstest.Run(bad); err == nil || !strings.Contains(err.Error(), "scores have shape [1,1,2], want [1, num_classes, 3]") {
		t.Errorf("scores shape: got %v", err)
	}
}
