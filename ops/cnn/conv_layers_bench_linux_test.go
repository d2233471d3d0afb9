package cnn

import (
	"fmt"
	goruntime "runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/internal/gemm"
)

// convLayer is one distinct convolution of a real model at batch 1: input NCHW, weights MCkk, stride, pad
// (the same on every side), and how many times the model runs it.
type convLayer struct {
	x, w          []int
	stride, pad   int
	countInModel  int
	modelAndIndex string
}

// resnet50Layers and yoloLayers are every distinct Conv of the suite's resnet50_b1static.onnx and
// yolo_small_b1static.onnx (bench/ortcompare), in model order, read from the exports with ONNX's shape
// inference.
var resnet50Layers = []convLayer{
	{[]int{1, 3, 224, 224}, []int{64, 3, 7, 7}, 2, 3, 1, "resnet50/00"},
	{[]int{1, 64, 56, 56}, []int{64, 64, 1, 1}, 1, 0, 1, "resnet50/01"},
	{[]int{1, 64, 56, 56}, []int{64, 64, 3, 3}, 1, 1, 3, "resnet50/02"},
	{[]int{1, 64, 56, 56}, []int{256, 64, 1, 1}, 1, 0, 4, "resnet50/03"},
	{[]int{1, 256, 56, 56}, []int{64, 256, 1, 1}, 1, 0, 2, "resnet50/04"},
	{[]int{1, 256, 56, 56}, []int{128, 256, 1, 1}, 1, 0, 1, "resnet50/05"},
	{[]int{1, 128, 56, 56}, []int{128, 128, 3, 3}, 2, 1, 1, "resnet50/06"},
	{[]int{1, 128, 28, 28}, []int{512, 128, 1, 1}, 1, 0, 4, "resnet50/07"},
	{[]int{1, 256, 56, 56}, []int{512, 256, 1, 1}, 2, 0, 1, "resnet50/08"},
	{[]int{1, 512, 28, 28}, []int{128, 512, 1, 1}, 1, 0, 3, "resnet50/09"},
	{[]int{1, 128, 28, 28}, []int{128, 128, 3, 3}, 1, 1, 3, "resnet50/10"},
	{[]int{1, 512, 28, 28}, []int{256, 512, 1, 1}, 1, 0, 1, "resnet50/11"},
	{[]int{1, 256, 28, 28}, []int{256, 256, 3, 3}, 2, 1, 1, "resnet50/12"},
	{[]int{1, 256, 14, 14}, []int{1024, 256, 1, 1}, 1, 0, 6, "resnet50/13"},
	{[]int{1, 512, 28, 28}, []int{1024, 512, 1, 1}, 2, 0, 1, "resnet50/14"},
	{[]int{1, 1024, 14, 14}, []int{256, 1024, 1, 1}, 1, 0, 5, "resnet50/15"},
	{[]int{1, 256, 14, 14}, []int{256, 256, 3, 3}, 1, 1, 5, "resnet50/16"},
	{[]int{1, 1024, 14, 14}, []int{512, 1024, 1, 1}, 1, 0, 1, "resnet50/17"},
	{[]int{1, 512, 14, 14}, []int{512, 512, 3, 3}, 2, 1, 1, "resnet50/18"},
	{[]int{1, 512, 7, 7}, []int{2048, 512, 1, 1}, 1, 0, 3, "resnet50/19"},
	{[]int{1, 1024, 14, 14}, []int{2048, 1024, 1, 1}, 2, 0, 1, "resnet50/20"},
	{[]int{1, 2048, 7, 7}, []int{512, 2048, 1, 1}, 1, 0, 2, "resnet50/21"},
	{[]int{1, 512, 7, 7}, []int{512, 512, 3, 3}, 1, 1, 2, "resnet50/22"},
}

