package job

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"

	"miniais/cluster"
)

// ErrEmptyTemplate means a template selects everything ("" or "*"): a
// multi-object job refuses it rather than act on a whole bucket.
var ErrEmptyTemplate = errors.New("empty template (it would select every object)")

// Range is one range of a template: the numbers Start, Start+Step, ... up
// to End, each printed with at least Digits digits (zero-padded), followed
// by Gap.
type Range struct {
	Start, End, Step int64
	Digits           int
	Gap              string
}

// Template is AIStore's object-name template: Prefix followed by Ranges.
// With no ranges it selects every name that starts with Prefix.
type Template struct {
	Prefix string
	Ranges []Range
}

// maxDigits is the most digits a range may print beyond its padding: the
// length of math.MaxInt64.
const maxDigits = 19

// MaxRanges bounds the ranges of a template (matching a name costs time in
// proportion to them).
const MaxRanges = 16

// ParseTemplate parses s the way AIStore does (cos.NewParsedTemplate), in
// this order: bash style ("p-{0001..0100..2}-q", any number of ranges), at
// style ("p@0100": 0 to 100, 3+ digits), fmt style ("p%04d": every number,
// at least 4 digits); anything else is a prefix (a trailing '*' is dropped).
// A template has at most MaxRanges ranges.
// "" and "*" fail with ErrEmptyTemplate; a malformed range fails with an
// error wrapping cluster.ErrBadRequest.
func ParseTemplate(s string) (Template, error) {
	if s == "" || s == "*" {
		return Template{}, ErrEmptyTemplate
	}
	for _, parse := range []func(string) (Template, bool, error){parseBash, parseAt, parseFmt} {
		t, ok, err := parse(s)
		switch {
		case err != nil:
			return Template{}, err
		case !ok:
			continue
		case len(t.Ranges) > MaxRanges:
			return Template{}, badTemplate(s, fmt.Sprintf("more than %d ranges", MaxRanges))
		}
		return t, nil
	}
	return Template{Prefix: strings.TrimSuffix(s, "*")}, nil
}

func badTemplate(s, why string) error {
	return cluster.Errorf(cluster.ErrBadRequest, "template %q: %s", s, why)
}

func parseBash(s string) (Template, bool, error) {
	left, right := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}')
	if left < 0 || right < 0 {
		return Template{}, false, nil
	}
	if right < left {
		return Template{}, true, badTemplate(s, "'}' before '{'")
	}
	t := Template{Prefix: s[:left]}
	rest := s[left:]
	for rest != "" {
		l := strings.IndexByte(rest, '{')
		if l < 0 {
			break
		}
		r := strings.IndexByte(rest, '}')
		if r < l {
			return Template{}, true, badTemplate(s, "unbalanced braces")
		}
		parts := strings.Split(rest[l+1:r], "..")
		if len(parts) != 2 && len(parts) != 3 {
			return Template{}, true, badTemplate(s, "a range is {START..END} or {START..END..STEP}")
		}
		var rg Range
		var err error
		if rg.Start, err = parseNumber(parts[0]); err != nil {
			return Template{}, true, badTemplate(s, err.Error())
		}
		if rg.End, err = parseNumber(parts[1]); err != nil {
			return Template{}, true, badTemplate(s, err.Error())
		}
		rg.Step = 1
		if len(parts) == 3 {
			if rg.Step, err = parseNumber(parts[2]); err != nil {
				return Template{}, true, badTemplate(s, err.Error())
			}
		}
		rg.Digits = min(len(parts[0]), len(parts[1]))
		if err := rg.check(); err != nil {
			return Template{}, true, badTemplate(s, err.Error())
		}
		rest = rest[r+1:]
		if next := strings.IndexByte(rest, '{'); next >= 0 {
			rg.Gap, rest = rest[:next], rest[next:]
		} else {
			rg.Gap, rest = rest, ""
		}
		t.Ranges = append(t.Ranges, rg)
	}
	return t, true, nil
}

func parseAt(s string) (Template, bool, error) {
	left := strings.IndexByte(s, '@')
	if left < 0 {
		return Template{}, false, nil
	}
	t := Template{Prefix: s[:left]}
	rest := s[left:]
	for {
		at := strings.IndexByte(rest, '@')
		if at < 0 {
			break
		}
		n := at + 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		digits := rest[at+1 : n]
		end, err := parseNumber(digits)
		if err != nil {
			return Template{}, true, badTemplate(s, "'@' must be followed by digits")
		}
		rg := Range{Start: 0, End: end, Step: 1, Digits: len(digits)}
		rest = rest[n:]
		if next := strings.IndexByte(rest, '@'); next >= 0 {
			rg.Gap, rest = rest[:next], rest[next:]
		} else {
			rg.Gap, rest = rest, ""
		}
		t.Ranges = append(t.Ranges, rg)
	}
	return t, true, nil
}

