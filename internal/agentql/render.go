package agentql

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Dialect says which SQL to write and how to number placeholders.
type Dialect struct {
	// Postgres selects PostgreSQL syntax; otherwise SQLite.
	Postgres bool
	// Numbered writes $N placeholders instead of "?".
	Numbered bool
	// ArgOffset is how many arguments the caller bound before this
	// fragment: with Numbered the first placeholder is $ArgOffset+1.
	ArgOffset int
}

// SQLite is the dialect of the embedded store: "?" placeholders.
var SQLite = Dialect{}

// Postgres returns the PostgreSQL dialect numbering placeholders after
// argOffset arguments already bound by the caller.
func Postgres(argOffset int) Dialect {
	return Dialect{Postgres: true, Numbered: true, ArgOffset: argOffset}
}

// sqlw accumulates SQL text and its arguments.
type sqlw struct {
	d    Dialect
	b    strings.Builder
	args []any
}

func (w *sqlw) s(parts ...string) {
	for _, p := range parts {
		w.b.WriteString(p)
	}
}

// arg binds v and writes its placeholder.
func (w *sqlw) arg(v any) {
	w.args = append(w.args, v)
	if w.d.Numbered {
		w.s("$", strconv.Itoa(w.d.ArgOffset+len(w.args)))
		return
	}
	w.s("?")
}

// Render turns a node into a self-contained SQL boolean expression, always
// wrapped in parentheses so that AND-ing it with other conditions (RBAC,
// agents_list, named filters) can never widen them. Every value is a bound
// argument; the SQL text holds only schema column expressions and
// placeholders, never a "?" of its own. A nil node renders as "(1=1)".
// now is the instant relative date values (lastKeepAlive<7d) count back from.
func Render(n Node, s *Schema, d Dialect, now time.Time) (string, []any, error) {
	if n == nil {
		return "(1=1)", nil, nil
	}
	e, err := compile(n, s)
	if err != nil {
		return "", nil, err
	}
	if needsClock(e) && now.IsZero() {
		return "", nil, errors.New("agentql: Render needs the current time for a relative date filter")
	}
	w := &sqlw{d: d}
	w.expr(e, now.Unix())
	return w.b.String(), w.args, nil
}

func needsClock(e *cexpr) bool {
	if e.leaf != nil {
		return e.leaf.kind == pDate && e.leaf.rel
	}
	for _, k := range e.kids {
		if needsClock(k) {
			return true
		}
	}
	return false
}

// expr writes e, always in parentheses. Long AND/OR lists are split in halves so the
// SQL expression tree stays shallow (SQLite refuses trees deeper than 1000).
func (w *sqlw) expr(e *cexpr, now int64) {
	if e.leaf != nil {
		w.s("(")
		w.pred(e.leaf, now)
		w.s(")")
		return
	}
	w.list(e.kids, e.or, now)
}

func (w *sqlw) list(kids []*cexpr, or bool, now int64) {
	switch {
	case len(kids) == 0 && or:
		w.s("(1=0)")
		return
	case len(kids) == 0:
		w.s("(1=1)")
		return
	case len(kids) == 1:
		w.expr(kids[0], now)
		return
	}
	sep := " AND "
	if or {
		sep = " OR "
	}
	w.s("(")
	if len(kids) > 8 {
		half := len(kids) / 2
		w.list(kids[:half], or, now)
		w.s(sep)
		w.list(kids[half:], or, now)
	} else {
		for i, k := range kids {
			if i > 0 {
				w.s(sep)
			}
			w.expr(k, now)
		}
	}
	w.s(")")
}

func (w *sqlw) pred(p *pred, now int64) {
	col := p.f.Column
	if col == "" {
		w.s("1=0") // in-memory fields cannot be filtered in SQL
		return
	}
	switch p.kind {
	case pNull:
		w.s(col, " IS NULL")
	case pFalse:
		w.s("1=0")
	case pNotNull:
		w.s(col, " IS NOT NULL")
	case pDyn:
		if p.op == OpLike {
			w.like(col, true, "%"+p.text+"%")
		} else {
			w.text(col, sqlOp(p.op), p.text)
		}
	case pCmp:
		if p.numeric {
			if !p.num.isInt && w.d.Postgres {
				col = "CAST(" + col + " AS DOUBLE PRECISION)"
			}
			w.s(col, " ", sqlOp(p.op), " ")
			if p.num.isInt {
				w.arg(p.num.i)
			} else {
				w.arg(p.num.f)
			}
			return
		}
		w.text(col, sqlOp(p.op), p.text)
	case pLike:
		w.like(col, p.f.isText(), p.text)
	case pCSV:
		if p.neg {
			w.s("NOT ")
		}
		w.like("(',' || "+col+" || ',')", true, p.text)
	case pBool:
		w.s(col, " ", sqlOp(p.op), " ")
		w.arg(p.b)
	case pDate:
		w.s(col, " IS NOT NULL AND ", col, " ", sqlOp(p.op), " ")
		if p.rel {
			w.arg(now - p.secs)
		} else {
			w.arg(p.epoch)
		}
		if p.guard != nil {
			w.s(" AND ", p.guard.Column, " != 0")
		}
	}
}

func sqlOp(op Op) string {
	if op == OpLike {
		return "LIKE"
	}
	return string(op)
}

// text writes a comparison that ignores ASCII case and otherwise compares
// bytes: SQLite's NOCASE collation, emulated on PostgreSQL in the C collation.
func (w *sqlw) text(col, op, v string) {
	if !w.d.Postgres {
		w.s(col, " ", op, " ")
		w.arg(v)
		w.s(" COLLATE NOCASE")
		return
	}
	w.s(pgLower(col), " ", op, " ")
	w.pgArg(v)
}

// like writes an ASCII-case-insensitive LIKE with % and _ as wildcards and
// no escape character, as SQLite's LIKE behaves.
func (w *sqlw) like(col string, isText bool, pattern string) {
	if !w.d.Postgres {
		if !isText {
			col = "CAST(" + col + " AS TEXT)"
		}
		w.s(col, " LIKE ")
		w.arg(pattern)
		return
	}
	w.s(pgLower(col), " LIKE ")
	w.pgArg(pattern)
	w.s(" ESCAPE ''")
}

func pgLower(col string) string { return `lower(CAST(` + col + ` AS TEXT) COLLATE "C")` }

func (w *sqlw) pgArg(v string) {
	w.s(`lower(CAST(`)
	w.arg(v)
	w.s(` AS TEXT) COLLATE "C")`)
}
