package vision

import (
	"fmt"
	"math"
	"slices"

	"github.com/onnxrun/onnxrun/ops"
)

// NonMaxSuppression selects, for every batch and class, boxes in order of decreasing score, dropping each
// box whose intersection over union with a box already selected exceeds iou_threshold, and those scoring no
// more than score_threshold, up to max_output_boxes_per_class; it returns their [batch, class, box]
// indices, batch by batch, class by class, in the order selected.
// https://onnx.ai/onnx/operators/onnx__NonMaxSuppression.html — opsets 10, 11.
//
// The details follow ONNX Runtime, which the node tests' references come from: equal scores go in box
// order; a box is [y1, x1, y2, x2] with any two opposite corners (center_point_box 0) or [x_center,
// y_center, width, height] (1); boxes that do not overlap, or of zero area, never suppress each other.
// How many boxes come out depends on the data, so the node is planned with its inputs' values (at each
// run when they are not constants).
func init() {
	ops.Register("", "NonMaxSuppression",
		// opset 11: max_output_boxes_per_class, iou_threshold and score_threshold may be any shape of one
		// element (1-D as well as scalar), as opset 10 already allowed in practice.
		ops.Since(10, buildNMS),
	)
}

type nmsOp struct{ centerPoint bool }

func buildNMS(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	c := r.Int("center_point_box", 0)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if c != 0 && c != 1 {
		return nil, &ops.AttrError{Name: "center_point_box", Msg: fmt.Sprintf("is %d, want 0 or 1", c)}
	}
	return &nmsOp{centerPoint: c == 1}, nil
}

// ShapeInputs: every input decides how many boxes come out.
func (op *nmsOp) ShapeInputs() []int { return []int{0, 1, 2, 3, 4} }

// nmsArgs are a node's inputs, checked.
type nmsArgs struct {
	boxes, scores       []float32
	batches, classes, n int
	maxOut              int
	iou, score          float32
	hasScore            bool
}

func (op *nmsOp) args(in []ops.ValueInfo, data func(i int) *ops.Tensor) (nmsArgs, error) {
	if err := ops.CheckInputCount(in, 2, 5); err != nil {
		return nmsArgs{}, err
	}
	boxes, scores := in[0], in[1]
	if boxes.DType != ops.Float32 || scores.DType != ops.Float32 {
		return nmsArgs{}, ops.Invalidf("boxes and scores are %s and %s, want float32", boxes.DType, scores.DType)
	}
	if len(boxes.Shape) != 3 || boxes.Shape[2] != 4 {
		return nmsArgs{}, ops.Invalidf("boxes have shape %v, want [num_batches, spatial_dimension, 4]", boxes.Shape)
	}
	if len(scores.Shape) != 3 || scores.Shape[0] != boxes.Shape[0] || scores.Shape[2] != boxes.Shape[1] {
		return nmsArgs{}, ops.Invalidf("scores have shape %v, want [%d, num_classes, %d] for boxes %v", scores.Shape, boxes.Shape[0], boxes.Shape[1], boxes.Shape)
	}
	a := nmsArgs{batches: boxes.Shape[0], classes: scores.Shape[1], n: boxes.Shape[1]}
	scalar := func(i int, name string, dt ops.DType) (*ops.Tensor, error) {
		if i >= len(in) || !in[i].Present() {
			return nil, nil
		}
		if in[i].DType != dt || in[i].Shape.Size() != 1 || len(in[i].Shape) > 1 {
			return nil, ops.Invalidf("%s is %s%v, want one %s (a scalar or a 1-element vector)", name, in[i].DType, in[i].Shape, dt)
		}
		if data == nil {
			return nil, nil
		}
		return data(i), nil
	}
	for i, check := range []struct {
		name string
		dt   ops.DType
	}{{"max_output_boxes_per_class", ops.Int64}, {"iou_threshold", ops.Float32}, {"score_threshold", ops.Float32}} {
		if _, err := scalar(i+2, check.name, check.dt); err != nil {
			return a, err
		}
	}
	if data == nil {
		return a, nil
	}
	a.boxes, a.scores = data(0).Float32s(), data(1).Float32s()
	if t, _ := scalar(2, "", ops.Int64); t != nil {
		a.maxOut = int(min(max(t.Int64s()[0], 0), int64(a.n)))
	}
	if t, _ := scalar(3, "", ops.Float32); t != nil {
		a.iou = t.Float32s()[0]
		if !(a.iou >= 0 && a.iou <= 1) {
			return a, ops.Invalidf("iou_threshold is %g, want a value in [0, 1]", a.iou)
		}
	}
	if t, _ := scalar(4, "", ops.Float32); t != nil {
		a.score, a.hasScore = t.Float32s()[0], true
	}
	return a, nil
}

