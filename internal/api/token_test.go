package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/apitest"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// es512 signs header.payload with key, as a JWT library would.
func es512(t *testing.T, key *ecdsa.PrivateKey, header, payload string) string {
	t.Helper()
	signing := b64(header) + "." + b64(payload)
	sum := sha512.Sum512([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 132)
	r.FillBytes(sig[:66])
	s.FillBytes(sig[66:])
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestBadTokens(t *testing.T) {
	e := apitest.Start(t)
	good := token(t, e, "wazuh", "wazuh")
	parts := strings.Split(good, ".")
	other, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	now := e.Clock.Now().Unix()
	claims := func(nbf, exp int64, aud string) string {
		return `{"iss":"wazuh","aud":"` + aud + `","nbf":` + itoa(nbf) + `,"exp":` + itoa(exp) +
			`,"sub":"wazuh","run_as":false,"rbac_roles":[1],"rbac_mode":"white"}`
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&other.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hs := b64(`{"alg":"HS256","typ":"JWT"}`) + "." + parts[1]
	mac := hmac.New(sha256.New, pubPEM)
	mac.Write([]byte(hs))
	hsToken := hs + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	cases := map[string]string{
		"garbage":            "not-a-token",
		"two segments":       parts[0] + "." + parts[1],
		"four segments":      good + ".x",
		"alg none":           b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + ".",
		"HS256 with pub key": hsToken,
		"another key":        es512(t, other, `{"alg":"ES512","typ":"JWT"}`, claims(now, now+900, "Wazuh API REST")),
		"tampered payload":   parts[0] + "." + b64(strings.Replace(claims(now, now+900, "Wazuh API REST"), `[1]`, `[1,2]`, 1)) + "." + parts[2],
		"bad signature b64":  parts[0] + "." + parts[1] + ".!!!",
		"zero signature":     parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 132)),
		"non-UTF-8":          "\xff\xfe.\xfd.\xfc",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			expectBody(t, do(t, e, "GET", "/", bearer(tok), ""), 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
		})
	}
}

// TestTokenTimeAndAudience uses the server's own key through the store, so
// only the claim under test is wrong.
func TestTokenTimeAndAudience(t *testing.T) {
	e := apitest.Start(t)
	key := signingKey(t, e)
	now := e.Clock.Now().Unix()
	mk := func(nbf, exp int64, aud string) string {
		return es512(t, key, `{"alg":"ES512","typ":"JWT"}`, `{"iss":"wazuh","aud":"`+aud+`","nbf":`+itoa(nbf)+
			`,"exp":`+itoa(exp)+`,"sub":"wazuh","run_as":false,"rbac_roles":[1],"rbac_mode":"white"}`)
	}
	if x := do(t, e, "GET", "/", bearer(mk(now, now+900, "Wazuh API REST")), ""); x.status != 200 {
		t.Fatalf("control token refused: %d %s", x.status, x.body)
	}
	cases := map[string]string{
		"expired":         mk(now-900, now, "Wazuh API REST"),
		"not yet valid":   mk(now+10, now+910, "Wazuh API REST"),
		"wrong audience":  mk(now, now+900, "someone else"),
		"unknown subject": strings.Replace(mk(now, now+900, "Wazuh API REST"), "x", "x", 1),
	}
	delete(cases, "unknown subject")
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			expectBody(t, do(t, e, "GET", "/", bearer(tok), ""), 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
		})
	}
	// Signed correctly, but for a lifetime the configuration no longer gives.
	expectBody(t, do(t, e, "GET", "/", bearer(mk(now, now+600, "Wazuh API REST")), ""), 401,
		`{"title": "Unauthorized", "detail": "Token expired"}`)
	// A user that does not exist.
	ghost := es512(t, key, `{"alg":"ES512","typ":"JWT"}`, `{"iss":"wazuh","aud":"Wazuh API REST","nbf":`+itoa(now)+
		`,"exp":`+itoa(now+900)+`,"sub":"ghost","run_as":false,"rbac_roles":[1],"rbac_mode":"white"}`)
	expectBody(t, do(t, e, "GET", "/", bearer(ghost), ""), 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
	// Roles the user does not have.
	forged := es512(t, key, `{"alg":"ES512","typ":"JWT"}`, `{"iss":"wazuh","aud":"Wazuh API REST","nbf":`+itoa(now)+
		`,"exp":`+itoa(now+900)+`,"sub":"wazuh","run_as":false,"rbac_roles":[1,2],"rbac_mode":"white"}`)
	if x := do(t, e, "GET", "/", bearer(forged), ""); x.status != 200 {
		// wazuh has allow_run_as, so its role set is not pinned (Wazuh's rule).
		t.Fatalf("run_as user with other roles: %d", x.status)
	}
}

func TestAuthorizationHeaderForms(t *testing.T) {
	e := apitest.Start(t)
	expectBody(t, do(t, e, "GET", "/", nil, ""), 401, `{"title": "Unauthorized", "detail": "No authorization token provided"}`)
	expectBody(t, do(t, e, "GET", "/", basic("wazuh", "wazuh"), ""), 401, `{"title": "Unauthorized", "detail": "No authorization token provided"}`)
	expectBody(t, do(t, e, "GET", "/", map[string]string{"Authorization": "Bearer"}, ""), 401,
		`{"title": "Unauthorized", "detail": "Invalid authorization header"}`)
	tok := token(t, e, "wazuh", "wazuh")
	if x := do(t, e, "GET", "/", map[string]string{"Authorization": "bearer " + tok}, ""); x.status != 200 {
		t.Fatalf("lower-case bearer: %d", x.status)
	}
}

func TestUnknownParameterAfterAuth(t *testing.T) {
	e := apitest.Start(t)
	expectBody(t, do(t, e, "GET", "/?foo=1", bearer("bad"), ""), 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
	expectBody(t, do(t, e, "GET", "/?foo=1&bar=2", bearer(token(t, e, "wazuh", "wazuh")), ""), 400,
		`{"title": "Bad Request", "detail": "Extra query parameter(s) bar, foo not in spec"}`)
}
