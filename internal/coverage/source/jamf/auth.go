package jamf

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

// Paths of the Jamf Pro API's token endpoints for user accounts.
const (
	pathToken      = "/api/v1/auth/token"
	pathKeepAlive  = "/api/v1/auth/keep-alive"
	pathInvalidate = "/api/v1/auth/invalidate-token"
)

// maxTokenBody bounds a token answer.
const maxTokenBody = 64 << 10

// maxLifetime is the longest token lifetime believed; a longer one means the
// clocks disagree (and there was no Date header to correct for it).
const maxLifetime = 24 * time.Hour

// session is a user account's bearer token, shared by every call of one
// source and kept between --watch runs.
type session struct {
	src  *Source
	conn coverage.Conn
	user string

	mu      sync.Mutex
	current string // the last token issued, for keep-alive and invalidate-token
}

// login is the TokenCache's login in user-account mode: it renews the
// current token with keep-alive, which needs no password, and falls back to
// one Basic login when there is no token to renew or keep-alive fails.
func (ss *session) login(ctx context.Context) (connauth.Token, error) {
	if cur := ss.get(); cur != "" {
		tok, err := ss.src.postToken(ctx, pathKeepAlive, "Bearer "+cur)
		if err == nil {
			ss.set(cur, tok.Value)
			ss.src.log.Debug("jamf: token renewed with keep-alive", "source", ss.src.name)
			return tok, nil
		}
		if ctx.Err() != nil {
			return connauth.Token{}, ctx.Err()
		}
		// The token was refused (expired, invalidated) or keep-alive is
		// unavailable: the old token is of no more use either way.
		ss.set(cur, "")
		ss.src.log.Debug("jamf: keep-alive failed; logging in again", "source", ss.src.name, "error", err)
	}
	return ss.basicLogin(ctx)
}

// basicLogin posts the user and password once. It is never retried on a
// refusal: Jamf Pro's password policy may lock an account after failed logins.
func (ss *session) basicLogin(ctx context.Context) (connauth.Token, error) {
	s := ss.src
	password, err := ss.conn.Password(s.env)
	if err != nil {
		return connauth.Token{}, err
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(ss.user+":"+password))
	tok, err := s.postToken(ctx, pathToken, basic)
	var se *connauth.StatusError
	if errors.As(err, &se) && (se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden) {
		return connauth.Token{}, fmt.Errorf("%w: %s refused user %s (HTTP %d); check user and the password (SSO accounts cannot use the API), and note that Jamf Pro's password policy may lock an account after failed logins",
			connauth.ErrLoginRefused, s.base+pathToken, ss.user, se.Status)
	}
	if err != nil {
		return connauth.Token{}, err
	}
	ss.mu.Lock()
	ss.current = tok.Value
	ss.mu.Unlock()
	s.log.Debug("jamf: logged in", "source", s.name, "user", ss.user)
	return tok, nil
}

func (ss *session) get() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.current
}

// set replaces old with tok, unless another token replaced old meanwhile.
func (ss *session) set(old, tok string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.current == old {
		ss.current = tok
	}
}

// take returns the current token and forgets it.
func (ss *session) take() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	t := ss.current
	ss.current = ""
	return t
}

// tokenAnswer is what /api/v1/auth/token and keep-alive answer.
type tokenAnswer struct {
	Token   string          `json:"token"`
	Expires json.RawMessage `json:"expires"`
}

// postToken posts to a token endpoint with the given Authorization header
// and reads the token it issues. A refusal is a *connauth.StatusError. The
// request is not resent after a failure (each post may end the previous
// token or count as a login attempt), except after a 429.
func (s *Source) postToken(ctx context.Context, path, authorization string) (connauth.Token, error) {
	endpoint := s.base + path
	sent := s.trNow()
	resp, err := s.tr.Do(ctx, false, func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
		if err != nil {
			return nil, err
		}
		r.Header.Set("Authorization", authorization)
		r.Header.Set("Accept", "application/json")
		return r, nil
	})
	if err != nil {
		return connauth.Token{}, fmt.Errorf("POST %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody+1))
	if err != nil {
		return connauth.Token{}, fmt.Errorf("POST %s: reading the answer: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		return connauth.Token{}, &connauth.StatusError{Status: resp.StatusCode, Body: connauth.Snippet(raw)}
	}
	if len(raw) > maxTokenBody {
		return connauth.Token{}, fmt.Errorf("POST %s: the answer is larger than %d KiB, not a token; is url the Jamf Pro server?", endpoint, maxTokenBody>>10)
	}
	var a tokenAnswer
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &a) != nil {
		return connauth.Token{}, fmt.Errorf("POST %s: the answer is not a Jamf Pro token (it starts with %q); is url the Jamf Pro server, not a login page or a proxy?",
			endpoint, connauth.Snippet(raw[:min(len(raw), 60)]))
	}
	if a.Token == "" {
		return connauth.Token{}, fmt.Errorf("POST %s: the answer holds no token", endpoint)
	}
	return connauth.Token{Value: a.Token, Expiry: tokenExpiry(a.Expires, resp.Header.Get("Date"), sent)}, nil
}

// tokenExpiry converts the server's "expires" (an RFC 3339 time on the
// server's clock; epoch milliseconds on old servers) to a time on the local
// clock: the lifetime is counted from the answer's Date header when it has
// one (the server's clock as well, so skew cancels out), else from sent.
// The result is sent plus that lifetime, a little early rather than late.
// It is zero (unknown) when the lifetime is not believable.
func tokenExpiry(expires json.RawMessage, date string, sent time.Time) time.Time {
	var at time.Time
	var s string
	if json.Unmarshal(expires, &s) == nil {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}
		}
		at = t
	} else if ms, err := strconv.ParseInt(string(bytes.TrimSpace(expires)), 10, 64); err == nil && ms > 0 {
		at = time.UnixMilli(ms)
	} else {
		return time.Time{}
	}
	serverNow := sent
	if d, err := http.ParseTime(date); err == nil {
		serverNow = d
	}
	life := at.Sub(serverNow)
	if life <= 0 || life > maxLifetime {
		return time.Time{}
	}
	return sent.Add(life)
}

func (s *Source) trNow() time.Time {
	if s.tr.Now != nil {
		return s.tr.Now()
	}
	return time.Now()
}

// Close invalidates the user account's token (invalidate-token), so that
// --watch runs and repeated commands do not leave live tokens behind. An API
// client's token simply expires.
func (s *Source) Close() error {
	if s.session == nil {
		return nil
	}
	tok := s.session.take()
	if tok == "" {
		return nil
	}
	s.cache.Invalidate(connauth.Token{Value: tok})
	ctx, cancel := context.WithTimeout(context.Background(), s.session.conn.TimeoutOr())
	defer cancel()
	endpoint := s.base + pathInvalidate
	resp, err := s.tr.Do(ctx, false, func(ctx context.Context) (*http.Request, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
		if err != nil {
			return nil, err
		}
		r.Header.Set("Authorization", "Bearer "+tok)
		return r, nil
	})
	if err != nil {
		return s.wrap(fmt.Errorf("POST %s: %w", endpoint, err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode < 300, resp.StatusCode == http.StatusUnauthorized: // ended, or already ended on the server
		return nil
	}
	return s.wrap(fmt.Errorf("POST %s: %w", endpoint, &connauth.StatusError{Status: resp.StatusCode, Body: connauth.Snippet(body)}))
}
