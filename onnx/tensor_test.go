package onnx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxrun/onnxrun/onnx/onnxpb"
)

// leBytes encodes a numeric or bool slice with encoding/binary, independently of the package's own
// unsafe-based encoder.
func leBytes(t *testing.T, data any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, data); err != nil {
		t.Fatalf("binary.Write(%T): %v", data, err)
	}
	return buf.Bytes()
}

// tensorCase is one element type: the Array we expect and the same values in the typed field.
type tensorCase struct {
	name  string
	want  Array
	typed func(*onnxpb.TensorProto) // fills the typed field; nil if the type has none
}

func tensorCases() []tensorCase {
	dt := func(d onnxpb.TensorProto_DataType) onnxpb.TensorProto_DataType { return d }
	return []tensorCase{
		{"float", Array{dt(onnxpb.TensorProto_FLOAT), []int64{2, 3}, []float32{0, -1.5, 3.25, math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Inf(-1))}},
			func(tp *onnxpb.TensorProto) {
				tp.FloatData = []float32{0, -1.5, 3.25, math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Inf(-1))}
			}},
		{"float scalar", Array{dt(onnxpb.TensorProto_FLOAT), []int64{}, []float32{42}},
			func(tp *onnxpb.TensorProto) { tp.FloatData = []float32{42} }},
		{"float empty", Array{dt(onnxpb.TensorProto_FLOAT), []int64{2, 0, 3}, []float32{}}, func(*onnxpb.TensorProto) {}},
		{"double", Array{dt(onnxpb.TensorProto_DOUBLE), []int64{3}, []float64{1e300, -2.5, math.SmallestNonzeroFloat64}},
			func(tp *onnxpb.TensorProto) { tp.DoubleData = []float64{1e300, -2.5, math.SmallestNonzeroFloat64} }},
		{"complex64", Array{dt(onnxpb.TensorProto_COMPLEX64), []int64{2}, []complex64{1 + 2i, -3.5}},
			func(tp *onnxpb.TensorProto) { tp.FloatData = []float32{1, 2, -3.5, 0} }},
		{"complex128", Array{dt(onnxpb.TensorProto_COMPLEX128), []int64{1, 2}, []complex128{-1i, 4 + 0.5i}},
			func(tp *onnxpb.TensorProto) { tp.DoubleData = []float64{0, -1, 4, 0.5} }},
		{"int8", Array{dt(onnxpb.TensorProto_INT8), []int64{4}, []int8{-128, -1, 0, 127}},
			func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{-128, -1, 0, 127} }},
		{"int16", Array{dt(onnxpb.TensorProto_INT16), []int64{3}, []int16{-32768, 32767, 5}},
			func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{-32768, 32767, 5} }},
		{"int32", Array{dt(onnxpb.TensorProto_INT32), []int64{3}, []int32{math.MinInt32, math.MaxInt32, 0}},
			func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{math.MinInt32, math.MaxInt32, 0} }},
		{"int64", Array{dt(onnxpb.TensorProto_INT64), []int64{2}, []int64{math.MinInt64, math.MaxInt64}},
			func(tp *onnxpb.TensorProto) { tp.Int64Data = []int64{math.MinInt64, math.MaxInt64} }},
		{"uint8", Array{dt(onnxpb.TensorProto_UINT8), []int64{3}, []uint8{0, 255, 7}},
			func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{0, 255, 7} }},
		{"uint16", Array{dt(onnxpb.TensorProto_UINT16), []int64{2}, []uint16{0, 65535}},
			func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{0, 65535} }},
		{"uint32", Array{dt(onnxpb.TensorProto_UINT32), []int64{2}, []uint32{0, math.MaxUint32}},
			func(tp *onnxpb.TensorProto) { tp.Uint64Data = []uint64{0, math.MaxUint32} }},
		{"uint64", Array{dt(onnxpb.TensorProto_UINT64), []int64{2}, []uint64{0, math.MaxUint64}},
			func(tp *onnxpb.TensorProto) { tp.Uint64Data = []uint64{0, math.MaxUint64} }},
		{"bool", Array{dt(onnxpb.TensorProto_BOOL), []int64{3}, []bool{true, false, true}},
			func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{1, 0, 1} }},
		{"float16", Array{dt(onnxpb.TensorProto_FLOAT16), []int64{2}, []uint16{0x3c00, 0xfbff}},
			func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{0x3c00, 0xfbff} }},
		{"bfloat16", Array{dt(onnxpb.TensorProto_BFLOAT16), []int64{2}, []uint16{0x3f80, 0xff80}},
			func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{0x3f80, 0xff80} }},
		{"float8e4m3fn", Array{dt(onnxpb.TensorProto_FLOAT8E4M3FN), []int64{3}, []uint8{0x38, 0xff, 0x7e}},
			func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{0x38, 0xff, 0x7e} }},
		{"float8e5m2fnuz", Array{dt(onnxpb.TensorProto_FLOAT8E5M2FNUZ), []int64{2}, []uint8{0x80, 0x40}},
			func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{0x80, 0x40} }},
		{"float8e8m0", Array{dt(onnxpb.TensorProto_FLOAT8E8M0), []int64{1}, []uint8{0x7f}},
			func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{0x7f} }},
		{"string", Array{dt(onnxpb.TensorProto_STRING), []int64{3}, []string{"a", "", "héllo"}},
			func(tp *onnxpb.TensorProto) { tp.StringData = [][]byte{[]byte("a"), {}, []byte("héllo")} }},
	}
}

