package imagecodec

import (
	"errors"
	"fmt"
	"image"
)

// The portable anymaps (Netpbm): P1/P4 bitmaps (1 is black), P2/P5 graymaps and P3/P6 pixmaps, the first
// of each pair in ASCII, the second in binary. A header is the magic number, then width, height and (except
// for bitmaps) maxval as ASCII decimals separated by whitespace, with '#' comments to the end of the line;
// binary samples follow one whitespace byte, one byte each for maxval < 256 and two (big-endian) otherwise,
// bitmap rows packed 8 pixels a byte and padded to a byte. Samples are scaled to 0..255 as
// round(v*255/maxval).

// pnmHeader is what a PNM header declares, and where its samples start.
type pnmHeader struct {
	kind          byte // '1'..'6'
	width, height int
	maxval        int
	data          int // offset of the first sample (binary) or of the text after the header (ASCII)
}

// pnmScanner reads the whitespace-separated decimals of a PNM header or ASCII body.
type pnmScanner struct {
	b   []byte
	pos int
}

func isPNMSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// skip passes whitespace and comments.
func (s *pnmScanner) skip() {
	for s.pos < len(s.b) {
		switch c := s.b[s.pos]; {
		case isPNMSpace(c):
			s.pos++
		case c == '#':
			for s.pos < len(s.b) && s.b[s.pos] != '\n' && s.b[s.pos] != '\r' {
				s.pos++
			}
		default:
			return
		}
	}
}

// number reads a decimal of at most limit; bitmaps' ASCII samples ("0110") are one digit each, so digits
// stops after that many digits (0: no limit).
func (s *pnmScanner) number(what string, limit, digits int) (int, error) {
	s.skip()
	start, v := s.pos, 0
	for s.pos < len(s.b) && s.b[s.pos] >= '0' && s.b[s.pos] <= '9' && (digits == 0 || s.pos-start < digits) {
		v = v*10 + int(s.b[s.pos]-'0')
		if v > limit {
			return 0, fmt.Errorf("%s is over %d", what, limit)
		}
		s.pos++
	}
	if s.pos == start {
		if s.pos >= len(s.b) {
			return 0, fmt.Errorf("the stream ends before the %s", what)
		}
		return 0, fmt.Errorf("the %s is %q, want a decimal number", what, s.b[s.pos])
	}
	return v, nil
}

// readPNMHeader parses the header; the size limits keep width*height within int before MaxPixels is
// checked.
func readPNMHeader(b []byte) (pnmHeader, error) {
	if len(b) < 2 || b[0] != 'P' || b[1] < '1' || b[1] > '6' {
		return pnmHeader{}, errors.New("no P1..P6 magic number")
	}
	h := pnmHeader{kind: b[1], maxval: 1}
	s := &pnmScanner{b: b, pos: 2}
	var err error
	if h.width, err = s.number("width", 1<<24, 0); err != nil {
		return h, err
	}
	if h.height, err = s.number("height", 1<<24, 0); err != nil {
		return h, err
	}
	if h.kind != '1' && h.kind != '4' {
		if h.maxval, err = s.number("maxval", 65535, 0); err != nil {
			return h, err
		}
		if h.maxval == 0 {
			return h, errors.New("maxval is 0")
		}
	}
	if h.kind >= '4' {
		// Exactly one whitespace byte separates the header from binary samples.
		if s.pos >= len(b) || !isPNMSpace(b[s.pos]) {
			return h, errors.New("no whitespace after the header")
		}
		s.pos++
	}
	h.data = s.pos
	return h, nil
}

// channels is 3 for pixmaps, 1 otherwise.
func (h pnmHeader) channels() int {
	if h.kind == '3' || h.kind == '6' {
		return 3
	}
	return 1
}

// decodePNM decodes a whole PNM stream into an *image.Gray or an *image.RGBA (opaque).
func decodePNM(b []byte) (image.Image, error) {
	h, err := readPNMHeader(b)
	if err != nil {
		return nil, err
	}
	n := h.width * h.height * h.channels()
	samples := make([]uint8, n)
	scale := func(v int) uint8 { return uint8((v*255 + h.maxval/2) / h.maxval) }
	switch h.kind {
	case '1', '2', '3':
		s := &pnmScanner{b: b, pos: h.data}
		digits := 0
		if h.kind == '1' {
			digits = 1
		}
		for i := range samples {
			v, err := s.number(fmt.Sprintf("sample %d", i), h.maxval, digits)
			if err != nil {
				return nil, err
			}
			if h.kind == '1' {
				samples[i] = uint8(v) // a bit, mapped below
			} else {
				samples[i] = scale(v)
			}
		}
	case '4':
		rowBytes := (h.width + 7) / 8
		body := b[h.data:]
		if len(body) < rowBytes*h.height {
			return nil, fmt.Errorf("the bitmap holds %d bytes, %dx%d pixels need %d", len(body), h.width, h.height, rowBytes*h.height)
		}
		for row := 0; row < h.height; row++ {
			for col := 0; col < h.width; col++ {
				bit := body[row*rowBytes+col/8] >> (7 - col%8) & 1
				samples[row*h.width+col] = uint8(bit)
			}
		}
	default: // '5', '6'
		size := 1
		if h.maxval > 255 {
			size = 2
		}
		body := b[h.data:]
		if len(body) < n*size {
			return nil, fmt.Errorf("the stream holds %d sample bytes, %dx%d pixels need %d", len(body), h.width, h.height, n*size)
		}
		for i := range samples {
			v := int(body[i*size])
			if size == 2 {
				v = v<<8 | int(body[i*size+1])
			}
			if v > h.maxval {
				return nil, fmt.Errorf("sample %d is %d, over maxval %d", i, v, h.maxval)
			}
			samples[i] = scale(v)
		}
	}
	if h.kind == '1' || h.kind == '4' {
		for i, bit := range samples { // 1 is black in a bitmap
			samples[i] = 255 * (1 - bit)
		}
	}
	rect := image.Rect(0, 0, h.width, h.height)
	if h.channels() == 1 {
		return &image.Gray{Pix: samples, Stride: h.width, Rect: rect}, nil
	}
	img := image.NewRGBA(rect)
	for i := 0; i < h.width*h.height; i++ {
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = samples[3*i], samples[3*i+1], samples[3*i+2], 255
	}
	return img, nil
}
