package connauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// tokenServer answers POST /token as RFC 6749 §5.1 describes, or with what
// answer writes instead; it records the forms it got.
func tokenServer(t *testing.T, answer func(w http.ResponseWriter, n int32) bool) (*httptest.Server, *[]url.Values) {
	t.Helper()
	var calls atomic.Int32
	var forms []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/token" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request form: %v", err)
		}
		if u, p, ok := r.BasicAuth(); ok {
			r.PostForm.Set("basic", u+":"+p)
		}
		forms = append(forms, r.PostForm)
		n := calls.Add(1)
		if answer != nil && answer(w, n) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "tok-" + string(rune('0'+n)), "token_type": "bearer", "expires_in": 120})
	}))
	t.Cleanup(srv.Close)
	return srv, &forms
}

func TestClientCredentialsSendsTheGrant(t *testing.T) {
	srv, forms := tokenServer(t, nil)
	tr, clk, _ := testTransport(t, DefaultRetry)
	cc := ClientCredentials{ClientID: "id1", ClientSecret: "s3cret", TokenURL: srv.URL + "/token",
		Scopes: []string{"hosts:read", "other"}, Params: url.Values{"member_cid": {"cid9"}}}
	tok, err := cc.Login(tr)(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if tok.Value != "tok-1" || !tok.Expiry.Equal(clk.Now().Add(120*time.Second)) {
		t.Fatalf("token %+v, want tok-1 expiring 120 s after the request on the transport's clock", tok)
	}
	f := (*forms)[0]
	want := map[string]string{"grant_type": "client_credentials", "client_id": "id1", "client_secret": "s3cret",
		"scope": "hosts:read other", "member_cid": "cid9", "basic": ""}
	for k, v := range want {
		if f.Get(k) != v {
			t.Errorf("form %s = %q, want %q", k, f.Get(k), v)
		}
	}
}

func TestClientCredentialsInHeader(t *testing.T) {
	srv, forms := tokenServer(t, nil)
	tr, _, _ := testTransport(t, DefaultRetry)
	cc := ClientCredentials{ClientID: "id1", ClientSecret: "s3cret", TokenURL: srv.URL + "/token", InHeader: true}
	if _, err := cc.Login(tr)(t.Context()); err != nil {
		t.Fatal(err)
	}
	f := (*forms)[0]
	if f.Get("basic") != "id1:s3cret" || f.Get("client_secret") != "" {
		t.Fatalf("form %v: want the credentials as Basic only", f)
	}
}

// A refusal is never retried (a lockout would only grow), and says what to check.
func TestClientCredentialsRefusalNotRetried(t *testing.T) {
	srv, forms := tokenServer(t, func(w http.ResponseWriter, n int32) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_client","error_description":"bad secret"}`))
		return true
	})
	tr, _, _ := testTransport(t, DefaultRetry)
	_, err := ClientCredentials{ClientID: "id1", ClientSecret: "wrong", TokenURL: srv.URL + "/token"}.Login(tr)(t.Context())
	if !errors.Is(err, ErrLoginRefused) || !strings.Contains(err.Error(), "invalid_client: bad secret") || !strings.Contains(err.Error(), "client_id") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("the secret is in the error: %v", err)
	}
	if len(*forms) != 1 {
		t.Fatalf("%d token requests, want 1", len(*forms))
	}
}

func TestClientCredentials429Retried(t *testing.T) {
	srv, forms := tokenServer(t, func(w http.ResponseWriter, n int32) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	tr, _, sl := testTransport(t, DefaultRetry)
	tok, err := ClientCredentials{ClientID: "a", ClientSecret: "b", TokenURL: srv.URL + "/token"}.Login(tr)(t.Context())
	if err != nil || tok.Value != "tok-2" {
		t.Fatalf("tok %v err %v", tok, err)
	}
	if w := sl.Waits(); len(w) == 0 || w[0] != 3*time.Second || len(*forms) != 2 || tr.RateLimited() != 1 {
		t.Fatalf("waits %v, %d requests, %d 429s: want the 3 s Retry-After, then a second request", w, len(*forms), tr.RateLimited())
	}
}

func TestClientCredentialsBadAnswers(t *testing.T) {
	cases := []struct {
		name, ctype, body string
		status            int
		want              string
	}{
		{"html login page", "text/html", "<html><body>Sign in</body></html>", 200, "not a login page"},
		{"json without token", "application/json", `{"token_type":"bearer"}`, 200, "no access_token"},
		{"truncated json", "application/json", `{"access_token":"x`, 200, "not a JSON token answer"},
		{"mac token", "application/json", `{"access_token":"x","token_type":"mac"}`, 200, `"mac" token`},
		{"html error page", "text/html", "<h1>Bad Gateway</h1>", 502, "HTTP 502"},
		{"form without token", "application/x-www-form-urlencoded", "token_type=bearer", 200, "no access_token"},
		{"not found", "text/plain", "no such page", 404, "HTTP 404: no such page"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, _ := tokenServer(t, func(w http.ResponseWriter, n int32) bool {
				w.Header().Set("Content-Type", c.ctype)
				w.WriteHeader(c.status)
				w.Write([]byte(c.body))
				return true
			})
			tr, _, _ := testTransport(t, Retry{Attempts: 2, Base: time.Millisecond})
			_, err := ClientCredentials{ClientID: "a", ClientSecret: "b", TokenURL: srv.URL + "/token"}.Login(tr)(t.Context())
			if err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, ErrLoginRefused) {
				t.Fatalf("err = %v, want one saying %q", err, c.want)
			}
		})
	}
}

