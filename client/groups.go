package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Group is an agent group with its member count and the hashes of its merged.mg and agent.conf.
type Group struct {
	Name      string `json:"name"`
	Count     int    `json:"count"`
	MergedSum string `json:"mergedSum,omitempty"`
	ConfigSum string `json:"configSum,omitempty"`
}

// GroupQuery holds the parameters of GET /groups and GET /groups/{id}/files (which ignores Groups).
type GroupQuery struct {
	Groups   []string
	Offset   int
	Limit    int
	Sort     string
	Search   string
	Hash     string // md5 (default), sha1, sha256, ...
	Q        string
	Select   []string
	Distinct bool
}

func (q GroupQuery) values(withGroups bool) (url.Values, error) {
	v := url.Values{}
	if len(q.Groups) > 0 {
		if !withGroups {
			return nil, errors.New("GET /groups/{group_id}/files does not accept a group list")
		}
		v.Set("groups_list", strings.Join(q.Groups, ","))
	}
	setPaging(v, q.Offset, q.Limit, q.Sort, q.Search, q.Q, q.Select, q.Distinct)
	setStr(v, "hash", q.Hash)
	return v, nil
}

// GroupFile is one file of a group's shared directory.
type GroupFile struct {
	Filename string `json:"filename"`
	Hash     string `json:"hash"`
}

// GroupConfig is the parsed agent.conf of a group.
type GroupConfig struct {
	TotalAffectedItems int `json:"total_affected_items"`
	AffectedItems      []struct {
		Filters map[string]string `json:"filters"`
		Config  map[string]any    `json:"config"`
	} `json:"affected_items"`
}

// ListGroups lists groups (GET /groups).
func (c *Client) ListGroups(ctx context.Context, q GroupQuery) (*AffectedItems[Group], error) {
	v, err := q.values(true)
	if err != nil {
		return nil, err
	}
	return getList[Group](ctx, c, http.MethodGet, "/groups", v, nil)
}

// CreateGroup creates a group (POST /groups).
func (c *Client) CreateGroup(ctx context.Context, id string) error {
	_, err := getMessage(ctx, c, http.MethodPost, "/groups", nil, map[string]string{"group_id": id})
	return err
}

// DeleteGroups deletes groups by name (DELETE /groups); "default" is refused as a failed item.
func (c *Client) DeleteGroups(ctx context.Context, ids []string) (*AffectedItems[string], error) {
	if len(ids) == 0 {
		return nil, errNoIDs
	}
	v := url.Values{"groups_list": {strings.Join(ids, ",")}}
	return getList[string](ctx, c, http.MethodDelete, "/groups", v, nil)
}

// GroupAgents lists the agents of a group (GET /groups/{group_id}/agents).
func (c *Client) GroupAgents(ctx context.Context, group string, q AgentQuery) (*AffectedItems[Agent], error) {
	v, err := q.valuesFor("GET /groups/{group_id}/agents", groupAgentParams)
	if err != nil {
		return nil, err
	}
	return getList[Agent](ctx, c, http.MethodGet, pathf("/groups/%s/agents", group), v, nil)
}

func forceQuery(v url.Values, force bool) url.Values {
	if force {
		v.Set("force_single_group", "true")
	}
	return v
}

// AssignAgentGroup adds one agent to a group, or makes it the only group with forceSingle (PUT /agents/{id}/group/{group}).
func (c *Client) AssignAgentGroup(ctx context.Context, agentID, group string, forceSingle bool) (*AffectedItems[string], error) {
	path := pathf("/agents/%s/group/%s", NormalizeAgentID(agentID), group)
	return getList[string](ctx, c, http.MethodPut, path, forceQuery(url.Values{}, forceSingle), nil)
}

// UnassignAgentGroup removes one agent from a group and returns the manager's message (DELETE /agents/{id}/group/{group}).
func (c *Client) UnassignAgentGroup(ctx context.Context, agentID, group string) (string, error) {
	return getMessage(ctx, c, http.MethodDelete, pathf("/agents/%s/group/%s", NormalizeAgentID(agentID), group), nil, nil)
}

