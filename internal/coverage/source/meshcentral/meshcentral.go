// Package meshcentral is the coverage connector for MeshCentral (kind
// "meshcentral"): it reads the devices of a MeshCentral server through the
// websocket its web interface and meshctrl.js speak (control.ashx), asks
// each device's network interfaces and, for the offline ones, when their
// agent last connected, and maps each device to a coverage.Record.
//
// It logs in on the websocket upgrade (the x-meshauth header) with a user
// and password, or with a login token (user "~t:...", its password the
// same way). The websocket is kept between Fetch calls (--watch) and dialed
// again once when it dropped; Close ends it. A refused login is never
// retried: ten bad logins in ten minutes get the whole /24 banned.
package meshcentral

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/coverage"
)

func init() { coverage.Register("meshcentral", New) }

// Config is a meshcentral source's YAML mapping.
type Config struct {
	coverage.Conn `yaml:",inline"`
	// Groups limits the source to the devices of these device groups (by
	// name); empty reads every device the user can see.
	Groups []string `yaml:"groups"`
}

// The states a record takes: MeshCentral's own words for a device whose
// agent is connected or not.
const (
	StateOnline  = "online"
	StateOffline = "offline"
)

// DefaultMaxMessage bounds one websocket message from the server: the nodes
// answer holds every device in one message (about 1 KiB a device).
const DefaultMaxMessage = 64 << 20

// Concurrency is how many per-device requests are outstanding at once.
const Concurrency = 16

// ErrBanned marks the server's refusal of this client's address after too
// many failed logins from its network: the credentials may be right, and a
// retry later may succeed.
var ErrBanned = errors.New("address banned by MeshCentral")

// Source reads one MeshCentral server.
type Source struct {
	name    string
	url     string // wss://.../control.ashx
	user    string
	groups  []string
	env     coverage.Env
	conn    coverage.Conn
	http    *http.Client
	timeout time.Duration
	maxMsg  int64
	conc    int
	log     *slog.Logger

	fetchMu sync.Mutex // one Fetch at a time
	mu      sync.Mutex
	ws      *wsConn // the kept connection; nil before the first Fetch and after Close
	dials   int     // connections made, for tests
}

// New builds a meshcentral source from its YAML mapping.
func New(node *yaml.Node, env coverage.Env) (coverage.Source, error) {
	var cfg Config
	if err := coverage.DecodeStrict(node, &cfg); err != nil {
		return nil, fmt.Errorf("meshcentral source: %w", err)
	}
	return newSource(cfg, env)
}

func newSource(cfg Config, env coverage.Env) (*Source, error) {
	name := cfg.Name
	if name == "" {
		name = "meshcentral"
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("meshcentral source %s: "+format, append([]any{name}, a...)...)
	}
	endpoint, err := controlURL(cfg.URL)
	if err != nil {
		return nil, fail("%v", err)
	}
	groups, err := coverage.CleanGroups(cfg.Groups, "device group names as MeshCentral shows them")
	if err != nil {
		return nil, fail("%v", err)
	}
	hasPassword := cfg.PasswordFile != "" || cfg.PasswordEnv != ""
	switch {
	case cfg.RateLimit.N != 0:
		return nil, fail("rate_limit does not apply: MeshCentral is read over one websocket, a few messages per run")
	case cfg.TokenFile != "" || cfg.TokenEnv != "":
		return nil, fail("token_file/token_env are not used by MeshCentral; a login token is a user \"~t:...\" with its password in password_file or password_env")
	case cfg.User == "" && !hasPassword:
		return nil, fail("%w: set user and password_file or password_env (a MeshCentral account, or a login token's ~t:... user and its password)", coverage.ErrNoCredentials)
	case cfg.User == "":
		return nil, fail("password_file/password_env is set but user is not; set user to the MeshCentral user name (or the login token's ~t:... name)")
	case !hasPassword:
		return nil, fail("%w: user %s has no password_file or password_env", coverage.ErrNoCredentials, cfg.User)
	case strings.Contains(cfg.User, ","):
		return nil, fail("user %q holds a comma, which MeshCentral's login header cannot carry", cfg.User)
	}
	// Read it now so that a missing file shows at start; it is read again at
	// each connection, so a corrected file is picked up by --watch.
	if _, err := cfg.Password(env); err != nil {
		return nil, fail("%v", err)
	}
	tr, err := cfg.HTTPClient(env)
	if err != nil {
		return nil, fail("%v", err)
	}
	client, err := wsClient(tr.HTTP)
	if err != nil {
		return nil, fail("%v", err)
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{name: name, url: endpoint, user: cfg.User, groups: groups, env: env, conn: cfg.Conn,
		http: client, timeout: cfg.TimeoutOr(), maxMsg: DefaultMaxMessage, conc: Concurrency, log: log}, nil
}

// wsClient is the source's HTTP client made fit for a websocket upgrade:
// HTTP/1.1 only (an upgrade cannot run over HTTP/2) and no overall timeout
// (the connection outlives one request; every wait has its own bound).
func wsClient(c *http.Client) (*http.Client, error) {
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		return nil, errors.New("internal: unexpected HTTP transport")
	}
	tr = tr.Clone()
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	if tr.TLSClientConfig != nil {
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	return &http.Client{Transport: tr}, nil
}

// controlURL accepts wss://HOST:PORT or https://HOST:PORT (with a domain's
// path, if any) or the control.ashx address itself, and returns the latter.
func controlURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("url is not set; give the server's address, e.g. wss://meshcentral.example:443 or https://meshcentral.example")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "wss" && u.Scheme != "https") {
		return "", fmt.Errorf("url %q is not a wss:// or https:// address such as wss://meshcentral.example:443", raw)
	}
	if u.User != nil {
		return "", errors.New("url must not hold a user or password; use user and password_file")
	}
	u.Scheme = "wss"
	if !strings.HasSuffix(u.Path, "/control.ashx") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/control.ashx"
	}
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String(), nil
}

func (s *Source) now() time.Time {
	if s.env.Now != nil {
		return s.env.Now()
	}
	return time.Now()
}

// request is the records' Request string (never a secret).
func (s *Source) request() string {
	return s.url + ` {"action":"nodes"}`
}

func (s *Source) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("meshcentral source %s: %w", s.name, err)
}