func TestReadTensorRawAndTyped(t *testing.T) {
	for _, tc := range tensorCases() {
		base := func() *onnxpb.TensorProto {
			return &onnxpb.TensorProto{Name: proto.String(tc.name), DataType: proto.Int32(int32(tc.want.DataType)), Dims: tc.want.Dims}
		}
		t.Run(tc.name+"/typed", func(t *testing.T) {
			tp := base()
			tc.typed(tp)
			got, err := ReadTensor(tp, "", Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
		})
		if tc.want.DataType == onnxpb.TensorProto_STRING {
			continue
		}
		t.Run(tc.name+"/raw", func(t *testing.T) {
			tp := base()
			tp.RawData = leBytes(t, tc.want.Data)
			got, err := ReadTensor(tp, "", Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
			// The result must not alias raw_data.
			if len(tp.RawData) > 0 {
				tp.RawData[0] ^= 0xff
				if again, _ := ReadTensor(tp, "", Limits{}); reflect.DeepEqual(again.Data, got.Data) && tc.want.DataType != onnxpb.TensorProto_BOOL {
					t.Errorf("Array.Data aliases raw_data")
				}
			}
		})
	}
}

func TestNewTensorProtoRoundTrip(t *testing.T) {
	for _, tc := range tensorCases() {
		t.Run(tc.name, func(t *testing.T) {
			tp, err := NewTensorProto("x", &tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if tp.GetName() != "x" || tp.GetDataType() != int32(tc.want.DataType) || !slices.Equal(tp.GetDims(), tc.want.Dims) {
				t.Errorf("header: name %q type %d dims %v", tp.GetName(), tp.GetDataType(), tp.GetDims())
			}
			if tc.want.DataType != onnxpb.TensorProto_STRING {
				if want := leBytes(t, tc.want.Data); !bytes.Equal(tp.RawData, want) {
					t.Errorf("raw_data % x, want % x", tp.RawData, want)
				}
			}
			// Through the wire and back.
			b, err := proto.Marshal(tp)
			if err != nil {
				t.Fatal(err)
			}
			back := &onnxpb.TensorProto{}
			if err := proto.Unmarshal(b, back); err != nil {
				t.Fatal(err)
			}
			got, err := ReadTensor(back, "", Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestNewTensorProtoErrors(t *testing.T) {
	tests := []struct {
		name        string
		a           *Array
		unsupported bool
		msg         string
	}{
		{"nil", nil, false, "nil Array"},
		{"wrong Go type", &Array{onnxpb.TensorProto_FLOAT, []int64{2}, []float64{1, 2}}, false, "data_type FLOAT needs []float32, Data is []float64"},
		{"int8 for uint8", &Array{onnxpb.TensorProto_UINT8, []int64{1}, []int8{1}}, false, "needs []uint8"},
		{"length", &Array{onnxpb.TensorProto_INT32, []int64{2, 2}, []int32{1, 2, 3}}, false, "dims [2 2] need 4 elements, Data has 3"},
		{"negative dim", &Array{onnxpb.TensorProto_INT32, []int64{-1}, []int32{}}, false, "dim 0 is negative"},
		{"int4 as int8", &Array{onnxpb.TensorProto_INT4, []int64{1}, []int8{1}}, false, "data_type INT4 needs []uint8 (one element per byte), Data is []int8"},
		{"uint2 length", &Array{onnxpb.TensorProto_UINT2, []int64{5}, []uint8{1, 2, 3, 0}}, false, "dims [5] need 5 elements, Data has 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTensorProto("x", tt.a)
			checkErr(t, err, tt.unsupported, tt.msg)
		})
	}
}

// checkErr asserts err's kind (FormatError or UnsupportedError) and a substring of its message.
func checkErr(t *testing.T, err error, unsupported bool, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", msg)
	}
	var f *FormatError
	var u *UnsupportedError
	switch {
	case unsupported && !errors.As(err, &u):
		t.Errorf("error %q (%T) is not an UnsupportedError", err, err)
	case !unsupported && !errors.As(err, &f):
		t.Errorf("error %q (%T) is not a FormatError", err, err)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not contain %q", err, msg)
	}
	if testing.Verbose() {
		t.Logf("%v", err)
	}
}

func TestReadTensorErrors(t *testing.T) {
	f := func(name string, dt onnxpb.TensorProto_DataType, dims ...int64) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(dt)), Dims: dims}
	}
	with := func(tp *onnxpb.TensorProto, fill func(*onnxpb.TensorProto)) *onnxpb.TensorProto {
		fill(tp)
		return tp
	}
	tests := []struct {
		name        string
		tp          *onnxpb.TensorProto
		limits      Limits
		unsupported bool
		msg         string
	}{
		{"raw size mismatch", with(f("W", onnxpb.TensorProto_FLOAT, 3, 4), func(tp *onnxpb.TensorProto) { tp.RawData = make([]byte, 40) }),
			Limits{}, false, `tensor "W": dims [3 4] need 48 bytes, raw_data has 40`},
		{"raw too long", with(f("W", onnxpb.TensorProto_INT64, 1), func(tp *onnxpb.TensorProto) { tp.RawData = make([]byte, 9) }),
			Limits{}, false, "dims [1] need 8 bytes, raw_data has 9"},
		{"negative dim", with(f("W", onnxpb.TensorProto_FLOAT, 2, -1), func(tp *onnxpb.TensorProto) { tp.RawData = []byte{} }),
			Limits{}, false, "dims [2 -1]: dim 1 is negative (-1)"},
		{"element count overflow", with(f("W", onnxpb.TensorProto_FLOAT, 1<<32, 1<<32), func(tp *onnxpb.TensorProto) { tp.RawData = []byte{} }),
			Limits{}, false, "element count overflows int64"},
		{"byte size overflow", with(f("W", onnxpb.TensorProto_FLOAT, 1<<62), func(tp *onnxpb.TensorProto) { tp.RawData = []byte{} }),
			Limits{}, false, "byte size overflows int64"},
		{"huge dims, no data", f("W", onnxpb.TensorProto_FLOAT, 1<<40),
			Limits{}, false, "dims [1099511627776] need 1099511627776 FLOAT entries, float_data has 0"},
		{"typed count", with(f("b", onnxpb.TensorProto_FLOAT, 3), func(tp *onnxpb.TensorProto) { tp.FloatData = []float32{1, 2} }),
			Limits{}, false, "dims [3] need 3 FLOAT entries, float_data has 2"},
		{"complex typed count", with(f("c", onnxpb.TensorProto_COMPLEX64, 2), func(tp *onnxpb.TensorProto) { tp.FloatData = []float32{1, 2, 3} }),
			Limits{}, false, "need 4 COMPLEX64 entries, float_data has 3"},
		{"wrong typed field", with(f("b", onnxpb.TensorProto_FLOAT, 1), func(tp *onnxpb.TensorProto) { tp.Int64Data = []int64{1} }),
			Limits{}, false, "data_type FLOAT but int64_data is set"},
		{"raw and typed", with(f("b", onnxpb.TensorProto_FLOAT, 1), func(tp *onnxpb.TensorProto) {
			tp.FloatData = []float32{1}
			tp.RawData = make([]byte, 4)
		}), Limits{}, false, "both raw_data and float_data are set"},
		{"int8 out of range", with(f("q", onnxpb.TensorProto_INT8, 2), func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{1, 200} }),
			Limits{}, false, "int32_data[1]=200 is out of range for INT8"},
		{"uint16 negative", with(f("q", onnxpb.TensorProto_FLOAT16, 1), func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{-1} }),
			Limits{}, false, "int32_data[0]=-1 is out of range for FLOAT16"},
		{"uint32 out of range", with(f("q", onnxpb.TensorProto_UINT32, 1), func(tp *onnxpb.TensorProto) { tp.Uint64Data = []uint64{1 << 32} }),
			Limits{}, false, "uint64_data[0]=4294967296 is out of range for UINT32"},
		{"string in raw_data", with(f("s", onnxpb.TensorProto_STRING, 1), func(tp *onnxpb.TensorProto) { tp.RawData = []byte("a") }),
			Limits{}, false, "STRING tensor uses raw_data"},
		{"undefined", f("u", onnxpb.TensorProto_UNDEFINED), Limits{}, false, "data_type is UNDEFINED (0)"},
		{"unknown type", f("u", onnxpb.TensorProto_DataType(99)), Limits{}, true, "data_type 99 is not a type this build knows"},
		{"float8 raw size", with(f("f8", onnxpb.TensorProto_FLOAT8E4M3FN, 4), func(tp *onnxpb.TensorProto) { tp.RawData = make([]byte, 3) }),
			Limits{}, false, `tensor "f8": dims [4] need 4 bytes, raw_data has 3`},
		{"float8 entry out of range", with(f("f8", onnxpb.TensorProto_FLOAT8E5M2, 2), func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{1, 256} }),
			Limits{}, false, "int32_data[1]=256 is out of range for FLOAT8E5M2"},
		{"int4 entry out of range", with(f("i4", onnxpb.TensorProto_INT4, 2), func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{-1} }),
			Limits{}, false, "int32_data[0]=-1 is out of range for INT4"},
		{"int4 over limit", with(f("i4", onnxpb.TensorProto_INT4, 3000), func(tp *onnxpb.TensorProto) { tp.RawData = make([]byte, 1500) }),
			Limits{MaxTensorBytes: 2000}, true, "dims [3000] need 3000 bytes in memory, over the limit of 2000"},
		{"int4 raw size", with(f("i4", onnxpb.TensorProto_INT4, 3), func(tp *onnxpb.TensorProto) { tp.RawData = make([]byte, 1) }),
			Limits{}, false, "dims [3] need 2 bytes, raw_data has 1"},
		{"uint2 typed size", with(f("u2", onnxpb.TensorProto_UINT2, 5), func(tp *onnxpb.TensorProto) { tp.Int32Data = []int32{1} }),
			Limits{}, false, "dims [5] need 2 UINT2 entries, int32_data has 1"},
		{"segment", with(f("s", onnxpb.TensorProto_FLOAT, 1), func(tp *onnxpb.TensorProto) {
			tp.Segment = &onnxpb.TensorProto_Segment{Begin: proto.Int64(0), End: proto.Int64(1)}
		}), Limits{}, true, "segmented tensor (segment [0, 1))"},
		{"over limit", with(f("big", onnxpb.TensorProto_FLOAT, 1024), func(tp *onnxpb.TensorProto) { tp.RawData = make([]byte, 4096) }),
			Limits{MaxTensorBytes: 1000}, true, "dims [1024] need 4096 bytes in memory, over the limit of 1000"},
		{"strings over limit", with(f("s", onnxpb.TensorProto_STRING, 1), func(tp *onnxpb.TensorProto) { tp.StringData = [][]byte{make([]byte, 100)} }),
			Limits{MaxTensorBytes: 64}, true, "need 116 bytes in memory"},
		{"external_data without EXTERNAL", with(f("e", onnxpb.TensorProto_FLOAT, 1), func(tp *onnxpb.TensorProto) {
			tp.ExternalData = []*onnxpb.StringStringEntryProto{{Key: proto.String("location"), Value: proto.String("w.bin")}}
		}), Limits{}, false, "external_data is set but data_location is not EXTERNAL"},
		{"EXTERNAL with raw_data", with(f("e", onnxpb.TensorProto_FLOAT, 1), func(tp *onnxpb.TensorProto) {
			tp.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
			tp.RawData = make([]byte, 4)
		}), Limits{}, false, "data_location EXTERNAL but the data is also inline (raw_data)"},
		{"nil", nil, Limits{}, false, "nil TensorProto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadTensor(tt.tp, "", tt.limits)
			checkErr(t, err, tt.unsupported, tt.msg)
		})
	}
}

