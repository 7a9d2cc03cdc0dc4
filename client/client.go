package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one Wazuh (or muster) server API; it is safe for concurrent use.
type Client struct {
	base        *url.URL
	hc          *http.Client
	user        string
	password    string
	hasCreds    bool
	userAgent   string
	log         *slog.Logger
	now         func() time.Time
	timeout     time.Duration
	maxAttempts int
	baseDelay   time.Duration
	maxDelay    time.Duration
	maxBody     int64
	blockTime   time.Duration
	cooldown    time.Duration
	sleep       func(context.Context, time.Duration) error
	tokens      *tokenSource
}

// New returns a Client for the API at baseURL, for example "https://wazuh.example:55000".
func New(baseURL string, opts ...Option) (*Client, error) {
	base, err := parseBase(baseURL)
	if err != nil {
		return nil, err
	}
	s := defaultSettings()
	for _, o := range opts {
		if err := o(&s); err != nil {
			return nil, err
		}
	}
	hc, err := buildHTTPClient(&s)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base: base, hc: hc,
		user: s.user, password: s.password, hasCreds: s.hasCreds,
		userAgent: s.userAgent, log: s.logger, now: s.now, timeout: s.timeout,
		maxAttempts: s.maxAttempts, baseDelay: s.baseDelay, maxDelay: s.maxDelay,
		maxBody: s.maxBody, blockTime: s.blockTime, cooldown: s.loginCooldown,
		sleep: sleepCtx,
	}
	c.tokens = &tokenSource{c: c}
	if s.insecure {
		c.log.Warn("TLS CERTIFICATE VERIFICATION IS DISABLED: anyone between this client and the manager can read the API password and tokens; trust the manager's certificate with WithCAFile instead of WithInsecure",
			"url", base.String())
	}
	if base.Scheme == "http" {
		c.log.Warn("the API URL uses plain HTTP: credentials and tokens travel unencrypted", "url", base.String())
	}
	return c, nil
}

// parseBase validates the base URL and strips a trailing slash.
func parseBase(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		return nil, fmt.Errorf("API URL %q has no scheme: write it as https://%s (the Wazuh API listens on port 55000 by default)", raw, raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("API URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("API URL %q: scheme must be https or http", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("API URL %q has no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("API URL %q must not carry a query, fragment or user info (use WithCredentials)", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

// BaseURL returns the API URL the client was created with.
func (c *Client) BaseURL() string { return c.base.String() }

// Token returns a valid API token, logging in only when no cached token is fresh enough.
func (c *Client) Token(ctx context.Context) (string, error) {
	st, err := c.tokens.get(ctx, 0)
	return st.token, err
}

// Logins reports how many login requests this Client has sent to the manager.
func (c *Client) Logins() int64 { return c.tokens.logins.Load() }

// ForgetToken drops the cached token so the next request logs in again.
func (c *Client) ForgetToken() { c.tokens.drop() }

// endpoint builds the absolute URL of an escaped API path and its query.
func (c *Client) endpoint(path string, q url.Values) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	s := c.base.Scheme + "://" + c.base.Host + c.base.EscapedPath() + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pathf formats an API path, escaping every argument as one path segment.
func pathf(format string, args ...string) string {
	esc := make([]any, len(args))
	for i, a := range args {
		esc[i] = url.PathEscape(a)
	}
	return fmt.Sprintf(format, esc...)
}
