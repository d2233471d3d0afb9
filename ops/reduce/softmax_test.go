package reduce

import (
	"math"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// y = pat(2,3,4); expected values from numpy: exp(y - max) / sum, and y - max - log(sum(exp(y - max))),
// along one axis (opset 13) or over the 2-D coercion at axis (before 13).
func TestSoftmaxFamily(t *testing.T) {
	y := pat(ops.Float32, 2, 3, 4)
	s := func(name, op string, opset int, axis *int64, x, want *ops.Tensor) opCase {
		attrs := ops.AttrMap{}
		if axis != nil {
			attrs["axis"] = ops.IntAttr(*axis)
		}
		return opCase{Name: name, Op: op, Opset: opset, Attrs: attrs, Inputs: []*ops.Tensor{x}, Want: []*ops.Tensor{want}}
	}
	ax := func(v int64) *int64 { return &v }
	softmaxAxis1 := f32(sh(2, 3, 4), 0.002456114860251546, 0.9932623505592346, 0.2684549391269684, 0.002456114860251546, 0.9908674955368042, 0.006692549213767052, 0.001808835193514824, 0.9908674955368042, 0.006676412653177977, 4.509404243435711e-05, 0.7297362089157104, 0.006676412653177977, 0.9932623505592346, 0.2684549391269684, 0.002456114860251546, 0.2684549391269684, 0.006692549213767052, 0.001808835193514824, 0.9908674955368042, 0.001808835193514824, 4.509404243435711e-05, 0.7297362089157104, 0.006676412653177977, 0.7297362089157104)
	softmaxLast := f32(sh(2, 3, 4), 0.0008943850989453495, 0.9808123707771301, 0.017964204773306847, 0.00032902590464800596, 0.7212246656417847, 0.0132096903398633, 0.00024194391153287143, 0.2653237283229828, 0.046572860330343246, 0.0008530117338523269, 0.9354409575462341, 0.0171331986784935, 0.7212246656417847, 0.0132096903398633, 0.00024194391153287143, 0.2653237283229828, 0.046572860330343246, 0.0008530117338523269, 0.9354409575462341, 0.0171331986784935, 4.3207397538935766e-05, 0.0473826639354229, 0.0008678438025526702, 0.9517062902450562)
	softmaxOld := f32(sh(2, 3, 4), 0.0005760968779213727, 0.6317669749259949, 0.011571215465664864, 0.00021193419524934143, 0.23241406679153442, 0.004256812389940023, 7.796623685862869e-05, 0.08550035953521729, 0.0015659936470910907, 2.8682174161076546e-05, 0.031453825533390045, 0.0005760968779213727, 0.3873041272163391, 0.007093722466379404, 0.00012992606207262725, 0.1424812227487564, 0.0026096347719430923, 4.779712617164478e-05, 0.052415914833545685, 0.0009600309422239661, 1.7583579392521642e-05, 0.019282737746834755, 0.000353175651980564, 0.3873041272163391)
	hardmaxLast := f32(sh(2, 3, 4), 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1)
	hardmaxOld := f32(sh(2, 3, 4), 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	l := math.Log
	cases := []opCase{
		s("softmax_axis1", "Softmax", 13, ax(1), y, softmaxAxis1),
		s("softmax_default_axis_13", "Softmax", 13, nil, y, softmaxLast),
		s("softmax_negative_axis", "Softmax", 13, ax(-1), y, softmaxLast),
		s("softmax_axis0", "Softmax", 13, ax(0), y, f32(sh(2, 3, 4), 0.0009110511746257544, 0.9820137619972229, 0.9820137619972229, 0.0009110511746257544, 0.9820137619972229, 0.9820137619972229, 0.0009110511746257544, 0.9820137619972229, 0.9820137619972229, 0.0009110511746257544, 0.9820137619972229, 0.0009110511746257544, 0.9990889430046082, 0.01798621006309986, 0.01798621006309986, 0.9990889430046082, 0.01798621006309986, 0.01798621006309986, 0.9990889430046082, 0.01798621006309986, 0.01798621006309986, 0.9990889430046082, 0.01798621006309986, 0.9990889430046082)),
		s("softmax_old_default_axis", "Softmax", 11, nil, y, softmaxOld),
		s("softmax_old_axis2_is_last", "Softmax", 1, ax(2), y, softmaxLast),
		s("softmax_old_axis0_whole", "Softmax", 11, ax(0), f32(sh(2, 2), 0, 0, 0, 0), f32(sh(2, 2), 0.25, 0.25, 0.25, 0.25)),
		s("softmax_large_numbers", "Softmax", 13, nil, f32(sh(2, 4), 0, 1, 2, 3, 10000, 10001, 10002, 10003),
			f32(sh(2, 4), 0.032058604, 0.08714432, 0.23688284, 0.6439143, 0.032058604, 0.08714432, 0.23688284, 0.6439143)),
		s("softmax_float64", "Softmax", 13, ax(1), pat(ops.Float64, 2, 3, 4), tensor(ops.Float64, sh(2, 3, 4), softmaxAxis1.AsFloat64s())),
		s("softmax_float16", "Softmax", 13, nil, pat(ops.Float16, 2, 3, 4), tensor(ops.Float16, sh(2, 3, 4), softmaxLast.AsFloat64s())),
		s("softmax_bfloat16", "Softmax", 13, nil, tensor(ops.BFloat16, sh(2), []float64{0, 0}), tensor(ops.BFloat16, sh(2), []float64{0.5, 0.5})),
		s("softmax_empty", "Softmax", 13, ax(1), f32(sh(2, 0)), f32(sh(2, 0))),
		s("logsoftmax_axis1", "LogSoftmax", 13, ax(1), y, f32(sh(2, 3, 4), -6.009174346923828, -0.006760443560779095, -1.3150721788406372, -6.009174346923828, -0.009174484759569168, -5.006760597229004, -6.315072059631348, -0.009174484759569168, -5.009174346923828, -10.006760597229004, -0.3150721490383148, -5.009174346923828, -0.006760443560779095, -1.3150721788406372, -6.009174346923828, -1.3150721788406372, -5.006760597229004, -6.315072059631348, -0.009174484759569168, -6.315072059631348, -10.006760597229004, -0.3150721490383148, -5.009174346923828, -0.3150721490383148)),
		s("logsoftmax_old_default_axis", "LogSoftmax", 11, nil, y, f32(sh(2, 3, 4), -7.459234714508057, -0.45923471450805664, -4.459234714508057, -8.459234237670898, -1.4592347145080566, -5.459234714508057, -9.459234237670898, -2.4592347145080566, -6.459234714508057, -10.459234237670898, -3.4592347145080566, -7.459234714508057, -0.9485450387001038, -4.948544979095459, -8.948545455932617, -1.948544979095459, -5.948544979095459, -9.948545455932617, -2.948544979095459, -6.948544979095459, -10.948545455932617, -3.948544979095459, -7.948544979095459, -0.9485450387001038)),
		s("logsoftmax_large_numbers", "LogSoftmax", 13, nil, f32(sh(1, 3), 10000, 10001, 10002),
			f32(sh(1, 3), -2-l(1+math.Exp(-1)+math.Exp(-2)), -1-l(1+math.Exp(-1)+math.Exp(-2)), -l(1+math.Exp(-1)+math.Exp(-2)))),
		s("logsoftmax_float16", "LogSoftmax", 13, nil, tensor(ops.Float16, sh(2), []float64{1, 1}), tensor(ops.Float16, sh(2), []float64{-l(2), -l(2)})),
		s("hardmax_last", "Hardmax", 13, nil, y, hardmaxLast),
		s("hardmax_old_default_axis", "Hardmax", 11, nil, y, hardmaxOld),
		s("hardmax_ties_first", "Hardmax", 13, nil, f32(sh(1, 3), 3, 3, 1), f32(sh(1, 3), 1, 0, 0)),
		s("hardmax_axis0", "Hardmax", 13, ax(0), f32(sh(2, 2), 1, 4, 3, 2), f32(sh(2, 2), 0, 1, 1, 0)),
		s("hardmax_bfloat16", "Hardmax", 13, nil, tensor(ops.BFloat16, sh(3), []float64{1, 5, 2}), tensor(ops.BFloat16, sh(3), []float64{0, 1, 0})),
		s("hardmax_float64", "Hardmax", 1, nil, tensor(ops.Float64, sh(1, 3), []float64{1, 5, 2}), tensor(ops.Float64, sh(1, 3), []float64{0, 1, 0})),
		{Name: "axis_out_of_range", Op: "Softmax", Opset: 13, Attrs: ops.AttrMap{"axis": ops.IntAttr(3)}, Inputs: []*ops.Tensor{y},
			ErrSub: "axis 3 is out of range [-3, 2]", ErrIs: ops.ErrInvalid},
		{Name: "scalar", Op: "LogSoftmax", Opset: 13, Inputs: []*ops.Tensor{f32(sh(), 1)}, ErrSub: "out of range for a scalar"},
		{Name: "bfloat16_before_13", Op: "Hardmax", Opset: 12, Inputs: []*ops.Tensor{pat(ops.BFloat16, 2)}, ErrSub: "dtype bfloat16, opset 12"},
		{Name: "int_input", Op: "Softmax", Opset: 13, Inputs: []*ops.Tensor{pat(ops.Int32, 2)}, ErrSub: "dtype int32"},
	}
	runCases(t, cases)
}

func TestSoftmaxRunAllocatesNothing(t *testing.T) {
	for _, op := range []string{"Softmax", "LogSoftmax", "Hardmax"} {
		for _, x := range []*ops.Tensor{pat(ops.Float32, 2, 3, 4), pat(ops.Float16, 2, 3, 4)} {
			k, out, ctx := prepareNode(t, op, 13, ops.AttrMap{"axis": ops.IntAttr(1)}, 1, x)
			assertNoAllocs(t, op+"/"+x.DType().String(), k, ctx, []*ops.Tensor{x}, out)
		}
	}
}
