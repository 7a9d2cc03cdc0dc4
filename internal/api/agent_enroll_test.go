package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
)

var keyLineRe = regexp.MustCompile(`^(\d{3,}) (\S+) (\S+) ([0-9a-f]{64})$`)

// decodeKey returns the client.keys line of a registration key.
func decodeKey(t *testing.T, key string) []string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		t.Fatalf("key is not base64: %v", err)
	}
	m := keyLineRe.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("key line %q is not '<id> <name> <ip> <64 hex>'", b)
	}
	return m[1:]
}

func TestRegisterAgent(t *testing.T) {
	e, tok := agEnv(t)
	ctx := context.Background()
	c := e.Admin()
	r, err := c.AddAgent(ctx, client.NewAgent{Name: "NewAgent"})
	if err != nil {
		t.Fatal(err)
	}
	line := decodeKey(t, r.Key)
	if r.ID != "001" || line[0] != "001" || line[1] != "NewAgent" || line[2] != "any" {
		t.Fatalf("registration %+v, line %v", r, line)
	}
	// The record as Wazuh shows an agent registered through the API.
	x := agGet(t, e, tok, "/agents?agents_list=001")
	agExpect(t, x, 200, agItems(`{"id": "001", "status": "never_connected", "name": "NewAgent", "registerIP": "any", `+
		`"ip": "any", "dateAdd": "2026-01-01T12:00:00+00:00", "status_code": 0, "node_name": "unknown", `+
		`"group_config_status": "not synced"}`, 1, nil, "All selected agents information was returned"))
	// client.keys holds the same line, mode 0600.
	keys := agKeys(t, e)
	if keys != strings.Join(line, " ")+"\n" {
		t.Fatalf("client.keys %q, want the key line", keys)
	}
	st, _ := os.Stat(filepath.Join(e.DataDir, "etc", "client.keys"))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("client.keys mode %v", st.Mode().Perm())
	}
	// GET /agents/{id}/key gives the same key back.
	k, err := c.AgentKey(ctx, "001")
	if err != nil || k != r.Key {
		t.Fatalf("key %q %v, want %q", k, err, r.Key)
	}
	// Ids follow the counter; an id is not given again after a deletion.
	r2, _ := c.AddAgent(ctx, client.NewAgent{Name: "second", IP: "10.0.0.2"})
	if r2.ID != "002" || decodeKey(t, r2.Key)[2] != "10.0.0.2" {
		t.Fatalf("second %+v", r2)
	}
	if _, err := c.DeleteAgents(ctx, client.AgentQuery{AgentsList: []string{"002"}, OlderThan: "0s"}, true); err != nil {
		t.Fatal(err)
	}
	r3, _ := c.AddAgent(ctx, client.NewAgent{Name: "third"})
	if r3.ID != "003" {
		t.Fatalf("third got %s, want 003", r3.ID)
	}
	if keys := agKeys(t, e); strings.Contains(keys, " second ") || !strings.Contains(keys, "003 third any ") ||
		strings.Count(keys, "\n") != 2 {
		t.Fatalf("client.keys after delete and add:\n%s", keys)
	}
}

func TestRegisterAgentAddresses(t *testing.T) {
	e, tok := agEnv(t)
	for _, c := range []struct {
		ip, stored string
		ok         bool
	}{
		{"ANY", "any", true},
		{"192.168.1.10", "192.168.1.10", true},
		{"10.0.0.0/24", "10.0.0.0/24", true},
		{"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:0db8:0000:0000:0000:0000:0000:0001", true},
		{"2001:db8::2", "2001:db8::2", true},
		{"10.0.0.1/24", "", false},
		{"A.B.C.D", "", false},
		{"333.333.333.333", "", false},
		{"192.168.1.10", "", false}, // taken by the second case
	} {
		body := `{"name": "ip-` + strings.NewReplacer(".", "-", ":", "-", "/", "-").Replace(c.ip) + `x", "ip": "` + c.ip + `"}`
		x := do(t, e, "POST", "/agents", jsonHeaders(tok), body)
		if !c.ok {
			agExpect(t, x, 400, agProblem(1706, c.ip))
			continue
		}
		var r struct {
			Data struct{ ID, Key string } `json:"data"`
		}
		if x.status != 200 || json.Unmarshal(x.body, &r) != nil {
			t.Fatalf("%s: %d %s", c.ip, x.status, x.body)
		}
		// The key carries the address as sent; the registry stores it lower-cased.
		if got := decodeKey(t, r.Data.Key)[2]; got != c.ip {
			t.Fatalf("key ip %q, want %q", got, c.ip)
		}
		a := agData(t, agGet(t, e, tok, "/agents?select=registerIP&agents_list="+r.Data.ID))
		if got := a["affected_items"].([]any)[0].(map[string]any)["registerIP"]; got != c.stored {
			t.Fatalf("registerIP %v, want %s", got, c.stored)
		}
	}
}

