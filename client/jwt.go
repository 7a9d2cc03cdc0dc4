package client

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Claims are the JWT claims the client reads from a Wazuh token (unverified: the client has no key).
type Claims struct {
	Subject   string `json:"sub"`
	Issuer    string `json:"iss"`
	RunAs     bool   `json:"run_as"`
	RBACRoles []int  `json:"rbac_roles"`
	RBACMode  string `json:"rbac_mode"`
	NotBefore int64  `json:"-"`
	ExpiresAt int64  `json:"-"`
}

// Lifetime returns exp-nbf, the validity the manager granted, or 0 if unknown.
func (c Claims) Lifetime() time.Duration {
	if c.ExpiresAt <= 0 || c.NotBefore <= 0 || c.ExpiresAt <= c.NotBefore {
		return 0
	}
	return time.Duration(c.ExpiresAt-c.NotBefore) * time.Second
}

// ParseClaims decodes the payload of a JWT without checking its signature.
func ParseClaims(token string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("token is not a JWT (expected three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, errors.New("token payload is not base64url: " + err.Error())
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, errors.New("token payload is not a JSON object: " + err.Error())
	}
	var times struct {
		Exp json.Number `json:"exp"`
		Nbf json.Number `json:"nbf"`
		Iat json.Number `json:"iat"`
	}
	if err := json.Unmarshal(payload, &times); err != nil {
		return Claims{}, errors.New("token time claims are not numbers: " + err.Error())
	}
	c.ExpiresAt = numSeconds(times.Exp)
	c.NotBefore = numSeconds(times.Nbf)
	if c.NotBefore == 0 {
		c.NotBefore = numSeconds(times.Iat)
	}
	return c, nil
}

// numSeconds converts a JSON number of seconds (integer or not) to whole seconds.
func numSeconds(n json.Number) int64 {
	if n == "" {
		return 0
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	if f, err := n.Float64(); err == nil {
		return int64(f)
	}
	return 0
}