func (op *nmsOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if _, err := op.args(in, nil); err != nil {
		return nil, err
	}
	for i := range in {
		if in[i].Present() && in[i].Const == nil {
			return nil, ops.Dynamicf("how many boxes NonMaxSuppression selects depends on input %d's values", i)
		}
	}
	a, err := op.args(in, func(i int) *ops.Tensor { return in[i].Const })
	if err != nil {
		return nil, err
	}
	count := len(op.selectAll(&a, nil)) / 3
	return []ops.ValueInfo{{DType: ops.Int64, Shape: ops.Shape{count, 3}}}, nil
}

func (op *nmsOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.args(in, nil); err != nil {
		return nil, err
	}
	return &nmsKernel{op: op, in: append([]ops.ValueInfo(nil), in...)}, nil
}

type nmsKernel struct {
	op *nmsOp
	in []ops.ValueInfo
}

// Run is planned with the values it sees (see ShapeInputs), so out[0] has the count selectAll finds.
func (k *nmsKernel) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	a, err := k.op.args(k.in, func(i int) *ops.Tensor { return in[i] })
	if err != nil {
		return err
	}
	sel := k.op.selectAll(&a, out[0].Int64s()[:0])
	if len(sel) != out[0].Len() {
		return fmt.Errorf("NonMaxSuppression selected %d values for an output of %d", len(sel), out[0].Len())
	}
	return nil
}

// nmsBox is a box as its corners, low before high on each axis.
type nmsBox struct{ y1, x1, y2, x2 float32 }

func (op *nmsOp) box(a *nmsArgs, b, i int) nmsBox {
	v := a.boxes[(b*a.n+i)*4 : (b*a.n+i)*4+4]
	if op.centerPoint { // [x_center, y_center, width, height]
		return nmsBox{y1: v[1] - v[3]/2, x1: v[0] - v[2]/2, y2: v[1] + v[3]/2, x2: v[0] + v[2]/2}
	}
	return nmsBox{y1: min(v[0], v[2]), x1: min(v[1], v[3]), y2: max(v[0], v[2]), x2: max(v[1], v[3])}
}

// overlaps reports whether a and b's intersection over union exceeds threshold.
func overlaps(a, b nmsBox, threshold float32) bool {
	iy := min(a.y2, b.y2) - max(a.y1, b.y1)
	ix := min(a.x2, b.x2) - max(a.x1, b.x1)
	if !(iy > 0 && ix > 0) {
		return false
	}
	inter := float64(iy) * float64(ix)
	union := float64(a.y2-a.y1)*float64(a.x2-a.x1) + float64(b.y2-b.y1)*float64(b.x2-b.x1) - inter
	if !(union > 0) {
		return false
	}
	return inter/union > float64(threshold)
}

// selectAll appends the selected [batch, class, box] triples to dst, flattened.
func (op *nmsOp) selectAll(a *nmsArgs, dst []int64) []int64 {
	if a.maxOut == 0 {
		return dst
	}
	order := make([]int, 0, a.n)
	var chosen []nmsBox
	for b := 0; b < a.batches; b++ {
		for c := 0; c < a.classes; c++ {
			scores := a.scores[(b*a.classes+c)*a.n : (b*a.classes+c+1)*a.n]
			order = order[:0]
			for i, s := range scores {
				if !a.hasScore || s > a.score {
					order = append(order, i)
				}
			}
			slices.SortStableFunc(order, func(i, j int) int {
				si, sj := scores[i], scores[j]
				switch {
				case si > sj:
					return -1
				case si < sj:
					return 1
				}
				// NaN scores (unordered) go after all the others.
				switch ni, nj := math.IsNaN(float64(si)), math.IsNaN(float64(sj)); {
				case nj && !ni:
					return -1
				case ni && !nj:
					return 1
				}
				return 0
			})
			chosen = chosen[:0]
			for _, i := range order {
				if len(chosen) == a.maxOut {
					break
				}
				bx := op.box(a, b, i)
				keep := true
				for _, s := range chosen {
					if overlaps(s, bx, a.iou) {
						keep = false
						break
					}
				}
				if keep {
					chosen = append(chosen, bx)
					dst = append(dst, int64(b), int64(c), int64(i))
				}
			}
		}
	}
	return dst
}