func jsonHeaders(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
}

// TestRegisterRefusals checks every refusal answers as Wazuh does and
// writes nothing.
func TestRegisterRefusals(t *testing.T) {
	e, tok := agEnv(t)
	if _, err := e.Admin().AddAgent(context.Background(), client.NewAgent{Name: "web01", IP: "10.1.1.1"}); err != nil {
		t.Fatal(err)
	}
	before := agKeys(t, e)
	long := strings.Repeat("a", 129)
	cases := []struct {
		name, path, body string
		headers          map[string]string
		status           int
		want             string // exact body, or "" to check only the code
		code             int
	}{
		{"duplicate name", "/agents", `{"name": "web01"}`, nil, 400, agProblem(1705, "web01"), 0},
		{"manager's name", "/agents", `{"name": "muster-test"}`, nil, 400, agProblem(1705, "muster-test"), 0},
		{"duplicate ip", "/agents", `{"name": "other", "ip": "10.1.1.1"}`, nil, 400, agProblem(1706, "10.1.1.1"), 0},
		{"name too long", "/agents", `{"name": "` + long + `"}`, nil, 400, agProblem(1738, ""), 0},
		{"name too long with force", "/agents", `{"name": "` + long + `", "force": {"enabled": true}}`, nil, 400,
			agProblem(1738, ""), 0},
		{"bad name", "/agents", `{"name": "bad name"}`, nil, 400, badRequestBody("'bad name' is not a 'names' - 'name'"), 0},
		{"no name", "/agents", `{"ip": "10.0.0.9"}`, nil, 400, badRequestBody("'name' is a required property"), 0},
		{"name not a string", "/agents", `{"name": 5}`, nil, 400, badRequestBody("5 is not of type 'string' - 'name'"), 0},
		{"unknown field", "/agents", `{"name": "x1", "foo": 1}`, nil, 400, badRequestBody("Invalid field found {'foo'}"), 0},
		{"unknown force field", "/agents", `{"name": "x1", "force": {"disconnected_time": {"bar": 1}}}`, nil, 400,
			badRequestBody("Invalid field found {'bar'}"), 0},
		{"no body", "/agents", ``, nil, 400, "", 0},
		{"not JSON", "/agents", `{"name": `, nil, 400, "", 0},
		{"wrong media type", "/agents", `{"name": "x2"}`, map[string]string{"Content-Type": "text/plain"}, 415,
			`{"title": "Unsupported Media Type", "detail": "Invalid Content-type (text/plain), expected ['application/json']"}`, 0},
		{"insert: duplicate id", "/agents/insert", `{"name": "x3", "id": "001"}`, nil, 400, agProblem(1708, "001"), 0},
		{"insert: id 000", "/agents/insert", `{"name": "x3", "id": "000"}`, nil, 400, agProblem(1708, "000"), 0},
		{"insert: short id", "/agents/insert", `{"name": "x3", "id": "7"}`, nil, 400, badRequestBody("'7' is not a 'numbers' - 'id'"), 0},
		{"insert: key 65", "/agents/insert", `{"name": "x3", "key": "` + strings.Repeat("a", 65) + `"}`, nil, 400,
			badRequestBody("'" + strings.Repeat("a", 65) + "' is too long - 'key'"), 0},
		{"insert: key not alphanumeric", "/agents/insert", `{"name": "x3", "key": "` + strings.Repeat("-", 64) + `"}`, nil, 400,
			badRequestBody("'" + strings.Repeat("-", 64) + "' is not a 'wazuh_key' - 'key'"), 0},
		{"insert: bad time frame", "/agents/insert", `{"name": "x3", "force": {"after_registration_time": "1y"}}`, nil, 400,
			badRequestBody("'1y' is not a 'timeframe' - 'force.after_registration_time'"), 0},
		{"insert: duplicate name inside an hour", "/agents/insert", `{"name": "web01", "force": {"disconnected_time": {"value": "1d"}}}`,
			nil, 400, agProblem(1705, "web01"), 0},
		{"quick: bad name", "/agents/insert/quick?agent_name=wrong*name", ``, nil, 400, "", 0},
		{"quick: too long", "/agents/insert/quick?agent_name=" + long, ``, nil, 400, "", 0},
		{"quick: duplicate", "/agents/insert/quick?agent_name=web01", ``, nil, 400, agProblem(1705, "web01"), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := jsonHeaders(tok)
			for k, v := range c.headers {
				h[k] = v
			}
			x := do(t, e, "POST", c.path, h, c.body)
			if c.want != "" {
				agExpect(t, x, c.status, c.want)
			} else if x.status != c.status {
				t.Fatalf("got %d %s, want %d", x.status, x.body, c.status)
			}
			if after := agKeys(t, e); after != before {
				t.Fatalf("client.keys changed:\n%s", after)
			}
			if n := agData(t, agGet(t, e, tok, "/agents?select=id"))["total_affected_items"]; n != 2.0 {
				t.Fatalf("%v agents after a refusal, want 2", n)
			}
		})
	}
}

