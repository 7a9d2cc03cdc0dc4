package coverage

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
)

// Conn holds the keys every source's mapping has, and the connection keys
// every networked source takes where they apply. A connector's config type
// embeds it with `yaml:",inline"`.
type Conn struct {
	Name         string   `yaml:"name"`
	Kind         string   `yaml:"kind"`
	URL          string   `yaml:"url"`
	User         string   `yaml:"user"`
	PasswordFile string   `yaml:"password_file"`
	PasswordEnv  string   `yaml:"password_env"`
	TokenFile    string   `yaml:"token_file"`
	TokenEnv     string   `yaml:"token_env"`
	CA           []string `yaml:"ca"`
	Insecure     bool     `yaml:"insecure"`
	Timeout      Duration `yaml:"timeout"`
	Proxy        string   `yaml:"proxy"`
	// RateLimit is the source's request budget ("100/min"), for HTTP
	// sources; zero: the connector's default, below the vendor's limit.
	RateLimit RateLimit `yaml:"rate_limit"`
}

// RateLimit is a request budget in YAML: "N/s", "N/min" or "N/h".
type RateLimit connauth.Rate

// UnmarshalYAML reads "N/s", "N/min" or "N/h".
func (r *RateLimit) UnmarshalYAML(n *yaml.Node) error {
	num, unit, ok := strings.Cut(strings.ReplaceAll(n.Value, " ", ""), "/")
	per := map[string]time.Duration{"s": time.Second, "sec": time.Second, "min": time.Minute, "m": time.Minute, "h": time.Hour}[unit]
	v, err := strconv.Atoi(num)
	if !ok || per == 0 || err != nil || v < 1 || v > 1_000_000 {
		return fmt.Errorf("line %d: rate_limit %q is not a rate such as 100/min, 10/s or 5000/h", n.Line, n.Value)
	}
	*r = RateLimit{N: v, Per: per}
	return nil
}

// BudgetOr is the configured rate_limit, or def (the vendor's documented
// limit with a margin) when none is set.
func (c *Conn) BudgetOr(def connauth.Rate) connauth.Rate {
	if c.RateLimit.N > 0 {
		return connauth.Rate(c.RateLimit)
	}
	return def
}

// OAuth2 holds the keys of sources that log in with OAuth2 client
// credentials; a connector's config embeds it inline beside Conn.
type OAuth2 struct {
	ClientID         string   `yaml:"client_id"`
	ClientSecretFile string   `yaml:"client_secret_file"`
	ClientSecretEnv  string   `yaml:"client_secret_env"`
	TokenURL         string   `yaml:"token_url"` // default: the vendor's, derived from url
	Scopes           []string `yaml:"scopes"`    // default: the vendor's
}

// Set reports whether any OAuth2 key is given.
func (o *OAuth2) Set() bool {
	return o.ClientID != "" || o.ClientSecretFile != "" || o.ClientSecretEnv != "" || o.TokenURL != "" || len(o.Scopes) > 0
}

// ClientCredentials reads the client secret and returns the grant, with
// tokenURL and scopes as defaults for token_url and scopes.
func (o *OAuth2) ClientCredentials(env Env, tokenURL string, scopes []string) (connauth.ClientCredentials, error) {
	if o.ClientID == "" {
		return connauth.ClientCredentials{}, fmt.Errorf("%w: client_id is not set; give the API client's id", ErrNoCredentials)
	}
	secret, err := secret(env, "client_secret", o.ClientSecretFile, o.ClientSecretEnv)
	if err != nil {
		return connauth.ClientCredentials{}, err
	}
	if secret == "" {
		return connauth.ClientCredentials{}, fmt.Errorf("%w: client %s has no client_secret_file or client_secret_env", ErrNoCredentials, o.ClientID)
	}
	if o.TokenURL != "" {
		tokenURL = o.TokenURL
	}
	if u, err := url.Parse(tokenURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return connauth.ClientCredentials{}, fmt.Errorf("token_url %q is not an http(s) address such as https://login.example/oauth2/token", tokenURL)
	}
	if len(o.Scopes) > 0 {
		scopes = o.Scopes
	}
	return connauth.ClientCredentials{ClientID: o.ClientID, ClientSecret: secret, TokenURL: tokenURL, Scopes: scopes}, nil
}

// DefaultTimeout bounds each network operation of a source whose config sets none.
const DefaultTimeout = 30 * time.Second

// TimeoutOr returns the configured timeout, or DefaultTimeout.
func (c *Conn) TimeoutOr() time.Duration {
	if c.Timeout > 0 {
		return time.Duration(c.Timeout)
	}
	return DefaultTimeout
}

// Password reads the password from password_file or password_env; "" when
// neither is set. Relative files are read from env.Dir.
func (c *Conn) Password(env Env) (string, error) {
	return secret(env, "password", c.PasswordFile, c.PasswordEnv)
}

// Token reads an API token from token_file or token_env; "" when neither is set.
func (c *Conn) Token(env Env) (string, error) {
	return secret(env, "token", c.TokenFile, c.TokenEnv)
}

// HTTPClient builds the source's HTTP client from ca, insecure, timeout and
// proxy; insecure is warned about on env.Stderr.
func (c *Conn) HTTPClient(env Env) (*connauth.Transport, error) {
	ca := make([]string, len(c.CA))
	for i, f := range c.CA {
		ca[i] = env.Path(f)
	}
	if c.Insecure && env.Stderr != nil {
		fmt.Fprintf(env.Stderr, "muster: WARNING: source %s: insecure: true: its TLS certificate is NOT verified; trust it with ca: FILE instead\n", c.Name)
	}
	return connauth.NewTransport(connauth.TransportConfig{CAFiles: ca, Insecure: c.Insecure,
		Timeout: c.TimeoutOr(), Proxy: c.Proxy, Budget: connauth.Rate(c.RateLimit)})
}

// Path resolves a path from the config against the config's folder.
func (e Env) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || e.Dir == "" {
		return p
	}
	return filepath.Join(e.Dir, p)
}

// secret reads one secret from a file (its first line) or an environment variable.
func secret(env Env, what, file, name string) (string, error) {
	switch {
	case file != "" && name != "":
		return "", fmt.Errorf("give %s_file or %s_env, not both", what, what)
	case file != "":
		path := env.Path(file)
		data, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s_file: %w", what, err)
		}
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 && env.Stderr != nil {
			fmt.Fprintf(env.Stderr, "muster: warning: %s_file %s can be read by other users (mode %04o); chmod 600 it\n", what, path, st.Mode().Perm())
		}
		line, _, _ := strings.Cut(string(data), "\n")
		line = strings.TrimRight(line, "\r")
		if line == "" {
			return "", fmt.Errorf("%s_file %s: the first line is empty", what, path)
		}
		return line, nil
	case name != "":
		v := os.Getenv(name)
		if v == "" {
			return "", fmt.Errorf("%s_env: the environment variable %s is not set or empty", what, name)
		}
		return v, nil
	}
	return "", nil
}

// ErrNoCredentials is returned by connectors that need a secret and got none.
var ErrNoCredentials = errors.New("no credentials")

// CleanGroups checks a source's groups: key: no empty name (the error tells
// the user to give names as hint says), repeats dropped, order kept.
func CleanGroups(in []string, hint string) ([]string, error) {
	var out []string
	for i, g := range in {
		if strings.TrimSpace(g) == "" {
			return nil, fmt.Errorf("groups[%d] is empty; give %s", i, hint)
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}
