package tensorio

import (
	"fmt"
	"strconv"
)

// The .npy header is the repr of a Python dict, which numpy reads back with ast.literal_eval. This is a
// parser for the subset such a header can hold: dicts, tuples, lists, strings, integers, True, False and
// None. It is strict (anything else is an error) and bounded (nesting depth), so hostile headers fail
// with a message instead of recursing without end.

// pyTuple and pyList keep Python's distinction: a shape must be a tuple.
type (
	pyTuple []any
	pyList  []any
	pyDict  map[string]any
)

// maxLiteralDepth bounds nesting. A real header nests two levels deep (dict, shape tuple); structured
// dtypes (refused anyway) go a few levels further.
const maxLiteralDepth = 16

type literalParser struct {
	s     string
	pos   int
	depth int
}

// parsePyLiteral parses s, which must hold exactly one literal (surrounding whitespace allowed).
func parsePyLiteral(s string) (any, error) {
	p := &literalParser{s: s}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.s) {
		return nil, p.errorf("unexpected %q after the value", p.rest())
	}
	return v, nil
}

func (p *literalParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

// rest is a short excerpt of the unparsed input, for error messages.
func (p *literalParser) rest() string {
	r := p.s[p.pos:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

func (p *literalParser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *literalParser) value() (any, error) {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return nil, p.errorf("unexpected end of header")
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return p.dict()
	case c == '(':
		return p.sequence('(', ')')
	case c == '[':
		return p.sequence('[', ']')
	case c == '\'' || c == '"':
		return p.str()
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		return p.integer()
	case isIdentByte(c):
		start := p.pos
		for p.pos < len(p.s) && isIdentByte(p.s[p.pos]) {
			p.pos++
		}
		switch word := p.s[start:p.pos]; word {
		case "True":
			return true, nil
		case "False":
			return false, nil
		case "None":
			return nil, nil
		default:
			p.pos = start
			return nil, p.errorf("unexpected name %q", word)
		}
	default:
		return nil, p.errorf("unexpected %q", p.rest())
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *literalParser) enter() error {
	p.depth++
	if p.depth > maxLiteralDepth {
		return p.errorf("nested more than %d levels deep", maxLiteralDepth)
	}
	return nil
}

func (p *literalParser) dict() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.pos++ // '{'
	d := pyDict{}
	for {
		p.skipSpace()
		if p.pos < len(p.s) && p.s[p.pos] == '}' {
			p.pos++
			return d, nil
		}
		keyPos := p.pos
		k, err := p.value()
		if err != nil {
			return nil, err
		}
		key, ok := k.(string)
		if !ok {
			p.pos = keyPos
			return nil, p.errorf("dict key %v is not a string", k)
		}
		if _, dup := d[key]; dup {
			p.pos = keyPos
			return nil, p.errorf("key %q appears twice", key)
		}
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != ':' {
			return nil, p.errorf("expected ':' after key %q", key)
		}
		p.pos++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		d[key] = v
		p.skipSpace()
		if p.pos < len(p.s) && p.s[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.s) && p.s[p.pos] == '}' {
			p.pos++
			return d, nil
		}
		return nil, p.errorf("expected ',' or '}' in dict")
	}
}

// sequence parses a tuple or list. As in Python, "(3)" is the integer 3, not a tuple; "(3,)" is a tuple.
func (p *literalParser) sequence(open, closing byte) (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.pos++ // open
	var items []any
	sawComma := false
	for {
		p.skipSpace()
		if p.pos < len(p.s) && p.s[p.pos] == closing {
			p.pos++
			break
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		p.skipSpace()
		if p.pos < len(p.s) && p.s[p.pos] == ',' {
			p.pos++
			sawComma = true
			continue
		}
		if p.pos < len(p.s) && p.s[p.pos] == closing {
			p.pos++
			break
		}
		return nil, p.errorf("expected ',' or %q", string(closing))
	}
	if open == '[' {
		return pyList(items), nil
	}
	if len(items) == 1 && !sawComma {
		return items[0], nil
	}
	if items == nil {
		items = []any{}
	}
	return pyTuple(items), nil
}

// str parses a quoted string. Headers hold plain ASCII names; escapes keep the escaped byte, which is
// right for \' \" and \\ (the only ones a dtype repr produces).
func (p *literalParser) str() (any, error) {
	quote := p.s[p.pos]
	p.pos++
	var b []byte
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		p.pos++
		switch c {
		case quote:
			return string(b), nil
		case '\\':
			if p.pos >= len(p.s) {
				return nil, p.errorf("unterminated string")
			}
			b = append(b, p.s[p.pos])
			p.pos++
		case '\n':
			return nil, p.errorf("newline inside a string")
		default:
			b = append(b, c)
		}
	}
	return nil, p.errorf("unterminated string")
}

// integer parses a decimal integer. A trailing L (Python 2 long, found in old files) is accepted, as
// numpy's reader does.
func (p *literalParser) integer() (any, error) {
	start := p.pos
	if c := p.s[p.pos]; c == '-' || c == '+' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == digits {
		p.pos = start
		return nil, p.errorf("expected digits in %q", p.rest())
	}
	text := p.s[start:p.pos]
	if p.pos < len(p.s) && (p.s[p.pos] == 'L' || p.s[p.pos] == 'l') {
		p.pos++
	}
	if p.pos < len(p.s) && (isIdentByte(p.s[p.pos]) || p.s[p.pos] == '.') {
		p.pos = start
		return nil, p.errorf("%q is not an integer", p.rest())
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		p.pos = start
		return nil, p.errorf("integer %s does not fit in 64 bits", text)
	}
	return n, nil
}
