// Package vision implements the ONNX operators that resample, sample and rearrange tensors laid out as
// images or volumes: Resize and the deprecated Upsample, GridSample, AffineGrid, RoiAlign, Col2Im and
// CenterCropPad. Importing the package registers them (see ops.Register); each op's file lists its
// opsets and links its spec page.
//
// # Layout
//
// Resize is separable: every output coordinate along one axis reads a few input coordinates along that
// axis with fixed weights (one tap for nearest, two for linear, four for cubic, more when antialiasing
// stretches the filter). Prepare turns the attributes, the scales or sizes and the roi into one such tap
// table per axis (resample.go): input offsets already multiplied by the axis stride, and float64 weights.
// An output element is the sum over the tensor product of its axes' taps. Leading axes that are copied
// unchanged (usually N and C) are folded into a count of planes, and when every axis has a single tap of
// weight 1 (nearest, or linear at integer positions) the kernel is a pure gather that works for every
// dtype, strings and bools included. Run walks the tables and allocates nothing.
//
// float32 data with only the last one or two axes resampled (H and W of NCHW), one or two taps per axis
// and nothing extrapolated (every coordinate mode but tf_crop_and_resize outside the roi) takes a fast path
// (resize_fast.go) whose reference twin is the general float64 path: nearest copies a row that repeats the
// one before, bilinear interpolates each input row along x once and blends two such rows per output row,
// in float32, in parallel over the planes.
//
// CenterCropPad is the same gather with one index table per axis (-1 for padding). Col2Im lowers to one
// table of image offsets shared by all channels. GridSample and RoiAlign read their sampling positions
// from data (the grid, the regions), so their kernels compute taps per output position at run time,
// into fixed arrays on the stack, and apply them to every channel.
//
// The coordinate arithmetic follows ONNX's reference implementation (onnx/reference/ops/op_resize.py),
// which generated the backend tests' expected outputs: the transform uses the fractional output length
// scale×input length, the neighbours of a coordinate are padded by repeating the edge, and at an exact
// integer coordinate the filter is centred so that all its weight falls on that input element.
//
// # Dtypes
//
// Nearest resampling and CenterCropPad copy elements, so they support every dtype. The interpolating
// kernels compute in float64 and support the real numeric types; float16 and bfloat16 go through float32
// scratch memory (ops.Scratcher). Resize rounds integer results to nearest and saturates them to the
// type's range (cubic filters overshoot); GridSample truncates, as its spec says.
//
// # Plan-time values
//
// Resize's output shape depends on the contents of scales or sizes, and its tap tables on roi in
// tf_crop_and_resize mode; likewise CenterCropPad's shape, Col2Im's image_shape and block_shape, and
// AffineGrid's size. The ops read them from ValueInfo.Const, list them through ops.NeedsInputValues, and
// return an error wrapping ops.ErrDynamicShape when they are not constants, so the runtime plans again
// with the actual values.
//
// # Errors
//
// Bad attributes fail in the Builder; inconsistent inputs (both scales and sizes, wrong lengths, a scale
// that is not positive, a repeated axis) fail in InferShapes with ops.ErrInvalid and the values at fault;
// valid requests this package does not implement (linear resampling of strings, say) wrap
// ops.ErrUnsupported. RoiAlign's batch_indices and rois are data, so its kernel checks them in Run and
// returns an error naming the bad index or region instead of reading out of bounds; GridSample clamps
// every index it computes, so no grid value (NaN, huge) can make it read outside X.
package vision
