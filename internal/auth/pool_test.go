package auth

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestPool(t *testing.T) {
	t.Run("bounds concurrency", func(t *testing.T) {
		p := NewPool(2)
		var running, peak, entered atomic.Int32
		release := make(chan struct{})
		var started sync.WaitGroup
		var wg sync.WaitGroup
		started.Add(2)
		for range 6 {
			wg.Go(func() {
				err := p.Do(context.Background(), func() {
					n := running.Add(1)
					for {
						m := peak.Load()
						if n <= m || peak.CompareAndSwap(m, n) {
							break
						}
					}
					if entered.Add(1) <= 2 {
						started.Done() // the first two jobs are in
					}
					<-release
					running.Add(-1)
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		started.Wait()
		close(release)
		wg.Wait()
		if peak.Load() != 2 {
			t.Errorf("peak concurrency = %d, want 2", peak.Load())
		}
	})

	t.Run("context ends while waiting", func(t *testing.T) {
		p := NewPool(1)
		hold, held := make(chan struct{}), make(chan struct{})
		go p.Do(context.Background(), func() { close(held); <-hold })
		<-held
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error)
		ran := false
		go func() { errc <- p.Do(ctx, func() { ran = true }) }()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) || ran {
			t.Errorf("Do = %v, ran = %v; want context.Canceled without running", err, ran)
		}
		close(hold)
	})

	t.Run("cancelled context does not run", func(t *testing.T) {
		p := NewPool(0) // treated as 1
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ran := false
		if err := p.Do(ctx, func() { ran = true }); err == nil || ran {
			t.Errorf("Do = %v, ran = %v", err, ran)
		}
		if err := p.Do(context.Background(), func() { ran = true }); err != nil || !ran {
			t.Errorf("Do after cancel = %v, ran = %v", err, ran)
		}
	})
}
