package api

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/muster-project/muster/internal/core"
)

// Query parameters of the agent and group endpoints (agents.md §3.1).
var (
	agentOffset    = pInt("offset", 0, 0)
	agentLimit     = pInt("limit", 1, core.MaxAgentLimit)
	agentSelect    = pList("select", "names", reNames)
	agentSort      = pString("sort", "sort", reSortParam)
	agentSearch    = pString("search", "search", reSearchParam)
	agentQ         = pString("q", "", nil)
	agentDistinct  = pBool("distinct")
	agentOlderThan = pString("older_than", "timeframe", reTimeframe)
	agentsList     = pList("agents_list", "numbers", reAgentID)
	agentsListAll  = pList("agents_list", "numbers_or_all", reAgentIDOrAll)
	agentStatus    = param{name: "status", kind: kList, pattern: reAgentStatus, format: "enum", lower: true}
	agentGroupID   = param{name: "group_id", kind: kString, pattern: reGroupName, format: "group_names",
		valid: validGroupName}
	agentForceSingle = pBool("force_single_group")
	groupsList       = param{name: "groups_list", kind: kList, pattern: reGroupName, format: "group_names",
		valid: validGroupName}
	groupHash = param{name: "hash", kind: kString, pattern: reHashAlgorithm, format: "enum", lower: true}
)

// agentFilterParams are the named filters, in the order Wazuh applies them.
var agentFilterParams = []param{
	pString("os.platform", "alphanumeric", reAlphanumeric),
	pString("os.version", "alphanumeric", reAlphanumeric),
	pString("os.name", "alphanumeric", reAlphanumeric),
	pString("manager", "alphanumeric", reAlphanumeric),
	pString("version", "alphanumeric", reAlphanumeric),
	{name: "group", kind: kString, pattern: reGroupName, format: "group_names", valid: validGroupName},
	pString("node_name", "names", reNames),
	pString("name", "alphanumeric", reAlphanumeric),
	pString("ip", "alphanumeric", reAlphanumeric),
	pString("registerIP", "alphanumeric", reAlphanumeric),
}

var agentConfigStatus = param{name: "group_config_status", kind: kString,
	valid: func(s string) bool { return s == core.ConfigSynced || s == core.ConfigNotSynced }, format: "enum"}

// agentParams joins parameter lists after the standard ones.
func agentParams(lists ...[]param) []param {
	out := append([]param(nil), std...)
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// agentQuery reads the validated list parameters into a core.AgentQuery.
func agentQuery(q url.Values) core.AgentQuery {
	aq := core.AgentQuery{
		AgentsList: agentListParam(q, "agents_list"),
		Offset:     agentIntParam(q, "offset"),
		HugeOffset: hugeInt(q, "offset"),
		Limit:      agentIntParam(q, "limit"),
		Select:     agentListParam(q, "select"),
		Sort:       q.Get("sort"),
		Q:          q.Get("q"),
		OlderThan:  q.Get("older_than"),
		Distinct:   boolParam(q, "distinct"),
	}
	if v, ok := q["search"]; ok {
		aq.Search, aq.HasSearch = v[len(v)-1], true
	}
	for _, s := range agentListParam(q, "status") {
		aq.Status = append(aq.Status, strings.ToLower(s))
	}
	for _, p := range append(agentFilterParams, agentConfigStatus) {
		if v, ok := q[p.name]; ok {
			aq.Filters = append(aq.Filters, core.NamedFilter{Field: p.name, Value: v[len(v)-1]})
		}
	}
	return aq
}

// agentListParam reads a list parameter; nil when it was not sent.
func agentListParam(q url.Values, name string) []string {
	if _, ok := q[name]; !ok {
		return nil
	}
	out := listParam(q, name)
	if out == nil {
		out = []string{}
	}
	return out
}

// agentIntParam reads a validated integer parameter; one past int64 reads
// as the largest int (an offset past every list).
func agentIntParam(q url.Values, name string) int {
	v, ok := q[name]
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v[len(v)-1])
	if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(v[len(v)-1], "-") {
		return math.MaxInt
	}
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// hugeInt reports a validated integer parameter past int64.
func hugeInt(q url.Values, name string) bool {
	v, ok := q[name]
	if !ok {
		return false
	}
	_, err := strconv.ParseInt(v[len(v)-1], 10, 64)
	return errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(v[len(v)-1], "-")
}

// agentListQuery reads the parameters of the in-memory group lists.
func agentListQuery(q url.Values) core.ListQuery {
	lq := core.ListQuery{Offset: agentIntParam(q, "offset"), Limit: agentIntParam(q, "limit"), Sort: q.Get("sort"),
		Q: q.Get("q"), Select: agentListParam(q, "select"), Distinct: boolParam(q, "distinct"),
		Hash: strings.ToLower(q.Get("hash"))}
	if v, ok := q["search"]; ok {
		lq.Search, lq.HasSearch = v[len(v)-1], true
	}
	return lq
}

// pathAgentID reads and checks the agent_id path parameter.
func pathAgentID(c *call) (string, error) {
	id := chi.URLParam(c.r, "agent_id")
	if !reAgentID.MatchString(id) {
		return "", core.BadRequest(fmt.Sprintf("'%s' is not a 'numbers' - 'agent_id'", id))
	}
	return id, nil
}

// pathGroupID reads and checks the group_id path parameter.
func pathGroupID(c *call) (string, error) {
	g := chi.URLParam(c.r, "group_id")
	if !reGroupName.MatchString(g) || !validGroupName(g) {
		return "", core.BadRequest(fmt.Sprintf("'%s' is not a 'group_names' - 'group_id'", g))
	}
	return g, nil
}
