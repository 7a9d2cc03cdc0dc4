package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Registration is what the manager returns for a new agent: its id and the base64 key line for the agent's client.keys.
type Registration struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// ForceOptions control replacing an existing agent with the same name, IP or id.
type ForceOptions struct {
	Enabled               bool              `json:"enabled"`
	DisconnectedTime      *DisconnectedTime `json:"disconnected_time,omitempty"`
	AfterRegistrationTime string            `json:"after_registration_time,omitempty"`
}

// DisconnectedTime allows replacement only of agents disconnected for longer than Value.
type DisconnectedTime struct {
	Enabled bool   `json:"enabled"`
	Value   string `json:"value,omitempty"`
}

// NewAgent is the body of POST /agents and POST /agents/insert; ID and Key are only used by insert.
type NewAgent struct {
	Name  string        `json:"name"`
	IP    string        `json:"ip,omitempty"`
	ID    string        `json:"id,omitempty"`
	Key   string        `json:"key,omitempty"`
	Force *ForceOptions `json:"force,omitempty"`
}

// AddAgent registers an agent and lets the manager pick its id and key (POST /agents).
func (c *Client) AddAgent(ctx context.Context, a NewAgent) (*Registration, error) {
	if a.ID != "" || a.Key != "" {
		return nil, errors.New("AddAgent: ID and Key are only accepted by InsertAgent")
	}
	return postRegistration(ctx, c, "/agents", nil, a)
}

// InsertAgent registers an agent with a given id and key (POST /agents/insert); note that force is enabled by default there.
func (c *Client) InsertAgent(ctx context.Context, a NewAgent) (*Registration, error) {
	if a.ID != "" {
		a.ID = NormalizeAgentID(a.ID)
	}
	return postRegistration(ctx, c, "/agents/insert", nil, a)
}

// InsertAgentQuick registers an agent by name only (POST /agents/insert/quick).
func (c *Client) InsertAgentQuick(ctx context.Context, name string) (*Registration, error) {
	return postRegistration(ctx, c, "/agents/insert/quick", url.Values{"agent_name": {name}}, nil)
}

