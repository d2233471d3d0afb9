package crosscheck

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/onnxrun/onnxrun/exporter"
	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/onnx/onnxpb"
	"github.com/onnxrun/onnxrun/ops"
)

// qconvORTCase is one QLinearConv layer: u8 activations and u8 or s8 weights (the pairs ORT's CPU
// kernel implements), per-tensor or per-channel weights, with bias.
type qconvORTCase struct {
	name          string
	c, h, w, m, k int
	group         int
	stride, pad   int
	wSigned       bool
	perChannel    bool
}

// qconvModel writes QLinearConv(x, ...) with every input but x an initializer, and returns its path and
// x's values.
func qconvModel(t *testing.T, c qconvORTCase, r *rand.Rand) (string, []uint8) {
	t.Helper()
	g := exporter.NewGraph("qconv")
	x := g.Input("x", onnxpb.TensorProto_UINT8, 1, c.c, c.h, c.w)
	xs := make([]uint8, c.c*c.h*c.w)
	for i := range xs {
		xs[i] = uint8(r.Intn(256))
	}
	arr := func(dt onnxpb.TensorProto_DataType, dims []int64, data any) *onnx.Array {
		return &onnx.Array{DataType: dt, Dims: dims, Data: data}
	}
	wLen := c.m * c.c / c.group * c.k * c.k
	wDims := []int64{int64(c.m), int64(c.c / c.group), int64(c.k), int64(c.k)}
	var w, wZero *onnx.Array
	nParams := 1
	if c.perChannel {
		nParams = c.m
	}
	pDims := []int64{}
	if c.perChannel {
		pDims = []int64{int64(c.m)}
	}
	if c.wSigned {
		ws, zs := make([]int8, wLen), make([]int8, nParams)
		for i := range ws {
			ws[i] = int8(r.Intn(256) - 128)
		}
		w, wZero = arr(onnxpb.TensorProto_INT8, wDims, ws), arr(onnxpb.TensorProto_INT8, pDims, zs) // ORT wants symmetric s8 weights
	} else {
		ws, zs := make([]uint8, wLen), make([]uint8, nParams)
		for i := range ws {
			ws[i] = uint8(r.Intn(256))
		}
		for i := range zs {
			zs[i] = uint8(100 + r.Intn(56))
		}
		w, wZero = arr(onnxpb.TensorProto_UINT8, wDims, ws), arr(onnxpb.TensorProto_UINT8, pDims, zs)
	}
	wScale := make([]float32, nParams)
	for i := range wScale {
		wScale[i] = 0.002 + 0.001*float32(r.Intn(10))
	}
	bias := make([]int32, c.m)
	for i := range bias {
		bias[i] = int32(r.Intn(4001) - 2000)
	}
	in := []string{x,
		g.Initializer("x_scale", arr(onnxpb.TensorProto_FLOAT, nil, []float32{0.02})),
		g.Initializer("x_zero_point", arr(onnxpb.TensorProto_UINT8, nil, []uint8{117})),
		g.Initializer("w", w),
		g.Initializer("w_scale", arr(onnxpb.TensorProto_FLOAT, pDims, wScale)),
		g.Initializer("w_zero_point", wZero),
		g.Initializer("y_scale", arr(onnxpb.TensorProto_FLOAT, nil, []float32{0.05})),
		g.Initializer("y_zero_point", arr(onnxpb.TensorProto_UINT8, nil, []uint8{131})),
		g.Initializer("B", arr(onnxpb.TensorProto_INT32, []int64{int64(c.m)}, bias)),
	}
	p := int64(c.pad)
	y := g.Node("QLinearConv", in, exporter.Attrs{"group": c.group, "strides": []int64{int64(c.stride), int64(c.stride)},
		"pads": []int64{p, p, p, p}, "kernel_shape": []int64{int64(c.k), int64(c.k)}})
	outH, outW := (c.h+2*c.pad-c.k)/c.stride+1, (c.w+2*c.pad-c.k)/c.stride+1
	g.Output(y, onnxpb.TensorProto_UINT8, 1, c.m, outH, outW)
	m, err := g.Model(exporter.ModelOptions{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "qconv.onnx")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return path, xs
}

// TestQLinearConvMatchesORT: QLinearConv on each of onnxrun's strategies (im2col, 1x1, depthwise) gives
// ONNX Runtime's bytes exactly: the same exact accumulators, and the requantisation rounded the same way
// (float32 product, half to even).
func TestQLinearConvMatchesORT(t *testing.T) {
	initORT(t)
	r := rand.New(rand.NewSource(7))
	for _, c := range []qconvORTCase{
		{name: "3x3 pad s8 per-channel", c: 16, h: 15, w: 13, m: 24, k: 3, group: 1, stride: 1, pad: 1, wSigned: true, perChannel: true},
		{name: "3x3 s2 u8 per-tensor", c: 8, h: 17, w: 17, m: 12, k: 3, group: 1, stride: 2, pad: 1},
		{name: "1x1 s8 per-channel", c: 24, h: 14, w: 14, m: 40, k: 1, group: 1, stride: 1, wSigned: true, perChannel: true},
		{name: "1x1 u8 per-channel", c: 24, h: 7, w: 9, m: 17, k: 1, group: 1, stride: 1, perChannel: true},
		{name: "depthwise 3x3 s1 s8", c: 32, h: 14, w: 14, m: 32, k: 3, group: 32, stride: 1, pad: 1, wSigned: true, perChannel: true},
		{name: "depthwise 3x3 s2 u8", c: 24, h: 15, w: 15, m: 24, k: 3, group: 24, stride: 2, pad: 1, perChannel: true},
		{name: "depthwise 5x5 s2 s8", c: 16, h: 13, w: 13, m: 16, k: 5, group: 16, stride: 2, pad: 2, wSigned: true},
		{name: "grouped 3x3", c: 12, h: 9, w: 9, m: 12, k: 3, group: 3, stride: 1, pad: 1, wSigned: true, perChannel: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			path, xs := qconvModel(t, c, r)
			xt, err := ort.NewTensor(ort.NewShape(1, int64(c.c), int64(c.h), int64(c.w)), xs)
			if err != nil {
				t.Fatal(err)
			}
			defer xt.Destroy()
			outs := runORT(t, path, []ort.Value{xt})
			defer outs[0].Destroy()
			want := outs[0].(*ort.Tensor[uint8]).GetData()
			got := runOnnxrun(t, path, ops.FromSlice(ops.Shape{1, c.c, c.h, c.w}, xs))[0].Data().([]uint8)
			if len(got) != len(want) {
				t.Fatalf("onnxrun gives %d values, ORT %d", len(got), len(want))
			}
			diffs := 0
			first := ""
			for i := range got {
				if got[i] != want[i] {
					if diffs == 0 {
						first = fmt.Sprintf("y[%d]: onnxrun %d, ORT %d", i, got[i], want[i])
					}
					diffs++
				}
			}
			if diffs > 0 {
				t.Fatalf("%d of %d values differ from ORT's; first %s", diffs, len(got), first)
			}
		})
	}
}
