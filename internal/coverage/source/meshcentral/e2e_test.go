package meshcentral_test

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
	"github.com/muster-project/muster/internal/coverage/source/meshcentral"
	"github.com/muster-project/muster/internal/coverage/source/meshcentral/meshtest"
)

// newSource builds a meshcentral source for srv, with password in a file.
func newSource(t *testing.T, srv *meshtest.Server, user, password, extra string) coverage.Source {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The recipe's server has a self-signed certificate.
	doc := fmt.Sprintf("name: mc\nkind: meshcentral\nurl: %s\nuser: %q\npassword_file: pw\ninsecure: true\n%s", srv.URL, user, extra)
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
	}
	src, err := meshcentral.New(node.Content[0], coverage.Env{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := src.(coverage.Closer).Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return src
}

func TestRealMeshCentral(t *testing.T) {
	srv := meshtest.Open(t)
	start := time.Now()
	group := meshtest.Unique("muster-e2e")
	meshID := srv.CreateGroup(t, group)
	upName, downName := group+"-up", group+"-down"
	srv.StartAgent(t, meshID, upName)
	down := srv.StartAgent(t, meshID, downName)
	upID := srv.WaitOnline(t, meshID, upName, true, 2*time.Minute)
	downID := srv.WaitOnline(t, meshID, downName, true, 2*time.Minute)
	src := newSource(t, srv, srv.User, srv.Password, fmt.Sprintf("groups: [%q]\n", group))

	// An agent reports its interfaces a moment after it connects.
	deadline := time.Now().Add(time.Minute)
	for {
		recs, err := src.Fetch(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 2 && len(recs[0].MACs) > 0 && len(recs[1].MACs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agents reported no MACs within a minute: %+v", recs)
		}
		time.Sleep(time.Second)
	}
	down.Stop(t)
	stopped := time.Now()
	srv.WaitOnline(t, meshID, downName, false, time.Minute)
	t.Logf("two agents up and one stopped in %s", time.Since(start).Round(time.Second))

	before := time.Now()
	var lastDone, lastTotal int
	recs, err := src.Fetch(context.Background(), func(done, total int) { lastDone, lastTotal = done, total })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || lastDone != 2 || lastTotal != 2 {
		t.Fatalf("got %d records (progress %d/%d), want exactly the group's 2 devices: %+v", len(recs), lastDone, lastTotal, recs)
	}
	byID := map[string]coverage.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	u, d := byID[upID], byID[downID]
	if u.Hostname != upName || u.State != meshcentral.StateOnline || !u.Healthy || !u.LastSeen.Equal(u.ReadAt) || u.Fields.Map()["conn"] == "" {
		t.Errorf("online device: %+v", u)
	}
	if d.Hostname != downName || d.State != meshcentral.StateOffline || d.Healthy {
		t.Errorf("stopped device: %+v", d)
	}
	if d.LastSeen.Before(start.Add(-5*time.Second)) || d.LastSeen.After(stopped.Add(5*time.Second)) {
		t.Errorf("stopped device last seen %v, want between the test's start %v and the stop %v", d.LastSeen, start, stopped)
	}
	for _, r := range recs {
		if len(r.MACs) == 0 || slices.Contains(r.MACs, "00:00:00:00:00:00") || r.OS == "" {
			t.Errorf("device %s: MACs %v OS %q", r.Hostname, r.MACs, r.OS)
		}
		if !slices.Equal(r.Groups, []string{group}) || r.Source != "mc" || r.ReadAt.Before(before) ||
			!strings.HasSuffix(r.Request, `/control.ashx {"action":"nodes"}`) {
			t.Errorf("device %s: groups %v source %q read at %v request %q", r.Hostname, r.Groups, r.Source, r.ReadAt, r.Request)
		}
	}
	// The same agents share the machine's interfaces: the duplicate a real
	// fleet has when a machine is enrolled twice.
	if !slices.Equal(u.MACs, d.MACs) {
		t.Logf("MACs differ: %v / %v", u.MACs, d.MACs)
	}
	t.Logf("the real e2e test took %s", time.Since(start).Round(time.Second))
}

func TestRealMeshCentralLoginToken(t *testing.T) {
	srv := meshtest.Open(t)
	user, password := srv.CreateLoginToken(t, meshtest.Unique("muster-e2e"))
	src := newSource(t, srv, user, password, "")
	if _, err := src.Fetch(context.Background(), nil); err != nil {
		t.Fatalf("a login token: %v", err)
	}
}

func TestRealMeshCentralRefusedLogin(t *testing.T) {
	srv := meshtest.Open(t)
	// One bad login: ten in ten minutes would ban the whole /24.
	src := newSource(t, srv, srv.User, "wrong-password", "")
	_, err := src.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || errors.Is(err, meshcentral.ErrBanned) {
		t.Fatalf("err = %v, want a refused login", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error shows the password: %v", err)
	}
}
