// Package crowdstrike is the coverage connector for CrowdStrike Falcon
// (kind "crowdstrike"): it reads every host of a Falcon customer account
// (CID) through the Hosts API and maps each to a coverage.Record.
//
// The walk lists host ids with GET /devices/queries/devices-scroll/v1 (an
// opaque offset token from meta.pagination.offset, up to 5000 ids a page,
// the token valid for 2 minutes; the plain /devices/queries/devices/v1 stops
// at an offset of 10,000) and reads each page's hosts with
// POST /devices/entities/devices/v2 ({"ids": [...]}, up to 5000 ids a call).
// An optional FQL filter is passed through as the scroll's filter parameter.
// Every answer is the Falcon envelope {meta, resources, errors}; a non-empty
// errors array is an error, and a listed id whose details do not come back
// is an error too (a partial inventory would turn into missing agents).
//
// It logs in with an API client (OAuth2 client credentials: POST
// {base}/oauth2/token with client_id, client_secret and, for a child CID
// of Falcon Flight Control, member_cid; tokens last 30 minutes). The API
// client needs the "Hosts: Read" scope and nothing more; scopes are chosen
// in the Falcon console, none are sent with the token request. A request
// to the wrong cloud is answered with a redirect carrying X-Cs-Region; the
// connector does not follow it but says which cloud to configure.
//
// Health: Falcon's device details have no online flag, so a host is healthy
// when its status is "normal" (not contained or being contained), it is not
// in reduced functionality mode, and its last_seen is within the config's
// window. The state is Falcon's containment status as given, or
// "reduced_functionality", or "stale" (muster's word: last seen outside the
// window).
//
// Rate limit: Falcon allows 6,000 requests a minute per customer account on
// a sliding window, shared by every API client of the account. The default
// budget is 40 requests a second, evenly spaced (at most 2,400 in any
// minute); a 100,000-host walk needs about 41 requests (20 pages of ids,
// 20 details calls, one login).
//
// Documentation followed:
//   - falconpy Hosts: https://falconpy.io/Service-Collections/Hosts.html
//     (QueryDevicesByFilterScroll, PostDeviceDetailsV2; parameter ranges from
//     falconpy's src/falconpy/_endpoint/_hosts.py)
//   - developer.crowdstrike.com Hosts collection:
//     https://developer.crowdstrike.com/api-reference/collections/hosts/
//   - OAuth2 and clouds: https://github.com/CrowdStrike/falconpy/wiki/oauth2,
//     https://github.com/CrowdStrike/psfalcon/wiki/Request-FalconToken,
//     https://developer.crowdstrike.com/sdks/powershell/authentication/
//   - rate limits, as quoted from the Falcon API documentation by its
//     maintainers: https://github.com/CrowdStrike/gofalcon/issues/364
//   - the wrong-cloud redirect (308 with X-Cs-Region):
//     https://github.com/CrowdStrike/ansible_collection_falcon/issues/217
package crowdstrike

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

func init() { coverage.Register("crowdstrike", New) }

// Config is a crowdstrike source's YAML mapping.
type Config struct {
	coverage.Conn   `yaml:",inline"`
	coverage.OAuth2 `yaml:",inline"`
	// Cloud is the Falcon cloud of the customer account (us-1, us-2, eu-1,
	// us-gov-1, us-gov-2); url replaces it (a proxy, a test server).
	Cloud string `yaml:"cloud"`
	// MemberCID is the child CID to read, for a Falcon Flight Control parent's API client.
	MemberCID string `yaml:"member_cid"`
	// Filter is an FQL expression limiting the hosts read; unset reads all.
	Filter *string `yaml:"filter"`
}

// Clouds are the Falcon clouds and their API addresses.
var Clouds = map[string]string{
	"us-1":     "https://api.crowdstrike.com",
	"us-2":     "https://api.us-2.crowdstrike.com",
	"eu-1":     "https://api.eu-1.crowdstrike.com",
	"us-gov-1": "https://api.laggar.gcw.crowdstrike.com",
	"us-gov-2": "https://api.us-gov-2.crowdstrike.mil",
}

// DefaultCloud is used when neither cloud nor url is set, as Falcon's own
// SDKs do; a client of another cloud gets an error naming its cloud.
const DefaultCloud = "us-1"

// Paging limits from the Hosts API.
const (
	PageSize    = 5000 // ids per scroll page, the most the API allows
	DetailBatch = 5000 // ids per POST /devices/entities/devices/v2, the most the API allows
)

// DefaultMaxBody bounds one answer. A device record is 2-4 KB, so 5000 of
// them fit with room to spare.
const DefaultMaxBody = 64 << 20

// AccountLimit is Falcon's documented limit: requests per minute per customer account.
const AccountLimit = 6000

// DefaultBudget is the request budget when rate_limit is not set: 40 a
// second, so that no minute holds more than 2,400 requests, well under the
// account's 6,000 that other API clients share.
var DefaultBudget = connauth.Rate{N: 40, Per: time.Second}

// Source reads one Falcon customer account.
type Source struct {
	name      string
	base      string // the API address, without a trailing slash
	tokenURL  string
	filter    string
	pageSize  int
	batch     int
	maxBody   int64
	tr        *connauth.Transport
	cache     *connauth.TokenCache
	clientID  string
	env       coverage.Env
	log       *slog.Logger
	scrollURL string
	detailURL string
}

