package imagecodec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/ops/opstest"
)

func TestRegistrationsFollowSpec(t *testing.T) {
	opstest.CheckRegistrationsFollowSpec(t, []string{"ImageDecoder"})
}

// testImage is a 5x3 image with distinct colours and a varying alpha (which decoding drops).
func testImage() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for y := 0; y < 3; y++ {
		for x := 0; x < 5; x++ {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(40*x + 7), G: uint8(90 * y), B: uint8(250 - 30*x - 20*y), A: uint8(255 - 50*x)})
		}
	}
	return img
}

// expected lays out testImage's pixels as ImageDecoder must: RGB, BGR or Pillow's grayscale.
func expected(img *image.NRGBA, pixels pixelFormat) []uint8 {
	var out []uint8
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			c := img.NRGBAAt(x, y)
			switch pixels {
			case pixelRGB:
				out = append(out, c.R, c.G, c.B)
			case pixelBGR:
				out = append(out, c.B, c.G, c.R)
			default:
				out = append(out, uint8((19595*int(c.R)+38470*int(c.G)+7471*int(c.B)+32768)>>16))
			}
		}
	}
	return out
}

func decodeNode(stream []byte, pixelFormat string) opstest.Node {
	var attrs ops.AttrMap
	if pixelFormat != "" {
		attrs = ops.AttrMap{"pixel_format": ops.StringAttr(pixelFormat)}
	}
	return opstest.NewNode("ImageDecoder", 20, attrs, ops.FromSlice(ops.Shape{len(stream)}, stream))
}

