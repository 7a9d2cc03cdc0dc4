package zabbix

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeZabbix is a JSON-RPC server that answers like Zabbix 6.0 from the
// answers recorded in testdata/, and counts what it was sent.
type fakeZabbix struct {
	t        *testing.T
	srv      *httptest.Server
	version  string
	user     string
	password string
	token    string // an API token it accepts

	mu       sync.Mutex
	hosts    []json.RawMessage
	items    []json.RawMessage
	sessions map[string]bool
	nextSess int
	calls    map[string]int
	auths    map[string][]string // the auth each call of a method carried
	headers  []string            // Authorization headers seen
	params   map[string][]json.RawMessage
	// hook may answer a call itself (return true); n is the call's number for its method.
	hook func(w http.ResponseWriter, method string, n int) bool
}

type fakeRequest struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Auth   string          `json:"auth"`
	ID     json.RawMessage `json:"id"`
}

func newFake(t *testing.T) *fakeZabbix {
	f := &fakeZabbix{t: t, version: "6.0.14", user: "Admin", password: "s3cret-pw",
		sessions: map[string]bool{}, calls: map[string]int{}, auths: map[string][]string{},
		params: map[string][]json.RawMessage{}}
	f.hosts = recorded(t, "testdata/host.get.json")
	f.items = recorded(t, "testdata/item.get.json")
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// recorded reads the result array of a recorded answer.
func recorded(t testing.TB, path string) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Result []json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return res.Result
}

func (f *fakeZabbix) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// endSessions ends every session, as an expiry or a logout elsewhere would.
func (f *fakeZabbix) endSessions() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.sessions)
}

func (f *fakeZabbix) serve(w http.ResponseWriter, r *http.Request) {
	var req fakeRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.t.Errorf("fake: bad request body: %v", err)
		http.Error(w, "bad", 400)
		return
	}
	f.mu.Lock()
	f.calls[req.Method]++
	n := f.calls[req.Method]
	f.auths[req.Method] = append(f.auths[req.Method], req.Auth)
	f.params[req.Method] = append(f.params[req.Method], req.Params)
	if h := r.Header.Get("Authorization"); h != "" {
		f.headers = append(f.headers, h)
	}
	auth := req.Auth
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		auth = v
	}
	hook := f.hook
	f.mu.Unlock()
	if hook != nil && hook(w, req.Method, n) {
		return
	}
	reply := func(result any) {
		json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "result": result, "id": req.ID})
	}
	fail := func(code int, msg, data string) {
		json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0",
			"error": map[string]any{"code": code, "message": msg, "data": data}, "id": req.ID})
	}
	switch req.Method {
	case "apiinfo.version":
		if auth != "" {
			fail(-32602, "Invalid params.", `The "apiinfo.version" method must be called without the "auth" parameter.`)
			return
		}
		reply(f.version)
		return
	case "user.login":
		var p map[string]string
		json.Unmarshal(req.Params, &p)
		if p["username"] != f.user || p["password"] != f.password {
			fail(-32500, "Application error.", "Incorrect user name or password or account is temporarily blocked.")
			return
		}
		f.mu.Lock()
		f.nextSess++
		sid := fmt.Sprintf("%032x", f.nextSess)
		f.sessions[sid] = true
		f.mu.Unlock()
		reply(sid)
		return
	}
	f.mu.Lock()
	ok := f.sessions[auth] || (f.token != "" && auth == f.token)
	f.mu.Unlock()
	if !ok {
		if len(auth) == 64 {
			fail(-32602, "Invalid params.", "Not authorized.")
		} else {
			fail(-32602, "Invalid params.", "Session terminated, re-login, please.")
		}
		return
	}
	switch req.Method {
	case "user.logout":
		f.mu.Lock()
		delete(f.sessions, auth)
		f.mu.Unlock()
		reply(true)
	case "hostgroup.get":
		reply([]apiGroup{{"2", "Linux servers"}, {"4", "Zabbix servers"}, {"20", "probe-grp"}})
	case "host.get":
		reply(f.hostGet(req.Params))
	case "item.get":
		var p struct {
			HostIDs []string `json:"hostids"`
		}
		json.Unmarshal(req.Params, &p)
		reply(filterByHost(f.items, p.HostIDs))
	default:
		fail(-32601, "Method not found.", "Incorrect API \""+req.Method+"\".")
	}
}

// hostGet answers the id list (output [hostid], by groupids) and the batches (by hostids).
func (f *fakeZabbix) hostGet(params json.RawMessage) any {
	var p struct {
		Output   []string `json:"output"`
		GroupIDs []string `json:"groupids"`
		HostIDs  []string `json:"hostids"`
	}
	json.Unmarshal(params, &p)
	var out []json.RawMessage
	for _, h := range f.hosts {
		var meta struct {
			HostID string     `json:"hostid"`
			Groups []apiGroup `json:"groups"`
		}
		json.Unmarshal(h, &meta)
		if p.GroupIDs != nil && !slices.ContainsFunc(meta.Groups, func(g apiGroup) bool { return slices.Contains(p.GroupIDs, g.GroupID) }) {
			continue
		}
		if p.HostIDs != nil && !slices.Contains(p.HostIDs, meta.HostID) {
			continue
		}
		if slices.Equal(p.Output, []string{"hostid"}) {
			h, _ = json.Marshal(map[string]string{"hostid": meta.HostID})
		}
		out = append(out, h)
	}
	return out
}

func filterByHost(items []json.RawMessage, hostIDs []string) []json.RawMessage {
	out := []json.RawMessage{}
	for _, it := range items {
		var meta apiItem
		json.Unmarshal(it, &meta)
		if slices.Contains(hostIDs, meta.HostID) {
			out = append(out, it)
		}
	}
	return out
}
