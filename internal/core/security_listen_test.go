package core_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/storetest"
)

func hasRole(n *core.Security, name string) bool {
	return slices.ContainsFunc(n.Roles(), func(r core.RoleInfo) bool { return r.Name == name })
}

// listenPID returns the backend holding a node's LISTEN connection (its
// last statement is the LISTEN or the connection check), or 0.
func listenPID(t *testing.T, db *sql.DB) int {
	t.Helper()
	var pid int
	err := db.QueryRow(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()
		AND query IN ('LISTEN muster_security', 'SELECT 1') AND pid <> pg_backend_pid() LIMIT 1`).Scan(&pid)
	if err == sql.ErrNoRows {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestSecurityChangesArePushed: with polling out of the picture (one poll an
// hour), a change on node A reaches node B through LISTEN/NOTIFY; when B's
// LISTEN connection is terminated it is re-established and changes reach B
// again.
func TestSecurityChangesArePushed(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var nodes [2]*core.Security
	for i := range nodes {
		nodes[i] = core.NewSecurity(core.SecurityOptions{Store: open(t, "postgres", dsn), Log: log,
			MaxStaleness: time.Hour})
		if err := nodes[i].Start(ctx, core.InitialPasswords{}); err != nil {
			t.Fatal(err)
		}
	}
	a, b := nodes[0], nodes[1]
	watch(t, b, time.Hour)
	eventually(t, "B listens", b.Listening)
	if _, err := a.CreateRole(ctx, "pushed-1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B has A's role", func() bool { return hasRole(b, "pushed-1") })

	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pid int
	eventually(t, "B's LISTEN backend is seen", func() bool { pid = listenPID(t, db); return pid != 0 })
	if _, err := db.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B listens again on a new connection", func() bool {
		p := listenPID(t, db)
		return p != 0 && p != pid && b.Listening()
	})
	if _, err := a.CreateRole(ctx, "pushed-2"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B has A's role made after the reconnection", func() bool { return hasRole(b, "pushed-2") })
}

// BenchmarkSecurityPropagation measures, on PostgreSQL, how long a security
// change made on node A takes to be effective on node B, which watches the
// store as `muster server` does (notifications, and a poll every second): a
// token B accepted is refused on B after A revokes it (logout), after a
// change of its user (run_as) and after a change of its roles. It reports
// the p50, p99 and worst case in milliseconds. Run it with
//
//	MUSTER_TEST_POSTGRES=postgres://... go test -run '^$' -bench SecurityPropagation -benchtime 300x ./internal/core/
func BenchmarkSecurityPropagation(b *testing.B) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(b)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var nodes [2]*core.Security
	for i := range nodes {
		s, err := sqlstore.Open(ctx, "postgres", dsn)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		nodes[i] = core.NewSecurity(core.SecurityOptions{Store: s, Log: log})
		if err := nodes[i].Start(ctx, core.InitialPasswords{}); err != nil {
			b.Fatal(err)
		}
	}
	na, nb := nodes[0], nodes[1]
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { nb.Watch(wctx, time.Second); close(done) }()
	defer func() { cancel(); <-done }()
	if _, err := na.CreateUser(ctx, "bench", "Bench-Pass1!"); err != nil {
		b.Fatal(err)
	}
	changes := []func(i int, tok string) error{
		func(_ int, tok string) error { // revocation
			sess, err := na.Authenticate(tok)
			if err != nil {
				return err
			}
			return na.Logout(ctx, sess)
		},
		func(i int, _ string) error { // user change
			_, err := na.SetRunAs(ctx, 100, i%2 == 0)
			return err
		},
		func(i int, _ string) error { // role change
			if i%2 == 0 {
				_, err := na.LinkUserRoles(ctx, 100, []int{1}, nil)
				return err
			}
			_, err := na.UnlinkUserRoles(ctx, 100, core.Selection{IDs: []int{1}})
			return err
		},
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tok, err := nb.Login(ctx, "bench", "Bench-Pass1!")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := nb.Authenticate(tok); err != nil {
			b.Fatalf("B refused its own fresh token: %v", err)
		}
		b.StartTimer()
		t0 := time.Now()
		if err := changes[i%len(changes)](i/len(changes), tok); err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := nb.Authenticate(tok); err != nil {
				break
			}
			if time.Since(t0) > 30*time.Second { // a hang guard
				ua, _ := na.UserByID(100)
				ub, _ := nb.UserByID(100)
				b.Fatalf("change %d: B still accepts the token after 30 s (A: %+v, B: %+v, gen %d, listening %v)", i, ua, ub, nb.Generation(), nb.Listening())
			}
			time.Sleep(50 * time.Microsecond)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
	b.Logf("%d changes: p50 %.2f ms, p99 %.2f ms, max %.2f ms (ns/op: a change and its propagation)",
		len(lat), q(0.5), q(0.99), q(1))
}
