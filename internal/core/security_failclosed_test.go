package core_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/testclock"
)

var errCut = errors.New("test: the database is out of reach")

// cuttable is a node's store whose security reads and writes fail while cut.
type cuttable struct {
	*sqlstore.Store
	cut atomic.Bool
}

func (c *cuttable) LoadSecurity(ctx context.Context) (*core.SecurityData, error) {
	if c.cut.Load() {
		return nil, errCut
	}
	return c.Store.LoadSecurity(ctx)
}

func (c *cuttable) SecurityVersion(ctx context.Context) (int64, error) {
	if c.cut.Load() {
		return 0, errCut
	}
	return c.Store.SecurityVersion(ctx)
}

func (c *cuttable) UpdateSecurity(ctx context.Context, fn func(core.SecurityTx) error) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Store.UpdateSecurity(ctx, fn)
}

func unconfirmed(err error) bool {
	var e *core.Error
	return errors.As(err, &e) && e.HTTPStatus() == 503
}

// watch runs n.Watch until the test ends.
func watch(t *testing.T, n *core.Security, every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Watch(ctx, every); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// eventually waits for cond, guarding against a hang (not a timing assertion).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 30 s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestFailClosedWhenTheStoreIsOutOfReach is the reported case on SQLite:
// node B loses its store while node A revokes a token and changes a
// password. Within the staleness bound B serves what it knew but refuses
// logins; past it B refuses every token with the 503; once the store is
// back B has taken in what it missed before it serves again.
func TestFailClosedWhenTheStoreIsOutOfReach(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/muster.db"
	clock := testclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	stale := testclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := core.NewSecurity(core.SecurityOptions{Store: open(t, "sqlite", path), Now: clock.Now, Log: log})
	bs := &cuttable{Store: open(t, "sqlite", path)}
	b := core.NewSecurity(core.SecurityOptions{Store: bs, Now: clock.Now, StaleNow: stale.Now, Log: log,
		MaxStaleness: 5 * time.Second})
	for _, n := range []*core.Security{a, b} {
		if err := n.Start(ctx, core.InitialPasswords{}); err != nil {
			t.Fatal(err)
		}
	}
	watch(t, b, 5*time.Millisecond)
	if _, err := a.CreateUser(ctx, "scripted", "Script-Pass1!"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second + 100*time.Millisecond)
	// A login is confirmed with the store: B knows the new user at once.
	old, err := b.Login(ctx, "scripted", "Script-Pass1!")
	if err != nil {
		t.Fatalf("login on B right after the user was made on A: %v", err)
	}
	other, err := b.Login(ctx, "wazuh-wui", "wazuh-wui")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)

	bs.cut.Store(true)
	if _, err := b.Authenticate(old); err != nil {
		t.Fatalf("within the staleness bound B must serve what it knew: %v", err)
	}
	if _, err := b.Login(ctx, "scripted", "Script-Pass1!"); !unconfirmed(err) {
		t.Fatalf("login on B while its store is out of reach: %v, want the 503", err)
	}
	sess, err := a.Authenticate(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Logout(ctx, sess); err != nil {
		t.Fatal(err)
	}
	pw := "Script-Pass2!"
	if _, err := a.UpdatePassword(ctx, nil, 100, &pw); err != nil {
		t.Fatal(err)
	}
	stale.Advance(5*time.Second + time.Millisecond)
	for name, tok := range map[string]string{"revoked on A": other, "issued before the password change": old} {
		if _, err := b.Authenticate(tok); !unconfirmed(err) {
			t.Errorf("B past the staleness bound, token %s: %v, want the 503", name, err)
		}
	}

	bs.cut.Store(false)
	eventually(t, "B confirms its state again", func() bool {
		_, err := b.Authenticate(other)
		return !unconfirmed(err)
	})
	for name, n := range map[string]*core.Security{"A": a, "B": b} {
		if _, err := n.Authenticate(other); !errors.Is(err, core.ErrInvalidToken) {
			t.Errorf("%s: token revoked by A while B was cut off: %v", name, err)
		}
		if _, err := n.Authenticate(old); !errors.Is(err, core.ErrInvalidToken) {
			t.Errorf("%s: token B issued with the old password: %v", name, err)
		}
	}
	if _, err := b.Login(ctx, "scripted", "Script-Pass1!"); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("B: old password after the store came back: %v", err)
	}
	if _, err := b.Login(ctx, "scripted", pw); err != nil {
		t.Errorf("B: new password: %v", err)
	}
}

// TestAloneANodeDoesNotFailClosed: without a Watch (a single node on its
// own store) nothing else can change the state, so staleness does not apply.
func TestAloneANodeDoesNotFailClosed(t *testing.T) {
	ctx := context.Background()
	stale := testclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	s := &cuttable{Store: open(t, "sqlite", t.TempDir()+"/muster.db")}
	n := core.NewSecurity(core.SecurityOptions{Store: s, StaleNow: stale.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := n.Start(ctx, core.InitialPasswords{}); err != nil {
		t.Fatal(err)
	}
	if n.MaxStaleness() != core.DefaultMaxStaleness {
		t.Errorf("default staleness bound %v, want %v", n.MaxStaleness(), core.DefaultMaxStaleness)
	}
	tok, err := n.Login(ctx, "wazuh", "wazuh")
	if err != nil {
		t.Fatal(err)
	}
	s.cut.Store(true)
	stale.Advance(time.Hour)
	if _, err := n.Authenticate(tok); err != nil {
		t.Errorf("a node without Watch refused a token: %v", err)
	}
	if _, err := n.Login(ctx, "wazuh", "wazuh"); err != nil {
		t.Errorf("a node without Watch refused a login: %v", err)
	}
}
