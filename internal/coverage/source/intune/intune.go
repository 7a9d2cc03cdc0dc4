// Package intune is the coverage connector for Microsoft Intune (kind
// "intune"): it reads the devices Intune manages through Microsoft Graph
// (GET /deviceManagement/managedDevices), following @odata.nextLink page by
// page, and maps each device to a coverage.Record.
//
// It logs in as an app registration with the OAuth2 client-credentials grant
// of the Microsoft identity platform (POST
// https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token, scope
// https://graph.microsoft.com/.default); the token is shared by every call of
// the source, renewed before it expires and kept between --watch runs, and a
// 401 is followed by exactly one new login. The app needs the application
// permission DeviceManagementManagedDevices.Read.All with admin consent, and
// nothing more.
//
// Health: a device's MDM agent works when its lastSyncDateTime (its last
// successful check-in with Intune) lies within the config's window. With
// api_version: beta, Graph also gives managementState, and any state other
// than "managed" (retirePending, wipePending, deletePending, retireFailed,
// unhealthy, ...) is not healthy whatever the sync time. complianceState is a
// policy outcome, not agent health: it is kept in Fields only.
//
// Rate limits: Intune's devices service allows 2,000 requests per 20 s per
// app per tenant and 4,000 per tenant for all apps; the default budget is 100
// requests per 5 s (at most 500 in any 20 s), a quarter of the app's share,
// leaving room for the tenant's other apps. A 429 pauses the whole source,
// with Retry-After when Graph sends it and exponential backoff when it does
// not (Intune often omits it).
//
// Documentation followed:
//   - https://learn.microsoft.com/graph/api/intune-devices-manageddevice-list (List managedDevices, permissions)
//   - https://learn.microsoft.com/graph/api/resources/intune-devices-manageddevice (properties, v1.0 and beta)
//   - https://learn.microsoft.com/graph/api/resources/intune-devices-managementstate (managementState, beta)
//   - https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow (token request)
//   - https://learn.microsoft.com/graph/paging (@odata.nextLink)
//   - https://learn.microsoft.com/graph/throttling and /graph/throttling-limits ("Intune devices service limits")
//   - https://learn.microsoft.com/graph/errors (the error body)
//   - https://learn.microsoft.com/graph/deployments (national cloud endpoints)
package intune

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

func init() { coverage.Register("intune", New) }

// Config is an intune source's YAML mapping.
type Config struct {
	coverage.Conn   `yaml:",inline"`
	coverage.OAuth2 `yaml:",inline"`
	// Tenant is the Entra tenant: its id (a GUID) or one of its domains
	// (contoso.onmicrosoft.com). Required unless token_url is given.
	Tenant string `yaml:"tenant"`
	// Filter is an OData $filter expression passed to Graph as it is, e.g.
	// "operatingSystem eq 'Windows'"; empty reads every managed device.
	Filter string `yaml:"filter"`
	// PageSize is $top, 1 to MaxPageSize; zero: MaxPageSize.
	PageSize int `yaml:"page_size"`
	// APIVersion is "v1.0" (the default) or "beta" (adds managementState).
	APIVersion string `yaml:"api_version"`
}

// Defaults and bounds.
const (
	DefaultURL = "https://graph.microsoft.com"
	// MaxPageSize is the most devices Intune returns in one page of
	// managedDevices (its default page size too).
	MaxPageSize = 1000
	// DefaultMaxBody bounds one page's body.
	DefaultMaxBody = 64 << 20
	// Permission is the Graph application permission the source needs.
	Permission = "DeviceManagementManagedDevices.Read.All"
)

// DefaultBudget is the request budget when rate_limit is not set: at most
// 500 requests in any 20 s, a quarter of Intune's 2,000 per app per tenant.
var DefaultBudget = connauth.Rate{N: 100, Per: 5 * time.Second}

// loginHosts maps the Graph root of each cloud to its Entra login host
// (https://learn.microsoft.com/graph/deployments).
var loginHosts = map[string]string{
	"graph.microsoft.com":             "login.microsoftonline.com",
	"graph.microsoft.us":              "login.microsoftonline.us",
	"dod-graph.microsoft.us":          "login.microsoftonline.us",
	"microsoftgraph.chinacloudapi.cn": "login.chinacloudapi.cn",
}

// Source reads the managed devices of one Intune tenant.
type Source struct {
	name     string
	root     *url.URL // the Graph root: scheme and host (and port)
	first    string   // the first page's URL
	version  string
	selected []string
	env      coverage.Env
	tr       *connauth.Transport
	tokens   *connauth.TokenCache
	maxBody  int64
	log      *slog.Logger
}

