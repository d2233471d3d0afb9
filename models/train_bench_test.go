package models

import (
	"testing"
)

// BenchmarkTrainStep times one optimizer step of the seed's LeNet on a batch of 128 digits (forward,
// loss, backward, Adam), on one thread and on two; images/s is the figure `onnxrun train` reports.
func BenchmarkTrainStep(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(map[int]string{1: "threads=1", 2: "threads=2"}[threads], func(b *testing.B) {
			net, err := NewLeNet(SeedLeNet())
			if err != nil {
				b.Fatal(err)
			}
			net.Init(1)
			data := syntheticDigits(128, 1)
			tr, err := NewTrainer(net, Config{BatchSize: 128, Threads: threads})
			if err != nil {
				b.Fatal(err)
			}
			idx := make([]int, 128)
			for i := range idx {
				idx[i] = i
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := tr.step(data, idx, true, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