func runDecode(t *testing.T, stream []byte, pixelFormat string) *ops.Tensor {
	t.Helper()
	out, err := opstest.Run(decodeNode(stream, pixelFormat))
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func TestLosslessFormats(t *testing.T) {
	src := testImage()
	opaque := image.NewNRGBA(src.Rect) // BMP keeps no alpha in x/image's encoder when the image is opaque
	copy(opaque.Pix, src.Pix)
	for i := 3; i < len(opaque.Pix); i += 4 {
		opaque.Pix[i] = 255
	}
	encode := map[string]func() ([]byte, *image.NRGBA, error){
		"PNG": func() ([]byte, *image.NRGBA, error) {
			var b bytes.Buffer
			err := png.Encode(&b, src)
			return b.Bytes(), src, err
		},
		"BMP": func() ([]byte, *image.NRGBA, error) {
			var b bytes.Buffer
			err := bmp.Encode(&b, opaque)
			return b.Bytes(), opaque, err
		},
		"TIFF": func() ([]byte, *image.NRGBA, error) {
			var b bytes.Buffer
			err := tiff.Encode(&b, src, &tiff.Options{Compression: tiff.Deflate})
			return b.Bytes(), src, err
		},
	}
	for name, enc := range encode {
		stream, img, err := enc()
		if err != nil {
			t.Fatal(err)
		}
		for _, pf := range []struct {
			attr   string
			pixels pixelFormat
			c      int
		}{{"", pixelRGB, 3}, {"BGR", pixelBGR, 3}, {"Grayscale", pixelGray, 1}} {
			t.Run(name+"/"+pf.attr, func(t *testing.T) {
				got := runDecode(t, stream, pf.attr)
				if want := (ops.Shape{3, 5, pf.c}); !got.Shape().Equal(want) {
					t.Fatalf("shape %v, want %v", got.Shape(), want)
				}
				if want := expected(img, pf.pixels); !slices.Equal(got.Data().([]uint8), want) {
					t.Errorf("got  %v\nwant %v", got.Data(), want)
				}
			})
		}
	}
}

func TestSixteenBitKeepsTheHighByte(t *testing.T) {
	img := image.NewRGBA64(image.Rect(0, 0, 2, 1))
	img.SetRGBA64(0, 0, color.RGBA64{R: 0x12ff, G: 0x3400, B: 0xfe01, A: 0xffff})
	img.SetRGBA64(1, 0, color.RGBA64{R: 0xffff, G: 0x00ff, B: 0x8080, A: 0xffff})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if got, want := runDecode(t, b.Bytes(), "RGB").Data().([]uint8), []uint8{0x12, 0x34, 0xfe, 0xff, 0x00, 0x80}; !slices.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
}

func TestGrayPNGStaysExact(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 3, 1))
	copy(img.Pix, []uint8{0, 77, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if got := runDecode(t, b.Bytes(), "Grayscale").Data().([]uint8); !slices.Equal(got, []uint8{0, 77, 255}) {
		t.Errorf("gray: %v", got)
	}
	if got := runDecode(t, b.Bytes(), "RGB").Data().([]uint8); !slices.Equal(got, []uint8{0, 0, 0, 77, 77, 77, 255, 255, 255}) {
		t.Errorf("gray as RGB: %v", got)
	}
}

// TestJPEGFancyUpsampling checks the chroma filter against libjpeg-turbo's h2v1 and h2v2 loops, worked by
// hand: a 6x4 image whose 4:2:0 chroma is the 3x2 plane [[0 100 200] [40 40 40]].
func TestJPEGFancyUpsampling(t *testing.T) {
	img := image.NewYCbCr(image.Rect(0, 0, 6, 4), image.YCbCrSubsampleRatio420)
	copy(img.Cb, []uint8{0, 100, 200, 40, 40, 40})
	up := upsampleChroma(img, img.Cb, 6, 4)
	// Row 0: near row 0, far row 0 (the edge repeats): h2v2 with this = 4*c, so (3*4a + 4b + bias) >> 4.
	// Columns: first (4*this+8)>>4 = 0; (3*0+400+7)>>4 = 25; (3*400+0+8)>>4 = 75; (1200+800+7)>>4 = 125;
	// (2400+400+8)>>4 = 175; last (4*800+7)>>4 = 200.
	if got, want := up[0:6], []uint8{0, 25, 75, 125, 175, 200}; !slices.Equal(got, want) {
		t.Errorf("row 0: %v, want %v", got, want)
	}
	// Row 1: near row 0, far row 1: this = 3*top + 40, so column sums 40, 340, 640.
	// (4*40+8)>>4 = 10; (120+340+7)>>4 = 29; (1020+40+8)>>4 = 66; (1020+640+7)>>4 = 104; (1920+340+8)>>4 = 141;
	// (4*640+7)>>4 = 160.
	if got, want := up[6:12], []uint8{10, 29, 66, 104, 141, 160}; !slices.Equal(got, want) {
		t.Errorf("row 1: %v, want %v", got, want)
	}
	// h2v1 (4:2:2): the first and last samples are copied, the others (3*near + far + 1 or 2) >> 2.
	img = image.NewYCbCr(image.Rect(0, 0, 6, 1), image.YCbCrSubsampleRatio422)
	copy(img.Cb, []uint8{0, 100, 200})
	if got, want := upsampleChroma(img, img.Cb, 6, 1), []uint8{0, 25, 75, 125, 175, 200}; !slices.Equal(got, want) {
		t.Errorf("h2v1: %v, want %v", got, want)
	}
	// Planes 2 samples wide or less are replicated, as libjpeg-turbo does.
	img = image.NewYCbCr(image.Rect(0, 0, 4, 1), image.YCbCrSubsampleRatio422)
	copy(img.Cb, []uint8{0, 100})
	if got, want := upsampleChroma(img, img.Cb, 4, 1), []uint8{0, 0, 100, 100}; !slices.Equal(got, want) {
		t.Errorf("narrow plane: %v, want %v", got, want)
	}
}

func TestYCbCrToRGBIsLibjpegs(t *testing.T) {
	// Values from libjpeg's tables: neutral chroma keeps the luma; pure red's JFIF triple comes back.
	for _, c := range []struct {
		y, cb, cr uint8
		r, g, b   uint8
	}{{128, 128, 128, 128, 128, 128}, {76, 85, 255, 254, 0, 0}, {0, 255, 255, 178, 0, 225}, {255, 0, 0, 76, 255, 28}} {
		r, g, b := ycbcrToRGB(c.y, c.cb, c.cr)
		if r != c.r || g != c.g || b != c.b {
			t.Errorf("YCbCr(%d,%d,%d) = RGB(%d,%d,%d), want (%d,%d,%d)", c.y, c.cb, c.cr, r, g, b, c.r, c.g, c.b)
		}
	}
}

func TestJPEGRoundTrip(t *testing.T) {
	// A flat image survives JPEG exactly enough to check layout and channel order.
	img := image.NewNRGBA(image.Rect(0, 0, 17, 9))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 200, 60, 20, 255
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	rgb := runDecode(t, b.Bytes(), "RGB").Data().([]uint8)
	bgr := runDecode(t, b.Bytes(), "BGR").Data().([]uint8)
	gray := runDecode(t, b.Bytes(), "Grayscale")
	if !gray.Shape().Equal(ops.Shape{9, 17, 1}) {
		t.Fatalf("gray shape %v", gray.Shape())
	}
	for i := 0; i < 17*9; i++ {
		r, g, bl := rgb[3*i], rgb[3*i+1], rgb[3*i+2]
		if absDiff(r, 200) > 3 || absDiff(g, 60) > 3 || absDiff(bl, 20) > 3 {
			t.Fatalf("pixel %d: RGB %d %d %d, want about 200 60 20", i, r, g, bl)
		}
		if bgr[3*i] != bl || bgr[3*i+2] != r {
			t.Fatalf("pixel %d: BGR %v is not RGB %v reversed", i, bgr[3*i:3*i+3], rgb[3*i:3*i+3])
		}
		if want := grayOf(r, g, bl); gray.Data().([]uint8)[i] != want {
			t.Fatalf("pixel %d: gray %d, want %d from its RGB", i, gray.Data().([]uint8)[i], want)
		}
	}
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestPNM(t *testing.T) {
	cases := []struct {
		name, stream string
		pixels       string
		shape        ops.Shape
		want         []uint8
	}{
		{"P6", "P6\n2 1\n255\n\x01\x02\x03\xfa\xfb\xfc", "RGB", ops.Shape{1, 2, 3}, []uint8{1, 2, 3, 250, 251, 252}},
		{"P6 as BGR", "P6 2 1 255 \x01\x02\x03\xfa\xfb\xfc", "BGR", ops.Shape{1, 2, 3}, []uint8{3, 2, 1, 252, 251, 250}},
		{"P3 with comments", "P3 # a comment\n2 1 # size\n15\n15 0 0   1 2 3\n", "RGB", ops.Shape{1, 2, 3}, []uint8{255, 0, 0, 17, 34, 51}},
		{"P5 maxval 15", "P5\n3 1\n15\n\x00\x07\x0f", "Grayscale", ops.Shape{1, 3, 1}, []uint8{0, 119, 255}},
		{"P2 gray as RGB", "P2 1 1 255 9", "RGB", ops.Shape{1, 1, 3}, []uint8{9, 9, 9}},
		{"P6 16-bit", "P6 1 1 65535 \x12\x34\xff\xff\x00\x00", "RGB", ops.Shape{1, 1, 3}, []uint8{18, 255, 0}},
		{"P1 packed digits", "P1\n3 1\n010", "Grayscale", ops.Shape{1, 3, 1}, []uint8{255, 0, 255}},
		{"P4", "P4\n10 1\n\x80\x40", "Grayscale", ops.Shape{1, 10, 1}, []uint8{0, 255, 255, 255, 255, 255, 255, 255, 255, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := runDecode(t, []byte(c.stream), c.pixels)
			if !got.Shape().Equal(c.shape) || !slices.Equal(got.Data().([]uint8), c.want) {
				t.Errorf("got %v %v, want %v %v", got.Shape(), got.Data(), c.shape, c.want)
			}
		})
	}
}

// pngHeader is a PNG signature and a valid IHDR declaring width x height, 8-bit gray, with no pixel data.
func pngHeader(width, height uint32) []byte {
	var b bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	s := b.Bytes()[:33] // signature (8) + IHDR chunk (length 4, type 4, data 13, CRC 4)
	binary.BigEndian.PutUint32(s[16:], width)
	binary.BigEndian.PutUint32(s[20:], height)
	binary.BigEndian.PutUint32(s[29:], crc32.ChecksumIEEE(s[12:29]))
	return s
}

func TestHostileStreams(t *testing.T) {
	var good bytes.Buffer
	if err := png.Encode(&good, testImage()); err != nil {
		t.Fatal(err)
	}
	var goodJPEG bytes.Buffer
	if err := jpeg.Encode(&goodJPEG, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, stream string
		errSub       string
		errIs        error
	}{
		{"empty", "", "the encoded stream is empty", ops.ErrInvalid},
		{"unknown magic", "GIF89a....", "none of BMP, JPEG, PNG, PNM, TIFF, WebP", ops.ErrUnsupported},
		{"JPEG 2000 box", "\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00", "JPEG 2000", ops.ErrUnsupported},
		{"JPEG 2000 codestream", "\xff\x4f\xff\x51\x00", "JPEG 2000", ops.ErrUnsupported},
		{"truncated PNG", string(good.Bytes()[:len(good.Bytes())/2]), "PNG", ops.ErrInvalid},
		{"huge PNG header", string(pngHeader(1<<20, 1<<20)), "want 1 to 134217728", ops.ErrInvalid},
		{"large PNG header, no data", string(pngHeader(4000, 4000)), "more than 10000 pixels a byte", ops.ErrInvalid},
		{"truncated JPEG", string(goodJPEG.Bytes()[:len(goodJPEG.Bytes())-40]), "JPEG", ops.ErrInvalid},
		{"JPEG magic only", "\xff\xd8\xff", "JPEG", ops.ErrInvalid},
		{"BMP magic only", "BM", "BMP", ops.ErrInvalid},
		{"TIFF magic only", "II*\x00", "TIFF", ops.ErrInvalid},
		{"WebP header only", "RIFF\x04\x00\x00\x00WEBP", "WebP", ops.ErrInvalid},
		{"PNM truncated samples", "P6 2 2 255 \x00\x01", "need 12", ops.ErrInvalid},
		{"PNM huge size", "P6 16777216 16777216 255 ", "want 1 to", ops.ErrInvalid},
		{"PNM large size, no data", "P6 2000 2000 255 ", "pixels a byte", ops.ErrInvalid},
		{"PNM size over the limit", "P6 99999999999 1 255 ", "width is over", ops.ErrInvalid},
		{"PNM zero width", "P5 0 1 255 ", "want 1 to", ops.ErrInvalid},
		{"PNM maxval 0", "P5 1 1 0 \x00", "maxval is 0", ops.ErrInvalid},
		{"PNM sample over maxval", "P5 1 1 10 \x0b", "over maxval 10", ops.ErrInvalid},
		{"PNM ASCII sample over maxval", "P2 1 1 10 11", "over 10", ops.ErrInvalid},
		{"PNM letters", "P2 1 x", "want a decimal number", ops.ErrInvalid},
		{"PNM no separator", "P5 1 1 255", "no whitespace after the header", ops.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := opstest.Run(decodeNode([]byte(c.stream), "RGB"))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.errSub) || !errors.Is(err, c.errIs) {
				t.Fatalf("error %q, want one containing %q that wraps %v", err, c.errSub, c.errIs)
			}
		})
	}
}

