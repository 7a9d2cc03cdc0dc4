// Package jamf is the coverage connector for Jamf Pro (kind "jamf"), the MDM
// for macOS: it reads the computer inventory of a Jamf Pro server (Jamf Cloud
// or on premises) through the Jamf Pro API and maps each computer to a
// coverage.Record.
//
// It reads GET /api/v3/computers-inventory with the GENERAL, HARDWARE and
// OPERATING_SYSTEM sections only (never USER_AND_LOCATION: no personal data
// is read), paged with page and page-size, sorted by id so that the walk is
// stable, and optionally narrowed by an RSQL filter (api_version v2 or v1
// read the same sections from older servers; Jamf deprecated v1 on
// 2025-06-30, and 11.30 deprecates v3 for a v4 whose fields were renamed,
// which this connector does not read yet). The answer's totalCount
// is declared to coverage.Walk, so that a short, looping or repeating walk is
// an error and never a shorter list.
//
// It logs in one of two ways, exactly one of which is configured:
//
//   - an API client (Jamf Pro 10.49 and later): client_id and a client
//     secret, exchanged at /api/oauth/token for an access token with the
//     OAuth2 client-credentials grant (form parameters); the token's lifetime
//     is what the API client is configured with in Jamf, read from
//     expires_in.
//   - a user account: user and password, sent with HTTP Basic to
//     POST /api/v1/auth/token for a bearer token of about 30 minutes. Before
//     it expires the token is renewed with POST /api/v1/auth/keep-alive
//     (which needs no password); only when keep-alive is refused does one new
//     Basic login follow. Close invalidates the token with
//     POST /api/v1/auth/invalidate-token. The token's "expires" is a time on
//     the server's clock: its lifetime is counted from the answer's Date
//     header (the server's clock too), or from the local clock when the
//     answer has none, so clock skew between muster and Jamf does not shorten
//     or stretch it. A lifetime that is not positive or longer than a day
//     (the clocks disagree and there is no Date header) is treated as
//     unknown: the token is then used until Jamf refuses it, and one new
//     login follows.
//
// A refused login (wrong password, disabled account, wrong client secret) is
// never retried. A computer is healthy when Jamf manages it
// (general.remoteManagement.managed) and it contacted Jamf
// (general.lastContactTime) within the config's window.
//
// Jamf documents no hard request limit; its scalability guidance asks for no
// more than 5 concurrent connections and for spacing requests. The source
// sends one request at a time, one a second by default.
//
// Documentation followed:
//   - https://developer.jamf.com/jamf-pro/docs/jamf-pro-api-overview (bearer tokens, /api/v1/auth/token)
//   - https://developer.jamf.com/jamf-pro/docs/client-credentials (API clients, /api/oauth/token)
//   - https://developer.jamf.com/jamf-pro/reference/post_v1-auth-token
//   - https://developer.jamf.com/jamf-pro/reference/post_v1-auth-keep-alive
//   - https://developer.jamf.com/jamf-pro/reference/post_v1-auth-invalidate-token
//   - https://developer.jamf.com/jamf-pro/reference/get_v1-computers-inventory (and the v2/v3 pages)
//   - https://developer.jamf.com/jamf-pro/docs/jamf-pro-api-scalability-best-practices
//   - https://developer.jamf.com/jamf-pro/docs/filtering-with-rsql
package jamf

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

func init() { coverage.Register("jamf", New) }

// Config is a jamf source's YAML mapping.
type Config struct {
	coverage.Conn   `yaml:",inline"`
	coverage.OAuth2 `yaml:",inline"`
	// PageSize is how many computers one page holds (page-size).
	PageSize int `yaml:"page_size"`
	// Filter is an RSQL filter passed to computers-inventory as it is,
	// e.g. general.site.name=="Paris".
	Filter string `yaml:"filter"`
	// APIVersion picks the computers-inventory version: v3 (the default,
	// Jamf Pro 11.23+), v2, or v1 (10.39+, deprecated); the sections read
	// are the same.
	APIVersion string `yaml:"api_version"`
}

const (
	// DefaultPageSize keeps one page of three sections a few MiB and quick
	// for the server to build.
	DefaultPageSize = 500
	// MaxPageSize is the largest page_size accepted: Jamf's answers slow
	// down sharply beyond it, and SDKs cap their pages there.
	MaxPageSize = 2000
	// DefaultMaxBody bounds one page's answer.
	DefaultMaxBody = 64 << 20
)

// DefaultBudget is one request a second, without bursts, one request at a
// time: Jamf documents no hard limit but asks API clients to stay under 5
// concurrent connections and to space their requests, so that devices and
// administrators are served first. At the default page size that reads
// 100,000 computers in 200 requests, under four minutes.
var DefaultBudget = connauth.Rate{N: 1, Per: time.Second}

// sections are the inventory sections read: never USER_AND_LOCATION or
// others holding personal data.
var sections = []string{"GENERAL", "HARDWARE", "OPERATING_SYSTEM"}

