//go:build !noasm

package cnn

import "github.com/onnxrun/onnxrun/ops/internal/isa"

// The interleaved depthwise kernels of conv_depthwise_ci_amd64.s (AVX-512, whose pack and unpack also
// use BMI2's BZHI, which every AVX-512 CPU has; and AVX2+FMA). The Go wrappers make the bounds checks
// the twins make by indexing, and leave partial channel blocks to the twins.

//go:noescape
func dwciPackAVX512(dst, src *float32, srcStride, n int)

//go:noescape
func dwciPackToAVX512(dst, src *float32, srcStride int, at *int, n int)

//go:noescape
func dwciUnpackAVX512(dst *float32, dstStride int, src *float32, n int)

//go:noescape
func dwciTapsAVX512(dst, src *float32, off, base *int, w, bias *float32, taps, groups int, lo, hi float32)

//go:noescape
func dwciPackAVX2(dst, src *float32, srcStride, n int)

//go:noescape
func dwciPackToAVX2(dst, src *float32, srcStride int, at *int, n int)

//go:noescape
func dwciUnpackAVX2(dst *float32, dstStride int, src *float32, n int)

//go:noescape
func dwciTapsAVX2(dst, src *float32, off, base *int, w, bias *float32, taps, groups int, lo, hi float32)

func dwciPackAsmVariants() []isa.Variant[dwciPackFn] {
	return []isa.Variant[dwciPackFn]{
		{Level: isa.AVX2, Name: "AVX2", Fn: dwciPackAsm(dwciPackAVX2)},
		{Level: isa.AVX512, Name: "AVX-512", Fn: dwciPackAsm(dwciPackAVX512)},
	}
}

// dwciPackAsm wraps an assembly pack.
func dwciPackAsm(f func(dst, src *float32, srcStride, n int)) dwciPackFn {
	return func(dst, src []float32, srcStride, rows, n int) {
		if rows != dwciLanes || n <= 0 || srcStride < n {
			dwciPackGo(dst, src, srcStride, rows, n)
			return
		}
		_ = dst[ceilDiv(n, dwciLanes)*dwciLanes*dwciLanes-1]
		_ = src[(dwciLanes-1)*srcStride+n-1]
		f(&dst[0], &src[0], srcStride, n)
	}
}

func dwciPackToAsmVariants() []isa.Variant[dwciPackToFn] {
	return []isa.Variant[dwciPackToFn]{
		{Level: isa.AVX2, Name: "AVX2", Fn: dwciPackToAsm(dwciPackToAVX2)},
		{Level: isa.AVX512, Name: "AVX-512", Fn: dwciPackToAsm(dwciPackToAVX512)},
	}
}

// dwciPackToAsm wraps an assembly pack-to, checking the bounds the twin's indexing would through the
// table's smallest and largest entries (a negative one goes to the twin, whose indexing fails).
func dwciPackToAsm(f func(dst, src *float32, srcStride int, at *int, n int)) dwciPackToFn {
	return func(dst, src []float32, srcStride, rows int, t dwciOffsets) {
		n := len(t.at)
		if rows != dwciLanes || n == 0 || srcStride < n || t.min < 0 {
			dwciPackToGo(dst, src, srcStride, rows, t)
			return
		}
		_ = src[(dwciLanes-1)*srcStride+n-1]
		_ = dst[t.max+dwciLanes-1]
		f(&dst[0], &src[0], srcStride, &t.at[0], n)
	}
}

func dwciUnpackAsmVariants() []isa.Variant[dwciUnpackFn] {
	return []isa.Variant[dwciUnpackFn]{
		{Level: isa.AVX2, Name: "AVX2", Fn: dwciUnpackAsm(dwciUnpackAVX2)},
		{Level: isa.AVX512, Name: "AVX-512", Fn: dwciUnpackAsm(dwciUnpackAVX512)},
	}
}

// dwciUnpackAsm wraps an assembly unpack.
func dwciUnpackAsm(f func(dst *float32, dstStride int, src *float32, n int)) dwciUnpackFn {
	return func(dst []float32, dstStride int, src []float32, rows, n int) {
		if rows != dwciLanes || n <= 0 || dstStride < n {
			dwciUnpackGo(dst, dstStride, src, rows, n)
			return
		}
		_ = src[ceilDiv(n, dwciLanes)*dwciLanes*dwciLanes-1]
		_ = dst[(dwciLanes-1)*dstStride+n-1]
		f(&dst[0], dstStride, &src[0], n)
	}
}

func dwciTapsAsmVariants() []isa.Variant[dwciTapsFn] {
	return []isa.Variant[dwciTapsFn]{
		{Level: isa.AVX2, Name: "AVX2+FMA", Fn: dwciTapsAsm(dwciTapsAVX2)},
		{Level: isa.AVX512, Name: "AVX-512", Fn: dwciTapsAsm(dwciTapsAVX512)},
	}
}

// dwciTapsAsm wraps an assembly stencil.
func dwciTapsAsm(f func(dst, src *float32, off, base *int, w, bias *float32, taps, groups int, lo, hi float32)) dwciTapsFn {
	return func(dst, src []float32, off, base []int, w, bias []float32, lo, hi float32) {
		if len(base)%dwciGroup != 0 || len(base) == 0 || len(off) == 0 {
			dwciTapsGo(dst, src, off, base, w, bias, lo, hi)
			return
		}
		_ = dst[len(base)*dwciLanes-1]
		_ = w[len(off)*dwciLanes-1]
		_ = bias[dwciLanes-1]
		maxOff, maxBase := 0, 0
		for _, o := range off {
			_ = src[o] // a negative offset fails here, as in the twin
			maxOff = max(maxOff, o)
		}
		for _, b := range base {
			_ = src[b]
			maxBase = max(maxBase, b)
		}
		_ = src[maxBase+maxOff+dwciLanes-1]
		f(&dst[0], &src[0], &off[0], &base[0], &w[0], &bias[0], len(off), len(base)/dwciGroup, lo, hi)
	}
}
