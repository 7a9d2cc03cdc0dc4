package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	loginPath       = "/security/user/authenticate"
	assumedLifetime = 5 * time.Minute  // used when a token's lifetime cannot be read
	minRefreshLead  = 30 * time.Second // refresh at least this long before expiry...
	maxExpirySafety = 5 * time.Second  // ...and stop using a token this long before it
)

// tokenState is a cached token with its deadlines on the local clock.
type tokenState struct {
	token   string
	gen     uint64    // increases with every successful login
	refresh time.Time // from here on a new login is started
	expires time.Time // from here on the token is not used any more
}

// loginCall is one login in flight; waiters share its result.
type loginCall struct {
	done chan struct{}
	st   tokenState
	err  error
}

// tokenSource caches the token and runs at most one login at a time.
type tokenSource struct {
	c      *Client
	logins atomic.Int64

	mu        sync.Mutex
	cur       tokenState
	gen       uint64
	flight    *loginCall
	holdUntil time.Time
	holdErr   *Error
}

// get returns a token newer than staleGen, logging in if needed.
func (ts *tokenSource) get(ctx context.Context, staleGen uint64) (tokenState, error) {
	ts.mu.Lock()
	now := ts.c.now()
	cur := ts.cur
	usable := cur.token != "" && cur.gen > staleGen && now.Before(cur.expires)
	if usable && (now.Before(cur.refresh) || ts.flight != nil) {
		ts.mu.Unlock()
		return cur, nil
	}
	if now.Before(ts.holdUntil) {
		err := ts.holdErr.held(ts.holdUntil)
		ts.mu.Unlock()
		if usable {
			return cur, nil
		}
		return tokenState{}, err
	}
	call := ts.flight
	if call == nil {
		call = &loginCall{done: make(chan struct{})}
		ts.flight = call
		go ts.run(ctx, call)
	}
	ts.mu.Unlock()

	select {
	case <-call.done:
	case <-ctx.Done():
		return tokenState{}, ctx.Err()
	}
	if call.err != nil {
		if usable {
			ts.c.log.Warn("token refresh failed; using the current token until it expires", "err", call.err)
			return cur, nil
		}
		return tokenState{}, call.err
	}
	return call.st, nil
}

// run performs a login detached from the caller's cancellation and publishes the result.
func (ts *tokenSource) run(ctx context.Context, call *loginCall) {
	// Each attempt is bounded by the client timeout and the attempts by maxAttempts,
	// so the login ends even when every caller has gone away.
	st, err := ts.login(context.WithoutCancel(ctx), loginPath, nil)
	ts.mu.Lock()
	if err == nil {
		ts.gen++
		st.gen = ts.gen
		ts.cur = st
	}
	call.st, call.err = st, err
	ts.flight = nil
	ts.mu.Unlock()
	close(call.done)
}

// reject forgets the token of generation gen after the manager refused it.
func (ts *tokenSource) reject(gen uint64) {
	ts.mu.Lock()
	if ts.cur.gen == gen {
		ts.cur = tokenState{gen: gen}
	}
	ts.mu.Unlock()
}

// drop forgets the cached token whatever its generation.
func (ts *tokenSource) drop() {
	ts.mu.Lock()
	ts.cur = tokenState{gen: ts.cur.gen}
	ts.mu.Unlock()
}

// hold stops logins until until, answering them with e.
func (ts *tokenSource) hold(until time.Time, e *Error) {
	ts.mu.Lock()
	if until.After(ts.holdUntil) {
		cp := *e
		ts.holdUntil, ts.holdErr = until, &cp
	}
	ts.mu.Unlock()
}

// held returns a copy of a hold error stating when logins resume.
func (e *Error) held(until time.Time) *Error {
	cp := *e
	cp.RetryAt = until
	cp.Detail = fmt.Sprintf("no login attempted: logins are suspended by the client until %s after: %s",
		until.UTC().Format(time.RFC3339), e.Detail)
	return &cp
}

// checkHold returns the error of an active login suspension, if any.
func (ts *tokenSource) checkHold() error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.c.now().Before(ts.holdUntil) {
		return ts.holdErr.held(ts.holdUntil)
	}
	return nil
}

