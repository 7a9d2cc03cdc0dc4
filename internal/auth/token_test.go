package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The example payload of security.md §2.2.
const (
	exampleNBF     = 1735689600
	exampleEXP     = 1735690500
	examplePayload = `{"iss":"wazuh","aud":"Wazuh API REST","nbf":1735689600,"exp":1735690500,"sub":"wazuh","run_as":false,"rbac_roles":[1],"rbac_mode":"white"}`
)

var exampleClaims = Claims{Issuer: "wazuh", Audience: "Wazuh API REST", NotBefore: exampleNBF, Expires: exampleEXP,
	Subject: "wazuh", RunAs: false, RBACRoles: []int{1}, RBACMode: "white"}

func wazuhKeys(t testing.TB) *KeyPair {
	t.Helper()
	priv, err := os.ReadFile(filepath.Join(wazuhKeysDir, PrivateKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(wazuhKeysDir, PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := parseKeyPair(priv, pub)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

var enc = base64.RawURLEncoding

// craft signs arbitrary header and payload JSON with ES512 under k.
func craft(t testing.TB, k *ecdsa.PrivateKey, header, payload string) string {
	t.Helper()
	in := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	digest := sha512.Sum512([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	size := (k.Curve.Params().BitSize + 7) / 8
	sig := make([]byte, 2*size)
	r.FillBytes(sig[:size])
	s.FillBytes(sig[size:])
	return in + "." + enc.EncodeToString(sig)
}

// payloadWith returns the example payload with one member replaced (or
// removed when value is empty).
func payloadWith(key, value string) string {
	parts := strings.Split(strings.Trim(examplePayload, "{}"), ",")
	var out []string
	for _, p := range parts {
		if strings.HasPrefix(p, `"`+key+`":`) {
			if value != "" {
				out = append(out, `"`+key+`":`+value)
			}
			continue
		}
		out = append(out, p)
	}
	return "{" + strings.Join(out, ",") + "}"
}

func TestEncodedHeader(t *testing.T) {
	if got := enc.EncodeToString([]byte(`{"alg":"ES512","typ":"JWT"}`)); got != encodedHeader {
		t.Errorf("encodedHeader = %q, want %q", encodedHeader, got)
	}
}

func TestSignLayout(t *testing.T) {
	kp := wazuhKeys(t)
	cases := []struct {
		name string
		c    Claims
		want string
	}{
		{"wazuh example", exampleClaims, examplePayload},
		{"run_as with hash and unicode", Claims{Issuer: "wazuh", Audience: Audience, NotBefore: 1, Expires: 901,
			Subject: "j\u00fcrgen\U0001F600\"", RunAs: true, RBACRoles: []int{100, 101}, RBACMode: "black",
			HashAuthContext: "0da2bf953dfb8e4ef089594ce6399b71"},
			`{"iss":"wazuh","aud":"Wazuh API REST","nbf":1,"exp":901,"sub":"j\u00fcrgen\ud83d\ude00\"","run_as":true,"rbac_roles":[100,101],"rbac_mode":"black","hash_auth_context":"0da2bf953dfb8e4ef089594ce6399b71"}`},
		{"no roles", Claims{Issuer: "wazuh", Audience: Audience, NotBefore: 5, Expires: 6, Subject: "x", RBACMode: "white"},
			`{"iss":"wazuh","aud":"Wazuh API REST","nbf":5,"exp":6,"sub":"x","run_as":false,"rbac_roles":[],"rbac_mode":"white"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Sign(kp.Private, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			seg := strings.Split(tok, ".")
			if len(seg) != 3 || seg[0] != encodedHeader {
				t.Fatalf("token %q: want 3 segments and the ES512 header", tok)
			}
			payload, err := enc.DecodeString(seg[1])
			if err != nil {
				t.Fatal(err)
			}
			if string(payload) != tc.want {
				t.Errorf("payload\n got %s\nwant %s", payload, tc.want)
			}
			sig, err := enc.DecodeString(seg[2])
			if err != nil || len(sig) != 132 || strings.ContainsAny(seg[2], "=+/") {
				t.Errorf("signature: %d bytes, err %v, want 132 unpadded base64url bytes", len(sig), err)
			}
			got, err := Verify(kp.Public, tok, time.Unix(tc.c.NotBefore, 0))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.c
			if want.RBACRoles == nil {
				want.RBACRoles = []int{}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSignRejectsWrongKey(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, k := range map[string]*ecdsa.PrivateKey{"nil": nil, "P-256": p256} {
		if _, err := Sign(k, exampleClaims); err == nil {
			t.Errorf("Sign with %s key succeeded", name)
		}
	}
}

func TestVerifyAccepts(t *testing.T) {
	kp := wazuhKeys(t)
	in := time.Unix(exampleNBF+10, 0)
	cases := []struct {
		name, header, payload string
		now                   time.Time
	}{
		{"canonical", `{"alg":"ES512","typ":"JWT"}`, examplePayload, in},
		{"header keys reordered", `{"typ":"JWT","alg":"ES512"}`, examplePayload, in},
		{"header without typ", `{"alg":"ES512"}`, examplePayload, in},
		{"aud list", `{"alg":"ES512"}`, payloadWith("aud", `["other","Wazuh API REST"]`), in},
		{"at nbf exactly", `{"alg":"ES512"}`, examplePayload, time.Unix(exampleNBF, 0)},
		{"just before exp", `{"alg":"ES512"}`, examplePayload, time.Unix(exampleEXP, 0).Add(-time.Nanosecond)},
		{"without iss", `{"alg":"ES512"}`, payloadWith("iss", ""), in},
		{"iat in the past", `{"alg":"ES512"}`, payloadWith("iss", `"wazuh","iat":1735689600`), in},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := craft(t, kp.Private, tc.header, tc.payload)
			c, err := Verify(kp.Public, tok, tc.now)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Subject != "wazuh" || c.Audience != Audience || c.Expires != exampleEXP {
				t.Errorf("claims = %+v", c)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	kp := wazuhKeys(t)
	other, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	in := time.Unix(exampleNBF+10, 0)
	es := `{"alg":"ES512","typ":"JWT"}`
	good := craft(t, kp.Private, es, examplePayload)
	seg := strings.Split(good, ".")
	pubPEM, _ := os.ReadFile(filepath.Join(wazuhKeysDir, PublicKeyFile))
	hs256 := func(header string) string {
		in := enc.EncodeToString([]byte(header)) + "." + seg[1]
		m := hmac.New(sha256.New, pubPEM)
		m.Write([]byte(in))
		return in + "." + enc.EncodeToString(m.Sum(nil))
	}
	withHeader := func(header string) string {
		return enc.EncodeToString([]byte(header)) + "." + seg[1] + "." + seg[2]
	}
	cases := []struct {
		name, token string
		now         time.Time
	}{
		{"alg none, no signature", enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + seg[1] + ".", in},
		{"alg none, ES512 signature", craft(t, kp.Private, `{"alg":"none","typ":"JWT"}`, examplePayload), in},
		{"HS256 keyed with public key PEM", hs256(`{"alg":"HS256","typ":"JWT"}`), in},
		{"HS256 header on ES512 signature", withHeader(`{"alg":"HS256","typ":"JWT"}`), in},
		{"RS256 header", craft(t, kp.Private, `{"alg":"RS256","typ":"JWT"}`, examplePayload), in},
		{"ES256 header", craft(t, kp.Private, `{"alg":"ES256","typ":"JWT"}`, examplePayload), in},
		{"ES256 with P-256 key", craft(t, p256, `{"alg":"ES256","typ":"JWT"}`, examplePayload), in},
		{"ES512 header with P-256 key", craft(t, p256, es, examplePayload), in},
		{"lower-case alg", craft(t, kp.Private, `{"alg":"es512"}`, examplePayload), in},
		{"alg not a string", craft(t, kp.Private, `{"alg":["ES512"]}`, examplePayload), in},
		{"no alg", craft(t, kp.Private, `{"typ":"JWT"}`, examplePayload), in},
		{"header not an object", craft(t, kp.Private, `["ES512"]`, examplePayload), in},
		{"header null", craft(t, kp.Private, `null`, examplePayload), in},
		{"crit header", craft(t, kp.Private, `{"alg":"ES512","crit":["exp"],"exp":1}`, examplePayload), in},
		{"kid not a string", craft(t, kp.Private, `{"alg":"ES512","kid":1}`, examplePayload), in},
		{"another key", craft(t, other.Private, es, examplePayload), in},
		{"payload changed", seg[0] + "." + enc.EncodeToString([]byte(payloadWith("sub", `"admin"`))) + "." + seg[2], in},
		{"expired at exactly exp", good, time.Unix(exampleEXP, 0)},
		{"expired after exp", good, time.Unix(exampleEXP+1, 0)},
		{"nbf in the future", good, time.Unix(exampleNBF-1, 0)},
		{"nbf a fraction ahead", good, time.Unix(exampleNBF, 0).Add(-time.Millisecond)},
		{"wrong aud", craft(t, kp.Private, es, payloadWith("aud", `"Wazuh API"`)), in},
		{"missing aud", craft(t, kp.Private, es, payloadWith("aud", "")), in},
		{"aud null", craft(t, kp.Private, es, payloadWith("aud", "null")), in},
		{"aud list without it", craft(t, kp.Private, es, payloadWith("aud", `["x"]`)), in},
		{"aud list with non-string", craft(t, kp.Private, es, payloadWith("aud", `["Wazuh API REST",1]`)), in},
		{"aud empty list", craft(t, kp.Private, es, payloadWith("aud", `[]`)), in},
		{"iss not a string", craft(t, kp.Private, es, payloadWith("iss", `1`)), in},
		{"sub not a string", craft(t, kp.Private, es, payloadWith("sub", `1`)), in},
		{"sub null", craft(t, kp.Private, es, payloadWith("sub", `null`)), in},
		{"sub missing", craft(t, kp.Private, es, payloadWith("sub", "")), in},
		{"exp missing", craft(t, kp.Private, es, payloadWith("exp", "")), in},
		{"exp float", craft(t, kp.Private, es, payloadWith("exp", "1735690500.5")), in},
		{"exp string", craft(t, kp.Private, es, payloadWith("exp", `"1735690500"`)), in},
		{"exp overflows", craft(t, kp.Private, es, payloadWith("exp", "99999999999999999999")), in},
		{"nbf missing", craft(t, kp.Private, es, payloadWith("nbf", "")), in},
		{"nbf bool", craft(t, kp.Private, es, payloadWith("nbf", "true")), in},
		{"iat in the future", craft(t, kp.Private, es, payloadWith("iss", `"wazuh","iat":1735689611`)), in},
		{"jti not a string", craft(t, kp.Private, es, payloadWith("iss", `"wazuh","jti":5`)), in},
		{"run_as missing", craft(t, kp.Private, es, payloadWith("run_as", "")), in},
		{"run_as string", craft(t, kp.Private, es, payloadWith("run_as", `"false"`)), in},
		{"rbac_roles missing", craft(t, kp.Private, es, payloadWith("rbac_roles", "")), in},
		{"rbac_roles not a list", craft(t, kp.Private, es, payloadWith("rbac_roles", "1")), in},
		{"rbac_roles with string", craft(t, kp.Private, es, payloadWith("rbac_roles", `[1,"2"]`)), in},
		{"rbac_roles with float", craft(t, kp.Private, es, payloadWith("rbac_roles", `[1.5]`)), in},
		{"rbac_roles with null", craft(t, kp.Private, es, payloadWith("rbac_roles", `[null]`)), in},
		{"rbac_mode missing", craft(t, kp.Private, es, payloadWith("rbac_mode", "")), in},
		{"rbac_mode not a string", craft(t, kp.Private, es, payloadWith("rbac_mode", "0")), in},
		{"hash_auth_context not a string", craft(t, kp.Private, es, payloadWith("rbac_mode", `"white","hash_auth_context":1`)), in},
		{"payload not an object", craft(t, kp.Private, es, `[1]`), in},
		{"payload not JSON", craft(t, kp.Private, es, `{"sub":`), in},
		{"empty", "", in},
		{"garbage", "garbage", in},
		{"two segments", seg[0] + "." + seg[1], in},
		{"four segments", good + ".x", in},
		{"bad base64 header", "!!!" + good[3:], in},
		{"bad base64 payload", seg[0] + ".*" + seg[1][1:] + "." + seg[2], in},
		{"bad base64 signature", seg[0] + "." + seg[1] + ".*" + seg[2][1:], in},
		{"padded signature", good + "==", in},
		{"standard base64 signature", seg[0] + "." + seg[1] + "." + base64.StdEncoding.EncodeToString(make([]byte, 132)), in},
		{"short signature", seg[0] + "." + seg[1] + "." + seg[2][:len(seg[2])-4], in},
		{"long signature", good + "AAAA", in},
		{"zero signature", seg[0] + "." + seg[1] + "." + enc.EncodeToString(make([]byte, 132)), in},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Verify(kp.Public, tc.token, tc.now)
			if err == nil {
				t.Fatalf("Verify accepted the token, claims %+v", c)
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Errorf("error %v does not wrap ErrInvalidToken", err)
			}
		})
	}
	t.Run("control", func(t *testing.T) {
		if _, err := Verify(kp.Public, good, in); err != nil {
			t.Fatalf("the unaltered token must verify: %v", err)
		}
	})
	t.Run("nil key", func(t *testing.T) {
		if _, err := Verify(nil, good, in); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Verify with nil key: %v", err)
		}
	})
	t.Run("P-256 public key", func(t *testing.T) {
		if _, err := Verify(&p256.PublicKey, good, in); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Verify with P-256 key: %v", err)
		}
	})
}

func FuzzVerify(f *testing.F) {
	kp := wazuhKeys(f)
	good := craft(f, kp.Private, `{"alg":"ES512","typ":"JWT"}`, examplePayload)
	f.Add(good)
	f.Add(craft(f, kp.Private, `{"alg":"ES512","kid":"a"}`, payloadWith("aud", `["Wazuh API REST"]`)))
	f.Add(craft(f, kp.Private, `{"alg":"none"}`, `{}`))
	f.Add("a.b.c")
	f.Add("..")
	f.Add("")
	now := time.Unix(exampleNBF+1, 0)
	f.Fuzz(func(t *testing.T, token string) {
		c, err := Verify(kp.Public, token, now)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error %v does not wrap ErrInvalidToken", err)
			}
			return
		}
		if c.Audience != Audience || now.Unix() >= c.Expires || c.NotBefore > now.Unix() {
			t.Fatalf("accepted invalid claims %+v", c)
		}
	})
}
