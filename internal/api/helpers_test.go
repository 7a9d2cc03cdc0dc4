package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/apitest"
)

// exchange is one raw request's answer.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

func (x exchange) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(x.body, &m); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, x.body)
	}
	return m
}

// do sends a raw request through the contract checker.
func do(t *testing.T, e *apitest.Env, method, path string, headers map[string]string, body string) exchange {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.HTTP().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return exchange{resp.StatusCode, resp.Header, b}
}

func basic(user, pass string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// token logs in with raw=true and returns the token.
func token(t *testing.T, e *apitest.Env, user, pass string) string {
	t.Helper()
	x := do(t, e, "POST", "/security/user/authenticate?raw=true", basic(user, pass), "")
	if x.status != 200 {
		t.Fatalf("login %s: %d %s", user, x.status, x.body)
	}
	return string(x.body)
}

func expectBody(t *testing.T, x exchange, status int, want string) {
	t.Helper()
	if x.status != status || string(x.body) != want {
		t.Fatalf("got %d %s\nwant %d %s", x.status, x.body, status, want)
	}
}

// signingKey reads the server's current ES512 key from the store.
func signingKey(t *testing.T, e *apitest.Env) *ecdsa.PrivateKey {
	t.Helper()
	d, err := e.Store.LoadSecurity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode([]byte(d.SigningKey))
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*ecdsa.PrivateKey)
}
