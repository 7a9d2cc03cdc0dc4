// Package rest is the coverage connector for any JSON REST inventory (kind
// "rest"): a DNS or DHCP agent's console, a logging pipeline's agent list,
// an in-house CMDB. The config names the list endpoint, how to log in, where
// the records are in each answer, which record field holds what, and how
// the API pages; the connector reads every page and maps each record to a
// coverage.Record.
//
// There is no vendor: the paging styles are the common conventions:
//
//   - offset: offset and limit query parameters, advanced by the records
//     each page held;
//   - page: a page number (from 0 or 1, as the API counts) and a page size;
//   - cursor: an opaque cursor from the answer, sent back as a parameter;
//   - next_link: the next page's address in the answer, as OData's
//     @odata.nextLink (OData JSON Format 4.01, section 4.5.5) or HAL's
//     _links.next.href;
//   - link_header: the Link header's rel="next" target (RFC 8288), as
//     GitHub's REST API pages.
//
// Every walk goes through coverage.Walk: a cursor or link that comes back, a
// record that comes twice, or more or fewer records than the answer's total
// make the fetch fail rather than return a shorter list. A next link to
// another host or scheme than url is refused: the source's credentials
// would be sent there. Offset and page walks stop at an empty page, at the
// declared total, or at a page shorter than the longest page seen before
// (never at a page shorter than the size asked for: an API that caps its
// pages below it would be cut short).
//
// Health: with a state field mapped, a record is healthy when its state is
// one of healthy: (case-insensitive; default "active", "online", ...), and,
// with require_fresh, when last_seen is also within the config's window.
// With no state field but a last_seen field, healthy means seen within the
// window (states "seen", "stale", "never_seen"). With neither, every record
// is "listed" and healthy: being in the inventory is all it says.
//
// Documentation followed:
//   - RFC 8288, Web Linking: https://www.rfc-editor.org/rfc/rfc8288
//   - GitHub REST API, using pagination:
//     https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
//   - OData JSON Format 4.01, control information nextLink:
//     https://docs.oasis-open.org/odata/odata-json-format/v4.01/odata-json-format-v4.01.html
//   - RFC 6749 section 4.4 (client credentials), RFC 6750 (bearer tokens),
//     RFC 7617 (Basic)
package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

func init() { coverage.Register("rest", New) }

// Config is a rest source's YAML mapping.
type Config struct {
	coverage.Conn   `yaml:",inline"`
	coverage.OAuth2 `yaml:",inline"`

	Method  string            `yaml:"method"`  // GET (default) or POST
	Body    map[string]any    `yaml:"body"`    // POST: the JSON object sent
	Query   map[string]string `yaml:"query"`   // fixed query parameters
	Headers map[string]string `yaml:"headers"` // fixed, non-secret headers

	Auth         string `yaml:"auth"`           // none, basic, bearer, api_key, oauth2
	APIKeyHeader string `yaml:"api_key_header"` // api_key: the header (default X-API-Key)
	APIKeyPrefix string `yaml:"api_key_prefix"` // api_key: text before the key in the header
	APIKeyParam  string `yaml:"api_key_param"`  // api_key: a query parameter instead of a header

	Records      string            `yaml:"records"` // dotted path to the records' array; "" the top level
	Fields       map[string]string `yaml:"fields"`  // muster field -> dotted path in a record
	TimeFormat   string            `yaml:"time_format"`
	Healthy      []string          `yaml:"healthy"`
	RequireFresh bool              `yaml:"require_fresh"`

	Paging Paging `yaml:"paging"`
}

// Paging is the paging: mapping.
type Paging struct {
	Style       string `yaml:"style"` // none, offset, page, cursor, next_link, link_header
	In          string `yaml:"in"`    // query (default) or body (POST): where paging parameters go
	Size        int    `yaml:"size"`
	SizeParam   string `yaml:"size_param"`
	LimitParam  string `yaml:"limit_param"`
	OffsetParam string `yaml:"offset_param"`
	PageParam   string `yaml:"page_param"`
	First       *int   `yaml:"first"`
	CursorParam string `yaml:"cursor_param"`
	CursorPath  string `yaml:"cursor_path"`
	NextPath    string `yaml:"next_path"`
	Total       string `yaml:"total"`
	MaxPages    int    `yaml:"max_pages"`
}

