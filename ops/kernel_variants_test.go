package ops

import (
	"reflect"
	"testing"
)

func TestKernelVariantsSortedAndReplaced(t *testing.T) {
	saved := kernelVariants.list
	t.Cleanup(func() { kernelVariants.list = saved })
	kernelVariants.list = nil

	RegisterKernelVariant("pooling", true, "AVX2")
	RegisterKernelVariant("gemm", false, "AVX2+FMA 6x16")
	RegisterKernelVariant("winograd", false, "AVX2+FMA")
	if got := KernelVariants(); got[0] != (KernelVariant{"gemm", PureGo}) {
		t.Errorf("without assembly: got %v, want gemm %s", got[0], PureGo)
	}
	RegisterKernelVariant("gemm", true, "AVX2+FMA 6x16")
	got := KernelVariants()
	want := []KernelVariant{{"gemm", "AVX2+FMA 6x16"}, {"pooling", "AVX2"}, {"winograd", PureGo}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got[0].Variant = "changed"
	if KernelVariants()[0].Variant != "AVX2+FMA 6x16" {
		t.Error("KernelVariants returned the registry itself, not a copy")
	}
}
