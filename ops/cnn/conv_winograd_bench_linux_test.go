package cnn

import (
	"syscall"
	"testing"
	"time"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

// processCPUTime is the CPU time (user + system) all threads of the process have used so far: on a shared
// machine it moves less than wall time with the other work.
func processCPUTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWinogradTransforms times the Winograd strategy, one thread: a whole FusedConv with a residual
// and Relu ("whole_residual_relu"), then its part outside the 36 products: the gather and input transform of every block of a layer ("input"), then the output transform and scatter with bias
// and Relu ("output_relu") and with the residual added first ("output_residual_relu"), on the CIFAR
// layers that take Winograd. CPU ms per op (getrusage) beside wall time: the machine may be shared.
func BenchmarkWinogradTransforms(b *testing.B) {
	relu := ops.AttrMap{"activation": ops.StringAttr("Relu"), "pads": ints(1, 1, 1, 1)}
	for _, c := range benchConvs {
		if hasAttr(c.attr, "strides") || !hasAttr(c.attr, "pads") || len(c.w) != 4 || c.w[2] != 3 {
			continue // not Winograd's: Z would not have Y's shape either
		}
		x, w, bias := randF32(1, c.x...), randF32(2, c.w...), randF32(3, c.w[0])
		z := randF32(4, c.x[0], c.w[0], c.x[2], c.x[3])
		p := prepareIn(b, opstest.Node{Domain: ops.FusedDomain, OpType: "FusedConv", Opset: 1, Attrs: relu, Inputs: []*ops.Tensor{x, w, bias, z}})
		k := p.kernel.(*fastConvKernel)
		wg, ok := k.strategy.(*convWinograd)
		if !ok {
			continue
		}
		buf := make([]float32, wg.serialScratch())
		r := &convRun{k: k, x: x.Float32s(), w: w.Float32s(), bias: bias.Float32s(), y: make([]float32, len(z.Float32s())), serial: true}
		blocks := ceilDiv(wg.tiles, wg.serialBlock)
		for i := range buf {
			buf[i] = float32(i%7) - 3
		}
		measure := func(b *testing.B, step func(t0, nt int)) {
			b.ReportAllocs()
			cpu0 := processCPUTime(b)
			for i := 0; i < b.N; i++ {
				for blk := 0; blk < blocks; blk++ {
					t0 := blk * wg.serialBlock
					step(t0, min(wg.serialBlock, wg.tiles-t0))
				}
			}
			b.ReportMetric(float64(processCPUTime(b)-cpu0)/1e6/float64(b.N), "cpu-ms/op")
		}
		b.Run(c.name+"/whole_residual_relu", func(b *testing.B) {
			ctx := ops.SerialContext()
			ctx.Scratch = make([]float32, k.ScratchSize())
			in := []*ops.Tensor{x, w, bias, z}
			b.ReportAllocs()
			cpu0 := processCPUTime(b)
			for i := 0; i < b.N; i++ {
				if err := k.Run(ctx, in, p.out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPUTime(b)-cpu0)/1e6/float64(b.N), "cpu-ms/op")
		})
		b.Run(c.name+"/input", func(b *testing.B) {
			measure(b, func(t0, nt int) {
				v, _, bands := wg.blockBuffers(buf, wg.serialBlock, nt)
				wg.inputTransform(v, r.x, bands, t0, nt, 0, wg.s.inC)
			})
		})
		b.Run(c.name+"/output_relu", func(b *testing.B) {
			r.z = nil
			measure(b, func(t0, nt int) {
				_, m, _ := wg.blockBuffers(buf, wg.serialBlock, nt)
				wg.outputTransform(r, m, t0, nt, 0, wg.s.outC)
			})
		})
		b.Run(c.name+"/output_residual_relu", func(b *testing.B) {
			r.z = z.Float32s()
			measure(b, func(t0, nt int) {
				_, m, _ := wg.blockBuffers(buf, wg.serialBlock, nt)
				wg.outputTransform(r, m, t0, nt, 0, wg.s.outC)
			})
		})
	}
}

func hasAttr(a ops.AttrMap, name string) bool {
	_, ok := a[name]
	return ok
}
