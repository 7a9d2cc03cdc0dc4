package agentql

import "fmt"

// Parse parses and validates q against the schema. It returns nil when q
// filters nothing (empty, or only "all" conditions).
//
// Checks run in Wazuh's order: the first clause must match at the start
// (1407), every field must exist (1408) and every operator be valid (1409),
// then per condition the group operators (1409) and date values
// (1411/1412). Text the tokenizer cannot read, dangling separators and
// unbalanced parentheses are 1407 (Wazuh skips or fails on them later).
func Parse(q string, s *Schema) (Node, error) {
	if q == "" {
		return nil, nil
	}
	if len(q) > MaxQueryLength {
		return nil, limitError(fmt.Sprintf("query longer than %d bytes", MaxQueryLength))
	}
	var clauses []clause
	p := 0
	for p < len(q) {
		c, ok := scanClause(q, p)
		if !ok {
			break
		}
		clauses = append(clauses, c)
		p = c.end
	}
	if len(clauses) == 0 {
		return nil, formatError(q)
	}
	for _, c := range clauses {
		if _, ok := s.lookup(c.field); !ok {
			return nil, fieldError(s, c.field)
		}
		switch Op(c.op) {
		case OpEq, OpNe, OpLt, OpGt, OpLike:
		default:
			return nil, operatorError("Valid operators: =, !=, <, >, ~", c.op)
		}
	}
	if p < len(q) {
		return nil, formatError(q)
	}
	for _, c := range clauses {
		if c.value == "all" {
			continue
		}
		if _, err := compileCond(Cond{c.field, Op(c.op), c.value}, s); err != nil {
			return nil, err
		}
	}
	toks := tokens(clauses)
	if len(toks) == 0 {
		return nil, nil
	}
	ps := &parser{toks: toks}
	n, err := ps.or()
	if err != nil {
		if e, ok := err.(*Error); ok && e.Extra == "" {
			return nil, formatError(q)
		}
		return nil, err
	}
	if ps.i != len(ps.toks) {
		return nil, formatError(q)
	}
	return n, nil
}

type tokKind uint8

const (
	tLParen tokKind = iota
	tRParen
	tAnd
	tOr
	tCond
	tEnd
)

type token struct {
	kind tokKind
	cond Cond
}

// tokens flattens the clauses into a token stream. A condition with the
// value "all" is dropped together with its own separator, as Wazuh drops
// it; its parentheses stay, and groups left empty are removed.
func tokens(clauses []clause) []token {
	var out []token
	push := func(t token) {
		if t.kind == tRParen && len(out) > 0 && out[len(out)-1].kind == tLParen {
			out = out[:len(out)-1]
			return
		}
		out = append(out, t)
	}
	for _, c := range clauses {
		for range c.opens {
			push(token{kind: tLParen})
		}
		skip := c.value == "all"
		if !skip {
			push(token{kind: tCond, cond: Cond{Field: c.field, Op: Op(c.op), Value: c.value}})
		}
		for range c.closes {
			push(token{kind: tRParen})
		}
		if c.sep != 0 && !skip {
			if c.sep == ';' {
				push(token{kind: tAnd})
			} else {
				push(token{kind: tOr})
			}
		}
	}
	return out
}

// parser is a recursive-descent parser over the token stream with SQL's
// precedence: AND (";") binds tighter than OR (",").
type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() tokKind {
	if p.i >= len(p.toks) {
		return tEnd
	}
	return p.toks[p.i].kind
}

var errSyntax = &Error{Code: CodeQueryFormat}

func (p *parser) or() (Node, error) {
	var terms []Node
	for {
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		terms = append(terms, n)
		if p.peek() != tOr {
			return OrOf(terms...), nil
		}
		p.i++
	}
}

func (p *parser) and() (Node, error) {
	var terms []Node
	for {
		n, err := p.primary()
		if err != nil {
			return nil, err
		}
		terms = append(terms, n)
		if p.peek() != tAnd {
			return AndOf(terms...), nil
		}
		p.i++
	}
}

func (p *parser) primary() (Node, error) {
	switch p.peek() {
	case tCond:
		p.i++
		return p.toks[p.i-1].cond, nil
	case tLParen:
		if p.depth++; p.depth > MaxDepth {
			return nil, limitError(fmt.Sprintf("parentheses nested deeper than %d", MaxDepth))
		}
		p.i++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != tRParen {
			return nil, errSyntax
		}
		p.i++
		p.depth--
		return n, nil
	}
	return nil, errSyntax
}
