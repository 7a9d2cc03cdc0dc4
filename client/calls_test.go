package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
)

// capture records the last request a handler saw.
type capture struct {
	method, path, contentType string
	query                     url.Values
	body                      string
}

func (cp *capture) record(reply func(http.ResponseWriter)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*cp = capture{r.Method, r.URL.EscapedPath(), r.Header.Get("Content-Type"), r.URL.Query(), string(b)}
		reply(w)
	}
}

func replyJSON(body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}
}

const activeAgent = `{"os": {"arch": "x86_64", "codename": "Focal Fossa", "major": "20", "minor": "04", "name": "Ubuntu", "platform": "ubuntu", "uname": "Linux |host |5.8.0-45-generic", "version": "20.04.2 LTS"},
 "id": "001", "name": "host", "ip": "172.25.0.6", "registerIP": "any", "status": "active", "status_code": 0, "version": "Wazuh v4.14.7",
 "manager": "wazuh-manager", "node_name": "node01", "dateAdd": "2024-10-05T16:18:22+00:00", "lastKeepAlive": "2024-10-11T08:00:43+00:00",
 "group": ["default", "web"], "mergedSum": "4a87", "configSum": "ab73", "group_config_status": "synced"}`

func TestListAgentsQueryAndRecord(t *testing.T) {
	f := newFake(t, newClock())
	var cp capture
	f.handle("GET /agents", cp.record(replyJSON(`{"data": {"affected_items": [`+activeAgent+`,
		{"id": "000", "name": "manager", "lastKeepAlive": "9999-12-31T23:59:59+00:00", "status": "active", "status_code": 0},
		{"id": "009", "status": "disconnected", "status_code": 4, "disconnection_time": "2021-07-04 10:00:00"}],
		"total_affected_items": 13, "total_failed_items": 0, "failed_items": []}, "message": "All selected agents information was returned", "error": 0}`)))
	c, _ := start(t, f)
	res, err := c.ListAgents(context.Background(), client.AgentQuery{
		AgentsList: []string{"1", "010"}, Limit: 100, Offset: 5, Select: []string{"id", "os.name"}, Sort: "+id",
		Status: []string{"active", "disconnected"}, Q: "os.platform=ubuntu", OlderThan: "7d", Group: "web",
		GroupConfigStatus: "not synced", WaitForComplete: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"agents_list": {"001,010"}, "limit": {"100"}, "offset": {"5"}, "select": {"id,os.name"}, "sort": {"+id"},
		"status": {"active,disconnected"}, "q": {"os.platform=ubuntu"}, "older_than": {"7d"}, "group": {"web"},
		"group_config_status": {"not synced"}, "wait_for_complete": {"true"}}
	if cp.query.Encode() != want.Encode() {
		t.Fatalf("query = %s\nwant    %s", cp.query.Encode(), want.Encode())
	}
	a := res.AffectedItems[0]
	if a.OS == nil || a.OS.Platform != "ubuntu" || a.Group[1] != "web" || a.LastKeepAlive.Format(time.RFC3339) != "2024-10-11T08:00:43Z" {
		t.Fatalf("agent decoded wrong: %+v", a)
	}
	if res.TotalAffectedItems != 13 || res.Message == "" || res.AffectedItems[1].LastKeepAlive.Year() != 9999 {
		t.Fatalf("envelope decoded wrong: %+v", res)
	}
	if d := res.AffectedItems[2].DisconnectionTime; d.IsZero() || res.AffectedItems[2].StatusCode != 4 {
		t.Fatalf("older timestamp form not parsed: %+v", res.AffectedItems[2])
	}
}

func TestEndpointsRefuseParametersTheyDoNotTake(t *testing.T) {
	f := newFake(t, newClock())
	c, _ := start(t, f)
	ctx := context.Background()
	if _, err := c.AgentsOutdated(ctx, client.AgentQuery{Status: []string{"active"}}); err == nil || !strings.Contains(err.Error(), "status") {
		t.Fatalf("AgentsOutdated accepted status: %v", err)
	}
	if _, err := c.DeleteAgents(ctx, client.AgentQuery{}, false); err == nil {
		t.Fatal("DeleteAgents without AgentsList accepted")
	}
	if _, err := c.GroupFiles(ctx, "web", client.GroupQuery{Groups: []string{"x"}}); err == nil {
		t.Fatal("GroupFiles accepted a group list")
	}
	if c.Logins() != 0 {
		t.Fatalf("refused calls logged in %d times", c.Logins())
	}
}

func TestAgentRegistrationCalls(t *testing.T) {
	f := newFake(t, newClock())
	var cp capture
	reg := replyJSON(`{"data": {"id": "013", "key": "MDEzIHdlYjAx"}, "error": 0}`)
	for _, p := range []string{"POST /agents", "POST /agents/insert", "POST /agents/insert/quick"} {
		f.handle(p, cp.record(reg))
	}
	f.handle("DELETE /agents", cp.record(replyJSON(`{"data": {"affected_items": ["013"], "total_affected_items": 1, "total_failed_items": 0, "failed_items": []}, "message": "All selected agents were deleted", "error": 0}`)))
	c, _ := start(t, f)
	ctx := context.Background()

	r, err := c.AddAgent(ctx, client.NewAgent{Name: "web01"})
	if err != nil || r.ID != "013" || cp.body != `{"name":"web01"}` || cp.contentType != "application/json" {
		t.Fatalf("AddAgent: %+v %v, sent %q %q", r, err, cp.body, cp.contentType)
	}
	if _, err := c.InsertAgent(ctx, client.NewAgent{Name: "web02", ID: "7", Force: &client.ForceOptions{Enabled: false}}); err != nil ||
		cp.body != `{"name":"web02","id":"007","force":{"enabled":false}}` {
		t.Fatalf("InsertAgent sent %q (%v)", cp.body, err)
	}
	if _, err := c.InsertAgentQuick(ctx, "web03"); err != nil || cp.query.Get("agent_name") != "web03" {
		t.Fatalf("InsertAgentQuick: %v %v", cp.query, err)
	}
	del, err := c.DeleteAgents(ctx, client.AgentQuery{AgentsList: []string{"13"}, OlderThan: "0s"}, true)
	if err != nil || del.AffectedItems[0] != "013" {
		t.Fatal(err)
	}
	if cp.query.Get("agents_list") != "013" || cp.query.Get("status") != "all" || cp.query.Get("purge") != "true" || cp.query.Get("older_than") != "0s" {
		t.Fatalf("DeleteAgents query = %v", cp.query)
	}
}

func TestGroupCalls(t *testing.T) {
	f := newFake(t, newClock())
	var cp capture
	msg := replyJSON(`{"message": "Agent configuration was successfully updated", "error": 0}`)
	f.handle("PUT /groups/{g}/configuration", cp.record(msg))
	f.handle("GET /groups/{g}/files/{file}", cp.record(func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		fmt.Fprint(w, "<agent_config></agent_config>\n")
	}))
	f.handle("PUT /agents/{id}/group/{g}", cp.record(replyJSON(`{"data": {"affected_items": ["003"], "total_affected_items": 1, "total_failed_items": 0, "failed_items": []}, "message": "All selected agents were assigned to web", "error": 0}`)))
	f.handle("GET /groups", cp.record(replyJSON(`{"data": {"affected_items": [{"name": "default", "count": 10, "mergedSum": "a", "configSum": "b"}], "total_affected_items": 1, "total_failed_items": 0, "failed_items": []}, "message": "x", "error": 0}`)))
	c, _ := start(t, f)
	ctx := context.Background()

	if err := c.UpdateGroupConfiguration(ctx, "web", []byte("<agent_config/>")); err != nil ||
		cp.contentType != "application/xml" || cp.body != "<agent_config/>" {
		t.Fatalf("UpdateGroupConfiguration sent %q as %q: %v", cp.body, cp.contentType, err)
	}
	raw, err := c.GroupFileRaw(ctx, "web", "agent.conf")
	if err != nil || string(raw) != "<agent_config></agent_config>\n" || cp.query.Get("raw") != "true" {
		t.Fatalf("GroupFileRaw = %q, %v", raw, err)
	}
	if _, err := c.AssignAgentGroup(ctx, "3", "web", true); err != nil || cp.path != "/agents/003/group/web" || cp.query.Get("force_single_group") != "true" {
		t.Fatalf("AssignAgentGroup hit %s?%v: %v", cp.path, cp.query, err)
	}
	groups, err := c.ListGroups(ctx, client.GroupQuery{Groups: []string{"default"}, Hash: "sha256"})
	if err != nil || groups.AffectedItems[0].Count != 10 || cp.query.Get("groups_list") != "default" || cp.query.Get("hash") != "sha256" {
		t.Fatalf("ListGroups: %+v %v %v", groups, cp.query, err)
	}
}

