package coverage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
)

func TestRateLimitYAML(t *testing.T) {
	for in, want := range map[string]connauth.Rate{"100/min": {N: 100, Per: time.Minute}, "10/s": {N: 10, Per: time.Second},
		"5000 / h": {N: 5000, Per: time.Hour}} {
		var c struct {
			R RateLimit `yaml:"r"`
		}
		if err := yaml.Unmarshal([]byte("r: "+in), &c); err != nil || connauth.Rate(c.R) != want {
			t.Errorf("%q: %v %v", in, c.R, err)
		}
	}
	for _, in := range []string{"100", "0/min", "ten/min", "100/day", "-1/s", "/min"} {
		var c struct {
			R RateLimit `yaml:"r"`
		}
		if err := yaml.Unmarshal([]byte("r: "+in), &c); err == nil || !strings.Contains(err.Error(), "100/min") {
			t.Errorf("%q: err = %v", in, err)
		}
	}
	c := Conn{RateLimit: RateLimit{N: 5, Per: time.Second}}
	if c.BudgetOr(connauth.Rate{N: 1, Per: time.Minute}) != (connauth.Rate{N: 5, Per: time.Second}) {
		t.Fatal("rate_limit not preferred")
	}
	if (&Conn{}).BudgetOr(connauth.Rate{N: 1, Per: time.Minute}) != (connauth.Rate{N: 1, Per: time.Minute}) {
		t.Fatal("default not used")
	}
}

func TestOAuth2ClientCredentials(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := Env{Dir: dir}
	o := OAuth2{ClientID: "id1", ClientSecretFile: "secret"}
	cc, err := o.ClientCredentials(env, "https://api.vendor.example/oauth2/token", []string{"read"})
	if err != nil || cc.ClientSecret != "s3cret" || cc.TokenURL != "https://api.vendor.example/oauth2/token" || cc.Scopes[0] != "read" {
		t.Fatalf("%+v %v", cc, err)
	}
	o.TokenURL, o.Scopes = "http://127.0.0.1:57010/token", []string{"x", "y"}
	if cc, err = o.ClientCredentials(env, "https://default", nil); err != nil || cc.TokenURL != o.TokenURL || len(cc.Scopes) != 2 {
		t.Fatalf("%+v %v", cc, err)
	}
	if !o.Set() || (&OAuth2{}).Set() {
		t.Fatal("Set")
	}
	for name, c := range map[string]struct {
		o    OAuth2
		want string
	}{
		"no id":        {OAuth2{ClientSecretFile: "secret"}, "client_id is not set"},
		"no secret":    {OAuth2{ClientID: "id1"}, "no client_secret_file"},
		"both secrets": {OAuth2{ClientID: "id1", ClientSecretFile: "secret", ClientSecretEnv: "X"}, "not both"},
		"unset env":    {OAuth2{ClientID: "id1", ClientSecretEnv: "MUSTER_TEST_UNSET_SECRET_VAR"}, "not set or empty"},
		"bad url":      {OAuth2{ClientID: "id1", ClientSecretFile: "secret", TokenURL: "ftp://x/token"}, "not an http(s) address"},
		"url password": {OAuth2{ClientID: "id1", ClientSecretFile: "secret", TokenURL: "https://u:p@x/token"}, "not an http(s) address"},
	} {
		_, err := c.o.ClientCredentials(env, "https://default/token", nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
		if strings.Contains(name, "no ") && !errors.Is(err, ErrNoCredentials) {
			t.Errorf("%s: not ErrNoCredentials", name)
		}
	}
}

func TestEnvFresh(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := Env{Window: time.Hour}
	if !e.Fresh(now.Add(-time.Hour), now) || e.Fresh(now.Add(-time.Hour-time.Second), now) || e.Fresh(time.Time{}, now) {
		t.Fatal("Fresh with a 1 h window")
	}
	if !(Env{}).Fresh(now.Add(-23*time.Hour), now) || (Env{}).Fresh(now.Add(-25*time.Hour), now) {
		t.Fatal("Fresh without a window uses DefaultWindow")
	}
}
