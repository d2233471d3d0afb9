// Package onnx reads and writes ONNX models and converts their tensors to and from plain Go slices.
//
// It depends only on the standard library and google.golang.org/protobuf, and never on package ops: the
// runtime joins the two. Kernels never see protobuf types.
//
// # Layout
//
// onnx/onnxpb holds the generated protobuf types. Their schema, onnx/onnxpb/onnx.proto, is onnxrun's own
// description of the ONNX format, wire-compatible with ONNX IR version 13 (a test checks it against the
// specification's onnx.proto), so a decode → encode round trip keeps every field, including ones a newer
// producer adds (kept as unknown fields). This package is the hand-written API on top:
//
//   - Load, Decode, DecodeOptions: parse and validate a model; (*Model).Encode and Save write it back
//     deterministically. Load streams a file, reading each initializer's raw_data straight into its own
//     buffer rather than copying it out of the file's bytes (split.go), or, with DecodeOptions.Mmap, leaves
//     it in the file's mapped pages (mapping.go). DecodeOptions.LoadFile does the same for a file the caller
//     opened (through an os.Root, say), so that the file checked is the file read.
//   - ReadTensor, (*Model).TensorArray, ReadTensorFile: TensorProto → Array; NewTensorProto: Array →
//     TensorProto.
//   - NormalizeDomain, (*Model).OpsetFor, ValueInfoShape, Attr, AttrValue: small helpers for the runtime.
//
// # Validation
//
// Decode accepts IR versions 3 to 13. IR 1 and 2 models predate opset_import and implicitly use ONNX
// opset 1; rather than guess at operators that old, they are rejected as unsupported. From IR 3 on a
// model must list its operator sets, so an empty opset_import is malformed; nothing is assumed. A model
// may import only non-default domains (the ai.onnx.ml node tests do): OpsetFor("") then reports false.
//
// Decode also checks, without allocating, every tensor the model holds (initializers, sparse initializers,
// attribute values at any nesting depth, function bodies, training graphs): a data type other than
// UNDEFINED, non-negative dims whose product fits in int64, one place holding the data, and exactly the size
// the dims need (sub-byte types included). Unknown operators do not make Decode fail, nor do tensors it
// cannot fully check or convert (data type numbers newer than IR 13, segments); reading such a tensor does.
//
// # Tensors
//
// An Array is a data type, dims and one typed Go slice (see Array for the mapping). FLOAT16 and BFLOAT16
// stay as uint16 bit patterns. raw_data is little-endian on every host. Typed fields follow the spec's
// packing: int32_data carries INT8, INT16, UINT8, UINT16, BOOL, FLOAT16, BFLOAT16 and the FLOAT8 types one
// per entry (entries outside the type's range are an error, not truncated) and the 4-bit and 2-bit types two
// or four to an entry's low byte, uint64_data carries UINT32 and UINT64, and complex numbers interleave real
// and imaginary parts. The FLOAT8, FLOAT4, 4-bit and 2-bit types become one byte per element in Array.Data.
// An Array never aliases its TensorProto.
//
// # External data
//
// A tensor whose data_location is EXTERNAL names a file by a "location" relative to the model's folder,
// with optional decimal "offset" and "length"; other keys (checksum, basepath) are ignored. Model.Dir is
// that folder: Load sets it to the model file's folder; Decode has none, and rejects models with external
// data unless DecodeOptions.Dir is given. Following ONNX's ExternalDataSecurity.md, a location is refused
// if it is absolute or contains "..", or if, with symlinks resolved in both the location and Dir, it lies
// outside Dir; the file is then opened through an os.Root on Dir, so a symlink swapped in after the check
// cannot lead outside either. offset+length must lie within the file and length must equal the size the
// dims need; without a length, exactly those bytes are read from the offset. Files are opened only when a
// tensor is read, never by Decode. Hard links to outside files are not detected.
//
// # Memory-mapped models
//
// With DecodeOptions.Mmap, Load maps the model file read-only (internal/mmap: golang.org/x/sys/unix on
// Unix; elsewhere, js/wasm and windows included, the file is read as without it) and the main graph's
// initializers' raw_data are slices of the mapped pages, not copies. The Model then holds a *Mapping, a
// reference count over the mapped files: Model.Close releases the Model's reference, whoever keeps
// tensors that point into the pages takes its own (Mapping.Acquire, Release), and the last release
// unmaps. Model.TakeTensor uses raw_data in place where its layout allows (a little-endian host and an
// offset aligned for the element type; otherwise it copies once), and maps external data files into the
// same Mapping, after the same confinement checks as a read. Mapped pages are read-only: writing into them
// faults, so the arrays Mapping.Holds reports are constants. ReadTensor and TensorArray always copy. A
// file the mapped walk cannot split (see split.go) is decoded the ordinary way and unmapped at once, so a
// malformed file gets the same error either way.
//
// # Limits
//
// Limits.MaxTensorBytes (default 4 GiB) caps what reading one tensor allocates. With the size checks
// above, a small hostile file cannot make the decoder reserve memory its data does not back. The protobuf
// nesting depth is capped too (DecodeOptions.MaxDepth, default 256).
//
// # Errors
//
// A *FormatError means malformed input (it names the item and the values, e.g.
// `tensor "W": dims [3 4] need 48 bytes, raw_data has 40`) and may wrap a protobuf or file system error;
// an *UnsupportedError means valid ONNX this package does not handle. Match both with errors.As. Decoding
// never panics on any input (FuzzDecode checks this).
package onnx