func TestBadNodes(t *testing.T) {
	stream := []byte("P5 1 1 255 \x00")
	opstest.RunCases(t, []opstest.Case{
		{Name: "pixel format", Op: "ImageDecoder", Opset: 20, Attrs: ops.AttrMap{"pixel_format": ops.StringAttr("RGBA")},
			Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{len(stream)}, stream)}, ErrSub: `"pixel_format" is "RGBA"`, ErrIs: ops.ErrInvalid},
		{Name: "int8 bytes", Op: "ImageDecoder", Opset: 20, Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1}, []int8{1})},
			ErrSub: "want a 1-D uint8 tensor"},
		{Name: "rank 2", Op: "ImageDecoder", Opset: 20, Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{1, len(stream)}, stream)},
			ErrSub: "want a 1-D uint8 tensor"},
		{Name: "bytes known only at run time", Op: "ImageDecoder", Opset: 20, Inputs: []*ops.Tensor{ops.FromSlice(ops.Shape{len(stream)}, stream)},
			NonConst: []int{0}, ErrSub: "output size is the encoded image's", ErrIs: ops.ErrDynamicShape},
	})
}

// FuzzImageDecoder feeds arbitrary bytes, seeded with a valid stream of each format, through the header
// check and the decoders: they must return an image of the declared size or an error, never panic or
// write out of bounds.
func FuzzImageDecoder(f *testing.F) {
	src := testImage()
	var b bytes.Buffer
	_ = png.Encode(&b, src)
	f.Add(slices.Clone(b.Bytes()))
	b.Reset()
	_ = jpeg.Encode(&b, src, nil)
	f.Add(slices.Clone(b.Bytes()))
	b.Reset()
	_ = bmp.Encode(&b, src)
	f.Add(slices.Clone(b.Bytes()))
	b.Reset()
	_ = tiff.Encode(&b, src, nil)
	f.Add(slices.Clone(b.Bytes()))
	f.Add([]byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00\x30\x01\x00\x9d\x01\x2a\x01\x00\x01\x00"))
	f.Add([]byte("P6 2 1 255 \x01\x02\x03\xfa\xfb\xfc"))
	f.Add([]byte("P3 1 1 15 1 2 3"))
	f.Add([]byte("P4 9 2 \xff\x80\x00\x00"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		if len(stream) > 1<<16 {
			return
		}
		for _, pf := range []string{"RGB", "Grayscale"} {
			out, err := opstest.Run(decodeNode(stream, pf))
			if err != nil {
				if !errors.Is(err, ops.ErrInvalid) && !errors.Is(err, ops.ErrUnsupported) {
					t.Fatalf("untyped error: %v", err)
				}
				continue
			}
			if s := out[0].Shape(); len(s) != 3 || s[0]*s[1] > MaxPixels {
				t.Fatalf("output shape %v", s)
			}
		}
	})
}
