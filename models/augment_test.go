package models

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// TestAugmentShiftAndFlip moves a single lit pixel: a shift moves it by at most Shift each way, whole
// (no blur at whole-pixel offsets); a flip mirrors it or leaves it, nothing else.
func TestAugmentShiftAndFlip(t *testing.T) {
	const rows, cols = 7, 9
	scratch := make([]float32, rows*cols)
	moved := map[[2]int]bool{}
	for seed := uint64(0); seed < 200; seed++ {
		img := make([]float32, rows*cols)
		img[3*cols+4] = 1
		Augment{Shift: 2}.apply(img, scratch, rows, cols, rand.New(rand.NewPCG(seed, 1)))
		lit := -1
		for i, v := range img {
			switch {
			case v == 1 && lit < 0:
				lit = i
			case v != 0:
				t.Fatalf("seed %d: pixel %d is %v after a whole-pixel shift, want 0 or one 1", seed, i, v)
			}
		}
		r, c := lit/cols-3, lit%cols-4
		if lit < 0 || r < -2 || r > 2 || c < -2 || c > 2 {
			t.Fatalf("seed %d: the pixel moved by (%d, %d), want at most 2 each way", seed, r, c)
		}
		moved[[2]int{r, c}] = true
	}
	if len(moved) != 25 {
		t.Errorf("200 shifts reached %d of the 25 offsets", len(moved))
	}
	flips := 0
	for seed := uint64(0); seed < 50; seed++ {
		img := make([]float32, rows*cols)
		img[2*cols+1] = 1
		Augment{Flip: true}.apply(img, scratch, rows, cols, rand.New(rand.NewPCG(seed, 2)))
		switch {
		case img[2*cols+cols-2] == 1:
			flips++
		case img[2*cols+1] != 1:
			t.Fatalf("seed %d: a flip neither mirrored nor kept the pixel", seed)
		}
	}
	if flips < 10 || flips > 40 {
		t.Errorf("%d of 50 images flipped, want about half", flips)
	}
}

// TestAugmentRotationKeepsCentredMass rotates a centred disc: it stays (it is round), up to bilinear
// blur at its edge.
func TestAugmentRotationKeepsCentredMass(t *testing.T) {
	const n = 15
	img := make([]float32, n*n)
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			if (r-7)*(r-7)+(c-7)*(c-7) <= 16 {
				img[r*n+c] = 1
			}
		}
	}
	orig := slices.Clone(img)
	Augment{Rotate: 30}.apply(img, make([]float32, n*n), n, n, rand.New(rand.NewPCG(3, 3)))
	var before, after float32
	for i := range img {
		before += orig[i]
		after += img[i]
	}
	if img[7*n+7] != 1 || after < 0.9*before || after > 1.1*before {
		t.Errorf("rotated disc: centre %v, mass %v, want 1 and about %v", img[7*n+7], after, before)
	}
}

// TestAugmentDoesNotDependOnThreads trains one step at 1 and at 3 threads with augmentation: the
// augmented inputs, gathered over the workers, are the same.
func TestAugmentDoesNotDependOnThreads(t *testing.T) {
	ds := &Dataset{Name: "random", N: 6, Rows: 8, Cols: 8, Classes: 2, Images: make([]uint8, 6*64), Labels: make([]uint8, 6)}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range ds.Images {
		ds.Images[i] = uint8(rng.IntN(256))
	}
	inputs := func(threads int) []float32 {
		net, err := NewSequential(ops.Shape{1, 8, 8}, &Flatten{}, &Dense{Units: 2})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(net, Config{Epochs: 1, BatchSize: 6, Threads: threads, Seed: 5, Augment: Augment{Shift: 2, Flip: true, Rotate: 15}})
		if err != nil {
			t.Fatal(err)
		}
		var all []float32
		for step := 0; step < 2; step++ { // the second step draws new transforms
			if _, _, err := tr.step(ds, []int{0, 1, 2, 3, 4, 5}, true, nil); err != nil {
				t.Fatal(err)
			}
			for _, w := range tr.workers {
				all = append(all, w.last.x.Float32s()...)
			}
		}
		return all
	}
	one, three := inputs(1), inputs(3)
	if !slices.Equal(one, three) {
		t.Fatal("the augmented inputs at 3 threads differ from those at 1")
	}
	plain := make([]float32, 6*64)
	ds.fill(plain, make([]uint8, 6), []int{0, 1, 2, 3, 4, 5})
	if slices.Equal(one[:6*64], plain) || slices.Equal(one[:6*64], one[6*64:]) {
		t.Fatal("augmentation left the images alone, or drew the same transforms twice")
	}
}
