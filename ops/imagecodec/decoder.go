package imagecodec

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"github.com/onnxrun/onnxrun/ops"
)

// ImageDecoder decodes the image in a 1-D uint8 tensor into a [H, W, C] uint8 tensor, C = 3 for
// pixel_format RGB (the default) and BGR, 1 for Grayscale:
// https://onnx.ai/onnx/operators/onnx__ImageDecoder.html. Opset 20 (its only version).
func init() {
	ops.Register("", "ImageDecoder", ops.Since(20, buildImageDecoder))
}

// MaxPixels bounds H*W of an image ImageDecoder accepts, checked on the header before the decoder
// allocates anything: 2^27 pixels (a 11585x11585 square) is 384 MiB of RGB output.
const MaxPixels = 1 << 27

// A stream may declare at most maxPixelsPerByte pixels per byte it holds (beyond minPixelBudget pixels),
// so that a header of a few bytes cannot make the decoder allocate MaxPixels' worth before it finds the
// data missing. Real codecs stay far below on real images (JPEG under 200 pixels a byte, a 1-bit PNG
// under 8,300); a flat lossless WebP could exceed it, and is refused.
const (
	maxPixelsPerByte = 10000
	minPixelBudget   = 1 << 20
)

// pixelFormat is the layout of the output's channels.
type pixelFormat uint8

const (
	pixelRGB pixelFormat = iota
	pixelBGR
	pixelGray
)

func (p pixelFormat) channels() int {
	if p == pixelGray {
		return 1
	}
	return 3
}

// format is an image file format, told by its first bytes.
type format uint8

const (
	formatPNG format = iota
	formatJPEG
	formatBMP
	formatTIFF
	formatWebP
	formatPNM
)

func (f format) String() string {
	return [...]string{"PNG", "JPEG", "BMP", "TIFF", "WebP", "PNM"}[f]
}

// DecodeError is an encoded image that cannot be decoded: a corrupt or truncated stream, or one that
// declares a size over MaxPixels. It wraps ops.ErrInvalid and the decoder's own error.
type DecodeError struct {
	Format string // "PNG", "JPEG", ...; "image" when the format was not recognised
	Err    error
}

func (e *DecodeError) Error() string { return fmt.Sprintf("ImageDecoder: %s: %v", e.Format, e.Err) }

// Unwrap returns ops.ErrInvalid and the decoder's error.
func (e *DecodeError) Unwrap() []error { return []error{ops.ErrInvalid, e.Err} }

// sniff tells the format from the stream's first bytes.
func sniff(b []byte) (format, error) {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG, nil
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return formatJPEG, nil
	case bytes.HasPrefix(b, []byte("BM")):
		return formatBMP, nil
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return formatTIFF, nil
	case len(b) >= 12 && bytes.HasPrefix(b, []byte("RIFF")) && string(b[8:12]) == "WEBP":
		return formatWebP, nil
	case len(b) >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6':
		return formatPNM, nil
	case bytes.HasPrefix(b, []byte("\x00\x00\x00\x0cjP  \r\n\x87\n")), bytes.HasPrefix(b, []byte{0xff, 0x4f, 0xff, 0x51}):
		return 0, ops.Unsupportedf("ImageDecoder: JPEG 2000 is not decoded by onnxrun (BMP, JPEG, PNG, PNM, TIFF and WebP are)")
	case len(b) == 0:
		return 0, &DecodeError{Format: "image", Err: errors.New("the encoded stream is empty")}
	}
	head := b[:min(len(b), 8)]
	return 0, ops.Unsupportedf("ImageDecoder: the stream starts with % x, which is none of BMP, JPEG, PNG, PNM, TIFF, WebP", head)
}

// codec reads a format's header (config) or whole image (decode).
type codec struct {
	config func([]byte) (image.Config, error)
	decode func([]byte) (image.Image, error)
}