const (
	// DefaultMaxPages bounds a walk whose API never stops giving pages.
	DefaultMaxPages = 100000
	// DefaultOffsetSize is the page size of offset paging when size is not set.
	DefaultOffsetSize = 100
	// MaxSize is the largest page size accepted.
	MaxSize = 100000
	// DefaultMaxBody bounds one page's answer.
	DefaultMaxBody = 64 << 20
)

// DefaultBudget is five requests a second: the API is unknown, and this
// stays under the 10/s (600/min) tier common to published API limits with a
// margin of two. rate_limit sets another.
var DefaultBudget = connauth.Rate{N: 5, Per: time.Second}

// field is one Record field a path can fill.
type field int

const (
	fID field = iota
	fHostname
	fSerial
	fMAC
	fIP
	fOS
	fGroups
	fLastSeen
	fState
	numFields
)

var fieldNames = [numFields]string{"id", "hostname", "serial", "mac", "ip", "os", "groups", "last_seen", "state"}

// Source reads one REST inventory.
type Source struct {
	name    string
	base    *url.URL // url, with query: merged in
	method  string
	body    map[string]any
	headers http.Header
	paging  Paging
	inBody  bool
	maxBody int64
	tr      *connauth.Transport
	env     coverage.Env
	log     *slog.Logger

	auth      string
	user      string
	password  string
	token     string
	keyHeader string
	keyPrefix string
	keyParam  string
	cache     *connauth.TokenCache // oauth2
	clientID  string
	tokenURL  string

	m                               *mapper
	records                         string // records:, as configured
	page                            trie   // records, total, cursor_path, next_path
	slotTotal, slotCursor, slotNext int
}

// New builds a rest source from its YAML mapping.
func New(node *yaml.Node, env coverage.Env) (coverage.Source, error) {
	var cfg Config
	if err := coverage.DecodeStrict(node, &cfg); err != nil {
		return nil, fmt.Errorf("rest source: %w", err)
	}
	return newSource(cfg, env)
}

func newSource(cfg Config, env coverage.Env) (*Source, error) {
	name := cfg.Name
	if name == "" {
		name = "rest"
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("rest source %s: "+format, append([]any{name}, a...)...)
	}
	s := &Source{name: name, maxBody: DefaultMaxBody, env: env, slotTotal: -1, slotCursor: -1, slotNext: -1}
	if err := s.configureAuth(&cfg, env); err != nil {
		return nil, fail("%w", err)
	}
	if err := s.configureRequest(&cfg); err != nil {
		return nil, fail("%w", err)
	}
	if err := s.configurePaging(&cfg); err != nil {
		return nil, fail("%w", err)
	}
	m, err := newMapper(&cfg, env)
	if err != nil {
		return nil, fail("%w", err)
	}
	s.m = m
	tr, err := cfg.HTTPClient(env)
	if err != nil {
		return nil, fail("%w", err)
	}
	tr.Budget = cfg.BudgetOr(DefaultBudget)
	s.tr = tr
	s.log = env.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.auth == "oauth2" {
		cc, err := cfg.OAuth2.ClientCredentials(env, "", nil)
		if err != nil {
			return nil, fail("%w", err)
		}
		s.clientID, s.tokenURL = cc.ClientID, cc.TokenURL
		s.cache = &connauth.TokenCache{Login: cc.Login(tr), Now: env.Now}
	}
	return s, nil
}

