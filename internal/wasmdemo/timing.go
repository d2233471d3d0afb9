package wasmdemo

import (
	"fmt"
	"time"

	"github.com/onnxrun/onnxrun/bench"
)

// Timing is what TimeRuns measured, in milliseconds per run.
type Timing struct {
	Runs, Rounds, PerRound int
	// MeanMS is the total time over the number of runs; MedianMS the median of the rounds' times per run.
	MeanMS, MedianMS float64
}

// TimeRuns calls run warmup times untimed, then times rounds of perRound calls each (see the package doc
// for why rounds). It stops at the first error.
func TimeRuns(run func() error, warmup, rounds, perRound int) (Timing, error) {
	if rounds < 1 || perRound < 1 || warmup < 0 {
		return Timing{}, fmt.Errorf("wasmdemo: timing needs rounds >= 1 and perRound >= 1 (got %d and %d) and warmup >= 0 (got %d)", rounds, perRound, warmup)
	}
	for range warmup {
		if err := run(); err != nil {
			return Timing{}, err
		}
	}
	perRun := make([]time.Duration, rounds) // each round's time per run
	var total time.Duration
	for r := range rounds {
		start := time.Now()
		for range perRound {
			if err := run(); err != nil {
				return Timing{}, err
			}
		}
		elapsed := time.Since(start)
		total += elapsed
		perRun[r] = elapsed / time.Duration(perRound)
	}
	return Timing{
		Runs: rounds * perRound, Rounds: rounds, PerRound: perRound,
		MeanMS: ms(total) / float64(rounds*perRound), MedianMS: ms(bench.Summarize(perRun).P50),
	}, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
