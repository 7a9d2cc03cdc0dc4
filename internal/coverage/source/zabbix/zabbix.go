// Package zabbix is the coverage connector for Zabbix (kind "zabbix"): it
// reads the hosts of a Zabbix server through its JSON-RPC API
// (api_jsonrpc.php), with their agent interface's availability and the last
// time their agent.ping item ran, and maps each host to a coverage.Record.
//
// It logs in with an API token or with a user and password (one session,
// shared by concurrent calls and kept between --watch runs, renewed once
// when Zabbix ends it). A refused login is never retried: Zabbix locks an
// account for 30 s after five bad passwords.
package zabbix

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/coverage"
)

func init() { coverage.Register("zabbix", New) }

// Config is a zabbix source's YAML mapping.
type Config struct {
	coverage.Conn `yaml:",inline"`
	// Groups limits the source to the hosts of these host groups (by name);
	// empty reads every host.
	Groups []string `yaml:"groups"`
}

// BatchSize is how many hosts one host.get and one item.get read.
const BatchSize = 500

// Source reads one Zabbix server.
type Source struct {
	name    string
	rpc     *client
	groups  []string
	batch   int
	env     coverage.Env
	conn    coverage.Conn
	token   string // an API token, used as it is; "" when logging in
	user    string
	session *session // nil with an API token
	log     *slog.Logger

	mu   sync.Mutex
	feat features // from the last apiinfo.version
}

// New builds a zabbix source from its YAML mapping.
func New(node *yaml.Node, env coverage.Env) (coverage.Source, error) {
	var cfg Config
	if err := coverage.DecodeStrict(node, &cfg); err != nil {
		return nil, fmt.Errorf("zabbix source: %w", err)
	}
	return newSource(cfg, env)
}

func newSource(cfg Config, env coverage.Env) (*Source, error) {
	name := cfg.Name
	if name == "" {
		name = "zabbix"
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("zabbix source %s: "+format, append([]any{name}, a...)...)
	}
	endpoint, err := apiURL(cfg.URL)
	if err != nil {
		return nil, fail("%v", err)
	}
	groups, err := coverage.CleanGroups(cfg.Groups, "host group names as Zabbix shows them")
	if err != nil {
		return nil, fail("%v", err)
	}
	token, err := cfg.Token(env)
	if err != nil {
		return nil, fail("%v", err)
	}
	hasPassword := cfg.PasswordFile != "" || cfg.PasswordEnv != ""
	switch {
	case token != "" && (cfg.User != "" || hasPassword):
		return nil, fail("give either token_file/token_env (an API token) or user with password_file/password_env, not both")
	case token == "" && cfg.User == "" && !hasPassword:
		return nil, fail("%w: set token_file or token_env (an API token), or user with password_file or password_env", coverage.ErrNoCredentials)
	case token == "" && cfg.User == "":
		return nil, fail("password_file/password_env is set but user is not; set user to the Zabbix user name")
	case token == "" && !hasPassword:
		return nil, fail("%w: user %s has no password_file or password_env", coverage.ErrNoCredentials, cfg.User)
	}
	if token == "" {
		// Read it now so that a missing file shows at start; it is read
		// again at each login, so a corrected file is picked up by --watch.
		if _, err := cfg.Password(env); err != nil {
			return nil, fail("%v", err)
		}
	}
	tr, err := cfg.HTTPClient(env)
	if err != nil {
		return nil, fail("%v", err)
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Source{name: name, groups: groups, batch: BatchSize, env: env, conn: cfg.Conn,
		token: token, user: cfg.User, log: log,
		rpc: &client{url: endpoint, tr: tr, maxBody: DefaultMaxBody, now: env.Now}}
	if token == "" {
		s.session = newSession(s)
	}
	return s, nil
}

// apiURL accepts the api_jsonrpc.php address or the frontend's base address.
func apiURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("url is not set; give the API address, e.g. https://zabbix.example/api_jsonrpc.php")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("url %q is not an http(s) address such as https://zabbix.example/api_jsonrpc.php", raw)
	}
	if u.User != nil {
		return "", errors.New("url must not hold a user or password; use user and password_file")
	}
	if !strings.HasSuffix(u.Path, ".php") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/api_jsonrpc.php"
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// request is a record's Request string for one method (never a secret).
func (s *Source) request(method string) string {
	return "POST " + s.rpc.url + " " + method
}