// login obtains a new token with the Basic credentials from path (the login or run_as endpoint).
func (ts *tokenSource) login(ctx context.Context, path string, body []byte) (tokenState, error) {
	c := ts.c
	if !c.hasCreds {
		return tokenState{}, &Error{Method: http.MethodPost, Path: path, Title: "No credentials",
			Detail: "the client has no user name and password", Remediation: "create the client with WithCredentials"}
	}
	raw := true
	for {
		req := &request{method: http.MethodPost, path: path, accept: "application/json, text/plain", login: true}
		if body != nil {
			req.body, req.contentType = body, "application/json"
		}
		if raw {
			req.query = url.Values{"raw": {"true"}}
		}
		sentAt := c.now()
		resp, err := c.roundTrip(ctx, req, "")
		if err != nil {
			return tokenState{}, err
		}
		switch {
		case resp.status == http.StatusOK:
			tok, err := extractToken(req, resp)
			if err != nil {
				return tokenState{}, err
			}
			st := ts.stateFor(tok, sentAt, resp.header)
			c.log.Info("logged in to the Wazuh API", "user", c.user, "expires", st.expires, "refresh", st.refresh)
			return st, nil
		case resp.status == http.StatusBadRequest && raw:
			c.log.Info("login with raw=true refused, retrying with the JSON envelope")
			raw = false
			continue
		}
		return tokenState{}, ts.loginFailure(req, resp)
	}
}

// loginFailure classifies a failed login and suspends further logins when needed.
func (ts *tokenSource) loginFailure(req *request, resp *response) *Error {
	c := ts.c
	e := c.errorFrom(req, resp)
	now := c.now()
	switch {
	case e.Code == CodeIPBlocked:
		e.kind = kindBlocked
		e.RetryAt = now.Add(c.blockTime)
		e.Remediation = fmt.Sprintf("the manager blocked logins from this IP after too many failed logins (access.max_login_attempts); this client will not log in again before %s because it assumes access.block_time = %s (the Wazuh default is 300 s; the real value is set in api.yaml and unknown to the client, see WithBlockTime). Fix the credentials of whichever client keeps failing from this IP or from behind the same NAT",
			e.RetryAt.UTC().Format(time.RFC3339), c.blockTime)
		ts.hold(e.RetryAt, e)
	case resp.status == http.StatusUnauthorized:
		e.kind = kindInvalidCredentials
		e.Remediation = "check the user name and password; the client does not retry because every failed login counts towards the manager's per-IP block (access.max_login_attempts)"
		if c.cooldown > 0 {
			e.RetryAt = now.Add(c.cooldown)
			ts.hold(e.RetryAt, e)
		}
	}
	return e
}

// extractToken reads the token from a raw text/plain or JSON-enveloped login answer.
func extractToken(req *request, resp *response) (string, error) {
	body := bytes.TrimSpace(resp.body)
	tok := string(body)
	if len(body) > 0 && body[0] == '{' {
		var env struct {
			Data struct {
				Token string `json:"token"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			return "", decodeError(req, resp, err)
		}
		tok = env.Data.Token
	}
	if tok == "" || strings.ContainsAny(tok, " \t\r\n<>\"") {
		e := ParseError(req.method, req.path, resp.status, resp.header.Get("Content-Type"), resp.body)
		e.kind = kindBadResponse
		e.Title = "No token in login answer"
		e.Detail = "the login succeeded but the answer holds no token: " + describeForeignBody(e.ContentType, resp.body)
		return "", e
	}
	return tok, nil
}

// stateFor computes refresh and expiry times on the local clock from the token's own lifetime.
func (ts *tokenSource) stateFor(tok string, sentAt time.Time, hdr http.Header) tokenState {
	cl, err := ParseClaims(tok)
	life := cl.Lifetime()
	if life == 0 && cl.ExpiresAt > 0 {
		serverNow := sentAt
		if d, perr := http.ParseTime(hdr.Get("Date")); perr == nil {
			serverNow = d
		}
		life = time.Unix(cl.ExpiresAt, 0).Sub(serverNow)
	}
	if life <= 0 {
		ts.c.log.Warn("cannot read the token lifetime; assuming a short one", "assumed", assumedLifetime, "err", err)
		life = assumedLifetime
	}
	lead := min(max(life/10, minRefreshLead), life/2)
	safety := min(maxExpirySafety, life/10)
	return tokenState{token: tok, refresh: sentAt.Add(life - lead), expires: sentAt.Add(life - safety)}
}
