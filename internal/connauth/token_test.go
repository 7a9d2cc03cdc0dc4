package connauth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// logins is a Login that counts its calls and issues tok-1, tok-2, ...
type logins struct {
	n      atomic.Int32
	clock  *clock
	life   time.Duration // 0: no expiry
	before func(n int) error
}

func (l *logins) Login(ctx context.Context) (Token, error) {
	n := int(l.n.Add(1))
	if l.before != nil {
		if err := l.before(n); err != nil {
			return Token{}, err
		}
	}
	tok := Token{Value: fmt.Sprintf("tok-%d", n)}
	if l.life != 0 {
		tok.Expiry = l.clock.Now().Add(l.life)
	}
	return tok, nil
}

// waitingCtx counts the callers of Done: Get calls it only once it has joined
// a login in flight, so a Login can wait until every caller is waiting.
type waitingCtx struct {
	context.Context
	n *atomic.Int32
}

func (c waitingCtx) Done() <-chan struct{} {
	c.n.Add(1)
	return c.Context.Done()
}

func mustGet(t *testing.T, c *TokenCache, want string) {
	t.Helper()
	tok, err := c.Get(context.Background())
	if err != nil || tok.Value != want {
		t.Fatalf("Get = %q, %v; want %q", tok.Value, err, want)
	}
}

func TestTokenCacheSingleFlight(t *testing.T) {
	const n = 50
	var waiting atomic.Int32
	l := &logins{before: func(int) error {
		// Hold the login until every caller waits for it.
		for waiting.Load() < n {
			runtime.Gosched()
		}
		return nil
	}}
	c := &TokenCache{Login: l.Login}
	var wg sync.WaitGroup
	toks := make([]Token, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			toks[i], errs[i] = c.Get(waitingCtx{context.Background(), &waiting})
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || toks[i].Value != "tok-1" {
			t.Errorf("caller %d: %q, %v", i, toks[i].Value, errs[i])
		}
	}
	if got := l.n.Load(); got != 1 || c.Logins() != 1 {
		t.Errorf("%d concurrent Gets ran %d logins (Logins() %d), want 1", n, got, c.Logins())
	}
	mustGet(t, c, "tok-1")
	if l.n.Load() != 1 {
		t.Error("a cached token was not reused")
	}
}

func TestTokenCacheRenewsRefreshLeadBeforeExpiry(t *testing.T) {
	clk := newClock()
	l := &logins{clock: clk, life: 10 * time.Minute}
	c := &TokenCache{Login: l.Login, Now: clk.Now}
	mustGet(t, c, "tok-1")
	clk.Advance(10*time.Minute - RefreshLead - time.Second)
	mustGet(t, c, "tok-1")
	clk.Advance(time.Second) // exactly RefreshLead before expiry
	mustGet(t, c, "tok-2")
	if c.Logins() != 2 {
		t.Errorf("%d logins, want 2", c.Logins())
	}
	clk.Advance(time.Minute)
	mustGet(t, c, "tok-2") // the new token counts from its own expiry
}

func TestTokenCacheRenewsAtHalfLifeWhenShorter(t *testing.T) {
	clk := newClock()
	l := &logins{clock: clk, life: 100 * time.Second}
	c := &TokenCache{Login: l.Login, Now: clk.Now}
	mustGet(t, c, "tok-1")
	clk.Advance(49 * time.Second)
	mustGet(t, c, "tok-1")
	clk.Advance(time.Second)
	mustGet(t, c, "tok-2")
}

func TestTokenCacheWithoutExpiryIsKept(t *testing.T) {
	clk := newClock()
	l := &logins{clock: clk}
	c := &TokenCache{Login: l.Login, Now: clk.Now}
	mustGet(t, c, "tok-1")
	clk.Advance(1000 * time.Hour)
	mustGet(t, c, "tok-1")
	if c.Logins() != 1 {
		t.Errorf("%d logins", c.Logins())
	}
}

func TestTokenCacheAlreadyExpiredToken(t *testing.T) {
	clk := newClock()
	l := &logins{clock: clk, life: -time.Minute}
	c := &TokenCache{Login: l.Login, Now: clk.Now}
	mustGet(t, c, "tok-1") // returned to the callers of that login
	mustGet(t, c, "tok-2") // but not cached
}

