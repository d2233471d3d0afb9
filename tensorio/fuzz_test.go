package tensorio

import (
	"archive/zip"
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx"
	"github.com/onnxrun/onnxrun/ops"
	"github.com/onnxrun/onnxrun/tensorconv"
)

// Fuzz targets for the readers a user points at their own files: .npz archives, .pb tensors and images
// (FuzzReadNPY is in npy_test.go). Each must never panic, must fail only with this package's or the onnx
// package's typed errors, and must give back well-formed tensors. `make fuzz` runs them; `go test`
// replays the seeds and the crashers saved under testdata/fuzz/.

// fuzzLimits keeps every fuzz input small: the fuzzer should spend its time on odd files, not on
// allocating what a header declares.
var fuzzLimits = Limits{MaxBytes: 1 << 20}

// requireTypedError fails unless err is one of the errors a reader documents.
func requireTypedError(t *testing.T, err error) {
	t.Helper()
	var fe *FormatError
	var ue *UnsupportedError
	var ofe *onnx.FormatError
	var oue *onnx.UnsupportedError
	if !errors.As(err, &fe) && !errors.As(err, &ue) && !errors.As(err, &ofe) && !errors.As(err, &oue) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

// requireWellFormed fails unless x's data has the type and length its dtype and shape call for.
func requireWellFormed(t *testing.T, x *ops.Tensor) {
	t.Helper()
	if _, err := ops.FromData(x.DType(), x.Shape(), x.Data()); err != nil {
		t.Fatalf("%s%v: %v", x.DType(), x.Shape(), err)
	}
}

// FuzzReadNPZ reads arbitrary bytes as an .npz archive; what it reads must write back and read again the
// same.
func FuzzReadNPZ(f *testing.F) {
	dir := f.TempDir()
	seed := func(arrays []NamedTensor) {
		path := filepath.Join(dir, "seed.npz")
		if err := WriteNPZ(path, arrays); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seed([]NamedTensor{{"x", ops.FromSlice(ops.Shape{2, 3}, []float32{1, 2, 3, 4, 5, 6})}})
	seed([]NamedTensor{{"a", ops.FromSlice(ops.Shape{3}, []int64{1, -2, 3})}, {"b", ops.FromSlice(ops.Shape{}, []bool{true})}})
	// A deflated member, as numpy.savez_compressed writes.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "z.npy", Method: zip.Deflate})
	if err != nil {
		f.Fatal(err)
	}
	if err := WriteNPY(w, ops.FromSlice(ops.Shape{4}, []float64{0, 1, 2, 3})); err != nil {
		f.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())

	f.Fuzz(func(t *testing.T, b []byte) {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return // not a zip: ReadNPZ reports that as a FormatError before reading members
		}
		arrays, err := fuzzLimits.readNPZ(zr, "fuzz.npz")
		if err != nil {
			requireTypedError(t, err)
			return
		}
		for _, a := range arrays {
			requireWellFormed(t, a.Tensor)
		}
		if len(arrays) == 0 {
			return
		}
		path := filepath.Join(t.TempDir(), "again.npz")
		if err := WriteNPZ(path, arrays); err != nil {
			// Names numpy accepts but a zip member cannot take back (empty, ending in /) are refused by name.
			var ue *UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("writing back what was read: %v", err)
			}
			return
		}
		again, err := ReadNPZ(path)
		if err != nil {
			t.Fatalf("reading back what WriteNPZ wrote: %v", err)
		}
		if len(again) != len(arrays) {
			t.Fatalf("read back %d arrays, wrote %d", len(again), len(arrays))
		}
		for i := range arrays {
			x, y := arrays[i].Tensor, again[i].Tensor
			if again[i].Name != arrays[i].Name || x.DType() != y.DType() || !x.Shape().Equal(y.Shape()) || !sameBits(x, y) {
				t.Fatalf("array %q changed on a write and read", arrays[i].Name)
			}
		}
	})
}

