package agentql

import (
	"strconv"
	"strings"
	"time"
)

// Where assembles a WHERE clause: conditions AND-ed together, each in its
// own parentheses, with their arguments in placeholder order.
type Where struct {
	d     Dialect
	now   time.Time
	parts []string
	args  []any
}

// NewWhere starts a WHERE clause for the dialect; now is the instant
// relative date filters count back from.
func NewWhere(d Dialect, now time.Time) *Where { return &Where{d: d, now: now} }

// Arg binds a value and returns its placeholder, for conditions the caller
// writes itself (RBAC, agents_list).
func (w *Where) Arg(v any) string {
	w.args = append(w.args, v)
	if w.d.Numbered {
		return "$" + strconv.Itoa(w.d.ArgOffset+len(w.args))
	}
	return "?"
}

// Add appends a condition written by the caller with placeholders from Arg.
func (w *Where) Add(cond string) { w.parts = append(w.parts, "("+cond+")") }

// AddNode appends a q expression or named filter; nil adds nothing.
func (w *Where) AddNode(n Node, s *Schema) error {
	if n == nil {
		return nil
	}
	sql, args, err := Render(n, s, w.next(), w.now)
	if err != nil {
		return err
	}
	w.parts = append(w.parts, sql)
	w.args = append(w.args, args...)
	return nil
}

// AddSearch appends the search condition.
func (w *Where) AddSearch(sr Search, s *Schema) error {
	sql, args, err := RenderSearch(sr, s, w.next())
	if err != nil {
		return err
	}
	w.parts = append(w.parts, sql)
	w.args = append(w.args, args...)
	return nil
}

func (w *Where) next() Dialect {
	d := w.d
	d.ArgOffset += len(w.args)
	return d
}

// SQL returns the conditions joined by AND ("1=1" when there are none) and
// the arguments; the caller writes "WHERE " before it.
func (w *Where) SQL() (string, []any) {
	if len(w.parts) == 0 {
		return "1=1", w.args
	}
	return strings.Join(w.parts, " AND "), w.args
}