// Source reads one Jamf Pro server.
type Source struct {
	name     string
	base     string // the server's address, without /api and without a trailing slash
	version  string
	pageSize int
	filter   string
	maxBody  int64
	tr       *connauth.Transport
	env      coverage.Env
	log      *slog.Logger
	cache    *connauth.TokenCache
	session  *session // user-account mode; nil for an API client
	clientID string   // API-client mode
}

// New builds a jamf source from its YAML mapping.
func New(node *yaml.Node, env coverage.Env) (coverage.Source, error) {
	var cfg Config
	if err := coverage.DecodeStrict(node, &cfg); err != nil {
		return nil, fmt.Errorf("jamf source: %w", err)
	}
	return newSource(cfg, env)
}

func newSource(cfg Config, env coverage.Env) (*Source, error) {
	name := cfg.Name
	if name == "" {
		name = "jamf"
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("jamf source %s: "+format, append([]any{name}, a...)...)
	}
	base, err := baseURL(cfg.URL)
	if err != nil {
		return nil, fail("%w", err)
	}
	switch {
	case cfg.PageSize == 0:
		cfg.PageSize = DefaultPageSize
	case cfg.PageSize < 1 || cfg.PageSize > MaxPageSize:
		return nil, fail("page_size %d is out of range; give 1 to %d (default %d)", cfg.PageSize, MaxPageSize, DefaultPageSize)
	}
	switch cfg.APIVersion {
	case "":
		cfg.APIVersion = "v3" // v1 is deprecated since 2025-06-30; v3 is the newest whose fields muster reads
	case "v1", "v2", "v3":
	default:
		return nil, fail("api_version %q is not one muster reads; give v1 (Jamf Pro 10.39 and later), v2 or v3 (11.23 and later)", cfg.APIVersion)
	}
	cfg.Filter = strings.TrimSpace(cfg.Filter)
	if strings.ContainsAny(cfg.Filter, "\r\n") {
		return nil, fail("filter must be one line of RSQL, e.g. general.site.name==\"Paris\"")
	}
	if cfg.TokenFile != "" || cfg.TokenEnv != "" {
		return nil, fail("token_file/token_env do not apply: Jamf Pro has no static API tokens; give client_id with client_secret_file (an API client) or user with password_file (a user account)")
	}
	if len(cfg.Scopes) > 0 {
		return nil, fail("scopes do not apply: a Jamf Pro API client's privileges come from its API roles; remove scopes and give the role Read Computers")
	}
	hasPassword := cfg.PasswordFile != "" || cfg.PasswordEnv != ""
	userMode := cfg.User != "" || hasPassword
	clientMode := cfg.OAuth2.Set()
	switch {
	case userMode && clientMode:
		return nil, fail("give either an API client (client_id, client_secret_file/client_secret_env, token_url) or a user account (user, password_file/password_env), not both")
	case !userMode && !clientMode:
		return nil, fail("%w: give client_id with client_secret_file or client_secret_env (a Jamf Pro API client, recommended), or user with password_file or password_env", coverage.ErrNoCredentials)
	case userMode && cfg.User == "":
		return nil, fail("password_file/password_env is set but user is not; set user to the Jamf Pro account name")
	case userMode && !hasPassword:
		return nil, fail("%w: user %s has no password_file or password_env", coverage.ErrNoCredentials, cfg.User)
	}
	tr, err := cfg.HTTPClient(env)
	if err != nil {
		return nil, fail("%w", err)
	}
	tr.Budget = cfg.BudgetOr(DefaultBudget)
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Source{name: name, base: base, version: cfg.APIVersion, pageSize: cfg.PageSize, filter: cfg.Filter,
		maxBody: DefaultMaxBody, tr: tr, env: env, log: log}
	s.cache = &connauth.TokenCache{Now: env.Now}
	if clientMode {
		cc, err := cfg.OAuth2.ClientCredentials(env, base+"/api/oauth/token", nil)
		if err != nil {
			return nil, fail("%w", err)
		}
		s.clientID = cc.ClientID
		s.cache.Login = cc.Login(tr)
		return s, nil
	}
	// Read it now so that a missing file shows at start; it is read again
	// at each Basic login, so a corrected file is picked up by --watch.
	if _, err := cfg.Password(env); err != nil {
		return nil, fail("%w", err)
	}
	s.session = &session{src: s, conn: cfg.Conn, user: cfg.User}
	s.cache.Login = s.session.login
	return s, nil
}

// baseURL accepts the server's address, with or without /api.
func baseURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("url is not set; give the Jamf Pro server's address, e.g. https://yourcompany.jamfcloud.com")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("url %q is not an http(s) address such as https://yourcompany.jamfcloud.com", raw)
	}
	if u.User != nil {
		return "", errors.New("url must not hold a user or password; use user with password_file, or client_id with client_secret_file")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("url %q must not hold a query or fragment; use filter for an RSQL filter", raw)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api")
	u.RawPath = ""
	return strings.TrimSuffix(u.String(), "/"), nil
}

func (s *Source) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("jamf source %s: %w", s.name, err)
}

func (s *Source) now() time.Time {
	if s.env.Now != nil {
		return s.env.Now()
	}
	return time.Now()
}