func TestTokenCacheInvalidate(t *testing.T) {
	l := &logins{}
	c := &TokenCache{Login: l.Login}
	c.Invalidate(Token{Value: "never issued"}) // on an empty cache: no effect
	mustGet(t, c, "tok-1")
	c.Invalidate(Token{Value: "tok-1"})
	mustGet(t, c, "tok-2")
	c.Invalidate(Token{Value: "tok-1"}) // stale: tok-2 already replaced it
	mustGet(t, c, "tok-2")
	if c.Logins() != 2 {
		t.Errorf("%d logins, want 2", c.Logins())
	}
}

func TestTokenCacheLoginErrorNotCached(t *testing.T) {
	for name, fail := range map[string]error{
		"refused":   fmt.Errorf("%w: bad password for alice", ErrLoginRefused),
		"transient": errors.New("connection reset"),
	} {
		t.Run(name, func(t *testing.T) {
			l := &logins{before: func(n int) error {
				if n == 1 {
					return fail
				}
				return nil
			}}
			c := &TokenCache{Login: l.Login}
			tok, err := c.Get(context.Background())
			if !errors.Is(err, fail) || tok != (Token{}) {
				t.Fatalf("Get = %+v, %v; want the login's error", tok, err)
			}
			if name == "refused" && !errors.Is(err, ErrLoginRefused) {
				t.Errorf("%v is not ErrLoginRefused", err)
			}
			mustGet(t, c, "tok-2")
			if c.Logins() != 2 {
				t.Errorf("%d logins, want 2", c.Logins())
			}
		})
	}
}

