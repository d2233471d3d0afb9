package vision

import "github.com/onnxrun/onnxrun/ops"

// Upsample grows a tensor along its axes by nearest or (multi)linear interpolation with asymmetric
// coordinates (input position = output position / scale). Deprecated since opset 10 in favour of Resize,
// which shares this implementation.
// https://onnx.ai/onnx/operators/onnx__Upsample.html — opsets 7, 9 (the experimental Upsample-1 with
// height_scale/width_scale is not supported).
func init() {
	ops.Register("", "Upsample",
		// opset 7: scales is an attribute.
		ops.Since(7, buildResize(formUpsample7)),
		// opset 9: scales moves to input 1. Opset 10 deprecates the op, so no registration covers 10 and above.
		ops.Since(9, buildResize(formUpsample9)),
		ops.RemovedIn(10),
	)
}
