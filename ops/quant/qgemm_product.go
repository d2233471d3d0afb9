package quant

import (
	"unsafe"

	"github.com/onnxrun/onnxrun/ops"
)

// Helpers the GEMM-shaped com.microsoft operators (QGemm, MatMulIntegerToFloat, DynamicQuantizeMatMul)
// share around the integer GEMM (ops/internal/igemm), which takes 8-bit operands as bytes and writes int32
// accumulators or requantised bytes.

// The com.microsoft domain (ONNX Runtime's contrib operators) has one opset. Declaring it from a
// package-level variable runs before every init function of the package, whichever file registers first.
var _ = declareMicrosoftDomain()

func declareMicrosoftDomain() bool {
	ops.DeclareDomain(ops.MicrosoftDomain, 1)
	return true
}

// int8Bytes returns the uint8 or int8 data of t as bytes (the same memory) and whether they are signed;
// a nil t gives nil.
func int8Bytes(t *ops.Tensor) (data []byte, signed bool) {
	if t == nil {
		return nil, false
	}
	switch d := t.Data().(type) {
	case []uint8:
		return d, false
	case []int8:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(d))), len(d)), true
	}
	return nil, false
}

// int32View is f's memory as int32s: the accumulators of a product whose float32 results go to f are
// written there first, then converted in place element by element.
func int32View(f []float32) []int32 {
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(f))), len(f))
}

// bytesView is f's memory as bytes (4 per float32), for 8-bit temporaries kept in the float32 scratch.
func bytesView(f []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(f))), 4*len(f))
}

// dequantizeRows converts the m×n int32 accumulators that share y's memory (int32View(y)) to float32 in
// place: y[i*n+j] = float32(acc[i*n+j]) · (aScale·bScale[j]) + bias[j], with bScale of 1 (per tensor) or n
// (per column) elements and bias nil or n long. This is ONNX Runtime's scale-and-bias output processor:
// the int32 sum becomes float32 before it is scaled, and the multiplier is formed in float32.
func dequantizeRows(y []float32, m, n int, aScale float32, bScale, bias []float32) {
	acc := int32View(y)
	for i := 0; i < m; i++ {
		row, accRow := y[i*n:(i+1)*n], acc[i*n:(i+1)*n]
		for j := range row {
			s := bScale[0]
			if len(bScale) > 1 {
				s = bScale[j]
			}
			v := float32(accRow[j]) * (aScale * s)
			if bias != nil {
				v += bias[j]
			}
			row[j] = v
		}
	}
}

// transposeBytes writes the rows×cols row-major src transposed into dst (cols×rows).
func transposeBytes(dst, src []byte, rows, cols int) {
	for i := 0; i < rows; i++ {
		for j, v := range src[i*cols : (i+1)*cols] {
			dst[j*rows+i] = v
		}
	}
}

// scalarZeroPoint reads a per-tensor zero point (nil: 0) as int32.
func scalarZeroPoint(t *ops.Tensor) int32 {
	if t == nil {
		return 0
	}
	return int32(load(t.Data(), 0))
}
