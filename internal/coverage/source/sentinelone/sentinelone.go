// Package sentinelone is the coverage connector for SentinelOne Singularity
// (kind "sentinelone"): it reads the agents of a SentinelOne management
// console through its Management API v2.1 (GET /web/api/v2.1/agents) and maps
// each agent to a coverage.Record.
//
// Authentication is a static API token, sent as "Authorization: ApiToken
// <token>". SentinelOne has no OAuth2 for its management API; tokens belong to
// a console user or a service user and expire (30 days for a console user's
// token by default, the chosen expiry for a service user). A 401 means the
// token expired or was revoked or regenerated: the connector then reads
// token_file/token_env once more (so a rotated token is picked up without a
// restart) and, when the token there is the one just refused, stops with an
// error that wraps connauth.ErrLoginRefused; it never loops on a refused token.
// Once per Fetch it asks POST /web/api/v2.1/users/api-token-details when the
// token expires and warns when that is less than a week away; that call is
// advisory (service users' tokens may not be allowed to introspect) and its
// failure only logs.
//
// Paging follows the API's cursors: limit (1-1000) and cursor=<nextCursor of
// the previous page>, until nextCursor is null; pagination.totalItems is
// declared to coverage.Walk, which turns a looping cursor, a repeated agent id
// and more or fewer agents than declared into errors.
//
// Health, SentinelOne's own fields: an agent is healthy when isActive is true,
// it is not decommissioned, uninstalled or pending uninstall, networkStatus is
// "connected" (a "disconnected" agent is network-quarantined: contained),
// operationalState is "na" (not disabled), and lastActiveDate is within the
// config's window. State is the most telling word: decommissioned,
// uninstalled, pending_uninstall, contained, the operationalState
// (fully_disabled, partially_disabled, auto_fully_disabled,
// auto_partially_disabled, disabled_error, db_corruption), inactive, stale
// (isActive but last active before the window), connecting, disconnecting,
// active; a networkStatus the connector does not know is reported as it is
// (or "unknown" when empty), unhealthy. Only "active" is healthy; infected is
// kept in Fields but does not change health (the agent is working).
//
// Decoding: a page is read once by a small typed scanner (decode.go, which
// skips what it does not read with internal/coverage/jsonscan) instead
// of encoding/json, which costs several times the 10 µs an agent this
// connector allows itself; a field of the wrong type is an error naming it
// (data[3].networkInterfaces).
//
// Rate limits: SentinelOne publishes no numeric limit for the management API
// outside the console's own documentation; the default budget is 4 requests
// a second (at most 4 in any second), well below the 1,000 a
// minute that third-party references give and far more than a 100,000-agent
// walk needs (100 pages). 429s are retried honouring Retry-After.
//
// Documentation followed:
//   - Get Agents (webApiAgentsGet), its parameters (limit, cursor, siteIds,
//     accountIds, groupIds, isDecommissioned) and the agent schema, as in the
//     client generated from the console's swagger:
//     https://github.com/Dirt-Diver/s1-api (api/docs/AgentsApi.md,
//     AgentsSchemasAgentViewSchemaMany200Data.md,
//     AgentsSchemasAgentViewSchemaMany200NetworkInterfaces.md,
//     ActivitiesActivityViewSchemaMany200Pagination.md)
//   - the console's own page, https://<console>/api-doc/api-details?category=agents&api=get-agents
//     (behind the console login), as referenced by
//     https://docs.blinkops.com/docs/integrations/sentinelone/actions/list-agents
//   - an agent as the API returns it: demisto/content
//     Packs/SentinelOne/Integrations/SentinelOne-V2/test_data/agents_raw_response.json
//   - networkStatus and operationalState values:
//     https://xsoar.pan.dev/docs/reference/integrations/sentinel-one-v2 and
//     Cloudflare's SentinelOne device-posture schema (network_status,
//     operational_state enums)
//   - the ApiToken header and token expiry:
//     https://surecloud.gitbook.io/surecloud-docs/integrations/ccm-and-evidence-collection-integrations/sentinelone,
//     https://help.okta.com/wf/en-us/content/topics/workflows/connector-reference/sentinelone/overviews/authorization.htm
//   - api-token-details (POST {"data":{"apiToken":...}} answering data.expiresAt):
//     https://<console>/api-doc/api-details?category=users&api=api-token-details,
//     as used by github.com/vradchenko/PowerShell-SentinelOne
package sentinelone

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

func init() { coverage.Register("sentinelone", New) }

// Config is a sentinelone source's YAML mapping.
type Config struct {
	coverage.Conn `yaml:",inline"`
	// SiteIDs, AccountIDs and GroupIDs limit the source to the agents of
	// these sites, accounts or groups (SentinelOne's numeric ids); empty
	// reads every agent the token's scope sees.
	SiteIDs    []string `yaml:"site_ids"`
	AccountIDs []string `yaml:"account_ids"`
	GroupIDs   []string `yaml:"group_ids"`
	// IncludeDecommissioned reads decommissioned agents too (default true):
	// they are reported, unhealthy, so that a device whose agent was
	// decommissioned shows as such rather than as missing.
	IncludeDecommissioned *bool `yaml:"include_decommissioned"`
	// PageSize is the agents per request, 1-1000 (default 1000, the API's maximum).
	PageSize int `yaml:"page_size"`
}