func postRegistration(ctx context.Context, c *Client, path string, q url.Values, body any) (*Registration, error) {
	r, err := getData[Registration](ctx, c, http.MethodPost, path, q, body)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// AgentKey returns an agent's base64 key line (GET /agents/{id}/key).
func (c *Client) AgentKey(ctx context.Context, id string) (string, error) {
	r, err := getOne[Registration](ctx, c, http.MethodGet, pathf("/agents/%s/key", NormalizeAgentID(id)), nil, nil)
	if err != nil {
		return "", err
	}
	return r.Key, nil
}

// DeleteAgents removes agents (DELETE /agents). q.AgentsList is required (use []string{"all"} for every agent
// matching the filters); an empty q.Status means "all"; without q.OlderThan the manager applies 7d, so recently
// seen agents are refused with error 1731 — pass "0s" to disable that filter.
func (c *Client) DeleteAgents(ctx context.Context, q AgentQuery, purge bool) (*AffectedItems[string], error) {
	if len(q.AgentsList) == 0 {
		return nil, errors.New("DeleteAgents: AgentsList is required (use []string{\"all\"} deliberately)")
	}
	if len(q.Status) == 0 {
		q.Status = []string{"all"}
	}
	v, err := q.valuesFor("DELETE /agents", deleteParams)
	if err != nil {
		return nil, err
	}
	if purge {
		v.Set("purge", "true")
	}
	return getList[string](ctx, c, http.MethodDelete, "/agents", v, nil)
}

// StatusSummary is GET /agents/summary/status: agent counts by connection and by configuration sync.
type StatusSummary struct {
	Connection struct {
		Active         int `json:"active"`
		Disconnected   int `json:"disconnected"`
		NeverConnected int `json:"never_connected"`
		Pending        int `json:"pending"`
		Total          int `json:"total"`
	} `json:"connection"`
	Configuration struct {
		Synced    int `json:"synced"`
		NotSynced int `json:"not_synced"`
		Total     int `json:"total"`
	} `json:"configuration"`
}

// AgentSummaryStatus counts agents (000 excluded) by status (GET /agents/summary/status).
func (c *Client) AgentSummaryStatus(ctx context.Context) (*StatusSummary, error) {
	s, err := getData[StatusSummary](ctx, c, http.MethodGet, "/agents/summary/status", nil, nil)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// AgentSummaryOS lists the distinct OS platforms of the agents (GET /agents/summary/os).
func (c *Client) AgentSummaryOS(ctx context.Context) ([]string, error) {
	r, err := getList[string](ctx, c, http.MethodGet, "/agents/summary/os", nil, nil)
	if err != nil {
		return nil, err
	}
	return r.AffectedItems, nil
}

// Overview is GET /overview/agents.
type Overview struct {
	Nodes []struct {
		NodeName string `json:"node_name"`
		Count    int    `json:"count"`
	} `json:"nodes"`
	Groups  []Group `json:"groups"`
	AgentOS []struct {
		OS    AgentOS `json:"os"`
		Count int     `json:"count"`
	} `json:"agent_os"`
	AgentStatus  StatusSummary `json:"agent_status"`
	AgentVersion []struct {
		Version string `json:"version"`
		Count   int    `json:"count"`
	} `json:"agent_version"`
	LastRegisteredAgent []Agent `json:"last_registered_agent"`
}

// OverviewAgents returns the fleet overview the dashboard shows (GET /overview/agents).
func (c *Client) OverviewAgents(ctx context.Context) (*Overview, error) {
	o, err := getData[Overview](ctx, c, http.MethodGet, "/overview/agents", nil, nil)
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// agentsListQuery renders an optional agents_list.
func agentsListQuery(ids []string) url.Values {
	v := url.Values{}
	if len(ids) > 0 {
		v.Set("agents_list", strings.Join(normalizeIDs(ids), ","))
	}
	return v
}

// RestartAgent restarts one agent (PUT /agents/{id}/restart).
func (c *Client) RestartAgent(ctx context.Context, id string) (*AffectedItems[string], error) {
	return getList[string](ctx, c, http.MethodPut, pathf("/agents/%s/restart", NormalizeAgentID(id)), nil, nil)
}

// RestartAgents restarts the given agents, or every active agent when ids is empty (PUT /agents/restart).
func (c *Client) RestartAgents(ctx context.Context, ids []string) (*AffectedItems[string], error) {
	return getList[string](ctx, c, http.MethodPut, "/agents/restart", agentsListQuery(ids), nil)
}

// RestartGroupAgents restarts the agents of a group (PUT /agents/group/{group_id}/restart).
func (c *Client) RestartGroupAgents(ctx context.Context, group string) (*AffectedItems[string], error) {
	return getList[string](ctx, c, http.MethodPut, pathf("/agents/group/%s/restart", group), nil, nil)
}

// ReconnectAgents forces agents to reconnect, all active ones when ids is empty (PUT /agents/reconnect).
func (c *Client) ReconnectAgents(ctx context.Context, ids []string) (*AffectedItems[string], error) {
	return getList[string](ctx, c, http.MethodPut, "/agents/reconnect", agentsListQuery(ids), nil)
}

// UpgradeOptions are the optional parameters of PUT /agents/upgrade.
type UpgradeOptions struct {
	WPKRepo        string
	UpgradeVersion string
	UseHTTP        bool
	Force          bool
	PackageType    string // "rpm" or "deb"
}

// UpgradeTask is a created upgrade task.
type UpgradeTask struct {
	Agent  string `json:"agent"`
	TaskID int    `json:"task_id"`
}

// UpgradeAgents creates upgrade tasks for q.AgentsList (required; "all" allowed) filtered by q (PUT /agents/upgrade).
func (c *Client) UpgradeAgents(ctx context.Context, q AgentQuery, o UpgradeOptions) (*AffectedItems[UpgradeTask], error) {
	if len(q.AgentsList) == 0 {
		return nil, errors.New("UpgradeAgents: AgentsList is required")
	}
	v, err := q.valuesFor("PUT /agents/upgrade", upgradeParams)
	if err != nil {
		return nil, err
	}
	setStr(v, "wpk_repo", o.WPKRepo)
	setStr(v, "upgrade_version", o.UpgradeVersion)
	setStr(v, "package_type", o.PackageType)
	if o.UseHTTP {
		v.Set("use_http", "true")
	}
	if o.Force {
		v.Set("force", strconv.FormatBool(o.Force))
	}
	return getList[UpgradeTask](ctx, c, http.MethodPut, "/agents/upgrade", v, nil)
}

// UpgradeResult is the state of an upgrade task (GET /agents/upgrade_result).
type UpgradeResult struct {
	Message    string `json:"message"`
	Agent      string `json:"agent"`
	TaskID     int    `json:"task_id"`
	Node       string `json:"node"`
	Module     string `json:"module"`
	Command    string `json:"command"`
	Status     string `json:"status"`
	CreateTime string `json:"create_time"`
	UpdateTime string `json:"update_time"`
}

// UpgradeResults returns the upgrade tasks of the given agents, all when ids is empty.
func (c *Client) UpgradeResults(ctx context.Context, ids []string) (*AffectedItems[UpgradeResult], error) {
	return getList[UpgradeResult](ctx, c, http.MethodGet, "/agents/upgrade_result", agentsListQuery(ids), nil)
}
