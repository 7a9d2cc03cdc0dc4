package wazuh

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/coverage"
)

// seedFleet stores one agent in each state in the real server's registry,
// relative to its clock.
func seedFleet(t *testing.T, e *apitest.Env) {
	t.Helper()
	now := e.Clock.Now().Unix()
	key := func(i int) string { return strings.Repeat(fmt.Sprintf("%x", i), 64) }
	ubuntu := core.AgentOS{Name: core.Some("Ubuntu"), Version: core.Some("24.04.1 LTS"), Platform: core.Some("ubuntu")}
	agents := []core.Agent{
		{ID: 1, Name: "web-01", Key: key(1), RegisterIP: core.Some("any"), IP: core.Some("10.0.0.1"), OS: ubuntu,
			Version: core.Some("Wazuh v4.14.7"), DateAdd: now - 86400, LastKeepAlive: core.Some(now - 10), Groups: []string{"default", "web"},
			Status: core.AgentActive, GroupConfigStatus: core.ConfigSynced, NodeName: core.Some("node01")},
		{ID: 2, Name: "db-01", Key: key(2), RegisterIP: core.Some("any"), IP: core.Some("10.0.0.2"),
			OS:      core.AgentOS{Name: core.Some("Red Hat Enterprise Linux"), Version: core.Some("9.4"), Platform: core.Some("rhel")},
			Version: core.Some("Wazuh v4.14.7"), DateAdd: now - 86400, LastKeepAlive: core.Some(now - 3600), DisconnectionTime: now - 2700,
			Groups: []string{"default"}, Status: core.AgentDisconnected, StatusCode: core.StatusCodeNoKeepalive,
			GroupConfigStatus: core.ConfigSynced, NodeName: core.Some("node01")},
		{ID: 3, Name: "new-01", Key: key(3), RegisterIP: core.Some("any"), DateAdd: now - 7200,
			Status: core.AgentNeverConnected, GroupConfigStatus: core.ConfigNotSynced},
		{ID: 4, Name: "ws-01", Key: key(4), RegisterIP: core.Some("any"), IP: core.Some("10.0.0.4"),
			DateAdd: now - 600, LastKeepAlive: core.Some(now - 5), Groups: []string{"default"},
			Status: core.AgentPending, GroupConfigStatus: core.ConfigSynced, NodeName: core.Some("node01")},
		{ID: 5, Name: "mac-01", Key: key(5), RegisterIP: core.Some("any"), IP: core.Some("10.0.0.5"),
			OS:      core.AgentOS{Name: core.Some("macOS"), Version: core.Some("14.6.1"), Platform: core.Some("darwin")},
			Version: core.Some("Wazuh v4.14.7"), DateAdd: now - 86400, LastKeepAlive: core.Some(now - 300), Groups: []string{"default"},
			Status: core.AgentActive, GroupConfigStatus: core.ConfigSynced, NodeName: core.Some("node01")},
	}
	if err := e.Store.PutAgents(context.Background(), agents); err != nil {
		t.Fatal(err)
	}
}

