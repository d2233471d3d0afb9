package reduce

import "github.com/onnxrun/onnxrun/ops"

// CumProd is the running product along an axis: https://onnx.ai/onnx/operators/onnx__CumProd.html. Opset 26.
//
// It is CumSum with a product (cumsum.go holds the op and kernel for both): exclusive=1 leaves each element
// out of its own product (the first output is 1), reverse=1 multiplies from the end, and the axis is a scalar
// int32/int64 input that, when not constant, is read and checked at each Run.
func init() {
	ops.Register("", "CumProd",
		// opset 26: uint32, uint64, int32, int64, float16, float, double, bfloat16.
		ops.Since(26, buildCumulative("CumProd", true, ops.DTypes(ops.Uint32, ops.Uint64, ops.Int32, ops.Int64, ops.Float16, ops.Float32, ops.Float64, ops.BFloat16))),
	)
}
