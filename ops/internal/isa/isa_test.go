package isa

import "testing"

func TestChooseMaxLowersToTheEnvironment(t *testing.T) {
	cases := []struct {
		cpu  Level
		env  string
		want Level
		bad  bool
	}{
		{AVX512, "", AVX512, false},
		{AVX512, "avx2", AVX2, false},
		{AVX512, "purego", PureGo, false},
		{AVX2, "avx512", AVX2, false}, // never above the CPU
		{AVX512, "sse9", AVX512, true},
	}
	for _, c := range cases {
		got, err := chooseMax(c.cpu, c.env)
		if got != c.want || (err != nil) != c.bad {
			t.Errorf("chooseMax(%v, %q) = %v, %v; want %v, error %v", c.cpu, c.env, got, err, c.want, c.bad)
		}
	}
}

func TestPickAtTakesTheHighestRunnableLevel(t *testing.T) {
	vs := []Variant[int]{{PureGo, "go", 0}, {AVX512, "512", 2}, {AVX2, "256", 1}}
	for limit, want := range map[Level]int{PureGo: 0, AVX2: 1, AVX512: 2} {
		if got := PickAt(limit, vs...).Fn; got != want {
			t.Errorf("PickAt(%v) = %d, want %d", limit, got, want)
		}
	}
	if got := PickAt(AVX512, Variant[int]{PureGo, "go", 0}, Variant[int]{AVX2, "256", 1}).Fn; got != 1 {
		t.Errorf("without an AVX-512 variant PickAt(AVX512) = %d, want the AVX2 one", got)
	}
}

func TestPickWithoutPureGoPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("PickAt with no variant at or below the limit returned")
		}
	}()
	PickAt(PureGo, Variant[int]{AVX2, "256", 1})
}

func TestParseLevelRoundTrips(t *testing.T) {
	for _, l := range []Level{PureGo, AVX2, AVX512} {
		if got, err := ParseLevel(l.String()); err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v", l.String(), got, err)
		}
	}
}
