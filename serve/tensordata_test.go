package serve

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

// The fast decimal paths must give exactly what strconv gives: the correctly rounded value.
func TestFastFloatMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var texts []string
	for range 20000 {
		f32 := math.Float32frombits(rng.Uint32())
		if math.IsNaN(float64(f32)) || math.IsInf(float64(f32), 0) {
			continue
		}
		texts = append(texts,
			strconv.FormatFloat(float64(f32), 'g', -1, 32),
			strconv.FormatFloat(float64(f32), 'e', rng.IntN(10), 32),
			strconv.FormatFloat(float64(rng.Float32()), 'f', rng.IntN(11), 32), // pixel-like values in [0, 1)
			strconv.FormatFloat(rng.NormFloat64()*100, 'f', rng.IntN(8), 64),
			strconv.FormatFloat(rng.NormFloat64(), 'g', -1, 64),
			strconv.FormatFloat(rng.Float64(), 'e', rng.IntN(18), 64),
		)
	}
	texts = append(texts, "0", "-0", "0.0", "1", "-1", "16777216", "16777217", "9007199254740993", "1e10", "1e-10",
		"1e11", "1e22", "1e23", "1.5E+3", "123456789012345678901234", "0.000000000000000000001", "2.5e-3", "1e-400", "-0e5")
	for _, s := range texts {
		if f, ok := fastFloat32([]byte(s)); ok {
			want, _ := strconv.ParseFloat(s, 32)
			if math.Float32bits(f) != math.Float32bits(float32(want)) {
				t.Errorf("fastFloat32(%q) = %v (%#x), strconv says %v (%#x)", s, f, math.Float32bits(f), float32(want), math.Float32bits(float32(want)))
			}
		}
		if f, ok := fastFloat64([]byte(s)); ok {
			want, _ := strconv.ParseFloat(s, 64)
			if math.Float64bits(f) != math.Float64bits(want) {
				t.Errorf("fastFloat64(%q) = %v, strconv says %v", s, f, want)
			}
		}
		// And through the parsers, fast path or not.
		got, err := parseFloat32(token{b: []byte(s), kind: 'n'})
		want, werr := strconv.ParseFloat(s, 32)
		if (err == nil) != (werr == nil) || (err == nil && math.Float32bits(got) != math.Float32bits(float32(want))) {
			t.Errorf("parseFloat32(%q) = %v, %v; strconv says %v, %v", s, got, err, want, werr)
		}
	}
	// The fast path must cover the common case, or it is pointless.
	for _, s := range []string{"0.12156863", "0.9882353", "1", "-3.5", "255", "0"} {
		if _, ok := fastFloat32([]byte(s)); !ok {
			t.Errorf("fastFloat32(%q) took the slow path", s)
		}
	}
}

func TestDecodeData(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		dt    ops.DType
		shape ops.Shape
		want  any
	}{
		{"flat", `[1, 2.5, -3, 4e1]`, ops.Float32, ops.Shape{2, 2}, []float32{1, 2.5, -3, 40}},
		{"nested", ` [ [1,2] , [3,4] ] `, ops.Float32, ops.Shape{2, 2}, []float32{1, 2, 3, 4}},
		{"nested rank 3", `[[[1],[2]],[[3],[4]]]`, ops.Int64, ops.Shape{2, 2, 1}, []int64{1, 2, 3, 4}},
		{"rank 3 given flat", `[1,2,3,4]`, ops.Int64, ops.Shape{2, 2, 1}, []int64{1, 2, 3, 4}},
		{"scalar bare", `7`, ops.Int32, ops.Shape{}, []int32{7}},
		{"scalar in an array", `[7]`, ops.Int32, ops.Shape{}, []int32{7}},
		{"empty", `[]`, ops.Float32, ops.Shape{0, 3}, []float32{}},
		{"empty nested", `[[],[]]`, ops.Float32, ops.Shape{2, 0}, []float32{}},
		{"specials", `["NaN","Infinity","-Infinity",0]`, ops.Float64, ops.Shape{4}, []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0}},
		{"bools", `[true,false]`, ops.Bool, ops.Shape{2}, []bool{true, false}},
		{"strings", `["a","\"b\"\n","é\u00e9"]`, ops.String, ops.Shape{3}, []string{"a", "\"b\"\n", "éé"}},
		{"int8 range", `[-128,127]`, ops.Int8, ops.Shape{2}, []int8{-128, 127}},
		{"uint64 max", `[18446744073709551615]`, ops.Uint64, ops.Shape{1}, []uint64{math.MaxUint64}},
		{"fp16", `[1.5, 65504, 1e9]`, ops.Float16, ops.Shape{3}, []ops.Float16Bits{ops.Float16FromFloat32(1.5), ops.Float16FromFloat32(65504), ops.Float16FromFloat32(1e9)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeData([]byte(tc.raw), tc.dt, tc.shape)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || reflect.TypeOf(got) != reflect.TypeOf(tc.want) {
				t.Errorf("got %T %v, want %T %v", got, got, tc.want, tc.want)
			}
		})
	}
}

