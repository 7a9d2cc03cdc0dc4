package intune

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/coverage"
)

func TestConfigErrors(t *testing.T) {
	f := newFake(t, 0)
	for _, tc := range []struct{ extra, want string }{
		{"user: admin\n", "user/password_file/password_env do not apply"},
		{"password_env: PW\n", "user/password_file/password_env do not apply"},
		{"token_file: tok\n", "token_file/token_env do not apply"},
		{"url: https://graph.microsoft.com\n", "tenant is not set"},
		{"url: https://graph.microsoft.com\ntenant: not a tenant\n", "neither a tenant id"},
		{"url: https://graph.microsoft.com\ntenant: common\n", `tenant "common" is not a tenant`},
		{"url: https://graph.microsoft.com\ntenant: contoso.onmicrosoft.com\ntoken_url: https://login.example/t\n", "not both"},
		{"url: http://graph.example.test\ntenant: contoso.onmicrosoft.com\n", "give token_url"},
		{"url: https://graph.microsoft.com/v1.0\n", "api_version: v1.0"},
		{"url: https://graph.microsoft.com/foo\n", "has a path"},
		{"url: ftp://graph.microsoft.com\n", "not an http(s) address"},
		{"url: https://me:pw@graph.microsoft.com\n", "must not hold a user"},
		{"page_size: 1001\n", "not between 1 and 1000"},
		{"page_size: -1\n", "not between 1 and 1000"},
		{"api_version: v2\n", `api_version "v2" is not v1.0 or beta`},
		{"scopes: [DeviceManagementManagedDevices.Read.All]\n", "does not end in /.default"},
		{"filter: \"a eq 'b'\\nor c\"\n", "control character"},
		{"filter: \"  \"\n", "filter is blank"},
		{"tenantid: x\n", `unknown key "tenantid"`},
		{"client_id: \"\"\n", "client_id is not set"},
		{"client_secret_env: MUSTER_TEST_INTUNE_UNSET_SECRET\n", "MUSTER_TEST_INTUNE_UNSET_SECRET is not set"},
		{"token_url: login.example/token\n", "not an http(s) address"},
		{"rate_limit: fast\n", "rate_limit"},
	} {
		_, err := build(t, f, tc.extra)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.extra, err, tc.want)
		}
	}
	if _, err := build(t, f, "url: https://graph.microsoft.com\n"); !errors.Is(err, coverage.ErrNoCredentials) {
		t.Errorf("a missing tenant is not ErrNoCredentials: %v", err)
	}
}

func TestTokenEndpointOfEachCloud(t *testing.T) {
	for _, tc := range []struct{ root, tenant, want string }{
		{"https://graph.microsoft.com", testTenant, "https://login.microsoftonline.com/" + testTenant + "/oauth2/v2.0/token"},
		{"https://graph.microsoft.com", "contoso.onmicrosoft.com", "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"},
		{"https://graph.microsoft.us", "contoso.onmicrosoft.us", "https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token"},
		{"https://dod-graph.microsoft.us", testTenant, "https://login.microsoftonline.us/" + testTenant + "/oauth2/v2.0/token"},
		{"https://microsoftgraph.chinacloudapi.cn", "contoso.partner.onmschina.cn", "https://login.chinacloudapi.cn/contoso.partner.onmschina.cn/oauth2/v2.0/token"},
	} {
		u, _ := url.Parse(tc.root)
		got, err := tokenEndpoint(tc.tenant, "", u)
		if err != nil || got != tc.want {
			t.Errorf("%s %s: %q, %v; want %q", tc.root, tc.tenant, got, err, tc.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	f := newFake(t, 0)
	src, err := build(t, f, "url: https://graph.microsoft.com/\ntenant: contoso.onmicrosoft.com\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "https://graph.microsoft.com/v1.0/deviceManagement/managedDevices?$select=" + strings.Join(v1Fields, ",") + "&$top=1000"
	if src.first != want || src.tr.Budget != DefaultBudget || src.name != "corp-intune" {
		t.Errorf("first page %q, budget %v, name %q", src.first, src.tr.Budget, src.name)
	}
	src, err = build(t, f, "rate_limit: 10/s\napi_version: beta\n")
	if err != nil {
		t.Fatal(err)
	}
	if src.tr.Budget.N != 10 || !strings.Contains(src.first, "/beta/deviceManagement/managedDevices?") || !strings.Contains(src.first, ",managementState&") {
		t.Errorf("budget %v, first page %q", src.tr.Budget, src.first)
	}
}

// TestDefaultBudgetUnderLimit checks the arithmetic the package doc states:
// the default budget's worst 20 s (a full burst, then its rate) stays well
// under Intune's 2,000 requests per 20 s per app, and a 100,000-device run
// at the largest page needs a small fraction of it.
func TestDefaultBudgetUnderLimit(t *testing.T) {
	const window = 20
	worst := DefaultBudget.N + int(window*1e9/DefaultBudget.Per.Nanoseconds())*DefaultBudget.N
	if worst > 2000/2 {
		t.Errorf("the default budget allows %d requests in 20 s, over half of Intune's 2,000", worst)
	}
	if pages := 100_000 / MaxPageSize; pages > worst {
		t.Errorf("100,000 devices need %d pages, more than one window's %d", pages, worst)
	}
}
