package core_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/storetest"
	"github.com/muster-project/muster/internal/testclock"
)

// TestExactRevocationAcrossNodes: three nodes share one store. A changes a
// user's password; B and C take the change in; B issues a token in the same
// second, which records it; C, which has not polled since, accepts it at once
// (a token refused by a row of its own second makes it check the store) and
// every node refuses the token issued before the change.
func TestExactRevocationAcrossNodes(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := t.TempDir() + "/muster.db"
		exactAcrossNodes(t, func() *sqlstore.Store { return open(t, "sqlite", path) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		exactAcrossNodes(t, func() *sqlstore.Store { return open(t, "postgres", dsn) })
	})
}

func open(t *testing.T, driver, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func exactAcrossNodes(t *testing.T, store func() *sqlstore.Store) {
	ctx := context.Background()
	clock := testclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var nodes [3]*core.Security
	for i := range nodes {
		nodes[i] = core.NewSecurity(core.SecurityOptions{Store: store(), Now: clock.Now, Log: log})
		if err := nodes[i].Start(ctx, core.InitialPasswords{}); err != nil {
			t.Fatal(err)
		}
	}
	a, b, c := nodes[0], nodes[1], nodes[2]
	if _, err := a.CreateUser(ctx, "scripted", "Script-Pass1!"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second + 100*time.Millisecond)
	for _, n := range []*core.Security{b, c} {
		reloadNow(t, n)
	}
	old, err := b.Login(ctx, "scripted", "Script-Pass1!")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Authenticate(old); err != nil {
		t.Fatalf("token before any change: %v", err)
	}
	clock.Advance(100 * time.Millisecond)
	pw := "Script-Pass2!"
	if _, err := a.UpdatePassword(ctx, nil, 100, &pw); err != nil {
		t.Fatal(err)
	}
	reloadNow(t, b)
	reloadNow(t, c)
	clock.Advance(100 * time.Millisecond)
	fresh, err := b.Login(ctx, "scripted", pw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Authenticate(fresh); err != nil {
		t.Errorf("node C refused a token issued after the change in its second: %v", err)
	}
	for i, n := range nodes {
		if _, err := n.Authenticate(old); !errors.Is(err, core.ErrInvalidToken) {
			t.Errorf("node %d: token issued before the change: %v", i, err)
		}
		if _, err := n.Authenticate(fresh); err != nil {
			t.Errorf("node %d: token issued after the change: %v", i, err)
		}
	}
}

// reloadNow makes a node take in other nodes' writes as its Watch would.
func reloadNow(t *testing.T, n *core.Security) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	before := n.Generation()
	done := make(chan struct{})
	go func() { n.Watch(ctx, time.Millisecond); close(done) }()
	for n.Generation() == before {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
}
