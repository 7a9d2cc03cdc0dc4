package core

import (
	"context"
	"strings"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/rbac"
)

// Maximum page size of the database-backed lists.
const MaxAgentLimit = 100000

// AgentQuery holds the list parameters of GET /agents and of the endpoints
// built on it; a nil slice or empty string is a parameter not sent.
type AgentQuery struct {
	AgentsList []string // explicit ids (nil: every permitted agent)
	Offset     int
	// HugeOffset is an offset past int64, which Wazuh's validation lets
	// through and its database refuses (2003).
	HugeOffset bool
	Limit      int      // 0 means Wazuh's default, 500
	Select     []string // field names (nil: all)
	Sort       string
	Search     string
	HasSearch  bool
	Status     []string
	Q          string
	OlderThan  string
	// Filters are the named filters in Wazuh's order: os.platform,
	// os.version, os.name, manager, version, group, node_name, name, ip,
	// registerIP, group_config_status.
	Filters  []NamedFilter
	Distinct bool
}

// NamedFilter is one "field=value" query parameter (name=..., ip=...).
type NamedFilter struct{ Field, Value string }

// AgentPage is a page of agents: the records (holding only Fields, plus the
// id unless Distinct), read by Each, and the envelope's totals, failures and
// messages.
type AgentPage struct {
	Bulk     *Bulk
	Fields   AgentField
	Distinct bool
	each     func(fn func(*Agent) error) error
}

// Each hands the page's agents to fn in order, through one reused record,
// then sets Bulk.Total to the number of matches before paging.
func (p *AgentPage) Each(fn func(*Agent) error) error {
	if p.each == nil {
		return nil
	}
	return p.each(fn)
}

// Agents returns the page as a slice (for small pages and tests).
func (p *AgentPage) Agents() ([]Agent, error) {
	var out []Agent
	err := p.Each(func(a *Agent) error {
		out = append(out, *a)
		return nil
	})
	return out, err
}

// Messages of the agent lists.
var agentListMsgs = [3]string{"All selected agents information was returned",
	"Some agents information was not returned", "No agent information was returned"}

// ListAgents is GET /agents.
func (a *Agents) ListAgents(ctx context.Context, perms *rbac.Permissions, q AgentQuery) (*AgentPage, error) {
	return a.listAgents(ctx, perms, q, nil, false)
}

// conditions turns the named filters, status, older_than and q into one
// node; the user's q stays a bracketed sub-expression of it.
func conditions(q AgentQuery, extra ...agentql.Node) (agentql.Node, error) {
	var nodes []agentql.Node
	for _, f := range q.Filters {
		v := f.Value
		if f.Field == "version" {
			v = agentql.NormalizeVersionFilter(v)
		}
		nodes = append(nodes, agentql.Equals(f.Field, v))
	}
	if len(q.Status) > 0 {
		nodes = append(nodes, agentql.Equals("status", q.Status...))
	}
	if q.OlderThan != "" {
		n, err := agentql.OlderThan(q.OlderThan)
		if err != nil {
			return nil, qlError(err)
		}
		nodes = append(nodes, n)
	}
	if q.Q != "" {
		n, err := agentql.Parse(q.Q, agentql.AgentSchema)
		if err != nil {
			return nil, qlError(err)
		}
		nodes = append(nodes, n)
	}
	nodes = append(nodes, extra...)
	return agentql.AndOf(nodes...), nil
}

// listAgents runs the GET /agents machinery with an extra condition
// (no_group, outdated, a group's agents); notManager leaves 000 out.
func (a *Agents) listAgents(ctx context.Context, perms *rbac.Permissions, q AgentQuery, extra agentql.Node,
	notManager bool) (*AgentPage, error) {
	_, target, err := a.decide(ctx, perms, CheckAgentRead, "agents_list", q.AgentsList)
	if err != nil {
		return nil, err
	}
	page := &AgentPage{Bulk: NewBulk(agentListMsgs[0], agentListMsgs[1], agentListMsgs[2]), Distinct: q.Distinct}
	f, err := a.scope(ctx, target, page.Bulk)
	if err != nil {
		return nil, err
	}
	if f.Cond, err = conditions(q, extra); err != nil {
		return nil, err
	}
	if q.HasSearch {
		sr := agentql.ParseSearch(q.Search)
		f.Search = &sr
	}
	f.NotManager = notManager
	fields, err := selectFields(q.Select, q.Distinct)
	if err != nil {
		return nil, err
	}
	sorts, err := agentql.ParseSort(q.Sort, agentql.AgentFields)
	if err != nil {
		return nil, qlError(err)
	}
	page.Fields = fields
	if f.IDs != nil && len(f.IDs) == 0 || f.RBAC != nil && f.RBAC.None() {
		page.Bulk.Total = 0
		return page, nil
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 500
	}
	if q.HugeOffset {
		return nil, hugeOffsetError()
	}
	lq := AgentListQuery{Filter: f, Fields: fields, Sort: sorts, Offset: q.Offset, Limit: limit, Distinct: q.Distinct}
	page.each = func(fn func(*Agent) error) error {
		total, err := a.store.EachAgent(ctx, lq, fn)
		if err != nil {
			return qlError(err)
		}
		page.Bulk.Total = total
		return nil
	}
	return page, nil
}

// selectFields reads select: nil is every field; id is always added unless distinct.
func selectFields(sel []string, distinct bool) (AgentField, error) {
	if sel == nil {
		return AllAgentFields, nil
	}
	names, err := agentql.ParseSelect(strings.Join(sel, ","), agentql.AgentFields)
	if err != nil {
		return 0, qlError(err)
	}
	set := AgentFieldsOf(names)
	if !distinct {
		set |= FieldID
	}
	return set, nil
}

// scope turns an RBAC target into the filter's id restriction: explicit
// ids that are denied or do not exist become failed items (4000, 1701).
func (a *Agents) scope(ctx context.Context, t *rbac.Target, b *Bulk) (AgentFilter, error) {
	f := AgentFilter{Now: a.now()}
	if t == nil || !t.Explicit {
		if t != nil {
			filter := t.Filter
			f.RBAC = &filter
		}
		return f, nil
	}
	for _, id := range t.Denied {
		b.Fail(Denied(t.Type), id)
	}
	ids, missing, err := a.existing(ctx, t.Allowed)
	if err != nil {
		return f, err
	}
	for _, id := range missing {
		b.Fail(E(1701), id)
	}
	f.IDs = ids
	return f, nil
}

// existing splits explicit ids into the agents that exist and the ids that
// name none (each once, in request order).
func (a *Agents) existing(ctx context.Context, ids []string) ([]int, []string, error) {
	var nums []int
	var missing []string
	seen := map[string]bool{}
	for _, s := range ids {
		if seen[s] {
			continue
		}
		seen[s] = true
		if n, ok := ParseAgentID(s); ok {
			nums = append(nums, n)
		} else {
			missing = append(missing, s)
		}
	}
	found, err := a.store.AgentGroups(ctx, nums)
	if err != nil {
		return nil, nil, err
	}
	out := make([]int, 0, len(nums))
	for _, n := range nums {
		if _, ok := found[n]; ok {
			out = append(out, n)
		} else {
			missing = append(missing, FormatAgentID(n))
		}
	}
	return out, missing, nil
}

// hugeOffsetError is wazuh-db's refusal of an offset SQLite cannot hold.
func hugeOffsetError() *Error {
	return Ef(2003, "%s", "Cannot execute Global database query; datatype mismatch")
}
