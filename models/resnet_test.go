package models

import "testing"

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
