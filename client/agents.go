package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Agent connection states as the API reports them.
const (
	StatusActive         = "active"
	StatusPending        = "pending"
	StatusNeverConnected = "never_connected"
	StatusDisconnected   = "disconnected"
)

// Agent is an agent record of GET /agents; fields the manager leaves out (NULL columns, unselected fields) stay zero.
type Agent struct {
	ID                string   `json:"id"`
	Name              string   `json:"name,omitempty"`
	IP                string   `json:"ip,omitempty"`
	RegisterIP        string   `json:"registerIP,omitempty"`
	Status            string   `json:"status,omitempty"`
	StatusCode        int      `json:"status_code"`
	OS                *AgentOS `json:"os,omitempty"`
	Version           string   `json:"version,omitempty"`
	Manager           string   `json:"manager,omitempty"`
	NodeName          string   `json:"node_name,omitempty"`
	DateAdd           Time     `json:"dateAdd,omitzero"`
	LastKeepAlive     Time     `json:"lastKeepAlive,omitzero"`
	DisconnectionTime Time     `json:"disconnection_time,omitzero"`
	Group             []string `json:"group,omitempty"`
	MergedSum         string   `json:"mergedSum,omitempty"`
	ConfigSum         string   `json:"configSum,omitempty"`
	GroupConfigStatus string   `json:"group_config_status,omitempty"`
}

// AgentOS is the operating system an agent reported.
type AgentOS struct {
	Arch     string `json:"arch,omitempty"`
	Build    string `json:"build,omitempty"`
	Codename string `json:"codename,omitempty"`
	Major    string `json:"major,omitempty"`
	Minor    string `json:"minor,omitempty"`
	Name     string `json:"name,omitempty"`
	Platform string `json:"platform,omitempty"`
	Uname    string `json:"uname,omitempty"`
	Version  string `json:"version,omitempty"`
}

// Time is an API timestamp; it accepts ISO-8601 with "Z" or "+00:00", the older "YYYY-MM-DD hh:mm:ss" form and epoch seconds.
type Time struct{ time.Time }

// UnmarshalJSON parses the timestamp forms the API has used.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if json.Unmarshal(b, &secs) != nil {
			return fmt.Errorf("timestamp %s is neither a string nor a number", b)
		}
		t.Time = time.Unix(int64(secs), 0).UTC()
		return nil
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return fmt.Errorf("timestamp %q is not in a known format", s)
}

// MarshalJSON writes RFC 3339.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.Format(time.RFC3339))
}

// AgentQuery holds the parameters of GET /agents; each endpoint accepts a subset and rejects the others.
type AgentQuery struct {
	AgentsList        []string // ids; short numeric ids are zero-padded ("7" → "007")
	Offset            int
	Limit             int      // page size; 0 uses the server default (500), maximum 100000
	Select            []string // fields to return ("id" is always added)
	Sort              string   // e.g. "-lastKeepAlive" or "name,id"
	Search            string
	Status            []string // active, pending, never_connected, disconnected (ORed)
	Q                 string   // Wazuh query language, e.g. "os.platform=ubuntu;lastKeepAlive>1d"
	OlderThan         string   // timeframe such as "7d"
	OSPlatform        string
	OSVersion         string
	OSName            string
	Manager           string
	Version           string
	Group             string
	NodeName          string
	Name              string
	IP                string
	RegisterIP        string
	GroupConfigStatus string // "synced" or "not synced"
	Distinct          bool
	WaitForComplete   bool
}

// params renders every set field with its API name.
func (q AgentQuery) params() url.Values {
	v := url.Values{}
	if len(q.AgentsList) > 0 {
		v.Set("agents_list", strings.Join(normalizeIDs(q.AgentsList), ","))
	}
	setPaging(v, q.Offset, q.Limit, q.Sort, q.Search, q.Q, q.Select, q.Distinct)
	setList(v, "status", q.Status)
	for k, s := range map[string]string{
		"older_than": q.OlderThan, "os.platform": q.OSPlatform, "os.version": q.OSVersion, "os.name": q.OSName,
		"manager": q.Manager, "version": q.Version, "group": q.Group, "node_name": q.NodeName, "name": q.Name,
		"ip": q.IP, "registerIP": q.RegisterIP, "group_config_status": q.GroupConfigStatus,
	} {
		setStr(v, k, s)
	}
	if q.WaitForComplete {
		v.Set("wait_for_complete", "true")
	}
	return v
}

