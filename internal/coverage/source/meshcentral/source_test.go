package meshcentral

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

var clock = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// sourceFor builds a source for the fake with the given password and extra YAML.
func sourceFor(t *testing.T, f *fakeMesh, password, extra string) *Source {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), mustRead(t, f.caFile), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := "name: mc\nkind: meshcentral\nurl: " + f.srv.URL + "\nuser: admin\npassword_file: pw\nca: [ca.pem]\n" + extra
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
	}
	src, err := New(node.Content[0], coverage.Env{Dir: dir, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	s := src.(*Source)
	t.Cleanup(func() { s.Close() })
	return s
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (s *Source) dialCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dials
}

func byID(recs []coverage.Record) map[string]coverage.Record {
	m := map[string]coverage.Record{}
	for _, r := range recs {
		m[r.ID] = r
	}
	return m
}

func TestFetchOnlineAndOffline(t *testing.T) {
	f := newFake(t)
	s := sourceFor(t, f, f.password, "")
	var mu sync.Mutex
	var calls [][2]int
	recs, err := s.Fetch(context.Background(), func(done, total int) {
		mu.Lock()
		calls = append(calls, [2]int{done, total})
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3: %+v", len(recs), recs)
	}
	if last := calls[len(calls)-1]; last != [2]int{3, 3} || calls[0] != [2]int{0, 3} {
		t.Errorf("progress %v, want 0/3 ... 3/3", calls)
	}
	m := byID(recs)
	up, down, never := m[nodeUp], m[nodeDown], m[nodeNew]
	if up.Hostname != "web1" || up.State != StateOnline || !up.Healthy || !up.LastSeen.Equal(clock) ||
		up.OS != "Debian GNU/Linux 12 (bookworm)" || !slices.Equal(up.Groups, []string{"servers"}) {
		t.Errorf("online device: %+v", up)
	}
	if !slices.Equal(up.MACs, []string{"02:FC:00:00:00:01", "8E:92:88:FB:63:E7"}) {
		t.Errorf("online device MACs %v (loopback's zero MAC and the stale answer's must not show)", up.MACs)
	}
	if !slices.Equal(up.IPs, []string{"10.0.0.5", "192.0.2.2"}) {
		t.Errorf("online device IPs %v", up.IPs)
	}
	if up.Fields.Map()["conn"] != "1" || up.Fields.Map()["name"] != "web1-renamed" || up.Fields.Map()["rname"] != "web1" {
		t.Errorf("online device fields %v", up.Fields.Map())
	}
	if down.State != StateOffline || down.Healthy || !down.LastSeen.Equal(time.UnixMilli(1796609352671)) ||
		down.Fields.Map()["lastconnect.time"] != "1796609352671" || down.Fields.Map()["conn"] != "" {
		t.Errorf("offline device: %+v", down)
	}
	if !slices.Equal(down.MACs, []string{"52:54:00:12:34:56"}) || !slices.Equal(down.IPs, []string{"192.0.2.9"}) {
		t.Errorf("offline device MACs %v IPs %v", down.MACs, down.IPs)
	}
	if never.State != StateOffline || never.Healthy || !never.LastSeen.IsZero() || never.MACs != nil ||
		!slices.Equal(never.Groups, []string{"laptops"}) || never.Hostname != "lap1" {
		t.Errorf("never-connected device: %+v", never)
	}
	for _, r := range recs {
		if r.Source != "mc" || !r.ReadAt.Equal(clock) || r.Request != "wss://"+strings.TrimPrefix(f.srv.URL, "https://")+`/control.ashx {"action":"nodes"}` {
			t.Errorf("record %s: source %q read at %v request %q", r.ID, r.Source, r.ReadAt, r.Request)
		}
	}
	if n := f.count("lastconnect"); n != 2 {
		t.Errorf("%d lastconnect requests, want 2 (offline devices only)", n)
	}
	if n := f.count("getnetworkinfo"); n != 3 {
		t.Errorf("%d getnetworkinfo requests, want 3", n)
	}
}

func TestGroups(t *testing.T) {
	f := newFake(t)
	s := sourceFor(t, f, f.password, "groups: [laptops]\n")
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].ID != nodeNew {
		t.Fatalf("got %+v, want only the laptops group's device", recs)
	}
	if n := f.count("getnetworkinfo"); n != 1 {
		t.Errorf("%d getnetworkinfo requests, want 1 (other groups are not read)", n)
	}
}

func TestUnknownGroup(t *testing.T) {
	f := newFake(t)
	s := sourceFor(t, f, f.password, "groups: [servers, nope]\n")
	_, err := s.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), `"nope" not found`) || !strings.Contains(err.Error(), `"laptops", "servers"`) {
		t.Fatalf("err = %v, want the unknown group and the known ones", err)
	}
}