// Without expires_in the expiry is unknown: the cache keeps the token until
// the API refuses it.
func TestClientCredentialsNoExpiresIn(t *testing.T) {
	srv, _ := tokenServer(t, func(w http.ResponseWriter, n int32) bool {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"forever","token_type":"Bearer"}`))
		return true
	})
	tr, _, _ := testTransport(t, DefaultRetry)
	tok, err := ClientCredentials{ClientID: "a", ClientSecret: "b", TokenURL: srv.URL + "/token"}.Login(tr)(t.Context())
	if err != nil || tok.Value != "forever" || !tok.Expiry.IsZero() {
		t.Fatalf("tok %+v err %v", tok, err)
	}
}

// The server's Date header is never used: a server clock an hour off does
// not shorten or lengthen the token's life.
func TestClientCredentialsClockSkew(t *testing.T) {
	srv, _ := tokenServer(t, func(w http.ResponseWriter, n int32) bool {
		w.Header().Set("Date", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
		return false
	})
	tr, clk, _ := testTransport(t, DefaultRetry)
	tok, err := ClientCredentials{ClientID: "a", ClientSecret: "b", TokenURL: srv.URL + "/token"}.Login(tr)(t.Context())
	if err != nil || !tok.Expiry.Equal(clk.Now().Add(2*time.Minute)) {
		t.Fatalf("tok %+v err %v", tok, err)
	}
}

func TestClientCredentialsEndpointDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	tr, _, _ := testTransport(t, DefaultRetry)
	_, err := ClientCredentials{ClientID: "a", ClientSecret: "b", TokenURL: addr + "/token"}.Login(tr)(t.Context())
	if err == nil || !strings.Contains(err.Error(), "token endpoint "+addr) {
		t.Fatalf("err = %v", err)
	}
}

// Against a real OAuth2 server (../shared/recipes/oauth2-mock.sh): the
// secret is checked, tokens expire in a few seconds and renew through the
// cache, and a wrong secret is refused.
func TestClientCredentialsRealServer(t *testing.T) {
	base := os.Getenv("MUSTER_TEST_OAUTH2_URL")
	if base == "" {
		t.Skip("MUSTER_TEST_OAUTH2_URL is not set (run ../shared/recipes/oauth2-mock.sh and set it to http://127.0.0.1:57010)")
	}
	tr, err := NewTransport(TransportConfig{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	good := ClientCredentials{ClientID: "falcon-id", ClientSecret: "falcon-secret", TokenURL: base + "/token", Scopes: []string{"hosts:read"}}
	tok, err := good.Login(tr)(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Value == "" || tok.Expiry.IsZero() || time.Until(tok.Expiry) > time.Minute {
		t.Fatalf("token %q expiring %s: want a short-lived one", tok.Value[:min(len(tok.Value), 12)], tok.Expiry)
	}
	bad := good
	bad.ClientSecret = "not-it"
	if _, err := bad.Login(tr)(ctx); !errors.Is(err, ErrLoginRefused) || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("wrong secret: err = %v", err)
	}
	// The cache renews at half the short life: a second Get once that has
	// passed logs in again (a JWT issued in the same second may be the same
	// string, so the logins are counted, not the values).
	c := &TokenCache{Login: good.Login(tr)}
	t1, err := c.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now
	c.Now = func() time.Time { return now().Add(time.Until(t1.Expiry)) }
	t2, err := c.Get(ctx)
	if err != nil || t2.Value == "" || c.Logins() != 2 {
		t.Fatalf("renewal: err %v, logins %d, want 2", err, c.Logins())
	}
}

func TestExpiresIn(t *testing.T) {
	for v, want := range map[any]int64{float64(3600): 3600, int64(90): 90, "1800": 1800, json.Number("60"): 60, nil: 0,
		"soon": 0, float64(-5): 0, float64(0.5): 0, float64(1e12): 0, true: 0} {
		if got := expiresIn(v); got != want {
			t.Errorf("expiresIn(%#v) = %d, want %d", v, got, want)
		}
	}
}

// A form-encoded answer (RFC 6749 allows only JSON, some servers send forms)
// carries expires_in as a string.
func TestClientCredentialsFormAnswer(t *testing.T) {
	srv, _ := tokenServer(t, func(w http.ResponseWriter, n int32) bool {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		w.Write([]byte("access_token=f1&token_type=bearer&expires_in=90"))
		return true
	})
	tr, clk, _ := testTransport(t, DefaultRetry)
	tok, err := ClientCredentials{ClientID: "a", ClientSecret: "b", TokenURL: srv.URL + "/token"}.Login(tr)(t.Context())
	if err != nil || tok.Value != "f1" || !tok.Expiry.Equal(clk.Now().Add(90*time.Second)) {
		t.Fatalf("tok %+v err %v", tok, err)
	}
}
