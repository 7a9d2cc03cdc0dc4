package zabbix

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestBadAnswers(t *testing.T) {
	tests := []struct {
		name    string
		answer  func(w http.ResponseWriter)
		maxBody int64
		want    string
		notRPC  bool
	}{
		{name: "an HTML page", notRPC: true, want: "not a web page",
			answer: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<!DOCTYPE html><html><body>Zabbix login</body></html>"))
			}},
		{name: "truncated JSON", notRPC: true, want: "not complete JSON",
			answer: func(w http.ResponseWriter) { w.Write([]byte(`{"jsonrpc":"2.0","result":[{"hostid":"1`)) }},
		{name: "an empty body", notRPC: true, want: "body is empty",
			answer: func(w http.ResponseWriter) {}},
		{name: "JSON that is not JSON-RPC", notRPC: true, want: `"jsonrpc": "2.0"`,
			answer: func(w http.ResponseWriter) { w.Write([]byte(`{"hosts":[]}`)) }},
		{name: "neither result nor error", notRPC: true, want: "neither a result nor an error",
			answer: func(w http.ResponseWriter) { w.Write([]byte(`{"jsonrpc":"2.0","id":3}`)) }},
		{name: "the answer to another call", notRPC: true, want: "request id 99",
			answer: func(w http.ResponseWriter) { w.Write([]byte(`{"jsonrpc":"2.0","result":[],"id":99}`)) }},
		{name: "an enormous body", maxBody: 1 << 20, want: "larger than 1 MiB",
			answer: func(w http.ResponseWriter) {
				w.Write([]byte(`{"jsonrpc":"2.0","result":"` + strings.Repeat("x", 1<<20) + `"}`))
			}},
		{name: "a result of the wrong shape", want: "expected shape",
			answer: func(w http.ResponseWriter) { w.Write([]byte(`{"jsonrpc":"2.0","result":{"a":1},"id":3}`)) }},
		{name: "HTTP 404", want: "HTTP 404",
			answer: func(w http.ResponseWriter) { http.NotFound(w, nil) }},
		{name: "a server error after every retry", want: "gave up after 5 tries",
			answer: func(w http.ResponseWriter) { http.Error(w, "php crashed", 500) }},
		{name: "an error that is not about auth", want: "Invalid parameter",
			answer: func(w http.ResponseWriter) {
				w.Write([]byte(`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params.","data":"Invalid parameter \"/1\": unexpected parameter \"x\"."},"id":3}`))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			src, _ := open(t, f, "")
			if tc.maxBody > 0 {
				src.rpc.maxBody = tc.maxBody
			}
			f.hook = func(w http.ResponseWriter, method string, n int) bool {
				if method == "host.get" {
					tc.answer(w)
					return true
				}
				return false
			}
			recs, err := src.Fetch(context.Background(), nil)
			if err == nil || recs != nil {
				t.Fatalf("got %d records and %v, want an error and none", len(recs), err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "host.get") {
				t.Errorf("error %q does not name host.get and say %q", err, tc.want)
			}
			if errors.Is(err, errNotJSONRPC) != tc.notRPC {
				t.Errorf("errors.Is(err, errNotJSONRPC) = %v, want %v", !tc.notRPC, tc.notRPC)
			}
			if f.count("user.login") != 1 {
				t.Errorf("%d logins; a bad answer must not cause a new login", f.count("user.login"))
			}
			if strings.Contains(err.Error(), f.password) || strings.Contains(err.Error(), "00000000000000000000000000000001") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
}

func TestPartialFetchIsAnError(t *testing.T) {
	f := newFake(t)
	src, _ := open(t, f, "")
	src.batch = 2
	f.hook = func(w http.ResponseWriter, method string, n int) bool {
		if method == "item.get" && n == 2 {
			w.Write([]byte(`{"jsonrpc":"2.0","result":[{"hostid"`))
			return true
		}
		return false
	}
	recs, err := src.Fetch(context.Background(), nil)
	if err == nil || recs != nil || !strings.Contains(err.Error(), "hosts 3-4 of 5") {
		t.Fatalf("got %d records, %v; want no records and an error naming hosts 3-4", len(recs), err)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantURL string
		wantErr string
	}{
		{name: "api address", doc: "url: http://z:8080/api_jsonrpc.php\nuser: a\npassword_env: ZBX_PW\n",
			wantURL: "http://z:8080/api_jsonrpc.php"},
		{name: "frontend base", doc: "url: https://z/zabbix/\nuser: a\npassword_env: ZBX_PW\n",
			wantURL: "https://z/zabbix/api_jsonrpc.php"},
		{name: "bare host", doc: "url: https://z\ntoken_env: ZBX_TOK\n", wantURL: "https://z/api_jsonrpc.php"},
		{name: "unknown key", doc: "url: https://z\ntoken_env: ZBX_TOK\nhostgroups: [a]\n", wantErr: `unknown key "hostgroups"`},
		{name: "no url", doc: "token_env: ZBX_TOK\n", wantErr: "url is not set"},
		{name: "not http", doc: "url: ftp://z\ntoken_env: ZBX_TOK\n", wantErr: "not an http(s) address"},
		{name: "user info in url", doc: "url: https://a:b@z\ntoken_env: ZBX_TOK\n", wantErr: "must not hold a user"},
		{name: "no credentials", doc: "url: https://z\n", wantErr: "no credentials"},
		{name: "both", doc: "url: https://z\ntoken_env: ZBX_TOK\nuser: a\npassword_env: ZBX_PW\n", wantErr: "not both"},
		{name: "user without password", doc: "url: https://z\nuser: a\n", wantErr: "no password_file"},
		{name: "password without user", doc: "url: https://z\npassword_env: ZBX_PW\n", wantErr: "user is not"},
		{name: "unset password variable", doc: "url: https://z\nuser: a\npassword_env: ZBX_NOPE\n", wantErr: "ZBX_NOPE is not set"},
		{name: "empty group", doc: "url: https://z\ntoken_env: ZBX_TOK\ngroups: [a, '']\n", wantErr: "groups[1] is empty"},
	}
	t.Setenv("ZBX_PW", "pw")
	t.Setenv("ZBX_TOK", strings.Repeat("a", 64))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := build(t, "name: z\nkind: zabbix\n"+tc.doc, t.TempDir())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if src.rpc.url != tc.wantURL {
				t.Errorf("url %q, want %q", src.rpc.url, tc.wantURL)
			}
		})
	}
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","result":"6.0.14","id":1}`))
	f.Add([]byte(`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params.","data":"Not authorized."},"id":1}`))
	f.Add([]byte(`<html>`))
	f.Add([]byte(`{"jsonrpc":"2.0","result":[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := decodeResponse(b, 1)
		if err == nil && res.Error == nil && len(res.Result) == 0 {
			t.Fatal("accepted an answer with neither result nor error")
		}
		if err != nil && !errors.Is(err, errNotJSONRPC) {
			t.Fatalf("error %v is not marked errNotJSONRPC", err)
		}
	})
}
