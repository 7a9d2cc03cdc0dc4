package auth

import (
	"encoding/json"
	"strconv"
)

// checkHeader decodes a header segment that differs from the canonical one
// and accepts it only when alg is exactly "ES512". Other members are ignored,
// except that crit (extensions we do not know) and a non-string kid are
// refused, as PyJWT does.
func checkHeader(seg string) error {
	raw, err := b64.DecodeString(seg)
	if err != nil {
		return invalid("header encoding")
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(raw, &h); err != nil || h == nil {
		return invalid("header is not a JSON object")
	}
	if alg, ok := rawString(h["alg"]); !ok || alg != "ES512" {
		return invalid("algorithm not allowed")
	}
	if _, ok := h["crit"]; ok {
		return invalid("critical header extensions")
	}
	if kid, ok := h["kid"]; ok {
		if _, ok := rawString(kid); !ok {
			return invalid("kid is not a string")
		}
	}
	return nil
}

// parseClaims decodes the payload and applies PyJWT's checks as Wazuh
// configures them (aud required and matching, exp and nbf required integers,
// zero leeway) plus type checks on the Wazuh claims.
func parseClaims(payload []byte, now int64) (Claims, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil || m == nil {
		return Claims{}, invalid("payload is not a JSON object")
	}
	var c Claims
	var ok bool
	aud, present := m["aud"]
	if !present {
		return Claims{}, invalid("missing aud")
	}
	if !audienceOK(aud) {
		return Claims{}, invalid("wrong aud")
	}
	c.Audience = Audience
	if raw, present := m["iss"]; present {
		if c.Issuer, ok = rawString(raw); !ok {
			return Claims{}, invalid("iss is not a string")
		}
	}
	if c.Expires, ok = rawInt(m["exp"]); !ok {
		return Claims{}, invalid("exp missing or not an integer")
	}
	if c.NotBefore, ok = rawInt(m["nbf"]); !ok {
		return Claims{}, invalid("nbf missing or not an integer")
	}
	if raw, present := m["iat"]; present {
		if iat, ok := rawInt(raw); !ok || iat > now {
			return Claims{}, invalid("bad iat")
		}
	}
	if raw, present := m["jti"]; present {
		if _, ok := rawString(raw); !ok {
			return Claims{}, invalid("jti is not a string")
		}
	}
	if c.Subject, ok = rawString(m["sub"]); !ok {
		return Claims{}, invalid("sub missing or not a string")
	}
	if c.RunAs, ok = rawBool(m["run_as"]); !ok {
		return Claims{}, invalid("run_as missing or not a boolean")
	}
	if c.RBACRoles, ok = rawInts(m["rbac_roles"]); !ok {
		return Claims{}, invalid("rbac_roles missing or not a list of integers")
	}
	if c.RBACMode, ok = rawString(m["rbac_mode"]); !ok {
		return Claims{}, invalid("rbac_mode missing or not a string")
	}
	if raw, present := m["hash_auth_context"]; present {
		if c.HashAuthContext, ok = rawString(raw); !ok {
			return Claims{}, invalid("hash_auth_context is not a string")
		}
	}
	if now >= c.Expires {
		return Claims{}, invalid("expired")
	}
	if c.NotBefore > now {
		return Claims{}, invalid("not yet valid")
	}
	return c, nil
}

// audienceOK accepts aud as a string equal to Audience or a list of strings
// that contains it.
func audienceOK(raw json.RawMessage) bool {
	if s, ok := rawString(raw); ok {
		return s == Audience
	}
	if len(raw) == 0 || raw[0] != '[' {
		return false
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return false
	}
	found := false
	for _, e := range list {
		s, ok := rawString(e)
		if !ok {
			return false
		}
		found = found || s == Audience
	}
	return found
}

// rawString decodes a JSON string (not null, not any other type).
func rawString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// rawBool decodes a JSON true or false.
func rawBool(raw json.RawMessage) (bool, bool) {
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// rawInt decodes a JSON number written as an integer that fits in int64.
func rawInt(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	v, err := strconv.ParseInt(string(raw), 10, 64)
	return v, err == nil
}

// rawInts decodes a JSON list of integers that fit in int.
func rawInts(raw json.RawMessage) ([]int, bool) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, false
	}
	out := make([]int, 0, len(list))
	for _, e := range list {
		v, ok := rawInt(e)
		if !ok || int64(int(v)) != v {
			return nil, false
		}
		out = append(out, int(v))
	}
	return out, true
}
