package agentql

import "strings"

// Op is a comparison operator of the q language.
type Op string

// The operators q accepts.
const (
	OpEq   Op = "="
	OpNe   Op = "!="
	OpLt   Op = "<"
	OpGt   Op = ">"
	OpLike Op = "~" // contains: LIKE '%value%', where % and _ in the value are wildcards
)

// Node is a q expression: a Cond, an And or an Or.
type Node interface {
	// String renders the node back into q syntax with explicit parentheses.
	String() string
	node()
}

// Cond is one comparison "field op value".
type Cond struct {
	Field string
	Op    Op
	Value string // raw value; "null" tests for NULL whatever the operator
}

// And holds when every term holds (";" in q).
type And []Node

// Or holds when any term holds ("," in q).
type Or []Node

func (Cond) node() {}
func (And) node()  {}
func (Or) node()   {}

// String renders the condition as written in q.
func (c Cond) String() string { return c.Field + string(c.Op) + c.Value }

// String renders the terms joined by ";".
func (a And) String() string { return join([]Node(a), ";", false) }

// String renders the terms joined by ",".
func (o Or) String() string { return join([]Node(o), ",", true) }

func join(terms []Node, sep string, isOr bool) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		s := t.String()
		switch t.(type) {
		case Cond:
		case And:
			if !isOr {
				s = "(" + s + ")"
			}
		default:
			s = "(" + s + ")"
		}
		parts[i] = s
	}
	return strings.Join(parts, sep)
}

// Equals builds the condition Wazuh's named filters add (name=..., status=a,b):
// field=value, OR-ed over the values. The value "all" is skipped as Wazuh
// does; nil is returned when nothing is left to filter.
func Equals(field string, values ...string) Node {
	var terms []Node
	for _, v := range values {
		if v != "all" {
			terms = append(terms, Cond{Field: field, Op: OpEq, Value: v})
		}
	}
	return OrOf(terms...)
}

// AndOf joins nodes with AND, dropping nils; it returns nil when none is left.
func AndOf(nodes ...Node) Node {
	var out And
	for _, n := range nodes {
		switch t := n.(type) {
		case nil:
		case And:
			out = append(out, t...)
		default:
			out = append(out, n)
		}
	}
	return collapse(out, len(out))
}

// OrOf joins nodes with OR, dropping nils; it returns nil when none is left.
func OrOf(nodes ...Node) Node {
	var out Or
	for _, n := range nodes {
		switch t := n.(type) {
		case nil:
		case Or:
			out = append(out, t...)
		default:
			out = append(out, n)
		}
	}
	return collapse(out, len(out))
}

func collapse(n Node, count int) Node {
	switch count {
	case 0:
		return nil
	case 1:
		switch t := n.(type) {
		case And:
			return t[0]
		case Or:
			return t[0]
		}
	}
	return n
}

// OlderThan builds the agent condition of the older_than parameter (§2.4):
// agents whose last keepalive, or registration when never connected, is
// older than the time frame. "0s" disables the filter (nil).
func OlderThan(timeframe string) (Node, error) {
	if !isTimeframeParam(timeframe) {
		return nil, timeframeError(timeframe)
	}
	if timeframe == "0s" {
		return nil, nil
	}
	return Or{
		And{Cond{"lastKeepAlive", OpGt, timeframe}, Cond{"status", OpNe, "never_connected"}},
		And{Cond{"dateAdd", OpGt, timeframe}, Cond{"status", OpEq, "never_connected"}},
	}, nil
}

// isTimeframeParam checks the timeframe format of the API (^\d+[dhms]?$).
func isTimeframeParam(s string) bool {
	n := len(s)
	if n > 0 && strings.ContainsRune("dhms", rune(s[n-1])) {
		n--
	}
	return n > 0 && isDigits(s[:n])
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
