package coverage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

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
		Timeout: c.TimeoutOr(), Proxy: c.Proxy})
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