// configureAuth checks auth: and the keys it takes, and reads the secret.
func (s *Source) configureAuth(cfg *Config, env coverage.Env) error {
	set := map[string]bool{
		"user":               cfg.User != "",
		"password_file":      cfg.PasswordFile != "",
		"password_env":       cfg.PasswordEnv != "",
		"token_file":         cfg.TokenFile != "",
		"token_env":          cfg.TokenEnv != "",
		"client_id":          cfg.ClientID != "",
		"client_secret_file": cfg.ClientSecretFile != "",
		"client_secret_env":  cfg.ClientSecretEnv != "",
		"token_url":          cfg.TokenURL != "",
		"scopes":             len(cfg.Scopes) > 0,
		"api_key_header":     cfg.APIKeyHeader != "",
		"api_key_prefix":     cfg.APIKeyPrefix != "",
		"api_key_param":      cfg.APIKeyParam != "",
	}
	takes := map[string][]string{
		"none":    nil,
		"basic":   {"user", "password_file", "password_env"},
		"bearer":  {"token_file", "token_env"},
		"api_key": {"token_file", "token_env", "api_key_header", "api_key_prefix", "api_key_param"},
		"oauth2":  {"client_id", "client_secret_file", "client_secret_env", "token_url", "scopes"},
	}
	auth := cfg.Auth
	if auth == "" {
		auth = "none"
		var given []string
		for _, k := range slices.Sorted(mapKeys(set)) {
			if set[k] {
				given = append(given, k)
			}
		}
		if len(given) > 0 {
			return fmt.Errorf("%s is set but auth is not; say how the API takes it: auth: basic (user, password_file), bearer (token_file), api_key (token_file, api_key_header) or oauth2 (client_id, client_secret_file, token_url)", strings.Join(given, ", "))
		}
	}
	keys, ok := takes[auth]
	if !ok {
		return fmt.Errorf("auth %q is not one muster knows; give none, basic, bearer, api_key or oauth2", cfg.Auth)
	}
	for _, k := range slices.Sorted(mapKeys(set)) {
		if set[k] && !slices.Contains(keys, k) {
			return fmt.Errorf("%s does not apply to auth: %s; remove it (auth: %s takes %s)", k, auth, auth, takesText(keys))
		}
	}
	s.auth = auth
	switch auth {
	case "basic":
		if cfg.User == "" {
			return fmt.Errorf("%w: auth: basic needs user (the account name) and password_file or password_env", coverage.ErrNoCredentials)
		}
		if strings.Contains(cfg.User, ":") {
			return fmt.Errorf("user %q holds a colon, which HTTP Basic cannot carry (RFC 7617); give the account name only", cfg.User)
		}
		pw, err := cfg.Password(env)
		if err != nil {
			return err
		}
		if pw == "" {
			return fmt.Errorf("%w: user %s has no password_file or password_env", coverage.ErrNoCredentials, cfg.User)
		}
		s.user, s.password = cfg.User, pw
	case "bearer", "api_key":
		tok, err := cfg.Token(env)
		if err != nil {
			return err
		}
		if tok == "" {
			return fmt.Errorf("%w: auth: %s needs token_file or token_env (the API token)", coverage.ErrNoCredentials, auth)
		}
		s.token = tok
		if auth == "bearer" {
			return nil
		}
		switch {
		case cfg.APIKeyParam != "" && (cfg.APIKeyHeader != "" || cfg.APIKeyPrefix != ""):
			return errors.New("api_key_param sends the key as a query parameter; api_key_header and api_key_prefix apply to a header: give one way, not both")
		case cfg.APIKeyParam != "":
			if !validParam(cfg.APIKeyParam) {
				return fmt.Errorf("api_key_param %q is not a query parameter name such as api_key", cfg.APIKeyParam)
			}
			s.keyParam = cfg.APIKeyParam
			if env.Stderr != nil {
				fmt.Fprintf(env.Stderr, "muster: warning: source %s: api_key_param: the API key travels in the URL, where proxies and the API's access logs may keep it; prefer a header (api_key_header) if the API takes one\n", s.name)
			}
		default:
			h := cfg.APIKeyHeader
			if h == "" {
				h = "X-API-Key"
			}
			if !validHeaderName(h) {
				return fmt.Errorf("api_key_header %q is not a header name such as X-API-Key", h)
			}
			if strings.ContainsAny(cfg.APIKeyPrefix, "\r\n") {
				return errors.New("api_key_prefix must be one line, e.g. \"ApiToken \"")
			}
			s.keyHeader, s.keyPrefix = http.CanonicalHeaderKey(h), cfg.APIKeyPrefix
		}
	case "oauth2":
		if cfg.TokenURL == "" {
			return errors.New("auth: oauth2 needs token_url, the API's OAuth2 token endpoint, e.g. https://login.example/oauth2/token")
		}
		for i, sc := range cfg.Scopes {
			if strings.TrimSpace(sc) == "" || strings.ContainsAny(sc, " \t\r\n") {
				return fmt.Errorf("scopes[%d] %q is not one scope; give each scope as its own item", i, sc)
			}
		}
	}
	return nil
}

