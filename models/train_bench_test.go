package models

import (
	"fmt"
	"testing"
)

// BenchmarkTrainStep times one optimizer step (forward, loss, backward, Adam, BatchNorm's running
// averages) of the seed's LeNet and of the residual CNN (SmallResNet), at batch 32 and 128, on one
// thread and on two; images/s is the figure `onnxrun train` reports.
func BenchmarkTrainStep(b *testing.B) {
	archs := []struct {
		name  string
		build func() (*Network, error)
	}{
		{"lenet", func() (*Network, error) { return NewLeNet(SeedLeNet()) }},
		{"resnet-small", func() (*Network, error) { return NewResNet(SmallResNet()) }},
	}
	for _, arch := range archs {
		for _, batch := range []int{32, 128} {
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/batch=%d/threads=%d", arch.name, batch, threads), func(b *testing.B) {
					net, err := arch.build()
					if err != nil {
						b.Fatal(err)
					}
					net.Init(1)
					data := syntheticDigits(batch, 1)
					tr, err := NewTrainer(net, Config{BatchSize: batch, Threads: threads})
					if err != nil {
						b.Fatal(err)
					}
					idx := make([]int, batch)
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
					b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
				})
			}
		}
	}
}