// New builds an intune source from its YAML mapping.
func New(node *yaml.Node, env coverage.Env) (coverage.Source, error) {
	var cfg Config
	if err := coverage.DecodeStrict(node, &cfg); err != nil {
		return nil, fmt.Errorf("intune source: %w", err)
	}
	return newSource(cfg, env)
}

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE = regexp.MustCompile(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$`)
)

func newSource(cfg Config, env coverage.Env) (*Source, error) {
	name := cfg.Name
	if name == "" {
		name = "intune"
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("intune source %s: "+format, append([]any{name}, a...)...)
	}
	switch {
	case cfg.User != "" || cfg.PasswordFile != "" || cfg.PasswordEnv != "":
		return nil, fail("user/password_file/password_env do not apply: Intune is read as an app registration; give client_id and client_secret_file or client_secret_env")
	case cfg.TokenFile != "" || cfg.TokenEnv != "":
		return nil, fail("token_file/token_env do not apply: muster gets its Graph tokens itself; give client_id and client_secret_file or client_secret_env")
	}
	root, err := graphRoot(cfg.URL)
	if err != nil {
		return nil, fail("%w", err)
	}
	version := cfg.APIVersion
	switch version {
	case "":
		version = "v1.0"
	case "v1.0", "beta":
	default:
		return nil, fail("api_version %q is not v1.0 or beta; leave it out for v1.0", cfg.APIVersion)
	}
	pageSize := cfg.PageSize
	switch {
	case pageSize == 0:
		pageSize = MaxPageSize
	case pageSize < 0 || pageSize > MaxPageSize:
		return nil, fail("page_size %d is not between 1 and %d (Intune's largest page); leave it out for %d", pageSize, MaxPageSize, MaxPageSize)
	}
	filter := strings.TrimSpace(cfg.Filter)
	if strings.ContainsFunc(filter, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, fail("filter holds a control character or a line break; write the OData expression on one line, e.g. filter: \"operatingSystem eq 'Windows'\"")
	}
	if cfg.Filter != "" && filter == "" {
		return nil, fail("filter is blank; leave it out to read every device, or give an OData expression such as \"operatingSystem eq 'Windows'\"")
	}
	tokenURL, err := tokenEndpoint(cfg.Tenant, cfg.TokenURL, root)
	if err != nil {
		return nil, fail("%w", err)
	}
	scopes := []string{root.Scheme + "://" + root.Host + "/.default"}
	for i, s := range cfg.Scopes {
		if !strings.HasSuffix(s, "/.default") {
			return nil, fail("scopes[%d] %q does not end in /.default: the client-credentials grant takes only a resource's .default scope, e.g. %s", i, s, scopes[0])
		}
	}
	// Read the secret now so that a missing file shows at start; it is read
	// again at each login, so a rotated secret is picked up by --watch.
	if _, err := cfg.OAuth2.ClientCredentials(env, tokenURL, scopes); err != nil {
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
	selected := slices.Clone(v1Fields)
	if version == "beta" {
		selected = append(selected, "managementState")
	}
	s := &Source{name: name, root: root, version: version, selected: selected, env: env, tr: tr,
		maxBody: DefaultMaxBody, log: log}
	s.first = firstPage(root, version, selected, pageSize, filter)
	oauth := cfg.OAuth2
	s.tokens = &connauth.TokenCache{Now: env.Now, Login: func(ctx context.Context) (connauth.Token, error) {
		cc, err := oauth.ClientCredentials(env, tokenURL, scopes)
		if err != nil {
			return connauth.Token{}, err
		}
		return cc.Login(tr)(ctx)
	}}
	return s, nil
}

// graphRoot checks url: the Graph root of a cloud, without a version.
func graphRoot(raw string) (*url.URL, error) {
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q is not an http(s) address such as %s", raw, DefaultURL)
	}
	if u.User != nil {
		return nil, errors.New("url must not hold a user or password; give client_id and client_secret_file")
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if p == "v1.0" || p == "beta" {
			return nil, fmt.Errorf("url %q holds the API version; give the root (%s://%s) and api_version: %s", raw, u.Scheme, u.Host, p)
		}
		return nil, fmt.Errorf("url %q has a path; give the Graph root only, such as %s", raw, DefaultURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("url %q has a query or fragment; give the Graph root only, such as %s", raw, DefaultURL)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// tokenEndpoint is token_url, or the tenant's v2.0 token endpoint in the
// cloud of root.
func tokenEndpoint(tenant, tokenURL string, root *url.URL) (string, error) {
	switch {
	case tenant != "" && tokenURL != "":
		return "", errors.New("give tenant (the token endpoint is derived from it) or token_url, not both")
	case tokenURL != "":
		return tokenURL, nil // checked by OAuth2.ClientCredentials
	case tenant == "":
		return "", fmt.Errorf("%w: tenant is not set; give the Entra tenant id (a GUID) or its domain, e.g. tenant: contoso.onmicrosoft.com", coverage.ErrNoCredentials)
	}
	switch strings.ToLower(tenant) {
	case "common", "organizations", "consumers":
		return "", fmt.Errorf("tenant %q is not a tenant: the client-credentials grant needs the tenant's id (a GUID) or one of its domains", tenant)
	}
	if !guidRE.MatchString(tenant) && !domainRE.MatchString(tenant) {
		return "", fmt.Errorf("tenant %q is neither a tenant id (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47) nor a domain such as contoso.onmicrosoft.com", tenant)
	}
	login, ok := loginHosts[strings.ToLower(root.Hostname())]
	if !ok {
		return "", fmt.Errorf("url %s is not a Graph root muster knows the login endpoint of; give token_url (the tenant's https://.../{tenant}/oauth2/v2.0/token) instead of tenant", root)
	}
	return "https://" + login + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/token", nil
}

// v1Fields are the managedDevice properties the source selects (v1.0).
var v1Fields = []string{"id", "deviceName", "serialNumber", "wiFiMacAddress", "ethernetMacAddress",
	"operatingSystem", "osVersion", "lastSyncDateTime", "complianceState", "managementAgent",
	"azureADDeviceId", "managedDeviceOwnerType", "deviceCategoryDisplayName"}

// firstPage builds the first page's address; the query stays readable
// ($select with plain commas) since it is shown in Request.
func firstPage(root *url.URL, version string, fields []string, top int, filter string) string {
	q := "$select=" + strings.Join(fields, ",") + "&$top=" + fmt.Sprint(top)
	if filter != "" {
		q += "&$filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
	}
	return root.String() + "/" + version + "/deviceManagement/managedDevices?" + q
}