// The callers waiting for a refused login all get the refusal: one bad
// password, not one per caller (accounts lock after a few).
func TestTokenCacheRefusalSharedByWaiters(t *testing.T) {
	const n = 20
	var waiting atomic.Int32
	l := &logins{before: func(int) error {
		for waiting.Load() < n {
			runtime.Gosched()
		}
		return fmt.Errorf("%w: account locked", ErrLoginRefused)
	}}
	c := &TokenCache{Login: l.Login}
	var wg sync.WaitGroup
	var refused atomic.Int32
	for range n {
		wg.Go(func() {
			if _, err := c.Get(waitingCtx{context.Background(), &waiting}); errors.Is(err, ErrLoginRefused) {
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	if refused.Load() != n {
		t.Errorf("%d of %d callers got ErrLoginRefused", refused.Load(), n)
	}
	if got := l.n.Load(); got != 1 {
		t.Errorf("%d logins for %d waiting callers, want 1", got, n)
	}
}

func TestTokenCacheWaiterCanceled(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	var loginCtxErr atomic.Value
	l := &logins{}
	c := &TokenCache{Login: func(ctx context.Context) (Token, error) {
		close(started)
		<-release
		loginCtxErr.Store(fmt.Sprint(ctx.Err()))
		return l.Login(ctx)
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.Get(ctx); done <- err }()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v, want context.Canceled while the login runs", err)
	}
	close(release)
	mustGet(t, c, "tok-1") // the login went on for the next callers
	if c.Logins() != 1 {
		t.Errorf("%d logins, want 1", c.Logins())
	}
	if got := loginCtxErr.Load(); got != "<nil>" {
		t.Errorf("the login's context ended with its first caller: %v", got)
	}
}

func TestTokenCacheDefaultClock(t *testing.T) {
	l := &logins{clock: &clock{now: time.Now()}, life: time.Hour}
	c := &TokenCache{Login: l.Login}
	mustGet(t, c, "tok-1")
	mustGet(t, c, "tok-1")
}

var errUnauthorized = errors.New("HTTP 401")

func TestWithTokenRetriesOnceAfter401(t *testing.T) {
	l := &logins{}
	c := &TokenCache{Login: l.Login}
	mustGet(t, c, "tok-1")
	var used []string
	v, err := WithToken(context.Background(), c, func(ctx context.Context, tok Token) (string, bool, error) {
		used = append(used, tok.Value)
		if tok.Value == "tok-1" {
			return "", true, errUnauthorized
		}
		return "data for " + tok.Value, false, nil
	})
	if err != nil || v != "data for tok-2" {
		t.Fatalf("WithToken = %q, %v", v, err)
	}
	if len(used) != 2 || used[1] != "tok-2" || c.Logins() != 2 {
		t.Errorf("calls with %v, %d logins; want tok-1 then tok-2 after one new login", used, c.Logins())
	}
}

func TestWithTokenSecond401(t *testing.T) {
	for name, callErr := range map[string]error{"with error": errUnauthorized, "without error": nil} {
		t.Run(name, func(t *testing.T) {
			l := &logins{}
			c := &TokenCache{Login: l.Login}
			calls := 0
			v, err := WithToken(context.Background(), c, func(ctx context.Context, tok Token) (int, bool, error) {
				calls++
				return 7, true, callErr
			})
			if calls != 2 || c.Logins() != 2 {
				t.Errorf("%d calls, %d logins; want exactly 2 each", calls, c.Logins())
			}
			want := callErr
			if want == nil {
				want = ErrTokenRefused // a second refusal is never a success
			}
			if !errors.Is(err, want) || v != 7 {
				t.Errorf("WithToken = %v, %v; want 7, %v", v, err, want)
			}
		})
	}
}

func TestWithTokenOtherErrorsNotRetried(t *testing.T) {
	l := &logins{}
	c := &TokenCache{Login: l.Login}
	errOther := errors.New("HTTP 500")
	calls := 0
	_, err := WithToken(context.Background(), c, func(ctx context.Context, tok Token) (int, bool, error) {
		calls++
		return 0, false, errOther
	})
	if !errors.Is(err, errOther) || calls != 1 || c.Logins() != 1 {
		t.Errorf("err %v, %d calls, %d logins", err, calls, c.Logins())
	}
}

func TestWithTokenLoginRefused(t *testing.T) {
	t.Run("first login", func(t *testing.T) {
		l := &logins{before: func(int) error { return ErrLoginRefused }}
		c := &TokenCache{Login: l.Login}
		calls := 0
		_, err := WithToken(context.Background(), c, func(ctx context.Context, tok Token) (int, bool, error) {
			calls++
			return 0, false, nil
		})
		if !errors.Is(err, ErrLoginRefused) || calls != 0 || l.n.Load() != 1 {
			t.Errorf("err %v, %d calls, %d logins", err, calls, l.n.Load())
		}
	})
	t.Run("re-login after a 401", func(t *testing.T) {
		l := &logins{before: func(n int) error {
			if n > 1 {
				return fmt.Errorf("%w: password changed", ErrLoginRefused)
			}
			return nil
		}}
		c := &TokenCache{Login: l.Login}
		calls := 0
		_, err := WithToken(context.Background(), c, func(ctx context.Context, tok Token) (int, bool, error) {
			calls++
			return 0, true, errUnauthorized
		})
		if !errors.Is(err, ErrLoginRefused) || calls != 1 || l.n.Load() != 2 {
			t.Errorf("err %v, %d calls, %d logins; want the refusal after one re-login, never retried", err, calls, l.n.Load())
		}
	})
}

// Many callers refused with the same token cause one re-login, not one each.
func TestWithTokenConcurrent401sShareOneRelogin(t *testing.T) {
	const n = 30
	l := &logins{}
	c := &TokenCache{Login: l.Login}
	mustGet(t, c, "tok-1")
	var wg sync.WaitGroup
	var refusedOnce sync.WaitGroup
	refusedOnce.Add(n)
	for range n {
		wg.Go(func() {
			first := true
			v, err := WithToken(context.Background(), c, func(ctx context.Context, tok Token) (string, bool, error) {
				if first {
					first = false
					if tok.Value != "tok-1" {
						t.Errorf("first call with %s", tok.Value)
					}
					refusedOnce.Done()
					refusedOnce.Wait() // every caller is refused with tok-1 before any retries
					return "", true, errUnauthorized
				}
				if tok.Value == "tok-1" {
					return "", true, errUnauthorized
				}
				return tok.Value, false, nil
			})
			if err != nil || v != "tok-2" {
				t.Errorf("WithToken = %q, %v", v, err)
			}
		})
	}
	wg.Wait()
	if c.Logins() != 2 {
		t.Errorf("%d logins after %d simultaneous 401s, want 2", c.Logins(), n)
	}
}
