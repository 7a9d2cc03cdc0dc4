// Package ninjaone is the coverage connector for NinjaOne RMM (kind
// "ninjaone"): it reads every device of a NinjaOne instance through the
// Public API 2.0 (GET /v2/devices-detailed) and maps each to a
// coverage.Record.
//
// Login: an API client app ("API Services (machine-to-machine)", grant type
// Client Credentials) logs in at POST https://{instance}/ws/oauth/token with
// the form fields grant_type=client_credentials, client_id, client_secret and
// scope. The connector asks for the scope "monitoring" only, which NinjaOne
// describes as read-only access to monitoring data and the organization
// structure; it never needs "management" or "control". The token (NinjaOne
// issues them for 3600 s) is shared by every call of the source, kept between
// --watch runs, renewed before it expires and renewed once when the API
// answers 401.
//
// Paging: /v2/devices-detailed takes pageSize and after (the last device id
// of the previous page) and answers a bare JSON array of devices in
// ascending id order, with no total. The walk sends after=<last id> until a
// page comes back empty; a short page does not end it, because a server that
// caps pageSize below what was asked would otherwise be read as the end of
// the list. A page whose ids do not ascend, or do not start after the
// cursor, is an error (the API is not paging as documented), as is a cursor
// that comes back (coverage.Walk).
//
// Health: a device is healthy when NinjaOne does not call it offline
// ("offline": false), its approvalStatus is APPROVED (or absent), and its
// lastContact is within the config's window: state "online". Otherwise the
// state is "offline" (offline true), "stale" (not offline, but lastContact
// is older than the window or missing), "pending", "staged" or
// "decommissioned" (approvalStatus), none of them healthy.
//
// Rate limits: NinjaOne publishes no request limit for the 2.0 API (the
// legacy 1.x API allowed 10 list calls per 10 minutes), so the default
// budget is a conservative 30 requests a minute: a 100,000-device instance
// is read in 101 requests of 1000 devices, about three and a half minutes.
// A 429 pauses the source and is retried, honouring Retry-After.
//
// Documentation followed:
//   - NinjaOne Public API 2.0 reference, operation getDevicesDetailed and the
//     Device/AgentDevice, ComputerSystem and OperatingSystem schemas:
//     https://app.ninjaone.com/apidocs-beta/core-resources/operations/getDevicesDetailed
//     (its OpenAPI document "NinjaOne Public API 2.0", 2.0.9-draft, as
//     republished at github.com/JunknerdGit/NinjaOneAPI; the approvalStatus
//     values STAGED and DECOMMISSIONED are from the current reference)
//   - NinjaOne, "API OAuth Token Configuration" (client apps, the scopes
//     Monitoring, Management and Control):
//     https://www.ninjaone.com/docs/application-programming-interface-api/oauth-token-configuration
//   - the instances' host names (app, us2, eu, ca, oc .ninjarmm.com), as
//     NinjaOne's end-user login article and CIPP-API's NinjaOne extension
//     list them; CIPP-API's Get-NinjaOneToken.ps1 and
//     Invoke-NinjaOneTenantSync.ps1 (github.com/KelvinTegelaar/CIPP-API) for
//     the token request and the after=<last id> walk of devices-detailed.
package ninjaone

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

func init() { coverage.Register("ninjaone", New) }

// Regions are the NinjaOne instances, by the region key's value.
var Regions = map[string]string{
	"us":  "https://app.ninjarmm.com",
	"us2": "https://us2.ninjarmm.com",
	"eu":  "https://eu.ninjarmm.com",
	"ca":  "https://ca.ninjarmm.com",
	"oc":  "https://oc.ninjarmm.com",
}

// DefaultScopes is the one scope the connector needs: read-only monitoring data.
var DefaultScopes = []string{"monitoring"}

// PageSize is how many devices one request asks for (the page size
// CIPP-API's NinjaOne sync reads devices-detailed with).
const PageSize = 1000

// DefaultBudget is the request budget when rate_limit is not set; NinjaOne
// documents no limit for the 2.0 API, so it is a conservative choice.
var DefaultBudget = connauth.Rate{N: 30, Per: time.Minute}

// DefaultMaxBody is the largest page accepted (a page of 1000 detailed
// devices is a few MB).
const DefaultMaxBody = 64 << 20

// Config is a ninjaone source's YAML mapping.
type Config struct {
	coverage.Conn   `yaml:",inline"`
	coverage.OAuth2 `yaml:",inline"`
	// Region picks the instance: us (app.ninjarmm.com), us2, eu, ca, oc.
	// Give region or url, not both.
	Region string `yaml:"region"`
	// DF is a NinjaOne device filter passed as it is, e.g.
	// "class in (WINDOWS_WORKSTATION, MAC)" or "org = 12"; empty reads
	// every device.
	DF string `yaml:"df"`
}

