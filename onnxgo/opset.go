package onnxgo

import (
	"github.com/onnxrun/onnxrun/ops"
)

// defaultOpset is the opset of onnx-go's time (ONNX 1.6, 2019): what its models and its test suite use.
const defaultOpset = 11

// inferOpset picks the opset to read the operations at, since onnx-go does not pass the model's
// opset_import to its backend. Some forms exist only up to an opset (an attribute later made an input)
// and some only from one (an input that was an attribute, an operator added later); the answer is
// defaultOpset moved into the range they leave, or the highest form's opset when they conflict.
func inferOpset(operations []*operation) int {
	lo, hi := 1, ops.MaxOpset
	for _, o := range operations {
		l, h := opsetRange(o)
		lo, hi = max(lo, l), min(hi, h)
	}
	switch {
	case lo > hi:
		return lo
	case defaultOpset < lo:
		return lo
	case defaultOpset > hi:
		return hi
	}
	return defaultOpset
}

// opsetRange is the range of opsets in which o's form (its inputs and attributes) is valid.
func opsetRange(o *operation) (lo, hi int) {
	lo, hi = 1, ops.MaxOpset
	// An operator exists from the first opset onnxrun registers it at.
	if _, have, ok := ops.Lookup("", o.opType, 1); !ok && len(have) > 0 {
		lo = have[0].Min
		for _, r := range have {
			lo = min(lo, r.Min)
		}
	}
	has := func(attr string) bool { _, ok := o.attrs[attr]; return ok }
	inputs := len(o.inputs)
	for inputs > 0 && absent(o.inputs[inputs-1]) {
		inputs--
	}
	upTo := func(v int) { hi = min(hi, v) }
	from := func(v int) { lo = max(lo, v) }
	if has("consumed_inputs") {
		upTo(5)
	}
	switch o.opType {
	case "Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less", "Gemm":
		if has("broadcast") {
			upTo(6)
		}
	case "BatchNormalization":
		if has("spatial") {
			upTo(8)
		}
		if has("training_mode") {
			from(14)
		}
	case "Dropout":
		if has("is_test") {
			upTo(6)
		}
		if has("ratio") {
			upTo(11)
		}
		if inputs > 1 {
			from(12)
		}
	case "Pad":
		if has("pads") {
			upTo(10)
		} else if inputs > 1 {
			from(11)
		}
	case "Slice":
		if has("starts") {
			upTo(9)
		} else if inputs > 1 {
			from(10)
		}
	case "TopK":
		if has("k") {
			upTo(9)
		} else {
			from(10)
		}
	case "Clip":
		if has("min") || has("max") {
			upTo(10)
		} else if inputs > 1 {
			from(11)
		}
	case "Squeeze", "Unsqueeze", "ReduceSum":
		if has("axes") {
			upTo(12)
		} else if inputs > 1 {
			from(13)
		}
	case "Split":
		if has("split") {
			upTo(12)
		} else if inputs > 1 {
			from(13)
		}
		if has("num_outputs") {
			from(18)
		}
	case "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
		"ReduceLogSumExp", "ReduceSumSquare":
		if has("axes") {
			upTo(17)
		} else if inputs > 1 {
			from(18)
		}
	case "Upsample":
		upTo(9)
	case "Resize":
		if inputs == 2 {
			upTo(10)
		} else if inputs > 2 {
			from(11)
		}
	case "MaxPool", "AveragePool":
		if has("ceil_mode") {
			from(10)
		}
	case "ArgMax", "ArgMin":
		if has("select_last_index") {
			from(12)
		}
	}
	return lo, hi
}
