package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// Werkzeug password hashes have the form "method$salt$hexdigest". The method
// is "scrypt[:N:r:p]" or "pbkdf2[:hash[:iterations]]". The salt string's UTF-8
// bytes are the KDF salt and the password's UTF-8 bytes are the KDF input.
const (
	scryptDefaultN = 1 << 15
	scryptDefaultR = 8
	scryptDefaultP = 1
	scryptKeyLen   = 64 // hashlib.scrypt's default dklen

	// pbkdf2DefaultIterations is what Werkzeug 3.1 (the version Wazuh 4.14
	// pins) uses when a "pbkdf2" method names no iteration count.
	pbkdf2DefaultIterations = 1_000_000
	pbkdf2KeyLen            = sha256.Size // pbkdf2_hmac's default dklen

	// Bounds that keep a hostile stored hash from costing unbounded CPU or
	// memory: scrypt memory is about 128*N*r bytes, its work N*r*p blocks.
	maxScryptMemory     = 64 << 20
	maxScryptWork       = 4 * scryptDefaultN * scryptDefaultR * scryptDefaultP
	maxPBKDF2Iterations = 2 * pbkdf2DefaultIterations

	saltLen   = 16
	saltChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// dummyHash has the cost of a default scrypt hash and matches no password
// (no scrypt output is known to be all zeros).
const dummyHash = "scrypt:32768:8:1$mUsTeRdUmMySaLt0$" +
	"0000000000000000000000000000000000000000000000000000000000000000" +
	"0000000000000000000000000000000000000000000000000000000000000000"

// HashPassword returns a Werkzeug scrypt hash of password with a fresh salt.
func HashPassword(password string) (string, error) {
	salt, err := randomSalt()
	if err != nil {
		return "", err
	}
	return hashWithSalt(password, salt)
}

// hashWithSalt hashes password with the default scrypt parameters and salt.
func hashWithSalt(password, salt string) (string, error) {
	dk, err := scrypt.Key([]byte(password), []byte(salt), scryptDefaultN, scryptDefaultR, scryptDefaultP, scryptKeyLen)
	if err != nil {
		return "", fmt.Errorf("auth: scrypt: %w", err)
	}
	return fmt.Sprintf("scrypt:%d:%d:%d$%s$%s", scryptDefaultN, scryptDefaultR, scryptDefaultP, salt, hex.EncodeToString(dk)), nil
}

// randomSalt draws saltLen characters uniformly from saltChars.
func randomSalt() (string, error) {
	out := make([]byte, 0, saltLen)
	buf := make([]byte, 2*saltLen)
	for len(out) < saltLen {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("auth: salt: %w", err)
		}
		for _, b := range buf {
			// 248 is the largest multiple of 62 below 256: no modulo bias.
			if b < 248 && len(out) < saltLen {
				out = append(out, saltChars[int(b)%len(saltChars)])
			}
		}
	}
	return string(out), nil
}

// CheckPassword reports whether password matches a Werkzeug scrypt or
// pbkdf2:sha256 hash; malformed or unsupported hashes never match.
func CheckPassword(hash, password string) bool {
	method, rest, ok := strings.Cut(hash, "$")
	if !ok {
		return false
	}
	salt, want, ok := strings.Cut(rest, "$")
	if !ok {
		return false
	}
	got, ok := derive(method, salt, password)
	if !ok {
		return false
	}
	// Werkzeug compares hex strings, so an upper-case stored digest fails
	// there too.
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// DummyCheck spends the time of a real scrypt check and discards the result,
// so that unknown users cannot be told apart from wrong passwords by timing.
func DummyCheck(password string) {
	_ = CheckPassword(dummyHash, password)
}

// derive computes the hex digest that method and salt give for password.
func derive(method, salt, password string) (string, bool) {
	name, args, hasArgs := strings.Cut(method, ":")
	var params []string
	if hasArgs {
		params = strings.Split(args, ":")
	}
	switch name {
	case "scrypt":
		n, r, p := scryptDefaultN, scryptDefaultR, scryptDefaultP
		if len(params) != 0 {
			if len(params) != 3 {
				return "", false
			}
			var ok1, ok2, ok3 bool
			n, ok1 = parsePositive(params[0])
			r, ok2 = parsePositive(params[1])
			p, ok3 = parsePositive(params[2])
			if !ok1 || !ok2 || !ok3 || !scryptParamsOK(n, r, p) {
				return "", false
			}
		}
		dk, err := scrypt.Key([]byte(password), []byte(salt), n, r, p, scryptKeyLen)
		if err != nil {
			return "", false
		}
		return hex.EncodeToString(dk), true
	case "pbkdf2":
		iter := pbkdf2DefaultIterations
		switch len(params) {
		case 0:
		case 1, 2:
			if params[0] != "sha256" {
				return "", false
			}
			if len(params) == 2 {
				var ok bool
				if iter, ok = parsePositive(params[1]); !ok || iter > maxPBKDF2Iterations {
					return "", false
				}
			}
		default:
			return "", false
		}
		dk, err := pbkdf2.Key(sha256.New, password, []byte(salt), iter, pbkdf2KeyLen)
		if err != nil {
			return "", false
		}
		return hex.EncodeToString(dk), true
	}
	return "", false
}

// scryptParamsOK accepts parameters that scrypt allows and that stay within
// the memory and work bounds.
func scryptParamsOK(n, r, p int) bool {
	if n < 2 || bits.OnesCount(uint(n)) != 1 {
		return false
	}
	if r > maxScryptMemory/128 || n > maxScryptMemory/128/r {
		return false
	}
	return p <= maxScryptWork/(n*r)
}

// parsePositive parses a decimal integer of 1 to 9 digits that is above 0.
func parsePositive(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.Atoi(s)
	return v, err == nil && v > 0
}