// Source reads one NinjaOne instance.
type Source struct {
	name     string
	base     string // e.g. https://app.ninjarmm.com, no trailing slash
	df       string
	clientID string
	pageSize int
	maxBody  int64
	env      coverage.Env
	tr       *connauth.Transport
	cache    *connauth.TokenCache
	log      *slog.Logger

	bufMu sync.Mutex   // guards buf
	buf   bytes.Buffer // the page being decoded, reused page after page
}

// New builds a ninjaone source from its YAML mapping.
func New(node *yaml.Node, env coverage.Env) (coverage.Source, error) {
	var cfg Config
	if err := coverage.DecodeStrict(node, &cfg); err != nil {
		return nil, fmt.Errorf("ninjaone source: %w", err)
	}
	return newSource(cfg, env)
}

func newSource(cfg Config, env coverage.Env) (*Source, error) {
	name := cfg.Name
	if name == "" {
		name = "ninjaone"
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("ninjaone source %s: "+format, append([]any{name}, a...)...)
	}
	switch {
	case cfg.User != "" || cfg.PasswordFile != "" || cfg.PasswordEnv != "":
		return nil, fail("user and password_file/password_env do not apply: the NinjaOne API takes an API client app; give client_id and client_secret_file or client_secret_env")
	case cfg.TokenFile != "" || cfg.TokenEnv != "":
		return nil, fail("token_file/token_env do not apply: NinjaOne issues short-lived tokens to an API client app; give client_id and client_secret_file or client_secret_env instead")
	}
	base, err := baseURL(cfg.Region, cfg.URL)
	if err != nil {
		return nil, fail("%w", err)
	}
	if strings.ContainsAny(cfg.DF, "\r\n") {
		return nil, fail("df holds a line break; give the device filter on one line, e.g. df: \"class in (WINDOWS_WORKSTATION, MAC)\"")
	}
	for i, s := range cfg.Scopes {
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, " \t") {
			return nil, fail("scopes[%d] %q is not one scope; give a list such as [monitoring]", i, s)
		}
	}
	tokenURL := tokenURLFor(base)
	cc, err := cfg.ClientCredentials(env, tokenURL, DefaultScopes)
	if err != nil {
		return nil, fail("%w", err)
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
	s := &Source{name: name, base: base, df: strings.TrimSpace(cfg.DF), clientID: cc.ClientID,
		pageSize: PageSize, maxBody: DefaultMaxBody, env: env, tr: tr, log: log}
	s.cache = &connauth.TokenCache{Login: s.wrapLogin(cc.Login(tr), cc.ClientSecret), Now: env.Now}
	return s, nil
}

// baseURL is the instance's address from region or url (exactly one).
func baseURL(region, raw string) (string, error) {
	region = strings.ToLower(strings.TrimSpace(region))
	switch {
	case region != "" && raw != "":
		return "", errors.New("give region or url, not both (url is for an address region does not cover)")
	case region == "" && raw == "":
		return "", fmt.Errorf("set region (one of %s: the host you sign in to, app.ninjarmm.com is us) or url (e.g. https://app.ninjarmm.com)", strings.Join(regionNames(), ", "))
	case region != "":
		b, ok := Regions[region]
		if !ok {
			return "", fmt.Errorf("region %q is not a NinjaOne region; give one of %s (app.ninjarmm.com is us), or url", region, strings.Join(regionNames(), ", "))
		}
		return b, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("url %q is not an http(s) address such as https://app.ninjarmm.com", raw)
	}
	if u.User != nil {
		return "", errors.New("url must not hold a user or password; give client_id and client_secret_file")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("url %q holds a query or fragment; give the instance's address only, e.g. https://app.ninjarmm.com (put a device filter in df)", raw)
	}
	// The instance's address, also when given as .../v2 or .../ws (the
	// forms the API reference and the token endpoint show).
	p := strings.TrimRight(u.Path, "/")
	for _, suffix := range []string{"/v2", "/ws"} {
		p = strings.TrimSuffix(p, suffix)
	}
	u.Path = p
	return strings.TrimRight(u.String(), "/"), nil
}

// tokenURLFor is the instance's token endpoint: /ws/oauth/token at the
// host's root (it stays there when the API is reached under /api).
func tokenURLFor(base string) string {
	u, _ := url.Parse(base)
	return u.Scheme + "://" + u.Host + "/ws/oauth/token"
}

func regionNames() []string {
	out := make([]string, 0, len(Regions))
	for k := range Regions {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