const (
	// AgentsPath is the Get Agents endpoint.
	AgentsPath = "/web/api/v2.1/agents"
	// TokenDetailsPath answers when the API token expires.
	TokenDetailsPath = "/web/api/v2.1/users/api-token-details"
	// MaxPageSize is the API's largest limit.
	MaxPageSize = 1000
	// DefaultMaxBody bounds one answer: a page of 1000 agents is a few MB.
	DefaultMaxBody = 64 << 20
	// ExpiryWarning is how long before the token's expiry a warning is printed.
	ExpiryWarning = 7 * 24 * time.Hour
)

// DefaultBudget is the request budget when rate_limit is not set.
var DefaultBudget = connauth.Rate{N: 4, Per: time.Second}

// Source reads one SentinelOne console.
type Source struct {
	name     string
	base     string // the console's address, without a trailing slash
	tr       *connauth.Transport
	cache    connauth.TokenCache
	conn     coverage.Conn
	env      coverage.Env
	filters  url.Values
	pageSize int
	maxBody  int64
	log      *slog.Logger
	stderr   io.Writer

	mu      sync.Mutex
	refused string // the token the API last refused with a 401
	why     string // what the API said then
}

// New builds a sentinelone source from its YAML mapping.
func New(node *yaml.Node, env coverage.Env) (coverage.Source, error) {
	var cfg Config
	if err := coverage.DecodeStrict(node, &cfg); err != nil {
		return nil, fmt.Errorf("sentinelone source: %w", err)
	}
	return newSource(cfg, env)
}

func newSource(cfg Config, env coverage.Env) (*Source, error) {
	name := cfg.Name
	if name == "" {
		name = "sentinelone"
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("sentinelone source %s: "+format, append([]any{name}, a...)...)
	}
	base, err := consoleURL(cfg.URL)
	if err != nil {
		return nil, fail("%v", err)
	}
	switch {
	case cfg.User != "":
		return nil, fail("user is not used: SentinelOne's API takes an API token; remove user and set token_file or token_env")
	case cfg.PasswordFile != "" || cfg.PasswordEnv != "":
		return nil, fail("password_file/password_env are not used: SentinelOne's API takes an API token; put the token in token_file or token_env instead")
	}
	token, err := cfg.Token(env)
	if err != nil {
		return nil, fail("%v", err)
	}
	if token == "" {
		return nil, fail("%w: set token_file or token_env to an API token (console: My User or a service user > Actions > API Token Operations > Generate)", coverage.ErrNoCredentials)
	}
	if strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, fail("the API token holds white space or control characters; token_file/token_env must hold the token alone")
	}
	filters := url.Values{}
	for _, f := range []struct {
		key, param string
		ids        []string
	}{{"site_ids", "siteIds", cfg.SiteIDs}, {"account_ids", "accountIds", cfg.AccountIDs}, {"group_ids", "groupIds", cfg.GroupIDs}} {
		ids, err := cleanIDs(f.key, f.ids)
		if err != nil {
			return nil, fail("%v", err)
		}
		if len(ids) > 0 {
			filters.Set(f.param, strings.Join(ids, ","))
		}
	}
	if cfg.IncludeDecommissioned == nil || *cfg.IncludeDecommissioned {
		filters.Set("isDecommissioned", "true,false") // both, whatever the console's default
	} else {
		filters.Set("isDecommissioned", "false")
	}
	pageSize := cfg.PageSize
	switch {
	case pageSize == 0:
		pageSize = MaxPageSize
	case pageSize < 1 || pageSize > MaxPageSize:
		return nil, fail("page_size %d is out of range; the API takes 1 to %d agents a page (default %d)", pageSize, MaxPageSize, MaxPageSize)
	}
	tr, err := cfg.HTTPClient(env)
	if err != nil {
		return nil, fail("%v", err)
	}
	tr.Budget = cfg.BudgetOr(DefaultBudget)
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Source{name: name, base: base, tr: tr, conn: cfg.Conn, env: env, filters: filters,
		pageSize: pageSize, maxBody: DefaultMaxBody, log: log, stderr: env.Stderr}
	s.cache.Login = s.login
	s.cache.Now = env.Now
	return s, nil
}

// consoleURL checks url, the console's address, and returns it without a
// trailing slash (an address ending in /web/api/v2.1 is accepted too).
func consoleURL(raw string) (string, error) {
	const example = "https://usea1-partners.sentinelone.net"
	if raw == "" {
		return "", fmt.Errorf("url is not set; give the management console's address, e.g. %s", example)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("url %q is not an http(s) address such as %s", redact(raw), example)
	}
	if u.User != nil {
		return "", errors.New("url must not hold a user or password; put the API token in token_file or token_env")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("url %q must not hold a query or fragment; give the console's address, e.g. %s", raw, example)
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, "/web/api/v2.1")
	u.Path, u.RawPath = strings.TrimRight(p, "/"), ""
	return u.String(), nil
}

// redact hides what comes before an '@' in an address that did not parse.
func redact(s string) string {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return "xxxxx@" + s[i+1:]
	}
	return s
}

// cleanIDs checks a list of SentinelOne ids (decimal numbers), drops repeats.
func cleanIDs(key string, in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for i, id := range in {
		id = strings.TrimSpace(id)
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			return nil, fmt.Errorf("%s[%d] %q is not a SentinelOne id; ids are numbers such as 225494730938493804 (the console shows them in the site's, account's or group's details)", key, i, in[i])
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}
