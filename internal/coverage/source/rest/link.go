package rest

import (
	"errors"
	"fmt"
	"strings"
)

// nextLink reads the target of the link whose relation types include
// "next" from Link header fields (RFC 8288 section 3): link-values separated
// by commas, each a URI reference in angle brackets followed by parameters
// (name, or name=token, or name="quoted string"); rel holds relation types
// separated by spaces, compared case-insensitively. "" when there is none.
// A malformed header is an error: read silently, it would end the walk early.
func nextLink(fields []string) (string, error) {
	for _, f := range fields {
		p := linkParser{s: f}
		for {
			p.skip(" \t,")
			if p.i >= len(p.s) {
				break
			}
			target, rels, err := p.linkValue()
			if err != nil {
				return "", fmt.Errorf("the Link header %q is malformed (RFC 8288): %v", cut(f), err)
			}
			for _, r := range rels {
				if strings.EqualFold(r, "next") {
					return target, nil
				}
			}
		}
	}
	return "", nil
}

type linkParser struct {
	s string
	i int
}

func (p *linkParser) skip(set string) {
	for p.i < len(p.s) && strings.IndexByte(set, p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *linkParser) linkValue() (string, []string, error) {
	if p.s[p.i] != '<' {
		return "", nil, errors.New("a link must start with <")
	}
	end := strings.IndexByte(p.s[p.i:], '>')
	if end < 0 {
		return "", nil, errors.New("a < has no closing >")
	}
	target := strings.TrimSpace(p.s[p.i+1 : p.i+end])
	p.i += end + 1
	var rels []string
	for {
		p.skip(" \t")
		if p.i >= len(p.s) || p.s[p.i] == ',' {
			return target, rels, nil
		}
		if p.s[p.i] != ';' {
			return "", nil, fmt.Errorf("expected ; or , after the link, found %q", p.s[p.i])
		}
		p.i++
		p.skip(" \t")
		start := p.i
		for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
			p.i++
		}
		name := strings.ToLower(p.s[start:p.i])
		if name == "" {
			return "", nil, errors.New("a parameter has no name")
		}
		p.skip(" \t")
		val := ""
		if p.i < len(p.s) && p.s[p.i] == '=' {
			p.i++
			p.skip(" \t")
			v, err := p.value()
			if err != nil {
				return "", nil, err
			}
			val = v
		}
		if name == "rel" && rels == nil { // only the first rel counts (section 3.3)
			rels = strings.Fields(val)
			if rels == nil {
				rels = []string{}
			}
		}
	}
}

func (p *linkParser) value() (string, error) {
	if p.i < len(p.s) && p.s[p.i] == '"' {
		var b strings.Builder
		for p.i++; p.i < len(p.s); p.i++ {
			switch c := p.s[p.i]; c {
			case '\\':
				p.i++
				if p.i < len(p.s) {
					b.WriteByte(p.s[p.i])
				}
			case '"':
				p.i++
				return b.String(), nil
			default:
				b.WriteByte(c)
			}
		}
		return "", errors.New("a quoted parameter value has no closing quote")
	}
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i], nil
}

// isTokenChar is RFC 9110's tchar.
func isTokenChar(c byte) bool {
	return c > ' ' && c < 0x7f && strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) < 0
}

func cut(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
