package conformance

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// overridesFile is overrides.txt: every case compared with a tolerance other than the default, known to
// fail for a reason outside onnxrun, or that onnxrun does not pass yet, and why.
//
//go:embed overrides.txt
var overridesFile string

// Override is one line of overrides.txt. A "bernoulli" or "bernoulli-1-p" line is a tolerance line whose
// Tol.Draws names the rule.
type Override struct {
	Pattern string // a case name, or a prefix followed by '*'
	// Known marks a case that fails for a reason outside onnxrun; Tol is then unused.
	Known bool
	// Fails marks a case that onnxrun does not pass yet (an op, type or feature it lacks); Tol is then
	// unused.
	Fails  bool
	Tol    Tolerance
	Reason string
	Line   int
}

// Failing reports whether the line says its cases do not pass ("known" or "fails"), rather than giving
// them a tolerance to pass with.
func (o Override) Failing() bool { return o.Known || o.Fails }

// Matches reports whether the override applies to the case name.
func (o Override) Matches(name string) bool {
	if prefix, ok := strings.CutSuffix(o.Pattern, "*"); ok {
		return strings.HasPrefix(name, prefix)
	}
	return o.Pattern == name
}

var overrides, overridesErr = ParseOverrides(overridesFile)

// Overrides returns the parsed overrides.txt, or the error that makes it unusable.
func Overrides() ([]Override, error) { return overrides, overridesErr }

// ParseOverrides reads the overrides format: "NAME RTOL ATOL REASON...", "NAME levels N REASON...",
// "NAME bernoulli REASON...", "NAME bernoulli-1-p REASON...",
// "NAME known REASON..." or "NAME fails REASON..." per line, '#' comments.
func ParseOverrides(text string) ([]Override, error) {
	var out []Override
	seen := map[string]int{}
	for i, line := range strings.Split(text, "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		lineNo := i + 1
		o := Override{Pattern: fields[0], Line: lineNo}
		if prev, dup := seen[o.Pattern]; dup {
			return nil, fmt.Errorf("overrides.txt:%d: %s is already on line %d", lineNo, o.Pattern, prev)
		}
		seen[o.Pattern] = lineNo
		switch {
		case len(fields) >= 3 && fields[1] == "known":
			o.Known, o.Reason = true, strings.Join(fields[2:], " ")
		case len(fields) >= 3 && fields[1] == "fails":
			o.Fails, o.Reason = true, strings.Join(fields[2:], " ")
		case len(fields) >= 4 && fields[1] == "levels":
			levels, err := strconv.Atoi(fields[2])
			if err != nil || levels < 1 {
				return nil, fmt.Errorf("overrides.txt:%d: levels %q must be a whole number >= 1", lineNo, fields[2])
			}
			o.Tol, o.Reason = Tolerance{Levels: levels}, strings.Join(fields[3:], " ")
		case len(fields) >= 3 && isDrawRule(fields[1]):
			rule, _ := parseDrawRule(fields[1])
			o.Tol, o.Reason = Tolerance{Draws: rule}, strings.Join(fields[2:], " ")
		case len(fields) >= 4:
			rtol, err1 := strconv.ParseFloat(fields[1], 64)
			atol, err2 := strconv.ParseFloat(fields[2], 64)
			if err1 != nil || err2 != nil || rtol < 0 || atol < 0 {
				return nil, fmt.Errorf("overrides.txt:%d: RTOL %q and ATOL %q must be numbers >= 0", lineNo, fields[1], fields[2])
			}
			o.Tol, o.Reason = Tolerance{RTol: rtol, ATol: atol}, strings.Join(fields[3:], " ")
		default:
			return nil, fmt.Errorf("overrides.txt:%d: want NAME RTOL ATOL REASON, NAME levels N REASON, NAME bernoulli[-1-p] REASON, NAME known REASON or NAME fails REASON, got %q",
				lineNo, strings.TrimSpace(line))
		}
		out = append(out, o)
	}
	return out, nil
}

// ToleranceFor returns the tolerance a node test is checked with: its override, else DefaultTolerance.
func ToleranceFor(name string) Tolerance {
	if o := OverrideFor(name); o != nil {
		return o.Tol
	}
	return DefaultTolerance
}

// OverrideFor returns the first tolerance line of overrides.txt that matches the case name, or nil.
func OverrideFor(name string) *Override {
	for i := range overrides {
		if !overrides[i].Failing() && overrides[i].Matches(name) {
			return &overrides[i]
		}
	}
	return nil
}

// KnownFailure returns the first "known" line of overrides.txt that matches the case name, or nil.
func KnownFailure(name string) *Override {
	for i := range overrides {
		if overrides[i].Known && overrides[i].Matches(name) {
			return &overrides[i]
		}
	}
	return nil
}

// ExpectedFailure returns the first "known" or "fails" line of overrides.txt that matches the case name, or
// nil: the line that explains why the case is not in expected_pass.txt.
func ExpectedFailure(name string) *Override {
	for i := range overrides {
		if overrides[i].Failing() && overrides[i].Matches(name) {
			return &overrides[i]
		}
	}
	return nil
}

// Finish completes a result for case c: it records the case and its tolerance override, and puts the
// overrides.txt reason in front of the reason of a known failure.
func Finish(c Case, res Result) Result {
	res.Case, res.Override = c, OverrideFor(c.Name)
	if k := KnownFailure(c.Name); k != nil && res.Status != Pass {
		res.Known = true
		res.Reason = "known: " + k.Reason + " (" + res.Reason + ")"
	}
	return res
}

func isDrawRule(word string) bool {
	_, ok := parseDrawRule(word)
	return ok
}
