package models

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes encodes an unsigned-byte IDX file.
func idxBytes(dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadIDX(t *testing.T) {
	images := idxBytes([]uint32{2, 2, 3}, []byte{0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255})
	corruptGz := gz(images)
	corruptGz[len(corruptGz)-6] ^= 0xff // the CRC-32 in the gzip trailer
	cases := []struct {
		name     string
		contents []byte
		wantDims []int
		wantErr  string
	}{
		{"plain", images, []int{2, 2, 3}, ""},
		{"gzipped", gz(images), []int{2, 2, 3}, ""},
		{"labels", idxBytes([]uint32{3}, []byte{7, 8, 9}), []int{3}, ""},
		{"truncated", images[:len(images)-1], nil, "need 12 data bytes, the file has 11"},
		{"truncated gzip", gz(images)[:20], nil, "not a valid IDX file"},
		{"extra bytes", append(append([]byte(nil), images...), 1), nil, "the file has more"},
		{"bad magic", append([]byte{1, 0}, images[2:]...), nil, "does not start with two zero bytes"},
		{"float type", append([]byte{0, 0, 0x0d}, images[3:]...), nil, "element type code 0x0d"},
		{"zero dimension", idxBytes([]uint32{0, 28, 28}, nil), nil, "empty or too large"},
		{"huge dimension", idxBytes([]uint32{1 << 20, 1 << 20}, nil), nil, "empty or too large"},
		{"corrupt gzip checksum", corruptGz, nil, "checksum"},
		{"empty", nil, nil, "magic number"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, dir, strings.ReplaceAll(c.name, " ", "_"), c.contents)
			dims, data, err := ReadIDX(p)
			if c.wantErr != "" {
				var ie *IDXError
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !errors.As(err, &ie) || ie.Path != p {
					t.Fatalf("error %v, want an *IDXError for %s containing %q", err, p, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(dims) != len(c.wantDims) {
				t.Fatalf("dims %v, want %v", dims, c.wantDims)
			}
			for i := range dims {
				if dims[i] != c.wantDims[i] {
					t.Fatalf("dims %v, want %v", dims, c.wantDims)
				}
			}
			if c.name != "labels" && (data[0] != 0 || data[11] != 255) {
				t.Errorf("data %v", data)
			}
		})
	}
	if _, _, err := ReadIDX(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: error %v, want one saying missing", err)
	}
}

func TestLoadMNIST(t *testing.T) {
	images := idxBytes([]uint32{3, 2, 2}, []byte{0, 255, 0, 255, 1, 2, 3, 4, 5, 6, 7, 8})
	labels := idxBytes([]uint32{3}, []byte{1, 9, 0})
	t.Run("plain and gzipped mixed", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, trainImages+".gz", gz(images))
		writeFile(t, dir, trainLabels, labels)
		writeFile(t, dir, testImages, images)
		writeFile(t, dir, testLabels+".gz", gz(labels))
		train, test, err := LoadMNIST(dir)
		if err != nil {
			t.Fatal(err)
		}
		if train.N != 3 || test.N != 3 || train.Rows != 2 || train.Labels[1] != 9 {
			t.Fatalf("train %+v", train)
		}
		x := train.Tensor(0, 2)
		if got := x.Float32s(); !x.Shape().Equal([]int{2, 1, 2, 2}) || got[1] != 1 || got[0] != 0 || got[4] != 1.0/255 {
			t.Fatalf("tensor %v %v", x.Shape(), got)
		}
		if s := train.Subset(2); s.N != 2 || len(s.Labels) != 2 || len(s.Images) != 8 {
			t.Fatalf("subset %+v", s)
		}
	})
	errCases := []struct {
		name    string
		files   map[string][]byte
		wantErr string
	}{
		{"missing file", map[string][]byte{trainImages: images, trainLabels: labels, testImages: images}, "t10k-labels-idx1-ubyte.gz: missing"},
		{"label count", map[string][]byte{trainImages: images, trainLabels: idxBytes([]uint32{2}, []byte{1, 2}), testImages: images, testLabels: labels},
			"dimensions [2], want [3]: one label per image"},
		{"label range", map[string][]byte{trainImages: images, trainLabels: idxBytes([]uint32{3}, []byte{1, 10, 2}), testImages: images, testLabels: labels},
			"label 10 of image 1 is not below 10 classes"},
		{"images rank", map[string][]byte{trainImages: labels, trainLabels: labels, testImages: images, testLabels: labels},
			"dimensions [3], want 3 (images x rows x columns)"},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range c.files {
				writeFile(t, dir, name, b)
			}
			_, _, err := LoadMNIST(dir)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
	if _, _, err := LoadMNIST(filepath.Join(t.TempDir(), "absent")); err == nil || !strings.Contains(err.Error(), "make data") {
		t.Errorf("absent folder: error %v, want a hint to run make data", err)
	}
}
