package jamf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/coverage"

	"github.com/muster-project/muster/internal/testclock"
)

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const base = "name: j\nkind: jamf\n"
	const user = "url: https://acme.jamfcloud.com\nuser: reader\npassword_file: pw\n"
	for _, tc := range []struct {
		name, doc, want string
		noCreds         bool
	}{
		{"no url", "user: a\npassword_file: pw\n", "url is not set", false},
		{"bad url", "url: acme.jamfcloud.com\nuser: a\npassword_file: pw\n", "not an http(s) address", false},
		{"user in url", "url: https://a:b@acme.jamfcloud.com\nuser: a\npassword_file: pw\n", "must not hold a user", false},
		{"query in url", "url: https://acme.jamfcloud.com/?x=1\nuser: a\npassword_file: pw\n", "use filter", false},
		{"nothing", "url: https://acme.jamfcloud.com\n", "give client_id", true},
		{"both modes", user + "client_id: x\nclient_secret_file: pw\n", "not both", false},
		{"password without user", "url: https://acme.jamfcloud.com\npassword_file: pw\n", "set user", false},
		{"user without password", "url: https://acme.jamfcloud.com\nuser: a\n", "no password_file", true},
		{"token", user + "token_file: pw\n", "no static API tokens", false},
		{"scopes", "url: https://acme.jamfcloud.com\nclient_id: x\nclient_secret_file: pw\nscopes: [read]\n", "API roles", false},
		{"client without secret", "url: https://acme.jamfcloud.com\nclient_id: x\n", "no client_secret_file", true},
		{"secret without id", "url: https://acme.jamfcloud.com\nclient_secret_file: pw\n", "client_id is not set", true},
		{"bad token_url", "url: https://acme.jamfcloud.com\nclient_id: x\nclient_secret_file: pw\ntoken_url: nope\n", "token_url", false},
		{"page_size", user + "page_size: 5000\n", "page_size 5000 is out of range; give 1 to 2000", false},
		{"api_version", user + "api_version: v4\n", `api_version "v4"`, false},
		{"filter", user + "filter: \"a==1\\nb==2\"\n", "one line", false},
		{"unknown key", user + "groups: [x]\n", `unknown key "groups"`, false},
		{"missing password file", "url: https://acme.jamfcloud.com\nuser: a\npassword_file: nope\n", "password_file", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(t, base+tc.doc, dir, testclock.New(t0))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if errors.Is(err, coverage.ErrNoCredentials) != tc.noCreds {
				t.Errorf("ErrNoCredentials %v, want %v: %v", errors.Is(err, coverage.ErrNoCredentials), tc.noCreds, err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s"), []byte("sec\n"), 0o600)
	s, err := build(t, "name: j\nkind: jamf\nurl: https://acme.jamfcloud.com/api/\nclient_id: abc\nclient_secret_file: s\n", dir, testclock.New(t0))
	if err != nil {
		t.Fatal(err)
	}
	if s.base != "https://acme.jamfcloud.com" || s.pageSize != DefaultPageSize || s.version != "v3" || s.tr.Budget != DefaultBudget {
		t.Errorf("base %q, page size %d, version %s, budget %v", s.base, s.pageSize, s.version, s.tr.Budget)
	}
	if s.session != nil || s.clientID != "abc" {
		t.Error("an API client got a user session")
	}
	s, err = build(t, "name: j\nkind: jamf\nurl: https://jss.example.org:8443/\nuser: u\npassword_file: s\nrate_limit: 30/min\n", dir, testclock.New(t0))
	if err != nil {
		t.Fatal(err)
	}
	if s.base != "https://jss.example.org:8443" || s.tr.Budget.N != 30 || s.tr.Budget.Per != time.Minute {
		t.Errorf("base %q, budget %v", s.base, s.tr.Budget)
	}
}
