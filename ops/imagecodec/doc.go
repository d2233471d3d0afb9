// Package imagecodec implements ONNX's ImageDecoder (decoder.go): an encoded image held in a uint8 tensor
// becomes a [H, W, C] uint8 tensor, RGB, BGR or grayscale. Importing the package registers it (see
// ops.Register) for every opset version Operators.md lists up to ops.MaxOpset.
//
// # Formats
//
// The format is told by the stream's first bytes. PNG and JPEG decode with the standard library, BMP, TIFF
// and WebP with golang.org/x/image, and the portable anymaps (PBM, PGM, PPM, in ASCII or binary form) with
// pnm.go. JPEG 2000 (and anything else) is refused with an error wrapping ops.ErrUnsupported.
//
// JPEG follows the spec's colour pipeline rather than the Go decoder's: chroma subsampled by 2 is
// upsampled with libjpeg-turbo's "fancy" triangle filter, as the spec asks, and converted to RGB with
// libjpeg's tables (jpeg.go). The inverse DCT is Go's, which rounds otherwise than libjpeg-turbo's: about
// 1.5% of samples differ by 1, and the conformance suite allows 2 levels (overrides.txt, CONFORMANCE.md).
//
// Lossy WebP follows libwebp's output the same way (webp.go): its fancy chroma upsampling and its
// limited-range YCbCr-to-RGB formulas, bit for bit.
//
// Grayscale is computed from the RGB pixels by Pillow's rule, Y = (19595 R + 38470 G + 7471 B + 2^15) >>
// 16, for every format with colour: ONNX's reference implementation decodes with Pillow and converts to
// "L", so the node tests' references are made so. Alpha is dropped, not composited, and 16-bit samples
// keep their high byte.
//
// # Errors
//
// The spec lets a decoder return an empty tensor for a stream it cannot decode; onnxrun returns an error
// instead, naming the format and what is wrong: *DecodeError (wrapping ops.ErrInvalid) for a corrupt or
// truncated stream, ops.ErrUnsupported for a format it does not decode. The image's size is read from its
// header at plan time and checked against MaxPixels, and against the stream's length (at most 10,000
// pixels a byte), before any pixel memory is allocated, so a hostile header cannot ask for gigabytes. Decoding allocates the decoded image at every Run: the decoders own
// their buffers.
package imagecodec