func badRequestBody(detail string) string {
	return `{"title": "Bad Request", "detail": ` + agJSON(detail) + `}`
}

func TestRegisterForce(t *testing.T) {
	e, tok := agEnv(t)
	ctx := context.Background()
	c := e.Admin()
	old, err := c.AddAgent(ctx, client.NewAgent{Name: "host1"})
	if err != nil {
		t.Fatal(err)
	}
	force := `{"name": "host1", "force": {}}`
	// Registered less than an hour ago (after_registration_time 1h).
	agExpect(t, do(t, e, "POST", "/agents", jsonHeaders(tok), force), 400, agProblem(1705, "host1"))
	// force disabled, even later.
	e.Clock.Advance(2 * time.Hour)
	tok = token(t, e, "wazuh", "wazuh")
	agExpect(t, do(t, e, "POST", "/agents", jsonHeaders(tok), `{"name": "host1", "force": {"enabled": false}}`),
		400, agProblem(1705, "host1"))
	// A never-connected agent registered two hours ago is replaced: new id and key.
	x := do(t, e, "POST", "/agents", jsonHeaders(tok), force)
	var r struct {
		Data client.Registration `json:"data"`
	}
	if x.status != 200 || json.Unmarshal(x.body, &r) != nil {
		t.Fatalf("%d %s", x.status, x.body)
	}
	if r.Data.ID != "002" || r.Data.Key == old.Key {
		t.Fatalf("replacement %+v", r.Data)
	}
	if ids := agIDs(t, agGet(t, e, tok, "/agents?select=id")); ids != "000,002" {
		t.Fatalf("agents %s, want 000,002", ids)
	}
	if keys := agKeys(t, e); !strings.HasPrefix(keys, "002 host1 any ") || strings.Count(keys, "\n") != 1 {
		t.Fatalf("client.keys:\n%s", keys)
	}
	// POST /agents/insert forces by default; with a given id and key.
	e.Clock.Advance(2 * time.Hour)
	tok = token(t, e, "wazuh", "wazuh")
	key := strings.Repeat("ab", 32)
	x = do(t, e, "POST", "/agents/insert", jsonHeaders(tok), `{"name": "host1", "id": "750", "key": "`+key+`"}`)
	if x.status != 200 || json.Unmarshal(x.body, &r) != nil || r.Data.ID != "750" {
		t.Fatalf("%d %s", x.status, x.body)
	}
	if line := decodeKey(t, r.Data.Key); line[3] != key {
		t.Fatalf("key line %v", line)
	}
	// The counter continues after the given id.
	q, err := c.InsertAgentQuick(ctx, "quick1")
	if err != nil || q.ID != "751" {
		t.Fatalf("quick %+v %v", q, err)
	}
}

func TestRegisterNeedsPermission(t *testing.T) {
	e, _ := agEnv(t)
	tok := agScoped(t, e, "reader", agPolicy("allow", []string{"agent:read"}, "agent:id:*"))
	x := do(t, e, "POST", "/agents", jsonHeaders(tok), `{"name": "x"}`)
	agStatus(t, x, 403, 4000)
	if !strings.Contains(string(x.body), `"unknown-node"`) {
		t.Fatalf("403 without unknown-node: %s", x.body)
	}
	_, err := e.Client("reader", "Passw0rd!reader").AddAgent(context.Background(), client.NewAgent{Name: "y"})
	if !client.IsForbidden(err) {
		t.Fatalf("SDK error %v, want a 403", err)
	}
}
