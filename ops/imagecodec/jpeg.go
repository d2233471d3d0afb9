package imagecodec

import "image"

// writeJPEG stores a decoded JPEG's YCbCr planes in y as [H, W, C] bytes, the way libjpeg-turbo's
// default pipeline does (and the spec asks): chroma halved horizontally, vertically or both is upsampled by
// the "fancy" triangle filter (3/4 of the nearer sample, 1/4 of the farther, rounding alternately down and
// up), other subsamplings by replication; colour comes from libjpeg's integer YCbCr-to-RGB tables.
// Grayscale is computed from that RGB (grayOf), as the reference implementation's Pillow does, not taken
// from the luma plane.
func writeJPEG(img *image.YCbCr, pixels pixelFormat, y []uint8) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	cb := upsampleChroma(img, img.Cb, w, h)
	cr := upsampleChroma(img, img.Cr, w, h)
	i := 0
	for row := 0; row < h; row++ {
		lumaRow := img.Y[img.YOffset(b.Min.X, b.Min.Y+row):]
		for col := 0; col < w; col++ {
			r, g, bl := ycbcrToRGB(lumaRow[col], cb[row*w+col], cr[row*w+col])
			i += storePixel(y[i:], pixels, r, g, bl)
		}
	}
}

// ycbcrToRGB is libjpeg's ycc_rgb_convert (jdcolor.c) in its 16-bit fixed point, with its rounding:
// R = Y + 1.402 Cr', G = Y - 0.34414 Cb' - 0.71414 Cr', B = Y + 1.772 Cb' (Cb' = Cb-128, Cr' = Cr-128).
func ycbcrToRGB(luma, cb, cr uint8) (r, g, b uint8) {
	const (
		half = 1 << 15
		fixR = 91881  // FIX(1.40200)
		fixB = 116130 // FIX(1.77200)
		fixG = 46802  // FIX(0.71414), applied to Cr
		fixH = 22554  // FIX(0.34414), applied to Cb
	)
	yy, cbv, crv := int32(luma), int32(cb)-128, int32(cr)-128
	return clamp8(yy + (fixR*crv+half)>>16), clamp8(yy + (-fixH*cbv-fixG*crv+half)>>16), clamp8(yy + (fixB*cbv+half)>>16)
}

func clamp8(v int32) uint8 { return uint8(min(max(v, 0), 255)) }

// upsampleChroma returns one chroma plane of img at full resolution, w*h samples row by row.
func upsampleChroma(img *image.YCbCr, plane []uint8, w, h int) []uint8 {
	b := img.Bounds()
	// The chroma plane's size and the factors it is subsampled by.
	hf, vf := 1, 1
	switch img.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		hf = 2
	case image.YCbCrSubsampleRatio420:
		hf, vf = 2, 2
	case image.YCbCrSubsampleRatio440:
		vf = 2
	case image.YCbCrSubsampleRatio411:
		hf = 4
	case image.YCbCrSubsampleRatio410:
		hf, vf = 4, 2
	}
	cw, ch := (w+hf-1)/hf, (h+vf-1)/vf
	at := func(cx, cy int) int32 {
		cx, cy = min(max(cx, 0), cw-1), min(max(cy, 0), ch-1) // libjpeg replicates the edge samples
		return int32(plane[img.COffset(b.Min.X+cx*hf, b.Min.Y+cy*vf)])
	}
	out := make([]uint8, w*h)
	// libjpeg-turbo filters only planes more than 2 samples wide (jdsample.c, jinit_upsampler), and only
	// the factors of 2; the rest it replicates.
	fancy := (hf == 2 || vf == 2) && hf <= 2 && cw > 2
	for row := 0; row < h; row++ {
		cy := row / vf
		for col := 0; col < w; col++ {
			cx := col / hf
			if !fancy {
				out[row*w+col] = uint8(at(cx, cy))
				continue
			}
			out[row*w+col] = fancySample(at, cx, cy, hf, vf, col%hf, row%vf)
		}
	}
	return out
}

// fancySample is libjpeg-turbo's triangle filter for the output sample in phase (px, py) of chroma sample
// (cx, cy): h2v1_fancy_upsample, h1v2_fancy_upsample and h2v2_fancy_upsample of jdsample.c. Each
// direction weighs the nearer sample 3 and the farther 1; the rounding biases alternate with the phase.
func fancySample(at func(cx, cy int) int32, cx, cy, hf, vf, px, py int) uint8 {
	dx, dy := 0, 0 // the farther neighbour's direction
	if hf == 2 {
		dx = 2*px - 1
	}
	if vf == 2 {
		dy = 2*py - 1
	}
	switch {
	case hf == 2 && vf == 2:
		// Vertical sums first (3*near + far), then the same horizontally, over 16 with bias 8 or 7.
		this := 3*at(cx, cy) + at(cx, cy+dy)
		other := 3*at(cx+dx, cy) + at(cx+dx, cy+dy)
		bias := int32(8)
		if px == 1 {
			bias = 7
		}
		return uint8((3*this + other + bias) >> 4)
	case hf == 2:
		bias := int32(1)
		if px == 1 {
			bias = 2
		}
		return uint8((3*at(cx, cy) + at(cx+dx, cy) + bias) >> 2)
	default:
		bias := int32(1)
		if py == 1 {
			bias = 2
		}
		return uint8((3*at(cx, cy) + at(cx, cy+dy) + bias) >> 2)
	}
}
