package sqlstore

import (
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// ql returns the agentql dialect of the store: PostgreSQL numbers its
// placeholders itself, so the text never goes through dialect.q.
func (d dialect) ql() agentql.Dialect {
	if d.postgres {
		return agentql.Postgres(0)
	}
	return agentql.SQLite
}

// ph returns the placeholder of the n-th (1-based) argument.
func (d dialect) ph(n int) string {
	if d.postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// idSet writes "id IN <set>" for any number of ids with one bound value.
func (d dialect) idSet(w *agentql.Where, col string, ids []int) string {
	var b strings.Builder
	if d.postgres {
		b.WriteByte('{')
	} else {
		b.WriteByte('[')
	}
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(id))
	}
	if d.postgres {
		b.WriteByte('}')
		return col + " = ANY(CAST(" + w.Arg(b.String()) + " AS BIGINT[]))"
	}
	b.WriteByte(']')
	return col + " IN (SELECT value FROM json_each(" + w.Arg(b.String()) + "))"
}

// agentWhere renders a filter into a WHERE clause (without the keyword).
func (d dialect) agentWhere(f core.AgentFilter) (string, []any, error) {
	w := agentql.NewWhere(d.ql(), f.Now)
	if f.NotManager {
		w.Add("id > 0")
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			w.Add("1=0")
		} else {
			w.Add(d.idSet(w, "id", f.IDs))
		}
	}
	if f.RBAC != nil && !f.RBAC.All() {
		w.Add(d.rbacSQL(w, *f.RBAC))
	}
	if err := w.AddNode(f.Cond, agentql.AgentSchema); err != nil {
		return "", nil, err
	}
	if f.Search != nil {
		if err := w.AddSearch(*f.Search, agentql.AgentSchema); err != nil {
			return "", nil, err
		}
	}
	sql, args := w.SQL()
	return sql, args, nil
}

// groupMembers is the set of agents in one group.
const groupMembers = "SELECT b.id_agent FROM belongs b JOIN agent_groups g ON g.id = b.id_group WHERE g.name = "

// rbacSQL turns the RBAC filter of a request without explicit ids into SQL:
// the last rule covering an agent decides, else the default.
func (d dialect) rbacSQL(w *agentql.Where, f rbac.Filter) string {
	if f.None() {
		return "1=0"
	}
	if ids, ok := f.IDs(); ok {
		var nums []int
		for _, s := range ids {
			if n, ok := core.ParseAgentID(s); ok {
				nums = append(nums, n)
			}
		}
		if len(nums) == 0 {
			return "1=0"
		}
		return d.idSet(w, "id", nums)
	}
	var b strings.Builder
	b.WriteString("CASE")
	n := 0
	for i := len(f.Rules) - 1; i >= 0; i-- {
		r := f.Rules[i]
		if r.Group {
			b.WriteString(" WHEN id IN (" + groupMembers + w.Arg(r.Value) + ")")
		} else {
			id, ok := core.ParseAgentID(r.Value)
			if !ok {
				continue
			}
			b.WriteString(" WHEN id = " + w.Arg(id))
		}
		n++
		if r.Allow {
			b.WriteString(" THEN 1")
		} else {
			b.WriteString(" THEN 0")
		}
	}
	switch {
	case n == 0 && f.Default:
		return "1=1"
	case n == 0:
		return "1=0"
	case f.Default:
		b.WriteString(" ELSE 1 END = 1")
	default:
		b.WriteString(" ELSE 0 END = 1")
	}
	return b.String()
}

// orderBy renders the sort, with the id as the last key so pages are stable.
func (d dialect) orderBy(sorts []agentql.SortField) (string, error) {
	if len(sorts) == 0 {
		return "id ASC", nil
	}
	o, err := agentql.OrderBy(sorts, agentql.AgentSchema, d.ql())
	if err != nil {
		return "", err
	}
	for _, s := range sorts {
		if s.Field == "id" {
			return o, nil
		}
	}
	return o + ", id ASC", nil
}