func TestRefusedLogin(t *testing.T) {
	f := newFake(t)
	s := sourceFor(t, f, "wrong-pw", "")
	_, err := s.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || errors.Is(err, ErrBanned) {
		t.Fatalf("err = %v, want ErrLoginRefused", err)
	}
	if strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("the error shows the password: %v", err)
	}
	if !strings.Contains(err.Error(), "noauth") || !strings.Contains(err.Error(), "banned") {
		t.Errorf("err = %v, want the cause and the ban warning", err)
	}
	if n := f.connections(); n != 1 {
		t.Errorf("%d connections, want 1: a refused login is not retried", n)
	}
}

func TestBanned(t *testing.T) {
	f := newFake(t)
	f.banned = true
	s := sourceFor(t, f, f.password, "")
	_, err := s.Fetch(context.Background(), nil)
	if !errors.Is(err, ErrBanned) || errors.Is(err, connauth.ErrLoginRefused) || !strings.Contains(err.Error(), "retry") {
		t.Fatalf("err = %v, want ErrBanned (not a refused login) saying to retry later", err)
	}
	if n := f.connections(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestKeepsOneConnection(t *testing.T) {
	f := newFake(t)
	s := sourceFor(t, f, f.password, "")
	for i := range 3 {
		if _, err := s.Fetch(context.Background(), nil); err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
	}
	if n := f.connections(); n != 1 {
		t.Errorf("%d connections for 3 fetches, want 1", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(context.Background(), nil); err != nil {
		t.Fatalf("fetch after Close: %v", err)
	}
	if n := f.connections(); n != 2 {
		t.Errorf("%d connections, want a new one after Close", n)
	}
}

func TestReconnectsAfterDrop(t *testing.T) {
	f := newFake(t)
	s := sourceFor(t, f, f.password, "")
	if _, err := s.Fetch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	f.dropAll()
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 3 {
		t.Fatalf("after a drop: %d records, err %v", len(recs), err)
	}
	if n := f.connections(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestReconnectsWhenDroppedDuringWalk(t *testing.T) {
	f := newFake(t)
	s := sourceFor(t, f, f.password, "")
	if _, err := s.Fetch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	// The kept connection dies under the second walk's nodes request.
	f.hook = func(ws *websocket.Conn, conn int, req map[string]any, n int) bool {
		if conn == 1 && req["action"] == "nodes" {
			ws.CloseNow()
			return true
		}
		return false
	}
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, err %v", len(recs), err)
	}
	if n := f.connections(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestDropOnFreshConnectionIsAnError(t *testing.T) {
	f := newFake(t)
	f.hook = func(ws *websocket.Conn, conn int, req map[string]any, n int) bool {
		if req["action"] == "getnetworkinfo" {
			ws.CloseNow()
			return true
		}
		return false
	}
	s := sourceFor(t, f, f.password, "")
	recs, err := s.Fetch(context.Background(), nil)
	if err == nil || recs != nil || !errors.Is(err, errDropped) {
		t.Fatalf("recs %v err %v, want a lost-connection error and no records", recs, err)
	}
	if n := f.connections(); n != 1 {
		t.Errorf("%d connections, want 1 (a new connection that drops is not retried)", n)
	}
}

func TestMalformedJSON(t *testing.T) {
	for name, msg := range map[string]string{
		"not JSON":    `{"action":"nodes", oops`,
		"nodes array": `{"action":"nodes","nodes":[1,2]}`,
		"no nodes":    `{"action":"nodes"}`,
		"node no id":  `{"action":"nodes","nodes":{"mesh//AAAA":[{"name":"x"}]}}`,
		"conn string": `{"action":"nodes","nodes":{"mesh//AAAA":[{"_id":"node//x","conn":"1"}]}}`,
		"refused":     `{"action":"nodes","result":"Access denied"}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			f.hook = func(ws *websocket.Conn, conn int, req map[string]any, n int) bool {
				if req["action"] == "nodes" {
					ws.Write(context.Background(), websocket.MessageText, []byte(msg))
					return true
				}
				return false
			}
			s := sourceFor(t, f, f.password, "")
			recs, err := s.Fetch(context.Background(), nil)
			if err == nil || recs != nil {
				t.Fatalf("recs %v err %v, want an error", recs, err)
			}
			t.Log(err)
		})
	}
}

func TestContextCancelled(t *testing.T) {
	f := newFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.hook = func(ws *websocket.Conn, conn int, req map[string]any, n int) bool {
		if req["action"] == "getnetworkinfo" {
			cancel() // and never answer
			return true
		}
		return false
	}
	s := sourceFor(t, f, f.password, "")
	_, err := s.Fetch(ctx, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestTimeout(t *testing.T) {
	f := newFake(t)
	f.hook = func(ws *websocket.Conn, conn int, req map[string]any, n int) bool {
		return req["action"] == "nodes" // swallowed
	}
	s := sourceFor(t, f, f.password, "timeout: 0.2s\n")
	start := time.Now()
	_, err := s.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "no answer to nodes within 200ms") {
		t.Fatalf("err = %v, want a timeout of the nodes request", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestMessageTooBig(t *testing.T) {
	f := newFake(t)
	s := sourceFor(t, f, f.password, "")
	s.maxMsg = 300
	_, err := s.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want the message size limit", err)
	}
}

func TestBinaryAndUnknownMessagesIgnored(t *testing.T) {
	f := newFake(t)
	f.hook = func(ws *websocket.Conn, conn int, req map[string]any, n int) bool {
		if req["action"] == "meshes" {
			ws.Write(context.Background(), websocket.MessageBinary, []byte{0, 1, 2})
			ws.Write(context.Background(), websocket.MessageText, []byte(`{"action":"whatever","responseid":"not-ours"}`))
			ws.Write(context.Background(), websocket.MessageText, []byte(`{"action":"nodes","responseid":"muster-999","nodes":{}}`))
		}
		return false
	}
	s := sourceFor(t, f, f.password, "")
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, err %v", len(recs), err)
	}
}

func TestConcurrencyBounded(t *testing.T) {
	f := newFake(t)
	many := []map[string]any{}
	for i := range 200 {
		many = append(many, map[string]any{"_id": "node//n" + string(rune('a'+i%26)) + string(rune('a'+i/26)), "name": "h", "conn": 1})
	}
	f.nodes = map[string][]map[string]any{meshA: many}
	s := sourceFor(t, f, f.password, "")
	s.conc = 4
	var mu sync.Mutex
	var dones []int
	recs, err := s.Fetch(context.Background(), func(done, total int) {
		mu.Lock()
		dones = append(dones, done)
		mu.Unlock()
	})
	if err != nil || len(recs) != 200 {
		t.Fatalf("%d records, err %v", len(recs), err)
	}
	if !slices.IsSorted(dones) || dones[len(dones)-1] != 200 {
		t.Errorf("progress not monotonic or not complete: %v", dones[len(dones)-5:])
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("x\n"), 0o600)
	for _, tc := range []struct{ doc, want string }{
		{"user: a\npassword_file: pw\n", "url is not set"},
		{"url: http://h:1\nuser: a\npassword_file: pw\n", "not a wss:// or https://"},
		{"url: wss://u:p@h:1\nuser: a\npassword_file: pw\n", "must not hold a user"},
		{"url: wss://h:1\n", "no credentials"},
		{"url: wss://h:1\nuser: a\n", "has no password_file"},
		{"url: wss://h:1\npassword_file: pw\n", "user is not"},
		{"url: wss://h:1\nuser: a\npassword_file: missing\n", "password_file"},
		{"url: wss://h:1\nuser: a\ntoken_file: pw\n", "token_file/token_env are not used"},
		{"url: wss://h:1\nuser: a\npassword_file: pw\ngroups: [\"\"]\n", "groups[0] is empty"},
		{"url: wss://h:1\nuser: a\npassword_file: pw\ngroup: [x]\n", `unknown key "group"`},
		{"url: wss://h:1\nuser: a,b\npassword_file: pw\n", "comma"},
	} {
		var node yaml.Node
		if err := yaml.Unmarshal([]byte("name: m\nkind: meshcentral\n"+tc.doc), &node); err != nil {
			t.Fatal(err)
		}
		_, err := New(node.Content[0], coverage.Env{Dir: dir})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func TestControlURL(t *testing.T) {
	for in, want := range map[string]string{
		"wss://127.0.0.1:57001":                "wss://127.0.0.1:57001/control.ashx",
		"https://127.0.0.1:57001/":             "wss://127.0.0.1:57001/control.ashx",
		"https://mc.example/dom1/?x=1#f":       "wss://mc.example/dom1/control.ashx",
		"wss://mc.example:443/control.ashx":    "wss://mc.example:443/control.ashx",
		"https://mc.example/dom1/control.ashx": "wss://mc.example/dom1/control.ashx",
	} {
		got, err := controlURL(in)
		if err != nil || got != want {
			t.Errorf("controlURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestRegistered(t *testing.T) {
	if !slices.Contains(coverage.Kinds(), "meshcentral") {
		t.Fatal("kind meshcentral is not registered")
	}
}
