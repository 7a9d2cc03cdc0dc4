package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/auth"
	"github.com/muster-project/muster/internal/core"
)

// LoginAttempts runs the conformance suite for auth.LoginAttemptStore.
// open returns two handles on one fresh database, as two nodes have.
func LoginAttempts(t *testing.T, open func(t *testing.T) (a, b auth.LoginAttemptStore)) {
	ctx := context.Background()
	t0 := time.Unix(1_700_000_000, 123)
	const window = 300 * time.Second
	const ip = "192.0.2.1"
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	want := func(t *testing.T, s auth.LoginAttemptStore, key string, now time.Time, first time.Time, n int) {
		t.Helper()
		f, got, ok, err := s.LoginFailures(ctx, key, now, window)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			if ok {
				t.Fatalf("%s at %v: window open since %v with %d failures, want none", key, now, f, got)
			}
			return
		}
		if !ok || got != n || !f.Equal(first) {
			t.Fatalf("%s at %v: ok=%v first=%v n=%d, want first=%v n=%d", key, now, ok, f, got, first, n)
		}
	}
	fail := func(t *testing.T, s auth.LoginAttemptStore, key string, now time.Time) {
		t.Helper()
		if err := s.LoginFailed(ctx, key, now, window); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("window opens at the first failure and is not extended", func(t *testing.T) {
		a, b := open(t)
		want(t, a, ip, at(0), time.Time{}, 0)
		fail(t, a, ip, at(0))
		fail(t, b, ip, at(10*time.Second))
		want(t, a, ip, at(20*time.Second), at(0), 2)
		want(t, b, ip, at(window-time.Nanosecond), at(0), 2)
		want(t, b, ip, at(window), time.Time{}, 0) // ended at first failure + window
		fail(t, b, ip, at(window))
		want(t, a, ip, at(window), at(window), 1)
		want(t, a, "198.51.100.7", at(window), time.Time{}, 0)
	})
	t.Run("ended windows are forgotten", func(t *testing.T) {
		a, b := open(t)
		fail(t, a, "10.0.0.1", at(0))
		fail(t, b, "10.0.0.2", at(2*window))
		// A failure long after 10.0.0.1's window ended deleted that row:
		// even read at its own time it is gone.
		want(t, a, "10.0.0.1", at(0), time.Time{}, 0)
		fail(t, a, "10.0.0.2", at(2*window+time.Second))
		want(t, b, "10.0.0.2", at(2*window+time.Second), at(2*window), 2)
	})
	t.Run("nodes failing at once all count", func(t *testing.T) {
		a, b := open(t)
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.LoginFailed(ctx, ip, at(time.Duration(i)*time.Millisecond), window)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		_, n, ok, err := a.LoginFailures(ctx, ip, at(time.Second), window)
		if err != nil || !ok || n != 40 {
			t.Fatalf("after 40 concurrent failures over two handles: n=%d ok=%v err=%v", n, ok, err)
		}
	})
}

// SecurityNotifications runs the conformance suite for core.SecurityNotifier
// on a store that pushes changes: open returns two handles on one fresh
// database. A listener on b hears every security write committed through a,
// with the version it committed, and nothing of a rolled-back one.
func SecurityNotifications(t *testing.T, open func(t *testing.T) (a, b core.SecurityStore)) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b := open(t)
	n, ok := b.(core.SecurityNotifier)
	if !ok {
		t.Fatal("the store does not implement core.SecurityNotifier")
	}
	ready := make(chan struct{})
	got := make(chan int64, 16)
	done := make(chan error, 1)
	go func() {
		done <- n.ListenSecurity(ctx, func() { close(ready) }, func(v int64) { got <- v })
	}()
	wait := func(what string, c <-chan struct{}) {
		t.Helper()
		select {
		case <-c:
		case err := <-done:
			t.Fatalf("%s: the listener ended: %v", what, err)
		case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
			t.Fatalf("%s: nothing after 30 s", what)
		}
	}
	wait("LISTEN", ready)
	write := func(name string, fail bool) int64 {
		t.Helper()
		err := a.UpdateSecurity(ctx, func(tx core.SecurityTx) error {
			if _, err := tx.InsertRole(core.Role{Name: name}); err != nil {
				return err
			}
			if fail {
				return errors.New("roll back")
			}
			return nil
		})
		if fail != (err != nil) {
			t.Fatalf("write %s: %v", name, err)
		}
		v, err := a.SecurityVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	write("rolled-back", true)
	for i := range 3 {
		v := write(fmt.Sprint("role", i), false)
		c := make(chan struct{})
		var heard int64
		go func() {
			select {
			case heard = <-got:
				close(c)
			case <-ctx.Done():
			}
		}()
		wait("notification", c)
		if heard != v {
			t.Fatalf("heard version %d, want %d (a rolled-back write must not be heard)", heard, v)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("listener ended with %v, want context.Canceled", err)
	}
}

// NoSecurityNotifications checks a store without notifications says so, so
// watchers fall back to polling.
func NoSecurityNotifications(t *testing.T, s core.SecurityStore) {
	n, ok := s.(core.SecurityNotifier)
	if !ok {
		return
	}
	err := n.ListenSecurity(context.Background(), func() { t.Error("ready called") }, func(int64) {})
	if !errors.Is(err, core.ErrNotifyUnsupported) {
		t.Fatalf("ListenSecurity: %v, want core.ErrNotifyUnsupported", err)
	}
}