func TestLimitsNegativeMeansUnlimited(t *testing.T) {
	tp := &onnxpb.TensorProto{DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{1024}, RawData: make([]byte, 4096)}
	if _, err := ReadTensor(tp, "", Limits{MaxTensorBytes: -1}); err != nil {
		t.Fatal(err)
	}
}

// TestByteOrder exercises the big-endian branch on any host: encoding for a big-endian host must reverse
// each scalar (each half of a complex number separately), and decoding must undo it.
func TestByteOrder(t *testing.T) {
	c64 := []complex64{complex(1, -2), complex(float32(math.Pi), 0)}
	little := toLE(c64, true)
	swapped := toLE(c64, false)
	want := slices.Clone(little)
	for i := 0; i < len(want); i += 4 {
		slices.Reverse(want[i : i+4])
	}
	if !bytes.Equal(swapped, want) {
		t.Errorf("complex64 big-endian bytes % x, want % x", swapped, want)
	}
	if got := fromLE[complex64](swapped, false, false); !slices.Equal(got, c64) {
		t.Errorf("complex64 round trip %v, want %v", got, c64)
	}
	i64 := []int64{1, -2, math.MinInt64}
	if got := fromLE[int64](toLE(i64, false), false, false); !slices.Equal(got, i64) {
		t.Errorf("int64 round trip %v, want %v", got, i64)
	}
}

