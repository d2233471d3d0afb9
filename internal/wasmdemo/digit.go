package wasmdemo

import (
	"fmt"
	"image"
	"math"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorio"
)

// LeNet's input: one grey 28x28 picture; MNIST's digits fill a 20x20 box inside it.
const (
	digitSide    = 28
	digitBoxSide = 20
	// inkThreshold is the grey level (0..255, after inversion) above which a pixel counts as ink when
	// looking for the digit's box: it ignores the faint antialiased edge of a stroke and canvas noise.
	inkThreshold = 32
)

// InputError reports a canvas that cannot be a digit: a size that does not match its pixels, or no ink.
type InputError struct{ What string }

func (e *InputError) Error() string { return "wasmdemo: " + e.What }

// Canvas is a picture as a browser's CanvasRenderingContext2D.getImageData returns it: Width*Height
// pixels of 4 bytes (R, G, B, A), row by row.
type Canvas struct {
	Width, Height int
	RGBA          []byte
	// DarkOnLight says the digit is drawn dark on a light background, as on paper; the picture is
	// inverted to MNIST's white on black.
	DarkOnLight bool
}

// grey returns the canvas's luma (ITU-R 601, as tensorio computes it), inverted when DarkOnLight, as ink
// levels 0..255. A transparent pixel is background.
func (c Canvas) grey() (*image.Gray, error) {
	if c.Width <= 0 || c.Height <= 0 || len(c.RGBA) != 4*c.Width*c.Height {
		return nil, &InputError{What: fmt.Sprintf("canvas of %dx%d pixels needs %d RGBA bytes, got %d", c.Width, c.Height, 4*c.Width*c.Height, len(c.RGBA))}
	}
	g := image.NewGray(image.Rect(0, 0, c.Width, c.Height))
	for i := range g.Pix {
		px := c.RGBA[4*i : 4*i+4]
		luma := (uint32(px[0])*19595 + uint32(px[1])*38470 + uint32(px[2])*7471 + 0x8000) >> 16
		if c.DarkOnLight {
			luma = 255 - luma
		}
		// Composite over the background: transparent pixels carry no ink.
		g.Pix[i] = uint8(luma * uint32(px[3]) / 255)
	}
	return g, nil
}

// DigitInput makes the canvas LeNet's input: a [1,1,28,28] float32 tensor, white on black, 0..1, the
// digit's box scaled to 20x20 and centred on its centre of mass as MNIST's are (see the package doc).
func DigitInput(c Canvas) (*ops.Tensor, error) {
	g, err := c.grey()
	if err != nil {
		return nil, err
	}
	box, ok := inkBox(g)
	if !ok {
		return nil, &InputError{What: "the canvas is blank: draw a digit"}
	}
	cx, cy := centreOfMass(g, box)
	// The square around the centre of mass that holds the box at 20/28 of its side.
	side := int(math.Ceil(float64(max(box.Dx(), box.Dy())) * digitSide / digitBoxSide))
	square := image.NewGray(image.Rect(0, 0, side, side))
	offX, offY := int(math.Round(float64(side)/2-cx)), int(math.Round(float64(side)/2-cy))
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			if p := (image.Point{X: x + offX, Y: y + offY}); p.In(square.Rect) {
				square.SetGray(p.X, p.Y, g.GrayAt(x, y))
			}
		}
	}
	return tensorio.ImageTensor(square, tensorio.ImageOptions{
		Layout: "NCHW", Channels: 1, Height: digitSide, Width: digitSide, DType: ops.Float32,
	})
}

// inkBox returns the smallest rectangle holding every pixel above inkThreshold; ok is false when none is.
func inkBox(g *image.Gray) (box image.Rectangle, ok bool) {
	b := g.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if g.GrayAt(x, y).Y <= inkThreshold {
				continue
			}
			px := image.Rect(x, y, x+1, y+1)
			if !ok {
				box, ok = px, true
			} else {
				box = box.Union(px)
			}
		}
	}
	return box, ok
}

// centreOfMass returns the ink-weighted mean position of the pixels in box (their centres, in the
// picture's coordinates), as MNIST centres its digits; box holds ink, so the total weight is positive.
func centreOfMass(g *image.Gray, box image.Rectangle) (cx, cy float64) {
	var sum, sx, sy float64
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			w := float64(g.GrayAt(x, y).Y)
			sum += w
			sx += w * (float64(x) + 0.5)
			sy += w * (float64(y) + 0.5)
		}
	}
	return sx / sum, sy / sum
}
