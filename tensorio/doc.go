// Package tensorio reads and writes tensors in files: numpy's .npy and .npz formats and serialized ONNX
// TensorProto (.pb) files, converting to and from ops.Tensor; and it reads pictures as model inputs.
//
// # Formats
//
// .npy files of format versions 1.0, 2.0 and 3.0 are read with element types bool, int8/16/32/64,
// uint8/16/32/64, float16, float32 and float64, and numpy's fixed-width strings ('<U' unicode, '|S'
// bytes) as string tensors, in either byte order and in C or Fortran order; the result is always a
// native, row-major tensor. Writing produces version 1.0 (2.0 for a header over 64 KiB), little-endian
// and C-ordered, readable by numpy.load. A string tensor is written as numpy holds str arrays: '<U'
// with the width of the longest string in code points, each element UTF-32 padded with NULs; if any
// element is not valid UTF-8, as '|S' bytes instead, so nothing is lost. As in numpy, trailing NULs of
// an element are padding and are dropped on reading. Objects (pickles), complex numbers, datetimes and
// structured dtypes are refused with an *UnsupportedError that names the descr.
//
// .pb files hold one TensorProto; they are decoded and encoded by package onnx, so every element type
// onnx.Array can hold (including strings and bfloat16) round-trips. ReadValuePB reads a .pb file holding a
// SequenceProto, OptionalProto or MapProto as the declared type says (the bytes do not), through
// onnx.ReadValueFile and tensorconv.FromValue: the one reader of such files, for the CLI and the
// conformance suite alike.
//
// .npz files are zip archives of .npy members, stored or deflated, as numpy.savez and savez_compressed
// write them: ReadNPZ reads every array (each under the .npy reader's checks, the member's CRC checked
// too), WriteNPZ writes stored members as numpy.savez does.
//
// ReadFile and WriteFile choose the format by the file's extension; ReadFile reads an .npz archive that
// holds one array, or one array of it named as FILE.npz:NAME.
//
// # Images
//
// ReadImage and DecodeImage turn a PNG, JPEG or GIF picture into a model input: converted to 1 (luma, as
// PIL computes it), 3 or 4 channels, resized with PIL's antialiased bilinear filter, scaled from 0..255
// (by default to 0..1, then minus a mean and over a std per channel) and laid out N,C,H,W, N,H,W,C, C,H,W,
// H,W,C or H,W. ImageOptionsFor reads the layout, channels and size from a model input's declared shape.
// The declared size of a picture is checked before its pixels are decoded.
//
// # Untrusted input
//
// Readers never panic on a corrupt file. The .npy header is parsed by a strict, depth-bounded parser for
// the Python literal it holds, and the shape is validated (non-negative dimensions, no overflow of
// elements times item size, at most Limits.MaxBytes) before any data is allocated. A file's data must be
// exactly as long as its header declares.
//
// # Errors
//
// A malformed file yields a *FormatError, a valid file holding something onnxrun cannot represent an
// *UnsupportedError (or, for .pb files, the onnx package's errors); both name the file and the values
// involved. I/O errors from the os package pass through.
//
// # Dependencies
//
// Beyond the standard library (image/png, image/jpeg, image/gif, archive/zip, compress/flate) this package
// imports google.golang.org/protobuf (for .pb files, as package onnx does) and, of this module, only onnx,
// ops and tensorconv, which converts between onnx.Array and ops.Tensor. The runtime converts initializers through tensorconv too and never imports tensorio, so a program
// that only runs models links none of these formats and codecs (internal/layering checks both).
//
// The .npy and .npz code is this package's own rather than codeberg.org/sbinet/npyio; the measurements
// behind that choice are in docs/npyio-evaluation.md.
package tensorio
