package meshcentral

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// fakeMesh is a control.ashx websocket that answers like MeshCentral 1.1.55
// did on the test machine (see the coverage-sources spec): the login on the
// upgrade's x-meshauth header, a "close" message for a refused one,
// unsolicited serverinfo/userinfo/event messages, responseid echoed by
// nodes and meshes only, per-device answers carrying just the nodeid.
type fakeMesh struct {
	t        *testing.T
	srv      *httptest.Server
	caFile   string
	user     string
	password string

	mu          sync.Mutex
	banned      bool
	meshes      []map[string]any
	nodes       map[string][]map[string]any // by mesh id
	netinfo     map[string]string           // raw netif2 JSON by node id
	lastconnect map[string]float64          // ms by node id
	conns       []*websocket.Conn
	logins      int // accepted
	refused     int
	requests    map[string]int
	// hook may answer a request itself (return true); n counts the
	// requests of that action on all connections, conn the connection's number.
	hook func(ws *websocket.Conn, conn int, req map[string]any, n int) bool
}

const (
	meshA    = "mesh//AAAA"
	meshB    = "mesh//BBBB"
	nodeUp   = "node//up1"
	nodeDown = "node//down1"
	nodeNew  = "node//never1" // offline, never connected: lastconnect has no data
)

func newFake(t *testing.T) *fakeMesh {
	f := &fakeMesh{t: t, user: "admin", password: "s3cret,pw:é", requests: map[string]int{}}
	f.meshes = []map[string]any{
		{"type": "mesh", "_id": meshA, "name": "servers", "mtype": 2},
		{"type": "mesh", "_id": meshB, "name": "laptops", "mtype": 2},
	}
	f.nodes = map[string][]map[string]any{
		meshA: {
			{"type": "node", "_id": nodeUp, "name": "web1-renamed", "rname": "web1", "ip": "10.0.0.5",
				"osdesc": "Debian GNU/Linux 12 (bookworm)", "agent": map[string]any{"id": 6, "caps": 30},
				"firstconnect": 1796609330927, "conn": 1, "pwr": 1, "agct": 1796609330927},
			{"type": "node", "_id": nodeDown, "name": "db1", "rname": "db1", "ip": "127.0.0.1",
				"osdesc": "Ubuntu 22.04", "firstconnect": 1796609330000},
		},
		meshB: {
			{"type": "node", "_id": nodeNew, "name": "lap1", "osdesc": "Windows 11"},
		},
	}
	f.netinfo = map[string]string{
		nodeUp: `{"lo":[{"mac":"00:00:00:00:00:00","address":"127.0.0.1","family":"IPv4"},{"mac":"00:00:00:00:00:00","address":"::1","family":"IPv6"}],
			"eth0":[{"mac":"02:FC:00:00:00:01","address":"192.0.2.2","family":"IPv4"},{"mac":"02:FC:00:00:00:01","address":"fe80::fc:ff:fe00:1%4","family":"IPv6"}],
			"ifb0":[{"mac":"8E:92:88:FB:63:E7","type":"ethernet","status":"up"}]}`,
		nodeDown: `{"ens3":[{"mac":"52:54:00:12:34:56","address":"192.0.2.9","family":"IPv4"}]}`,
	}
	f.lastconnect = map[string]float64{nodeDown: 1796609352671}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	f.caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(f.caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeMesh) count(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[action]
}

func (f *fakeMesh) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

// dropAll ends every connection from the server side, as a restart would.
func (f *fakeMesh) dropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.CloseNow()
	}
}

func (f *fakeMesh) send(ws *websocket.Conn, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Errorf("fake: %v", err)
		return
	}
	ws.Write(context.Background(), websocket.MessageText, b)
}

func (f *fakeMesh) authOK(h string) bool {
	u, p, ok := strings.Cut(h, ",")
	if !ok {
		return false
	}
	user, err1 := base64.StdEncoding.DecodeString(u)
	pass, err2 := base64.StdEncoding.DecodeString(p)
	return err1 == nil && err2 == nil && string(user) == f.user && string(pass) == f.password
}

