package tensorio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registered for image.Decode
	_ "image/jpeg"
	_ "image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/onnxrun/onnxrun/ops"
)

// maxImagePixels bounds the decoded size of an image (a PNG header can claim 2^31 × 2^31 pixels in a few
// bytes); 2^28 pixels is a 16384 × 16384 picture.
const maxImagePixels = 1 << 28

// ImageOptions says how a picture becomes a model input: which layout, channels and size the tensor has
// and how pixel values 0..255 are scaled. ImageOptionsFor derives the first three from a model input's
// declaration.
type ImageOptions struct {
	// Layout is the tensor layout: "NCHW", "NHWC" (a batch of one image), "CHW", "HWC" or "HW" (one
	// channel, no channel axis).
	Layout string
	// Channels is 1 (luma, as PIL's convert("L") computes it: 0.299 R + 0.587 G + 0.114 B), 3 (RGB) or 4
	// (RGBA). Colours are taken without alpha premultiplication, as PIL does.
	Channels int
	// Height and Width are the size to resize to; 0 keeps the image's own size in that direction.
	Height, Width int
	// DType is the element type: Float32, Float64, Float16 or BFloat16, scaled as below, or Uint8, the raw
	// pixel values with no scaling.
	DType ops.DType
	// Scale multiplies pixel values 0..255 (0 means 1/255, giving 0..1); then Mean is subtracted and the
	// result divided by Std. Mean and Std hold one value for every channel or one per channel; nil means
	// 0 and 1.
	Scale     float64
	Mean, Std []float64
	// Invert replaces each value v by 255 - v before scaling: a dark digit drawn on white paper becomes
	// the white-on-black digit MNIST models were trained on.
	Invert bool
}

// IsImageFile reports whether path names a picture ReadImage decodes, by its extension: .png, .jpg,
// .jpeg or .gif (any letter case).
func IsImageFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png", ".jpg", ".jpeg", ".gif":
		return true
	}
	return false
}

// ImageOptionsFor derives the layout, channels and size of an image input from a model input's declared
// dims (-1 for a symbolic or unknown dimension) and element type. Rank 4 is a batch of one: N,C,H,W when
// the second dimension is 1, 3 or 4 and the last is not, else N,H,W,C when the last is; rank 3 is C,H,W
// or H,W,C by the same rule; rank 2 is H,W. A symbolic height or width keeps the image's own size.
// Scaling is left at its defaults (0..1).
func ImageOptionsFor(dims []int64, dtype ops.DType) (ImageOptions, error) {
	isChannels := func(d int64) bool { return d == 1 || d == 3 || d == 4 }
	size := func(d int64) int {
		if d < 0 {
			return 0
		}
		return int(d)
	}
	o := ImageOptions{DType: dtype}
	switch dtype {
	case ops.Float32, ops.Float64, ops.Float16, ops.BFloat16, ops.Uint8:
	default:
		return o, fmt.Errorf("an image becomes a float or uint8 tensor; this input is %s", dtype)
	}
	var c, h, w int64
	switch len(dims) {
	case 4:
		if dims[0] > 1 {
			return o, fmt.Errorf("an image is a batch of one; this input's batch is fixed at %d", dims[0])
		}
		switch {
		case isChannels(dims[1]) && !isChannels(dims[3]):
			o.Layout, c, h, w = "NCHW", dims[1], dims[2], dims[3]
		case isChannels(dims[3]):
			o.Layout, c, h, w = "NHWC", dims[3], dims[1], dims[2]
		default:
			return o, fmt.Errorf("cannot tell which axis holds the channels: neither dimension 1 nor 3 is 1, 3 or 4")
		}
	case 3:
		switch {
		case isChannels(dims[0]) && !isChannels(dims[2]):
			o.Layout, c, h, w = "CHW", dims[0], dims[1], dims[2]
		case isChannels(dims[2]):
			o.Layout, c, h, w = "HWC", dims[2], dims[0], dims[1]
		default:
			return o, fmt.Errorf("cannot tell which axis holds the channels: neither dimension 0 nor 2 is 1, 3 or 4")
		}
	case 2:
		o.Layout, c, h, w = "HW", 1, dims[0], dims[1]
	default:
		return o, fmt.Errorf("an image input has rank 2, 3 or 4; this one has rank %d", len(dims))
	}
	o.Channels, o.Height, o.Width = int(c), size(h), size(w)
	return o, nil
}

// ReadImage decodes a PNG, JPEG or GIF file into a tensor as opts says. See DecodeImage.
func ReadImage(path string, opts ImageOptions) (*ops.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := decodeImage(f, opts, path)
	return t, err
}