// codecs is indexed by format.
var codecs = [...]codec{
	formatPNG:  {readerConfig(png.DecodeConfig), readerDecode(png.Decode)},
	formatJPEG: {readerConfig(jpeg.DecodeConfig), readerDecode(jpeg.Decode)},
	formatBMP:  {readerConfig(bmp.DecodeConfig), readerDecode(bmp.Decode)},
	formatTIFF: {readerConfig(tiff.DecodeConfig), readerDecode(tiff.Decode)},
	formatWebP: {readerConfig(webp.DecodeConfig), readerDecode(webp.Decode)},
	formatPNM: {func(b []byte) (image.Config, error) {
		h, err := readPNMHeader(b)
		return image.Config{Width: h.width, Height: h.height}, err
	}, decodePNM},
}

func readerConfig(f func(io.Reader) (image.Config, error)) func([]byte) (image.Config, error) {
	return func(b []byte) (image.Config, error) { return f(bytes.NewReader(b)) }
}

func readerDecode(f func(io.Reader) (image.Image, error)) func([]byte) (image.Image, error) {
	return func(b []byte) (image.Image, error) { return f(bytes.NewReader(b)) }
}

// guard turns a decoder's panic on hostile bytes into a DecodeError: the standard and x/image decoders
// are fuzzed, but the kernel must never take the process down for a bad image.
func guard(f format, err *error) {
	if r := recover(); r != nil {
		*err = &DecodeError{Format: f.String(), Err: fmt.Errorf("decoder panicked: %v", r)}
	}
}

// readConfig returns the format and the size the stream's header declares, checked against MaxPixels.
func readConfig(b []byte) (f format, width, height int, err error) {
	if f, err = sniff(b); err != nil {
		return 0, 0, 0, err
	}
	defer guard(f, &err)
	cfg, err := codecs[f].config(b)
	if err != nil {
		return f, 0, 0, &DecodeError{Format: f.String(), Err: err}
	}
	pixels := int64(cfg.Width) * int64(cfg.Height)
	if cfg.Width <= 0 || cfg.Height <= 0 || pixels > MaxPixels {
		return f, 0, 0, &DecodeError{Format: f.String(), Err: fmt.Errorf("the header declares %dx%d pixels, want 1 to %d", cfg.Width, cfg.Height, MaxPixels)}
	}
	if pixels > minPixelBudget && pixels > maxPixelsPerByte*int64(len(b)) {
		return f, 0, 0, &DecodeError{Format: f.String(), Err: fmt.Errorf("the header declares %dx%d pixels in a stream of %d bytes, more than %d pixels a byte",
			cfg.Width, cfg.Height, len(b), maxPixelsPerByte)}
	}
	return f, cfg.Width, cfg.Height, nil
}

// decode decodes a stream whose header readConfig accepted.
func decode(b []byte, f format) (img image.Image, err error) {
	defer guard(f, &err)
	img, err = codecs[f].decode(b)
	if err != nil {
		return nil, &DecodeError{Format: f.String(), Err: err}
	}
	return img, nil
}

type imageDecoderOp struct{ pixels pixelFormat }

func buildImageDecoder(n ops.NodeInfo) (ops.Op, error) {
	r := ops.NewAttrReader(n.Attrs)
	name := r.String("pixel_format", "RGB")
	if err := r.Err(); err != nil {
		return nil, err
	}
	op := &imageDecoderOp{}
	switch name {
	case "RGB":
		op.pixels = pixelRGB
	case "BGR":
		op.pixels = pixelBGR
	case "Grayscale":
		op.pixels = pixelGray
	default:
		return nil, &ops.AttrError{Name: "pixel_format", Msg: fmt.Sprintf("is %q, want RGB, BGR or Grayscale", name)}
	}
	return op, nil
}

// ShapeInputs: the output's size is the image's, read from the stream.
func (op *imageDecoderOp) ShapeInputs() []int { return []int{0} }

