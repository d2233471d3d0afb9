package imagecodec

import "image"

// writeWebP stores a lossy WebP's (VP8's) 4:2:0 planes in y as [H, W, C] bytes the way libwebp's default
// output does: chroma upsampled by its "fancy" filter (9/16 of the nearest sample, 3/16 of each side
// neighbour, 1/16 of the diagonal one, in libwebp's rounding) and converted by its fixed-point BT.601
// limited-range formulas. The planes themselves are exact (VP8 decoding is bit-exact by specification).
func writeWebP(img *image.YCbCr, pixels pixelFormat, y []uint8) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	at := func(plane []uint8, cx, cy int) int32 {
		cx, cy = min(max(cx, 0), cw-1), min(max(cy, 0), ch-1)
		return int32(plane[img.COffset(b.Min.X+2*cx, b.Min.Y+2*cy)])
	}
	i := 0
	for row := 0; row < h; row++ {
		lumaRow := img.Y[img.YOffset(b.Min.X, b.Min.Y+row):]
		// Output row 2k-1 lies nearer chroma row k-1, row 2k nearer row k; the far row is the other one.
		// The first row, and an even height's last, have no far row: at clamps it to the near one, as
		// libwebp pairs them with their own chroma row.
		cy := row / 2
		fy := cy - 1
		if row%2 == 1 {
			fy = cy + 1
		}
		for col := 0; col < w; col++ {
			cx := col / 2
			fx := cx - 1
			if col%2 == 1 {
				fx = cx + 1
			}
			u := webpChroma(img.Cb, at, cx, cy, fx, fy, col, w)
			v := webpChroma(img.Cr, at, cx, cy, fx, fy, col, w)
			r, g, bl := webpRGB(int32(lumaRow[col]), u, v)
			i += storePixel(y[i:], pixels, r, g, bl)
		}
	}
}

// webpChroma is one upsampled chroma sample: nearest sample (cx, cy), side neighbours (fx, cy) and (cx,
// fy), diagonal (fx, fy); the first and last columns filter vertically only (libwebp's UpsampleRgbLinePair).
func webpChroma(plane []uint8, at func([]uint8, int, int) int32, cx, cy, fx, fy, col, w int) int32 {
	near, vert := at(plane, cx, cy), at(plane, cx, fy)
	if col == 0 || (col == w-1 && col%2 == 1) {
		return (3*near + vert + 2) >> 2
	}
	side, diag := at(plane, fx, cy), at(plane, fx, fy)
	diagonal := (near + side + vert + diag + 8 + 2*(side+vert)) >> 3
	return (diagonal + near) >> 1
}

// webpRGB is libwebp's VP8YUVToR/G/B (dsp/yuv.h): 14-bit fixed point, clipped.
func webpRGB(luma, u, v int32) (r, g, b uint8) {
	multHi := func(x, coeff int32) int32 { return (x * coeff) >> 8 }
	clip := func(x int32) uint8 {
		if x&^(256<<6-1) == 0 {
			return uint8(x >> 6)
		}
		if x < 0 {
			return 0
		}
		return 255
	}
	yy := multHi(luma, 19077)
	return clip(yy + multHi(v, 26149) - 14234), clip(yy - multHi(u, 6419) - multHi(v, 13320) + 8708), clip(yy + multHi(u, 33050) - 17685)
}