func takesText(keys []string) string {
	if len(keys) == 0 {
		return "no credentials"
	}
	return strings.Join(keys, ", ")
}

// configureRequest checks url, method, body, query and headers.
func (s *Source) configureRequest(cfg *Config) error {
	if cfg.URL == "" {
		return errors.New("url is not set; give the list endpoint, e.g. https://cmdb.example/api/v1/devices")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q is not an http(s) address such as https://cmdb.example/api/v1/devices", redactUserinfo(cfg.URL))
	}
	if u.User != nil {
		return errors.New("url must not hold a user or password; use auth: basic with user and password_file")
	}
	if u.Fragment != "" {
		return errors.New("url must not have a #fragment; remove it")
	}
	q := u.Query()
	for _, k := range slices.Sorted(mapKeys(q)) {
		if looksSecret(k) {
			return fmt.Errorf("url's query parameter %q looks like a credential; secrets go in token_file with auth: api_key and api_key_param: %s", k, k)
		}
	}
	for _, k := range slices.Sorted(mapKeys(cfg.Query)) {
		switch {
		case !validParam(k):
			return fmt.Errorf("query: %q is not a parameter name", k)
		case q.Has(k):
			return fmt.Errorf("query: %s is also in url; give it in one place", k)
		case looksSecret(k):
			return fmt.Errorf("query: %s looks like a credential; secrets go in token_file with auth: api_key and api_key_param: %s", k, k)
		}
		q.Set(k, cfg.Query[k])
	}
	if s.keyParam != "" && q.Has(s.keyParam) {
		return fmt.Errorf("api_key_param %s is also a fixed query parameter; remove it from url and query:", s.keyParam)
	}
	u.RawQuery = q.Encode()
	s.base = u

	switch strings.ToUpper(cfg.Method) {
	case "", "GET":
		s.method = http.MethodGet
		if cfg.Body != nil {
			return errors.New("body is sent with method: POST only; set method: POST or remove body")
		}
	case "POST":
		s.method = http.MethodPost
		if _, err := json.Marshal(cfg.Body); err != nil {
			return fmt.Errorf("body cannot be sent as JSON (%v); give a mapping with string keys", err)
		}
		s.body = cfg.Body
	default:
		return fmt.Errorf("method %q is not one muster sends; give GET (the default) or POST (a search endpoint that takes a JSON body)", cfg.Method)
	}

	s.headers = http.Header{}
	for _, k := range slices.Sorted(mapKeys(cfg.Headers)) {
		v := cfg.Headers[k]
		ck := http.CanonicalHeaderKey(k)
		switch {
		case !validHeaderName(k):
			return fmt.Errorf("headers: %q is not a header name", k)
		case strings.ContainsAny(v, "\r\n\x00"):
			return fmt.Errorf("headers: %s must be one line", k)
		case ck == "Authorization" || ck == "Proxy-Authorization" || ck == "Cookie":
			return fmt.Errorf("headers: %s holds a credential, which the config file must not; use auth: (bearer or api_key with token_file, basic with password_file, oauth2)", ck)
		case ck == s.keyHeader:
			return fmt.Errorf("headers: %s is the api_key_header; the key comes from token_file/token_env, remove it here", ck)
		case ck == "Host" || ck == "Content-Length" || ck == "Transfer-Encoding" || ck == "Connection":
			return fmt.Errorf("headers: %s is set by muster; remove it", ck)
		case looksSecret(k):
			return fmt.Errorf("headers: %s looks like a credential, which the config file must not hold; use auth: api_key with api_key_header: %s and token_file", ck, ck)
		}
		s.headers.Set(ck, v)
	}
	return nil
}

