package tensorio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

func TestImageOptionsFor(t *testing.T) {
	tests := []struct {
		dims   []int64
		dtype  ops.DType
		layout string
		c      int
		h, w   int
		err    string
	}{
		{[]int64{-1, 1, 28, 28}, ops.Float32, "NCHW", 1, 28, 28, ""},
		{[]int64{1, 3, 224, 224}, ops.Float32, "NCHW", 3, 224, 224, ""},
		{[]int64{-1, 28, 28, 1}, ops.Float32, "NHWC", 1, 28, 28, ""},
		{[]int64{-1, 224, 224, 3}, ops.Uint8, "NHWC", 3, 224, 224, ""},
		{[]int64{-1, 3, -1, -1}, ops.Float32, "NCHW", 3, 0, 0, ""},
		{[]int64{-1, -1, -1, 3}, ops.Float32, "NHWC", 3, 0, 0, ""},
		{[]int64{3, 32, 32}, ops.Float64, "CHW", 3, 32, 32, ""},
		{[]int64{32, 32, 1}, ops.Float16, "HWC", 1, 32, 32, ""},
		{[]int64{28, 28}, ops.Float32, "HW", 1, 28, 28, ""},
		{[]int64{-1, 8, 28, 28}, ops.Float32, "", 0, 0, 0, "cannot tell which axis holds the channels"},
		{[]int64{4, 1, 28, 28}, ops.Float32, "", 0, 0, 0, "batch is fixed at 4"},
		{[]int64{-1, 784}, ops.Int64, "", 0, 0, 0, "float or uint8 tensor; this input is int64"},
		{[]int64{784}, ops.Float32, "", 0, 0, 0, "rank 2, 3 or 4; this one has rank 1"},
	}
	for _, tc := range tests {
		o, err := ImageOptionsFor(tc.dims, tc.dtype)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v %s: error %v, want %q", tc.dims, tc.dtype, err, tc.err)
			}
			continue
		}
		if err != nil || o.Layout != tc.layout || o.Channels != tc.c || o.Height != tc.h || o.Width != tc.w || o.DType != tc.dtype {
			t.Errorf("%v %s: got %+v, %v; want %s c=%d %dx%d", tc.dims, tc.dtype, o, err, tc.layout, tc.c, tc.h, tc.w)
		}
	}
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A 2×3 RGBA picture with distinct colours; pixel (x, y) is at index y*3 + x.
func colourImage() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	px := []color.NRGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {10, 20, 30, 255}, {200, 100, 50, 128}, {0, 0, 0, 0}}
	for i, c := range px {
		img.SetNRGBA(i%3, i/3, c)
	}
	return img
}

func TestDecodeImageLayoutsAndChannels(t *testing.T) {
	raw := encodePNG(t, colourImage())
	r := []float32{255, 0, 0, 10, 200, 0}
	g := []float32{0, 255, 0, 20, 100, 0}
	b := []float32{0, 0, 255, 30, 50, 0}
	a := []float32{255, 255, 255, 255, 128, 0}
	luma := []float32{76, 150, 29, 18, 124, 0} // (19595 R + 38470 G + 7471 B + 2^15) >> 16, as PIL's convert("L")
	interleave := func(planes ...[]float32) []float32 {
		var out []float32
		for i := range planes[0] {
			for _, p := range planes {
				out = append(out, p[i])
			}
		}
		return out
	}
	concat := func(planes ...[]float32) []float32 {
		var out []float32
		for _, p := range planes {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		layout   string
		channels int
		shape    ops.Shape
		want     []float32
	}{
		{"NCHW", 3, ops.Shape{1, 3, 2, 3}, concat(r, g, b)},
		{"NHWC", 3, ops.Shape{1, 2, 3, 3}, interleave(r, g, b)},
		{"CHW", 4, ops.Shape{4, 2, 3}, concat(r, g, b, a)},
		{"HWC", 4, ops.Shape{2, 3, 4}, interleave(r, g, b, a)},
		{"NCHW", 1, ops.Shape{1, 1, 2, 3}, luma},
		{"HW", 1, ops.Shape{2, 3}, luma},
	}
	for _, tc := range tests {
		got, err := DecodeImage(bytes.NewReader(raw), ImageOptions{Layout: tc.layout, Channels: tc.channels, DType: ops.Float32, Scale: 1})
		if err != nil {
			t.Fatalf("%s/%d: %v", tc.layout, tc.channels, err)
		}
		if !got.Shape().Equal(tc.shape) || !reflect.DeepEqual(got.Float32s(), tc.want) {
			t.Errorf("%s/%d: got %v %v, want %v %v", tc.layout, tc.channels, got.Shape(), got.Float32s(), tc.shape, tc.want)
		}
	}
}

func TestDecodeImageScaling(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 2, 1))
	gray.Pix = []uint8{0, 255}
	raw := encodePNG(t, gray)
	tests := []struct {
		name string
		opts ImageOptions
		want any
	}{
		{"default 0..1", ImageOptions{DType: ops.Float32}, []float32{0, 1}},
		{"scale 1", ImageOptions{DType: ops.Float32, Scale: 1}, []float32{0, 255}},
		{"mean and std", ImageOptions{DType: ops.Float64, Mean: []float64{0.5}, Std: []float64{0.25}}, []float64{-2, 2}},
		{"invert", ImageOptions{DType: ops.Float32, Invert: true}, []float32{1, 0}},
		{"uint8 is raw", ImageOptions{DType: ops.Uint8, Scale: 7, Mean: []float64{3}}, []uint8{0, 255}},
		{"float16", ImageOptions{DType: ops.Float16}, []ops.Float16Bits{ops.Float16FromFloat32(0), ops.Float16FromFloat32(1)}},
	}
	for _, tc := range tests {
		tc.opts.Layout, tc.opts.Channels = "HW", 1
		got, err := DecodeImage(bytes.NewReader(raw), tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got.Data(), tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got.Data(), tc.want)
		}
	}
	// Per-channel mean and std, ImageNet style.
	rgb := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	rgb.SetNRGBA(0, 0, color.NRGBA{255, 255, 255, 255})
	got, err := DecodeImage(bytes.NewReader(encodePNG(t, rgb)), ImageOptions{Layout: "CHW", Channels: 3, DType: ops.Float64,
		Mean: []float64{0.485, 0.456, 0.406}, Std: []float64{0.229, 0.224, 0.225}})
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range []float64{(1 - 0.485) / 0.229, (1 - 0.456) / 0.224, (1 - 0.406) / 0.225} {
		if d := got.Float64s()[c]; math.Abs(d-want) > 1e-12 {
			t.Errorf("channel %d: %v, want %v", c, d, want)
		}
	}
}

