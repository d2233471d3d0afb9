package ops

import "unsafe"

// Int32View lays n int32s over the float32 scratch s (len(s) >= n): both are 4 bytes wide and 4-byte
// aligned, and scratch holds no pointers, so reinterpreting it is safe for the garbage collector. Integer
// kernels (ConvInteger, QLinearConv) keep their accumulators there.
func Int32View(s []float32, n int) []int32 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(s[:n]))), n)
}

// ByteView lays n bytes over the float32 scratch s, which must hold ByteScratchLen(n) elements, for 8-bit
// kernels' temporaries (an im2col of uint8 or int8 data).
func ByteView(s []float32, n int) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s[:ByteScratchLen(n)]))), n)
}

// ByteScratchLen is the float32 scratch length ByteView needs for n bytes.
func ByteScratchLen(n int) int { return (n + 3) / 4 }

// ByteData returns the data of an int8 or uint8 tensor as bytes (int8 values in two's complement), for
// kernels that treat both 8-bit types as bytes (the integer GEMM, im2col), and nil for other dtypes.
func ByteData(t *Tensor) []byte {
	switch d := t.data.(type) {
	case []uint8:
		return d
	case []int8:
		if len(d) == 0 {
			return nil
		}
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
	}
	return nil
}