// Parameter sets of the endpoints that take an AgentQuery.
var (
	filterParams     = []string{"q", "os.platform", "os.version", "os.name", "manager", "version", "group", "node_name", "name", "ip", "registerIP"}
	listAgentsParams = append([]string{"agents_list", "offset", "limit", "select", "sort", "search", "status", "older_than", "group_config_status", "distinct"}, filterParams...)
	plainListParams  = []string{"offset", "limit", "select", "sort", "search", "q"}
	groupAgentParams = []string{"offset", "limit", "select", "sort", "search", "status", "q", "distinct"}
	distinctParams   = []string{"offset", "limit", "sort", "search", "q"}
	deleteParams     = append([]string{"agents_list", "status", "older_than"}, filterParams...)
	upgradeParams    = append([]string{"agents_list"}, filterParams...)
)

// valuesFor renders q for an endpoint and refuses fields the endpoint would reject.
func (q AgentQuery) valuesFor(endpoint string, allowed []string) (url.Values, error) {
	v := q.params()
	var bad []string
	for k := range v {
		if k != "wait_for_complete" && !slices.Contains(allowed, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, fmt.Errorf("%s does not accept the parameter(s) %s", endpoint, strings.Join(bad, ", "))
	}
	return v, nil
}

// NormalizeAgentID zero-pads a numeric agent id to the three digits the API expects ("7" → "007").
func NormalizeAgentID(id string) string {
	if n, err := strconv.Atoi(id); err == nil && n >= 0 && len(id) < 3 {
		return fmt.Sprintf("%03d", n)
	}
	return id
}

func normalizeIDs(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = NormalizeAgentID(id)
	}
	return out
}

// ListAgents returns one page of agents (GET /agents).
func (c *Client) ListAgents(ctx context.Context, q AgentQuery) (*AffectedItems[Agent], error) {
	v, err := q.valuesFor("GET /agents", listAgentsParams)
	if err != nil {
		return nil, err
	}
	return getList[Agent](ctx, c, http.MethodGet, "/agents", v, nil)
}

// GetAgent returns one agent by id.
func (c *Client) GetAgent(ctx context.Context, id string) (*Agent, error) {
	v := url.Values{"agents_list": {NormalizeAgentID(id)}}
	return getOne[Agent](ctx, c, http.MethodGet, "/agents", v, nil)
}

// AgentsOutdated lists agents whose version differs from the manager's (GET /agents/outdated).
func (c *Client) AgentsOutdated(ctx context.Context, q AgentQuery) (*AffectedItems[Agent], error) {
	v, err := q.valuesFor("GET /agents/outdated", plainListParams)
	if err != nil {
		return nil, err
	}
	return getList[Agent](ctx, c, http.MethodGet, "/agents/outdated", v, nil)
}

// AgentsNoGroup lists agents that belong to no group (GET /agents/no_group).
func (c *Client) AgentsNoGroup(ctx context.Context, q AgentQuery) (*AffectedItems[Agent], error) {
	v, err := q.valuesFor("GET /agents/no_group", plainListParams)
	if err != nil {
		return nil, err
	}
	return getList[Agent](ctx, c, http.MethodGet, "/agents/no_group", v, nil)
}

// AgentsDistinct counts agents grouped by fields such as "os.platform" or "version" (GET /agents/stats/distinct); each item holds the fields (nested for os) and "count".
func (c *Client) AgentsDistinct(ctx context.Context, fields []string, q AgentQuery) (*AffectedItems[map[string]any], error) {
	v, err := q.valuesFor("GET /agents/stats/distinct", distinctParams)
	if err != nil {
		return nil, err
	}
	setList(v, "fields", fields)
	return getList[map[string]any](ctx, c, http.MethodGet, "/agents/stats/distinct", v, nil)
}