// New builds a crowdstrike source from its YAML mapping.
func New(node *yaml.Node, env coverage.Env) (coverage.Source, error) {
	var cfg Config
	if err := coverage.DecodeStrict(node, &cfg); err != nil {
		return nil, fmt.Errorf("crowdstrike source: %w", err)
	}
	return newSource(cfg, env)
}

var (
	cidPattern   = regexp.MustCompile(`^[0-9a-fA-F]{32}(-[0-9a-fA-F]{2})?$`)
	printableKey = func(s string) bool {
		return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) })
	}
)

func newSource(cfg Config, env coverage.Env) (*Source, error) {
	name := cfg.Name
	if name == "" {
		name = "crowdstrike"
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("crowdstrike source %s: "+format, append([]any{name}, a...)...)
	}
	switch {
	case cfg.User != "" || cfg.PasswordFile != "" || cfg.PasswordEnv != "":
		return nil, fail("user and password_file/password_env do not apply: Falcon logs in with an API client; give client_id and client_secret_file or client_secret_env")
	case cfg.TokenFile != "" || cfg.TokenEnv != "":
		return nil, fail("token_file/token_env do not apply: Falcon tokens last 30 minutes and muster requests them itself; give the API client's client_id and client_secret_file or client_secret_env")
	case len(cfg.Scopes) > 0:
		return nil, fail("scopes do not apply: Falcon sends no scopes with the token request, an API client's scopes are chosen in the Falcon console (this source needs Hosts: Read); remove scopes")
	}
	base, err := baseURL(cfg.Cloud, cfg.URL)
	if err != nil {
		return nil, fail("%v", err)
	}
	if cfg.ClientID != "" && !printableKey(cfg.ClientID) {
		return nil, fail("client_id %q holds spaces or control characters; give the API client's id as the Falcon console shows it", cfg.ClientID)
	}
	cc, err := cfg.OAuth2.ClientCredentials(env, base+"/oauth2/token", nil)
	if err != nil {
		return nil, fail("%v", err)
	}
	if cfg.MemberCID != "" {
		if !cidPattern.MatchString(cfg.MemberCID) {
			return nil, fail("member_cid %q is not a CID: give the child account's 32 hexadecimal characters as Falcon Flight Control lists them", cfg.MemberCID)
		}
		cc.Params = url.Values{"member_cid": {cfg.MemberCID}}
	}
	filter := ""
	if cfg.Filter != nil {
		filter = strings.TrimSpace(*cfg.Filter)
		if filter == "" {
			return nil, fail("filter is empty; remove it to read every host, or give an FQL expression such as platform_name:'Windows'")
		}
		if strings.ContainsFunc(filter, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) {
			return nil, fail("filter holds control characters; give one line of FQL such as platform_name:'Windows'+product_type_desc:'Server'")
		}
	}
	tr, err := cfg.HTTPClient(env)
	if err != nil {
		return nil, fail("%v", err)
	}
	tr.Budget = cfg.BudgetOr(DefaultBudget)
	if n := perMinute(tr.Budget); n > AccountLimit && env.Stderr != nil {
		fmt.Fprintf(env.Stderr, "muster: warning: source %s: rate_limit %s lets up to %d requests into one minute, more than Falcon's %d per account; expect 429 answers unless CrowdStrike raised your limit\n",
			name, tr.Budget, n, AccountLimit)
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Source{name: name, base: base, tokenURL: cc.TokenURL, filter: filter, pageSize: PageSize,
		batch: DetailBatch, maxBody: DefaultMaxBody, tr: tr, clientID: cc.ClientID, env: env, log: log,
		scrollURL: base + "/devices/queries/devices-scroll/v1", detailURL: base + "/devices/entities/devices/v2"}
	tr.HTTP.CheckRedirect = s.checkRedirect
	login := cc.Login(tr)
	s.cache = &connauth.TokenCache{Login: s.wrapLogin(login), Now: env.Now}
	return s, nil
}

// baseURL is the API address from cloud or url (exactly one; us-1 when neither).
func baseURL(cloud, raw string) (string, error) {
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range Clouds {
			if !yield(k) {
				return
			}
		}
	})
	switch {
	case cloud != "" && raw != "":
		return "", errors.New("give cloud or url, not both: cloud picks Falcon's API address, url replaces it (a proxy or a test server)")
	case cloud != "":
		b, ok := Clouds[strings.ToLower(strings.TrimSpace(cloud))]
		if !ok {
			return "", fmt.Errorf("cloud %q is not a Falcon cloud; give one of %s (the console's address shows it: falcon.us-2.crowdstrike.com is us-2)", cloud, strings.Join(names, ", "))
		}
		return b, nil
	case raw == "":
		return Clouds[DefaultCloud], nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("url %q is not an http(s) address such as https://api.eu-1.crowdstrike.com; to pick a Falcon cloud, use cloud: %s", raw, strings.Join(names, "|"))
	}
	if u.User != nil {
		return "", errors.New("url must not hold a user or password; give client_id and client_secret_file")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("url %q holds a query or fragment; give the API's base address only, e.g. https://api.crowdstrike.com", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// perMinute is the most requests a budget lets into one minute: it spaces
// them evenly, one every Per/N.
func perMinute(r connauth.Rate) int {
	if r.N <= 0 || r.Per <= 0 {
		return int(^uint(0) >> 1)
	}
	return int(int64(time.Minute) * int64(r.N) / int64(r.Per))
}