func TestSecurityCalls(t *testing.T) {
	f := newFake(t, newClock())
	var cp capture
	f.handle("GET /security/users/me/policies", cp.record(replyJSON(`{"data": {"agent:create": {"*:*:*": "allow"}, "agent:read": {"agent:id:*": "allow", "agent:id:001": "deny"}, "rbac_mode": "white"}, "message": "m", "error": 0}`)))
	f.handle("PUT /security/config", cp.record(replyJSON(`{"message": "Configuration was successfully updated", "error": 0}`)))
	f.handle("POST /security/users/{id}/roles", cp.record(replyJSON(`{"data": {"affected_items": [{"id": 100, "username": "u", "allow_run_as": false, "roles": [3, 4]}], "total_affected_items": 2, "total_failed_items": 1, "failed_items": [{"error": {"code": 4002, "message": "The specified role does not exist"}, "id": [500]}]}, "message": "Some roles were not linked to user u", "error": 2}`)))
	f.handle("GET /security/users/me", cp.record(replyJSON(`{"data": {"affected_items": [{"id": 1, "username": "wazuh", "allow_run_as": true, "roles": [{"id": 1, "name": "administrator", "policies": [{"id": 1, "name": "p", "policy": {"actions": ["agent:create"], "resources": ["*:*:*"], "effect": "allow"}}], "rules": [{"id": 1, "name": "r", "rule": {"FIND": {"username": "elastic"}}}]}]}], "total_affected_items": 1, "total_failed_items": 0, "failed_items": []}, "message": "m", "error": 0}`)))
	c, _ := start(t, f)
	ctx := context.Background()

	p, err := c.UsersMePolicies(ctx)
	if err != nil || p.RBACMode != "white" || p.Permissions["agent:read"]["agent:id:001"] != "deny" || len(p.Permissions) != 2 {
		t.Fatalf("UsersMePolicies = %+v, %v", p, err)
	}
	me, err := c.UsersMe(ctx)
	if err != nil || me.Roles[0].Policies[0].Policy.Effect != "allow" || me.Roles[0].Rules[0].Rule["FIND"] == nil {
		t.Fatalf("UsersMe = %+v, %v", me, err)
	}
	res, err := c.AddUserRoles(ctx, 100, []int{3, 4, 500}, 0)
	if err != nil || cp.query.Get("role_ids") != "3,4,500" || cp.query.Get("position") != "0" || res.FailedItems[0].IDs[0] != "500" {
		t.Fatalf("AddUserRoles: %+v %v %v", res, cp.query, err)
	}
	logins := c.Logins()
	if err := c.UpdateSecurityConfig(ctx, client.SecurityConfig{AuthTokenExpTimeout: 3000}); err != nil || cp.body != `{"auth_token_exp_timeout":3000}` {
		t.Fatalf("UpdateSecurityConfig sent %q: %v", cp.body, err)
	}
	if _, err := c.UsersMe(ctx); err != nil || c.Logins() != logins+1 {
		t.Fatalf("after a security config change the client must log in again: logins %d→%d, %v", logins, c.Logins(), err)
	}
}

