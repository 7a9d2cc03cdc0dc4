package auth

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// werkzeugVector is a hash made by Werkzeug (or read from a Wazuh rbac.db)
// together with the password it was made from.
type werkzeugVector struct {
	Note     string `json:"note"`
	Password string `json:"password"`
	Hash     string `json:"hash"`
}

func loadWerkzeugVectors(t testing.TB) []werkzeugVector {
	t.Helper()
	data, err := os.ReadFile("testdata/werkzeug_hashes.json")
	if err != nil {
		t.Fatal(err)
	}
	var v []werkzeugVector
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if len(v) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

func TestCheckPasswordWerkzeugVectors(t *testing.T) {
	for i, v := range loadWerkzeugVectors(t) {
		t.Run(v.Note, func(t *testing.T) {
			t.Parallel()
			if !CheckPassword(v.Hash, v.Password) {
				t.Errorf("CheckPassword(%q, %q) = false, want true", v.Hash, v.Password)
			}
			// The first vectors cover every format; a wrong password costs a
			// full KDF run, so it is not repeated for the rbac.db users.
			if i < 7 && CheckPassword(v.Hash, v.Password+"x") {
				t.Errorf("CheckPassword accepted a wrong password for %q", v.Hash)
			}
		})
	}
}

func TestHashWithSaltGolden(t *testing.T) {
	v := loadWerkzeugVectors(t)[0] // scrypt default params, made by Werkzeug
	salt := strings.Split(v.Hash, "$")[1]
	got, err := hashWithSalt(v.Password, salt)
	if err != nil {
		t.Fatal(err)
	}
	if got != v.Hash {
		t.Errorf("hashWithSalt = %q\nwant           %q", got, v.Hash)
	}
}

func TestHashPassword(t *testing.T) {
	format := regexp.MustCompile(`^scrypt:32768:8:1\$[A-Za-z0-9]{16}\$[0-9a-f]{128}$`)
	h1, err := HashPassword("Correct-Horse1!")
	if err != nil {
		t.Fatal(err)
	}
	if !format.MatchString(h1) {
		t.Errorf("hash %q does not have the Werkzeug scrypt format", h1)
	}
	if !CheckPassword(h1, "Correct-Horse1!") {
		t.Error("CheckPassword rejects the hash HashPassword made")
	}
	if CheckPassword(h1, "correct-Horse1!") {
		t.Error("CheckPassword accepts a different password")
	}
}

func TestRandomSalt(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		s, err := randomSalt()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != saltLen || strings.Trim(s, saltChars) != "" {
			t.Fatalf("salt %q: want %d characters of [A-Za-z0-9]", s, saltLen)
		}
		if seen[s] {
			t.Fatalf("salt %q repeated", s)
		}
		seen[s] = true
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good := loadWerkzeugVectors(t)[4] // pbkdf2:sha256:1000, cheap
	parts := strings.Split(good.Hash, "$")
	cases := []struct{ name, hash string }{
		{"empty", ""},
		{"method only", "scrypt"},
		{"one separator", "scrypt:32768:8:1$salt"},
		{"unknown method", "md5$salt$" + parts[2]},
		{"plain text", good.Password},
		{"scrypt two params", "scrypt:32768:8$salt$00"},
		{"scrypt four params", "scrypt:32768:8:1:1$salt$00"},
		{"scrypt empty params", "scrypt:$salt$00"},
		{"scrypt N not power of two", "scrypt:32767:8:1$salt$00"},
		{"scrypt N one", "scrypt:1:8:1$salt$00"},
		{"scrypt N zero", "scrypt:0:8:1$salt$00"},
		{"scrypt negative", "scrypt:-32768:8:1$salt$00"},
		{"scrypt memory too large", "scrypt:1048576:8:1$salt$00"},
		{"scrypt r too large", "scrypt:2:100000000:1$salt$00"},
		{"scrypt work too large", "scrypt:32768:8:64$salt$00"},
		{"scrypt non-numeric", "scrypt:x:8:1$salt$00"},
		{"scrypt huge number", "scrypt:99999999999999999999:8:1$salt$00"},
		{"pbkdf2 other digest", "pbkdf2:sha1:1000$" + parts[1] + "$" + parts[2]},
		{"pbkdf2 zero iterations", "pbkdf2:sha256:0$" + parts[1] + "$" + parts[2]},
		{"pbkdf2 too many iterations", "pbkdf2:sha256:99999999$" + parts[1] + "$" + parts[2]},
		{"pbkdf2 three params", "pbkdf2:sha256:1000:1$" + parts[1] + "$" + parts[2]},
		{"pbkdf2 signed iterations", "pbkdf2:sha256:+1000$" + parts[1] + "$" + parts[2]},
		{"digest upper case", parts[0] + "$" + parts[1] + "$" + strings.ToUpper(parts[2])},
		{"digest truncated", parts[0] + "$" + parts[1] + "$" + parts[2][:32]},
		{"digest empty", parts[0] + "$" + parts[1] + "$"},
		{"digest with suffix", good.Hash + "$"},
		{"other salt", parts[0] + "$" + parts[1] + "x$" + parts[2]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if CheckPassword(tc.hash, good.Password) {
				t.Errorf("CheckPassword(%q) = true, want false", tc.hash)
			}
		})
	}
	if !CheckPassword(good.Hash, good.Password) {
		t.Fatal("control: the well-formed hash must match")
	}
}

