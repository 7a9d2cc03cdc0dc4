package sentinelone

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

func TestNewRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tok"), []byte(tokenA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "spaced"), []byte("abc def\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := coverage.Env{Dir: dir}
	const ok = "name: s1\nkind: sentinelone\nurl: https://usea1-partners.sentinelone.net\n"
	cases := []struct {
		name, doc string
		want      []string
	}{
		{"no url", "name: s1\nkind: sentinelone\ntoken_file: tok\n", []string{"url is not set", "https://usea1-partners.sentinelone.net"}},
		{"not http", "name: s1\nkind: sentinelone\nurl: ftp://x\ntoken_file: tok\n", []string{`url "ftp://x"`}},
		{"userinfo", "name: s1\nkind: sentinelone\nurl: https://me:pw@x.sentinelone.net\ntoken_file: tok\n", []string{"must not hold a user or password"}},
		{"query", "name: s1\nkind: sentinelone\nurl: https://x.sentinelone.net/?a=b\ntoken_file: tok\n", []string{"query"}},
		{"no token", ok, []string{"token_file or token_env"}},
		{"user", ok + "token_file: tok\nuser: admin\n", []string{"user is not used", "token_file"}},
		{"password", ok + "token_file: tok\npassword_file: tok\n", []string{"password_file/password_env are not used"}},
		{"missing token file", ok + "token_file: nope\n", []string{"token_file"}},
		{"token with spaces", ok + "token_file: spaced\n", []string{"white space"}},
		{"page_size too big", ok + "token_file: tok\npage_size: 1001\n", []string{"page_size 1001", "1 to 1000"}},
		{"page_size negative", ok + "token_file: tok\npage_size: -1\n", []string{"page_size -1"}},
		{"site id not a number", ok + "token_file: tok\nsite_ids: [Headquarters]\n", []string{`site_ids[0] "Headquarters"`, "numbers"}},
		{"group id empty", ok + "token_file: tok\ngroup_ids: [\"\"]\n", []string{"group_ids[0]"}},
		{"unknown key", ok + "token_file: tok\nsites: [1]\n", []string{`unknown key "sites"`, "site_ids"}},
		{"bad rate", ok + "token_file: tok\nrate_limit: fast\n", []string{"rate_limit"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(tc.doc, env)
			if err == nil {
				t.Fatal("New accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), tokenA) || strings.Contains(err.Error(), ":pw@") {
				t.Errorf("error holds a secret: %q", err)
			}
		})
	}
	_, err := build(ok, env)
	if !errors.Is(err, coverage.ErrNoCredentials) {
		t.Errorf("no token: %v does not wrap coverage.ErrNoCredentials", err)
	}
}

func TestNewDefaults(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tok"), []byte(tokenA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("S1_TEST_TOKEN", tokenB)
	s, err := build("name: s1\nkind: sentinelone\nurl: https://usea1.sentinelone.net/web/api/v2.1/\ntoken_env: S1_TEST_TOKEN\n", coverage.Env{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if s.base != "https://usea1.sentinelone.net" || s.pageSize != MaxPageSize || s.tr.Budget != DefaultBudget {
		t.Errorf("base %q page size %d budget %v", s.base, s.pageSize, s.tr.Budget)
	}
	if got := s.pageURL(""); got != "https://usea1.sentinelone.net/web/api/v2.1/agents?isDecommissioned=true%2Cfalse&limit=1000" {
		t.Errorf("first page %s", got)
	}
	s, err = build("name: s1\nkind: sentinelone\nurl: https://usea1.sentinelone.net\ntoken_file: tok\nrate_limit: 60/min\n", coverage.Env{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if s.tr.Budget != (connauth.Rate{N: 60, Per: time.Minute}) {
		t.Errorf("rate_limit 60/min gave budget %v", s.tr.Budget)
	}
}

// TestDefaultBudgetMargin checks the arithmetic the doc states: the default
// budget lets at most 7 requests into any second (a burst of 4, then one
// each 250 ms), and reads 100,000 agents (100 pages) in under a minute.
func TestDefaultBudgetMargin(t *testing.T) {
	interval := DefaultBudget.Per / time.Duration(DefaultBudget.N)
	inSecond := DefaultBudget.N + int((time.Second-1)/interval)
	if inSecond > 7 {
		t.Errorf("up to %d requests in a second", inSecond)
	}
	if walk := 100 * interval; walk > time.Minute {
		t.Errorf("100 pages take %v", walk)
	}
}
