package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/core"
)

// ListAgents implements core.AgentStore.
func (s *Store) ListAgents(ctx context.Context, q core.AgentListQuery) ([]core.Agent, int, error) {
	out := []core.Agent{}
	total, err := s.EachAgent(ctx, q, func(a *core.Agent) error {
		out = append(out, *a)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// EachAgent implements core.AgentStore: the page is handed row by row to
// fn through one reused record, so a list of 100,000 agents is never held
// twice in memory.
func (s *Store) EachAgent(ctx context.Context, q core.AgentListQuery, fn func(*core.Agent) error) (int, error) {
	defer s.observe("list_agents", time.Now())
	where, args, err := s.d.agentWhere(q.Filter)
	if err != nil {
		return 0, err
	}
	if q.Distinct {
		return s.eachDistinct(ctx, q, where, args, fn)
	}
	cols := colsFor(q.Fields | core.FieldID)
	order, err := s.d.orderBy(q.Sort)
	if err != nil {
		return 0, err
	}
	var total int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM agent"+whereClause(where), args...).Scan(&total); err != nil {
		return 0, err
	}
	if total == 0 || (q.Limit > 0 && q.Offset >= total) {
		return total, nil
	}
	query := "SELECT " + exprList(cols) + " FROM agent" + whereClause(where) + " ORDER BY " + order
	query, args = s.d.page(query, args, q.Offset, q.Limit)
	return total, s.scanEach(ctx, query, args, cols, fn)
}

// scanEach runs a query and hands every row to fn.
func (s *Store) scanEach(ctx context.Context, query string, args []any, cols []*agentCol, fn func(*core.Agent) error) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	sc := newRowScanner(cols)
	var a core.Agent
	for rows.Next() {
		a = core.Agent{}
		if err := sc.scan(rows, &a); err != nil {
			return err
		}
		if err := fn(&a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// eachDistinct answers distinct=true: distinct rows of the selected fields,
// each of them set and not empty.
func (s *Store) eachDistinct(ctx context.Context, q core.AgentListQuery, where string, args []any,
	fn func(*core.Agent) error) (int, error) {
	fields := q.Fields
	if fields == 0 {
		fields = core.AllAgentFields
	}
	cols := colsFor(fields)
	for _, c := range cols {
		if c.text {
			where += " AND " + c.expr + " IS NOT NULL AND " + c.expr + " != ''"
		} else {
			where += " AND " + c.expr + " IS NOT NULL"
		}
	}
	if fields == core.AllAgentFields {
		where += " AND internal_key IS NOT NULL AND internal_key != ''"
	}
	inner := "SELECT DISTINCT " + exprList(cols) + " FROM agent WHERE " + where
	var total int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM ("+inner+") d", args...).Scan(&total); err != nil {
		return 0, err
	}
	// Order by the selected columns, the requested ones first.
	var order []string
	seen := map[string]bool{}
	for _, sf := range q.Sort {
		if c, ok := agentColByName[sf.Field]; ok && fields.Has(c.field) && !seen[c.expr] {
			seen[c.expr] = true
			order = append(order, fmt.Sprintf("%d %s", indexOf(cols, c)+1, dir(sf.Desc)))
		}
	}
	for i, c := range cols {
		if !seen[c.expr] {
			order = append(order, strconv.Itoa(i+1)+" ASC")
		}
	}
	query, args := s.d.page(inner+" ORDER BY "+strings.Join(order, ", "), args, q.Offset, q.Limit)
	return total, s.scanEach(ctx, query, args, cols, fn)
}

// whereClause writes " WHERE cond", or nothing for a condition that holds
// always: SQLite counts a whole table without scanning it only then.
func whereClause(cond string) string {
	if cond == "1=1" {
		return ""
	}
	return " WHERE " + cond
}

func indexOf(cols []*agentCol, c *agentCol) int {
	for i, x := range cols {
		if x == c {
			return i
		}
	}
	return -1
}

func dir(desc bool) string {
	if desc {
		return "DESC"
	}
	return "ASC"
}

func exprList(cols []*agentCol) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.expr
	}
	return strings.Join(parts, ", ")
}

// page appends LIMIT and OFFSET with bound values.
func (d dialect) page(query string, args []any, offset, limit int) (string, []any) {
	if limit > 0 {
		args = append(args, limit)
		query += " LIMIT " + d.ph(len(args))
	} else if offset > 0 {
		if d.postgres {
			query += " LIMIT ALL"
		} else {
			query += " LIMIT -1"
		}
	}
	if offset > 0 {
		args = append(args, offset)
		query += " OFFSET " + d.ph(len(args))
	}
	return query, args
}

// CountAgents implements core.AgentStore: the matching agents grouped by
// fields, a NULL value being its own group.
func (s *Store) CountAgents(ctx context.Context, q core.AgentCountQuery) ([]core.AgentCount, int, error) {
	defer s.observe("count_agents", time.Now())
	if isStatusSummary(q) {
		return s.statusSummary(ctx)
	}
	where, args, err := s.d.agentWhere(q.Filter)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM agent"+whereClause(where), args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	var exprs []string
	for _, f := range q.Fields {
		c, ok := agentColByName[f]
		if !ok {
			return nil, 0, fmt.Errorf("sqlstore: unknown agent field %q", f)
		}
		e := c.expr
		if !c.text {
			e = "CAST(" + e + " AS TEXT)"
		}
		exprs = append(exprs, e)
	}
	sel := strings.Join(exprs, ", ")
	if sel != "" {
		sel += ", "
	}
	query := "SELECT " + sel + "COUNT(*), MIN(id) FROM agent" + whereClause(where)
	if len(exprs) > 0 {
		query += " GROUP BY " + strings.Join(exprs, ", ")
	}
	query += " ORDER BY " + countOrder(q.Sort, q.Fields)
	query, args = s.d.page(query, args, q.Offset, q.Limit)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []core.AgentCount
	for rows.Next() {
		vals := make([]sql.NullString, len(exprs))
		dest := make([]any, 0, len(exprs)+2)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		var count int
		var minID sql.NullInt64
		dest = append(dest, &count, &minID)
		if err := rows.Scan(dest...); err != nil {
			return nil, 0, err
		}
		row := core.AgentCount{Count: count, Values: make([]core.Null[string], len(vals))}
		for i, v := range vals {
			row.Values[i] = core.Null[string]{V: v.String, Valid: v.Valid}
		}
		out = append(out, row)
	}
	return out, total, rows.Err()
}

// countOrder orders grouped rows: by grouped fields or count when asked,
// else (and last) by the smallest member id, which is what Wazuh shows.
func countOrder(sorts []agentql.SortField, fields []string) string {
	var parts []string
	for _, sf := range sorts {
		if sf.Field == "count" {
			parts = append(parts, "COUNT(*) "+dir(sf.Desc))
			continue
		}
		for i, f := range fields {
			if f != sf.Field {
				continue
			}
			// A number is grouped as text but sorted as a number (id 999
			// before 1000), as Wazuh sorts it.
			if c, ok := agentColByName[f]; ok && !c.text {
				parts = append(parts, "MIN("+c.expr+") "+dir(sf.Desc))
			} else {
				parts = append(parts, strconv.Itoa(i+1)+" "+dir(sf.Desc))
			}
		}
	}
	return strings.Join(append(parts, "MIN(id) ASC"), ", ")
}

// isStatusSummary recognises the count agent_counts answers: every agent
// but 000 by status and configuration status, unfiltered and unpaged.
func isStatusSummary(q core.AgentCountQuery) bool {
	f := q.Filter
	return len(q.Fields) == 2 && q.Fields[0] == "status" && q.Fields[1] == "group_config_status" &&
		f.NotManager && f.IDs == nil && (f.RBAC == nil || f.RBAC.All()) && f.Cond == nil && f.Search == nil &&
		q.Sort == nil && q.Offset == 0 && q.Limit == 0
}

func (s *Store) statusSummary(ctx context.Context) ([]core.AgentCount, int, error) {
	rows, err := s.statusCounts(ctx)
	if err != nil {
		return nil, 0, err
	}
	out := make([]core.AgentCount, 0, len(rows))
	total := 0
	for _, r := range rows {
		out = append(out, core.AgentCount{Values: []core.Null[string]{core.Some(r.status), core.Some(r.config)},
			Count: r.n})
		total += r.n
	}
	return out, total, nil
}
