package models

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strings"
	"unicode"
)

// point is a position, in data or pixel coordinates (pixels: y grows downwards).
type point struct{ x, y float64 }

type textAlign int

const (
	alignStart textAlign = iota
	alignMiddle
	alignEnd
)

// canvas is what the curves are drawn on: an SVG document or a PNG image.
type canvas interface {
	rect(x, y, w, h float64, fill color.RGBA)
	polyline(pts []point, c color.RGBA, width float64)
	dot(center point, radius float64, c color.RGBA)
	// text writes s centred vertically on at.y, aligned on at.x; vertical text reads bottom to top, centred
	// on at. scale 1 is the small size (ticks, labels, legend), 2 the titles.
	text(at point, s string, scale int, align textAlign, vertical bool)
	encode(w io.Writer) error
}

// Glyph metrics of the bitmap font, in pixels at scale 1; the SVG canvas lays text out with the same widths.
const (
	glyphWidth, glyphHeight = 5, 7
	glyphAdvance            = glyphWidth + 1
)

func textWidth(s string, scale int) float64 {
	n := len([]rune(s))
	if n == 0 {
		return 0
	}
	return float64((n*glyphAdvance - 1) * scale)
}

// svgCanvas writes SVG elements as text.
type svgCanvas struct {
	w, h float64
	body strings.Builder
}

func newSVGCanvas(w, h float64) *svgCanvas { return &svgCanvas{w: w, h: h} }

func svgColor(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func (s *svgCanvas) rect(x, y, w, h float64, fill color.RGBA) {
	fmt.Fprintf(&s.body, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"%s\"/>\n", x, y, w, h, svgColor(fill))
}

func (s *svgCanvas) polyline(pts []point, c color.RGBA, width float64) {
	s.body.WriteString(`<polyline fill="none" stroke-linejoin="round" points="`)
	for i, p := range pts {
		if i > 0 {
			s.body.WriteByte(' ')
		}
		fmt.Fprintf(&s.body, "%.1f,%.1f", p.x, p.y)
	}
	fmt.Fprintf(&s.body, "\" stroke=\"%s\" stroke-width=\"%g\"/>\n", svgColor(c), width)
}

func (s *svgCanvas) dot(p point, r float64, c color.RGBA) {
	fmt.Fprintf(&s.body, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%g\" fill=\"%s\"/>\n", p.x, p.y, r, svgColor(c))
}

func (s *svgCanvas) text(at point, str string, scale int, align textAlign, vertical bool) {
	anchor := [...]string{alignStart: "start", alignMiddle: "middle", alignEnd: "end"}[align]
	size := 11 // about 6 pixels a character in a sans-serif face, the width textWidth lays out
	if scale > 1 {
		size = 15
	}
	rotate := ""
	if vertical {
		rotate = fmt.Sprintf(` transform="rotate(-90 %.1f %.1f)"`, at.x, at.y)
	}
	var escaped strings.Builder
	for _, r := range str { // the five characters XML reserves; a title is a file name and may hold any
		switch r {
		case '<':
			escaped.WriteString("&lt;")
		case '>':
			escaped.WriteString("&gt;")
		case '&':
			escaped.WriteString("&amp;")
		case '"':
			escaped.WriteString("&quot;")
		case '\'':
			escaped.WriteString("&apos;")
		default:
			escaped.WriteRune(r)
		}
	}
	fmt.Fprintf(&s.body, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\" dominant-baseline=\"middle\"%s>%s</text>\n",
		at.x, at.y, size, anchor, rotate, escaped.String())
}

func (s *svgCanvas) encode(w io.Writer) error {
	_, err := fmt.Fprintf(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" font-family=\"sans-serif\">\n%s</svg>\n",
		s.w, s.h, s.w, s.h, s.body.String())
	return err
}

// pngCanvas rasterizes into an RGBA image: lines and dots antialiased by the distance of each pixel's
// centre to the shape, text in a 5×7 bitmap font (capitals, digits and a little punctuation).
type pngCanvas struct{ img *image.RGBA }

func newPNGCanvas(w, h int) *pngCanvas { return &pngCanvas{img: image.NewRGBA(image.Rect(0, 0, w, h))} }

// blend paints c over pixel (x, y) with the given coverage in [0, 1].
func (p *pngCanvas) blend(x, y int, c color.RGBA, coverage float64) {
	if coverage <= 0 || !(image.Point{x, y}.In(p.img.Rect)) {
		return
	}
	coverage = math.Min(coverage, 1)
	i := p.img.PixOffset(x, y)
	px := p.img.Pix[i : i+4 : i+4]
	for k, v := range [3]uint8{c.R, c.G, c.B} {
		px[k] = uint8(math.Round(float64(px[k])*(1-coverage) + float64(v)*coverage))
	}
	px[3] = 255
}

func (p *pngCanvas) rect(x, y, w, h float64, fill color.RGBA) {
	for py := int(math.Round(y)); py < int(math.Round(y+h)); py++ {
		for px := int(math.Round(x)); px < int(math.Round(x+w)); px++ {
			p.blend(px, py, fill, 1)
		}
	}
}

func (p *pngCanvas) polyline(pts []point, c color.RGBA, width float64) {
	for i := 1; i < len(pts); i++ {
		p.segment(pts[i-1], pts[i], c, width)
	}
}

// segment strokes a to b: a pixel is covered by how far its centre lies inside half the width (a one-pixel
// ramp at the edge). Joints are painted twice, which barely shows at these widths.
func (p *pngCanvas) segment(a, b point, c color.RGBA, width float64) {
	half := width / 2
	x0, x1 := int(math.Floor(math.Min(a.x, b.x)-half-1)), int(math.Ceil(math.Max(a.x, b.x)+half+1))
	y0, y1 := int(math.Floor(math.Min(a.y, b.y)-half-1)), int(math.Ceil(math.Max(a.y, b.y)+half+1))
	dx, dy := b.x-a.x, b.y-a.y
	length2 := dx*dx + dy*dy
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			cx, cy := float64(x)+0.5, float64(y)+0.5
			t := 0.0
			if length2 > 0 {
				t = math.Max(0, math.Min(1, ((cx-a.x)*dx+(cy-a.y)*dy)/length2))
			}
			d := math.Hypot(cx-(a.x+t*dx), cy-(a.y+t*dy))
			p.blend(x, y, c, half+0.5-d)
		}
	}
}

