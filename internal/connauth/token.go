package connauth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Token is a credential with its expiry on the local clock (zero: unknown).
type Token struct {
	Value  string
	Expiry time.Time
}

// RefreshLead is how long before its expiry a token is renewed.
const RefreshLead = 60 * time.Second

// TokenCache holds one token for all callers and renews it with Login: at
// most one login runs at a time, callers arriving meanwhile wait for it, and
// a token is renewed RefreshLead before it expires (or at half its life when
// that is shorter).
type TokenCache struct {
	Login func(ctx context.Context) (Token, error)
	Now   func() time.Time

	mu      sync.Mutex
	tok     Token
	renewAt time.Time
	flight  *flight
	logins  int
}

type flight struct {
	done chan struct{}
	tok  Token
	err  error
}

// Get returns the current token, logging in when there is none or it is due.
func (c *TokenCache) Get(ctx context.Context) (Token, error) {
	c.mu.Lock()
	now := c.now()
	if c.tok.Value != "" && (c.renewAt.IsZero() || now.Before(c.renewAt)) {
		t := c.tok
		c.mu.Unlock()
		return t, nil
	}
	f := c.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		c.flight = f
		c.logins++
		go c.run(context.WithoutCancel(ctx), f)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
}

func (c *TokenCache) run(ctx context.Context, f *flight) {
	tok, err := c.Login(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	f.tok, f.err = tok, err
	c.flight = nil
	if err == nil {
		c.tok = tok
		c.renewAt = time.Time{}
		if !tok.Expiry.IsZero() {
			now := c.now()
			lead := min(RefreshLead, tok.Expiry.Sub(now)/2)
			c.renewAt = tok.Expiry.Add(-lead)
		}
	}
	close(f.done)
}

// Invalidate drops t after the server refused it (a 401), unless a newer
// token already replaced it; the next Get logs in again.
func (c *TokenCache) Invalidate(t Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.Value == t.Value {
		c.tok = Token{}
	}
}

// Logins is how many logins the cache has started.
func (c *TokenCache) Logins() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logins
}

func (c *TokenCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// ErrTokenRefused is what WithToken returns when a freshly issued token was
// refused too and call reported no error of its own.
var ErrTokenRefused = errors.New("the server refused a freshly issued token")

// WithToken runs call with the cached token and, when it reports the token
// refused (unauthorized true), invalidates it and runs call once more with a
// fresh one. A second refusal is returned as call's error, or ErrTokenRefused
// when call gave none.
func WithToken[T any](ctx context.Context, c *TokenCache, call func(ctx context.Context, tok Token) (v T, unauthorized bool, err error)) (T, error) {
	var zero T
	for try := 0; ; try++ {
		tok, err := c.Get(ctx)
		if err != nil {
			return zero, err
		}
		v, unauthorized, err := call(ctx, tok)
		if !unauthorized {
			return v, err
		}
		if try == 1 {
			if err == nil {
				err = ErrTokenRefused
			}
			return v, err
		}
		c.Invalidate(tok)
	}
}
