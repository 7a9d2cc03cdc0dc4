package rest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/coverage"

	"github.com/muster-project/muster/internal/testclock"
)

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "tok", "t0ken-value")
	writeFile(t, dir, "pw", "pass")
	const base = "name: r\nkind: rest\n"
	const u = "url: https://cmdb.example/api/devices\n"
	const fields = "fields: {id: id, hostname: name}\n"
	for _, tc := range []struct {
		name, doc, want string
		noCreds         bool
	}{
		{"no url", fields, "url is not set", false},
		{"bad url", "url: cmdb.example/devices\n" + fields, "not an http(s) address", false},
		{"userinfo", "url: https://a:b@cmdb.example/x\n" + fields, "must not hold a user", false},
		{"secret in url", "url: https://cmdb.example/x?api_key=abc\n" + fields, "looks like a credential", false},
		{"fragment", "url: https://cmdb.example/x#top\n" + fields, "#fragment", false},
		{"method", u + fields + "method: PUT\n", `method "PUT" is not one muster sends`, false},
		{"body with GET", u + fields + "body: {a: 1}\n", "method: POST only", false},
		{"credential without auth", u + fields + "token_file: tok\n", "token_file is set but auth is not", false},
		{"bad auth", u + fields + "auth: digest\n", `auth "digest" is not one muster knows`, false},
		{"basic without user", u + fields + "auth: basic\npassword_file: pw\n", "needs user", true},
		{"basic without password", u + fields + "auth: basic\nuser: a\n", "no password_file", true},
		{"basic with token", u + fields + "auth: basic\nuser: a\npassword_file: pw\ntoken_file: tok\n", "token_file does not apply to auth: basic", false},
		{"bearer without token", u + fields + "auth: bearer\n", "needs token_file", true},
		{"bearer with header", u + fields + "auth: bearer\ntoken_file: tok\napi_key_header: X-Key\n", "api_key_header does not apply to auth: bearer", false},
		{"api_key both ways", u + fields + "auth: api_key\ntoken_file: tok\napi_key_param: k\napi_key_header: X-K\n", "not both", false},
		{"api_key bad header", u + fields + "auth: api_key\ntoken_file: tok\napi_key_header: \"X Key\"\n", "not a header name", false},
		{"missing token file", u + fields + "auth: bearer\ntoken_file: nope\n", "token_file", false},
		{"oauth2 without token_url", u + fields + "auth: oauth2\nclient_id: c\nclient_secret_file: pw\n", "needs token_url", false},
		{"oauth2 without secret", u + fields + "auth: oauth2\nclient_id: c\ntoken_url: https://login.example/token\n", "no client_secret_file", true},
		{"oauth2 with user", u + fields + "auth: oauth2\nuser: x\nclient_id: c\nclient_secret_file: pw\ntoken_url: https://l.example/t\n", "user does not apply to auth: oauth2", false},
		{"oauth2 bad scope", u + fields + "auth: oauth2\nclient_id: c\nclient_secret_file: pw\ntoken_url: https://l.example/t\nscopes: [\"a b\"]\n", "not one scope", false},
		{"none with api_key keys", u + fields + "auth: none\napi_key_header: X-K\n", "does not apply to auth: none", false},
		{"authorization header", u + fields + "headers: {Authorization: Bearer abc}\n", "holds a credential", false},
		{"cookie header", u + fields + "headers: {cookie: s=1}\n", "holds a credential", false},
		{"secret-looking header", u + fields + "headers: {X-Auth-Token: abc}\n", "looks like a credential", false},
		{"api key header in headers", u + fields + "auth: api_key\ntoken_file: tok\nheaders: {X-API-Key: abc}\n", "is the api_key_header", false},
		{"secret-looking query", u + fields + "query: {access_token: abc}\n", "looks like a credential", false},
		{"query twice", "url: https://cmdb.example/x?a=1\n" + fields + "query: {a: \"2\"}\n", "also in url", false},
		{"no fields", u, "fields is not set", false},
		{"unknown field", u + "fields: {id: id, hostname: name, owner: x}\n", `"owner" is not a field`, false},
		{"no id", u + "fields: {hostname: name}\n", "fields.id is not set", false},
		{"no identifier", u + "fields: {id: id, os: os}\n", "at least one of hostname, serial or mac", false},
		{"bad path", u + "fields: {id: id, hostname: a..b}\n", `fields.hostname "a..b" has an empty segment`, false},
		{"bad time_format", u + fields + "time_format: \"15:04\"\n", "has no year", false},
		{"time_format without last_seen", u + fields + "time_format: unix\n", "last_seen, which is not mapped", false},
		{"healthy without state", u + fields + "healthy: [up]\n", "fields.state is not mapped", false},
		{"require_fresh without state", u + "fields: {id: id, hostname: name, last_seen: seen}\nrequire_fresh: true\n", "remove require_fresh", false},
		{"require_fresh without last_seen", u + "fields: {id: id, hostname: name, state: s}\nrequire_fresh: true\n", "needs fields.last_seen", false},
		{"bad style", u + fields + "paging: {style: keyset}\n", `paging.style "keyset"`, false},
		{"key of another style", u + fields + "paging: {style: offset, cursor_path: next}\n", "paging.cursor_path does not apply to paging.style offset", false},
		{"page without first", u + fields + "records: items\npaging: {style: page}\n", "paging.first is not set", false},
		{"page first 2", u + fields + "records: items\npaging: {style: page, first: 2}\n", "give 0 or 1", false},
		{"cursor without path", u + fields + "records: items\npaging: {style: cursor}\n", "paging.cursor_path is not set", false},
		{"next_link without path", u + fields + "records: items\npaging: {style: next_link}\n", "paging.next_path is not set", false},
		{"size without param", u + fields + "paging: {style: page, first: 1, size: 50}\n", "paging.size needs paging.size_param", false},
		{"size_param without size", u + fields + "paging: {style: page, first: 1, size_param: per_page}\n", "paging.size is not", false},
		{"size too big", u + fields + "paging: {style: offset, size: 1000000}\n", "out of range", false},
		{"same params", u + fields + "paging: {style: offset, offset_param: o, limit_param: o}\n", "both \"o\"", false},
		{"paging param in query", u + fields + "query: {limit: \"5\"}\npaging: {style: offset}\n", "set by paging", false},
		{"total with top-level array", u + fields + "paging: {style: offset, total: total}\n", "needs the records in an object", false},
		{"total inside records", u + fields + "records: data\npaging: {style: offset, total: data.total}\n", "inside records", false},
		{"body paging with GET", u + fields + "paging: {style: offset, in: body}\n", "method: POST only", false},
		{"negative max_pages", u + fields + "paging: {style: offset, max_pages: -1}\n", "negative", false},
		{"unknown key", u + fields + "page_size: 5\n", `unknown key "page_size"`, false},
		{"unknown paging key", u + fields + "paging: {style: offset, per_page: 5}\n", `unknown key "per_page"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(t, base+tc.doc, dir, testclock.New(t0))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if errors.Is(err, coverage.ErrNoCredentials) != tc.noCreds {
				t.Errorf("ErrNoCredentials %v, want %v: %v", errors.Is(err, coverage.ErrNoCredentials), tc.noCreds, err)
			}
			if strings.Contains(err.Error(), "t0ken-value") {
				t.Errorf("the token is in the error: %v", err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "tok", "t0ken-value")
	var stderr bytes.Buffer
	var node yaml.Node
	doc := "name: r\nkind: rest\nurl: https://cmdb.example/api/devices?view=full\nauth: api_key\napi_key_param: key\ntoken_file: tok\n" +
		"records: data\nfields: {id: id, hostname: name}\nquery: {status: \"true\"}\npaging: {style: offset}\n"
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
	}
	src, err := New(node.Content[0], coverage.Env{Dir: dir, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	s := src.(*Source)
	if s.tr.Budget != DefaultBudget || s.paging.Size != DefaultOffsetSize || s.paging.OffsetParam != "offset" ||
		s.paging.LimitParam != "limit" || s.paging.MaxPages != DefaultMaxPages || s.method != "GET" {
		t.Errorf("defaults: budget %v, paging %+v, method %s", s.tr.Budget, s.paging, s.method)
	}
	if got := s.requestString(s.firstRequest()); got != "GET https://cmdb.example/api/devices?key=xxxxx&limit=100&offset=0&status=true&view=full" {
		t.Errorf("first request %q", got)
	}
	if !strings.Contains(stderr.String(), "proxies") {
		t.Errorf("no warning about a key in the URL: %q", stderr.String())
	}
}