// configurePaging checks paging: and the answer's paths.
func (s *Source) configurePaging(cfg *Config) error {
	p := cfg.Paging
	if p.Style == "" {
		p.Style = "none"
	}
	takes := map[string][]string{
		"none":        {"total"},
		"offset":      {"in", "size", "limit_param", "offset_param", "total", "max_pages"},
		"page":        {"in", "size", "size_param", "page_param", "first", "total", "max_pages"},
		"cursor":      {"in", "size", "size_param", "cursor_param", "cursor_path", "total", "max_pages"},
		"next_link":   {"size", "size_param", "next_path", "total", "max_pages"},
		"link_header": {"size", "size_param", "total", "max_pages"},
	}
	keys, ok := takes[p.Style]
	if !ok {
		return fmt.Errorf("paging.style %q is not one muster knows; give none, offset, page, cursor, next_link or link_header", p.Style)
	}
	set := map[string]bool{"in": p.In != "", "size": p.Size != 0, "size_param": p.SizeParam != "", "limit_param": p.LimitParam != "",
		"offset_param": p.OffsetParam != "", "page_param": p.PageParam != "", "first": p.First != nil, "cursor_param": p.CursorParam != "",
		"cursor_path": p.CursorPath != "", "next_path": p.NextPath != "", "total": p.Total != "", "max_pages": p.MaxPages != 0}
	for _, k := range slices.Sorted(mapKeys(set)) {
		if set[k] && !slices.Contains(keys, k) {
			return fmt.Errorf("paging.%s does not apply to paging.style %s; remove it (style %s takes %s)", k, p.Style, p.Style, strings.Join(keys, ", "))
		}
	}
	switch {
	case p.MaxPages < 0:
		return fmt.Errorf("paging.max_pages %d is negative; give the most pages a walk may read (default %d)", p.MaxPages, DefaultMaxPages)
	case p.MaxPages == 0:
		p.MaxPages = DefaultMaxPages
	}
	if p.Size < 0 || p.Size > MaxSize {
		return fmt.Errorf("paging.size %d is out of range; give 1 to %d (the API's largest page size, per its documentation)", p.Size, MaxSize)
	}
	switch p.In {
	case "", "query":
	case "body":
		if s.method != http.MethodPost {
			return errors.New("paging.in: body puts the paging parameters into the JSON body, which is sent with method: POST only; set method: POST or remove paging.in")
		}
		s.inBody = true
	default:
		return fmt.Errorf("paging.in %q: give query (the default) or body (POST only)", p.In)
	}
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	switch p.Style {
	case "offset":
		def(&p.OffsetParam, "offset")
		def(&p.LimitParam, "limit")
		if p.Size == 0 {
			p.Size = DefaultOffsetSize
		}
		if p.OffsetParam == p.LimitParam {
			return fmt.Errorf("paging.offset_param and paging.limit_param are both %q; give the API's two parameter names", p.OffsetParam)
		}
	case "page":
		def(&p.PageParam, "page")
		if p.First == nil {
			return errors.New("paging.first is not set; give 0 if the API's first page is page 0, or 1 if it is page 1 (see its documentation)")
		}
		if *p.First != 0 && *p.First != 1 {
			return fmt.Errorf("paging.first %d: give 0 or 1, the number of the API's first page", *p.First)
		}
	case "cursor":
		def(&p.CursorParam, "cursor")
		if p.CursorPath == "" {
			return errors.New("paging.cursor_path is not set; give the dotted path of the next cursor in each answer, e.g. meta.next_cursor")
		}
	case "next_link":
		if p.NextPath == "" {
			return errors.New("paging.next_path is not set; give the dotted path of the next page's address in each answer, e.g. \"@odata.nextLink\" or _links.next.href")
		}
	}
	if p.Style != "offset" && p.Size > 0 && p.SizeParam == "" {
		return fmt.Errorf("paging.size needs paging.size_param, the API's page size parameter (e.g. per_page, page_size, limit)")
	}
	if p.SizeParam != "" && p.Size == 0 {
		return fmt.Errorf("paging.size_param %s is set but paging.size is not; give the page size to ask for", p.SizeParam)
	}
	params := map[string]string{}
	for k, v := range map[string]string{"size_param": p.SizeParam, "limit_param": p.LimitParam, "offset_param": p.OffsetParam,
		"page_param": p.PageParam, "cursor_param": p.CursorParam} {
		if v == "" || (p.Style == "offset" && (k == "page_param" || k == "cursor_param")) {
			continue
		}
		if !validParam(v) {
			return fmt.Errorf("paging.%s %q is not a parameter name", k, v)
		}
		if other, dup := params[v]; dup {
			return fmt.Errorf("paging.%s and paging.%s are both %q; give the API's distinct parameter names", min(k, other), max(k, other), v)
		}
		params[v] = k
		if s.base.Query().Has(v) && !s.inBody {
			return fmt.Errorf("query parameter %s is set by paging (paging.%s); remove it from url and query:", v, k)
		}
		if _, ok := s.body[v]; ok && s.inBody {
			return fmt.Errorf("body key %s is set by paging (paging.%s); remove it from body", v, k)
		}
		if v == s.keyParam {
			return fmt.Errorf("paging.%s is the api_key_param %q; give the API's parameter names", k, v)
		}
	}
	s.paging = p

	s.records = cfg.Records
	if err := s.page.addRecords(cfg.Records); err != nil {
		return pathError("records", cfg.Records, err)
	}
	for _, pp := range []struct {
		key, path string
		slot      *int
	}{{"paging.total", p.Total, &s.slotTotal}, {"paging.cursor_path", p.CursorPath, &s.slotCursor}, {"paging.next_path", p.NextPath, &s.slotNext}} {
		if pp.path == "" {
			continue
		}
		if cfg.Records == "" {
			return fmt.Errorf("%s needs the records in an object: records: is \"\" (the answer is an array of records), so there is no %s to read; set records: to the path of the records' array", pp.key, pp.path)
		}
		if pp.path == cfg.Records || strings.HasPrefix(pp.path, cfg.Records+".") {
			return fmt.Errorf("%s %q is inside records: %q; it must be beside the records' array, e.g. meta.total", pp.key, pp.path, cfg.Records)
		}
		slot, err := s.page.add(pp.path)
		if err != nil {
			return pathError(pp.key, pp.path, err)
		}
		*pp.slot = slot
	}
	return nil
}

// looksSecret reports whether a parameter or header name names a credential.
func looksSecret(name string) bool {
	n := strings.ToLower(name)
	n = strings.NewReplacer("-", "", "_", "", ".", "").Replace(n)
	for _, w := range []string{"token", "secret", "password", "passwd", "apikey", "auth", "cookie", "session", "signature", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return n == "key" || n == "sig" || n == "pwd"
}

func validParam(s string) bool {
	return s != "" && !strings.ContainsAny(s, "&=#?\r\n\t ") && strings.TrimSpace(s) == s
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// redactUserinfo hides what comes before the last '@' of a URL's authority.
func redactUserinfo(s string) string {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		scheme := ""
		if j := strings.Index(s[:i], "://"); j >= 0 {
			scheme = s[:j+3]
		}
		return scheme + "xxxxx@" + s[i+1:]
	}
	return s
}

func mapKeys[V any, M ~map[string]V](m M) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
