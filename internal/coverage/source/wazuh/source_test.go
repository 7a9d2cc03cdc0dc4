package wazuh

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

func byID(recs []coverage.Record) map[string]coverage.Record {
	m := make(map[string]coverage.Record, len(recs))
	for _, r := range recs {
		m[r.ID] = r
	}
	return m
}

// The recorded answer of a real Wazuh 4.14.7, served in pages of 7: every
// agent but 000 becomes a record with the scanner's class.
func TestRecordedWazuh(t *testing.T) {
	f := newFake(t, fixtureAgents(t))
	s := openFake(t, f, "secret", "page_size: 7\n")
	var progress [][2]int
	recs, err := s.Fetch(context.Background(), func(done, total int) { progress = append(progress, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	healthy := 0
	for _, r := range recs {
		states[r.State]++
		if r.Healthy {
			healthy++
		}
		if r.Source != "wz" || !r.ReadAt.Equal(fixtureAt) || !strings.HasPrefix(r.Request, "GET "+f.srv.URL+"/agents?") {
			t.Errorf("record %s: source %q read at %v request %q", r.ID, r.Source, r.ReadAt, r.Request)
		}
	}
	// 40 agents besides 000 (017 was removed), as `muster scan` classes them.
	want := map[string]int{"active": 25, "pending": 3, "disconnected": 7, "never_connected": 5}
	if d := cmp.Diff(want, states); d != "" || len(recs) != 40 || healthy != 25 {
		t.Errorf("%d records, %d healthy, states (-want +got):\n%s", len(recs), healthy, d)
	}
	m := byID(recs)
	if _, ok := m["000"]; ok {
		t.Error("the manager's own agent 000 is reported as a device")
	}
	// 41 items (000 included) in keyset pages of 7: 6 requests; agent 007
	// is the first of the second page, which asked for id>6.
	if n := f.agentCalls.Load(); n != 6 {
		t.Errorf("GET /agents calls: %d, want 6", n)
	}
	page2, _ := url.QueryUnescape(f.queries[1])
	if got := m["007"].Request; got != "GET "+f.srv.URL+"/agents?"+page2 || !strings.Contains(got, "q=id>6") ||
		!strings.Contains(got, "os.name") || !strings.Contains(got, "limit=7") {
		t.Errorf("request of 007: %q (page 2 asked %q)", got, page2)
	}
	if m["001"].Request == m["007"].Request {
		t.Error("agents of different pages share a request")
	}
	if len(progress) != 6 || progress[5] != [2]int{41, 41} {
		t.Errorf("progress %v", progress)
	}

	wantRecs := []coverage.Record{
		{Source: "wz", ID: "001", Hostname: "web-01", IPs: []string{"10.0.1.11"}, OS: "Ubuntu 22.04.4 LTS", Groups: []string{"web"},
			State: "active", Healthy: true, LastSeen: time.Date(2026, 11, 25, 9, 37, 25, 0, time.UTC),
			Fields: coverage.FieldsOf(map[string]string{"status": "active", "name": "web-01", "ip": "10.0.1.11", "version": "Wazuh v4.14.7",
				"lastKeepAlive": "2026-11-25T09:37:25Z", "dateAdd": "2025-10-11T09:54:16Z", "group": "web",
				"os.name": "Ubuntu", "os.version": "22.04.4 LTS", "os.platform": "ubuntu"})},
		{Source: "wz", ID: "005", Hostname: "web-05", IPs: []string{"10.0.1.15"}, OS: "Debian GNU/Linux 12", Groups: []string{"web"},
			State: "disconnected", LastSeen: time.Date(2026, 11, 25, 6, 37, 39, 0, time.UTC),
			Fields: coverage.FieldsOf(map[string]string{"status": "disconnected", "name": "web-05", "ip": "10.0.1.15", "version": "Wazuh v4.14.7",
				"lastKeepAlive": "2026-11-25T06:37:39Z", "disconnection_time": "2026-11-25T06:47:44Z", "dateAdd": m["005"].Fields.Map()["dateAdd"],
				"group": "web", "os.name": "Debian GNU/Linux", "os.version": "12", "os.platform": "debian"})},
		{Source: "wz", ID: "011", Hostname: "app-01", IPs: []string{"10.0.3.11"}, OS: "Ubuntu 22.04.4 LTS", Groups: []string{"web", "db"},
			State: "active", Healthy: true, LastSeen: time.Date(2026, 11, 25, 9, 37, 5, 0, time.UTC)},
		{Source: "wz", ID: "035", Hostname: "new-web-06", Groups: []string{"web"}, State: "never_connected",
			Fields: coverage.FieldsOf(map[string]string{"status": "never_connected", "name": "new-web-06", "ip": "any",
				"dateAdd": m["035"].Fields.Map()["dateAdd"], "group": "web"})},
		{Source: "wz", ID: "039", Hostname: "kiosk-01", Groups: []string{"default"}, State: "never_connected"},
		{Source: "wz", ID: "040", Hostname: "staging-01", IPs: []string{"10.0.7.11"}, Groups: []string{"default"}, State: "pending",
			LastSeen: time.Date(2026, 11, 25, 9, 33, 4, 0, time.UTC)},
	}
	for _, w := range wantRecs {
		got := m[w.ID]
		if w.Fields == "" {
			got.Fields = ""
		}
		got.ReadAt, got.Request = time.Time{}, ""
		if d := cmp.Diff(w, got); d != "" {
			t.Errorf("record %s (-want +got):\n%s", w.ID, d)
		}
	}
	if m["005"].Fields.Map()["dateAdd"] == "" || m["035"].Fields.Map()["lastKeepAlive"] != "" {
		t.Errorf("fields: 005 %v, 035 %v", m["005"].Fields.Map(), m["035"].Fields.Map())
	}

	// A second Fetch (--watch) reuses the token.
	if _, err := fetch(t, s); err != nil {
		t.Fatal(err)
	}
	if s.Logins() != 1 || f.logins.Load() != 1 {
		t.Errorf("logins: source %d, manager %d; want 1", s.Logins(), f.logins.Load())
	}
}

func TestGroupsFilter(t *testing.T) {
	f := newFake(t, fixtureAgents(t))
	s := openFake(t, f, "secret", "groups: [db, db]\n")
	recs, err := fetch(t, s)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	if want := []string{"007", "008", "009", "010", "011", "036"}; !slices.Equal(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}

	// A group name no agent is in and the manager does not know is an error, not an empty fleet.
	s = openFake(t, f, "secret", "groups: [db, Web]\n")
	recs, err = fetch(t, s)
	if err == nil || recs != nil || !strings.Contains(err.Error(), `no Wazuh group named "Web"`) || !strings.Contains(err.Error(), `"web"`) {
		t.Fatalf("recs %d err %v", len(recs), err)
	}
	// An empty group the manager has is fine.
	f.groups = append(f.groups, "empty")
	s = openFake(t, f, "secret", "groups: [empty]\n")
	if recs, err := fetch(t, s); err != nil || len(recs) != 0 {
		t.Fatalf("recs %d err %v", len(recs), err)
	}
}

func TestConcurrentFetchesShareOneLogin(t *testing.T) {
	f := newFake(t, fixtureAgents(t))
	s := openFake(t, f, "secret", "page_size: 10\n")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	counts := make([]int, 8)
	for i := range 8 {
		wg.Go(func() {
			recs, err := fetch(t, s)
			errs[i], counts[i] = err, len(recs)
		})
	}
	wg.Wait()
	for i := range 8 {
		if errs[i] != nil || counts[i] != 40 {
			t.Errorf("fetch %d: %d records, %v", i, counts[i], errs[i])
		}
	}
	if s.Logins() != 1 || f.logins.Load() != 1 {
		t.Errorf("logins: source %d, manager %d; want 1", s.Logins(), f.logins.Load())
	}
}

func TestLoginRefused(t *testing.T) {
	f := newFake(t, fixtureAgents(t))
	s := openFake(t, f, "wrong", "")
	for range 2 {
		recs, err := fetch(t, s)
		if recs != nil || !errors.Is(err, connauth.ErrLoginRefused) || !errors.Is(err, client.ErrInvalidCredentials) ||
			!strings.Contains(err.Error(), "login refused") || !strings.Contains(err.Error(), "wazuh source wz") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Fatalf("the password is in the error: %v", err)
		}
	}
	if f.logins.Load() != 1 {
		t.Errorf("logins with a wrong password: %d; the client must not repeat a refused login", f.logins.Load())
	}
}

// Answers that are not a Wazuh API's: clear errors, never a partial list.
func TestBadAnswers(t *testing.T) {
	cases := []struct {
		name   string
		answer func(w http.ResponseWriter, call int) bool
		want   []string
	}{
		{"an HTML page", func(w http.ResponseWriter, call int) bool {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body>Please log in</body></html>"))
			return true
		}, []string{"/agents", "muster doctor"}},
		{"truncated JSON", func(w http.ResponseWriter, call int) bool {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"data": {"affected_items": [{"id": "000", "name": "wazuh-man`))
			return true
		}, []string{"/agents", "muster doctor"}},
		{"500 on every page", func(w http.ResponseWriter, call int) bool {
			problem(w, 500, `{"title": "Wazuh Internal Error", "detail": "Timeout executing API request", "error": 3021}`)
			return true
		}, []string{"500", "Timeout executing API request", "muster doctor"}},
		{"500 from the third page: a partial walk", func(w http.ResponseWriter, call int) bool {
			if call < 3 {
				return false
			}
			problem(w, 500, `{"title": "Wazuh Internal Error", "detail": "Timeout executing API request", "error": 3021}`)
			return true
		}, []string{"after 10 of them", "500"}},
		{"a page that stops short", func(w http.ResponseWriter, call int) bool {
			if call < 2 {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"data": {"affected_items": [], "total_affected_items": 41, "total_failed_items": 0, "failed_items": []}, "error": 0}`))
			return true
		}, []string{"stopped listing agents after 5, although its answers announced 41 more"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, fixtureAgents(t))
			f.agentsAnswer = tc.answer
			s := openFake(t, f, "secret", "page_size: 5\n")
			recs, err := fetch(t, s)
			if err == nil || recs != nil {
				t.Fatalf("recs %d, err %v", len(recs), err)
			}
			msg := err.Error()
			t.Log(msg)
			for _, w := range append(tc.want, "wazuh source wz") {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q: %s", w, msg)
				}
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	f := newFake(t, fixtureAgents(t))
	s := openFake(t, f, "secret", "page_size: 5\n")
	ctx, cancel := context.WithCancel(context.Background())
	f.agentsAnswer = func(w http.ResponseWriter, call int) bool {
		if call == 2 {
			cancel()
		}
		return false
	}
	recs, err := s.Fetch(ctx, nil)
	if recs != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("recs %d err %v", len(recs), err)
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("secret\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "bad.pem"), []byte("not a certificate"), 0o600)
	t.Setenv("WAZUH_TEST_PW", "secret")
	base := "name: wz\nkind: wazuh\n"
	cases := []struct {
		doc  string
		want string
	}{
		{"user: wazuh\npassword_file: pw\n", "url is not set"},
		{"url: https://h:55000\n", "no credentials"},
		{"url: https://h:55000\nuser: wazuh\n", "user wazuh has no password_file"},
		{"url: https://h:55000\npassword_env: WAZUH_TEST_PW\n", "user is not"},
		{"url: https://h:55000\nuser: wazuh\npassword_file: missing\n", "password_file"},
		{"url: https://h:55000\nuser: wazuh\npassword_file: pw\npassword_env: WAZUH_TEST_PW\n", "not both"},
		{"url: https://h:55000\nuser: wazuh\npassword_file: pw\ntoken_file: pw\n", "token_file"},
		{"url: h:55000\nuser: wazuh\npassword_file: pw\n", "no scheme"},
		{"url: https://u:p@h:55000\nuser: wazuh\npassword_file: pw\n", "must not hold a user"},
		{"url: https://h:55000\nuser: wazuh\npassword_file: pw\npage_size: 200000\n", "page_size 200000"},
		{"url: https://h:55000\nuser: wazuh\npassword_file: pw\ngroups: [web, '']\n", "groups[1] is empty"},
		{"url: https://h:55000\nuser: wazuh\npassword_file: pw\nproxy: '::nope'\n", "proxy is not a URL"},
		{"url: https://h:55000\nuser: wazuh\npassword_file: pw\nca: [bad.pem]\n", "no PEM certificate"},
		{"url: https://h:55000\nuser: wazuh\npassword_file: pw\ntimeout: soon\n", "not a duration"},
		{"url: https://h:55000\nuser: wazuh\npassword_file: pw\npage_sise: 10\n", `line 6: unknown key "page_sise"`},
	}
	for _, tc := range cases {
		_, err := openYAML(t, base+tc.doc, coverage.Env{Dir: dir})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.doc, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: the password is in the error: %v", tc.doc, err)
		}
	}
	if _, err := openYAML(t, base+"url: https://h:55000\nuser: wazuh\npassword_env: WAZUH_TEST_PW\nproxy: http://proxy:3128\npage_size: 100\ntimeout: 5s\n", coverage.Env{Dir: dir}); err != nil {
		t.Errorf("a good config: %v", err)
	}
	var stderr bytes.Buffer
	if _, err := openYAML(t, base+"url: https://h:55000\nuser: wazuh\npassword_file: pw\ninsecure: true\n", coverage.Env{Dir: dir, Stderr: &stderr}); err != nil ||
		!strings.Contains(stderr.String(), "NOT verified") {
		t.Errorf("insecure: err %v, warning %q", err, stderr.String())
	}
	if !slices.Contains(coverage.Kinds(), "wazuh") {
		t.Errorf("kinds %v lack wazuh", coverage.Kinds())
	}
}