// FuzzReadPB reads arbitrary bytes as a .pb tensor file (a serialized TensorProto); what it reads must
// write back and read again the same.
func FuzzReadPB(f *testing.F) {
	dir := fastTempDir(f)
	for _, x := range []*ops.Tensor{
		ops.FromSlice(ops.Shape{2, 2}, []float32{1, 2, 3, 4}),
		ops.FromSlice(ops.Shape{3}, []int64{-1, 0, 1}),
		ops.FromSlice(ops.Shape{2}, []string{"a", "bc"}),
		ops.FromSlice(ops.Shape{}, []bool{true}),
		ops.FromSlice(ops.Shape{2}, []ops.Float16Bits{0x3c00, 0x7e00}),
	} {
		path := filepath.Join(dir, "seed.pb")
		if err := WritePB(path, x); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// A file beside the fuzzed one, which external data may try to name (it is inside the folder, so
	// reading it is allowed; nothing outside the folder may be read).
	if err := os.WriteFile(filepath.Join(dir, "data.bin"), make([]byte, 64), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "fuzz.pb")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		x, err := ReadPB(path)
		if err != nil {
			requireTypedError(t, err)
			return
		}
		requireWellFormed(t, x)
		again := filepath.Join(dir, "again.pb")
		if err := WritePB(again, x); err != nil {
			t.Fatalf("writing back a %s%v: %v", x.DType(), x.Shape(), err)
		}
		y, err := ReadPB(again)
		if err != nil {
			t.Fatalf("reading back what WritePB wrote: %v", err)
		}
		if x.DType() != y.DType() || !x.Shape().Equal(y.Shape()) || !samePB(t, x, y) {
			t.Fatalf("%s%v changed on a write and read", x.DType(), x.Shape())
		}
	})
}

// fastTempDir is a temporary folder in memory (/dev/shm) when there is one: FuzzReadPB writes a file per
// input, which on some disks costs milliseconds.
func fastTempDir(f *testing.F) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "onnxrun-fuzz-"); err == nil {
			f.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return f.TempDir()
}

// samePB compares two tensors bit for bit through their TensorProto encoding (NaNs included, and the
// element types .npy cannot hold).
func samePB(t *testing.T, x, y *ops.Tensor) bool {
	t.Helper()
	enc := func(x *ops.Tensor) []byte {
		tp, err := onnx.NewTensorProto("", tensorconv.ToArray(x))
		if err != nil {
			t.Fatalf("%s%v: %v", x.DType(), x.Shape(), err)
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(tp)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return bytes.Equal(enc(x), enc(y))
}

// fuzzImageMaxPixels skips pictures that declare more pixels than this: the decoder's own limit is far
// larger, and decoding big pictures is slow work, not odd input.
const fuzzImageMaxPixels = 1 << 16

// FuzzDecodeImage decodes arbitrary bytes as a picture, with options (channels, layout, size, dtype,
// scaling) taken from the first bytes.
func FuzzDecodeImage(f *testing.F) {
	img := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 37)
	}
	var seeds [][]byte
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, append([]byte(nil), b.Bytes()...))
	b.Reset()
	if err := jpeg.Encode(&b, img, nil); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, append([]byte(nil), b.Bytes()...))
	b.Reset()
	pal := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White})
	if err := gif.Encode(&b, pal, nil); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, append([]byte(nil), b.Bytes()...))
	b.Reset()
	gray := image.NewGray(image.Rect(0, 0, 7, 2))
	if err := png.Encode(&b, gray); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, append([]byte(nil), b.Bytes()...))
	for i, s := range seeds {
		f.Add(byte(i), byte(i*3), byte(4+i), byte(3), s)
	}

	layouts := []string{"NCHW", "NHWC", "CHW", "HWC", "HW"}
	channels := []int{1, 3, 4, 2}
	dtypes := []ops.DType{ops.Float32, ops.Uint8, ops.Float64, ops.Float16, ops.BFloat16, ops.Int64}
	f.Fuzz(func(t *testing.T, layout, ch, size, scale byte, data []byte) {
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && int64(cfg.Width)*int64(cfg.Height) > fuzzImageMaxPixels {
			return
		}
		opts := ImageOptions{
			Layout:   layouts[int(layout)%len(layouts)],
			Channels: channels[int(ch)%len(channels)],
			Height:   int(size % 17),
			Width:    int(size/17) % 17,
			DType:    dtypes[int(ch/4)%len(dtypes)],
			Invert:   scale&1 == 1,
		}
		switch scale % 4 {
		case 1:
			opts.Scale, opts.Mean, opts.Std = 1, []float64{127.5}, []float64{127.5}
		case 2:
			opts.Mean, opts.Std = []float64{0.5, 0.5, 0.5}, []float64{0.25, 0.5, 0}
		case 3:
			opts.Std = []float64{0}
		}
		x, err := DecodeImage(bytes.NewReader(data), opts)
		if err != nil {
			requireTypedError(t, err)
			return
		}
		requireWellFormed(t, x)
		if x.DType() != opts.DType {
			t.Fatalf("asked for %s, got %s", opts.DType, x.DType())
		}
		want := map[string]int{"NCHW": 4, "NHWC": 4, "CHW": 3, "HWC": 3, "HW": 2}[opts.Layout]
		if x.Rank() != want {
			t.Fatalf("layout %s gave shape %v", opts.Layout, x.Shape())
		}
	})
}
