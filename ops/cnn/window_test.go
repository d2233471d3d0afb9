package cnn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/onnxrun/onnxrun/ops"
)

func TestWindowResolve(t *testing.T) {
	cases := []struct {
		name          string
		attrs         windowAttrs
		in, kernel    []int
		wantOut       []int
		wantPadBegin  []int
		wantPadEnd    []int
		wantErrSubstr string
	}{
		// The lecture's formula floor((n + 2p - f)/s) + 1.
		{name: "valid", attrs: windowAttrs{}, in: []int{6}, kernel: []int{3}, wantOut: []int{4}, wantPadBegin: []int{0}, wantPadEnd: []int{0}},
		{name: "same by pads", attrs: windowAttrs{pads: []int{1, 1}}, in: []int{6}, kernel: []int{3}, wantOut: []int{6}, wantPadBegin: []int{1}, wantPadEnd: []int{1}},
		{name: "full", attrs: windowAttrs{pads: []int{2, 2}}, in: []int{6}, kernel: []int{3}, wantOut: []int{8}, wantPadBegin: []int{2}, wantPadEnd: []int{2}},
		{name: "stride 2", attrs: windowAttrs{strides: []int{2}}, in: []int{6}, kernel: []int{3}, wantOut: []int{2}, wantPadBegin: []int{0}, wantPadEnd: []int{0}},
		{name: "asymmetric 2-D", attrs: windowAttrs{pads: []int{1, 0, 1, 0}, strides: []int{2, 2}}, in: []int{7, 5}, kernel: []int{3, 3}, wantOut: []int{4, 2}, wantPadBegin: []int{1, 0}, wantPadEnd: []int{1, 0}},
		{name: "dilation", attrs: windowAttrs{dilations: []int{2}}, in: []int{7}, kernel: []int{3}, wantOut: []int{3}, wantPadBegin: []int{0}, wantPadEnd: []int{0}},
		// SAME: out = ceil(in/stride), total padding (out-1)*s + k - in, odd cell at the end (UPPER) or start (LOWER).
		{name: "same_upper odd", attrs: windowAttrs{autoPad: autoPadSameUpper}, in: []int{5}, kernel: []int{2}, wantOut: []int{5}, wantPadBegin: []int{0}, wantPadEnd: []int{1}},
		{name: "same_lower odd", attrs: windowAttrs{autoPad: autoPadSameLower}, in: []int{5}, kernel: []int{2}, wantOut: []int{5}, wantPadBegin: []int{1}, wantPadEnd: []int{0}},
		{name: "same_lower strided", attrs: windowAttrs{autoPad: autoPadSameLower, strides: []int{2}}, in: []int{5}, kernel: []int{3}, wantOut: []int{3}, wantPadBegin: []int{1}, wantPadEnd: []int{1}},
		{name: "same kernel smaller than stride", attrs: windowAttrs{autoPad: autoPadSameUpper, strides: []int{3}}, in: []int{7}, kernel: []int{1}, wantOut: []int{3}, wantPadBegin: []int{0}, wantPadEnd: []int{0}},
		{name: "same ignores pads", attrs: windowAttrs{autoPad: autoPadSameUpper, pads: []int{3, 3}}, in: []int{4}, kernel: []int{3}, wantOut: []int{4}, wantPadBegin: []int{1}, wantPadEnd: []int{1}},
		{name: "valid ignores ceil", attrs: windowAttrs{autoPad: autoPadValid, ceilMode: true, strides: []int{2}}, in: []int{4}, kernel: []int{3}, wantOut: []int{1}, wantPadBegin: []int{0}, wantPadEnd: []int{0}},
		// ceil_mode: ceil((4 - 3)/2) + 1 = 2; the last window starts at 2 < 4, so it stays.
		{name: "ceil", attrs: windowAttrs{ceilMode: true, strides: []int{2}}, in: []int{4}, kernel: []int{3}, wantOut: []int{2}, wantPadBegin: []int{0}, wantPadEnd: []int{0}},
		{name: "floor", attrs: windowAttrs{strides: []int{2}}, in: []int{4}, kernel: []int{3}, wantOut: []int{1}, wantPadBegin: []int{0}, wantPadEnd: []int{0}},
		// ceil((2 + 2 - 3)/3) + 1 = 2, but the second window would start at 3 - 1 = 2 = in: in the end padding.
		{name: "ceil drops window starting in padding", attrs: windowAttrs{ceilMode: true, strides: []int{3}, pads: []int{1, 1}}, in: []int{2}, kernel: []int{3}, wantOut: []int{1}, wantPadBegin: []int{1}, wantPadEnd: []int{1}},
		{name: "ceil kernel 1 stride 2", attrs: windowAttrs{ceilMode: true, strides: []int{2}}, in: []int{2}, kernel: []int{1}, wantOut: []int{1}, wantPadBegin: []int{0}, wantPadEnd: []int{0}},
		{name: "empty", attrs: windowAttrs{}, in: []int{2}, kernel: []int{3}, wantErrSubstr: "input size 2 + pads 0+0 is smaller than the dilated kernel 3"},
		{name: "empty valid", attrs: windowAttrs{autoPad: autoPadValid, dilations: []int{2}}, in: []int{4}, kernel: []int{3}, wantErrSubstr: "smaller than the dilated kernel 5 (kernel 3, dilation 2) with auto_pad VALID"},
		{name: "pads >= kernel for pools", attrs: windowAttrs{pads: []int{3, 0}, padsLessThanKernel: true}, in: []int{4}, kernel: []int{3}, wantErrSubstr: "pads 3+0 must each be smaller than the dilated kernel 3"},
		{name: "kernel rank", attrs: windowAttrs{}, in: []int{4, 4}, kernel: []int{3}, wantErrSubstr: "kernel_shape [3] has 1 axes, the input has 2 spatial axes"},
		{name: "dilations rank", attrs: windowAttrs{dilations: []int{1, 1}}, in: []int{4}, kernel: []int{3}, wantErrSubstr: "dilations has 2 values [1 1] for 1 spatial axes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := c.attrs.resolve(c.in, c.kernel)
			if c.wantErrSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErrSubstr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErrSubstr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprint(w.out, w.padBegin, w.padEnd)
			want := fmt.Sprint(c.wantOut, c.wantPadBegin, c.wantPadEnd)
			if got != want {
				t.Errorf("out, padBegin, padEnd = %s, want %s", got, want)
			}
		})
	}
}