// DecodeImage decodes a PNG, JPEG or GIF picture and makes it a tensor: converted to opts.Channels,
// resized to opts.Height × opts.Width with PIL's antialiased bilinear filter (a triangle filter widened by
// the reduction factor when shrinking, so that every source pixel contributes), optionally inverted,
// scaled, and laid out as opts.Layout.
func DecodeImage(r io.Reader, opts ImageOptions) (*ops.Tensor, error) {
	return decodeImage(r, opts, "")
}

func decodeImage(r io.Reader, opts ImageOptions, file string) (*ops.Tensor, error) {
	if err := opts.check(); err != nil {
		return nil, &UnsupportedError{File: file, What: err.Error()}
	}
	// Check the declared size before decoding the pixels.
	var head bytes.Buffer
	cfg, _, err := image.DecodeConfig(io.TeeReader(r, &head))
	if err != nil {
		return nil, imageError(file, err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return nil, &UnsupportedError{File: file, What: fmt.Sprintf("image of %d×%d pixels, over the limit of %d pixels", cfg.Width, cfg.Height, maxImagePixels)}
	}
	img, _, err := image.Decode(io.MultiReader(&head, r))
	if err != nil {
		return nil, imageError(file, err)
	}
	return opts.imageTensor(img), nil
}

// ImageTensor makes an image already in memory a tensor as DecodeImage does with a file's picture:
// converted to opts.Channels, resized, optionally inverted, scaled and laid out as opts says. The
// WebAssembly demo gives it a digit drawn on a canvas.
func ImageTensor(img image.Image, opts ImageOptions) (*ops.Tensor, error) {
	if err := opts.check(); err != nil {
		return nil, &UnsupportedError{What: err.Error()}
	}
	if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > maxImagePixels {
		return nil, &UnsupportedError{What: fmt.Sprintf("image of %d×%d pixels, over the limit of %d pixels", b.Dx(), b.Dy(), maxImagePixels)}
	}
	return opts.imageTensor(img), nil
}

// imageTensor is ImageTensor once opts and the size are checked.
func (o *ImageOptions) imageTensor(img image.Image) *ops.Tensor {
	planes, w, h := imagePlanes(img, o.Channels)
	outW, outH := o.Width, o.Height
	if outW == 0 {
		outW = w
	}
	if outH == 0 {
		outH = h
	}
	if outW != w || outH != h {
		for c := range planes {
			planes[c] = resizePlane(planes[c], w, h, outW, outH)
		}
	}
	return o.tensor(planes, outW, outH)
}

func imageError(file string, err error) error {
	if errors.Is(err, image.ErrFormat) {
		return &UnsupportedError{File: file, What: "not a PNG, JPEG or GIF image"}
	}
	return &FormatError{File: file, Format: "image", What: "decoding", Err: err}
}

func (o *ImageOptions) check() error {
	switch o.Layout {
	case "NCHW", "NHWC", "CHW", "HWC":
	case "HW":
		if o.Channels != 1 {
			return fmt.Errorf("layout HW holds one channel, not %d", o.Channels)
		}
	default:
		return fmt.Errorf("image layout %q: want NCHW, NHWC, CHW, HWC or HW", o.Layout)
	}
	if o.Channels != 1 && o.Channels != 3 && o.Channels != 4 {
		return fmt.Errorf("an image has 1, 3 or 4 channels, not %d", o.Channels)
	}
	if o.Height < 0 || o.Width < 0 || int64(o.Height)*int64(o.Width) > maxImagePixels {
		return fmt.Errorf("image size %d×%d: want positive sizes of at most %d pixels", o.Width, o.Height, maxImagePixels)
	}
	switch o.DType {
	case ops.Float32, ops.Float64, ops.Float16, ops.BFloat16, ops.Uint8:
	default:
		return fmt.Errorf("an image becomes a float or uint8 tensor, not %s", o.DType)
	}
	for _, v := range [][]float64{o.Mean, o.Std} {
		switch {
		case len(v) == 0 || len(v) == 1 || len(v) == o.Channels:
		case o.Channels == 1:
			return fmt.Errorf("--mean and --std take one value for a 1-channel image, got %d", len(v))
		default:
			return fmt.Errorf("--mean and --std take 1 or %d values (one per channel), got %d", o.Channels, len(v))
		}
	}
	for _, s := range o.Std {
		if s == 0 {
			return fmt.Errorf("std must not be 0")
		}
	}
	return nil
}

// imagePlanes converts img to channels planes of float64 values 0..255, row-major.
func imagePlanes(img image.Image, channels int) ([][]float64, int, int) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	planes := make([][]float64, channels)
	for c := range planes {
		planes[c] = make([]float64, w*h)
	}
	if g, ok := img.(*image.Gray); ok && channels == 1 {
		for y := range h {
			row := g.Pix[y*g.Stride : y*g.Stride+w]
			for x, v := range row {
				planes[0][y*w+x] = float64(v)
			}
		}
		return planes, w, h
	}
	for y := range h {
		for x := range w {
			px := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			i := y*w + x
			switch channels {
			case 1:
				// PIL's fixed-point ITU-R 601 luma; for a grey pixel (R = G = B) it is the grey value itself.
				planes[0][i] = float64((uint32(px.R)*19595 + uint32(px.G)*38470 + uint32(px.B)*7471 + 0x8000) >> 16)
			case 3, 4:
				planes[0][i], planes[1][i], planes[2][i] = float64(px.R), float64(px.G), float64(px.B)
				if channels == 4 {
					planes[3][i] = float64(px.A)
				}
			}
		}
	}
	return planes, w, h
}

