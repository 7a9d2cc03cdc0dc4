package ninjaone

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/coverage"
)

func TestRegistered(t *testing.T) {
	if !slices.Contains(coverage.Kinds(), "ninjaone") {
		t.Errorf("kinds %v lack ninjaone", coverage.Kinds())
	}
}

func TestConfigErrors(t *testing.T) {
	t.Setenv("NINJA_SECRET", "abc")
	const creds = "client_id: cid\nclient_secret_env: NINJA_SECRET\n"
	cases := []struct{ name, doc, want string }{
		{"no address", creds, "set region (one of ca, eu, oc, us, us2"},
		{"both", "region: eu\nurl: https://eu.ninjarmm.com\n" + creds, "give region or url, not both"},
		{"bad region", "region: emea\n" + creds, `region "emea" is not a NinjaOne region`},
		{"bad url", "url: eu.ninjarmm.com\n" + creds, "is not an http(s) address"},
		{"url with user", "url: https://me:pw@eu.ninjarmm.com\n" + creds, "must not hold a user"},
		{"url with query", "url: https://eu.ninjarmm.com/v2/devices?df=x\n" + creds, "put a device filter in df"},
		{"user", "region: us\nuser: admin\npassword_env: NINJA_SECRET\n" + creds, "user and password_file/password_env do not apply"},
		{"token", "region: us\ntoken_env: NINJA_SECRET\n" + creds, "token_file/token_env do not apply"},
		{"no client", "region: us\nclient_secret_env: NINJA_SECRET\n", "client_id is not set"},
		{"no secret", "region: us\nclient_id: cid\n", "has no client_secret_file or client_secret_env"},
		{"empty secret env", "region: us\nclient_id: cid\nclient_secret_env: NINJA_UNSET_VAR\n", "NINJA_UNSET_VAR is not set"},
		{"missing secret file", "region: us\nclient_id: cid\nclient_secret_file: nope.txt\n", "client_secret_file"},
		{"two scopes in one", "region: us\nscopes: [monitoring management]\n" + creds, "is not one scope"},
		{"bad token_url", "region: us\ntoken_url: ftp://x\n" + creds, "token_url"},
		{"df on two lines", "region: us\ndf: \"a\\nb\"\n" + creds, "df holds a line break"},
		{"unknown key", "region: us\norganizations: [1]\n" + creds, `unknown key "organizations"`},
		{"bad rate", "region: us\nrate_limit: fast\n" + creds, "rate_limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := build(t, "name: n1\nkind: ninjaone\n"+c.doc, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to say %q", err, c.want)
			}
			if strings.Contains(err.Error(), "abc") && !strings.Contains(c.want, "abc") {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	_, err := build(t, "kind: ninjaone\nregion: us\n", nil)
	if !errors.Is(err, coverage.ErrNoCredentials) {
		t.Errorf("err = %v, want ErrNoCredentials", err)
	}
}

func TestConfigAddresses(t *testing.T) {
	t.Setenv("NINJA_SECRET", "abc")
	const creds = "client_id: cid\nclient_secret_env: NINJA_SECRET\n"
	cases := []struct{ doc, base, token string }{
		{"region: us\n", "https://app.ninjarmm.com", "https://app.ninjarmm.com/ws/oauth/token"},
		{"region: US2\n", "https://us2.ninjarmm.com", "https://us2.ninjarmm.com/ws/oauth/token"},
		{"region: eu\n", "https://eu.ninjarmm.com", "https://eu.ninjarmm.com/ws/oauth/token"},
		{"region: ca\n", "https://ca.ninjarmm.com", "https://ca.ninjarmm.com/ws/oauth/token"},
		{"region: oc\n", "https://oc.ninjarmm.com", "https://oc.ninjarmm.com/ws/oauth/token"},
		{"url: https://eu.ninjarmm.com/\n", "https://eu.ninjarmm.com", "https://eu.ninjarmm.com/ws/oauth/token"},
		{"url: https://eu.ninjarmm.com/v2\n", "https://eu.ninjarmm.com", "https://eu.ninjarmm.com/ws/oauth/token"},
		{"url: https://eu.ninjarmm.com/ws\n", "https://eu.ninjarmm.com", "https://eu.ninjarmm.com/ws/oauth/token"},
		{"url: https://rmm.example/api\n", "https://rmm.example/api", "https://rmm.example/ws/oauth/token"},
		{"region: eu\ntoken_url: https://login.example/token\n", "https://eu.ninjarmm.com", "https://login.example/token"},
	}
	for _, c := range cases {
		var node yaml.Node
		if err := yaml.Unmarshal([]byte("kind: ninjaone\n"+c.doc+creds), &node); err != nil {
			t.Fatal(err)
		}
		var cfg Config
		if err := coverage.DecodeStrict(node.Content[0], &cfg); err != nil {
			t.Fatal(err)
		}
		s, err := newSource(cfg, coverage.Env{})
		if err != nil {
			t.Fatalf("%q: %v", c.doc, err)
		}
		cc, err := cfg.ClientCredentials(coverage.Env{}, tokenURLFor(s.base), DefaultScopes)
		if err != nil {
			t.Fatal(err)
		}
		if s.base != c.base || cc.TokenURL != c.token {
			t.Errorf("%q: base %q token %q, want %q and %q", c.doc, s.base, cc.TokenURL, c.base, c.token)
		}
		if !slices.Equal(cc.Scopes, []string{"monitoring"}) {
			t.Errorf("%q: scopes %v, want [monitoring]", c.doc, cc.Scopes)
		}
		if want := c.base + "/v2/devices-detailed?pageSize=1000"; s.pageURL(0) != want {
			t.Errorf("%q: page URL %q, want %q", c.doc, s.pageURL(0), want)
		}
	}
}

func TestScopesKeyIsSent(t *testing.T) {
	f := newFake(t, 2)
	f.wantScope = "monitoring management"
	s := f.source("scopes: [monitoring, management]\n")
	if _, err := s.Fetch(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestInsecureIsWarned(t *testing.T) {
	t.Setenv("NINJA_SECRET", "abc")
	var node yaml.Node
	yaml.Unmarshal([]byte("name: n1\nkind: ninjaone\nregion: us\ninsecure: true\nclient_id: cid\nclient_secret_env: NINJA_SECRET\n"), &node)
	var stderr bytes.Buffer
	if _, err := New(node.Content[0], coverage.Env{Stderr: &stderr}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "NOT verified") {
		t.Errorf("stderr %q, want the insecure warning", stderr.String())
	}
}