// TestGatherInput checks the index tables against the coordinates they encode, for every position and tap.
func TestGatherInput(t *testing.T) {
	a := windowAttrs{pads: []int{1, 0, 2, 1}, strides: []int{2, 1}, dilations: []int{1, 2}, ceilMode: true}
	w, err := a.resolve([]int{5, 4}, []int{3, 2})
	if err != nil {
		t.Fatal(err)
	}
	g := w.gatherInput()
	if g.positions != w.out[0]*w.out[1] || g.taps != 6 {
		t.Fatalf("positions %d taps %d for out %v", g.positions, g.taps, w.out)
	}
	buf := make([]int32, g.taps)
	p := 0
	for oy := 0; oy < w.out[0]; oy++ {
		for ox := 0; ox < w.out[1]; ox++ {
			row := g.row(p, buf)
			k := 0
			for ky := 0; ky < 3; ky++ {
				for kx := 0; kx < 2; kx++ {
					y := oy*2 + ky - 1
					x := ox + kx*2 - 0
					want := int32(y*4 + x)
					switch {
					case y >= 5+2 || x >= 4+1:
						want = tapCeil
					case y < 0 || y >= 5 || x < 0 || x >= 4:
						want = tapPad
					}
					if row[k] != want {
						t.Errorf("position (%d,%d) tap (%d,%d): %d, want %d", oy, ox, ky, kx, row[k], want)
					}
					k++
				}
			}
			p++
		}
	}
	if g.isIdentity(20) {
		t.Error("a 3x2 window is not the identity")
	}
	one, _ := (&windowAttrs{}).resolve([]int{3, 2}, []int{1, 1})
	if !one.gatherInput().isIdentity(6) {
		t.Error("a 1x1 stride-1 window should be the identity")
	}
}

func TestReadWindowAttrs(t *testing.T) {
	cases := []struct {
		attrs   ops.AttrMap
		wantErr string
	}{
		{ops.AttrMap{"kernel_shape": ints(3, 0)}, `"kernel_shape" is [3 0]: value 0 (axis 1) must be positive`},
		{ops.AttrMap{"strides": ints(0)}, `"strides" is [0]: value 0 (axis 0) must be positive`},
		{ops.AttrMap{"dilations": ints(-1)}, `"dilations" is [-1]: value -1 (axis 0) must be positive`},
		{ops.AttrMap{"pads": ints(1, -2)}, `"pads" is [1 -2]: value -2 (position 1) is negative`},
		{ops.AttrMap{"auto_pad": ops.StringAttr("same_upper")}, `"auto_pad" is "same_upper", want one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`},
		{ops.AttrMap{"strides": ops.FloatAttr(2)}, `"strides" is float, want ints`},
		{ops.AttrMap{"kernel_shape": ints(3, 3), "auto_pad": ops.StringAttr("VALID")}, ""},
	}
	for _, c := range cases {
		_, err := readWindowAttrs(ops.NewAttrReader(c.attrs), true)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%v: %v", c.attrs, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%v: error %v, want %q", c.attrs, err, c.wantErr)
		}
	}
}