var yoloLayers = []convLayer{
	{[]int{1, 3, 320, 320}, []int{32, 3, 6, 6}, 2, 2, 1, "yolo/00"},
	{[]int{1, 32, 160, 160}, []int{64, 32, 3, 3}, 2, 1, 1, "yolo/01"},
	{[]int{1, 64, 80, 80}, []int{32, 64, 1, 1}, 1, 0, 2, "yolo/02"},
	{[]int{1, 32, 80, 80}, []int{32, 32, 1, 1}, 1, 0, 1, "yolo/03"},
	{[]int{1, 32, 80, 80}, []int{32, 32, 3, 3}, 1, 1, 1, "yolo/04"},
	{[]int{1, 64, 80, 80}, []int{64, 64, 1, 1}, 1, 0, 1, "yolo/05"},
	{[]int{1, 64, 80, 80}, []int{128, 64, 3, 3}, 2, 1, 1, "yolo/06"},
	{[]int{1, 128, 40, 40}, []int{64, 128, 1, 1}, 1, 0, 2, "yolo/07"},
	{[]int{1, 64, 40, 40}, []int{64, 64, 1, 1}, 1, 0, 3, "yolo/08"},
	{[]int{1, 64, 40, 40}, []int{64, 64, 3, 3}, 1, 1, 3, "yolo/09"},
	{[]int{1, 128, 40, 40}, []int{128, 128, 1, 1}, 1, 0, 2, "yolo/10"},
	{[]int{1, 128, 40, 40}, []int{256, 128, 3, 3}, 2, 1, 1, "yolo/11"},
	{[]int{1, 256, 20, 20}, []int{128, 256, 1, 1}, 1, 0, 5, "yolo/12"},
	{[]int{1, 128, 20, 20}, []int{128, 128, 1, 1}, 1, 0, 5, "yolo/13"},
	{[]int{1, 128, 20, 20}, []int{128, 128, 3, 3}, 1, 1, 5, "yolo/14"},
	{[]int{1, 256, 20, 20}, []int{256, 256, 1, 1}, 1, 0, 3, "yolo/15"},
	{[]int{1, 256, 20, 20}, []int{512, 256, 3, 3}, 2, 1, 1, "yolo/16"},
	{[]int{1, 512, 10, 10}, []int{256, 512, 1, 1}, 1, 0, 6, "yolo/17"},
	{[]int{1, 256, 10, 10}, []int{256, 256, 1, 1}, 1, 0, 2, "yolo/18"},
	{[]int{1, 256, 10, 10}, []int{256, 256, 3, 3}, 1, 1, 2, "yolo/19"},
	{[]int{1, 512, 10, 10}, []int{512, 512, 1, 1}, 1, 0, 2, "yolo/20"},
	{[]int{1, 1024, 10, 10}, []int{512, 1024, 1, 1}, 1, 0, 1, "yolo/21"},
	{[]int{1, 512, 20, 20}, []int{128, 512, 1, 1}, 1, 0, 2, "yolo/22"},
	{[]int{1, 256, 40, 40}, []int{64, 256, 1, 1}, 1, 0, 2, "yolo/23"},
	{[]int{1, 128, 40, 40}, []int{128, 128, 3, 3}, 2, 1, 1, "yolo/24"},
	{[]int{1, 256, 20, 20}, []int{256, 256, 3, 3}, 2, 1, 1, "yolo/25"},
	{[]int{1, 128, 40, 40}, []int{255, 128, 1, 1}, 1, 0, 1, "yolo/26"},
	{[]int{1, 256, 20, 20}, []int{255, 256, 1, 1}, 1, 0, 1, "yolo/27"},
	{[]int{1, 512, 10, 10}, []int{255, 512, 1, 1}, 1, 0, 1, "yolo/28"},
}

// threadCPUTime is the CPU time the calling OS thread has used, from CLOCK_THREAD_CPUTIME_ID (getrusage's
// per-thread split into user and system time is sampled at ticks and can step back): the caller locks its
// goroutine to the thread. On a machine shared with other work it tracks the work done, where wall time
// tracks the other work too.
func threadCPUTime(b *testing.B) time.Duration {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		b.Fatal(errno)
	}
	return time.Duration(ts.Nano())
}