func TestReadTensorFile(t *testing.T) {
	tp, err := NewTensorProto("input_0", &Array{onnxpb.TensorProto_INT32, []int64{2}, []int32{7, -7}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := dir + "/input_0.pb"
	writeFile(t, path, b)
	got, a, err := ReadTensorFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetName() != "input_0" || !reflect.DeepEqual(a.Data, []int32{7, -7}) {
		t.Errorf("got %q %v", got.GetName(), a.Data)
	}
	writeFile(t, path, []byte{0xff, 0xff, 0xff})
	_, _, err = ReadTensorFile(path)
	checkErr(t, err, false, "not a TensorProto")
}

// TestPackedTypes checks the 4-bit and 2-bit layouts: low bits first, the last byte padded, one element per
// byte in Array.Data, from raw_data and from int32_data, and back.
func TestPackedTypes(t *testing.T) {
	tests := []struct {
		dt    onnxpb.TensorProto_DataType
		elems []uint8
		raw   []byte
	}{
		{onnxpb.TensorProto_INT4, []uint8{0x7, 0x8, 0x9, 0xa, 0xf}, []byte{0x87, 0xa9, 0x0f}},
		{onnxpb.TensorProto_UINT4, []uint8{0x1, 0x2, 0x3, 0x4}, []byte{0x21, 0x43}},
		{onnxpb.TensorProto_FLOAT4E2M1, []uint8{0x1, 0xe, 0x7}, []byte{0xe1, 0x07}},
		{onnxpb.TensorProto_INT2, []uint8{1, 2, 3, 0, 1, 2, 3}, []byte{0x39, 0x39}},
		{onnxpb.TensorProto_UINT2, []uint8{3, 0, 0, 0, 1}, []byte{0x03, 0x01}},
		{onnxpb.TensorProto_UINT4, []uint8{}, []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.dt.String(), func(t *testing.T) {
			dims := []int64{int64(len(tt.elems))}
			want := Array{tt.dt, dims, tt.elems}
			raw := &onnxpb.TensorProto{DataType: proto.Int32(int32(tt.dt)), Dims: dims, RawData: tt.raw}
			typed := &onnxpb.TensorProto{DataType: proto.Int32(int32(tt.dt)), Dims: dims}
			for _, b := range tt.raw {
				typed.Int32Data = append(typed.Int32Data, int32(b))
			}
			for _, tp := range []*onnxpb.TensorProto{raw, typed} {
				got, err := ReadTensor(tp, "", Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(*got, want) {
					t.Errorf("got %+v, want %+v", *got, want)
				}
			}
			// High bits of an element are ignored when packing.
			noisy := slices.Clone(tt.elems)
			for i := range noisy {
				noisy[i] |= 0xf0 &^ (0xff >> (8 - packedBits(tt.dt)))
			}
			tp, err := NewTensorProto("p", &Array{tt.dt, dims, noisy})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tp.RawData, tt.raw) {
				t.Errorf("raw_data % x, want % x", tp.RawData, tt.raw)
			}
		})
	}
}

// TakeTensor gives the same values as ReadTensor, takes the raw bytes as the array's memory instead of
// copying them (on this little-endian, aligned case), and leaves the proto without them; ReadTensor never
// shares memory with the proto.
func TestTakeTensorTakesTheRawBytes(t *testing.T) {
	want := []float32{1.5, -2, 3.25, 0}
	raw := make([]byte, 4*len(want))
	for i, v := range want {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	tp := func() *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: proto.String("w"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
			Dims: []int64{2, 2}, RawData: slices.Clone(raw)}
	}
	read := tp()
	a, err := ReadTensor(read, "", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Data.([]float32); !slices.Equal(got, want) || &bytesOf(got)[0] == &read.RawData[0] {
		t.Errorf("ReadTensor: %v, sharing the proto's bytes: %v", got, &bytesOf(got)[0] == &read.RawData[0])
	}
	taken := tp()
	rawData := taken.RawData
	a, err = TakeTensor(taken, "", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got := a.Data.([]float32)
	if !slices.Equal(got, want) {
		t.Errorf("TakeTensor: %v, want %v", got, want)
	}
	if littleEndian && &bytesOf(got)[0] != &rawData[0] {
		t.Error("TakeTensor copied aligned little-endian raw_data instead of taking it")
	}
	if taken.RawData != nil {
		t.Error("TakeTensor left raw_data in the proto")
	}
	// Bytes not aligned for the element type are copied.
	unaligned := make([]byte, len(raw)+1)[1:]
	copy(unaligned, raw)
	if got := fromLE[float32](unaligned, true, true); !slices.Equal(got, want) || &bytesOf(got)[0] == &unaligned[0] {
		t.Errorf("unaligned bytes: %v, taken: %v", got, &bytesOf(got)[0] == &unaligned[0])
	}
}
