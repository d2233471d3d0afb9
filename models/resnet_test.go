package models

import (
	"strings"
	"testing"
)

// TestSmallResNetShape checks the built-in residual CNN's size (the doc's count) and output.
func TestSmallResNetShape(t *testing.T) {
	net, err := NewResNet(SmallResNet())
	if err != nil {
		t.Fatal(err)
	}
	if got := net.NumParams(); got != 78090 {
		t.Errorf("SmallResNet has %d parameters, the doc says 78,090\n%s", got, net.Summary())
	}
	if out := net.Output(); len(out) != 1 || out[0] != 10 {
		t.Errorf("output %v, want [10]", out)
	}
}

// TestSummaryConnections: a graph's summary says what each layer reads; a chain's keeps Keras's three
// columns.
func TestSummaryConnections(t *testing.T) {
	net, err := NewResNet(SmallResNet())
	if err != nil {
		t.Fatal(err)
	}
	s := net.Summary()
	for _, want := range []string{"Connected to", "stage2_block1_proj (Conv2D)", "stage2_block1_bn2, stage2_block1_proj_bn", "stem (Conv2D)"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	lenet, err := NewLeNet(SeedLeNet())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(lenet.Summary(), "Connected to") {
		t.Errorf("a Sequential summary has a Connected to column:\n%s", lenet.Summary())
	}
}

// TestSummaryColumnsAlign checks that every row of the residual CNN's summary starts its shape and its
// parameter count where the header's columns start, though names like "stage1_block1_bn1
// (BatchNormalization)" are longer than Keras's 30-character column.
func TestSummaryColumnsAlign(t *testing.T) {
	net, err := NewResNet(SmallResNet())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(net.Summary(), "\n")
	shapeAt := strings.Index(lines[0], "Output Shape")
	countEnd := strings.Index(lines[0], "Param #") + len("Param #")
	for _, row := range lines[2 : 2+len(net.Layers)] {
		if at := strings.Index(row, "(None"); at != shapeAt {
			t.Errorf("row %q: shape at column %d, the header's at %d", row, at, shapeAt)
		}
		if len(row) < countEnd || row[countEnd-1] == ' ' || (len(row) > countEnd && row[countEnd] != ' ') {
			t.Errorf("row %q: the parameter count does not end at column %d under the header's", row, countEnd)
		}
	}
}