func TestDummyCheck(t *testing.T) {
	// The dummy hash must be well formed with the default cost, so that
	// DummyCheck really does a full scrypt, and must match nothing.
	method, rest, _ := strings.Cut(dummyHash, "$")
	salt, _, _ := strings.Cut(rest, "$")
	if method != "scrypt:32768:8:1" || len(salt) != saltLen {
		t.Fatalf("dummy hash %q does not use the default scrypt cost", dummyHash)
	}
	if _, ok := derive(method, salt, "x"); !ok {
		t.Fatal("dummy hash parameters are rejected by derive")
	}
	if CheckPassword(dummyHash, "") {
		t.Error("dummy hash matches the empty password")
	}
	DummyCheck("wazuh")
}

func FuzzCheckPassword(f *testing.F) {
	f.Add("pbkdf2:sha256:1000$shortsalt$9e73f3e75cc0259f9eea55ecd297a141abe7658477430b41d9d2248583c131f3", "fast-pbkdf2")
	f.Add("scrypt:16:1:1$s$00", "")
	f.Add("scrypt:4:1:1$$", "x")
	f.Add("pbkdf2:sha256:1$$", "")
	f.Add("$$", "")
	f.Add("scrypt:1024:1:1$a$b", "p")
	f.Fuzz(func(t *testing.T, hash, password string) {
		_ = CheckPassword(hash, password)
	})
}

func TestDeriveRefusesCostlyParameters(t *testing.T) {
	// derive must refuse before running the KDF: CheckPassword returning
	// false after minutes of work would pass the malformed-hash test too.
	for _, method := range []string{
		"scrypt:1048576:8:1", "scrypt:65536:16:1", "scrypt:32768:8:5", "scrypt:2:1048576:1",
		"scrypt:16:1:100000000", "pbkdf2:sha256:2000001",
	} {
		t.Run(method, func(t *testing.T) {
			if _, ok := derive(method, "salt", "pw"); ok {
				t.Errorf("derive accepted %s", method)
			}
		})
	}
	for _, method := range []string{"scrypt:65536:8:1", "scrypt:32768:8:4", "scrypt:16:1:1"} {
		if !scryptParamsOK(parseThree(t, method)) {
			t.Errorf("scryptParamsOK refused %s", method)
		}
	}
}

func parseThree(t *testing.T, method string) (int, int, int) {
	t.Helper()
	f := strings.Split(method, ":")
	n, _ := parsePositive(f[1])
	r, _ := parsePositive(f[2])
	p, _ := parsePositive(f[3])
	return n, r, p
}
