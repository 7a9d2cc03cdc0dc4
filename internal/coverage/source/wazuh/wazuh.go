// Package wazuh is the coverage connector for Wazuh 4.x managers and muster
// servers (kind "wazuh"): it lists the agents of one manager through the
// project's SDK (package client) and classifies each with the scanner's own
// rules (scan.Classify), so that `muster coverage` and `muster scan` never
// disagree about an agent. Each agent but the manager's own (000) becomes a
// coverage.Record whose State is the scanner's class.
//
// The source builds one client when it is created and keeps it: concurrent
// and repeated Fetch calls (--watch) share its token, which the client logs
// in for, renews and re-acquires by itself.
package wazuh

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/scan"
)

func init() { coverage.Register("wazuh", New) }

// Config is a wazuh source's YAML mapping.
type Config struct {
	coverage.Conn `yaml:",inline"`
	// PageSize is how many agents one GET /agents asks for; 0 uses
	// scan.DefaultPageSize.
	PageSize int `yaml:"page_size"`
	// Groups keeps only the agents in at least one of these Wazuh groups;
	// empty keeps every agent.
	Groups []string `yaml:"groups"`
}

// MaxBody caps one answer of the manager (a page of agents with the
// selected fields is a few megabytes at most).
const MaxBody = 64 << 20

// Source reads the agents of one Wazuh manager.
type Source struct {
	name     string
	base     string // the API base URL, e.g. https://wazuh.example:55000
	c        *client.Client
	pageSize int
	groups   []string
	now      func() time.Time
	log      *slog.Logger
}

// New builds a wazuh source from its YAML mapping.
func New(node *yaml.Node, env coverage.Env) (coverage.Source, error) {
	var cfg Config
	if err := coverage.DecodeStrict(node, &cfg); err != nil {
		return nil, fmt.Errorf("wazuh source: %w", err)
	}
	return newSource(cfg, env)
}

// newSource checks cfg and builds the source's one client; extra options
// come after the configured ones (tests shorten the retry backoff).
func newSource(cfg Config, env coverage.Env, extra ...client.Option) (*Source, error) {
	name := cfg.Name
	if name == "" {
		name = "wazuh"
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("wazuh source %s: "+format, append([]any{name}, a...)...)
	}
	if cfg.URL == "" {
		return nil, fail("url is not set; give the manager's API address, e.g. https://wazuh.example:55000")
	}
	if u, err := url.Parse(cfg.URL); err == nil && u.User != nil {
		return nil, fail("url must not hold a user or password; use user and password_file")
	}
	if cfg.TokenFile != "" || cfg.TokenEnv != "" {
		return nil, fail("token_file/token_env are not used by Wazuh: its API tokens last minutes; give user with password_file or password_env")
	}
	hasPassword := cfg.PasswordFile != "" || cfg.PasswordEnv != ""
	switch {
	case cfg.User == "" && !hasPassword:
		return nil, fail("%w: set user and password_file or password_env (an API user such as wazuh-wui, or one with the agents_readonly role)", coverage.ErrNoCredentials)
	case cfg.User == "":
		return nil, fail("password_file/password_env is set but user is not; set user to the Wazuh API user name")
	case !hasPassword:
		return nil, fail("%w: user %s has no password_file or password_env", coverage.ErrNoCredentials, cfg.User)
	}
	password, err := cfg.Password(env)
	if err != nil {
		return nil, fail("%v", err)
	}
	if cfg.RateLimit.N != 0 {
		return nil, fail("rate_limit does not apply: the Wazuh client backs off on the API's own 429 answers, honouring Retry-After")
	}
	if cfg.PageSize < 0 || cfg.PageSize > client.MaxPageSize {
		return nil, fail("page_size %d is out of range; give 1 to %d, or leave it out for %d", cfg.PageSize, client.MaxPageSize, scan.DefaultPageSize)
	}
	groups, err := coverage.CleanGroups(cfg.Groups, "Wazuh group names as `GET /groups` lists them")
	if err != nil {
		return nil, fail("%v", err)
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}

	// TLS as the client itself would set it up, on a transport of our own
	// so that the source sees which page each agent came from.
	var tlsOpts []client.Option
	for _, f := range cfg.CA {
		tlsOpts = append(tlsOpts, client.WithCAFile(env.Path(f)))
	}
	if cfg.Insecure {
		tlsOpts = append(tlsOpts, client.WithInsecure())
		if env.Stderr != nil {
			fmt.Fprintf(env.Stderr, "muster: WARNING: source %s: insecure: true: its TLS certificate is NOT verified; trust it with ca: FILE instead\n", name)
		}
	}
	tc, err := client.TLSConfig(tlsOpts...)
	if err != nil {
		return nil, fail("ca: %v", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig, tr.MaxIdleConnsPerHost = tc, 16
	if cfg.Proxy != "" {
		u, err := url.Parse(cfg.Proxy)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5") {
			return nil, fail("proxy is not a URL such as http://proxy:3128")
		}
		tr.Proxy = http.ProxyURL(u)
	}
	hc := &http.Client{Transport: &recorder{base: tr, now: now},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	opts := []client.Option{client.WithCredentials(cfg.User, password), client.WithHTTPClient(hc),
		client.WithTimeout(cfg.TimeoutOr()), client.WithClock(now), client.WithLogger(log),
		client.WithMaxBodySize(MaxBody), client.WithUserAgent("muster-coverage/1")}
	c, err := client.New(cfg.URL, append(opts, extra...)...)
	if err != nil {
		return nil, fail("%v", err)
	}
	return &Source{name: name, base: c.BaseURL(), c: c, pageSize: cfg.PageSize, groups: groups, now: now, log: log}, nil
}

// Logins is how many times the source's client has logged in.
func (s *Source) Logins() int64 { return s.c.Logins() }

// Close drops the cached token; a later Fetch logs in again.
func (s *Source) Close() error {
	s.c.ForgetToken()
	return nil
}
