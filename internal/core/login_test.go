package core

import (
	"context"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/auth"
)

// TestHashYieldsToTokenTraffic: while tokens are being checked, password
// work is limited to half the pool; a cancelled wait never counts as a
// successful check.
func TestHashYieldsToTokenTraffic(t *testing.T) {
	s := &Security{pool: auth.NewPool(2), busyPool: auth.NewPool(1)}
	s.lastAPI.Store(monotonic())
	hold, entered := make(chan struct{}), make(chan struct{})
	go s.hash(context.Background(), func() { close(entered); <-hold })
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	ran := false
	if err := s.hash(ctx, func() { ran = true }); err == nil || ran {
		t.Fatalf("a second hash ran beside the first while tokens were busy (err %v, ran %v)", err, ran)
	}
	// Without recent token traffic both slots are used.
	s.lastAPI.Store(monotonic() - int64(time.Second))
	if err := s.hash(context.Background(), func() { ran = true }); err != nil || !ran {
		t.Fatalf("idle API: hash did not run: %v", err)
	}
	close(hold)
}