func (f *fakeMesh) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/control.ashx" {
		http.NotFound(w, r)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	f.mu.Lock()
	f.conns = append(f.conns, ws)
	connNo := len(f.conns)
	banned := f.banned
	ok := f.authOK(r.Header.Get("x-meshauth"))
	if ok && !banned {
		f.logins++
	} else {
		f.refused++
	}
	f.mu.Unlock()
	switch {
	case banned:
		f.send(ws, map[string]any{"action": "close", "cause": "banned", "msg": "banned-1"})
		ws.Close(websocket.StatusNormalClosure, "")
		return
	case !ok:
		f.send(ws, map[string]any{"action": "close", "cause": "noauth", "msg": "noauth-2d"})
		ws.Close(websocket.StatusNormalClosure, "")
		return
	}
	f.send(ws, map[string]any{"action": "serverinfo", "serverinfo": map[string]any{"name": "127.0.0.1", "port": 443}})
	f.send(ws, map[string]any{"action": "userinfo", "userinfo": map[string]any{"_id": "user//admin", "name": "admin"}})
	f.send(ws, map[string]any{"action": "traceinfo", "traceSources": nil})
	for {
		typ, b, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		var req map[string]any
		if err := json.Unmarshal(b, &req); err != nil {
			f.t.Errorf("fake: the client sent non-JSON: %q", b)
			return
		}
		action, _ := req["action"].(string)
		nodeID, _ := req["nodeid"].(string)
		f.mu.Lock()
		f.requests[action]++
		n := f.requests[action]
		hook := f.hook
		f.mu.Unlock()
		if hook != nil && hook(ws, connNo, req, n) {
			continue
		}
		// Unsolicited traffic between answers: an event, and a stale
		// per-device answer for another device, as another session's would be.
		f.send(ws, map[string]any{"action": "event", "event": map[string]any{"action": "nodeconnect", "nodeid": nodeID, "conn": 0}})
		switch action {
		case "meshes":
			f.mu.Lock()
			meshes := f.meshes
			f.mu.Unlock()
			f.send(ws, map[string]any{"action": "meshes", "meshes": meshes, "responseid": req["responseid"]})
		case "nodes":
			f.mu.Lock()
			nodes := f.nodes
			f.mu.Unlock()
			f.send(ws, map[string]any{"action": "nodes", "responseid": req["responseid"], "nodes": nodes})
		case "lastconnect":
			f.send(ws, map[string]any{"action": "lastconnect", "nodeid": "node//someone-else", "time": 1})
			f.mu.Lock()
			tm, known := f.lastconnect[nodeID]
			f.mu.Unlock()
			if known {
				f.send(ws, map[string]any{"action": "lastconnect", "nodeid": nodeID, "time": tm, "addr": "127.0.0.1:56555"})
			} else {
				f.send(ws, map[string]any{"action": "lastconnect", "nodeid": nodeID, "noinfo": true, "result": "No data"})
			}
		case "getnetworkinfo":
			f.send(ws, map[string]any{"action": "getnetworkinfo", "nodeid": "node//someone-else",
				"netif2": map[string]any{"x": []any{map[string]any{"mac": "66:66:66:66:66:66"}}}})
			f.mu.Lock()
			raw, known := f.netinfo[nodeID]
			f.mu.Unlock()
			if known {
				f.send(ws, map[string]any{"action": "getnetworkinfo", "nodeid": nodeID, "updateTime": 1796609359762, "netif2": json.RawMessage(raw)})
			} else {
				f.send(ws, map[string]any{"action": "getnetworkinfo", "nodeid": nodeID, "netif": nil, "netif2": nil})
			}
		default:
			// MeshCentral ignores commands it does not know.
		}
	}
}