// BenchmarkConvLayers is the per-layer report of issue 15: for every distinct convolution of ResNet-50 and
// the YOLO-style detector at batch 1 on one thread, the strategy Prepare picks (in the name), its GFLOP/s
// ("GFLOP/s", thread CPU time), the GFLOP/s of the plain packed SGEMM of the same M x N x K with prepacked
// weights and B already laid out as columns ("gemm-GFLOP/s": the ceiling a GEMM-based strategy can reach),
// and their ratio ("of-gemm"); "model-ms" is the layer's CPU time times its count in the model. Run it with
//
//	go test ./ops/cnn -run '^$' -bench 'ConvLayers' -benchtime 20x
//
// On the layers where im2col or the implicit GEMM is chosen, the other one runs too (model-ms 0).
// and read the columns side by side (Winograd can exceed the ceiling: it does fewer multiply-adds).
func BenchmarkConvLayers(b *testing.B) {
	for _, l := range append(append([]convLayer{}, resnet50Layers...), yoloLayers...) {
		x, w, bias := randF32(1, l.x...), randF32(2, l.w...), randF32(3, l.w[0])
		attrs := ops.AttrMap{"strides": ints(int64(l.stride), int64(l.stride)), "pads": ints(int64(l.pad), int64(l.pad), int64(l.pad), int64(l.pad))}
		p := prepare(b, node("Conv", 22, attrs, x, w, bias))
		k := p.kernel.(*fastConvKernel)
		layer := fmt.Sprintf("%s_%dx%dx%dx%d_k%ds%d", l.modelAndIndex, l.x[1], l.x[2], l.x[3], l.w[0], l.w[2], l.stride)
		// The im2col strategies beside the chosen one, on the layers where they compete.
		variants := []*fastConvKernel{k}
		if name := k.Strategy(); name == "im2col" || name == "implicit" {
			for _, st := range []convStrategy{newConvIm2col(&k.s, convWeights{t: w}), newConvImplicit(&k.s, convWeights{t: w})} {
				if st.name() != name {
					alt := *k
					alt.strategy = st
					variants = append(variants, &alt)
				}
			}
		}
		for i, k := range variants {
			name := layer + "/" + k.Strategy()
			if i == 0 {
				name = layer + "/chosen_" + k.Strategy()
			}
			l := l
			if i > 0 {
				l.countInModel = 0
			}
			benchConvLayer(b, name, l, k, p, w, bias)
		}
	}
}

// benchConvLayer is one row of BenchmarkConvLayers: k on the layer's operands p, beside the plain SGEMM of
// the same size.
func benchConvLayer(b *testing.B, name string, l convLayer, k *fastConvKernel, p prepared, w, bias *ops.Tensor) {
	gflop := 2 * float64(k.FLOPs()) / 1e9
	m, n, kk := l.w[0], k.s.outSize, l.w[1]*l.w[2]*l.w[3]
	{
		b.Run(name, func(b *testing.B) {
			goruntime.LockOSThread() // each sub-benchmark runs on a goroutine of its own
			defer goruntime.UnlockOSThread()
			ctx := ops.SerialContext()
			ctx.Scratch = make([]float32, k.ScratchSize())
			gp := gemm.Params{M: m, N: n, K: kk, Alpha: 1,
				PackedA: gemm.PackA(false, m, kk, w.Float32s(), kk),
				B:       randF32(4, kk, n).Float32s(), LDB: n,
				C: make([]float32, m*n), LDC: n,
				Epilogue: gemm.Epilogue{Bias: bias.Float32s(), BiasMode: gemm.BiasPerRow}}
			gemm.Multiply(&gp) // warm the packing buffers
			if err := k.Run(ctx, p.in, p.out); err != nil {
				b.Fatal(err)
			}
			var convCPU, gemmCPU time.Duration
			for b.Loop() {
				t0 := threadCPUTime(b)
				if err := k.Run(ctx, p.in, p.out); err != nil {
					b.Fatal(err)
				}
				t1 := threadCPUTime(b)
				gemm.Multiply(&gp)
				t2 := threadCPUTime(b)
				convCPU, gemmCPU = convCPU+t1-t0, gemmCPU+t2-t1
			}
			conv := convCPU.Seconds() / float64(b.N)
			ceiling := gemmCPU.Seconds() / float64(b.N)
			b.ReportMetric(gflop/conv, "GFLOP/s")
			b.ReportMetric(gflop/ceiling, "gemm-GFLOP/s")
			b.ReportMetric(ceiling/conv, "of-gemm")
			b.ReportMetric(conv*1e3*float64(l.countInModel), "model-ms")
		})
	}
}
