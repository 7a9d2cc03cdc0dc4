package zabbix_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/source/zabbix"
	"github.com/muster-project/muster/internal/coverage/source/zabbix/zbxtest"
)

// newSource builds a zabbix source for srv's URL, with password in a file.
func newSource(t *testing.T, srv *zbxtest.Server, user, password, extra string) coverage.Source {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf("name: zbx\nkind: zabbix\nurl: %s\nuser: %s\npassword_file: pw\n%s", srv.URL, user, extra)
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
	}
	src, err := zabbix.New(node.Content[0], coverage.Env{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := src.(coverage.Closer); ok {
		t.Cleanup(func() {
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	return src
}

func TestRealZabbix(t *testing.T) {
	srv := zbxtest.Open(t)
	start := time.Now()
	group := zbxtest.Unique("muster-e2e")
	gid := srv.CreateGroup(t, group)
	up := srv.CreateHost(t, gid, group+"-up", true)
	down := srv.CreateHost(t, gid, group+"-down", false)
	// Zabbix needs a config sync and a poll or two: about 30-60 s here.
	srv.WaitAvailability(t, up, "1", 3*time.Minute)
	srv.WaitPing(t, up, time.Minute)
	srv.WaitAvailability(t, down, "2", 3*time.Minute)
	t.Logf("Zabbix decided both hosts in %s", time.Since(start).Round(time.Second))

	src := newSource(t, srv, srv.User, srv.Password, fmt.Sprintf("groups: [%q]\n", group))
	before := time.Now()
	var lastDone, lastTotal int
	recs, err := src.Fetch(context.Background(), func(done, total int) { lastDone, lastTotal = done, total })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || lastDone != 2 || lastTotal != 2 {
		t.Fatalf("got %d records (progress %d/%d), want exactly the group's 2 hosts: %+v", len(recs), lastDone, lastTotal, recs)
	}
	byID := map[string]coverage.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	u, d := byID[up], byID[down]
	if u.Hostname != group+"-up" || u.State != zabbix.StateAvailable || !u.Healthy {
		t.Errorf("up host: %+v", u)
	}
	if u.LastSeen.IsZero() || u.LastSeen.After(time.Now()) || u.LastSeen.Before(start.Add(-time.Minute)) {
		t.Errorf("up host last seen %v, want since the test started (%v)", u.LastSeen, start)
	}
	if d.Hostname != group+"-down" || d.State != zabbix.StateUnavailable || d.Healthy || !d.LastSeen.IsZero() {
		t.Errorf("down host: %+v", d)
	}
	if d.Fields.Map()["error"] == "" || d.Fields.Map()["available"] != "2" {
		t.Errorf("down host fields %v, want the agent error", d.Fields.Map())
	}
	for _, r := range recs {
		if !slices.Equal(r.Groups, []string{group}) || r.Source != "zbx" || r.ReadAt.Before(before) {
			t.Errorf("record %s: groups %v source %q read at %v", r.ID, r.Groups, r.Source, r.ReadAt)
		}
		if r.Request != "POST "+srv.URL+" host.get" {
			t.Errorf("request %q", r.Request)
		}
	}
	t.Logf("the real e2e test took %s", time.Since(start).Round(time.Second))
}

func TestRealZabbixUnknownGroup(t *testing.T) {
	srv := zbxtest.Open(t)
	src := newSource(t, srv, srv.User, srv.Password, "groups: [muster-no-such-group]\n")
	_, err := src.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), `"Linux servers"`) {
		t.Fatalf("err = %v, want the known groups listed", err)
	}
}

func TestRealZabbixRefusedLogin(t *testing.T) {
	srv := zbxtest.Open(t)
	user := zbxtest.Unique("muster-refused")
	rightPassword := zbxtest.Unique("Pw0!x") // Zabbix refuses a password holding the user name
	uid := srv.CreateUser(t, user, rightPassword)
	src := newSource(t, srv, user, "wrong-password", "")
	_, err := src.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || !strings.Contains(err.Error(), "30 s") {
		t.Fatalf("err = %v, want a refused login that mentions the lockout", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error shows the password: %v", err)
	}
	var users []struct {
		AttemptFailed string `json:"attempt_failed"`
	}
	srv.Call(t, "user.get", map[string]any{"userids": []string{uid}, "output": []string{"attempt_failed"}}, &users)
	if len(users) != 1 || users[0].AttemptFailed != "1" {
		t.Errorf("Zabbix counted %+v failed logins, want exactly 1 (no retry)", users)
	}
	// The right password still works for this user (one failure locks nothing).
	ok := newSource(t, srv, user, rightPassword, "")
	if _, err := ok.Fetch(context.Background(), nil); err != nil {
		t.Errorf("the right password: %v", err)
	}
}
