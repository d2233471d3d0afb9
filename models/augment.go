package models

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Augment is random image augmentation applied to every training example (never to evaluation): a
// shift of up to Shift pixels each way (a random crop of the image padded by Shift, the padding black),
// a horizontal flip with probability 1/2 when Flip, and a rotation by up to Rotate degrees either way
// (bilinear, about the image centre). The draws for an example depend only on Config.Seed and the
// example's position in the run, not on the thread that runs it, so a run stays reproducible.
type Augment struct {
	Shift  int
	Flip   bool
	Rotate float64 // degrees
}

func (a Augment) enabled() bool { return a.Shift > 0 || a.Flip || a.Rotate > 0 }

func (a Augment) check() error {
	if a.Shift < 0 || !(a.Rotate >= 0 && a.Rotate <= 180) {
		return fmt.Errorf("models: augmentation shift %d and rotation %g degrees, want shift >= 0 and 0 <= rotation <= 180", a.Shift, a.Rotate)
	}
	return nil
}

// apply transforms one rows x cols image in place, using scratch (same size) and draws from rng. Each
// output pixel samples the source at the inverse transform of its position; outside the image is 0.
func (a Augment) apply(img, scratch []float32, rows, cols int, rng *rand.Rand) {
	dx, dy := 0, 0
	if a.Shift > 0 {
		dx, dy = rng.IntN(2*a.Shift+1)-a.Shift, rng.IntN(2*a.Shift+1)-a.Shift
	}
	flip := a.Flip && rng.IntN(2) == 1
	angle := 0.0
	if a.Rotate > 0 {
		angle = (2*rng.Float64() - 1) * a.Rotate * math.Pi / 180
	}
	if dx == 0 && dy == 0 && !flip && angle == 0 {
		return
	}
	copy(scratch, img)
	sin, cos := math.Sincos(angle)
	cy, cx := float64(rows-1)/2, float64(cols-1)/2
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			// Undo the shift, then the rotation, then the flip.
			y, x := float64(r-dy)-cy, float64(c-dx)-cx
			sy, sx := cos*y-sin*x+cy, sin*y+cos*x+cx
			if flip {
				sx = float64(cols-1) - sx
			}
			img[r*cols+c] = bilinear(scratch, rows, cols, sy, sx)
		}
	}
}

// bilinear samples img at (y, x), with 0 outside the image.
func bilinear(img []float32, rows, cols int, y, x float64) float32 {
	y0, x0 := math.Floor(y), math.Floor(x)
	fy, fx := float32(y-y0), float32(x-x0)
	r0, c0 := int(y0), int(x0)
	at := func(r, c int) float32 {
		if r < 0 || r >= rows || c < 0 || c >= cols {
			return 0
		}
		return img[r*cols+c]
	}
	top := at(r0, c0)*(1-fx) + at(r0, c0+1)*fx
	bottom := at(r0+1, c0)*(1-fx) + at(r0+1, c0+1)*fx
	return top*(1-fy) + bottom*fy
}