// openServer builds a source on the real server from YAML, trusting its
// certificate through ca: like a user would.
func openServer(t *testing.T, e *apitest.Env, password, extra string) *Source {
	t.Helper()
	dir := t.TempDir()
	crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.Server.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "server.crt"), crt, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf("name: mgr\nkind: wazuh\nurl: %s\nuser: wazuh\npassword_file: pw\nca: [server.crt]\n%s", e.URL, extra)
	s, err := openYAML(t, doc, coverage.Env{Dir: dir, Now: e.Clock.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestRealServer(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	seedFleet(t, e)
	s := openServer(t, e, "wazuh", "page_size: 2\n")
	recs, err := fetch(t, s)
	if err != nil {
		t.Fatal(err)
	}
	now := e.Clock.Now().UTC()
	at := func(ago time.Duration) time.Time { return now.Add(-ago).Truncate(time.Second) }
	ts := func(ago time.Duration) string { return at(ago).Format(time.RFC3339) }
	want := []coverage.Record{
		{Source: "mgr", ID: "001", Hostname: "web-01", IPs: []string{"10.0.0.1"}, OS: "Ubuntu 24.04.1 LTS", Groups: []string{"default", "web"},
			State: "active", Healthy: true, LastSeen: at(10 * time.Second),
			Fields: coverage.FieldsOf(map[string]string{"status": "active", "name": "web-01", "ip": "10.0.0.1", "version": "Wazuh v4.14.7",
				"lastKeepAlive": ts(10 * time.Second), "dateAdd": ts(24 * time.Hour), "group": "default,web",
				"os.name": "Ubuntu", "os.version": "24.04.1 LTS", "os.platform": "ubuntu"})},
		{Source: "mgr", ID: "002", Hostname: "db-01", IPs: []string{"10.0.0.2"}, OS: "Red Hat Enterprise Linux 9.4", Groups: []string{"default"},
			State: "disconnected", LastSeen: at(time.Hour),
			Fields: coverage.FieldsOf(map[string]string{"status": "disconnected", "name": "db-01", "ip": "10.0.0.2", "version": "Wazuh v4.14.7",
				"lastKeepAlive": ts(time.Hour), "dateAdd": ts(24 * time.Hour), "disconnection_time": ts(45 * time.Minute), "group": "default",
				"os.name": "Red Hat Enterprise Linux", "os.version": "9.4", "os.platform": "rhel"})},
		{Source: "mgr", ID: "003", Hostname: "new-01", State: "never_connected",
			Fields: coverage.FieldsOf(map[string]string{"status": "never_connected", "name": "new-01", "ip": "any", "dateAdd": ts(2 * time.Hour)})},
		{Source: "mgr", ID: "004", Hostname: "ws-01", IPs: []string{"10.0.0.4"}, Groups: []string{"default"}, State: "pending", LastSeen: at(5 * time.Second),
			Fields: coverage.FieldsOf(map[string]string{"status": "pending", "name": "ws-01", "ip": "10.0.0.4", "lastKeepAlive": ts(5 * time.Second),
				"dateAdd": ts(10 * time.Minute), "group": "default"})},
		// Reported active, but silent for five minutes: the scanner calls it stale.
		{Source: "mgr", ID: "005", Hostname: "mac-01", IPs: []string{"10.0.0.5"}, OS: "macOS 14.6.1", Groups: []string{"default"},
			State: "stale", LastSeen: at(5 * time.Minute),
			Fields: coverage.FieldsOf(map[string]string{"status": "active", "name": "mac-01", "ip": "10.0.0.5", "version": "Wazuh v4.14.7",
				"lastKeepAlive": ts(5 * time.Minute), "dateAdd": ts(24 * time.Hour), "group": "default",
				"os.name": "macOS", "os.version": "14.6.1", "os.platform": "darwin"})},
	}
	for i := range recs {
		r := &recs[i]
		if !r.ReadAt.Equal(now) || !strings.HasPrefix(r.Request, "GET "+e.URL+"/agents?") || !strings.Contains(r.Request, "limit=2") {
			t.Errorf("%s: read at %v, request %q", r.ID, r.ReadAt, r.Request)
		}
		r.ReadAt, r.Request = time.Time{}, ""
	}
	if d := cmp.Diff(want, recs); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}

	// --watch: the next Fetch reuses the login.
	e.Clock.Advance(time.Minute)
	if _, err := fetch(t, s); err != nil {
		t.Fatal(err)
	}
	if s.Logins() != 1 {
		t.Errorf("logins after two fetches: %d, want 1", s.Logins())
	}
}

func TestRealServerConcurrentFetches(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	seedFleet(t, e)
	s := openServer(t, e, "wazuh", "page_size: 2\n")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	for range 6 {
		wg.Go(func() {
			recs, err := fetch(t, s)
			if err == nil && len(recs) != 5 {
				err = fmt.Errorf("%d records", len(recs))
			}
			if err != nil {
				mu.Lock()
				failures = append(failures, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 || s.Logins() != 1 {
		t.Errorf("failures %v, logins %d (want 1)", failures, s.Logins())
	}
}

func TestRealServerGroups(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	seedFleet(t, e)
	s := openServer(t, e, "wazuh", "groups: [web]\n")
	recs, err := fetch(t, s)
	if err != nil || len(recs) != 1 || recs[0].ID != "001" {
		t.Fatalf("recs %+v err %v", recs, err)
	}
	s = openServer(t, e, "wazuh", "groups: [webs]\n")
	if _, err := fetch(t, s); err == nil || !strings.Contains(err.Error(), `no Wazuh group named "webs"`) {
		t.Fatalf("err %v", err)
	}
}

func TestRealServerWrongPassword(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	seedFleet(t, e)
	s := openServer(t, e, "not-the-password", "")
	recs, err := fetch(t, s)
	if recs != nil || !errors.Is(err, connauth.ErrLoginRefused) || !errors.Is(err, client.ErrInvalidCredentials) ||
		!strings.Contains(err.Error(), "login refused") || strings.Contains(err.Error(), "not-the-password") {
		t.Fatalf("err = %v", err)
	}
	if s.Logins() != 1 {
		t.Errorf("logins %d", s.Logins())
	}
}

// Without ca: the server's self-signed certificate is refused.
func TestRealServerUntrusted(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("wazuh\n"), 0o600)
	s, err := openYAML(t, "name: mgr\nkind: wazuh\nurl: "+e.URL+"\nuser: wazuh\npassword_file: pw\n", coverage.Env{Dir: dir, Now: e.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if recs, err := fetch(t, s); recs != nil || err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("recs %d err %v", len(recs), err)
	}
}