// resizePlane resamples a w×h plane to outW×outH, one axis at a time, as PIL's Image.resize does with
// the BILINEAR filter: each output pixel is the triangle-weighted mean of the source pixels around its
// centre, the triangle widened by the scale factor when shrinking.
func resizePlane(src []float64, w, h, outW, outH int) []float64 {
	tmp := make([]float64, outW*h)
	cx := resampleWeights(w, outW)
	for y := range h {
		row := src[y*w : (y+1)*w]
		for x, c := range cx {
			s := 0.0
			for k, wt := range c.weights {
				s += row[c.first+k] * wt
			}
			tmp[y*outW+x] = s
		}
	}
	out := make([]float64, outW*outH)
	cy := resampleWeights(h, outH)
	for y, c := range cy {
		for x := range outW {
			s := 0.0
			for k, wt := range c.weights {
				s += tmp[(c.first+k)*outW+x] * wt
			}
			out[y*outW+x] = s
		}
	}
	return out
}

type resampleTaps struct {
	first   int
	weights []float64
}

// resampleWeights computes, for each of out output positions along an axis of in pixels, the source
// pixels it averages and their normalised triangle-filter weights.
func resampleWeights(in, out int) []resampleTaps {
	scale := float64(in) / float64(out)
	filterScale := max(scale, 1)
	support := filterScale // the triangle filter's support is 1, widened when shrinking
	taps := make([]resampleTaps, out)
	for i := range taps {
		center := (float64(i) + 0.5) * scale
		// PIL rounds the window's ends to the nearest pixel boundary.
		lo := max(int(math.Floor(center-support+0.5)), 0)
		hi := min(int(math.Floor(center+support+0.5)), in)
		ws := make([]float64, 0, hi-lo)
		total := 0.0
		for x := lo; x < hi; x++ {
			wt := 1 - math.Abs((float64(x)-center+0.5)/filterScale)
			if wt < 0 {
				wt = 0
			}
			ws = append(ws, wt)
			total += wt
		}
		if total > 0 {
			for k := range ws {
				ws[k] /= total
			}
		}
		taps[i] = resampleTaps{first: lo, weights: ws}
	}
	return taps
}

// tensor scales the planes and lays them out.
func (o *ImageOptions) tensor(planes [][]float64, w, h int) *ops.Tensor {
	channels := len(planes)
	scale := o.Scale
	if scale == 0 {
		scale = 1.0 / 255
	}
	at := func(v []float64, c int, def float64) float64 {
		switch len(v) {
		case 0:
			return def
		case 1:
			return v[0]
		}
		return v[c]
	}
	var shape ops.Shape
	channelsLast := false
	switch o.Layout {
	case "NCHW":
		shape = ops.Shape{1, channels, h, w}
	case "NHWC":
		shape, channelsLast = ops.Shape{1, h, w, channels}, true
	case "CHW":
		shape = ops.Shape{channels, h, w}
	case "HWC":
		shape, channelsLast = ops.Shape{h, w, channels}, true
	case "HW":
		shape = ops.Shape{h, w}
	}
	t := ops.New(o.DType, shape)
	var set func(j int, v float64) // stores a scaled value (or, for uint8, the raw pixel)
	switch d := t.Data().(type) {
	case []uint8:
		set = func(j int, v float64) { d[j] = uint8(math.Round(min(max(v, 0), 255))) }
	case []float32:
		set = func(j int, v float64) { d[j] = float32(v) }
	case []float64:
		set = func(j int, v float64) { d[j] = v }
	case []ops.Float16Bits:
		set = func(j int, v float64) { d[j] = ops.Float16FromFloat32(float32(v)) }
	case []ops.BFloat16Bits:
		set = func(j int, v float64) { d[j] = ops.BFloat16FromFloat32(float32(v)) }
	}
	raw := o.DType == ops.Uint8
	for c, plane := range planes {
		mean, std := at(o.Mean, c, 0), at(o.Std, c, 1)
		for i, v := range plane {
			if o.Invert {
				v = 255 - v
			}
			j := i*channels + c
			if !channelsLast {
				j = c*w*h + i
			}
			if raw {
				set(j, v)
			} else {
				set(j, (v*scale-mean)/std)
			}
		}
	}
	return t
}