func (p *pngCanvas) dot(center point, r float64, c color.RGBA) {
	for y := int(center.y - r - 1); y <= int(center.y+r+1); y++ {
		for x := int(center.x - r - 1); x <= int(center.x+r+1); x++ {
			d := math.Hypot(float64(x)+0.5-center.x, float64(y)+0.5-center.y)
			p.blend(x, y, c, r+0.5-d)
		}
	}
}

func (p *pngCanvas) text(at point, s string, scale int, align textAlign, vertical bool) {
	// along is the coordinate in the text's direction, across the one at right angles to it.
	along, across := at.x, at.y
	if vertical {
		along, across = at.y, at.x
	}
	shift := map[textAlign]float64{alignStart: 0, alignMiddle: textWidth(s, scale) / 2, alignEnd: textWidth(s, scale)}[align]
	first := int(math.Round(along - shift)) // where the first glyph begins (horizontal text)
	if vertical {
		first = int(math.Round(along + shift)) // vertical text begins at the bottom
	}
	edge := int(math.Round(across - float64(glyphHeight*scale)/2)) // the glyphs' top (or left) edge
	for i, r := range []rune(s) {
		rows := glyphOf(r)
		for row := 0; row < glyphHeight; row++ {
			for col := 0; col < glyphWidth; col++ {
				if rows[row]&(1<<(glyphWidth-1-col)) == 0 {
					continue
				}
				offset := (i*glyphAdvance + col) * scale
				x, y := first+offset, edge+row*scale
				if vertical { // a quarter turn anticlockwise: columns run up, rows run right
					x, y = edge+row*scale, first-offset-scale
				}
				for sy := 0; sy < scale; sy++ {
					for sx := 0; sx < scale; sx++ {
						p.blend(x+sx, y+sy, axisColor, 1)
					}
				}
			}
		}
	}
}

func (p *pngCanvas) encode(w io.Writer) error { return png.Encode(w, p.img) }

// glyphOf gives the 5×7 bitmap of r (bit 4 is the leftmost column). Lower case prints as capitals; a
// character without a glyph prints as '?'.
func glyphOf(r rune) [glyphHeight]uint8 {
	if g, ok := font5x7[unicode.ToUpper(r)]; ok {
		return g
	}
	if r == '—' || r == '–' {
		return font5x7['-']
	}
	return font5x7['?']
}

var font5x7 = map[rune][glyphHeight]uint8{
	' ': {},
	'0': {0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110},
	'1': {0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110},
	'2': {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111},
	'3': {0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110},
	'4': {0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010},
	'5': {0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110},
	'6': {0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110},
	'7': {0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000},
	'8': {0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110},
	'9': {0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100},
	'A': {0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001},
	'B': {0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110},
	'C': {0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110},
	'D': {0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100},
	'E': {0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111},
	'F': {0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000},
	'G': {0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111},
	'H': {0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001},
	'I': {0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110},
	'J': {0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100},
	'K': {0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001},
	'L': {0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111},
	'M': {0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001},
	'N': {0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001},
	'O': {0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110},
	'P': {0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000},
	'Q': {0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101},
	'R': {0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001},
	'S': {0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110},
	'T': {0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100},
	'U': {0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110},
	'V': {0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100},
	'W': {0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010},
	'X': {0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001},
	'Y': {0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100},
	'Z': {0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111},
	'.': {0, 0, 0, 0, 0, 0b01100, 0b01100},
	',': {0, 0, 0, 0, 0b01100, 0b00100, 0b01000},
	':': {0, 0b01100, 0b01100, 0, 0b01100, 0b01100, 0},
	'-': {0, 0, 0, 0b11111, 0, 0, 0},
	'+': {0, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0},
	'=': {0, 0, 0b11111, 0, 0b11111, 0, 0},
	'_': {0, 0, 0, 0, 0, 0, 0b11111},
	'/': {0, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0},
	'(': {0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010},
	')': {0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000},
	'%': {0b11000, 0b11001, 0b00010, 0b00100, 0b01000, 0b10011, 0b00011},
	'?': {0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0, 0b00100},
}
