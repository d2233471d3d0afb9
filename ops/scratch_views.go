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
