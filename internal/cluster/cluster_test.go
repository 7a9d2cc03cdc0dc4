package cluster_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/cluster"
	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/storetest"
	"github.com/muster-project/muster/internal/testclock"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// stores runs fn on SQLite and on PostgreSQL (when MUSTER_TEST_POSTGRES is
// set), each with a fresh database opened once per node.
func stores(t *testing.T, fn func(t *testing.T, open func() *sqlstore.Store)) {
	run := func(t *testing.T, driver, dsn string) {
		fn(t, func() *sqlstore.Store {
			s, err := sqlstore.Open(context.Background(), driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	}
	t.Run("sqlite", func(t *testing.T) { run(t, "sqlite", filepath.Join(t.TempDir(), "muster.db")) })
	t.Run("postgres", func(t *testing.T) { run(t, "postgres", storetest.PostgresDSN(t)) })
}

func node(st cluster.Store, name string, clock *testclock.Clock, onMaster func(bool)) *cluster.Node {
	return cluster.New(cluster.Options{Store: st, Name: name, Address: "https://" + name + ":55000",
		Version: "4.14.7", Now: clock.Now, Log: quiet, OnMaster: onMaster})
}

func names(t *testing.T, n *cluster.Node) string {
	t.Helper()
	ms, err := n.Members(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Name+"/"+m.Type())
	}
	return strings.Join(out, " ")
}

// Three nodes on one store: one master; the master killed without
// cleanup (its store closed, no more heartbeats), another takes over once
// the lease ends, and the dead node leaves the live list.
func TestMasterFailover(t *testing.T) {
	stores(t, func(t *testing.T, open func() *sqlstore.Store) {
		ctx := context.Background()
		clock := testclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
		stA := open()
		var flips []bool
		a := node(stA, "node01", clock, func(m bool) { flips = append(flips, m) })
		b := node(open(), "node02", clock, nil)
		c := node(open(), "node03", clock, nil)
		for _, n := range []*cluster.Node{a, b, c} {
			if err := n.Tick(ctx); err != nil {
				t.Fatal(err)
			}
		}
		a.Tick(ctx) // everyone's view of the lease is current after one more round
		b.Tick(ctx)
		c.Tick(ctx)
		if !a.IsMaster() || b.IsMaster() || c.IsMaster() {
			t.Fatalf("masters: %v %v %v", a.IsMaster(), b.IsMaster(), c.IsMaster())
		}
		want := "node01/master node02/worker node03/worker"
		if got := names(t, b); got != want {
			t.Fatalf("members on node02: %s, want %s", got, want)
		}

		// node01 dies: no Leave, its connection gone.
		stA.Close()
		for i := 0; i < 4; i++ { // 4 s: its lease (5 s) still holds
			clock.Advance(time.Second)
			b.Tick(ctx)
			c.Tick(ctx)
			if b.IsMaster() || c.IsMaster() {
				t.Fatalf("a new master at +%ds while the lease holds", i+1)
			}
		}
		if err := a.Tick(ctx); err == nil {
			t.Fatal("a heartbeat on a closed store succeeded")
		}
		clock.Advance(2 * time.Second) // the lease and the heartbeat are 6 s old
		if a.IsMaster() {
			t.Fatal("the cut-off node still acts as master after its lease ended")
		}
		a.Tick(ctx) // its next round fails again and says it lost the lease
		b.Tick(ctx)
		c.Tick(ctx)
		if !b.IsMaster() || c.IsMaster() {
			t.Fatalf("after the failover: node02 master %v, node03 master %v", b.IsMaster(), c.IsMaster())
		}
		if got := names(t, c); got != "node02/master node03/worker" {
			t.Fatalf("members on node03 after the failover: %s", got)
		}
		if len(flips) != 2 || !flips[0] || flips[1] {
			t.Fatalf("node01's master changes: %v", flips)
		}

		// A clean stop hands the lease over at the next heartbeat.
		b.Leave()
		c.Tick(ctx)
		if !c.IsMaster() {
			t.Fatal("node03 did not take over after node02 left")
		}
		if got := names(t, c); got != "node03/master" {
			t.Fatalf("members after node02 left: %s", got)
		}
	})
}

// A second process with a running node's name stays out.
func TestNameTaken(t *testing.T) {
	stores(t, func(t *testing.T, open func() *sqlstore.Store) {
		ctx := context.Background()
		clock := testclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
		a := node(open(), "node01", clock, nil)
		dup := node(open(), "node01", clock, nil)
		if err := a.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if err := dup.Tick(ctx); !errors.Is(err, cluster.ErrNameTaken) {
			t.Fatalf("duplicate name: %v", err)
		}
		if dup.IsMaster() || dup.Joined() {
			t.Fatal("the duplicate joined")
		}
		// Once the first one's heartbeat is stale, the name is free again.
		clock.Advance(6 * time.Second)
		if err := dup.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if !dup.IsMaster() {
			t.Fatal("the restarted node did not take the ended lease")
		}
	})
}

// Signed calls: the peer verifies the request, the caller the reply; a
// tampered request or an unsigned answer is refused.
func TestSignedCalls(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	st, err := sqlstore.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "muster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := node(st, "node01", clock, nil)
	b := node(st, "node02", clock, nil)
	a.Tick(ctx)
	b.Tick(ctx)
	var verified []bool
	sign := true
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := b.Verify(r, nil)
		verified = append(verified, ok)
		body := []byte(`{"ok": true}`)
		if sign {
			w.Header().Set(cluster.HeaderReply, b.SignReply(r, 200, body))
		}
		w.Write(body)
	}))
	defer ts.Close()
	peer := cluster.Member{Record: cluster.Record{Name: "node02", Address: ts.URL,
		CertSHA256: cluster.CertDigest(&ts.TLS.Certificates[0])}}
	h := http.Header{"Authorization": {"Bearer tok"}}
	rep, err := a.Call(ctx, peer, "GET", "/cluster/node02/logs?limit=1", h, nil)
	if err != nil || string(rep.Body) != `{"ok": true}` || !verified[0] {
		t.Fatalf("signed call: %v %v %v", rep, err, verified)
	}
	// Addressed to another node: the peer does not take it as a cluster call.
	other := peer
	other.Name = "node03"
	a.Call(ctx, other, "GET", "/x", h, nil)
	if verified[1] {
		t.Fatal("a call addressed to node03 verified on node02")
	}
	// Too old.
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set(cluster.HeaderTo, "node02")
	req.Header.Set(cluster.HeaderTime, "1")
	req.Header.Set(cluster.HeaderSignature, "00")
	if b.Verify(req, nil) {
		t.Fatal("a forged request verified")
	}
	// An answer without the reply signature is not the peer's.
	sign = false
	if _, err := a.Call(ctx, peer, "GET", "/cluster/node02/logs", h, nil); !errors.Is(err, cluster.ErrUnreachable) {
		t.Fatalf("unsigned answer: %v", err)
	}
	// A certificate other than the registered one is refused.
	sign = true
	peer.CertSHA256 = strings.Repeat("0", 64)
	if _, err := a.Call(ctx, peer, "GET", "/cluster/node02/logs", h, nil); !errors.Is(err, cluster.ErrUnreachable) {
		t.Fatalf("wrong certificate: %v", err)
	}
}