// Resizing follows PIL's BILINEAR filter: a triangle whose support widens with the reduction factor,
// weights normalised, window ends rounded to the nearest pixel.
func TestResize(t *testing.T) {
	// Shrinking 4 → 2: centre 1.0, support 2, taps 0..2 with weights 0.75, 0.75, 0.25 (over 1.75).
	row := []float64{10, 20, 40, 80}
	got := resizePlane(row, 4, 1, 2, 1)
	want0 := (0.75*10 + 0.75*20 + 0.25*40) / 1.75
	want1 := (0.25*20 + 0.75*40 + 0.75*80) / 1.75
	if math.Abs(got[0]-want0) > 1e-9 || math.Abs(got[1]-want1) > 1e-9 {
		t.Errorf("4→2: got %v, want [%v %v]", got, want0, want1)
	}
	// Enlarging 2 → 4: plain linear interpolation, clamped at the edges.
	got = resizePlane([]float64{0, 100}, 2, 1, 4, 1)
	if want := []float64{0, 25, 75, 100}; !closeAll(got, want) {
		t.Errorf("2→4: got %v, want %v", got, want)
	}
	// Same size is the identity; a constant image stays constant at any size.
	flat := make([]float64, 5*7)
	for i := range flat {
		flat[i] = 42
	}
	for _, size := range [][2]int{{5, 7}, {3, 2}, {11, 13}, {1, 1}} {
		out := resizePlane(flat, 5, 7, size[0], size[1])
		for _, v := range out {
			if math.Abs(v-42) > 1e-9 {
				t.Fatalf("5×7→%v: a constant image became %v", size, out)
			}
		}
	}
	// Through DecodeImage: a 56×56 picture of 2×2 blocks resized to 28×28 gives back the blocks.
	big := image.NewGray(image.Rect(0, 0, 56, 56))
	small := make([]float32, 28*28)
	for i := range small {
		small[i] = float32((i * 37) % 256)
	}
	for y := range 56 {
		for x := range 56 {
			big.Pix[y*56+x] = uint8(small[(y/2)*28+x/2])
		}
	}
	out, err := DecodeImage(bytes.NewReader(encodePNG(t, big)), ImageOptions{Layout: "NCHW", Channels: 1, Height: 28, Width: 28, DType: ops.Float32, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Shape().Equal(ops.Shape{1, 1, 28, 28}) {
		t.Fatalf("shape %v", out.Shape())
	}
	// PIL's filter reaches one block past each side, so compare with the blocks' own values loosely at the
	// interior and exactly on a flat region.
	flatBig := image.NewGray(image.Rect(0, 0, 56, 56))
	for i := range flatBig.Pix {
		flatBig.Pix[i] = 200
	}
	out, err = DecodeImage(bytes.NewReader(encodePNG(t, flatBig)), ImageOptions{Layout: "HW", Channels: 1, Height: 28, Width: 28, DType: ops.Float32, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out.Float32s() {
		if math.Abs(float64(v)-200) > 1e-4 {
			t.Fatalf("a flat 56×56 image resized to 28×28 holds %v", v)
		}
	}
}

func closeAll(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9 {
			return false
		}
	}
	return true
}

func TestReadImageFiles(t *testing.T) {
	dir := t.TempDir()
	digit := image.NewGray(image.Rect(0, 0, 28, 28))
	for i := range digit.Pix {
		digit.Pix[i] = uint8(i % 251)
	}
	pngPath := filepath.Join(dir, "digit.png")
	if err := os.WriteFile(pngPath, encodePNG(t, digit), 0o644); err != nil {
		t.Fatal(err)
	}
	opts, err := ImageOptionsFor([]int64{-1, 1, 28, 28}, ops.Float32)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadImage(pngPath, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got.Float32s() {
		if want := float32(i%251) / 255; math.Abs(float64(v-want)) > 1e-7 {
			t.Fatalf("pixel %d: %v, want %v", i, v, want)
		}
	}
	// A JPEG of a flat colour reads back that colour within JPEG's rounding.
	rgb := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < len(rgb.Pix); i += 4 {
		copy(rgb.Pix[i:], []uint8{200, 100, 50, 255})
	}
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, rgb, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	jpgPath := filepath.Join(dir, "flat.JPG")
	if err := os.WriteFile(jpgPath, jb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if !IsImageFile(jpgPath) || IsImageFile("x.npy") {
		t.Errorf("IsImageFile")
	}
	got, err = ReadImage(jpgPath, ImageOptions{Layout: "NHWC", Channels: 3, Height: 4, Width: 4, DType: ops.Float32, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got.Float32s() {
		want := []float32{200, 100, 50}[i%3]
		if math.Abs(float64(v-want)) > 3 {
			t.Fatalf("element %d: %v, want about %v", i, v, want)
		}
	}
}

// pngHeader is a PNG signature and IHDR chunk claiming width × height, with no pixel data.
func pngHeader(width, height uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], width)
	binary.BigEndian.PutUint32(ihdr[4:], height)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestDecodeImageErrors(t *testing.T) {
	gray := encodePNG(t, image.NewGray(image.Rect(0, 0, 2, 2)))
	good := ImageOptions{Layout: "NCHW", Channels: 1, DType: ops.Float32}
	tests := []struct {
		name   string
		data   []byte
		opts   ImageOptions
		want   string
		format bool
	}{
		{"not an image", []byte("hello, world"), good, "not a PNG, JPEG or GIF image", false},
		{"truncated PNG", gray[:len(gray)-20], good, "malformed .image", true},
		{"huge declared size", pngHeader(100000, 100000), good, "image of 100000×100000 pixels, over the limit", false},
		{"bad layout", gray, ImageOptions{Layout: "NWHC", Channels: 1, DType: ops.Float32}, `image layout "NWHC"`, false},
		{"two channels", gray, ImageOptions{Layout: "NCHW", Channels: 2, DType: ops.Float32}, "1, 3 or 4 channels, not 2", false},
		{"HW with colour", gray, ImageOptions{Layout: "HW", Channels: 3, DType: ops.Float32}, "layout HW holds one channel", false},
		{"int64", gray, ImageOptions{Layout: "NCHW", Channels: 1, DType: ops.Int64}, "float or uint8 tensor, not int64", false},
		{"mean of two for three channels", gray, ImageOptions{Layout: "NCHW", Channels: 3, DType: ops.Float32, Mean: []float64{1, 2}}, "take 1 or 3 values (one per channel), got 2", false},
		{"zero std", gray, ImageOptions{Layout: "NCHW", Channels: 1, DType: ops.Float32, Std: []float64{0}}, "std must not be 0", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeImage(bytes.NewReader(tc.data), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			var fe *FormatError
			var ue *UnsupportedError
			if tc.format && !errors.As(err, &fe) || !tc.format && !errors.As(err, &ue) {
				t.Errorf("error type %T", err)
			}
		})
	}
	if _, err := ReadImage(filepath.Join(t.TempDir(), "none.png"), good); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// ImageTensor gives what DecodeImage gives for the same picture, and a sub-image (a crop, as the
// WebAssembly demo takes around a drawn digit) reads its own pixels.
func TestImageTensor(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 6, 4))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 10)
	}
	opts := ImageOptions{Layout: "NCHW", Channels: 1, Height: 2, Width: 3, DType: ops.Float32}
	want, err := DecodeImage(bytes.NewReader(encodePNG(t, gray)), opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ImageTensor(gray, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Float32s(), want.Float32s()) || !reflect.DeepEqual(got.Shape(), want.Shape()) {
		t.Errorf("ImageTensor: %v %v, DecodeImage: %v %v", got.Shape(), got.Float32s(), want.Shape(), want.Float32s())
	}

	crop := gray.SubImage(image.Rect(2, 1, 4, 3))
	got, err = ImageTensor(crop, ImageOptions{Layout: "HW", Channels: 1, DType: ops.Float32, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	if wantCrop := []float32{80, 90, 140, 150}; !reflect.DeepEqual(got.Float32s(), wantCrop) {
		t.Errorf("crop (2,1)-(4,3): %v, want %v", got.Float32s(), wantCrop)
	}

	if _, err := ImageTensor(gray, ImageOptions{Layout: "HW", Channels: 3, DType: ops.Float32}); err == nil ||
		!strings.Contains(err.Error(), "layout HW holds one channel") {
		t.Errorf("HW with 3 channels: got %v, want the layout error", err)
	}
}
