package agentql

// predKind is what a compiled condition tests.
type predKind uint8

const (
	pNull    predKind = iota // the field is NULL
	pFalse                   // never holds
	pNotNull                 // holds whenever the field is not NULL
	pCmp                     // field op operand: text ignoring ASCII case, or numbers
	pLike                    // text form of the field LIKE pattern
	pCSV                     // ("," + field + ",") LIKE pattern, negated for !=
	pDate                    // epoch field against a date or a time frame back from now
	pBool                    // boolean field op operand
	pDyn                     // in memory: compared according to the value found
)

// pred is one condition resolved against its field: the work Render and
// Match share, so both validate and transform values identically.
type pred struct {
	kind    predKind
	f       Field
	op      Op     // comparison; for dates the effective one (time frames invert it)
	text    string // text operand or LIKE pattern
	num     number // numeric operand of pCmp on KindInt
	numeric bool   // pCmp compares numbers
	neg     bool   // pCSV is negated
	b       bool   // pBool operand
	rel     bool   // pDate: secs back from now, else the absolute epoch
	secs    int64
	epoch   int64
	guard   *Field // pDate: integer field that must be non-zero
}

// cexpr is a compiled node: a leaf or an AND/OR of children.
type cexpr struct {
	leaf *pred
	or   bool
	kids []*cexpr
}

func compile(n Node, s *Schema) (*cexpr, error) {
	switch t := n.(type) {
	case Cond:
		p, err := compileCond(t, s)
		if err != nil {
			return nil, err
		}
		return &cexpr{leaf: p}, nil
	case And:
		return compileGroup([]Node(t), false, s)
	case Or:
		return compileGroup([]Node(t), true, s)
	}
	return nil, limitError("unknown node")
}

func compileGroup(terms []Node, or bool, s *Schema) (*cexpr, error) {
	e := &cexpr{or: or, kids: make([]*cexpr, 0, len(terms))}
	for _, t := range terms {
		k, err := compile(t, s)
		if err != nil {
			return nil, err
		}
		e.kids = append(e.kids, k)
	}
	return e, nil
}

func compileCond(c Cond, s *Schema) (*pred, error) {
	f, ok := s.lookup(c.Field)
	if !ok {
		return nil, fieldError(s, c.Field)
	}
	switch c.Op {
	case OpEq, OpNe, OpLt, OpGt, OpLike:
	default:
		return nil, operatorError("Valid operators: =, !=, <, >, ~", string(c.Op))
	}
	p := &pred{f: f, op: c.Op}
	v := c.Value
	if v == "null" {
		// Wazuh ignores the operator: name!=null also means "name is NULL".
		p.kind = pNull
		return p, nil
	}
	switch f.Kind {
	case KindString, KindVersion:
		if f.Kind == KindVersion {
			v = spaceBeforeV(v)
		}
		p.kind, p.text = pCmp, v
		if c.Op == OpLike {
			p.kind, p.text = pLike, "%"+v+"%"
		}
	case KindCSV:
		switch c.Op {
		case OpEq, OpNe:
			p.kind, p.text, p.neg = pCSV, "%,"+v+",%", c.Op == OpNe
		case OpLike:
			p.kind, p.text = pLike, "%"+v+"%"
		default:
			return nil, operatorError("Valid operators for '"+f.Name+"' field: =, !=, ~", string(c.Op))
		}
	case KindInt:
		if c.Op == OpLike {
			p.kind, p.text = pLike, "%"+v+"%"
			break
		}
		if n, ok := parseNumber(v); ok {
			p.kind, p.num, p.numeric = pCmp, n, true
			break
		}
		// A number never equals text and sorts before it, as in SQLite.
		p.kind = pFalse
		if c.Op == OpNe || c.Op == OpLt {
			p.kind = pNotNull
		}
	case KindDate:
		if err := compileDate(p, v, s); err != nil {
			return nil, err
		}
	case KindBool:
		if c.Op != OpEq && c.Op != OpNe {
			return nil, operatorError("Valid operators for '"+f.Name+"' field: =, !=", string(c.Op))
		}
		b, ok := parseBool(v)
		switch {
		case ok:
			p.kind, p.b = pBool, b
		case c.Op == OpNe:
			p.kind = pNotNull
		default:
			p.kind = pFalse
		}
	default:
		p.kind, p.text = pDyn, v
	}
	return p, nil
}

// compileDate reads a time frame (digits = seconds, or 1d2h...) counted back
// from now, or an absolute UTC date. For time frames "<" and "=" mean newer
// than, the other operators older than (agents.md §2.4).
func compileDate(p *pred, v string, s *Schema) error {
	p.kind = pDate
	if s.dateGuard != "" {
		g, _ := s.Field(s.dateGuard)
		p.guard = &g
	}
	if v != "" && v[0] >= '0' && v[0] <= '9' && (isDigits(v) || startsTimeframe(v)) {
		secs, ok := parseTimeframe(v)
		if !ok {
			return timeframeError(v)
		}
		p.rel, p.secs = true, secs
		if p.op == OpLt || p.op == OpEq {
			p.op = OpGt // newer than: field > now - secs
		} else {
			p.op = OpLt // older than: field < now - secs
		}
		return nil
	}
	epoch, ok := parseDate(v)
	if !ok {
		return dateError(v)
	}
	p.epoch = epoch
	if p.op == OpLike {
		p.op = OpEq // Wazuh's LIKE against the epoch text is an exact match
	}
	return nil
}
