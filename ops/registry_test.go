package ops

import (
	"strings"
	"testing"
)

func testBuilder(NodeInfo) (Op, error) { return nil, nil }

func rangesOf(domain, opType string) []OpsetRange {
	_, ranges, _ := Lookup(domain, opType, 0) // opset 0 is never covered: Lookup lists the ranges
	return ranges
}

func TestRegisterTurnsHistoryIntoClosedRanges(t *testing.T) {
	Register("", "TestHistoryOp", Since(1, testBuilder), Since(6, testBuilder), Since(13, testBuilder))
	Register("", "TestRemovedOp", Since(7, testBuilder), Since(9, testBuilder), RemovedIn(10))
	Register("", "TestFutureOp", Since(MaxOpset, testBuilder), Since(MaxOpset+1, testBuilder))
	Register(FusedDomain, "TestFusedOp", Since(1, testBuilder))
	Register("", "TestSameBuilderOp", SameBuilder(testBuilder, 5, 11)...)
	for _, c := range []struct {
		domain, op string
		want       []OpsetRange
	}{
		{"", "TestHistoryOp", []OpsetRange{{1, 5}, {6, 12}, {13, MaxOpset}}},
		{"", "TestRemovedOp", []OpsetRange{{7, 8}, {9, 9}}},
		{"", "TestFutureOp", []OpsetRange{{MaxOpset, MaxOpset}}},
		{FusedDomain, "TestFusedOp", []OpsetRange{{1, 1}}},
		{"", "TestSameBuilderOp", []OpsetRange{{5, 10}, {11, MaxOpset}}},
	} {
		got := rangesOf(c.domain, c.op)
		if len(got) != len(c.want) {
			t.Errorf("%s: ranges %v, want %v", c.op, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: ranges %v, want %v", c.op, got, c.want)
				break
			}
		}
	}
	if _, _, ok := Lookup("", "TestRemovedOp", 10); ok {
		t.Error("TestRemovedOp resolves at opset 10, after RemovedIn(10)")
	}
}

func TestRegisterPanicsOnBadTables(t *testing.T) {
	Register("", "TestOverlapOp", Since(5, testBuilder))
	for _, c := range []struct {
		name, want string
		register   func()
	}{
		{"overlap", errRangeOverlap, func() { Register("", "TestOverlapOp", Since(3, testBuilder), Since(7, testBuilder)) }},
		{"unordered", errBadRange, func() { Register("", "TestUnorderedOp", Since(9, testBuilder), Since(4, testBuilder)) }},
		{"undeclared domain", errUnknownDomain, func() { Register("com.example", "TestOp", Since(1, testBuilder)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, c.want) {
					t.Errorf("panic %q, want one starting %q", msg, c.want)
				}
			}()
			c.register()
		})
	}
}