// RemoveAgentFromGroups removes an agent from the given groups, all when groups is empty (DELETE /agents/{id}/group).
func (c *Client) RemoveAgentFromGroups(ctx context.Context, agentID string, groups []string) (*AffectedItems[string], error) {
	v := url.Values{}
	setList(v, "groups_list", groups)
	return getList[string](ctx, c, http.MethodDelete, pathf("/agents/%s/group", NormalizeAgentID(agentID)), v, nil)
}

// AssignAgentsToGroup adds agents to a group, every agent when agentIDs is empty (PUT /agents/group).
func (c *Client) AssignAgentsToGroup(ctx context.Context, group string, agentIDs []string, forceSingle bool) (*AffectedItems[string], error) {
	v := agentsListQuery(agentIDs)
	v.Set("group_id", group)
	return getList[string](ctx, c, http.MethodPut, "/agents/group", forceQuery(v, forceSingle), nil)
}

// UnassignAgentsFromGroup removes agents from a group (DELETE /agents/group); agentIDs is required ("all" allowed).
func (c *Client) UnassignAgentsFromGroup(ctx context.Context, group string, agentIDs []string) (*AffectedItems[string], error) {
	if len(agentIDs) == 0 {
		return nil, errNoIDs
	}
	v := agentsListQuery(agentIDs)
	v.Set("group_id", group)
	return getList[string](ctx, c, http.MethodDelete, "/agents/group", v, nil)
}

// GroupConfiguration returns a group's agent.conf as JSON (GET /groups/{group_id}/configuration); limit 0 uses the server default.
func (c *Client) GroupConfiguration(ctx context.Context, group string, offset, limit int) (*GroupConfig, error) {
	v := url.Values{}
	setPaging(v, offset, limit, "", "", "", nil, false)
	g, err := getData[GroupConfig](ctx, c, http.MethodGet, pathf("/groups/%s/configuration", group), v, nil)
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// UpdateGroupConfiguration replaces a group's agent.conf with the XML document (PUT /groups/{group_id}/configuration).
func (c *Client) UpdateGroupConfiguration(ctx context.Context, group string, xml []byte) error {
	if len(xml) == 0 {
		return errors.New("UpdateGroupConfiguration: empty agent.conf")
	}
	body := RawBody{ContentType: "application/xml", Data: xml}
	_, err := getMessage(ctx, c, http.MethodPut, pathf("/groups/%s/configuration", group), nil, body)
	return err
}

// GroupFiles lists the files of a group (GET /groups/{group_id}/files).
func (c *Client) GroupFiles(ctx context.Context, group string, q GroupQuery) (*AffectedItems[GroupFile], error) {
	v, err := q.values(false)
	if err != nil {
		return nil, err
	}
	return getList[GroupFile](ctx, c, http.MethodGet, pathf("/groups/%s/files", group), v, nil)
}

// GroupFileRaw returns the bytes of a group file (GET /groups/{group_id}/files/{file_name}?raw=true).
func (c *Client) GroupFileRaw(ctx context.Context, group, file string) ([]byte, error) {
	var b []byte
	err := c.Do(ctx, http.MethodGet, pathf("/groups/%s/files/%s", group, file), url.Values{"raw": {"true"}}, nil, &b)
	return b, err
}

// GroupFileJSON returns a group file parsed by the manager; fileType ("conf", "rootkit_files", "rootkit_trojans", "rcl") may be empty.
func (c *Client) GroupFileJSON(ctx context.Context, group, file, fileType string) (json.RawMessage, error) {
	v := url.Values{}
	setStr(v, "type", fileType)
	return getData[json.RawMessage](ctx, c, http.MethodGet, pathf("/groups/%s/files/%s", group, file), v, nil)
}