func (op *imageDecoderOp) InferShapes(in []ops.ValueInfo) ([]ops.ValueInfo, error) {
	if err := ops.CheckInputCount(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	if x.DType != ops.Uint8 || len(x.Shape) != 1 {
		return nil, ops.Invalidf("ImageDecoder input is %s%v, want a 1-D uint8 tensor of encoded bytes", x.DType, x.Shape)
	}
	if x.Const == nil {
		return nil, ops.Dynamicf("ImageDecoder's output size is the encoded image's")
	}
	_, w, h, err := readConfig(x.Const.Data().([]uint8))
	if err != nil {
		return nil, err
	}
	return []ops.ValueInfo{{DType: ops.Uint8, Shape: ops.Shape{h, w, op.pixels.channels()}}}, nil
}

func (op *imageDecoderOp) Prepare(in, _ []ops.ValueInfo) (ops.Kernel, error) {
	if _, err := op.InferShapes(in); err != nil {
		return nil, err
	}
	return op, nil
}

// Run makes imageDecoderOp its own kernel: it holds only the pixel format. It reads the header again
// rather than trusting the plan's, since the bytes are the input's at this Run.
func (op *imageDecoderOp) Run(_ *ops.ExecContext, in, out []*ops.Tensor) error {
	b := in[0].Data().([]uint8)
	f, w, h, err := readConfig(b)
	if err != nil {
		return err
	}
	if want := (ops.Shape{h, w, op.pixels.channels()}); !out[0].Shape().Equal(want) {
		return ops.Invalidf("ImageDecoder: the image is %v, the plan expected %v", want, out[0].Shape())
	}
	img, err := decode(b, f)
	if err != nil {
		return err
	}
	if bounds := img.Bounds(); bounds.Dx() != w || bounds.Dy() != h {
		return &DecodeError{Format: f.String(), Err: fmt.Errorf("the header declares %dx%d pixels, the decoder gave %dx%d", w, h, bounds.Dx(), bounds.Dy())}
	}
	y := out[0].Data().([]uint8)
	switch img := img.(type) {
	case *image.YCbCr:
		switch f {
		case formatJPEG:
			writeJPEG(img, op.pixels, y)
			return nil
		case formatWebP:
			writeWebP(img, op.pixels, y)
			return nil
		}
	case *image.NYCbCrA: // a lossy WebP with an alpha plane, which is dropped
		if f == formatWebP {
			writeWebP(&img.YCbCr, op.pixels, y)
			return nil
		}
	}
	writePixels(img, op.pixels, y)
	return nil
}

// writePixels stores img in y as [H, W, C] bytes: 8-bit samples (16-bit ones keep their high byte),
// alpha dropped rather than composited, gray from colour by grayOf.
func writePixels(img image.Image, pixels pixelFormat, y []uint8) {
	b := img.Bounds()
	i := 0
	for row := b.Min.Y; row < b.Max.Y; row++ {
		for col := b.Min.X; col < b.Max.X; col++ {
			if g, ok := img.At(col, row).(color.Gray); ok && pixels == pixelGray {
				y[i] = g.Y
				i++
				continue
			}
			c := color.NRGBA64Model.Convert(img.At(col, row)).(color.NRGBA64)
			r, g, bl := uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8)
			i += storePixel(y[i:], pixels, r, g, bl)
		}
	}
}

// storePixel writes one pixel in the output layout and returns the bytes written.
func storePixel(y []uint8, pixels pixelFormat, r, g, b uint8) int {
	switch pixels {
	case pixelRGB:
		y[0], y[1], y[2] = r, g, b
		return 3
	case pixelBGR:
		y[0], y[1], y[2] = b, g, r
		return 3
	}
	y[0] = grayOf(r, g, b)
	return 1
}

// grayOf is ITU-R 601-2 luma, 0.299 R + 0.587 G + 0.114 B, in the 16-bit fixed point and rounding of
// Pillow's convert("L"), which ONNX's reference implementation (and so the node tests' references) uses.
func grayOf(r, g, b uint8) uint8 {
	return uint8((19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 1<<15) >> 16)
}
