package agentql

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The tokenizer reproduces, by hand, the clause pattern Wazuh 4.14 scans q
// with (agents.md §3.3): optional "("s, a field of word characters and dots,
// one or two operator characters, a value, optional ")"s and an optional
// separator. Values are runs of ordinary characters (VC), "[...]" groups
// that may also hold commas (BC), and "(...)" groups attached to them. The
// functions below take the same choices a backtracking matcher takes, so a
// clause splits exactly where Wazuh splits it. Word characters are Unicode
// letters, digits and "_", like Python's \w.

// clause is one "field op value" match with its parentheses and separator.
type clause struct {
	opens  int
	field  string
	op     string
	value  string
	closes int
	sep    byte // 0, ';' (AND) or ',' (OR)
	end    int  // byte offset just past the clause
}

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

// isVC reports the characters a plain value run may hold (no comma).
func isVC(r rune) bool { return isWord(r) || strings.ContainsRune("[] -.:?\\/'\"=@%<>{}$", r) }

// isBC reports the characters a "[...]" group may hold (comma, no dollar).
func isBC(r rune) bool { return isWord(r) || strings.ContainsRune("[] -.,:?\\/'\"=@%<>{}", r) }

func isFieldChar(r rune) bool { return r == '.' || isWord(r) }

func isOpChar(b byte) bool { return strings.IndexByte("=!<>~", b) >= 0 }

// run returns the end of the longest run of class characters from i.
func run(q string, i int, class func(rune) bool) int {
	for i < len(q) {
		r, n := utf8.DecodeRuneInString(q[i:])
		if r == utf8.RuneError && n <= 1 || !class(r) {
			break
		}
		i += n
	}
	return i
}

// scanClause matches one clause starting exactly at p.
func scanClause(q string, p int) (clause, bool) {
	var c clause
	i := p
	for i < len(q) && q[i] == '(' {
		i++
	}
	c.opens = i - p
	fe := run(q, i, isFieldChar)
	if fe == i {
		return c, false
	}
	c.field = q[i:fe]
	oe := fe
	for oe < len(q) && oe-fe < 2 && isOpChar(q[oe]) {
		oe++
	}
	if oe == fe {
		return c, false
	}
	ve := valueEnd(q, oe)
	if ve == oe && oe-fe == 2 {
		// Give the second operator character back to the value.
		oe--
		ve = valueEnd(q, oe)
	}
	if ve == oe {
		return c, false
	}
	c.op, c.value = q[fe:oe], q[oe:ve]
	i = ve
	for i < len(q) && q[i] == ')' {
		i++
	}
	c.closes = i - ve
	if i < len(q) && (q[i] == ';' || q[i] == ',') {
		c.sep = q[i]
		i++
	}
	c.end = i
	return c, true
}

// valueEnd returns the end of the value starting at p (p when there is none):
// one or more units, each "(...)"* then a "[...]" group or a VC run, then "(...)"*.
func valueEnd(q string, p int) int {
	for {
		next := valueUnit(q, p)
		if next < 0 {
			return p
		}
		p = next
	}
}

func valueUnit(q string, p int) int {
	i := parenGroups(q, p)
	if j := bracketGroup(q, i); j >= 0 {
		i = j
	} else if j := run(q, i, isVC); j > i {
		i = j
	} else {
		return -1
	}
	return parenGroups(q, i)
}

func parenGroups(q string, p int) int {
	for {
		next := parenGroup(q, p)
		if next < 0 {
			return p
		}
		p = next
	}
}

// parenGroup matches "(" then a "[...]" group or a VC run (possibly empty), then ")".
func parenGroup(q string, p int) int {
	if p >= len(q) || q[p] != '(' {
		return -1
	}
	i := p + 1
	if i < len(q) && q[i] == '[' {
		// The bracket group must end right before the ")".
		e := run(q, i+1, isBC)
		if e-1 > i && q[e-1] == ']' && e < len(q) && q[e] == ')' {
			return e + 1
		}
	}
	e := run(q, i, isVC)
	if e < len(q) && q[e] == ')' {
		return e + 1
	}
	return -1
}

// bracketGroup matches "[" BC* "]" ending at the last "]" of the BC run.
func bracketGroup(q string, p int) int {
	if p >= len(q) || q[p] != '[' {
		return -1
	}
	e := run(q, p+1, isBC)
	k := strings.LastIndexByte(q[p+1:e], ']')
	if k < 0 {
		return -1
	}
	return p + 1 + k + 1
}