func TestDecodeDataErrors(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		dt    ops.DType
		shape ops.Shape
		want  string
	}{
		{"not an array", `{"a":1}`, ops.Float32, ops.Shape{1}, `data must be a JSON array, got "{\"a\":1}"`},
		{"missing", ``, ops.Float32, ops.Shape{1}, "data is missing"},
		{"too few", `[1,2,3]`, ops.Float32, ops.Shape{2, 2}, "data has 3 elements, shape [2,2] holds 4"},
		{"too many", `[1,2,3,4,5]`, ops.Float32, ops.Shape{2, 2}, "data has more than the 4 elements shape [2,2] holds"},
		{"mixed", `[1,[2],3,4]`, ops.Float32, ops.Shape{2, 2}, "data mixes arrays and scalars at element 1"},
		{"ragged", `[[1,2],[3]]`, ops.Float32, ops.Shape{2, 2}, "dimension 1 has 1 entries"},
		{"too deep", `[[[1]],[[2]]]`, ops.Float32, ops.Shape{2, 1}, "data is nested deeper than shape [2,1]"},
		{"nested for rank 1", `[[1],[2]]`, ops.Float32, ops.Shape{2}, "data is nested deeper than shape [2] (rank 1)"},
		{"scalar where an array belongs", `[[1,2],3]`, ops.Float32, ops.Shape{2, 2}, "dimension 1 needs an array"},
		{"trailing comma", `[1,2,]`, ops.Float32, ops.Shape{3}, `unexpected "]" in the data`},
		{"garbage after", `[1,2] x`, ops.Float32, ops.Shape{2}, `unexpected "x" after the data`},
		{"missing separator", `[1 2]`, ops.Float32, ops.Shape{2}, `expected ',' or ']' in the data, got "2]"`},
		{"unterminated string", `["abc`, ops.String, ops.Shape{1}, "unterminated string"},
		{"truncated", `[1,`, ops.Float32, ops.Shape{2}, "data ends early"},
		{"word", `[True]`, ops.Bool, ops.Shape{1}, `unexpected "True]"`},
		{"not a number", `[1-2]`, ops.Float32, ops.Shape{1}, "element 0: 1-2 is not a number"},
		{"string for a float", `["1.5"]`, ops.Float32, ops.Shape{1}, `element 0: "1.5" is not a number`},
		{"float overflow", `[1e39]`, ops.Float32, ops.Shape{1}, "element 0: 1e39 is out of range for FP32"},
		{"int overflow", `[128]`, ops.Int8, ops.Shape{1}, "element 0: 128 is out of range for INT8"},
		{"int64 overflow", `[9223372036854775808]`, ops.Int64, ops.Shape{1}, "out of range for INT64"},
		{"exponent for an int", `[1e3]`, ops.Int32, ops.Shape{1}, "element 0: 1e3 is not an integer"},
		{"negative uint", `[-1]`, ops.Uint8, ops.Shape{1}, "element 0: -1 is out of range for UINT8"},
		{"string for an int", `["3"]`, ops.Int64, ops.Shape{1}, `"3" is not an integer`},
		{"number for a string", `[3]`, ops.String, ops.Shape{1}, "element 0: 3 is not a string"},
		{"complex", `[1]`, ops.Complex64, ops.Shape{1}, "cannot be sent as JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeData([]byte(tc.raw), tc.dt, tc.shape)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// appendData writes what decodeData reads back bit for bit, for every datatype.
func TestDataRoundTrip(t *testing.T) {
	tensors := []*ops.Tensor{
		ops.FromSlice(ops.Shape{2, 3}, []float32{0.1, -1e-30, 3.4028235e38, 1.17549435e-38, float32(math.NaN()), float32(math.Inf(-1))}),
		ops.FromSlice(ops.Shape{3}, []float64{math.Pi, -5e-324, math.Inf(1)}),
		ops.FromSlice(ops.Shape{2}, []ops.Float16Bits{ops.Float16FromFloat32(0.1), ops.Float16FromFloat32(-65504)}),
		ops.FromSlice(ops.Shape{2}, []ops.BFloat16Bits{ops.BFloat16FromFloat32(0.1), ops.BFloat16FromFloat32(-3e38)}),
		ops.FromSlice(ops.Shape{2}, []int8{-128, 127}),
		ops.FromSlice(ops.Shape{2}, []int16{-32768, 32767}),
		ops.FromSlice(ops.Shape{2}, []int32{math.MinInt32, math.MaxInt32}),
		ops.FromSlice(ops.Shape{2}, []int64{math.MinInt64, math.MaxInt64}),
		ops.FromSlice(ops.Shape{2}, []uint8{0, 255}),
		ops.FromSlice(ops.Shape{2}, []uint16{0, 65535}),
		ops.FromSlice(ops.Shape{2}, []uint32{0, math.MaxUint32}),
		ops.FromSlice(ops.Shape{2}, []uint64{0, math.MaxUint64}),
		ops.FromSlice(ops.Shape{1, 2}, []bool{true, false}),
		ops.FromSlice(ops.Shape{2}, []string{"tab\there", `quote" and \ and 😀`}),
		ops.FromSlice(ops.Shape{0}, []float32{}),
	}
	for _, in := range tensors {
		t.Run(in.DType().String(), func(t *testing.T) {
			raw, err := appendData(nil, in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeData(raw, in.DType(), in.Shape())
			if err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			if a, b := fmt.Sprintf("%#v", got), fmt.Sprintf("%#v", in.Data()); a != b && !sameFloatBits(got, in.Data()) {
				t.Errorf("%s decodes to %v, want %v", raw, got, in.Data())
			}
		})
	}
	raw, _ := appendData(nil, ops.FromSlice(ops.Shape{3}, []float32{float32(math.NaN()), float32(math.Inf(1)), 0.1}))
	if string(raw) != `["NaN","Infinity",0.1]` {
		t.Errorf("specials and shortest floats: got %s", raw)
	}
}

// sameFloatBits compares float slices holding NaN, which %#v prints alike but == does not match.
func sameFloatBits(a, b any) bool {
	x, ok1 := a.([]float32)
	y, ok2 := b.([]float32)
	if !ok1 || !ok2 || len(x) != len(y) {
		return false
	}
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) && !(x[i] != x[i] && y[i] != y[i]) {
			return false
		}
	}
	return true
}

func BenchmarkDecodeDigit(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	digit := make([]float32, 784)
	for i := range digit {
		if rng.IntN(4) == 0 {
			digit[i] = float32(rng.IntN(256)) / 255
		}
	}
	raw, err := appendData(nil, ops.FromSlice(ops.Shape{1, 1, 28, 28}, digit))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeData(raw, ops.Float32, ops.Shape{1, 1, 28, 28}); err != nil {
			b.Fatal(err)
		}
	}
}