func parseFmt(s string) (Template, bool, error) {
	pct := strings.IndexByte(s, '%')
	if pct < 0 || strings.IndexByte(s[pct+1:], '%') >= 0 {
		return Template{}, false, nil
	}
	d := strings.IndexByte(s[pct:], 'd')
	if d < 0 {
		return Template{}, true, badTemplate(s, "expecting e.g. prefix-%06d-suffix")
	}
	d += pct
	digits := 0
	if w := s[pct+1 : d]; w != "" {
		if len(w) < 2 || w[0] != '0' {
			return Template{}, true, badTemplate(s, "expecting e.g. prefix-%06d-suffix")
		}
		n, err := parseNumber(w[1:])
		if err != nil || n > 64 {
			return Template{}, true, badTemplate(s, "expecting e.g. prefix-%06d-suffix")
		}
		digits = int(n)
	}
	return Template{Prefix: s[:pct], Ranges: []Range{{Start: 0, End: math.MaxInt64 - 1, Step: 1, Digits: digits, Gap: s[d+1:]}}}, true, nil
}

// parseNumber parses a non-negative decimal of digits only.
func parseNumber(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("empty number in a range")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("a range holds decimal numbers only")
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

func (rg *Range) check() error {
	switch {
	case rg.Start > rg.End:
		return errors.New("start is greater than end")
	case rg.Step <= 0:
		return errors.New("step must be positive")
	case rg.Digits > 64:
		return errors.New("too many digits")
	}
	return nil
}

// IsPrefix reports whether t has no ranges: it selects names by prefix.
func (t Template) IsPrefix() bool { return len(t.Ranges) == 0 }

// Count returns how many names t expands to (math.MaxInt64 when that
// overflows); a prefix template counts as 1.
func (t Template) Count() int64 {
	n := int64(1)
	for _, rg := range t.Ranges {
		c := (rg.End-rg.Start)/rg.Step + 1
		if n > math.MaxInt64/c {
			return math.MaxInt64
		}
		n *= c
	}
	return n
}

// format prints v with at least digits digits.
func format(v int64, digits int) string {
	s := strconv.FormatInt(v, 10)
	if len(s) < digits {
		s = strings.Repeat("0", digits-len(s)) + s
	}
	return s
}

// Names returns the names t expands to, in order (the ranges vary like an
// odometer, the last fastest). For a prefix template it yields the prefix.
func (t Template) Names() iter.Seq[string] {
	return func(yield func(string) bool) {
		if len(t.Ranges) == 0 {
			yield(t.Prefix)
			return
		}
		at := make([]int64, len(t.Ranges))
		for i, rg := range t.Ranges {
			at[i] = rg.Start
		}
		var b strings.Builder
		for {
			b.Reset()
			b.WriteString(t.Prefix)
			for i, rg := range t.Ranges {
				b.WriteString(format(at[i], rg.Digits))
				b.WriteString(rg.Gap)
			}
			if !yield(b.String()) {
				return
			}
			i := len(at) - 1
			for ; i >= 0; i-- {
				rg := &t.Ranges[i]
				if at[i] <= rg.End-rg.Step {
					at[i] += rg.Step
					break
				}
				at[i] = rg.Start
			}
			if i < 0 {
				return
			}
		}
	}
}

// Match reports whether name is one that t expands to (for a prefix
// template: whether name starts with the prefix). It costs time in
// proportion to the name's length times the number of ranges, and
// allocates only for templates of more than one range.
func (t Template) Match(name string) bool {
	rest, ok := strings.CutPrefix(name, t.Prefix)
	if !ok {
		return false
	}
	if len(t.Ranges) == 0 {
		return true
	}
	m := matcher{t: &t, s: rest}
	if len(t.Ranges) > 1 {
		m.failed = make([]bool, len(t.Ranges)*(len(rest)+1))
	}
	return m.match(0, 0)
}

// matcher matches a name against the ranges of a template, remembering the
// (range, position) pairs that failed, so that a name never costs more than
// one try of each pair.
type matcher struct {
	t      *Template
	s      string
	failed []bool
}

func (m *matcher) match(ri, pos int) bool {
	if ri == len(m.t.Ranges) {
		return pos == len(m.s)
	}
	key := ri*(len(m.s)+1) + pos
	if m.failed != nil && m.failed[key] {
		return false
	}
	rg := &m.t.Ranges[ri]
	s := m.s[pos:]
	n := 0
	for n < len(s) && n < rg.Digits+maxDigits && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	for l := 1; l <= n; l++ {
		ds := s[:l]
		v, err := strconv.ParseInt(ds, 10, 64)
		if err != nil || v < rg.Start || v > rg.End || (v-rg.Start)%rg.Step != 0 || format(v, rg.Digits) != ds {
			continue
		}
		if !strings.HasPrefix(s[l:], rg.Gap) {
			continue
		}
		if m.match(ri+1, pos+l+len(rg.Gap)) {
			return true
		}
	}
	if m.failed != nil {
		m.failed[key] = true
	}
	return false
}
