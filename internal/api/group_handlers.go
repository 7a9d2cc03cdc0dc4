package api

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/muster-project/muster/internal/core"
)

var (
	getGroups = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		return a.ListGroups(c.r.Context(), c.sess.Perms, agentListParam(c.q, "groups_list"), agentListQuery(c.q))
	})
	deleteGroups = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		return a.DeleteGroups(c.r.Context(), c.sess.Perms, agentListParam(c.q, "groups_list"))
	})
	getGroupFiles = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		g, err := pathGroupID(c)
		if err != nil {
			return nil, err
		}
		return a.GroupFiles(c.r.Context(), c.sess.Perms, g, agentListQuery(c.q))
	})
	putAgentGroup = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		id, err := pathAgentID(c)
		if err != nil {
			return nil, err
		}
		g, err := pathGroupID(c)
		if err != nil {
			return nil, err
		}
		return a.AssignGroup(c.r.Context(), c.sess.Perms, g, []string{id}, boolParam(c.q, "force_single_group"))
	})
	putAgentsGroup = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		return a.AssignGroup(c.r.Context(), c.sess.Perms, c.q.Get("group_id"), agentListParam(c.q, "agents_list"),
			boolParam(c.q, "force_single_group"))
	})
	deleteAgentGroups = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		id, err := pathAgentID(c)
		if err != nil {
			return nil, err
		}
		return a.RemoveAgentGroups(c.r.Context(), c.sess.Perms, id, agentListParam(c.q, "groups_list"))
	})
	deleteAgentsGroup = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		return a.UnassignAgents(c.r.Context(), c.sess.Perms, c.q.Get("group_id"), agentListParam(c.q, "agents_list"))
	})
)

// deleteAgentGroup is DELETE /agents/{agent_id}/group/{group_id}.
var deleteAgentGroup = framework(func(c *call) error {
	a, err := agentsFrom(c)
	if err != nil {
		return err
	}
	id, err := pathAgentID(c)
	if err != nil {
		return err
	}
	g, err := pathGroupID(c)
	if err != nil {
		return err
	}
	msg, err := a.UnassignGroup(c.r.Context(), c.sess.Perms, id, g)
	if err != nil {
		return err
	}
	writeJSON(c.w, c.r, message{Message: msg})
	return nil
})

// postGroup is POST /groups.
var postGroup = framework(func(c *call) error {
	obj, _, err := c.jsonBody()
	if err != nil {
		return err
	}
	raw, ok := obj["group_id"]
	if !ok {
		return core.BadRequest("'group_id' is a required property")
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return core.BadRequest(fmt.Sprintf("%s is not of type 'string' - 'group_id'", pyRepr(raw)))
	}
	if len(name) > 128 {
		return core.BadRequest(fmt.Sprintf("'%s' is too long - 'group_id'", name))
	}
	if !reGroupName.MatchString(name) || !validGroupName(name) {
		return core.BadRequest(fmt.Sprintf("'%s' is not a 'group_names' - 'group_id'", name))
	}
	if bad := unknownFields(obj, "group_id"); len(bad) > 0 {
		return core.BadRequest(fmt.Sprintf("Invalid field found {%s}", bad[0]))
	}
	a, err := agentsFrom(c)
	if err != nil {
		return err
	}
	if err := a.CreateGroup(c.r.Context(), c.sess.Perms, name); err != nil {
		return err
	}
	writeJSON(c.w, c.r, message{Message: "Group '" + name + "' created."})
	return nil
})

// getGroupConfiguration is GET /groups/{group_id}/configuration.
var getGroupConfiguration = framework(func(c *call) error {
	a, err := agentsFrom(c)
	if err != nil {
		return err
	}
	g, err := pathGroupID(c)
	if err != nil {
		return err
	}
	total, items, err := a.GroupConfiguration(c.r.Context(), c.sess.Perms, g, agentIntParam(c.q, "offset"),
		agentIntParam(c.q, "limit"))
	if err != nil {
		return err
	}
	writeJSON(c.w, c.r, data{Data: Object{{"total_affected_items", total}, {"affected_items", items}}})
	return nil
})

// putGroupConfiguration is PUT /groups/{group_id}/configuration: an
// application/xml body of at most max_upload_size bytes.
var putGroupConfiguration = framework(func(c *call) error {
	ct := c.r.Header.Get("Content-Type")
	if ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/xml" {
			return core.Problem(415, "Unsupported Media Type",
				fmt.Sprintf("Invalid Content-type (%s), expected ['application/xml']", ct))
		}
	}
	g, err := pathGroupID(c)
	if err != nil {
		return err
	}
	body, err := c.body()
	if err != nil {
		return err
	}
	if len(body) == 0 {
		e := core.E(1912)
		e.Local = true
		return e
	}
	if !utf8.Valid(body) {
		e := core.E(1911)
		e.Local = true
		return e
	}
	if ct == "" {
		e := core.E(6002)
		e.Local = true
		return e
	}
	a, err := agentsFrom(c)
	if err != nil {
		return err
	}
	if err := a.UpdateGroupConfiguration(c.r.Context(), c.sess.Perms, g, body); err != nil {
		return err
	}
	writeJSON(c.w, c.r, message{Message: "Agent configuration was successfully updated"})
	return nil
})

// getGroupFile is GET /groups/{group_id}/files/{file_name}.
var getGroupFile = framework(func(c *call) error {
	a, err := agentsFrom(c)
	if err != nil {
		return err
	}
	g, err := pathGroupID(c)
	if err != nil {
		return err
	}
	name := chi.URLParam(c.r, "file_name")
	if !reAlphanumeric.MatchString(name) {
		return core.BadRequest(fmt.Sprintf("'%s' is not a 'alphanumeric' - 'file_name'", name))
	}
	typ := ""
	if t := listParam(c.q, "type"); len(t) > 0 {
		typ = t[len(t)-1]
	}
	f, err := a.ReadGroupFile(c.r.Context(), c.sess.Perms, g, name, boolParam(c.q, "raw"), typ)
	if err != nil {
		return err
	}
	if f.Raw != nil || boolParam(c.q, "raw") {
		c.w.Header().Set("Content-Type", f.ContentType)
		c.w.Header().Set("Content-Length", strconv.Itoa(len(f.Raw)))
		c.w.WriteHeader(http.StatusOK)
		c.w.Write(f.Raw)
		return nil
	}
	writeJSON(c.w, c.r, data{Data: f.Parsed})
	return nil
})
