package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/pyjson"
)

// Token layout (JWS compact serialisation, ES512):
//
//	base64url(header) "." base64url(payload) "." base64url(R || S)
//
// The header is always {"alg":"ES512","typ":"JWT"}; the payload is compact
// JSON with the claims in the order Wazuh writes them; R and S are big-endian
// and left-padded to 66 bytes each (132 bytes in all). base64url is unpadded.
const (
	// Audience is the only accepted aud claim.
	Audience = "Wazuh API REST"
	// Issuer is the iss claim of the tokens Wazuh issues.
	Issuer = "wazuh"

	encodedHeader = "eyJhbGciOiJFUzUxMiIsInR5cCI6IkpXVCJ9" // {"alg":"ES512","typ":"JWT"}
	scalarLen     = 66
	sigLen        = 2 * scalarLen
)

// ErrInvalidToken is wrapped by every error Verify returns.
var ErrInvalidToken = errors.New("invalid token")

// b64 is strict unpadded base64url.
var b64 = base64.RawURLEncoding.Strict()

// Claims are the JWT claims of a Wazuh API token.
type Claims struct {
	Issuer          string
	Audience        string
	NotBefore       int64
	Expires         int64
	Subject         string
	RunAs           bool
	RBACRoles       []int
	RBACMode        string
	HashAuthContext string
}

// Sign returns the ES512 token for c signed with the P-521 key k.
func Sign(k *ecdsa.PrivateKey, c Claims) (string, error) {
	if k == nil || k.Curve != elliptic.P521() {
		return "", errors.New("auth: sign: need a P-521 private key")
	}
	payload := appendPayload(make([]byte, 0, 192), c)
	buf := make([]byte, 0, len(encodedHeader)+2+b64.EncodedLen(len(payload))+b64.EncodedLen(sigLen))
	buf = append(buf, encodedHeader...)
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, payload)
	digest := sha512.Sum512(buf)
	r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
	if err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	var sig [sigLen]byte
	r.FillBytes(sig[:scalarLen])
	s.FillBytes(sig[scalarLen:])
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig[:])
	return string(buf), nil
}

// appendPayload appends the claims as compact JSON in Wazuh's key order,
// with non-ASCII characters escaped as Python does.
func appendPayload(b []byte, c Claims) []byte {
	b = append(b, `{"iss":`...)
	b = pyjson.AppendString(b, c.Issuer)
	b = append(b, `,"aud":`...)
	b = pyjson.AppendString(b, c.Audience)
	b = append(b, `,"nbf":`...)
	b = strconv.AppendInt(b, c.NotBefore, 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.Expires, 10)
	b = append(b, `,"sub":`...)
	b = pyjson.AppendString(b, c.Subject)
	b = append(b, `,"run_as":`...)
	b = strconv.AppendBool(b, c.RunAs)
	b = append(b, `,"rbac_roles":[`...)
	for i, r := range c.RBACRoles {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(r), 10)
	}
	b = append(b, `],"rbac_mode":`...)
	b = pyjson.AppendString(b, c.RBACMode)
	if c.HashAuthContext != "" {
		b = append(b, `,"hash_auth_context":`...)
		b = pyjson.AppendString(b, c.HashAuthContext)
	}
	return append(b, '}')
}

// invalid wraps ErrInvalidToken with the reason, for logs.
func invalid(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, reason)
}

// Verify checks token's ES512 signature against pub and its claims at time
// now (zero leeway), and returns the claims; every failure wraps
// ErrInvalidToken.
func Verify(pub *ecdsa.PublicKey, token string, now time.Time) (Claims, error) {
	if pub == nil || pub.Curve != elliptic.P521() {
		return Claims{}, invalid("no P-521 public key")
	}
	hdr, rest, ok1 := strings.Cut(token, ".")
	body, sigPart, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(sigPart, '.') >= 0 {
		return Claims{}, invalid("not three segments")
	}
	if hdr != encodedHeader {
		if err := checkHeader(hdr); err != nil {
			return Claims{}, err
		}
	}
	if b64.DecodedLen(len(sigPart)) != sigLen {
		return Claims{}, invalid("signature length")
	}
	var sig [sigLen]byte
	if n, err := b64.Decode(sig[:], []byte(sigPart)); err != nil || n != sigLen {
		return Claims{}, invalid("signature encoding")
	}
	digest := sha512.Sum512([]byte(token[:len(hdr)+1+len(body)]))
	r := new(big.Int).SetBytes(sig[:scalarLen])
	s := new(big.Int).SetBytes(sig[scalarLen:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return Claims{}, invalid("bad signature")
	}
	payload, err := b64.DecodeString(body)
	if err != nil {
		return Claims{}, invalid("payload encoding")
	}
	return parseClaims(payload, now.Unix())
}