func TestManagerCalls(t *testing.T) {
	f := newFake(t, newClock())
	var cp capture
	f.handle("GET /manager/configuration", cp.record(replyJSON(`{"data": {"affected_items": [{"global": {"agents_disconnection_time": "15m"}}], "total_affected_items": 1, "total_failed_items": 0, "failed_items": []}, "message": "m", "error": 0}`)))
	f.handle("GET /manager/info", cp.record(replyJSON(`{"data": {"affected_items": [{"path": "/var/ossec", "version": "v4.14.7", "type": "server", "max_agents": "unlimited", "openssl_support": "yes", "tz_offset": "+0000", "tz_name": "UTC"}], "total_affected_items": 1, "total_failed_items": 0, "failed_items": []}, "message": "m", "error": 0}`)))
	c, _ := start(t, f)
	d, err := c.AgentsDisconnectionTime(context.Background())
	if err != nil || d != 15*time.Minute || cp.query.Get("section") != "global" || cp.query.Get("field") != "agents_disconnection_time" {
		t.Fatalf("AgentsDisconnectionTime = %v, %v (query %v)", d, err, cp.query)
	}
	info, err := c.ManagerInfo(context.Background())
	if err != nil || info.Version != "v4.14.7" {
		t.Fatalf("ManagerInfo = %+v, %v", info, err)
	}
	for in, want := range map[string]time.Duration{"900": 900 * time.Second, "10m": 10 * time.Minute, "1d": 24 * time.Hour, " 30s ": 30 * time.Second} {
		if got, err := client.ParseWazuhDuration(in); err != nil || got != want {
			t.Errorf("ParseWazuhDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := client.ParseWazuhDuration("soon"); err == nil {
		t.Error("ParseWazuhDuration accepted garbage")
	}
}

func TestDoRawAndEnvelope(t *testing.T) {
	f := newFake(t, newClock())
	f.handle("GET /", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"data": map[string]any{"title": "Wazuh API REST", "api_version": "4.14.7", "revision": 41407}, "error": 0})
	})
	c, _ := start(t, f)
	var env client.Response[json.RawMessage]
	if err := c.Do(context.Background(), "GET", "/", nil, nil, &env); err != nil || !strings.Contains(string(env.Data), "4.14.7") {
		t.Fatalf("Do envelope: %s %v", env.Data, err)
	}
	info, err := c.Info(context.Background())
	if err != nil || info.Revision != "41407" {
		t.Fatalf("numeric revision not tolerated: %+v %v", info, err)
	}
}
